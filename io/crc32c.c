/*
 * CRC32C, reflected polynomial 0x82F63B78 (see crc32c.h). The table is built
 * once on first use (a benign race: every thread writes the same values
 * before the flag); the hardware path handles 8 bytes per instruction.
 */
#include "io/crc32c.h"

#include <stdbool.h>
#include <string.h>

#define CRC32C_POLY 0x82F63B78u

static uint32_t table[256];
static volatile bool table_ready;

static void build_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int b = 0; b < 8; b++)
            c = (c & 1u) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        table[i] = c;
    }
    table_ready = true;
}

static uint32_t crc_soft(uint32_t c, const unsigned char *p, size_t len)
{
    if (!table_ready)
        build_table();
    for (size_t i = 0; i < len; i++)
        c = table[(c ^ p[i]) & 0xFFu] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c, const unsigned char *p,
                                                         size_t len)
{
    uint64_t c64 = c;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = __builtin_ia32_crc32di(c64, v);
        p += 8;
        len -= 8;
    }
    c = (uint32_t)c64;
    while (len > 0) {
        c = __builtin_ia32_crc32qi(c, *p++);
        len--;
    }
    return c;
}

static bool have_hw(void)
{
    static int known = -1;
    if (known < 0)
        known = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    return known == 1;
}
#endif

uint32_t smg_crc32c(uint32_t crc, const void *data, size_t len)
{
    uint32_t c = ~crc;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (have_hw())
        return ~crc_hw(c, data, len);
#endif
    return ~crc_soft(c, data, len);
}

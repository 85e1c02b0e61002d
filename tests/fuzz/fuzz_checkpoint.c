/*
 * Fuzz target for the checkpoint framing (io/checkpoint_file.h): parse the
 * input, and when it parses, touch every byte of every section. Any crash,
 * sanitizer report or hang fails; format errors are expected. The checksum
 * rejects almost every mutation, so the seed corpus holds valid files and
 * the replay also re-signs the input (recomputes the CRC) to reach the
 * section walk.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/checkpoint_file.h"
#include "io/crc32c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned touch(const uint8_t *data, size_t size)
{
    struct smg_ckpt_header h;
    struct smg_ckpt_section s[SMG_CKPT_MAX_SECTIONS];
    struct smg_error err;
    size_t n = 0;
    unsigned sum = 0;

    smg_error_clear(&err);
    if (smg_ckpt_parse(data, size, "fuzz", &h, s, SMG_CKPT_MAX_SECTIONS, &n, &err) != SMG_OK)
        return 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < s[i].len; j++)
            sum += ((const uint8_t *)s[i].data)[j];
    return sum + h.epoch;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned sum = touch(data, size);
    uint8_t *copy;

    /* The same bytes with a correct length field and CRC, so the section walk is fuzzed too. */
    if (size >= SMG_CKPT_HEADER_BYTES + SMG_CKPT_TRAILER && (copy = malloc(size)) != NULL) {
        uint32_t crc;
        memcpy(copy, data, size);
        for (int i = 0; i < 8; i++)
            copy[16 + i] = (uint8_t)((uint64_t)size >> (8 * i));
        crc = smg_crc32c(0, copy, size - 8);
        for (int i = 0; i < 4; i++)
            copy[size - 8 + i] = (uint8_t)(crc >> (8 * i));
        sum += touch(copy, size);
        free(copy);
    }
    return (int)(sum & 0);
}

/*
 * Fuzz target for io/csv_select: the input is "selection\nfirst line\nline
 * ...", the first byte's low bit says whether the first line is a header.
 * Checks: a resolved selection names columns that exist, and every picked
 * value is finite.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/csv_select.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct smg_csv_select s;
    static float out[SMG_CSV_SELECT_MAX_COLS];
    const char *p, *end, *nl;
    char spec[256];
    size_t sn;

    if (size < 1)
        return 0;
    p = (const char *)data + 1;
    end = (const char *)data + size;
    nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL)
        return 0;
    sn = (size_t)(nl - p) < sizeof(spec) - 1 ? (size_t)(nl - p) : sizeof(spec) - 1;
    memcpy(spec, p, sn);
    spec[sn] = '\0';
    if (memchr(spec, '\0', sn) != NULL)
        return 0;
    p = nl + 1;
    nl = memchr(p, '\n', (size_t)(end - p));
    if (smg_csv_select_init(&s, spec, p, nl ? (size_t)(nl - p) : (size_t)(end - p), data[0] & 1,
                            NULL) != SMG_OK)
        return 0;
    for (size_t k = 0; k < s.nsel; k++)
        if (s.idx[k] >= s.ncols)
            abort();
    while (nl != NULL) {
        p = nl + 1;
        nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (smg_csv_select_pick(&s, p, len, out, NULL) == SMG_OK)
            for (size_t k = 0; k < s.nsel; k++)
                if (!isfinite(out[k]))
                    abort();
    }
    return 0;
}

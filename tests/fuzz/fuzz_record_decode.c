/*
 * Differential fuzz target: the fast Record decoder must agree with the
 * protobuf-c reference on every input, malformed ones included: same status,
 * same message, and on success bit-identical rows. The first input byte picks
 * feature_dim (1..16), so the count check is exercised too; the rest is the
 * Record payload.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/record_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    float a[16], b[16];
    struct smg_error ea, eb;
    size_t dim;

    if (size < 1)
        return 0;
    dim = (size_t)(data[0] & 15) + 1;
    smg_error_clear(&ea);
    smg_error_clear(&eb);
    memset(a, 0xa5, sizeof(a));
    memset(b, 0x5a, sizeof(b));
    int ra = smg_record_decode_pb(data + 1, size - 1, dim, a, &ea);
    int rb = smg_record_decode_fast(data + 1, size - 1, dim, b, &eb);
    if (ra != rb || strcmp(ea.msg, eb.msg) != 0 ||
        (ra == SMG_OK && memcmp(a, b, dim * sizeof(float)) != 0)) {
        fprintf(stderr, "decoders disagree: pb %d \"%s\", fast %d \"%s\"\n", ra, ea.msg, rb,
                eb.msg);
        abort();
    }
    return 0;
}

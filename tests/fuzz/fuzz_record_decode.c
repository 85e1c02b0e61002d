/*
 * Differential fuzz target: the fast Record decoder must agree with the
 * protobuf-c reference on every input, malformed ones included: same status,
 * same message, and on success bit-identical rows. The CSR decoder must agree
 * too: same status and message, and on success one row with ascending
 * in-range columns that densifies to the same values. The first input byte picks
 * feature_dim (1..16), so the count check is exercised too; the rest is the
 * Record payload.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/record_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    float a[16], b[16], c[16] = {0};
    struct smg_error ea, eb, ec;
    struct smg_csr_buf csr;
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
    smg_error_clear(&ec);
    if (smg_csr_buf_init(&csr, 1, NULL) != SMG_OK)
        return 0;
    int rc = smg_record_decode_csr(data + 1, size - 1, dim, &csr, &ec);
    bool bad = rc != ra || strcmp(ea.msg, ec.msg) != 0 || csr.rows != (rc == SMG_OK);
    for (size_t p = 0; !bad && rc == SMG_OK && p < csr.nnz; p++) {
        bad = csr.indices[p] >= dim || (p > 0 && csr.indices[p - 1] >= csr.indices[p]);
        if (!bad)
            c[csr.indices[p]] = csr.values[p];
    }
    for (size_t j = 0; !bad && rc == SMG_OK && j < dim; j++)
        bad = c[j] != a[j];
    smg_csr_buf_free(&csr);
    if (bad) {
        fprintf(stderr, "CSR decoder disagrees: pb %d \"%s\", csr %d \"%s\"\n", ra, ea.msg, rc,
                ec.msg);
        abort();
    }
    return 0;
}

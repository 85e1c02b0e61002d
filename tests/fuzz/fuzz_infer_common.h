/*
 * Shared body of the inference request fuzz targets (fuzz_infer_*.c).
 *
 * The first input byte picks the model's feature_dim (1..8) and, for CSV, the
 * label_size; the rest is the request body. A body must decode or fail with
 * SMG_EFORMAT/SMG_ENOMEM and a message, never crash, hang or leak. Decoded
 * rows must be finite and within the row limit, and are then encoded back in
 * every response format, so the encoders are fuzzed with whatever the
 * decoders let through. A broken invariant aborts, which the fuzzer reports.
 */
#ifndef SMG_FUZZ_INFER_COMMON_H
#define SMG_FUZZ_INFER_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "io/base/alloc.h"
#include "io/infer_request.h"
#include "io/infer_response.h"

#define FUZZ_MAX_ROWS 4096

static inline int smg_fuzz_infer(enum smg_infer_content content, const uint8_t *data, size_t size)
{
    struct smg_infer_format fmt = {content, 0};
    struct smg_error err;
    struct smg_infer_buf out = {0};
    float *x = NULL;
    size_t n = 0, d;
    int rc;

    if (size < 1)
        return 0;
    d = 1 + (data[0] & 7);
    if (content == SMG_INFER_CSV)
        fmt.label_size = (data[0] >> 3) & 3;
    smg_error_clear(&err);
    rc = smg_infer_request_decode(data + 1, size - 1, &fmt, d, FUZZ_MAX_ROWS, &x, &n, &err);
    if (rc != SMG_OK) {
        if ((rc != SMG_EFORMAT && rc != SMG_ENOMEM) || x != NULL || err.msg[0] == '\0')
            abort();
        return 0;
    }
    if (x == NULL || n == 0 || n > FUZZ_MAX_ROWS)
        abort();
    for (size_t i = 0; i < n * d; i++)
        if (!isfinite(x[i]))
            abort();
    for (int a = SMG_ACCEPT_JSON; a <= SMG_ACCEPT_CSV; a++) {
        struct smg_infer_field f = {"projection", x, d, d == 1};
        struct smg_infer_result r = {"projections", n, 1, &f};
        out.len = 0;
        if (smg_infer_response_encode((enum smg_infer_accept)a, &r, &out, &err) != SMG_OK)
            abort();
    }
    smg_infer_buf_free(&out);
    smg_free(x);
    return 0;
}

#endif

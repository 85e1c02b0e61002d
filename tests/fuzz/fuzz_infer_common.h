/*
 * Shared body of the inference request fuzz targets (fuzz_infer_*.c).
 *
 * The first input byte picks the model's feature_dim (1..8) and, for CSV, the
 * label_size; the rest is the request body. A body must decode or fail with
 * SMG_EFORMAT/SMG_ENOMEM and a message, never crash, hang or leak. Decoded
 * rows must be finite and within the row limit, and are then encoded back by
 * every response codec in the media-type table (so a new codec is fuzzed
 * without another edit), with whatever the decoders let through. A broken invariant aborts, which
 * the fuzzer reports.
 */
#ifndef SMG_FUZZ_INFER_COMMON_H
#define SMG_FUZZ_INFER_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "io/base/alloc.h"
#include "io/base/buffer.h"
#include "io/codec.h"
#include "io/infer_request.h"
#include "io/infer_response.h"
#include "io/media_type.h"

#define FUZZ_MAX_ROWS 4096

/* Encode n rows of x (d wide) with every response codec; abort on failure. */
static inline void smg_fuzz_encode_all(const float *x, size_t n, size_t d)
{
    struct smg_infer_field f = {"projection", x, d, d == 1};
    struct smg_infer_result r = {"projections", n, 1, &f};
    const struct smg_media_entry *e;
    struct smg_error err;
    struct smg_buf out;

    smg_buf_init(&out, SIZE_MAX);
    smg_error_clear(&err);
    for (size_t i = 0; (e = smg_media_row(i)) != NULL; i++) {
        if ((e->uses & SMG_MEDIA_RESPONSE) == 0 || e->alias)
            continue;
        smg_buf_reset(&out);
        if (smg_infer_response_encode(e->codec, &r, &out, &err) != SMG_OK)
            abort();
    }
    smg_buf_free(&out);
}

static inline int smg_fuzz_infer(const struct smg_codec *codec, const uint8_t *data, size_t size)
{
    struct smg_infer_format fmt = {codec, 0};
    struct smg_error err;
    float *x = NULL;
    size_t n = 0, d;
    int rc;

    if (size < 1)
        return 0;
    d = 1 + (data[0] & 7);
    if (codec->label_size)
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
    smg_fuzz_encode_all(x, n, d);
    smg_free(x);
    return 0;
}

#endif

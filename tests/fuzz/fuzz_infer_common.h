/*
 * Shared body of the inference request fuzz targets (fuzz_infer_*.c).
 *
 * The first input byte picks the model's feature_dim (1..8) and, for CSV, the
 * label_size; the rest is the request body, decoded as `serve` does
 * (smg_infer_request_decode_rows: dense rows, or CSR rows for a sparse
 * recordIO body). A body must decode or fail with SMG_EFORMAT/SMG_ENOMEM and
 * a message, never crash, hang or leak. Decoded rows must be finite and
 * within the limit; CSR rows well formed and equal to the dense decoder's
 * reading of the same body (smg_fuzz_check_csr), and are then encoded back by
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

/*
 * A CSR decoding (infer_request.h, smg_infer_request_decode_rows) must be
 * well formed (row pointers ascending to nnz, columns strictly ascending below
 * d, finite values, within the byte cap) and equal, densified, to what the
 * dense decoder makes of the same body. Returns the densified rows.
 */
static inline float *smg_fuzz_check_csr(const struct smg_infer_rows *r, const uint8_t *body,
                                        size_t len, const struct smg_infer_format *fmt,
                                        size_t max_bytes)
{
    const struct smg_csr_buf *c = &r->csr;
    struct smg_error err;
    float *x = smg_calloc(r->n * r->d, sizeof(float)), *dense = NULL;
    size_t n = 0;

    if (x == NULL || c->indptr[0] != 0 || c->indptr[r->n] != c->nnz ||
        smg_csr_buf_bytes(r->n, c->nnz) > max_bytes)
        abort();
    for (size_t i = 0; i < r->n; i++) {
        if (c->indptr[i + 1] < c->indptr[i])
            abort();
        for (uint64_t p = c->indptr[i]; p < c->indptr[i + 1]; p++) {
            if (c->indices[p] >= r->d || (p > c->indptr[i] && c->indices[p] <= c->indices[p - 1]) ||
                !isfinite(c->values[p]))
                abort();
            x[i * r->d + c->indices[p]] = c->values[p];
        }
    }
    smg_error_clear(&err);
    if (smg_infer_request_decode(body, len, fmt, r->d, FUZZ_MAX_ROWS, &dense, &n, &err) == SMG_OK) {
        if (n != r->n)
            abort();
        for (size_t i = 0; i < n * r->d; i++)
            if (dense[i] != x[i])
                abort();
        smg_free(dense);
    }
    return x;
}

static inline int smg_fuzz_infer(const struct smg_codec *codec, const uint8_t *data, size_t size)
{
    struct smg_infer_format fmt = {codec, 0};
    struct smg_infer_rows rows;
    struct smg_error err;
    float *x;
    size_t d, max_bytes;
    int rc;

    if (size < 1)
        return 0;
    d = 1 + (data[0] & 7);
    max_bytes = FUZZ_MAX_ROWS * d * sizeof(float);
    if (codec->label_size)
        fmt.label_size = (data[0] >> 3) & 3;
    smg_error_clear(&err);
    rc = smg_infer_request_decode_rows(data + 1, size - 1, &fmt, d, max_bytes, &rows, &err);
    if (rc != SMG_OK) {
        if ((rc != SMG_EFORMAT && rc != SMG_ENOMEM) || rows.x != NULL || rows.csr.indptr != NULL ||
            rows.n != 0 || err.msg[0] == '\0')
            abort();
        return 0;
    }
    if (rows.n == 0 || rows.n > FUZZ_MAX_ROWS || rows.d != d)
        abort();
    if (rows.x == NULL) {
        x = smg_fuzz_check_csr(&rows, data + 1, size - 1, &fmt, max_bytes);
    } else {
        x = rows.x;
        rows.x = NULL;
        for (size_t i = 0; i < rows.n * d; i++)
            if (!isfinite(x[i]))
                abort();
    }
    smg_fuzz_encode_all(x, rows.n, d);
    smg_free(x);
    smg_infer_rows_free(&rows);
    return 0;
}

#endif

/*
 * Inference requests (contract: infer_request.h): the Content-Type through the
 * one media-type parser to a codec, and the body through that codec.
 *
 * The checks every format shares (an empty body, feature_dim 0, the default
 * row limit) are made here once, so the codecs (io/codec_<name>.c) only
 * decode.
 */
#include "io/infer_request.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "io/base/alloc.h"

#include "io/codec.h"
#include "io/media_type.h"

enum smg_status smg_infer_format_parse(const char *content_type, struct smg_infer_format *fmt,
                                       struct smg_error *err)
{
    struct smg_media_type mt;
    struct smg_error why;
    enum smg_status rc;

    if (content_type == NULL || content_type[0] == '\0')
        return smg_error_set(err, SMG_ECONFIG, "missing Content-Type; supported: %s",
                             smg_media_supported(SMG_MEDIA_REQUEST));
    smg_error_clear(&why);
    rc = smg_media_type_parse(content_type, strlen(content_type), SMG_MEDIA_REQUEST, &mt, &why);
    if (mt.entry == NULL)
        return smg_error_set(err, SMG_ECONFIG, "unsupported Content-Type '%.*s'; supported: %s",
                             (int)(mt.type_len > 100 ? 100 : mt.type_len), mt.type,
                             smg_media_supported(SMG_MEDIA_REQUEST));
    if (rc != SMG_OK)
        return smg_error_set(err, rc, "Content-Type parameter %s", why.msg);
    /* Parameters without '=' are ignored here: HTTP clients send them. */
    fmt->codec = mt.entry->codec;
    fmt->label_size = mt.has_label_size ? mt.label_size : 0; /* used by codecs with labels */
    return SMG_OK;
}

enum smg_status smg_infer_request_decode(const void *body, size_t len,
                                         const struct smg_infer_format *fmt, size_t feature_dim,
                                         size_t max_rows, float **rows_out, size_t *nrows,
                                         struct smg_error *err)
{
    *rows_out = NULL;
    *nrows = 0;
    if (feature_dim == 0)
        return smg_error_set(err, SMG_EINTERNAL, "feature_dim is 0");
    if (max_rows == 0)
        max_rows = SIZE_MAX / feature_dim / sizeof(float);
    if (body == NULL || len == 0)
        return smg_error_set(err, SMG_EFORMAT, "request body is empty");
    if (fmt->codec == NULL || fmt->codec->decode == NULL)
        return smg_error_set(err, SMG_EINTERNAL, "no request decoder for this content type");
    return fmt->codec->decode(body, len, fmt->label_size, feature_dim, max_rows, rows_out, nrows,
                              err);
}

/* Dense rows within max_bytes: the row limit it implies for d features. */
static size_t dense_row_limit(size_t max_bytes, size_t d)
{
    size_t rows;

    if (max_bytes == 0)
        return 0;
    rows = max_bytes / d / sizeof(float);
    return rows == 0 ? 1 : rows;
}

enum smg_status smg_infer_request_decode_rows(const void *body, size_t len,
                                              const struct smg_infer_format *fmt,
                                              size_t feature_dim, size_t max_bytes,
                                              struct smg_infer_rows *out, struct smg_error *err)
{
    bool sparse = false;
    enum smg_status rc;

    memset(out, 0, sizeof(*out));
    out->d = feature_dim;
    if (feature_dim > 0 && body != NULL && len > 0 && fmt->codec != NULL &&
        fmt->codec->decode_csr != NULL) {
        rc = fmt->codec->decode_csr(body, len, feature_dim, max_bytes ? max_bytes : SIZE_MAX,
                                    &out->csr, &sparse, err);
        if (rc != SMG_OK || sparse) {
            out->n = rc == SMG_OK ? out->csr.rows : 0;
            if (rc != SMG_OK)
                smg_csr_buf_free(&out->csr);
            return rc;
        }
    }
    return smg_infer_request_decode(body, len, fmt, feature_dim,
                                    feature_dim ? dense_row_limit(max_bytes, feature_dim) : 0,
                                    &out->x, &out->n, err);
}

struct smg_batch smg_infer_rows_batch(const struct smg_infer_rows *r)
{
    struct smg_batch b;

    if (r->x == NULL)
        return smg_csr_buf_batch(&r->csr, r->d, 0);
    memset(&b, 0, sizeof(b));
    b.x = r->x;
    b.rows = r->n;
    b.cols = r->d;
    return b;
}

void smg_infer_rows_free(struct smg_infer_rows *r)
{
    smg_free(r->x);
    smg_csr_buf_free(&r->csr);
    memset(r, 0, sizeof(*r));
}

/*
 * Inference requests (contract: infer_request.h): the Content-Type through the
 * one media-type parser to a codec, and the body through that codec.
 *
 * The checks every format shares (an empty body, feature_dim 0, the default
 * row limit) are made here once, so the codecs (io/codec_<name>.c) only
 * decode.
 */
#include "io/infer_request.h"

#include <stdint.h>
#include <string.h>

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

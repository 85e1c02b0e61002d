/*
 * Inference responses (contract: infer_response.h): the Accept header through
 * the one media-type parser to a codec, and the result through that codec's
 * encoder (io/codec_<name>.c).
 */
#include "io/infer_response.h"

#include <math.h>
#include <string.h>

#include "io/codec.h"
#include "io/media_type.h"

enum smg_status smg_infer_accept_parse(const char *accept, const struct smg_codec **out,
                                       struct smg_error *err)
{
    const struct smg_media_entry *e;
    bool any;

    smg_media_accept_pick(accept, SMG_MEDIA_RESPONSE, &e, &any);
    *out = e != NULL ? e->codec : &smg_codec_json;
    if (e != NULL || !any)
        return SMG_OK;
    return smg_error_set(err, SMG_ECONFIG, "unsupported Accept '%.100s'; supported: %s", accept,
                         smg_media_supported(SMG_MEDIA_RESPONSE));
}

/* The first value that is not finite: SMG_EFORMAT naming its row (1-based) and field. */
static enum smg_status all_finite(const struct smg_infer_result *res, struct smg_error *err)
{
    for (size_t f = 0; f < res->nfields; f++) {
        const struct smg_infer_field *fl = &res->fields[f];
        for (size_t i = 0; i < res->rows * fl->width; i++)
            if (!isfinite(fl->values[i]))
                return smg_error_set(err, SMG_EFORMAT,
                                     "row %zu of the request: %s overflows float32 (the row's "
                                     "values are too large in magnitude to score; scale the data "
                                     "down)",
                                     i / fl->width + 1, fl->name);
    }
    return SMG_OK;
}

enum smg_status smg_infer_response_join(const struct smg_codec *codec, const char *part, size_t len,
                                        bool first, bool last, struct smg_buf *out)
{
    const char *open, *close;

    if (codec != &smg_codec_json)
        return smg_buf_append(out, part, len);
    open = memchr(part, '[', len);
    close = len >= 2 ? part + len - 2 : NULL; /* the "]}" every JSON response ends with */
    if (open == NULL || close == NULL || close <= open || memcmp(close, "]}", 2) != 0)
        return SMG_EINTERNAL;
    if (first ? smg_buf_append(out, part, (size_t)(open + 1 - part)) != SMG_OK
              : smg_buf_append(out, ", ", 2) != SMG_OK)
        return SMG_ENOMEM;
    if (smg_buf_append(out, open + 1, (size_t)(close - open - 1)) != SMG_OK)
        return SMG_ENOMEM;
    return last ? smg_buf_append(out, "]}", 2) : SMG_OK;
}

enum smg_status smg_infer_response_encode(const struct smg_codec *codec,
                                          const struct smg_infer_result *res, struct smg_buf *out,
                                          struct smg_error *err)
{
    enum smg_status rc;

    if (codec == NULL || codec->encode == NULL)
        return smg_error_set(err, SMG_EINTERNAL, "no response encoder for this content type");
    if ((rc = all_finite(res, err)) != SMG_OK)
        return rc;
    return codec->encode(res, out, err);
}

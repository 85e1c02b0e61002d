/*
 * The writers the text response codecs share (contract: codec_util.h):
 * numbers as Python's json module writes the double a float32 promotes to
 * (17 significant digits, ".0" on integral values, NaN/Infinity/-Infinity),
 * and one result row as a JSON object.
 *
 * They write straight into room the caller reserved for the row, so a row
 * costs one capacity check however many values it has.
 */
#include "io/codec_util.h"

#include <math.h>
#include <string.h>

#include "io/float_text.h"

void smg_codec_put(struct smg_buf *b, const void *s, size_t n)
{
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void put_lit(struct smg_buf *b, const char *s)
{
    smg_codec_put(b, s, strlen(s));
}

void smg_codec_put_number(struct smg_buf *b, float f)
{
    char *dst = b->data + b->len;

    if (isnan(f)) {
        put_lit(b, "NaN");
        return;
    }
    if (isinf(f)) {
        put_lit(b, f > 0 ? "Infinity" : "-Infinity");
        return;
    }
    b->len += smg_float_text17(f, dst);
    if (strpbrk(dst, ".e") == NULL)
        put_lit(b, ".0");
}

size_t smg_codec_row_text_bound(const struct smg_infer_result *res)
{
    size_t bound = 8;

    for (size_t f = 0; f < res->nfields; f++)
        bound += strlen(res->fields[f].name) + 8 + res->fields[f].width * (SMG_FLOAT_TEXT_MAX + 4);
    return bound;
}

enum smg_status smg_codec_put_rows(struct smg_buf *out, const struct smg_infer_result *res,
                                   const char *sep, smg_codec_row_writer put_row,
                                   struct smg_error *err)
{
    size_t sep_len = strlen(sep), bound = smg_codec_row_text_bound(res) + sep_len;

    for (size_t r = 0; r < res->rows; r++) {
        if (smg_buf_reserve(out, bound) != SMG_OK)
            return smg_error_set(err, SMG_ENOMEM, "out of memory encoding the response");
        if (r > 0)
            smg_codec_put(out, sep, sep_len);
        put_row(out, res, r);
    }
    return SMG_OK;
}

void smg_codec_put_json_row(struct smg_buf *b, const struct smg_infer_result *res, size_t r)
{
    smg_codec_put(b, "{", 1);
    for (size_t f = 0; f < res->nfields; f++) {
        const struct smg_infer_field *fd = &res->fields[f];
        const float *v = fd->values + r * fd->width;
        if (f > 0)
            smg_codec_put(b, ", ", 2);
        smg_codec_put(b, "\"", 1);
        put_lit(b, fd->name);
        smg_codec_put(b, "\": ", 3);
        if (fd->scalar) {
            smg_codec_put_number(b, v[0]);
            continue;
        }
        smg_codec_put(b, "[", 1);
        for (size_t i = 0; i < fd->width; i++) {
            if (i > 0)
                smg_codec_put(b, ", ", 2);
            smg_codec_put_number(b, v[i]);
        }
        smg_codec_put(b, "]", 1);
    }
    smg_codec_put(b, "}", 1);
}

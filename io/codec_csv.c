/*
 * The text/csv codec (codec.h).
 *
 * Training and requests: one row per line, comma-separated, the first
 * label_size columns dropped; read by rows.h's CSV reader, so a request line
 * is parsed exactly as a training line is. Responses: one line per row, every
 * field's values flattened in order ("2.0,0.23653684556484222\n").
 */
#include "io/codec.h"

#include <string.h>

#include "io/codec_util.h"

/* One row per line: count them so the usual request needs one allocation. */
static size_t count_lines(const char *p, size_t len)
{
    const char *end = p + len;
    size_t n = 1;

    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

static enum smg_status decode(const void *body, size_t len, size_t label_size, size_t d,
                              size_t max_rows, float **rows_out, size_t *nrows,
                              struct smg_error *err)
{
    return smg_codec_decode_rows(SMG_ROWS_CSV, label_size, count_lines(body, len), body, len, d,
                                 max_rows, rows_out, nrows, err);
}

static void put_row(struct smg_buf *b, const struct smg_infer_result *res, size_t r)
{
    bool first = true;

    for (size_t f = 0; f < res->nfields; f++) {
        const struct smg_infer_field *fd = &res->fields[f];
        for (size_t i = 0; i < fd->width; i++) {
            if (!first)
                smg_codec_put(b, ",", 1);
            first = false;
            smg_codec_put_number(b, fd->values[r * fd->width + i]);
        }
    }
    smg_codec_put(b, "\n", 1);
}

static enum smg_status encode(const struct smg_infer_result *res, struct smg_buf *out,
                              struct smg_error *err)
{
    return smg_codec_put_rows(out, res, "", put_row, err);
}

const struct smg_codec smg_codec_csv = {
    .mime = "text/csv",
    .label_size = true,
    .rows = SMG_ROWS_CSV,
    .decode = decode,
    .encode = encode,
};

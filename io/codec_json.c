/*
 * The application/json codec (codec.h); the Accept wildcards (any type, and
 * application with any subtype) are alias rows of it in the table.
 *
 * Requests, parsed with cJSON one instance at a time (codec_json_stream.c),
 * so a request costs its size plus its rows, not a tree of the whole body:
 *   {"instances": [<instance>, ...]}   SageMaker's documented form
 *   [[1.5, 16.0], ...]                 bare rows, JSONSerializer on a 2-D array
 *   [1.5, 16.0]                        one bare row, JSONSerializer on a 1-D array
 * with each instance as codec_json_instance.c reads it. The instance count is
 * checked against max_rows before the matrix is allocated. A body whose first
 * instance is the documented sparse form decodes to CSR rows (decode_csr). Responses:
 * {"<list_key>": [{"<f1>": v, "<f2>": [v, v]}, ...]}.
 */
#include "io/codec.h"

#include <string.h>

#include "io/codec_util.h"

static enum smg_status decode(const void *body, size_t len, size_t label_size, size_t d,
                              size_t max_rows, float **rows_out, size_t *nrows,
                              struct smg_error *err)
{
    (void)label_size;
    return smg_codec_json_decode(body, len, d, max_rows, rows_out, nrows, err);
}

static enum smg_status decode_csr(const void *body, size_t len, size_t d, size_t max_bytes,
                                  struct smg_csr_buf *out, bool *sparse, struct smg_error *err)
{
    return smg_codec_json_decode_csr(body, len, d, max_bytes, out, sparse, err);
}

static enum smg_status encode(const struct smg_infer_result *res, struct smg_buf *out,
                              struct smg_error *err)
{
    if (smg_buf_reserve(out, strlen(res->list_key) + 16) != SMG_OK)
        goto nomem;
    smg_codec_put(out, "{\"", 2);
    smg_codec_put(out, res->list_key, strlen(res->list_key));
    smg_codec_put(out, "\": [", 4);
    if (smg_codec_put_rows(out, res, ", ", smg_codec_put_json_row, err) != SMG_OK)
        return SMG_ENOMEM;
    if (smg_buf_reserve(out, 2) != SMG_OK)
        goto nomem;
    smg_codec_put(out, "]}", 2);
    return SMG_OK;
nomem:
    return smg_error_set(err, SMG_ENOMEM, "out of memory encoding the response");
}

const struct smg_codec smg_codec_json = {
    .mime = "application/json",
    .label_size = false,
    .rows = SMG_ROWS_NONE,
    .decode = decode,
    .decode_csr = decode_csr,
    .encode = encode,
};

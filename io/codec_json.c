/*
 * The application/json codec (codec.h); the Accept wildcards (any type, and
 * application with any subtype) are alias rows of it in the table.
 *
 * Requests, parsed with cJSON:
 *   {"instances": [<instance>, ...]}   SageMaker's documented form
 *   [[1.5, 16.0], ...]                 bare rows, JSONSerializer on a 2-D array
 *   [1.5, 16.0]                        one bare row, JSONSerializer on a 1-D array
 * with each instance as codec_json_instance.c reads it. The instance count is
 * checked against max_rows before the matrix is allocated. Responses:
 * {"<list_key>": [{"<f1>": v, "<f2>": [v, v]}, ...]}.
 */
#include "io/codec.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "io/base/alloc.h"
#include "io/codec_util.h"

/* doc is a bare row, [1.5, 16.0, ...]: one instance. */
static enum smg_status decode_bare_row(const cJSON *doc, size_t d, float **x, size_t *n,
                                       struct smg_error *err)
{
    if ((*x = smg_codec_alloc_rows(1, d, err)) == NULL)
        return SMG_ENOMEM;
    *n = 1;
    return smg_codec_json_dense(doc, "row", "instance", 0, d, *x, err);
}

/* instances is the list of instances: each into one row of a new *x. */
static enum smg_status decode_instances(const cJSON *instances, size_t d, size_t max_rows,
                                        float **x, size_t *n, struct smg_error *err)
{
    const cJSON *inst;
    size_t i = 0;
    enum smg_status rc;

    if (!cJSON_IsArray(instances))
        return smg_error_set(err, SMG_EFORMAT,
                             "JSON request must be an object with an 'instances' array");
    *n = (size_t)cJSON_GetArraySize(instances);
    if (*n == 0)
        return smg_error_set(err, SMG_EFORMAT, "'instances' is empty: request has no rows");
    if (*n > max_rows)
        return smg_error_set(err, SMG_EFORMAT,
                             "request has %zu instances, more than the %zu this server accepts", *n,
                             max_rows);
    if ((*x = smg_codec_alloc_rows(*n, d, err)) == NULL)
        return SMG_ENOMEM;
    cJSON_ArrayForEach(inst, instances)
    {
        if ((rc = smg_codec_json_instance(inst, "instance", i, d, *x + i * d, err)) != SMG_OK)
            return rc;
        i++;
    }
    return SMG_OK;
}

static enum smg_status decode(const void *body, size_t len, size_t label_size, size_t d,
                              size_t max_rows, float **rows_out, size_t *nrows,
                              struct smg_error *err)
{
    const char *text = body, *end = NULL;
    cJSON *doc;
    float *x = NULL;
    size_t n = 0;
    enum smg_status rc;

    (void)label_size;
    doc = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (doc == NULL) {
        size_t at = (end != NULL && end >= text && end <= text + len) ? (size_t)(end - text) : 0;
        return smg_error_set(err, SMG_EFORMAT, "request body is not valid JSON (error at byte %zu)",
                             at);
    }
    if (cJSON_IsArray(doc) && cJSON_IsNumber(doc->child))
        rc = decode_bare_row(doc, d, &x, &n, err);
    else /* {"instances": [...]}, or a bare list of rows */
        rc = decode_instances(
            cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "instances") : doc, d,
            max_rows, &x, &n, err);
    if (rc == SMG_OK) {
        *rows_out = x;
        *nrows = n;
        x = NULL;
    }
    smg_free(x);
    cJSON_Delete(doc);
    return rc;
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
    .encode = encode,
};

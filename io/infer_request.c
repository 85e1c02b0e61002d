/*
 * Inference request decoding (see infer_request.h for the formats).
 *
 * CSV and recordIO-protobuf bodies are wrapped in a memory stream and read with
 * the training-data decoder (rows.h), growing the output matrix by doubling.
 * JSON and JSON lines are parsed with cJSON; each instance, whether dense
 * ("features": [...] or "values" without "keys") or sparse ("keys" + "values",
 * optional "shape"), is written into one row of the output matrix, zero-filled
 * first so sparse rows need no second pass.
 *
 * Invariant: nothing is written past *nrows * feature_dim floats of the output,
 * and the number of rows is bounded by max_rows before any allocation grows.
 */
#include "io/infer_request.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "io/base/alloc.h"
#include "io/media_type.h"
#include "io/rows.h"
#include "io/stream.h"

int smg_infer_format_parse(const char *content_type, struct smg_infer_format *fmt,
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
    fmt->content = (enum smg_infer_content)mt.entry->format;
    fmt->label_size = mt.has_label_size ? mt.label_size : 0;
    return SMG_OK;
}

/* ---- CSV and recordIO through rows.h ---- */

/* The output matrix as it grows: n rows of d floats filled, room for cap. */
struct row_buf {
    float *x;
    size_t n, cap, d;
};

/* Rows to allocate first: one per CSV line, else 64; never above max_rows. */
static size_t initial_rows(const void *body, size_t len, const struct smg_infer_format *fmt,
                           size_t max_rows)
{
    size_t cap = 64;

    if (fmt->content == SMG_INFER_CSV) {
        /* One row per line: count them so the usual request needs one allocation. */
        const char *p = body, *end = p + len;
        cap = 1;
        while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            cap++;
            p++;
        }
    }
    return cap > max_rows ? max_rows : cap;
}

/* Resize b to ncap rows (b->x may be NULL). */
static int resize_rows(struct row_buf *b, size_t ncap, struct smg_error *err)
{
    size_t bytes;
    float *nx;

    if (!smg_mul_size(ncap, b->d * sizeof(float), &bytes) ||
        (nx = smg_realloc(b->x, bytes)) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory for %zu request rows", ncap);
    b->x = nx;
    b->cap = ncap;
    return SMG_OK;
}

/* At max_rows: one more row means the request is too big. */
static int expect_no_more_rows(struct smg_row_reader *r, size_t d, size_t max_rows,
                               struct smg_error *err)
{
    float *extra = smg_malloc(d * sizeof(float));
    size_t got;
    int rc;

    if (extra == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory decoding request");
    rc = smg_row_reader_next(r, extra, 1, &got, err);
    if (rc == SMG_OK && got != 0)
        rc = smg_error_set(err, SMG_EFORMAT,
                           "request has more than %zu rows, the most this server accepts for "
                           "%zu features",
                           max_rows, d);
    smg_free(extra);
    return rc;
}

/* Read every row of r into b, doubling it up to max_rows. */
static int read_rows(struct smg_row_reader *r, size_t max_rows, struct row_buf *b,
                     struct smg_error *err)
{
    for (;;) {
        size_t got;
        int rc;
        if (b->n == b->cap) {
            if (b->cap == max_rows)
                return expect_no_more_rows(r, b->d, max_rows, err);
            rc = resize_rows(b, b->cap * 2 > max_rows ? max_rows : b->cap * 2, err);
            if (rc != SMG_OK)
                return rc;
        }
        rc = smg_row_reader_next(r, b->x + b->n * b->d, b->cap - b->n, &got, err);
        if (rc != SMG_OK || got == 0)
            return rc;
        b->n += got;
    }
}

static int decode_rows(const void *body, size_t len, const struct smg_infer_format *fmt, size_t d,
                       size_t max_rows, float **rows_out, size_t *nrows, struct smg_error *err)
{
    struct smg_format rf = {0};
    struct smg_stream *s = NULL;
    struct smg_row_reader *r = NULL;
    struct row_buf b = {NULL, 0, 0, d};
    int rc;

    rf.content_type =
        fmt->content == SMG_INFER_CSV ? SMG_CONTENT_CSV : SMG_CONTENT_RECORDIO_PROTOBUF;
    rf.feature_dim = d;
    rf.label_size = fmt->content == SMG_INFER_CSV ? fmt->label_size : 0;
    rf.max_record_bytes = len + 1;
    if ((rc = smg_stream_open_memory(body, len, "request body", &s, err)) != SMG_OK ||
        (rc = smg_row_reader_new(s, &rf, &r, err)) != SMG_OK ||
        (rc = resize_rows(&b, initial_rows(body, len, fmt, max_rows), err)) != SMG_OK ||
        (rc = read_rows(r, max_rows, &b, err)) != SMG_OK)
        goto out;
    if (b.n == 0) {
        rc = smg_error_set(err, SMG_EFORMAT, "request body has no rows");
        goto out;
    }
    *rows_out = b.x;
    *nrows = b.n;
    b.x = NULL;
out:
    smg_free(b.x);
    smg_row_reader_free(r);
    smg_stream_free(s);
    return rc;
}

/* ---- JSON and JSON lines ---- */

static int json_float(const cJSON *v, float *out)
{
    double d;

    if (!cJSON_IsNumber(v))
        return -1;
    d = v->valuedouble;
    if (!isfinite(d) || fabs(d) > FLT_MAX)
        return -1;
    *out = (float)d;
    return 0;
}

/* Dense values array of exactly d numbers into row. */
static int json_dense(const cJSON *arr, const char *what, const char *where, size_t index, size_t d,
                      float *row, struct smg_error *err)
{
    size_t i = 0;
    const cJSON *v;

    if (!cJSON_IsArray(arr))
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: '%s' is not an array", where, index, what);
    cJSON_ArrayForEach(v, arr)
    {
        if (i == d)
            return smg_error_set(err, SMG_EFORMAT, "%s %zu: '%s' has %d values, expected %zu",
                                 where, index, what, cJSON_GetArraySize(arr), d);
        if (json_float(v, &row[i]) != 0)
            return smg_error_set(err, SMG_EFORMAT,
                                 "%s %zu: '%s' value %zu is not a finite float32 number", where,
                                 index, what, i);
        i++;
    }
    if (i != d)
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: '%s' has %zu values, expected %zu", where,
                             index, what, i, d);
    return SMG_OK;
}

/* A non-negative integer-valued JSON number below limit. */
static bool json_index(const cJSON *v, double limit, double *out)
{
    double k;

    if (!cJSON_IsNumber(v))
        return false;
    k = v->valuedouble;
    if (!(k >= 0 && k < limit) || k != floor(k))
        return false;
    *out = k;
    return true;
}

/* {"values": [...], "keys": [...], "shape": [...]}: dense or sparse. */
static int json_tensor(const cJSON *t, const char *where, size_t index, size_t d, float *row,
                       struct smg_error *err)
{
    const cJSON *values, *keys, *shape, *v, *k;
    int nk, nv;

    if (!cJSON_IsObject(t))
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: 'data.features' is not an object", where,
                             index);
    values = cJSON_GetObjectItemCaseSensitive(t, "values");
    keys = cJSON_GetObjectItemCaseSensitive(t, "keys");
    shape = cJSON_GetObjectItemCaseSensitive(t, "shape");
    if (values == NULL)
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: 'data.features' has no 'values'", where,
                             index);
    if (shape != NULL) {
        double prod = 1, dim;
        if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) == 0)
            return smg_error_set(err, SMG_EFORMAT, "%s %zu: 'shape' is not a non-empty array",
                                 where, index);
        cJSON_ArrayForEach(v, shape)
        {
            if (!json_index(v, 1e15, &dim) || dim == 0)
                return smg_error_set(err, SMG_EFORMAT,
                                     "%s %zu: 'shape' holds something other than a positive "
                                     "integer",
                                     where, index);
            prod *= dim;
        }
        if (prod != (double)d)
            return smg_error_set(err, SMG_EFORMAT,
                                 "%s %zu: 'shape' describes %.0f features, expected %zu", where,
                                 index, prod, d);
    }
    if (keys == NULL)
        return json_dense(values, "values", where, index, d, row, err);

    if (!cJSON_IsArray(keys) || !cJSON_IsArray(values))
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: 'keys' and 'values' must be arrays", where,
                             index);
    nk = cJSON_GetArraySize(keys);
    nv = cJSON_GetArraySize(values);
    if (nk != nv)
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: %d keys but %d values", where, index, nk,
                             nv);
    memset(row, 0, d * sizeof(float));
    for (k = keys->child, v = values->child; k != NULL && v != NULL; k = k->next, v = v->next) {
        double key;
        if (!json_index(k, (double)d, &key))
            return smg_error_set(err, SMG_EFORMAT,
                                 "%s %zu: key is not an integer in [0, %zu) (feature_dim)", where,
                                 index, d);
        if (json_float(v, &row[(size_t)key]) != 0)
            return smg_error_set(err, SMG_EFORMAT,
                                 "%s %zu: value for key %.0f is not a finite float32 number", where,
                                 index, key);
    }
    return SMG_OK;
}

/* One instance object: {"features": [...]} or {"data": {"features": {...}}}. */
static int json_instance(const cJSON *inst, const char *where, size_t index, size_t d, float *row,
                         struct smg_error *err)
{
    const cJSON *features, *data;

    if (cJSON_IsArray(inst)) /* a bare row */
        return json_dense(inst, "row", where, index, d, row, err);
    if (!cJSON_IsObject(inst))
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: not a JSON object or array", where, index);
    features = cJSON_GetObjectItemCaseSensitive(inst, "features");
    if (features != NULL)
        return json_dense(features, "features", where, index, d, row, err);
    data = cJSON_GetObjectItemCaseSensitive(inst, "data");
    if (data == NULL)
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: has neither 'features' nor 'data'", where,
                             index);
    if (!cJSON_IsObject(data))
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: 'data' is not an object", where, index);
    features = cJSON_GetObjectItemCaseSensitive(data, "features");
    if (features == NULL)
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: 'data' has no 'features'", where, index);
    return json_tensor(features, where, index, d, row, err);
}

static float *alloc_rows(size_t n, size_t d, struct smg_error *err)
{
    size_t bytes;
    float *x = NULL;

    if (smg_mul_size(n, d, &bytes) && smg_mul_size(bytes, sizeof(float), &bytes))
        x = smg_malloc(bytes ? bytes : 1);
    if (x == NULL)
        smg_error_set(err, SMG_ENOMEM, "out of memory for %zu request rows", n);
    return x;
}

static int decode_json(const char *body, size_t len, size_t d, size_t max_rows, float **rows_out,
                       size_t *nrows, struct smg_error *err)
{
    const char *end = NULL;
    cJSON *doc, *instances, *inst;
    float *x = NULL;
    size_t n, i = 0;
    int rc = SMG_OK;

    doc = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (doc == NULL) {
        size_t at = (end != NULL && end >= body && end <= body + len) ? (size_t)(end - body) : 0;
        return smg_error_set(err, SMG_EFORMAT, "request body is not valid JSON (error at byte %zu)",
                             at);
    }
    if (cJSON_IsArray(doc) && cJSON_IsNumber(doc->child)) {
        /* A bare row, [1.5, 16.0, ...]: what JSONSerializer makes of a 1-D array. */
        if ((x = alloc_rows(1, d, err)) == NULL) {
            rc = SMG_ENOMEM;
            goto out;
        }
        rc = json_dense(doc, "row", "instance", 0, d, x, err);
        n = 1;
        goto done;
    }
    /* {"instances": [...]}, or a bare list of rows (JSONSerializer on a 2-D array). */
    instances = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "instances") : doc;
    if (!cJSON_IsArray(instances)) {
        rc = smg_error_set(err, SMG_EFORMAT,
                           "JSON request must be an object with an 'instances' array");
        goto out;
    }
    n = (size_t)cJSON_GetArraySize(instances);
    if (n == 0) {
        rc = smg_error_set(err, SMG_EFORMAT, "'instances' is empty: request has no rows");
        goto out;
    }
    if (n > max_rows) {
        rc = smg_error_set(err, SMG_EFORMAT,
                           "request has %zu instances, more than the %zu this server accepts", n,
                           max_rows);
        goto out;
    }
    if ((x = alloc_rows(n, d, err)) == NULL) {
        rc = SMG_ENOMEM;
        goto out;
    }
    cJSON_ArrayForEach(inst, instances)
    {
        rc = json_instance(inst, "instance", i, d, x + i * d, err);
        if (rc != SMG_OK)
            goto out;
        i++;
    }
done:
    if (rc != SMG_OK)
        goto out;
    *rows_out = x;
    *nrows = n;
    x = NULL;
out:
    smg_free(x);
    cJSON_Delete(doc);
    return rc;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

static int decode_jsonlines(const char *body, size_t len, size_t d, size_t max_rows,
                            float **rows_out, size_t *nrows, struct smg_error *err)
{
    const char *p = body, *end = body + len;
    float *x = NULL;
    size_t n = 0, lines = 0, line_no = 0;
    int rc = SMG_OK;

    /* Count non-blank lines first so the matrix is allocated once. */
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (!blank(p, (size_t)(le - p)))
            lines++;
        p = nl ? nl + 1 : end;
    }
    if (lines == 0)
        return smg_error_set(err, SMG_EFORMAT, "request body has no JSON lines");
    if (lines > max_rows)
        return smg_error_set(err, SMG_EFORMAT,
                             "request has %zu lines, more than the %zu this server accepts", lines,
                             max_rows);
    if ((x = alloc_rows(lines, d, err)) == NULL)
        return SMG_ENOMEM;

    for (p = body; p < end && rc == SMG_OK;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *pe = NULL;
        size_t ln = (size_t)(le - p);
        cJSON *obj;

        line_no++;
        if (!blank(p, ln)) {
            obj = cJSON_ParseWithLengthOpts(p, ln, &pe, false);
            if (obj == NULL)
                rc = smg_error_set(err, SMG_EFORMAT,
                                   "line %zu: not valid JSON (error at byte %zu of the line)",
                                   line_no, (pe >= p && pe <= le) ? (size_t)(pe - p) : 0);
            else if (pe != NULL && pe < le && !blank(pe, (size_t)(le - pe)))
                rc = smg_error_set(err, SMG_EFORMAT,
                                   "line %zu: unexpected text after the JSON object at byte %zu",
                                   line_no, (size_t)(pe - p));
            else
                rc = json_instance(obj, "line", line_no, d, x + n * d, err);
            cJSON_Delete(obj);
            n++;
        }
        p = nl ? nl + 1 : end;
    }
    if (rc == SMG_OK) {
        *rows_out = x;
        *nrows = n;
        x = NULL;
    }
    smg_free(x);
    return rc;
}

int smg_infer_request_decode(const void *body, size_t len, const struct smg_infer_format *fmt,
                             size_t feature_dim, size_t max_rows, float **rows_out, size_t *nrows,
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
    switch (fmt->content) {
    case SMG_INFER_CSV:
    case SMG_INFER_RECORDIO:
        return decode_rows(body, len, fmt, feature_dim, max_rows, rows_out, nrows, err);
    case SMG_INFER_JSON: return decode_json(body, len, feature_dim, max_rows, rows_out, nrows, err);
    case SMG_INFER_JSONLINES:
        return decode_jsonlines(body, len, feature_dim, max_rows, rows_out, nrows, err);
    }
    return smg_error_set(err, SMG_EINTERNAL, "unknown request format %d", (int)fmt->content);
}

/*
 * One JSON inference instance into one dense row (contract: codec_util.h),
 * shared by the application/json and application/jsonlines codecs.
 *
 * An instance is a bare row [1.5, 16.0], {"features": [...]}, or
 * {"data": {"features": {"values": [...], "keys": [...], "shape": [...]}}},
 * dense when "keys" is absent and sparse otherwise. A sparse row's entries are
 * sorted by key, so the same key twice is found and refused (naming both
 * entries), and then written into a zero-filled row, or appended as one CSR
 * row (smg_codec_json_instance_csr; a dense instance in a CSR body is spread
 * into one scratch row and its non-zeros appended). Every number must be a
 * finite float32; sparse keys are integers in [0, feature_dim), and a shape,
 * when given, must describe exactly feature_dim features.
 */
#include "io/codec_util.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "io/base/alloc.h"

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

/* A sparse entry: its key, value and position in the instance's arrays. */
struct json_pair {
    size_t key, entry;
    float value;
};

static int pair_cmp(const void *a, const void *b)
{
    const struct json_pair *x = a, *y = b;

    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->entry < y->entry ? -1 : (x->entry > y->entry);
}

/* A "shape", when given, must describe exactly d features. */
static int json_shape(const cJSON *shape, const char *where, size_t index, size_t d,
                      struct smg_error *err)
{
    double prod = 1, dim;
    const cJSON *v;

    if (shape == NULL)
        return SMG_OK;
    if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) == 0)
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: 'shape' is not a non-empty array", where,
                             index);
    cJSON_ArrayForEach(v, shape)
    {
        if (!json_index(v, 1e15, &dim) || dim == 0)
            return smg_error_set(err, SMG_EFORMAT,
                                 "%s %zu: 'shape' holds something other than a positive integer",
                                 where, index);
        prod *= dim;
    }
    if (prod != (double)d)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s %zu: 'shape' describes %.0f features, expected %zu", where, index,
                             prod, d);
    return SMG_OK;
}

/*
 * The keys and values of a sparse tensor as *n pairs sorted by key (a new
 * array, smg_free it; NULL when *n is 0). A key outside [0, d), a value that
 * is not a finite float32 and the same key twice are errors naming the entry.
 */
static int json_pairs(const cJSON *keys, const cJSON *values, const char *where, size_t index,
                      size_t d, struct json_pair **out, size_t *n, struct smg_error *err)
{
    const cJSON *k, *v;
    struct json_pair *p;
    int nk, nv;
    size_t i = 0;

    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(keys) || !cJSON_IsArray(values))
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: 'keys' and 'values' must be arrays", where,
                             index);
    nk = cJSON_GetArraySize(keys);
    nv = cJSON_GetArraySize(values);
    if (nk != nv)
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: %d keys but %d values", where, index, nk,
                             nv);
    if (nk == 0)
        return SMG_OK;
    if ((p = smg_malloc((size_t)nk * sizeof(*p))) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory for %d sparse keys", nk);
    for (k = keys->child, v = values->child; k != NULL && v != NULL; k = k->next, v = v->next) {
        double key;
        if (!json_index(k, (double)d, &key) || json_float(v, &p[i].value) != 0) {
            smg_free(p);
            if (!json_index(k, (double)d, &key))
                return smg_error_set(err, SMG_EFORMAT,
                                     "%s %zu: key is not an integer in [0, %zu) (feature_dim): "
                                     "entry %zu",
                                     where, index, d, i);
            return smg_error_set(err, SMG_EFORMAT,
                                 "%s %zu: value for key %.0f is not a finite float32 number "
                                 "(entry %zu)",
                                 where, index, key, i);
        }
        p[i].key = (size_t)key;
        p[i].entry = i;
        i++;
    }
    qsort(p, i, sizeof(*p), pair_cmp);
    for (size_t j = 1; j < i; j++)
        if (p[j].key == p[j - 1].key) {
            size_t key = p[j].key, a = p[j - 1].entry, b = p[j].entry;
            smg_free(p);
            return smg_error_set(err, SMG_EFORMAT,
                                 "%s %zu: key %zu appears twice (entries %zu and %zu); keys must "
                                 "be distinct",
                                 where, index, key, a, b);
        }
    *out = p;
    *n = i;
    return SMG_OK;
}

/* {"values": [...], "keys": [...], "shape": [...]}: 'values' and the checked shape. */
static int json_tensor_parts(const cJSON *t, const char *where, size_t index, size_t d,
                             const cJSON **values, const cJSON **keys, struct smg_error *err)
{
    *values = *keys = NULL;
    if (!cJSON_IsObject(t))
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: 'data.features' is not an object", where,
                             index);
    *values = cJSON_GetObjectItemCaseSensitive(t, "values");
    *keys = cJSON_GetObjectItemCaseSensitive(t, "keys");
    if (*values == NULL)
        return smg_error_set(err, SMG_EFORMAT, "%s %zu: 'data.features' has no 'values'", where,
                             index);
    return json_shape(cJSON_GetObjectItemCaseSensitive(t, "shape"), where, index, d, err);
}

/* {"values": [...], "keys": [...], "shape": [...]}: dense or sparse, into row. */
static int json_tensor(const cJSON *t, const char *where, size_t index, size_t d, float *row,
                       struct smg_error *err)
{
    const cJSON *values, *keys;
    struct json_pair *p;
    size_t n;
    int rc;

    if ((rc = json_tensor_parts(t, where, index, d, &values, &keys, err)) != SMG_OK)
        return rc;
    if (keys == NULL)
        return json_dense(values, "values", where, index, d, row, err);
    if ((rc = json_pairs(keys, values, where, index, d, &p, &n, err)) != SMG_OK)
        return rc;
    memset(row, 0, d * sizeof(float));
    for (size_t i = 0; i < n; i++)
        row[p[i].key] = p[i].value;
    smg_free(p);
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

float *smg_codec_alloc_rows(size_t n, size_t d, struct smg_error *err)
{
    size_t bytes;
    float *x = NULL;

    if (smg_mul_size(n, d, &bytes) && smg_mul_size(bytes, sizeof(float), &bytes))
        x = smg_malloc(bytes ? bytes : 1);
    if (x == NULL)
        smg_error_set(err, SMG_ENOMEM, "out of memory for %zu request rows", n);
    return x;
}

enum smg_status smg_codec_json_dense(const void *arr, const char *what, const char *where,
                                     size_t index, size_t d, float *row, struct smg_error *err)
{
    return (enum smg_status)json_dense(arr, what, where, index, d, row, err);
}

enum smg_status smg_codec_json_instance(const void *inst, const char *where, size_t index, size_t d,
                                        float *row, struct smg_error *err)
{
    return (enum smg_status)json_instance(inst, where, index, d, row, err);
}

/* An instance's data.features when it is the sparse form (has "keys"), else NULL. */
static const cJSON *sparse_tensor(const cJSON *inst)
{
    const cJSON *data =
        cJSON_IsObject(inst) ? cJSON_GetObjectItemCaseSensitive(inst, "data") : NULL;
    const cJSON *t =
        cJSON_IsObject(data) ? cJSON_GetObjectItemCaseSensitive(data, "features") : NULL;

    if (!cJSON_IsObject(t) || cJSON_GetObjectItemCaseSensitive(inst, "features") != NULL ||
        cJSON_GetObjectItemCaseSensitive(t, "keys") == NULL)
        return NULL;
    return t;
}

bool smg_codec_json_is_sparse(const void *inst)
{
    return sparse_tensor(inst) != NULL;
}

/* A dense instance through *scratch (d floats, allocated on first use): its non-zeros. */
static int dense_to_csr(const cJSON *inst, const char *where, size_t index, size_t d,
                        float **scratch, struct smg_csr_buf *out, struct smg_error *err)
{
    size_t nz = 0;
    int rc;

    if (*scratch == NULL && (*scratch = smg_malloc(d * sizeof(float))) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory for a row of %zu features", d);
    if ((rc = json_instance(inst, where, index, d, *scratch, err)) != SMG_OK)
        return rc;
    for (size_t f = 0; f < d; f++)
        nz += (*scratch)[f] != 0.0f;
    if ((rc = smg_csr_buf_reserve(out, nz, err)) != SMG_OK)
        return rc;
    for (size_t f = 0; f < d; f++)
        if ((*scratch)[f] != 0.0f) {
            out->indices[out->nnz] = (uint32_t)f;
            out->values[out->nnz++] = (*scratch)[f];
        }
    return SMG_OK;
}

enum smg_status smg_codec_json_instance_csr(const void *inst, const char *where, size_t index,
                                            size_t d, float **scratch, struct smg_csr_buf *out,
                                            struct smg_error *err)
{
    const cJSON *t = sparse_tensor(inst), *values, *keys;
    struct json_pair *p = NULL;
    size_t n = 0;
    int rc;

    if (d > UINT32_MAX)
        return smg_error_set(err, SMG_EINTERNAL, "%zu features do not fit CSR columns", d);
    if (t == NULL)
        rc = dense_to_csr(inst, where, index, d, scratch, out, err);
    else if ((rc = json_tensor_parts(t, where, index, d, &values, &keys, err)) == SMG_OK &&
             (rc = json_pairs(keys, values, where, index, d, &p, &n, err)) == SMG_OK &&
             (rc = smg_csr_buf_reserve(out, n, err)) == SMG_OK) {
        for (size_t i = 0; i < n; i++) {
            out->indices[out->nnz] = (uint32_t)p[i].key;
            out->values[out->nnz++] = p[i].value;
        }
    }
    smg_free(p);
    if (rc != SMG_OK) {
        smg_csr_buf_drop_row(out);
        return (enum smg_status)rc;
    }
    smg_csr_buf_end_row(out);
    return SMG_OK;
}

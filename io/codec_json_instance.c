/*
 * One JSON inference instance into one dense row (contract: codec_util.h),
 * shared by the application/json and application/jsonlines codecs.
 *
 * An instance is a bare row [1.5, 16.0], {"features": [...]}, or
 * {"data": {"features": {"values": [...], "keys": [...], "shape": [...]}}},
 * dense when "keys" is absent and sparse otherwise. A sparse row is zero-filled
 * first, so no second pass is needed. Every number must be a finite float32;
 * sparse keys are integers in [0, feature_dim), and a shape, when given, must
 * describe exactly feature_dim features.
 */
#include "io/codec_util.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
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

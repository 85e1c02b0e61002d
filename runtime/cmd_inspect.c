/*
 * `smalgo inspect FILE [--values N | --all]`: print an MXNet NDArray file as
 * JSON, so nobody needs MXNet to look inside a SageMaker model.
 *
 * Output: {"file", "format": "list"|"dict", "arrays": [{"name", "dtype",
 * "shape", "elements", "values" | "values_head", ...}], "note"?}. With --all
 * (or when an array has no more than N elements) "values" is nested to the
 * array's shape, as numpy's tolist() would give; otherwise "values_head"
 * holds the first N values in C order and "values_truncated" is true. N is 16
 * unless --values says otherwise. NaN and infinities print as null (JSON has
 * no spelling for them) and their flat indices are listed in "non_finite".
 * Floats print with the fewest digits that read back to the same float32.
 *
 * A SageMaker PCA model (a dict with s, v and optionally mean) and a k-means
 * model (a list holding one (k, d) float32 array) get a "note" saying how to
 * use them: the projection formula and component order, or what the rows and
 * closest_cluster mean. Errors go to stderr and exit 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cli_number.h"
#include "runtime/commands.h"
#include "io/ndarray.h"

#define DEFAULT_VALUES 16

static void print_json_string(const char *s)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

/* Element i as a double; false when the dtype is not printable as a number. */
static double element(const struct smg_ndarray *a, size_t i)
{
    const unsigned char *p = a->data;
    switch (a->dtype) {
    case SMG_DTYPE_FLOAT32: {
        float v;
        memcpy(&v, p + 4 * i, 4);
        return v;
    }
    case SMG_DTYPE_FLOAT64: {
        double v;
        memcpy(&v, p + 8 * i, 8);
        return v;
    }
    case SMG_DTYPE_UINT8: return p[i];
    case SMG_DTYPE_BOOL: return p[i] != 0;
    case SMG_DTYPE_INT8: return (signed char)p[i];
    case SMG_DTYPE_INT32: {
        int32_t v;
        memcpy(&v, p + 4 * i, 4);
        return v;
    }
    case SMG_DTYPE_INT64: {
        int64_t v;
        memcpy(&v, p + 8 * i, 8);
        return (double)v;
    }
    default: return NAN; /* float16: shown as null */
    }
}

static void print_number(const struct smg_ndarray *a, size_t i)
{
    double v = element(a, i);
    char buf[40];

    if (!isfinite(v)) {
        fputs("null", stdout);
        return;
    }
    if (a->dtype == SMG_DTYPE_FLOAT32) {
        for (int prec = 6; prec <= 9; prec++) {
            snprintf(buf, sizeof(buf), "%.*g", prec, v);
            if ((float)strtod(buf, NULL) == (float)v)
                break;
        }
    } else {
        snprintf(buf, sizeof(buf), "%.17g", v);
    }
    fputs(buf, stdout);
}

/* Values nested to the shape, from flat index *i, dimension dim. */
static void print_nested(const struct smg_ndarray *a, uint32_t dim, size_t *i)
{
    putchar('[');
    for (int64_t j = 0; j < a->shape[dim]; j++) {
        if (j > 0)
            fputs(", ", stdout);
        if (dim + 1 < a->ndim)
            print_nested(a, dim + 1, i);
        else
            print_number(a, (*i)++);
    }
    putchar(']');
}

static void print_array(const struct smg_ndarray *a, size_t limit)
{
    size_t n = smg_ndarray_elements(a), nonfinite = 0;

    fputs("    {\"name\": ", stdout);
    if (a->name != NULL)
        print_json_string(a->name);
    else
        fputs("null", stdout);
    printf(", \"dtype\": \"%s\", \"shape\": [", smg_ndarray_dtype_name(a->dtype));
    for (uint32_t d = 0; d < a->ndim; d++)
        printf("%s%lld", d > 0 ? ", " : "", (long long)a->shape[d]);
    printf("], \"elements\": %zu", n);
    if (a->ndim == 0) {
        fputs(", \"values\": null}", stdout);
        return;
    }
    if (n <= limit) {
        size_t i = 0;
        fputs(", \"values\": ", stdout);
        print_nested(a, 0, &i);
    } else {
        fputs(", \"values_head\": [", stdout);
        for (size_t i = 0; i < limit; i++) {
            fputs(i > 0 ? ", " : "", stdout);
            print_number(a, i);
        }
        fputs("], \"values_truncated\": true", stdout);
    }
    for (size_t i = 0; i < n; i++)
        nonfinite += !isfinite(element(a, i));
    if (nonfinite > 0 && a->dtype != SMG_DTYPE_FLOAT16) {
        fputs(", \"non_finite\": [", stdout);
        for (size_t i = 0, k = 0; i < n; i++)
            if (!isfinite(element(a, i)))
                printf("%s%zu", k++ > 0 ? ", " : "", i);
        putchar(']');
    }
    putchar('}');
}

/* +1 if the finite values of s ascend, -1 if they descend, 0 otherwise. */
static int order_of(const struct smg_ndarray *s)
{
    size_t n = smg_ndarray_elements(s);
    double prev = NAN;
    bool up = true, down = true;

    for (size_t i = 0; i < n; i++) {
        double v = element(s, i);
        if (!isfinite(v))
            continue;
        if (isfinite(prev)) {
            up = up && v >= prev;
            down = down && v <= prev;
        }
        prev = v;
    }
    return up == down ? 0 : (up ? 1 : -1);
}

static void print_note(const struct smg_ndarray_file *f)
{
    const struct smg_ndarray *s = smg_ndarray_find(f, "s"), *v = smg_ndarray_find(f, "v");
    const struct smg_ndarray *mean = smg_ndarray_find(f, "mean");

    if (f->named && s != NULL && v != NULL && v->ndim == 2) {
        int order = order_of(s);
        printf(",\n  \"note\": {\"model\": \"pca\", \"feature_dim\": %lld, \"num_components\": "
               "%lld, \"projection\": \"%s\", \"component_order\": \"%s\", \"uses_s\": false}",
               (long long)v->shape[0], (long long)v->shape[1],
               mean != NULL ? "projection = (x - mean) · v" : "projection = x · v",
               order > 0   ? "s ascending (regular mode): the last column of v, and the last "
                             "projection value, is the largest component"
               : order < 0 ? "s descending (randomized mode): the first column of v, and the "
                             "first projection value, is the largest component"
                           : "s is neither ascending nor descending");
    } else if (!f->named && f->count == 1 && f->arrays[0].ndim == 2 &&
               f->arrays[0].dtype == SMG_DTYPE_FLOAT32) {
        printf(",\n  \"note\": {\"model\": \"kmeans\", \"k\": %lld, \"feature_dim\": %lld, "
               "\"meaning\": \"each row is a centroid; closest_cluster is the 0-based row index "
               "of the nearest centroid and distance_to_cluster its Euclidean distance\"}",
               (long long)f->arrays[0].shape[0], (long long)f->arrays[0].shape[1]);
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: smalgo inspect FILE [--values N | --all]\n"
            "Print an MXNet NDArray file (a SageMaker model_algo-1 or state_* file) as "
            "JSON.\n"
            "  --values N  print the first N values of each array (default %d)\n"
            "  --all       print every value, nested to the array's shape\n",
            DEFAULT_VALUES);
}

static bool parse_count(const char *s, size_t *out)
{
    uint64_t v;

    if (!smg_cli_parse_u64(s, 0, SIZE_MAX, &v))
        return false;
    *out = (size_t)v;
    return true;
}

int smg_cmd_inspect(int argc, char **argv)
{
    const char *path = NULL;
    size_t limit = DEFAULT_VALUES;
    struct smg_ndarray_file *f = NULL;
    struct smg_error err;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--all") == 0) {
            limit = SIZE_MAX;
        } else if (strcmp(argv[i], "--values") == 0) {
            if (!parse_count(i + 1 < argc ? argv[i + 1] : NULL, &limit)) {
                fprintf(stderr, "smalgo inspect: --values needs a count (a whole number >= 0)\n");
                return 1;
            }
            i++;
        } else if (argv[i][0] == '-' || path != NULL) {
            fprintf(stderr, "smalgo inspect: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 1;
        } else {
            path = argv[i];
        }
    }
    if (path == NULL) {
        usage(stderr);
        return 1;
    }
    smg_error_clear(&err);
    if (smg_ndarray_load(path, &f, &err) != SMG_OK) {
        fprintf(stderr, "smalgo inspect: %s\n", err.msg);
        return 1;
    }
    fputs("{\"file\": ", stdout);
    print_json_string(path);
    printf(", \"format\": \"%s\", \"count\": %zu, \"arrays\": [\n", f->named ? "dict" : "list",
           f->count);
    for (size_t i = 0; i < f->count; i++) {
        print_array(&f->arrays[i], limit);
        fputs(i + 1 < f->count ? ",\n" : "\n", stdout);
    }
    fputs("  ]", stdout);
    print_note(f);
    fputs("}\n", stdout);
    smg_ndarray_file_free(f);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "smalgo inspect: cannot write the output\n");
        return 1;
    }
    return 0;
}

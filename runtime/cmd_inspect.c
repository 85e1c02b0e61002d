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
 * A file that is one algorithm's model gets a "note" saying how to use it,
 * written by the algorithm's descriptor (runtime/algos/<name>.c: e.g. the
 * projection formula and component order, or what the rows and
 * closest_cluster mean). Strings are quoted by io/json_string.h. Errors go to
 * stderr and exit 1.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/buffer.h"
#include "io/json_string.h"
#include "io/ndarray.h"
#include "runtime/algorithm.h"
#include "runtime/checkpoint.h"
#include "runtime/cli_number.h"
#include "runtime/commands.h"
#include "runtime/ndarray_value.h"

#define DEFAULT_VALUES 16
/* Cap on one quoted string or note: a name is at most 64 KiB, 6 bytes a byte quoted. */
#define TEXT_MAX ((size_t)1 << 22)

/* s as a JSON string (io/json_string.h's rules). SMG_ENOMEM. */
static int print_json_string(const char *s)
{
    struct smg_buf b;
    int rc;

    smg_buf_init(&b, TEXT_MAX);
    rc = smg_json_put_string(&b, s);
    if (rc == SMG_OK)
        fwrite(b.data, 1, b.len, stdout);
    smg_buf_free(&b);
    return rc;
}

/* Element i as a double (NaN for float16, shown as null). */
static double element(const struct smg_ndarray *a, size_t i)
{
    return smg_ndarray_value(a, i);
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

static int print_array(const struct smg_ndarray *a, size_t limit)
{
    size_t n = smg_ndarray_elements(a), nonfinite = 0;

    fputs("    {\"name\": ", stdout);
    if (a->name == NULL)
        fputs("null", stdout);
    else if (print_json_string(a->name) != SMG_OK)
        return SMG_ENOMEM;
    printf(", \"dtype\": \"%s\", \"shape\": [", smg_ndarray_dtype_name(a->dtype));
    for (uint32_t d = 0; d < a->ndim; d++)
        printf("%s%lld", d > 0 ? ", " : "", (long long)a->shape[d]);
    printf("], \"elements\": %zu", n);
    if (a->ndim == 0) {
        fputs(", \"values\": null}", stdout);
        return SMG_OK;
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
    return SMG_OK;
}

/* The first algorithm's note for f (runtime/algos/<name>.c), if any claims it. */
static int print_note(const struct smg_ndarray_file *f)
{
    struct smg_buf note;
    int rc = SMG_OK;

    smg_buf_init(&note, TEXT_MAX);
    for (size_t i = 0; smg_algorithms[i] != NULL && note.len == 0 && rc == SMG_OK; i++)
        rc = smg_algorithms[i]->inspect_note(f, &note);
    if (rc == SMG_OK && note.len > 0)
        printf(",\n  \"note\": %s", note.data);
    smg_buf_free(&note);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: smalgo inspect FILE [--values N | --all]\n"
            "Print an MXNet NDArray file (a SageMaker model_algo-1 or state_* file) as "
            "JSON,\nor a smalgo checkpoint's header and progress.\n"
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
    int rc;

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
    if (smg_checkpoint_sniff(path)) {
        if (smg_checkpoint_inspect(path, stdout, &err) != SMG_OK) {
            fprintf(stderr, "smalgo inspect: %s\n", err.msg);
            return 1;
        }
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (smg_ndarray_load(path, &f, &err) != SMG_OK) {
        fprintf(stderr, "smalgo inspect: %s\n", err.msg);
        return 1;
    }
    fputs("{\"file\": ", stdout);
    rc = print_json_string(path);
    if (rc == SMG_OK)
        printf(", \"format\": \"%s\", \"count\": %zu, \"arrays\": [\n", f->named ? "dict" : "list",
               f->count);
    for (size_t i = 0; i < f->count && rc == SMG_OK; i++) {
        rc = print_array(&f->arrays[i], limit);
        fputs(i + 1 < f->count ? ",\n" : "\n", stdout);
    }
    if (rc == SMG_OK) {
        fputs("  ]", stdout);
        rc = print_note(f);
        fputs("}\n", stdout);
    }
    smg_ndarray_file_free(f);
    if (rc != SMG_OK) {
        fprintf(stderr, "smalgo inspect: out of memory writing the output\n");
        return 1;
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "smalgo inspect: cannot write the output\n");
        return 1;
    }
    return 0;
}

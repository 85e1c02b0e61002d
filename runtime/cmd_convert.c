/*
 * `smalgo convert`: CSV or .npy to recordIO-protobuf, as the SageMaker SDK's
 * write_numpy_to_dense_tensor (dense) or write_spmatrix_to_sparse_tensor
 * (--sparse) would write it, byte for byte (record_encode.h).
 *
 * CSV is read with the ordinary CSV row reader (so the same numbers and the
 * same errors as training) and written as Float32Tensor; a .npy array keeps
 * its type as the SDK's _resolve_type does: float32 -> Float32Tensor,
 * float64 -> Float64Tensor, int32/int64 -> Int32Tensor. With --label-size 1
 * the first column becomes the record's label (the SDK takes one label per
 * row). With --shards N the rows are split as the SDK's _build_shards does
 * (N-1 shards of floor(rows/N) rows, the last takes the rest) into
 * OUT/matrix_<i>.pbr; CSV input is then read twice (once to count rows).
 *
 * CSV as published by others (the NYC TLC trip files): --header skips a
 * header row and lets --columns pick columns by name (case-insensitive) or
 * 1-based number, in any order (io/csv_select.h); text columns left out are
 * never parsed. A row whose selected cell is empty or not a number stops the
 * conversion with the file, line, column and cell, unless --skip-bad-rows is
 * given: such rows are then left out and counted, and the count with the
 * first reason is printed at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/base/alloc.h"
#include "io/csv_select.h"
#include "io/npy.h"
#include "io/record_encode.h"
#include "io/recordio.h"
#include "io/rows.h"
#include "runtime/cli_number.h"
#include "runtime/commands.h"

#define CONVERT_BATCH 256

#define CONVERT_MAX_LINE ((size_t)1 << 20)

struct convert_opts {
    const char *input, *output;
    size_t label_size, shards, feature_dim;
    bool sparse;
    const char *columns; /* --columns, or NULL */
    bool header, skip_bad;
};

/* --header / --columns / --skip-bad-rows: CSV through a column selection. */
struct table {
    struct smg_csv_select *sel;
    char *line;
    size_t cap;
    uint64_t line_no, skipped;
    char first_bad[SMG_ERROR_MSG_MAX + 32];
};

/* A source of rows: CSV through a row reader, or a .npy file. */
struct source {
    const char *path;
    FILE *f;
    struct smg_stream *s;
    struct smg_row_reader *rr;
    bool npy;
    struct smg_npy hdr;
    size_t cols; /* columns per row in the input, labels included */
    enum smg_tensor_type type;
    uint8_t *rows; /* CONVERT_BATCH rows in the input's item type */
    size_t nrows, next;
    const struct convert_opts *o;
    struct table *t; /* CSV with a selection, else NULL */
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: smalgo convert --input FILE --output FILE_OR_DIR [options]\n"
            "\n"
            "Convert CSV (no header, numbers only) or a 2-D .npy array to recordIO-protobuf\n"
            "as the SageMaker SDK writes it: one Record per row, features[\"values\"] dense\n"
            "(write_numpy_to_dense_tensor) or sparse (write_spmatrix_to_sparse_tensor).\n"
            "CSV becomes Float32Tensor; .npy keeps its type (float32, float64, int32;\n"
            "int64 is written as Int32Tensor like the SDK).\n"
            "\n"
            "options:\n"
            "  --input FILE       CSV file, or .npy (recognised by its magic)\n"
            "  --output PATH      output file; a directory with --shards N > 1 or when PATH\n"
            "                     is an existing directory (files matrix_<i>.pbr)\n"
            "  --label-size N     0 (default) or 1: the first column is the label\n"
            "  --shards N         split rows into N files as the SDK's record_set does\n"
            "  --sparse           write sparse tensors (keys + shape [cols]); zeros dropped\n"
            "  --feature-dim D    expected features per row (default: from the first row)\n"
            "  --header           CSV: the first line names the columns; it is skipped\n"
            "  --columns LIST     CSV: keep these columns, in this order: names from the\n"
            "                     header (case-insensitive) or numbers from 1, comma-separated,\n"
            "                     e.g. pickup_longitude,pickup_latitude,5; the others may\n"
            "                     hold any text\n"
            "  --skip-bad-rows    CSV: leave out rows whose kept cells are empty or not\n"
            "                     numbers, and report how many (default: stop at the first,\n"
            "                     naming its line and column)\n"
            "  --help             this text\n");
}

static int parse_size(const char *opt, const char *v, size_t *out)
{
    uint64_t x;

    if (v == NULL || *v < '0' || *v > '9') {
        fprintf(stderr, "smalgo convert: %s needs a non-negative integer\n", opt);
        return -1;
    }
    if (!smg_cli_parse_u64(v, 0, 100000000u, &x)) {
        fprintf(stderr, "smalgo convert: %s: invalid value '%s'\n", opt, v);
        return -1;
    }
    *out = (size_t)x;
    return 0;
}

static int parse_args(int argc, char **argv, struct convert_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->shards = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        } else if (strcmp(a, "--sparse") == 0) {
            o->sparse = true;
            continue;
        } else if (strcmp(a, "--header") == 0) {
            o->header = true;
            continue;
        } else if (strcmp(a, "--skip-bad-rows") == 0) {
            o->skip_bad = true;
            continue;
        } else if (strcmp(a, "--columns") == 0 && v != NULL) {
            o->columns = v;
        } else if (strcmp(a, "--input") == 0 && v != NULL) {
            o->input = v;
        } else if (strcmp(a, "--output") == 0 && v != NULL) {
            o->output = v;
        } else if (strcmp(a, "--label-size") == 0) {
            if (parse_size(a, v, &o->label_size) != 0)
                return -1;
        } else if (strcmp(a, "--shards") == 0) {
            if (parse_size(a, v, &o->shards) != 0)
                return -1;
        } else if (strcmp(a, "--feature-dim") == 0) {
            if (parse_size(a, v, &o->feature_dim) != 0)
                return -1;
        } else {
            fprintf(stderr, "smalgo convert: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return -1;
        }
        i++;
    }
    if (o->input == NULL || o->output == NULL) {
        fprintf(stderr, "smalgo convert: --input and --output are required\n");
        usage(stderr);
        return -1;
    }
    if (o->label_size > 1) {
        fprintf(stderr, "smalgo convert: --label-size must be 0 or 1 (one label per record)\n");
        return -1;
    }
    if (o->shards < 1) {
        fprintf(stderr, "smalgo convert: --shards must be at least 1\n");
        return -1;
    }
    return 0;
}

/* Columns of the first non-empty CSV line. */
static int csv_columns(FILE *f, const char *path, size_t *cols, struct smg_error *err)
{
    int c, prev = '\n';
    size_t n = 1;
    bool any = false;

    while ((c = getc(f)) != EOF) {
        if (c == '\n' || c == '\r') {
            if (any)
                break;
            continue;
        }
        any = true;
        if (c == ',')
            n++;
        prev = c;
    }
    (void)prev;
    if (!any)
        return smg_error_set(err, SMG_EFORMAT, "%s: no rows", path);
    *cols = n;
    return SMG_OK;
}

/* The next line without its LF into t->line; its length, or -1 at the end. */
static int table_line(struct source *src, long *len, struct smg_error *err)
{
    struct table *t = src->t;
    ssize_t n = getline(&t->line, &t->cap, src->f);

    if (n < 0) {
        *len = -1;
        return ferror(src->f) ? smg_error_set(err, SMG_EIO, "%s: read failed", src->path) : SMG_OK;
    }
    t->line_no++;
    if (n > 0 && t->line[n - 1] == '\n')
        n--;
    if ((size_t)n > CONVERT_MAX_LINE)
        return smg_error_set(err, SMG_EFORMAT, "%s: line %llu is longer than %zu bytes", src->path,
                             (unsigned long long)t->line_no, CONVERT_MAX_LINE);
    *len = (long)n;
    return SMG_OK;
}

static bool blank(const char *line, long len)
{
    return len == 0 || (len == 1 && line[0] == '\r');
}

/* Resolve the selection on the first non-blank line (the header, or the first row). */
static int table_open(struct source *src, struct smg_error *err)
{
    struct table *t = smg_calloc(1, sizeof(*t));
    long len = 0;
    int rc;

    if (t == NULL || (t->sel = smg_malloc(sizeof(*t->sel))) == NULL) {
        smg_free(t);
        return smg_error_set(err, SMG_ENOMEM, "out of memory");
    }
    src->t = t;
    do {
        if ((rc = table_line(src, &len, err)) != SMG_OK)
            return rc;
    } while (len >= 0 && blank(t->line, len));
    if (len < 0)
        return smg_error_set(err, SMG_EFORMAT, "%s: no rows", src->path);
    rc = smg_csv_select_init(t->sel, src->o->columns, t->line, (size_t)len, src->o->header, err);
    if (rc != SMG_OK) {
        smg_error_prefix(err, "%s: line %llu: ", src->path, (unsigned long long)t->line_no);
        return rc;
    }
    if (!src->o->header) {
        rewind(src->f);
        t->line_no = 0;
    }
    src->cols = t->sel->nsel;
    src->type = SMG_TENSOR_FLOAT32;
    return SMG_OK;
}

/* The next good row into src->rows; *row NULL at the end. Bad rows stop or are counted. */
static int table_next(struct source *src, const uint8_t **row, struct smg_error *err)
{
    struct table *t = src->t;
    struct smg_error why;
    long len = -1;
    int rc;

    *row = NULL;
    for (;;) {
        if ((rc = table_line(src, &len, err)) != SMG_OK || len < 0)
            return rc;
        if (blank(t->line, len))
            continue;
        smg_error_clear(&why);
        if (smg_csv_select_pick(t->sel, t->line, (size_t)len, (float *)src->rows, &why) == SMG_OK) {
            *row = src->rows;
            return SMG_OK;
        }
        if (!src->o->skip_bad)
            return smg_error_set(err, SMG_EFORMAT,
                                 "%s: line %llu: %s (give --skip-bad-rows to leave such rows out)",
                                 src->path, (unsigned long long)t->line_no, why.msg);
        if (t->skipped++ == 0)
            snprintf(t->first_bad, sizeof(t->first_bad), "line %llu: %s",
                     (unsigned long long)t->line_no, why.msg);
    }
}

static void source_close(struct source *src)
{
    if (src->t != NULL) {
        smg_free(src->t->sel);
        free(src->t->line); /* getline's memory */
        smg_free(src->t);
        src->t = NULL;
    }
    smg_row_reader_free(src->rr);
    smg_stream_free(src->s);
    if (src->f != NULL)
        fclose(src->f);
    smg_free(src->rows);
    src->rr = NULL;
    src->s = NULL;
    src->f = NULL;
    src->rows = NULL;
}

static int source_open(struct source *src, const char *path, struct smg_error *err)
{
    unsigned char magic[6] = {0};
    size_t bytes;
    int rc;

    src->path = path;
    src->nrows = src->next = 0;
    src->f = fopen(path, "rb");
    if (src->f == NULL)
        return smg_error_set(err, SMG_EIO, "%s: cannot open: %s", path, strerror(errno));
    src->npy = fread(magic, 1, 6, src->f) == 6 && memcmp(magic, "\x93NUMPY", 6) == 0;
    rewind(src->f);
    if (src->npy) {
        if ((rc = smg_npy_read_header(src->f, path, &src->hdr, err)) != SMG_OK)
            return rc;
        src->cols = src->hdr.cols;
        src->type = src->hdr.dtype == SMG_NPY_F4   ? SMG_TENSOR_FLOAT32
                    : src->hdr.dtype == SMG_NPY_F8 ? SMG_TENSOR_FLOAT64
                                                   : SMG_TENSOR_INT32;
        bytes = src->hdr.item;
    } else if (src->o->header || src->o->columns != NULL || src->o->skip_bad) {
        if ((rc = table_open(src, err)) != SMG_OK)
            return rc;
        bytes = sizeof(float);
    } else {
        struct smg_format fmt = {SMG_ROWS_CSV, 0, 0, false, 0};
        if ((rc = csv_columns(src->f, path, &src->cols, err)) != SMG_OK)
            return rc;
        fmt.feature_dim = src->cols;
        src->type = SMG_TENSOR_FLOAT32;
        bytes = sizeof(float);
        /* The FILE has buffered ahead; the stream reads its own descriptor. */
        fclose(src->f);
        src->f = NULL;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return smg_error_set(err, SMG_EIO, "%s: cannot open: %s", path, strerror(errno));
        rc = smg_stream_open_fd(fd, path, true, &src->s, err);
        if (rc != SMG_OK)
            close(fd);
        if (rc == SMG_OK)
            rc = smg_row_reader_new(src->s, &fmt, &src->rr, err);
        if (rc != SMG_OK)
            return rc;
    }
    if (!smg_mul_size(bytes, src->cols, &bytes) || !smg_mul_size(bytes, CONVERT_BATCH, &bytes) ||
        (src->rows = smg_malloc(bytes)) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "%s: out of memory for %zu columns", path, src->cols);
    return SMG_OK;
}

/* The next row in the input's item type (int64 narrowed to int32); NULL at the end. */
static int source_next(struct source *src, const uint8_t **row, struct smg_error *err)
{
    size_t item = src->npy ? src->hdr.item : sizeof(float);
    int rc;

    *row = NULL;
    if (src->t != NULL)
        return table_next(src, row, err);
    if (src->next == src->nrows) {
        src->next = src->nrows = 0;
        if (src->npy) {
            src->nrows = fread(src->rows, item * src->cols, CONVERT_BATCH, src->f);
            if (src->nrows == 0 && ferror(src->f))
                return smg_error_set(err, SMG_EIO, "%s: read failed", src->path);
        } else {
            rc = smg_row_reader_next(src->rr, (float *)src->rows, CONVERT_BATCH, &src->nrows, err);
            if (rc != SMG_OK)
                return rc;
        }
        if (src->nrows == 0)
            return SMG_OK;
    }
    uint8_t *r = src->rows + src->next * item * src->cols;
    src->next++;
    if (src->npy && src->hdr.dtype == SMG_NPY_I8) {
        int32_t *out = (int32_t *)r; /* narrow in place: out never overtakes the reader */
        for (size_t j = 0; j < src->cols; j++) {
            int64_t v;
            memcpy(&v, r + j * 8, 8);
            if (v < INT32_MIN || v > INT32_MAX)
                return smg_error_set(err, SMG_EFORMAT,
                                     "%s: value %lld in column %zu does not fit in an int32 "
                                     "(Int32Tensor)",
                                     src->path, (long long)v, j + 1);
            out[j] = (int32_t)v;
        }
    }
    *row = r;
    return SMG_OK;
}

static size_t type_size(enum smg_tensor_type t)
{
    return t == SMG_TENSOR_FLOAT64 ? 8 : 4;
}

static double item_value(enum smg_tensor_type t, const uint8_t *p)
{
    float f;
    double d;
    int32_t i;
    switch (t) {
    case SMG_TENSOR_FLOAT32: memcpy(&f, p, 4); return f;
    case SMG_TENSOR_FLOAT64: memcpy(&d, p, 8); return d;
    default: memcpy(&i, p, 4); return i;
    }
}

/* Encode one row (after any label) into rec. */
static int encode_row(const struct convert_opts *o, const struct source *src, const uint8_t *row,
                      struct smg_bytes *rec, uint8_t *nz_vals, uint64_t *nz_keys,
                      struct smg_error *err)
{
    size_t isz = type_size(src->type), nfeat = src->cols - o->label_size;
    const uint8_t *feat = row + o->label_size * isz;
    struct smg_label label, *lp = NULL;

    if (o->label_size == 1) {
        label.type = src->type;
        label.value = item_value(src->type, row);
        lp = &label;
    }
    if (!o->sparse)
        return smg_record_encode_dense(rec, src->type, feat, nfeat, lp, err);
    size_t nnz = 0;
    for (size_t j = 0; j < nfeat; j++) {
        if (item_value(src->type, feat + j * isz) != 0) {
            memcpy(nz_vals + nnz * isz, feat + j * isz, isz);
            nz_keys[nnz++] = j;
        }
    }
    return smg_record_encode_sparse(rec, src->type, nz_vals, nz_keys, nnz, nfeat, lp, err);
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int count_rows(struct source *src, size_t *rows, struct smg_error *err)
{
    const uint8_t *row;
    int rc;
    if (src->npy) {
        *rows = src->hdr.rows;
        return SMG_OK;
    }
    *rows = 0;
    while ((rc = source_next(src, &row, err)) == SMG_OK && row != NULL)
        (*rows)++;
    return rc;
}

/* The input must leave features after the label, as many as --feature-dim says. */
static int check_columns(const struct convert_opts *o, const struct source *src,
                         struct smg_error *err)
{
    if (src->cols <= o->label_size)
        return smg_error_set(err, SMG_EFORMAT, "%s: %zu columns leave no features after %zu label",
                             o->input, src->cols, o->label_size);
    if (o->feature_dim != 0 && src->cols - o->label_size != o->feature_dim)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s: %zu features per row (%zu columns, label size %zu), expected "
                             "%zu (--feature-dim)",
                             o->input, src->cols - o->label_size, src->cols, o->label_size,
                             o->feature_dim);
    return SMG_OK;
}

/* Where records go: one file, or OUT/matrix_<i>.pbr shard files. */
struct output {
    FILE *f;
    char path[4096]; /* of f, or of the file last opened */
    bool dir;
    size_t shards, shard, in_shard, shard_size, digits;
};

/*
 * For --shards N: count the rows (reading CSV once, then reopening it) and
 * size the shards as the SDK does; also the digits of the shard numbers.
 */
static int plan_shards(const struct convert_opts *o, struct source *src, struct output *w,
                       struct smg_error *err)
{
    size_t total = 0;
    int rc;

    w->shards = o->shards;
    w->digits = 1;
    if (o->shards <= 1)
        return SMG_OK;
    if ((rc = count_rows(src, &total, err)) != SMG_OK)
        return rc;
    if (!src->npy) {
        source_close(src);
        if ((rc = source_open(src, o->input, err)) != SMG_OK)
            return rc;
    }
    w->shard_size = total / o->shards;
    if (w->shard_size == 0)
        return smg_error_set(err, SMG_ECONFIG, "%s: %zu rows cannot fill %zu shards", o->input,
                             total, o->shards);
    for (size_t n = o->shards; n >= 10; n /= 10)
        w->digits++;
    return SMG_OK;
}

/* Before each row: open the first file, or close a full shard and open the next. */
static int output_ready(struct output *w, const char *output, struct smg_error *err)
{
    if (w->f != NULL && !(w->shard + 1 < w->shards && w->in_shard == w->shard_size))
        return SMG_OK;
    if (w->f != NULL) {
        bool failed = fclose(w->f) != 0;
        w->f = NULL;
        if (failed)
            return smg_error_set(err, SMG_EIO, "%s: write failed", w->path);
        w->shard++;
        w->in_shard = 0;
    }
    if (w->dir)
        snprintf(w->path, sizeof(w->path), "%s/matrix_%0*zu.pbr", output, (int)w->digits, w->shard);
    else
        snprintf(w->path, sizeof(w->path), "%s", output);
    if ((w->f = fopen(w->path, "wb")) == NULL)
        return smg_error_set(err, SMG_EIO, "%s: cannot create: %s", w->path, strerror(errno));
    return SMG_OK;
}

/* Scratch for encode_row: the record, and for --sparse the nonzero values and keys. */
struct encoder {
    struct smg_bytes rec;
    uint8_t *nz_vals;
    uint64_t *nz_keys;
};

static int encoder_init(struct encoder *e, bool sparse, size_t cols, struct smg_error *err)
{
    if (!sparse)
        return SMG_OK;
    e->nz_vals = smg_calloc(cols, 8);
    e->nz_keys = smg_calloc(cols, sizeof(uint64_t));
    if (e->nz_vals == NULL || e->nz_keys == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory");
    return SMG_OK;
}

static void encoder_free(struct encoder *e)
{
    smg_bytes_free(&e->rec);
    smg_free(e->nz_vals);
    smg_free(e->nz_keys);
}

/* Encode and write every row of src; *written counts them. */
static int write_rows(const struct convert_opts *o, struct source *src, struct output *w,
                      struct encoder *e, size_t *written, struct smg_error *err)
{
    for (;;) {
        const uint8_t *row;
        int rc;
        if ((rc = source_next(src, &row, err)) != SMG_OK || row == NULL)
            return rc;
        if ((rc = output_ready(w, o->output, err)) != SMG_OK)
            return rc;
        if ((rc = encode_row(o, src, row, &e->rec, e->nz_vals, e->nz_keys, err)) != SMG_OK ||
            (rc = smg_recordio_write(w->f, e->rec.data, e->rec.len, err)) != SMG_OK) {
            smg_error_prefix(err, "%s: ", w->path);
            return rc;
        }
        w->in_shard++;
        (*written)++;
    }
}

static int convert(const struct convert_opts *o, struct smg_error *err)
{
    struct source src;
    struct encoder enc = {0};
    struct output w = {0};
    size_t written = 0;
    int rc;

    memset(&src, 0, sizeof(src));
    src.o = o;
    w.dir = o->shards > 1 || is_dir(o->output);
    if ((rc = source_open(&src, o->input, err)) != SMG_OK ||
        (rc = check_columns(o, &src, err)) != SMG_OK ||
        (rc = plan_shards(o, &src, &w, err)) != SMG_OK)
        goto out;
    if (w.dir && mkdir(o->output, 0777) != 0 && errno != EEXIST) {
        rc = smg_error_set(err, SMG_EIO, "%s: cannot create directory: %s", o->output,
                           strerror(errno));
        goto out;
    }
    if ((rc = encoder_init(&enc, o->sparse, src.cols, err)) != SMG_OK ||
        (rc = write_rows(o, &src, &w, &enc, &written, err)) != SMG_OK)
        goto out;
    if (written == 0)
        rc = smg_error_set(err, SMG_EFORMAT, "%s: no rows", o->input);
    else if (src.npy && written != src.hdr.rows)
        rc = smg_error_set(err, SMG_EFORMAT, "%s: truncated .npy data: %zu of %zu rows", o->input,
                           written, src.hdr.rows);
out:
    if (w.f != NULL && fclose(w.f) != 0 && rc == SMG_OK)
        rc = smg_error_set(err, SMG_EIO, "%s: write failed", w.path);
    if (rc == SMG_OK && src.t != NULL && src.t->skipped > 0)
        fprintf(stderr,
                "smalgo convert: skipped %llu row(s) with empty or non-numeric cells "
                "(first: %s)\n",
                (unsigned long long)src.t->skipped, src.t->first_bad);
    if (rc == SMG_OK)
        fprintf(stderr, "smalgo convert: %zu rows of %zu features -> %s%s\n", written,
                src.cols - o->label_size, o->output, w.dir ? "/" : "");
    source_close(&src);
    encoder_free(&enc);
    return rc;
}

int smg_cmd_convert(int argc, char **argv)
{
    struct convert_opts o;
    struct smg_error err;
    int rc = parse_args(argc, argv, &o);

    if (rc != 0)
        return rc > 0 ? 0 : 2;
    smg_error_clear(&err);
    if (convert(&o, &err) != SMG_OK) {
        fprintf(stderr, "smalgo convert: %s\n", err.msg);
        return 1;
    }
    return 0;
}

/*
 * `smalgo records`: decode training data the way a training job would and
 * print it, the first thing to run when SageMaker says the data is bad.
 *
 *   smalgo records PATH... [--content-type T] [--feature-dim D] [--label-size N]
 *                  [--recordio-wrapped] [--stats] [--timeout SEC]
 *   smalgo records --pipe-channel DIR/NAME --feature-dim D [--epochs N] [--first-epoch E]
 *                  [--batch-rows B] [--max-batches K] [--stats] [...]
 *
 * PATH is a file, a folder (its files in channel order: recursive, sorted,
 * hidden skipped) or a FIFO (waited for up to --timeout seconds, default 300).
 * Gzip is detected by magic. Rows are printed as CSV with %.9g (enough digits
 * to round-trip a float32); --stats prints the row count and, per column, the
 * mean (accumulated in double), min and max instead.
 *
 * When --feature-dim is not given it is inferred from the first record of the
 * first PATH (io/records_probe.h): CSV fields minus label_size, or the length (or
 * sparse shape) of the first protobuf record's "values" tensor. FIFOs cannot
 * be probed and need --feature-dim.
 *
 * --pipe-channel reads a Pipe-mode channel through the real channel code
 * (channel.h): epoch e is the FIFO DIR/NAME_e, read by the background thread
 * into batches of --batch-rows rows; --max-batches K closes each epoch early
 * after K batches. Each epoch prints "epoch E: R records" on stderr.
 *
 * Exit status: 0 ok, 1 bad data or I/O error (message on stderr), 2 usage.
 */
#include <errno.h>
#include <float.h>
#include <libgen.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/base/alloc.h"
#include "io/channel.h"
#include "io/fifo.h"
#include "io/file_list.h"
#include "io/gzip.h"
#include "io/records_probe.h"
#include "io/rows.h"
#include "runtime/cli_number.h"
#include "runtime/commands.h"
#include "runtime/signals.h"

#define CHUNK_ROWS 1024

static volatile sig_atomic_t records_stop;

struct sink {
    bool stats;
    size_t dim;
    uint64_t rows;
    double *sum, *min, *max;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: smalgo records PATH... [options]\n"
            "       smalgo records --pipe-channel DIR/NAME --feature-dim D [options]\n"
            "  --content-type T     application/x-recordio-protobuf (default) or text/csv\n"
            "  --feature-dim D      features per row (default: inferred from the first record)\n"
            "  --label-size N       CSV: leading label columns to drop (default 0)\n"
            "  --recordio-wrapped   CSV objects inside RecordIO records\n"
            "  --stats              print counts, means, min and max instead of rows\n"
            "  --timeout SEC        how long to wait for a FIFO (default 300)\n"
            "  --epochs N           --pipe-channel: epochs to read (default 1)\n"
            "  --first-epoch E      --pipe-channel: start at FIFO NAME_E (default 0)\n"
            "  --batch-rows B       --pipe-channel: mini-batch rows (default 1000)\n"
            "  --max-batches K      --pipe-channel: close each epoch early after K batches\n");
}

static bool parse_size(const char *s, size_t lo, size_t *out)
{
    uint64_t v;

    if (!smg_cli_parse_u64(s, lo, SIZE_MAX / 8, &v))
        return false;
    *out = (size_t)v;
    return true;
}

static void consume(struct sink *k, const float *x, size_t rows)
{
    for (size_t r = 0; r < rows; r++, x += k->dim) {
        if (k->stats) {
            for (size_t c = 0; c < k->dim; c++) {
                double v = x[c];
                k->sum[c] += v;
                if (v < k->min[c])
                    k->min[c] = v;
                if (v > k->max[c])
                    k->max[c] = v;
            }
        } else {
            for (size_t c = 0; c < k->dim; c++)
                printf(c ? ",%.9g" : "%.9g", (double)x[c]);
            putchar('\n');
        }
    }
    k->rows += rows;
}

static void print_stats(const struct sink *k)
{
    printf("records: %ju\nfeatures: %zu\ncolumn,mean,min,max\n", (uintmax_t)k->rows, k->dim);
    for (size_t c = 0; c < k->dim && k->rows > 0; c++)
        printf("%zu,%.9g,%.9g,%.9g\n", c, k->sum[c] / (double)k->rows, k->min[c], k->max[c]);
}

/* Decode one stream (owned) into the sink. */
static int read_stream(struct smg_stream *raw, const struct smg_format *fmt, struct sink *k,
                       float *buf, struct smg_error *err)
{
    struct smg_stream *s = NULL;
    struct smg_row_reader *r = NULL;
    int rc = smg_gzip_detect(raw, &s, NULL, err);

    if (rc == SMG_OK)
        rc = smg_row_reader_new(s, fmt, &r, err);
    while (rc == SMG_OK) {
        size_t got = 0;
        if (records_stop) {
            rc = smg_error_set(err, SMG_ESTOPPED, "stopped");
            break;
        }
        if ((rc = smg_row_reader_next(r, buf, CHUNK_ROWS, &got, err)) != SMG_OK || got == 0)
            break;
        consume(k, buf, got);
    }
    smg_row_reader_free(r);
    smg_stream_free(s);
    return rc;
}

static int read_path(const char *path, const struct smg_format *fmt, int timeout_ms, struct sink *k,
                     float *buf, struct smg_error *err)
{
    struct stat st;
    int rc = SMG_OK;

    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        struct smg_file_list files;
        if ((rc = smg_file_list_scan(path, &files, err)) != SMG_OK)
            return rc;
        for (size_t i = 0; i < files.count && rc == SMG_OK; i++) {
            struct smg_stream *s;
            if ((rc = smg_file_open_sequential(files.paths[i], &s, err)) == SMG_OK)
                rc = read_stream(s, fmt, k, buf, err);
        }
        smg_file_list_clear(&files);
        return rc;
    }
    struct smg_fifo_opts o = {timeout_ms, &records_stop, NULL, NULL, 0};
    struct smg_stream *s;
    if ((rc = smg_fifo_open(path, &o, &s, err)) != SMG_OK)
        return rc;
    return read_stream(s, fmt, k, buf, err);
}

static int read_pipe_channel(char *spec, const struct smg_format *fmt, int timeout_ms,
                             unsigned first, unsigned epochs, size_t batch_rows, size_t max_batches,
                             struct sink *k, struct smg_error *err)
{
    char *dup = smg_strdup(spec), *dup2 = smg_strdup(spec);
    struct smg_channel_config cfg = {0};
    struct smg_channel *ch = NULL;
    int rc = SMG_OK;

    if (dup == NULL || dup2 == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "out of memory");
        goto out;
    }
    cfg.name = basename(dup);
    cfg.data_dir = dirname(dup2);
    cfg.mode = SMG_MODE_PIPE;
    cfg.format = *fmt;
    cfg.batch_rows = batch_rows;
    cfg.pipe_timeout_ms = timeout_ms;
    cfg.ranks_on_host = 1;
    cfg.stop = &records_stop;
    if ((rc = smg_channel_open(&cfg, &ch, err)) != SMG_OK)
        goto out;
    for (unsigned e = first; e - first < epochs && rc == SMG_OK; e++) {
        struct smg_batch b;
        size_t n = 0;
        if ((rc = smg_channel_begin_epoch(ch, e, err)) != SMG_OK)
            break;
        while ((max_batches == 0 || n < max_batches) &&
               (rc = smg_channel_next_batch(ch, &b, err)) == SMG_OK) {
            consume(k, b.x, b.rows);
            n++;
        }
        if (rc == SMG_EEOF || rc == SMG_OK) {
            rc = SMG_OK;
            fprintf(stderr, "epoch %u: %ju records%s\n", e, (uintmax_t)smg_channel_records(ch),
                    max_batches && n == max_batches ? " (closed early)" : "");
        }
        smg_channel_end_epoch(ch);
    }
out:
    smg_channel_free(ch);
    smg_free(dup);
    smg_free(dup2);
    return rc;
}

struct records_opts {
    struct smg_format fmt; /* recordio_wrapped only, until resolve_format */
    bool stats, have_label;
    const char *ctype;
    char *pipe_channel;
    size_t dim, label_size, epochs, first, batch_rows, max_batches, tmo;
    char **paths; /* npaths of argv's, the array owned */
    int npaths;
};

/* One option that takes a value val (not NULL); false if a or val is bad. */
static bool parse_valued(struct records_opts *o, const char *a, char *val)
{
    if (strcmp(a, "--content-type") == 0) {
        o->ctype = val;
        return true;
    }
    if (strcmp(a, "--feature-dim") == 0)
        return parse_size(val, 1, &o->dim);
    if (strcmp(a, "--label-size") == 0) {
        o->have_label = true;
        return parse_size(val, 0, &o->label_size);
    }
    if (strcmp(a, "--timeout") == 0)
        return parse_size(val, 0, &o->tmo) && o->tmo < 1000000;
    if (strcmp(a, "--pipe-channel") == 0) {
        o->pipe_channel = val;
        return true;
    }
    if (strcmp(a, "--epochs") == 0)
        return parse_size(val, 1, &o->epochs) && o->epochs < 1000000;
    if (strcmp(a, "--first-epoch") == 0)
        return parse_size(val, 0, &o->first) && o->first < 1000000;
    if (strcmp(a, "--batch-rows") == 0)
        return parse_size(val, 1, &o->batch_rows);
    if (strcmp(a, "--max-batches") == 0)
        return parse_size(val, 0, &o->max_batches);
    return false;
}

/* Parse argv into o: -1 to go on, else the exit status (0 after --help, 2 on misuse). */
static int parse_args(int argc, char **argv, struct records_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--stats") == 0) {
            o->stats = true;
        } else if (strcmp(a, "--recordio-wrapped") == 0) {
            o->fmt.recordio_wrapped = true;
        } else if (strncmp(a, "--", 2) != 0) {
            o->paths[o->npaths++] = argv[i];
        } else if (val == NULL || !parse_valued(o, a, val)) {
            fprintf(stderr, "smalgo records: bad or incomplete option %s\n", a);
            usage(stderr);
            return 2;
        } else {
            i++;
        }
    }
    if ((o->npaths == 0) == (o->pipe_channel == NULL)) {
        fprintf(stderr, "smalgo records: give PATHs or --pipe-channel (one of the two)\n");
        usage(stderr);
        return 2;
    }
    return -1;
}

/* Fill o->fmt from the options, probing the first PATH for the feature count if not given. */
static int resolve_format(struct records_opts *o, struct smg_error *err)
{
    int rc;

    if ((rc = smg_format_parse_content_type(o->ctype, &o->fmt, err)) != SMG_OK)
        return rc;
    if (o->have_label)
        o->fmt.label_size = o->label_size;
    if (o->dim == 0 && o->pipe_channel != NULL)
        return smg_error_set(err, SMG_ECONFIG, "--pipe-channel needs --feature-dim");
    if (o->dim == 0 && (rc = smg_records_probe_dim(o->paths[0], &o->fmt, &o->dim, err)) != SMG_OK)
        return rc;
    o->fmt.feature_dim = o->dim;
    return SMG_OK;
}

/* Size the sink for dim columns (min/max start at +/-inf) and a chunk buffer *buf. */
static int sink_init(struct sink *k, size_t dim, float **buf, struct smg_error *err)
{
    k->dim = dim;
    if ((k->sum = smg_calloc(dim, sizeof(double))) == NULL ||
        (k->min = smg_calloc(dim, sizeof(double))) == NULL ||
        (k->max = smg_calloc(dim, sizeof(double))) == NULL ||
        (*buf = smg_calloc(dim * CHUNK_ROWS, sizeof(float))) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory");
    for (size_t c = 0; c < dim; c++) {
        k->min[c] = HUGE_VAL;
        k->max[c] = -HUGE_VAL;
    }
    return SMG_OK;
}

/* Read the pipe channel or every PATH into the sink, then print stats if asked. */
static int read_all(const struct records_opts *o, struct sink *k, float *buf, struct smg_error *err)
{
    int timeout_ms = (int)o->tmo * 1000, rc = SMG_OK;

    if (o->pipe_channel != NULL)
        rc = read_pipe_channel(o->pipe_channel, &o->fmt, timeout_ms, (unsigned)o->first,
                               (unsigned)o->epochs, o->batch_rows, o->max_batches, k, err);
    for (int i = 0; i < o->npaths && rc == SMG_OK; i++)
        rc = read_path(o->paths[i], &o->fmt, timeout_ms, k, buf, err);
    if (rc == SMG_OK && k->stats)
        print_stats(k);
    return rc;
}

int smg_cmd_records(int argc, char **argv)
{
    struct records_opts o = {.epochs = 1, .batch_rows = 1000, .tmo = 300};
    struct smg_error err;
    struct sink k = {0};
    float *buf = NULL;
    int rc;

    if ((o.paths = smg_calloc((size_t)argc + 1, sizeof(char *))) == NULL)
        return 1;
    if ((rc = parse_args(argc, argv, &o)) >= 0) {
        smg_free(o.paths);
        return rc;
    }
    smg_signals_catch_stop(&records_stop); /* stop reading at the next chunk */
    smg_error_clear(&err);
    k.stats = o.stats;
    if ((rc = resolve_format(&o, &err)) == SMG_OK &&
        (rc = sink_init(&k, o.dim, &buf, &err)) == SMG_OK)
        rc = read_all(&o, &k, buf, &err);
    fflush(stdout);
    if (rc != SMG_OK)
        fprintf(stderr, "smalgo records: %s\n", err.msg);
    smg_free(k.sum);
    smg_free(k.min);
    smg_free(k.max);
    smg_free(buf);
    smg_free(o.paths);
    return rc == SMG_OK ? 0 : 1;
}

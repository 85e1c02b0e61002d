/*
 * The channel: sources (File/FastFile file lists or one Pipe-mode FIFO per
 * epoch) decoded into mini-batches by a background producer thread.
 *
 * Each epoch runs one producer thread. It walks the epoch's sources (the
 * rank's share of the files, in path order, or the FIFO <data_dir>/<name>_<N>),
 * puts each through gzip detection (gzip.h) and a row reader (rows.h), and
 * decodes rows straight into a ring of QUEUE_SLOTS batch buffers of
 * batch_rows x feature_dim floats. Batches run across file boundaries, so every
 * batch has exactly batch_rows rows except the epoch's last.
 *
 * Parallel decode (decode_threads > 1, dense batches of recordIO-protobuf or
 * plain CSV): the producer only frames rows (smg_row_reader_frame: the rows
 * the reader has buffered, up to the batch's end, found in place without a
 * copy), then decodes them on the batch decoder's threads, itself one of
 * them (batch_decode.h), straight into their rows of the slot, before it
 * reads on. Rows are decoded in stream order, chunk by chunk, so the first
 * bad row is reported as on one thread, and a batch is published whole.
 * Sparse (CSR) batches and CSV wrapped in RecordIO records are decoded by
 * the producer alone. With the job's pool (cfg.pool) and decode_threads equal
 * to its size, the decoding runs on that pool: the one set of workers goes to
 * decoding or to training, whichever has a CPU free (pool.h). The producer
 * counts itself busy on the pool from its start to its end except while it
 * waits for a free slot; the consumer stops counting while it waits for a
 * batch. When more threads than the pool's size are busy (a pool of one:
 * the trainer runs), the producer waits for a CPU each time it takes a free
 * slot (smg_pool_wait_cpu), so on one CPU the reader and the trainer take
 * turns a batch at a time instead of sharing the CPU.
 *
 * Sparse channels (accept_csr): the first record the channel reads settles its
 * layout for good. A sparse recordIO-protobuf tensor makes every slot a
 * growable CSR buffer (csr_buf.h), so memory follows the non-zeros; anything
 * else allocates the dense buffers then, as without accept_csr, unless they
 * exceed max_dense_bytes (the job's memory check could not count them).
 *
 * The ring: `head` is the oldest filled slot, `count` the filled slots
 * including the one the consumer currently holds (`held`), which is released
 * on its next call; the producer fills slot (head + count) % QUEUE_SLOTS when
 * count < QUEUE_SLOTS. So the consumer computes on one batch while the
 * producer decodes up to QUEUE_SLOTS - 1 ahead, and memory stays at
 * QUEUE_SLOTS batches whatever the data size.
 *
 * Errors: the producer stops at its first error and parks it; the consumer
 * drains the batches decoded before it, then gets the error with its message.
 * Stopping: the stop flag (SIGTERM) is checked by the consumer at every batch
 * (and every 100 ms while it waits) and by the producer between reads;
 * end_epoch sets a cancel flag that the producer and the FIFO reads (fifo.h)
 * notice within one 50 ms poll tick, then joins the thread and closes the
 * FIFO, which a writer blocked on a full pipe sees as EPIPE.
 *
 * The configured CompressionType is not needed to read: in Pipe mode with
 * Gzip, SageMaker inflates before writing to the FIFO, and gzip bytes that do
 * arrive (a .gz object under None, or File mode) are recognised by magic.
 */
#include "io/channel.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "io/base/alloc.h"
#include "io/batch_decode.h"
#include "io/csr_buf.h"
#include "io/fifo.h"
#include "io/file_list.h"
#include "io/gzip.h"

#define QUEUE_SLOTS  3
#define WAIT_TICK_NS (100 * 1000000L)

struct slot {
    float *x;               /* dense rows (allocated when the channel reads dense) */
    struct smg_csr_buf csr; /* CSR rows (when it reads sparse) */
    bool is_csr;            /* which of the two holds this batch */
    size_t rows;
    uint64_t first_record;
};

/* Dense or CSR: decided once per channel, by the first record it reads (accept_csr). */
enum layout { LAYOUT_UNDECIDED = 0, LAYOUT_DENSE, LAYOUT_CSR };

struct smg_channel {
    struct smg_channel_config cfg; /* name and data_dir point at our copies */
    char *name;
    char *data_dir;
    struct smg_file_list files;
    size_t dim;
    struct slot slots[QUEUE_SLOTS];
    enum layout layout; /* written by the producer only */
    /* Parallel decode (decode_threads > 1, dense layout, a format that frames). */
    struct smg_batch_decoder *decoder; /* created by the producer with the layout */
    struct smg_row_spans spans;        /* the current batch's framed rows (producer only) */

    /* The current epoch. */
    bool in_epoch;
    bool thread_started;
    uint64_t epoch;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t head, count;
    bool held;
    bool done;       /* producer finished (EOF or error) */
    int producer_rc; /* SMG_OK or the producer's error */
    struct smg_error producer_err;
    atomic_bool cancel;
    uint64_t produced;  /* rows published (producer only) */
    uint64_t delivered; /* rows handed to the consumer */
    _Atomic uint64_t bytes;
    double producer_cpu_s; /* CPU time of the producer threads of all epochs, under mu */
    double read_s;         /* producer wall time in source reads, all epochs, under mu */
    double wait_s;         /* consumer time blocked in next_batch, all epochs */
};

static bool stopped(const struct smg_channel *ch)
{
    return ch->cfg.stop != NULL && *ch->cfg.stop;
}

/* Producer: wait for a free slot (its CSR rows cleared); NULL when cancelled. */
static struct slot *acquire_slot(struct smg_channel *ch)
{
    struct slot *s = NULL;

    pthread_mutex_lock(&ch->mu);
    if (ch->count == QUEUE_SLOTS && !atomic_load(&ch->cancel)) {
        smg_pool_leave(ch->cfg.pool); /* the CPU is free while we wait */
        while (ch->count == QUEUE_SLOTS && !atomic_load(&ch->cancel))
            pthread_cond_wait(&ch->cv, &ch->mu);
        smg_pool_enter(ch->cfg.pool);
    }
    if (!atomic_load(&ch->cancel))
        s = &ch->slots[(ch->head + ch->count) % QUEUE_SLOTS];
    pthread_mutex_unlock(&ch->mu);
    smg_pool_wait_cpu(ch->cfg.pool); /* over the CPUs (the trainer runs): take turns */
    if (atomic_load(&ch->cancel))
        s = NULL;
    if (s != NULL)
        smg_csr_buf_clear(&s->csr);
    return s;
}

static void publish(struct smg_channel *ch, size_t rows)
{
    pthread_mutex_lock(&ch->mu);
    struct slot *s = &ch->slots[(ch->head + ch->count) % QUEUE_SLOTS];
    s->is_csr = ch->layout == LAYOUT_CSR;
    s->rows = rows;
    s->first_record = ch->produced;
    ch->produced += rows;
    ch->count++;
    pthread_cond_broadcast(&ch->cv);
    pthread_mutex_unlock(&ch->mu);
}

/* CPU seconds of the calling thread. */
static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void finish(struct smg_channel *ch, int rc, const struct smg_error *err, double read_s)
{
    double cpu = thread_cpu_s();
    smg_pool_leave(ch->cfg.pool);
    pthread_mutex_lock(&ch->mu);
    ch->producer_cpu_s += cpu;
    ch->read_s += read_s;
    ch->producer_rc = rc;
    if (rc != SMG_OK && err != NULL)
        ch->producer_err = *err;
    ch->done = true;
    pthread_cond_broadcast(&ch->cv);
    pthread_mutex_unlock(&ch->mu);
}

/*
 * Open source i of this epoch (a file, or the epoch's FIFO), gzip-detected.
 * *raw is the file or FIFO stream under *out (owned by *out), for its read time.
 */
static int open_source(struct smg_channel *ch, size_t i, struct smg_stream **out,
                       struct smg_stream **raw_out, struct smg_error *err)
{
    struct smg_stream *raw = NULL;
    int rc;

    if (ch->cfg.mode == SMG_MODE_PIPE) {
        char path[4096], context[256];
        struct smg_fifo_opts o;
        int n = snprintf(path, sizeof(path), "%s/%s_%" PRIu64, ch->data_dir, ch->name, ch->epoch);
        if (n < 0 || (size_t)n >= sizeof(path))
            return smg_error_set(err, SMG_ECONFIG, "FIFO path too long for channel %s", ch->name);
        snprintf(context, sizeof(context), "channel %s, epoch %" PRIu64, ch->name, ch->epoch);
        o.timeout_ms =
            ch->cfg.pipe_timeout_ms > 0 ? ch->cfg.pipe_timeout_ms : SMG_DEFAULT_PIPE_TIMEOUT_MS;
        o.stop = ch->cfg.stop;
        o.cancel = &ch->cancel;
        o.context = context;
        o.stall_ms = ch->cfg.pipe_stall_ms > 0 ? ch->cfg.pipe_stall_ms : SMG_DEFAULT_PIPE_STALL_MS;
        rc = smg_fifo_open(path, &o, &raw, err);
    } else {
        rc = smg_file_open_sequential(ch->files.paths[i], &raw, err);
    }
    if (rc != SMG_OK)
        return rc;
    if ((rc = smg_gzip_detect(raw, out, NULL, err)) == SMG_OK)
        *raw_out = raw;
    return rc;
}

/*
 * The ring's dense buffers, batch_rows x feature_dim floats each, unless already
 * there; SMG_ECONFIG when they exceed the caller's max_dense_bytes.
 */
static int alloc_dense_slots(struct smg_channel *ch, struct smg_error *err)
{
    size_t bytes = ch->cfg.batch_rows * ch->dim * sizeof(float); /* checked by open */
    double ring = (double)QUEUE_SLOTS * (double)bytes;

    if (ch->cfg.max_dense_bytes > 0.0 && ring > ch->cfg.max_dense_bytes && ch->slots[0].x == NULL)
        return smg_error_set(err, SMG_ECONFIG,
                             "its records are dense, so its %d batch buffers of mini_batch_size "
                             "x feature_dim floats need %.3g GiB, but only %.3g GiB of the memory "
                             "this machine allows is left for them; lower mini_batch_size",
                             QUEUE_SLOTS, ring / 1073741824.0,
                             ch->cfg.max_dense_bytes / 1073741824.0);

    for (size_t i = 0; i < QUEUE_SLOTS; i++)
        if (ch->slots[i].x == NULL && (ch->slots[i].x = smg_malloc(bytes)) == NULL)
            return smg_error_set(err, SMG_ENOMEM,
                                 "out of memory for channel %s batch buffers (%d x %zu bytes)",
                                 ch->name, QUEUE_SLOTS, bytes);
    return SMG_OK;
}

static int alloc_csr_slots(struct smg_channel *ch, struct smg_error *err)
{
    for (size_t i = 0; i < QUEUE_SLOTS; i++)
        if (ch->slots[i].csr.indptr == NULL &&
            smg_csr_buf_init(&ch->slots[i].csr, ch->cfg.batch_rows, err) != SMG_OK)
            return SMG_ENOMEM;
    return SMG_OK;
}

/*
 * Settle the channel's layout on the first record it reads: CSR when the
 * caller accepts CSR and that record is a sparse recordIO-protobuf tensor,
 * else dense. An empty source leaves it undecided for the next one.
 */
static int decide_layout(struct smg_channel *ch, struct smg_row_reader *r, struct smg_error *err)
{
    bool sparse = false, empty = false;
    int rc;

    if (ch->layout != LAYOUT_UNDECIDED)
        return SMG_OK;
    if (ch->cfg.accept_csr && !ch->cfg.format.recordio_wrapped && ch->dim <= UINT32_MAX) {
        if ((rc = smg_row_reader_peek_sparse(r, &sparse, &empty, err)) != SMG_OK || empty)
            return rc;
    }
    if (sparse && (rc = alloc_csr_slots(ch, err)) == SMG_OK)
        ch->layout = LAYOUT_CSR;
    else if (!sparse && (rc = alloc_dense_slots(ch, err)) == SMG_OK)
        ch->layout = LAYOUT_DENSE;
    if (rc == SMG_OK && ch->layout == LAYOUT_DENSE && ch->cfg.decode_threads > 1 &&
        smg_row_reader_can_frame(r)) {
        struct smg_batch_decoder *d = NULL;
        struct smg_pool *shared =
            ch->cfg.decode_threads == smg_pool_size(ch->cfg.pool) ? ch->cfg.pool : NULL;
        if ((rc = smg_batch_decoder_new(ch->cfg.decode_threads, shared, &d, err)) == SMG_OK) {
            pthread_mutex_lock(&ch->mu); /* smg_channel_stats reads it */
            ch->decoder = d;
            pthread_mutex_unlock(&ch->mu);
        }
    }
    return rc;
}

/*
 * Parallel decode: frame up to `want` rows and decode them on the decoder's
 * threads into out (their rows of the slot), before the reader moves on.
 */
static int frame_and_decode(struct smg_channel *ch, struct smg_row_reader *r, float *out,
                            size_t want, size_t *got, struct smg_error *err)
{
    int rc = smg_row_reader_frame(r, &ch->spans, want, got, err);

    if (rc == SMG_OK && ch->spans.count > 0)
        rc = smg_batch_decode_run(ch->decoder, &ch->spans, out, err);
    smg_row_spans_clear(&ch->spans);
    return rc;
}

/* Decode up to batch - filled rows into slot cur, in the channel's layout. */
static int read_rows(struct smg_channel *ch, struct smg_row_reader *r, struct slot *cur,
                     size_t filled, size_t *got, struct smg_error *err)
{
    size_t want = ch->cfg.batch_rows - filled;

    *got = 0;
    if (ch->layout == LAYOUT_UNDECIDED)
        return SMG_OK; /* an empty source */
    if (ch->layout == LAYOUT_CSR)
        return smg_row_reader_next_csr(r, &cur->csr, want, got, err);
    if (ch->decoder != NULL)
        return frame_and_decode(ch, r, cur->x + filled * ch->dim, want, got, err);
    return smg_row_reader_next(r, cur->x + filled * ch->dim, want, got, err);
}

/* Where the producer is: the batch slot it fills and how many rows it holds. */
struct fill {
    struct slot *cur;
    size_t filled;
    uint64_t bytes_done; /* bytes of the sources finished this epoch */
    double read_s;       /* wall seconds in their reads */
};

/* Read source i into batches, publishing every full one. */
static int read_source(struct smg_channel *ch, size_t i, struct fill *f, struct smg_error *err)
{
    struct smg_stream *s = NULL, *raw = NULL;
    struct smg_row_reader *r = NULL;
    int rc;

    if ((rc = open_source(ch, i, &s, &raw, err)) == SMG_OK)
        rc = smg_row_reader_new(s, &ch->cfg.format, &r, err);
    if (rc == SMG_OK)
        rc = decide_layout(ch, r, err);
    while (rc == SMG_OK) {
        size_t got = 0;
        if (stopped(ch)) {
            rc = smg_error_set(err, SMG_ESTOPPED, "channel %s: stopped", ch->name);
            break;
        }
        rc = read_rows(ch, r, f->cur, f->filled, &got, err);
        if (rc != SMG_OK || got == 0)
            break;
        f->filled += got;
        atomic_store(&ch->bytes, f->bytes_done + smg_stream_offset(s));
        if (f->filled == ch->cfg.batch_rows) {
            publish(ch, f->filled);
            f->filled = 0;
            if ((f->cur = acquire_slot(ch)) == NULL) {
                rc = SMG_ESTOPPED; /* cancelled by end_epoch: nobody is listening */
                break;
            }
        }
    }
    if (s != NULL)
        f->bytes_done += smg_stream_offset(s);
    if (raw != NULL)
        f->read_s += smg_stream_read_seconds(raw);
    atomic_store(&ch->bytes, f->bytes_done);
    smg_row_reader_free(r);
    smg_stream_free(s);
    return rc;
}

static void *producer_main(void *arg)
{
    struct smg_channel *ch = arg;
    size_t nsources = ch->cfg.mode == SMG_MODE_PIPE ? 1 : ch->files.count;
    struct fill f = {NULL, 0, 0, 0.0};
    struct smg_error err;
    int rc = SMG_OK;

    smg_error_clear(&err);
    smg_pool_enter(ch->cfg.pool);
    if ((f.cur = acquire_slot(ch)) == NULL)
        goto out;
    for (size_t i = 0; i < nsources && rc == SMG_OK; i++)
        rc = read_source(ch, i, &f, &err);
    if (rc == SMG_OK && f.filled > 0)
        publish(ch, f.filled);
out:
    if (rc != SMG_OK && rc != SMG_ESTOPPED && rc != SMG_ETIMEOUT)
        smg_error_prefix(&err, "channel %s: ", ch->name);
    finish(ch, rc, &err, f.read_s);
    return NULL;
}

static int config_error(struct smg_error *err, const char *what, const char *name)
{
    return smg_error_set(err, SMG_ECONFIG, "channel %s: %s", name != NULL ? name : "?", what);
}

enum smg_status smg_channel_open(const struct smg_channel_config *cfg, struct smg_channel **out,
                                 struct smg_error *err)
{
    struct smg_channel *ch = NULL;
    size_t floats, bytes;
    int rc = SMG_OK;

    *out = NULL;
    if (cfg->name == NULL || cfg->name[0] == '\0' || cfg->data_dir == NULL)
        return config_error(err, "a channel needs a name and a data folder", cfg->name);
    if (cfg->batch_rows == 0)
        return config_error(err, "mini-batch size must be at least 1", cfg->name);
    if (cfg->format.feature_dim == 0)
        return config_error(err, "feature_dim must be at least 1", cfg->name);
    if (!smg_mul_size(cfg->batch_rows, cfg->format.feature_dim, &floats) ||
        !smg_mul_size(floats, sizeof(float), &bytes))
        return config_error(err, "mini-batch size x feature_dim overflows", cfg->name);
    if (cfg->ranks_on_host > 1 &&
        (cfg->rank_on_host < 0 || cfg->rank_on_host >= cfg->ranks_on_host))
        return config_error(err, "rank_on_host must be in [0, ranks_on_host)", cfg->name);
    if (cfg->ranks_on_host > 1 && cfg->mode == SMG_MODE_PIPE)
        return config_error(err,
                            "Pipe mode: a FIFO can be read by one process only; run one rank "
                            "per host (or use File mode)",
                            cfg->name);
    if ((ch = smg_calloc(1, sizeof(*ch))) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory opening channel %s", cfg->name);
    ch->cfg = *cfg;
    ch->dim = cfg->format.feature_dim;
    smg_row_spans_init(&ch->spans, &cfg->format);
    atomic_init(&ch->cancel, false);
    atomic_init(&ch->bytes, 0);
    pthread_mutex_init(&ch->mu, NULL);
    pthread_cond_init(&ch->cv, NULL);
    if ((ch->name = smg_strdup(cfg->name)) == NULL ||
        (ch->data_dir = smg_strdup(cfg->data_dir)) == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "out of memory opening channel %s", cfg->name);
        goto out;
    }
    ch->cfg.name = ch->name;
    ch->cfg.data_dir = ch->data_dir;
    if (!cfg->accept_csr && (rc = alloc_dense_slots(ch, err)) != SMG_OK)
        goto out; /* else allocated once the layout is known */
    if (cfg->mode != SMG_MODE_PIPE) {
        char folder[4096];
        int n = snprintf(folder, sizeof(folder), "%s/%s", cfg->data_dir, cfg->name);
        if (n < 0 || (size_t)n >= sizeof(folder)) {
            rc = config_error(err, "folder path too long", cfg->name);
            goto out;
        }
        if ((rc = smg_file_list_scan(folder, &ch->files, err)) != SMG_OK) {
            smg_error_prefix(err, "channel %s: ", cfg->name);
            goto out;
        }
        smg_file_list_split(&ch->files, cfg->rank_on_host, cfg->ranks_on_host);
    }
out:
    if (rc != SMG_OK) {
        smg_channel_free(ch);
        return rc;
    }
    *out = ch;
    return SMG_OK;
}

enum smg_status smg_channel_begin_epoch(struct smg_channel *ch, uint64_t epoch,
                                        struct smg_error *err)
{
    if (ch->in_epoch)
        smg_channel_end_epoch(ch);
    ch->epoch = epoch;
    ch->head = ch->count = 0;
    ch->held = false;
    ch->done = false;
    ch->producer_rc = SMG_OK;
    smg_error_clear(&ch->producer_err);
    ch->produced = ch->delivered = 0;
    atomic_store(&ch->bytes, 0);
    atomic_store(&ch->cancel, false);
    if (pthread_create(&ch->thread, NULL, producer_main, ch) != 0)
        return smg_error_set(err, SMG_EINTERNAL, "channel %s: cannot start reader thread: %s",
                             ch->name, strerror(errno));
    ch->thread_started = true;
    ch->in_epoch = true;
    return SMG_OK;
}

static int take_error(struct smg_channel *ch, struct smg_error *err)
{
    int rc = ch->producer_rc;

    if (ch->producer_err.status != SMG_OK)
        return smg_error_set_class(err, rc, ch->producer_err.klass, "%s", ch->producer_err.msg);
    return smg_error_set(err, rc, "channel %s: %s", ch->name, smg_status_str(rc));
}

enum smg_status smg_channel_next_batch(struct smg_channel *ch, struct smg_batch *batch,
                                       struct smg_error *err)
{
    int rc = SMG_OK;

    if (!ch->in_epoch)
        return smg_error_set(err, SMG_EINTERNAL, "channel %s: next_batch outside an epoch",
                             ch->name);
    pthread_mutex_lock(&ch->mu);
    if (ch->held) {
        ch->head = (ch->head + 1) % QUEUE_SLOTS;
        ch->count--;
        ch->held = false;
        pthread_cond_broadcast(&ch->cv);
    }
    for (double t0 = 0.0;;) {
        if (stopped(ch)) {
            if (t0 > 0.0)
                smg_pool_enter(ch->cfg.pool);
            rc = smg_error_set(err, SMG_ESTOPPED, "channel %s: stopped", ch->name);
            goto out;
        }
        if (ch->count > 0 || ch->done) {
            if (t0 > 0.0) {
                ch->wait_s += mono_s() - t0;
                smg_pool_enter(ch->cfg.pool);
            }
            break;
        }
        if (t0 == 0.0) {
            t0 = mono_s();
            smg_pool_leave(ch->cfg.pool); /* the CPU is free while we wait */
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += WAIT_TICK_NS;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&ch->cv, &ch->mu, &until);
    }
    if (ch->count > 0) {
        const struct slot *s = &ch->slots[ch->head];
        if (s->is_csr) {
            *batch = smg_csr_buf_batch(&s->csr, ch->dim, s->first_record);
        } else {
            memset(batch, 0, sizeof(*batch));
            batch->x = s->x;
            batch->rows = s->rows;
            batch->cols = ch->dim;
            batch->first_record = s->first_record;
        }
        ch->held = true;
        ch->delivered += s->rows;
    } else if (ch->producer_rc != SMG_OK) {
        rc = take_error(ch, err);
    } else if (ch->delivered == 0 && !ch->cfg.allow_empty) {
        if (ch->cfg.mode == SMG_MODE_PIPE)
            rc =
                smg_error_set(err, SMG_EFORMAT, "no records in channel %s (FIFO %s/%s_%" PRIu64 ")",
                              ch->name, ch->data_dir, ch->name, ch->epoch);
        else
            rc = smg_error_set(err, SMG_EFORMAT, "no records in channel %s (%zu files under %s/%s)",
                               ch->name, ch->files.count, ch->data_dir, ch->name);
    } else {
        rc = SMG_EEOF;
    }
out:
    pthread_mutex_unlock(&ch->mu);
    return rc;
}

void smg_channel_end_epoch(struct smg_channel *ch)
{
    if (ch == NULL || !ch->in_epoch)
        return;
    pthread_mutex_lock(&ch->mu);
    atomic_store(&ch->cancel, true);
    pthread_cond_broadcast(&ch->cv);
    pthread_mutex_unlock(&ch->mu);
    smg_pool_leave(ch->cfg.pool); /* a producer waiting for the CPU gets it and sees cancel */
    if (ch->thread_started)
        pthread_join(ch->thread, NULL);
    smg_pool_enter(ch->cfg.pool);
    ch->thread_started = false;
    ch->in_epoch = false;
}

uint64_t smg_channel_records(const struct smg_channel *ch)
{
    return ch->delivered;
}

void smg_channel_stats(struct smg_channel *ch, struct smg_channel_stats *out)
{
    pthread_mutex_lock(&ch->mu);
    out->read_s = ch->read_s;
    out->decode_cpu_s = ch->producer_cpu_s;
    out->wait_s = ch->wait_s;
    out->decode_threads = 1;
    if (ch->decoder != NULL) {
        out->decode_cpu_s += smg_batch_decoder_helper_cpu_s(ch->decoder);
        out->decode_threads = smg_batch_decoder_threads(ch->decoder);
    }
    pthread_mutex_unlock(&ch->mu);
}

uint64_t smg_channel_bytes(const struct smg_channel *ch)
{
    return atomic_load(&((struct smg_channel *)ch)->bytes);
}

const char *smg_channel_name(const struct smg_channel *ch)
{
    return ch->name;
}

void smg_channel_free(struct smg_channel *ch)
{
    if (ch == NULL)
        return;
    smg_channel_end_epoch(ch);
    for (size_t i = 0; i < QUEUE_SLOTS; i++) {
        smg_free(ch->slots[i].x);
        smg_csr_buf_free(&ch->slots[i].csr);
    }
    smg_batch_decoder_free(ch->decoder);
    smg_row_spans_free(&ch->spans);
    smg_file_list_clear(&ch->files);
    pthread_cond_destroy(&ch->cv);
    pthread_mutex_destroy(&ch->mu);
    smg_free(ch->name);
    smg_free(ch->data_dir);
    smg_free(ch);
}

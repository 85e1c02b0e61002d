/*
 * Parallel decoding of framed rows (contract: batch_decode.h).
 *
 * smg_pool_run splits [0, rows) into `parts` fixed contiguous ranges and
 * runs one part per call; part i keeps its status and message in slot i.
 * After the run the slots are read in part order and the first failure wins,
 * so the reported row is the earliest bad row of the batch whichever thread
 * got there first. Helper threads add the CPU time of each part they run
 * (CLOCK_THREAD_CPUTIME_ID around the part) to a counter, for the job's
 * stage split; the calling thread's share is in its own thread time.
 */
#include "io/batch_decode.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "io/base/alloc.h"
#include "io/base/pool.h"

struct part_result {
    int rc;
    struct smg_error err;
};

struct smg_batch_decoder {
    struct smg_pool *pool;
    bool owns_pool;
    unsigned threads;
    struct part_result *results; /* one per thread */
    _Atomic uint64_t helper_cpu_ns;
    /* the current run */
    const struct smg_row_spans *sp;
    float *out;
    pthread_t caller;
};

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum smg_status smg_batch_decoder_new(unsigned threads, struct smg_pool *shared,
                                      struct smg_batch_decoder **out, struct smg_error *err)
{
    struct smg_batch_decoder *d;
    int rc;

    *out = NULL;
    if (shared != NULL)
        threads = smg_pool_size(shared);
    if (threads < 1 || threads > SMG_POOL_MAX_WORKERS)
        return smg_error_set(err, SMG_ECONFIG, "batch decoder: %u threads; expected 1 to %d",
                             threads, SMG_POOL_MAX_WORKERS);
    if ((d = smg_calloc(1, sizeof(*d))) == NULL ||
        (d->results = smg_calloc(threads, sizeof(*d->results))) == NULL) {
        smg_free(d);
        return smg_error_set(err, SMG_ENOMEM, "out of memory for a %u-thread batch decoder",
                             threads);
    }
    d->threads = threads;
    atomic_init(&d->helper_cpu_ns, 0);
    if (shared != NULL) {
        d->pool = shared;
    } else if (threads > 1) {
        d->owns_pool = true;
        if ((rc = smg_pool_new(threads, &d->pool, err)) != SMG_OK) {
            smg_batch_decoder_free(d);
            return (enum smg_status)rc;
        }
    }
    *out = d;
    return SMG_OK;
}

static void decode_part(void *ctx, size_t part, size_t begin, size_t end)
{
    struct smg_batch_decoder *d = ctx;
    struct part_result *res = &d->results[part];
    bool helper = !pthread_equal(pthread_self(), d->caller);
    uint64_t t0 = helper ? thread_cpu_ns() : 0;
    size_t bad = 0;

    smg_error_clear(&res->err);
    res->rc = smg_row_spans_decode(d->sp, begin, end, d->out, &bad, &res->err);
    if (helper)
        atomic_fetch_add(&d->helper_cpu_ns, thread_cpu_ns() - t0);
}

enum smg_status smg_batch_decode_run(struct smg_batch_decoder *d, const struct smg_row_spans *sp,
                                     float *out, struct smg_error *err)
{
    size_t floats = sp->count * sp->feature_dim; /* fits: the rows' buffer holds as many */
    size_t parts = floats / SMG_BATCH_DECODE_MIN_FLOATS;

    if (parts > d->threads)
        parts = d->threads;
    if (parts < 1)
        parts = 1;
    d->sp = sp;
    d->out = out;
    d->caller = pthread_self();
    smg_pool_run(d->pool, sp->count, parts, decode_part, d);
    for (size_t i = 0; i < parts; i++) {
        if (d->results[i].rc != SMG_OK) {
            if (err != NULL)
                *err = d->results[i].err;
            return (enum smg_status)d->results[i].rc;
        }
    }
    return SMG_OK;
}

unsigned smg_batch_decoder_threads(const struct smg_batch_decoder *d)
{
    return d->threads;
}

double smg_batch_decoder_helper_cpu_s(const struct smg_batch_decoder *d)
{
    return (double)atomic_load(&((struct smg_batch_decoder *)d)->helper_cpu_ns) * 1e-9;
}

void smg_batch_decoder_free(struct smg_batch_decoder *d)
{
    if (d == NULL)
        return;
    if (d->owns_pool)
        smg_pool_free(d->pool);
    smg_free(d->results);
    smg_free(d);
}

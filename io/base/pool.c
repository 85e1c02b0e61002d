/*
 * The worker pool (pool.h). One job at a time: smg_pool_run publishes it
 * under the mutex with a new generation number and wakes the workers; every
 * thread, the caller included, then claims ranges with an atomic counter
 * until none is left. Each worker checks out of the generation once it finds
 * no range left, and the caller returns only when every worker has checked
 * out: so no thread can still be reading a job when the next one is written,
 * and every range has finished. Workers sleep on a condition variable between
 * jobs, so an idle pool costs nothing.
 */
#include "io/base/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "io/base/alloc.h"

struct smg_pool {
    unsigned workers;
    unsigned started; /* threads running (workers - 1 once set up) */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* a new job or shutdown */
    pthread_cond_t idle; /* the last worker checked out of a job */
    unsigned long generation;
    bool stop;
    /* the current job */
    smg_pool_fn fn;
    void *ctx;
    size_t n, parts;
    atomic_size_t next;
    unsigned checked_out; /* workers done with this generation, under mu */
};

void smg_pool_range(size_t n, size_t parts, size_t i, size_t *begin, size_t *end)
{
    /* n * i / parts without overflow: split into quotient and remainder. */
    size_t q = n / parts, r = n % parts;
    *begin = q * i + r * i / parts;
    *end = q * (i + 1) + r * (i + 1) / parts;
}

/* Claim and run ranges of the current job until none is left. */
static void work(struct smg_pool *p)
{
    size_t i;
    while ((i = atomic_fetch_add(&p->next, 1)) < p->parts) {
        size_t b, e;
        smg_pool_range(p->n, p->parts, i, &b, &e);
        p->fn(p->ctx, i, b, e);
    }
}

static void *worker_main(void *arg)
{
    struct smg_pool *p = arg;
    unsigned long seen = 0;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        work(p);
        pthread_mutex_lock(&p->mu);
        if (++p->checked_out == p->started)
            pthread_cond_signal(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

enum smg_status smg_pool_new(unsigned workers, struct smg_pool **out, struct smg_error *err)
{
    struct smg_pool *p;

    *out = NULL;
    if (workers < 1 || workers > SMG_POOL_MAX_WORKERS)
        return smg_error_set(err, SMG_ECONFIG, "worker pool: %u workers; expected 1 to %d", workers,
                             SMG_POOL_MAX_WORKERS);
    p = smg_calloc(1, sizeof(*p));
    if (p == NULL || (p->threads = smg_calloc(workers, sizeof(pthread_t))) == NULL) {
        smg_free(p);
        return smg_error_set(err, SMG_ENOMEM, "worker pool: out of memory");
    }
    p->workers = workers;
    atomic_init(&p->next, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->idle, NULL);
    for (unsigned t = 0; t + 1 < workers; t++) {
        int e = pthread_create(&p->threads[t], NULL, worker_main, p);
        if (e != 0) {
            smg_pool_free(p);
            return smg_error_set(err, SMG_EINTERNAL,
                                 "worker pool: could not start thread %u of %u (error %d)", t + 1,
                                 workers - 1, e);
        }
        p->started++;
    }
    *out = p;
    return SMG_OK;
}

void smg_pool_free(struct smg_pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (unsigned t = 0; t < p->started; t++)
        pthread_join(p->threads[t], NULL);
    pthread_cond_destroy(&p->idle);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    smg_free(p->threads);
    smg_free(p);
}

unsigned smg_pool_size(const struct smg_pool *p)
{
    return p != NULL ? p->workers : 1;
}

void smg_pool_run(struct smg_pool *p, size_t n, size_t parts, smg_pool_fn fn, void *ctx)
{
    if (parts == 0)
        return;
    if (p == NULL || p->workers == 1 || parts == 1) {
        for (size_t i = 0; i < parts; i++) {
            size_t b, e;
            smg_pool_range(n, parts, i, &b, &e);
            fn(ctx, i, b, e);
        }
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->parts = parts;
    p->checked_out = 0;
    atomic_store(&p->next, 0);
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    work(p);
    pthread_mutex_lock(&p->mu);
    while (p->checked_out < p->started)
        pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

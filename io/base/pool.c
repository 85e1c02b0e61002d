/*
 * The worker pool (pool.h). One job at a time. smg_pool_run publishes it by
 * storing a ticket, (generation, parts, next range) packed in one atomic
 * word, and wakes the workers; every thread, the caller included, claims
 * ranges by compare-and-swap on the ticket while it carries the same
 * generation and a range is left, and counts each finished range under the
 * mutex. The caller returns when all `parts` ranges have finished; it never
 * waits for a worker that found nothing to do, so a worker the scheduler has
 * not woken yet (a loaded machine) costs nothing: when it runs, the ticket
 * it sees belongs to another generation or has no range left, and it goes
 * back to sleep. A successful claim proves the job is still current (its
 * claimed range has not finished, so the caller cannot have moved on), which
 * is what makes reading the job's fields after the claim safe.
 */
#include "io/base/pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "io/base/alloc.h"

/* Ticket layout: generation in the top 24 bits, parts and next index in 20 each. */
#define FIELD_BITS 20
#define FIELD_MASK ((UINT64_C(1) << FIELD_BITS) - 1)
#define MAX_PARTS  ((size_t)FIELD_MASK)
#define GEN_MASK   ((UINT64_C(1) << (64 - 2 * FIELD_BITS)) - 1)

struct smg_pool {
    unsigned workers;
    unsigned started; /* threads running (workers - 1 once set up) */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* a new job or shutdown */
    pthread_cond_t idle; /* the last range of a job finished */
    uint64_t generation; /* under mu */
    bool stop;
    /* the current job */
    smg_pool_fn fn;
    void *ctx;
    size_t n;
    _Atomic uint64_t ticket;
    size_t finished; /* ranges done, under mu */
};

void smg_pool_range(size_t n, size_t parts, size_t i, size_t *begin, size_t *end)
{
    /* n * i / parts without overflow: split into quotient and remainder. */
    size_t q = n / parts, r = n % parts;
    *begin = q * i + r * i / parts;
    *end = q * (i + 1) + r * (i + 1) / parts;
}

/* Claim and run ranges of generation gen until none is left. */
static void work(struct smg_pool *p, uint64_t gen)
{
    for (;;) {
        uint64_t t = atomic_load(&p->ticket);
        size_t parts = (size_t)((t >> FIELD_BITS) & FIELD_MASK), i = (size_t)(t & FIELD_MASK);
        size_t b, e;
        if ((t >> (2 * FIELD_BITS)) != gen || i >= parts)
            return;
        if (!atomic_compare_exchange_weak(&p->ticket, &t, t + 1))
            continue;
        smg_pool_range(p->n, parts, i, &b, &e);
        p->fn(p->ctx, i, b, e);
        pthread_mutex_lock(&p->mu);
        if (++p->finished == parts)
            pthread_cond_signal(&p->idle);
        pthread_mutex_unlock(&p->mu);
    }
}

static void *worker_main(void *arg)
{
    struct smg_pool *p = arg;
    uint64_t seen = 0;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen)
            pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        work(p, seen & GEN_MASK);
        pthread_mutex_lock(&p->mu);
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
    atomic_init(&p->ticket, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->idle, NULL);
    /* Workers start with every signal blocked, so signals (SIGTERM: stop the
     * job) keep going to the threads that expect them. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (unsigned t = 0; t + 1 < workers; t++) {
        int e = pthread_create(&p->threads[t], NULL, worker_main, p);
        if (e != 0) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            smg_pool_free(p);
            return smg_error_set(err, SMG_EINTERNAL,
                                 "worker pool: could not start thread %u of %u (error %d)", t + 1,
                                 workers - 1, e);
        }
        p->started++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
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
    uint64_t gen;

    if (parts == 0)
        return;
    if (p == NULL || p->workers == 1 || parts == 1 || parts > MAX_PARTS) {
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
    p->finished = 0;
    gen = ++p->generation & GEN_MASK;
    atomic_store(&p->ticket, gen << (2 * FIELD_BITS) | (uint64_t)parts << FIELD_BITS);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    work(p, gen);
    pthread_mutex_lock(&p->mu);
    while (p->finished < parts)
        pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

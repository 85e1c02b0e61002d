/*
 * The worker pool (pool.h). Up to JOBS jobs at a time (see below).
 * smg_pool_run publishes one by
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
 *
 * Waiting spins before it sleeps. A job of a k-means or PCA step lasts a few
 * hundred microseconds and the steps come back to back, while waking a thread
 * asleep on a condition variable takes tens of microseconds on a virtual
 * machine (the idle CPU has halted); so an idle worker watches for ranges
 * for SPIN_NS before it sleeps, and the caller watches the finished count as
 * long before it sleeps on `idle`. The spin pauses the CPU between looks and
 * yields it every YIELD_EVERY looks, so a reader or decode thread that wants
 * the core gets it. Sleepers are counted under the mutex, so the caller only
 * makes the wake-up system call when some worker does sleep; the last range
 * to finish signals `idle` only when the caller sleeps.
 *
 * CPUs: `busy` counts the threads running work on the pool's behalf: the
 * threads that called smg_pool_enter (the pool's maker from the start) and
 * have not left, and the workers inside a job. A worker joins the job that is
 * out only by raising `busy` while it is below `workers`, and spins only
 * while it is; otherwise it sleeps until a job is published or a counted
 * thread leaves (smg_pool_leave wakes it when ranges are left), so a CPU
 * freed in the middle of a job goes to that job's ranges. Up to JOBS jobs
 * are out at once (the trainer's and the reader's decoding), each in a slot
 * of its own with its own ticket; workers take the ranges left of any. A
 * caller that finds every slot taken runs its own ranges itself.
 * smg_pool_wait_cpu parks a counted thread on `cpu_free` while more threads
 * than `workers` are busy; smg_pool_leave wakes the parked ones when the
 * count falls back within the size. A parked thread is counted in
 * cpu_waiters before it reads the count, and a leaving one lowers the count
 * before it reads cpu_waiters, so no wake-up is lost.
 */
#include "io/base/pool.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "io/base/alloc.h"

/* How long a waiting thread spins before it sleeps, and how often it yields meanwhile. */
#define SPIN_NS     ((int64_t)100 * 1000)
#define YIELD_EVERY 64

/* Ticket layout: generation in the top 24 bits, parts and next index in 20 each. */
#define FIELD_BITS 20
#define FIELD_MASK ((UINT64_C(1) << FIELD_BITS) - 1)
#define MAX_PARTS  ((size_t)FIELD_MASK)
#define GEN_MASK   ((UINT64_C(1) << (64 - 2 * FIELD_BITS)) - 1)

/* Jobs out at once: the trainer's and the reader's (decoding). */
#define JOBS 2

struct job {
    bool running;        /* out, under mu */
    bool caller_asleep;  /* its caller sleeps on idle, under mu */
    pthread_cond_t idle; /* its last range finished */
    smg_pool_fn fn;
    void *ctx;
    size_t n;
    _Atomic uint64_t ticket;
    _Atomic size_t finished; /* ranges done */
};

struct smg_pool {
    unsigned workers;
    unsigned started; /* threads running (workers - 1 once set up) */
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t wake;     /* a new job or shutdown */
    pthread_cond_t cpu_free; /* busy fell below workers (smg_pool_wait_cpu) */
    _Atomic unsigned cpu_waiters;
    _Atomic uint64_t generation; /* written under mu */
    _Atomic bool stop;           /* written under mu */
    _Atomic int busy;            /* threads running work (see the top) */
    unsigned sleepers;           /* workers asleep on wake, under mu */
    struct job jobs[JOBS];
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* A CPU is free: fewer than `workers` threads busy. */
static bool room(struct smg_pool *p)
{
    return atomic_load(&p->busy) < (int)p->workers;
}

/* Raise busy if a CPU is free. */
static bool take_cpu(struct smg_pool *p)
{
    int b = atomic_load(&p->busy);
    while (b < (int)p->workers)
        if (atomic_compare_exchange_weak(&p->busy, &b, b + 1))
            return true;
    return false;
}

/* A job that is out has a range nobody has claimed yet. */
static bool ranges_left(struct smg_pool *p)
{
    for (int j = 0; j < JOBS; j++) {
        uint64_t t = atomic_load(&p->jobs[j].ticket);
        if ((t & FIELD_MASK) < ((t >> FIELD_BITS) & FIELD_MASK))
            return true;
    }
    return false;
}

void smg_pool_enter(struct smg_pool *p)
{
    if (p != NULL)
        atomic_fetch_add(&p->busy, 1);
}

void smg_pool_leave(struct smg_pool *p)
{
    int now;

    if (p == NULL)
        return;
    now = atomic_fetch_sub(&p->busy, 1) - 1;
    if (now >= (int)p->workers)
        return;
    /* A CPU came free: to a parked reader, or to a worker for the ranges left. */
    if (atomic_load(&p->cpu_waiters) > 0 || ranges_left(p)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cpu_free);
        if (p->sleepers > 0 && ranges_left(p))
            pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
}

void smg_pool_wait_cpu(struct smg_pool *p)
{
    if (p == NULL || atomic_load(&p->busy) <= (int)p->workers)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->cpu_waiters, 1);
    atomic_fetch_sub(&p->busy, 1);
    while (atomic_load(&p->busy) >= (int)p->workers && !atomic_load(&p->stop))
        pthread_cond_wait(&p->cpu_free, &p->mu);
    atomic_fetch_add(&p->busy, 1);
    atomic_fetch_sub(&p->cpu_waiters, 1);
    pthread_mutex_unlock(&p->mu);
}

/* Something for a worker: shutdown, or a range to claim and a CPU to run it on. */
static bool can_work(struct smg_pool *p, uint64_t unused)
{
    (void)unused;
    return atomic_load(&p->stop) || (ranges_left(p) && room(p));
}

/* Spin up to SPIN_NS until done(p, arg) holds; true if it did. */
static bool spin_until(struct smg_pool *p, bool (*done)(struct smg_pool *, uint64_t), uint64_t arg)
{
    int64_t until = 0;

    for (unsigned n = 1;; n++) {
        if (done(p, arg))
            return true;
        if (done == can_work && !room(p))
            return false; /* every CPU is taken: sleep rather than spin */
        cpu_relax();
        if (n % YIELD_EVERY == 0) {
            int64_t t = mono_ns();
            if (until == 0)
                until = t + SPIN_NS;
            else if (t >= until)
                return false;
            sched_yield();
        }
    }
}

/* arg: the job's index << 32 | its parts. */
static bool all_finished(struct smg_pool *p, uint64_t arg)
{
    return atomic_load(&p->jobs[arg >> 32].finished) >= (arg & 0xffffffffu);
}

void smg_pool_range(size_t n, size_t parts, size_t i, size_t *begin, size_t *end)
{
    /* n * i / parts without overflow: split into quotient and remainder. */
    size_t q = n / parts, r = n % parts;
    *begin = q * i + r * i / parts;
    *end = q * (i + 1) + r * (i + 1) / parts;
}

/* Claim and run ranges of generation gen until none is left. */
static void run_inline(size_t n, size_t parts, smg_pool_fn fn, void *ctx)
{
    for (size_t i = 0; i < parts; i++) {
        size_t b, e;
        smg_pool_range(n, parts, i, &b, &e);
        fn(ctx, i, b, e);
    }
}

/* Claim and run ranges of job j while it carries generation gen and has any left. */
static void work(struct smg_pool *p, struct job *j, uint64_t gen)
{
    for (;;) {
        uint64_t t = atomic_load(&j->ticket);
        size_t parts = (size_t)((t >> FIELD_BITS) & FIELD_MASK), i = (size_t)(t & FIELD_MASK);
        size_t b, e;
        if ((t >> (2 * FIELD_BITS)) != gen || i >= parts)
            return;
        if (!atomic_compare_exchange_weak(&j->ticket, &t, t + 1))
            continue;
        smg_pool_range(j->n, parts, i, &b, &e);
        j->fn(j->ctx, i, b, e);
        if (atomic_fetch_add(&j->finished, 1) + 1 == parts) {
            pthread_mutex_lock(&p->mu);
            if (j->caller_asleep)
                pthread_cond_signal(&j->idle);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

/* A worker: the ranges left of every job that is out. */
static void work_any(struct smg_pool *p)
{
    for (int k = 0; k < JOBS; k++)
        work(p, &p->jobs[k], atomic_load(&p->jobs[k].ticket) >> (2 * FIELD_BITS));
}

static void *worker_main(void *arg)
{
    struct smg_pool *p = arg;

    for (;;) {
        if (!spin_until(p, can_work, 0)) {
            pthread_mutex_lock(&p->mu);
            p->sleepers++;
            while (!can_work(p, 0))
                pthread_cond_wait(&p->wake, &p->mu);
            p->sleepers--;
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop))
            break;
        if (!take_cpu(p))
            continue; /* the CPU went to another thread meanwhile */
        work_any(p);
        smg_pool_leave(p);
    }
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
    for (int k = 0; k < JOBS; k++) {
        atomic_init(&p->jobs[k].ticket, 0);
        atomic_init(&p->jobs[k].finished, 0);
        pthread_cond_init(&p->jobs[k].idle, NULL);
    }
    atomic_init(&p->generation, 0);
    atomic_init(&p->stop, false);
    atomic_init(&p->busy, 1); /* the maker */
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->cpu_free, NULL);
    atomic_init(&p->cpu_waiters, 0);
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
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->wake);
    pthread_cond_broadcast(&p->cpu_free);
    pthread_mutex_unlock(&p->mu);
    for (unsigned t = 0; t < p->started; t++)
        pthread_join(p->threads[t], NULL);
    for (int k = 0; k < JOBS; k++)
        pthread_cond_destroy(&p->jobs[k].idle);
    pthread_cond_destroy(&p->cpu_free);
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
    struct job *j = NULL;
    int k;

    if (parts == 0)
        return;
    if (p == NULL || p->workers == 1 || parts == 1 || parts > MAX_PARTS) {
        run_inline(n, parts, fn, ctx);
        return;
    }
    pthread_mutex_lock(&p->mu);
    for (k = 0; k < JOBS && j == NULL; k++)
        if (!p->jobs[k].running)
            j = &p->jobs[k];
    if (j == NULL) { /* other threads' jobs are out */
        pthread_mutex_unlock(&p->mu);
        run_inline(n, parts, fn, ctx);
        return;
    }
    k--;
    j->running = true;
    j->fn = fn;
    j->ctx = ctx;
    j->n = n;
    atomic_store(&j->finished, 0);
    gen = (atomic_load(&p->generation) + 1) & GEN_MASK;
    atomic_store(&j->ticket, gen << (2 * FIELD_BITS) | (uint64_t)parts << FIELD_BITS);
    atomic_store(&p->generation, atomic_load(&p->generation) + 1);
    if (p->sleepers > 0)
        pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    work(p, j, gen);
    if (!spin_until(p, all_finished, (uint64_t)k << 32 | parts)) {
        pthread_mutex_lock(&p->mu);
        j->caller_asleep = true;
        while (atomic_load(&j->finished) < parts)
            pthread_cond_wait(&j->idle, &p->mu);
        j->caller_asleep = false;
        pthread_mutex_unlock(&p->mu);
    }
    pthread_mutex_lock(&p->mu);
    j->running = false;
    pthread_mutex_unlock(&p->mu);
}

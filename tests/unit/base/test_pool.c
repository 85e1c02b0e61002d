/*
 * Tests for io/base/pool: the ranges tile [0, n) exactly for awkward n and
 * part counts; every range runs exactly once on pools of 1 to 4 workers (and
 * on a NULL pool), including more parts than workers, fewer, and none; many
 * back-to-back jobs on one pool (the hand-over between generations); the
 * work really runs on more than one thread; bad worker counts are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "io/base/pool.h"

static void test_ranges_tile(void **state)
{
    static const size_t ns[] = {0, 1, 7, 100, 1000003};
    (void)state;
    for (size_t a = 0; a < sizeof(ns) / sizeof(ns[0]); a++)
        for (size_t parts = 1; parts <= 9; parts++) {
            size_t prev = 0;
            for (size_t i = 0; i < parts; i++) {
                size_t b, e;
                smg_pool_range(ns[a], parts, i, &b, &e);
                assert_int_equal(b, prev);
                assert_true(e >= b);
                assert_true(e - b <= ns[a] / parts + 1);
                prev = e;
            }
            assert_int_equal(prev, ns[a]);
        }
}

struct marks {
    atomic_int hits[1000];
    atomic_int calls;
    size_t parts_seen[64];
};

static void mark(void *ctx, size_t part, size_t begin, size_t end)
{
    struct marks *m = ctx;
    for (size_t i = begin; i < end; i++)
        atomic_fetch_add(&m->hits[i], 1);
    m->parts_seen[part]++;
    atomic_fetch_add(&m->calls, 1);
}

static void run_and_check(struct smg_pool *p, size_t n, size_t parts)
{
    static struct marks m;
    memset(&m, 0, sizeof(m));
    smg_pool_run(p, n, parts, mark, &m);
    assert_int_equal(atomic_load(&m.calls), (int)parts);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(atomic_load(&m.hits[i]), parts > 0 ? 1 : 0);
    for (size_t i = 0; i < parts; i++)
        assert_int_equal(m.parts_seen[i], 1);
}

static void test_every_range_once(void **state)
{
    (void)state;
    run_and_check(NULL, 1000, 5);
    for (unsigned w = 1; w <= 4; w++) {
        struct smg_pool *p = NULL;
        assert_int_equal(smg_pool_new(w, &p, NULL), SMG_OK);
        assert_int_equal(smg_pool_size(p), w);
        run_and_check(p, 1000, 1);
        run_and_check(p, 1000, w);
        run_and_check(p, 1000, 3 * w + 1);
        run_and_check(p, 3, 8); /* more parts than items: empty ranges still run */
        run_and_check(p, 1000, 0);
        smg_pool_free(p);
    }
}

static void add_range(void *ctx, size_t part, size_t begin, size_t end)
{
    uint64_t *slots = ctx;
    for (size_t i = begin; i < end; i++)
        slots[part] += i;
}

static void test_many_jobs(void **state)
{
    struct smg_pool *p = NULL;
    uint64_t slots[8];
    (void)state;
    assert_int_equal(smg_pool_new(3, &p, NULL), SMG_OK);
    for (int job = 0; job < 20000; job++) {
        uint64_t total = 0;
        size_t n = (size_t)(job % 97) + 1, parts = (size_t)(job % 8) + 1;
        memset(slots, 0, sizeof(slots));
        smg_pool_run(p, n, parts, add_range, slots);
        for (size_t i = 0; i < parts; i++)
            total += slots[i];
        assert_int_equal(total, (uint64_t)n * (n - 1) / 2);
    }
    smg_pool_free(p);
}

static void slow_range(void *ctx, size_t part, size_t begin, size_t end)
{
    if (part == 1)
        usleep(2000); /* longer than the pool's spin: the caller sleeps until it ends */
    add_range(ctx, part, begin, end);
}

/* Jobs after idle gaps longer than the spin: the sleeping workers are woken, none is lost. */
static void test_jobs_after_idle(void **state)
{
    struct smg_pool *p = NULL;
    uint64_t slots[4];
    (void)state;
    assert_int_equal(smg_pool_new(3, &p, NULL), SMG_OK);
    for (int job = 0; job < 40; job++) {
        memset(slots, 0, sizeof(slots));
        usleep(job % 2 ? 1000 : 0);
        smg_pool_run(p, 1000, 4, job % 3 ? add_range : slow_range, slots);
        assert_int_equal(slots[0] + slots[1] + slots[2] + slots[3], 1000u * 999u / 2);
    }
    smg_pool_free(p);
}

struct turn {
    struct smg_pool *pool;
    _Atomic int passed;
};

static void *reader_main(void *arg)
{
    struct turn *t = arg;
    smg_pool_enter(t->pool);
    smg_pool_wait_cpu(t->pool); /* the maker is busy on a pool of one: wait */
    atomic_store(&t->passed, 1);
    smg_pool_leave(t->pool);
    return NULL;
}

/* A pool of one: a reader waiting for the CPU goes on only once the busy maker leaves. */
static void test_wait_cpu_takes_turns(void **state)
{
    struct turn t;
    pthread_t th;
    (void)state;
    memset(&t, 0, sizeof(t));
    assert_int_equal(smg_pool_new(1, &t.pool, NULL), SMG_OK);
    assert_int_equal(pthread_create(&th, NULL, reader_main, &t), 0);
    usleep(20000);
    assert_int_equal(atomic_load(&t.passed), 0); /* may only be late, never early */
    smg_pool_leave(t.pool);                      /* the maker waits for a batch */
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&t.passed), 1);
    smg_pool_enter(t.pool);
    smg_pool_wait_cpu(t.pool); /* alone within the size: returns at once */
    smg_pool_free(t.pool);
}

struct threads_seen {
    pthread_mutex_t mu;
    pthread_t ids[2];
    size_t n;
};

static void note_thread(void *ctx, size_t part, size_t begin, size_t end)
{
    struct threads_seen *t = ctx;
    pthread_t self = pthread_self();
    (void)part, (void)begin, (void)end;
    usleep(20000); /* long enough that one thread cannot take both ranges first */
    pthread_mutex_lock(&t->mu);
    if (t->n == 0 || (t->n == 1 && !pthread_equal(t->ids[0], self)))
        t->ids[t->n++] = self;
    pthread_mutex_unlock(&t->mu);
}

static void test_runs_on_two_threads(void **state)
{
    struct smg_pool *p = NULL;
    struct threads_seen t;
    (void)state;
    memset(&t, 0, sizeof(t));
    pthread_mutex_init(&t.mu, NULL);
    assert_int_equal(smg_pool_new(2, &p, NULL), SMG_OK);
    /* Several tries: a loaded machine may let one thread claim both ranges. */
    for (int i = 0; i < 50 && t.n < 2; i++)
        smg_pool_run(p, 2, 2, note_thread, &t);
    assert_int_equal(t.n, 2);
    smg_pool_free(p);
    pthread_mutex_destroy(&t.mu);
}

static void test_bad_counts(void **state)
{
    struct smg_pool *p = (struct smg_pool *)1;
    struct smg_error err;
    (void)state;
    smg_error_clear(&err);
    assert_int_equal(smg_pool_new(0, &p, &err), SMG_ECONFIG);
    assert_null(p);
    assert_non_null(strstr(err.msg, "0 workers"));
    assert_int_equal(smg_pool_new(SMG_POOL_MAX_WORKERS + 1, &p, NULL), SMG_ECONFIG);
    assert_int_equal(smg_pool_size(NULL), 1);
    smg_pool_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_tile),         cmocka_unit_test(test_every_range_once),
        cmocka_unit_test(test_many_jobs),           cmocka_unit_test(test_jobs_after_idle),
        cmocka_unit_test(test_runs_on_two_threads), cmocka_unit_test(test_wait_cpu_takes_turns),
        cmocka_unit_test(test_bad_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

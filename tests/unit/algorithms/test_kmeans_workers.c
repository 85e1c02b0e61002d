/*
 * Tests that the polish and the restarts (kmeans_sample.c, kmeans_reseed.c)
 * give the same bits whatever the size of the worker pool they run on: the
 * centers, msds and restart report with no pool and with pools of 1, 2 and 3
 * workers are compared byte for byte (memcmp), not within a tolerance.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/kmeans.h"
#include "io/base/pool.h"

#define ROWS 20000
#define DIM  8
#define K    20

/* A sample of ROWS rows around 2K blob centers (K-center starts: some cells must split). */
static struct smg_kmeans_sample *blobs(float *start)
{
    float *x = malloc(ROWS * DIM * sizeof(float)), mid[2 * K * DIM];
    struct smg_kmeans_sample *s = NULL;
    struct smg_error err = {0};
    struct smg_rng r;

    assert_non_null(x);
    smg_rng_seed(&r, 11);
    for (size_t j = 0; j < 2 * K * DIM; j++)
        mid[j] = (float)(1000.0 + 50.0 * smg_rng_uniform(&r));
    for (size_t i = 0; i < ROWS; i++) {
        size_t b = (size_t)(smg_rng_next(&r) % (2 * K));
        for (size_t f = 0; f < DIM; f++)
            x[i * DIM + f] = mid[b * DIM + f] + (float)(4.0 * smg_rng_uniform(&r) - 2.0);
    }
    /* A reservoir smaller than the rows: each row weighs ROWS / 15000, not 1. */
    struct smg_batch b = {.x = x, .rows = ROWS, .cols = DIM};
    assert_int_equal(smg_kmeans_sample_new(DIM, 15000, 3, &s, &err), SMG_OK);
    smg_kmeans_sample_add(s, &b);
    memcpy(start, x, K * DIM * sizeof(float)); /* the first K rows */
    free(x);
    return s;
}

struct result {
    float c[K * DIM];
    double before, after;
    struct smg_kmeans_reseed_report rep;
};

/* Reseed then polish from start on a pool of `workers` (0 = no pool). */
static void run(struct smg_kmeans_sample *s, const float *start, unsigned workers,
                struct result *out)
{
    const double shift[DIM] = {1000, 1010, 1020, 1030, 1000, 1010, 1020, 1030};
    struct smg_pool *pool = NULL;
    struct smg_error err = {0};

    memset(out, 0, sizeof(*out));
    if (workers > 0)
        assert_int_equal(smg_pool_new(workers, &pool, &err), SMG_OK);
    memcpy(out->c, start, sizeof(out->c));
    assert_int_equal(smg_kmeans_reseed(s, NULL, pool, out->c, K, shift, 100, 1e-4, 7, 10, &out->rep,
                                       SMG_KMEANS_KERNEL_AUTO, &err),
                     SMG_OK);
    assert_true(out->rep.restarts > 2);
    assert_int_equal(smg_kmeans_polish(s, NULL, pool, out->c, K, shift, 100, 1e-6, &out->before,
                                       &out->after, SMG_KMEANS_KERNEL_AUTO, &err),
                     SMG_OK);
    assert_true(out->after < out->before);
    smg_pool_free(pool);
}

static void test_same_bits_on_any_pool(void **state)
{
    float start[K * DIM];
    struct smg_kmeans_sample *s = blobs(start);
    struct result ref, got;
    (void)state;

    run(s, start, 0, &ref);
    for (unsigned w = 1; w <= 3; w++) {
        run(s, start, w, &got);
        assert_int_equal(memcmp(ref.c, got.c, sizeof(ref.c)), 0);
        assert_int_equal(memcmp(&ref.before, &got.before, sizeof(double)), 0);
        assert_int_equal(memcmp(&ref.after, &got.after, sizeof(double)), 0);
        assert_int_equal(memcmp(&ref.rep.shrink_msd, &got.rep.shrink_msd, sizeof(double)), 0);
        assert_int_equal(memcmp(&ref.rep.best_msd, &got.rep.best_msd, sizeof(double)), 0);
        assert_int_equal(ref.rep.won, got.rep.won);
        assert_int_equal(ref.rep.restarts, got.rep.restarts);
    }
    smg_kmeans_sample_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bits_on_any_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

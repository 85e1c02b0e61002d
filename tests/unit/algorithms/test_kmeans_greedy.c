/*
 * Tests for algorithms/kmeans_greedy: the pruned greedy kmeans++ against the
 * plain pass (every candidate's potential over all points, in point order),
 * which is the straightforward float64 reference. With the same generator
 * state both must choose the same seeds in the same order, leave the same
 * D^2 per point bit for bit and consume the same draws, on:
 * - uniform random points (little to prune);
 * - well-separated blobs (most candidates touch one blob: heavy pruning);
 * - many duplicate rows and weights of 0 (exact ties between candidates:
 *   the plain re-check decides);
 * - points that coincide with seeds before k is reached (early stop);
 * - trials 1 (classic kmeans++), the default 2 + ln k, and 20 (> 16).
 * A tolerance is not needed: the claim is bit-identity.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/kmeans_greedy.h"

enum shape { UNIFORM, BLOBS, DUPLICATES, FEW_DISTINCT };

static void make_points(enum shape s, size_t n, size_t d, uint64_t seed, double *p, double *w)
{
    struct smg_rng r;
    smg_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        size_t blob = (size_t)(smg_rng_uniform(&r) * 25.0);
        for (size_t f = 0; f < d; f++) {
            double u = smg_rng_uniform(&r) - 0.5;
            if (s == UNIFORM)
                p[i * d + f] = 10.0 * u;
            else if (s == BLOBS)
                p[i * d + f] = 100.0 * (double)((blob * 7 + f * 3) % 25) + u;
            else if (s == DUPLICATES)
                p[i * d + f] = i % 3 != 0 && i > 0 ? p[(i - 1) * d + f] : 10.0 * u;
            else
                p[i * d + f] = (double)(i % 5) + (double)f;
        }
        w[i] = s == DUPLICATES && i % 13 == 0 ? 0.0 : 0.5 + smg_rng_uniform(&r);
    }
}

/* Both passes from the same first seed and generator; everything they leave must match. */
static void compare(const double *p, const double *w, size_t n, size_t d, size_t k, unsigned trials,
                    uint64_t seed)
{
    double *cols = malloc(n * d * sizeof(double)), *cum = malloc(n * sizeof(double));
    double *dmin_a = malloc(n * sizeof(double)), *dmin_b = malloc(n * sizeof(double));
    size_t *idx_a = calloc(k, sizeof(size_t)), *idx_b = calloc(k, sizeof(size_t));
    size_t chosen_a = 1, chosen_b = 1;
    struct smg_rng ra, rb;
    struct smg_error err = {0};

    assert_non_null(cols);
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < d; f++)
            cols[f * n + i] = p[i * d + f];
    idx_a[0] = idx_b[0] = (size_t)(seed % n);
    smg_kmeans_greedy_nearer(cols, p + idx_a[0] * d, n, d, dmin_a, true);
    memcpy(dmin_b, dmin_a, n * sizeof(double));
    smg_rng_seed(&ra, seed);
    smg_rng_seed(&rb, seed);
    smg_kmeans_greedy_plain(cols, p, w, n, d, k, trials, &ra, cum, dmin_a, idx_a, &chosen_a);
    assert_int_equal(
        smg_kmeans_greedy(cols, p, w, n, d, k, trials, &rb, cum, dmin_b, idx_b, &chosen_b, &err),
        SMG_OK);
    assert_int_equal(chosen_a, chosen_b);
    assert_memory_equal(idx_a, idx_b, chosen_a * sizeof(size_t));
    assert_memory_equal(dmin_a, dmin_b, n * sizeof(double));
    assert_true(smg_rng_next(&ra) == smg_rng_next(&rb)); /* the same draws consumed */
    free(cols);
    free(cum);
    free(dmin_a);
    free(dmin_b);
    free(idx_a);
    free(idx_b);
}

static void run_shape(enum shape s, size_t n, size_t d, size_t k)
{
    double *p = malloc(n * d * sizeof(double)), *w = malloc(n * sizeof(double));
    unsigned deflt = 2 + (unsigned)log((double)k);
    assert_non_null(p);
    assert_non_null(w);
    make_points(s, n, d, 11 + (uint64_t)s, p, w);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        compare(p, w, n, d, k, deflt, seed);
        compare(p, w, n, d, k, 1, seed + 10);
        compare(p, w, n, d, k, 20, seed + 20);
    }
    free(p);
    free(w);
}

static void test_uniform(void **state)
{
    (void)state;
    run_shape(UNIFORM, 1500, 4, 40);
}

static void test_blobs(void **state)
{
    (void)state;
    run_shape(BLOBS, 3001, 8, 60);
}

static void test_duplicates_and_zero_weights(void **state)
{
    (void)state;
    run_shape(DUPLICATES, 999, 3, 50);
}

static void test_fewer_distinct_points_than_k(void **state)
{
    (void)state;
    run_shape(FEW_DISTINCT, 200, 2, 12); /* 5 distinct rows: stops at 5 seeds */
}

static void test_one_dimension_many_centers(void **state)
{
    (void)state;
    run_shape(UNIFORM, 4000, 1, 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform),
        cmocka_unit_test(test_blobs),
        cmocka_unit_test(test_duplicates_and_zero_weights),
        cmocka_unit_test(test_fewer_distinct_points_than_k),
        cmocka_unit_test(test_one_dimension_many_centers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

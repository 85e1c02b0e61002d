/*
 * Tests for the polish in legs (smg_kmeans_run_start / _step, kmeans_sample.c):
 * a run paused after any number of iterations and resumed must end exactly
 * as one uninterrupted smg_kmeans_polish (same centers bit for bit, same
 * first and last sample msd, same iteration count), which is what lets the
 * restarts (kmeans_reseed.c) pause every restart after a few iterations and
 * run on only the promising ones without changing their result. The data
 * are uniform in a box with every start in one corner, so the polish takes
 * many iterations.
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

#define ROWS 3000
#define DIM  3
#define K    9

static struct smg_kmeans_sample *blobs(float *start)
{
    float *x = malloc(ROWS * DIM * sizeof(float));
    struct smg_kmeans_sample *s = NULL;
    struct smg_error err = {0};
    struct smg_rng r;

    assert_non_null(x);
    smg_rng_seed(&r, 5);
    for (size_t i = 0; i < ROWS; i++)
        for (size_t f = 0; f < DIM; f++)
            x[i * DIM + f] = (float)(100.0 * smg_rng_uniform(&r));
    assert_int_equal(smg_kmeans_sample_of_rows(x, ROWS, DIM, &s, &err), SMG_OK);
    for (size_t j = 0; j < K; j++) /* all starts in one corner: a long way to go */
        for (size_t f = 0; f < DIM; f++)
            start[j * DIM + f] = (float)(j + f);
    free(x);
    return s;
}

static void test_paused_runs_end_as_one(void **state)
{
    const double shift[DIM] = {50.0, 55.0, 60.0};
    float start[K * DIM], ref[K * DIM], legs[K * DIM];
    double before, after;
    uint64_t iters;
    struct smg_error err = {0};
    struct smg_kmeans_sample *s = blobs(start);
    (void)state;

    memcpy(ref, start, sizeof(ref));
    assert_int_equal(smg_kmeans_polish(s, NULL, NULL, ref, K, shift, 300, 1e-6, &before, &after,
                                       SMG_KMEANS_KERNEL_PORTABLE, &err),
                     SMG_OK);
    iters = smg_kmeans_polish_iters(s);
    assert_true(iters > 4);
    for (uint64_t pause = 0; pause <= iters + 1; pause++) {
        struct smg_kmeans_run run;
        memcpy(legs, start, sizeof(legs));
        assert_int_equal(smg_kmeans_run_start(&run, legs, K, DIM, shift, &err), SMG_OK);
        assert_int_equal(smg_kmeans_run_step(s, NULL, NULL, &run, legs, K, shift, 300, 1e-6, pause,
                                             SMG_KMEANS_KERNEL_PORTABLE, &err),
                         SMG_OK);
        assert_true(run.done == (pause > iters));
        assert_true(run.it == (pause > iters ? iters : pause));
        assert_int_equal(smg_kmeans_run_step(s, NULL, NULL, &run, legs, K, shift, 300, 1e-6,
                                             UINT64_MAX, SMG_KMEANS_KERNEL_PORTABLE, &err),
                         SMG_OK);
        assert_true(run.done);
        assert_memory_equal(legs, ref, sizeof(ref));
        assert_true(run.before == before);
        assert_true(run.after == after);
        assert_true(smg_kmeans_polish_iters(s) == iters);
        smg_kmeans_run_free(&run);
    }
    smg_kmeans_sample_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paused_runs_end_as_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

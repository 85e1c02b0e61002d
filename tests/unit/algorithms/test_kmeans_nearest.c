/*
 * Tests that smg_kmeans_nearest's kernels agree bit for bit: AUTO (AVX-512
 * where the CPU has it) against SMG_KMEANS_KERNEL_AVX2 (the 8-wide kernel),
 * labels and exact double distances compared with ==, since a model must
 * not depend on which one ran. Shapes cover every step of the AVX-512
 * kernel (4 x 16-center vectors, 3/2/1 of them, the 8-center tail), dims
 * with and without the unrolled cases, row counts off the 4- and 8-row
 * groupings, near-ties (duplicated and almost duplicated centers), inactive
 * centers, all centers inactive (no label), and no shift. A CPU without
 * AVX2 runs the same kernel twice and the test passes trivially.
 * Correctness against a float64 reference is test_kmeans.c's
 * test_nearest_kernels; this file only adds the equality.
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

/* Data near 100 + f, centers from the rows with small jitter (ties at float32 resolution). */
static void make_case(size_t n, size_t d, size_t k, uint64_t seed, float *x, double *cd,
                      double *shift)
{
    struct smg_rng r;

    smg_rng_seed(&r, seed);
    for (size_t f = 0; f < d; f++)
        shift[f] = 100.0 + (double)f;
    for (size_t i = 0; i < n * d; i++)
        x[i] = (float)(100.0 + (double)(i % d) + 4.0 * (smg_rng_uniform(&r) - 0.5));
    for (size_t j = 0; j < k; j++) {
        size_t src = (size_t)(smg_rng_next(&r) % n);
        for (size_t f = 0; f < d; f++) {
            double v = (double)x[src * d + f] - shift[f];
            if (j % 3 == 1) /* a near twin of center j - 1 */
                v = cd[(j - 1) * d + f] + (f == 0 ? 1e-7 : 0.0);
            else if (j % 5 == 2) /* an exact twin of center j - 1 */
                v = cd[(j - 1) * d + f];
            cd[j * d + f] = v;
        }
    }
}

static void run(const float *cs, const float *cn, const double *cd, size_t k, size_t d,
                const double *shift, const float *x, size_t n, enum smg_kmeans_kernel kernel,
                uint32_t *lab, double *dist)
{
    struct smg_error err = {0};
    assert_int_equal(smg_kmeans_nearest(cs, cn, cd, k, d, shift, x, n, lab, dist, kernel, &err),
                     SMG_OK);
}

static void check_same(size_t n, size_t d, size_t k, uint64_t seed, int inactive, int no_shift)
{
    float *x = malloc(n * d * sizeof(float)), *cs = malloc(k * d * sizeof(float));
    float *cn = malloc(k * sizeof(float));
    double *cd = malloc(k * d * sizeof(double)), *shift = malloc(d * sizeof(double));
    double *d1 = malloc(n * sizeof(double)), *d2 = malloc(n * sizeof(double));
    uint32_t *l1 = malloc(n * sizeof(uint32_t)), *l2 = malloc(n * sizeof(uint32_t));

    make_case(n, d, k, seed, x, cd, shift);
    smg_kmeans_float_centers(cd, k, d, cs, cn);
    for (size_t j = 0; j < k; j++)
        if (inactive == 2 || (inactive == 1 && j % 4 == 3))
            cn[j] = INFINITY;
    run(cs, cn, cd, k, d, no_shift ? NULL : shift, x, n, SMG_KMEANS_KERNEL_AUTO, l1, d1);
    run(cs, cn, cd, k, d, no_shift ? NULL : shift, x, n, SMG_KMEANS_KERNEL_AVX2, l2, d2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(l1[i], l2[i]);
        assert_memory_equal(&d1[i], &d2[i], sizeof(double));
        if (inactive == 2)
            assert_int_equal(l1[i], SMG_KMEANS_NO_LABEL);
    }
    free(x);
    free(cs);
    free(cn);
    free(cd);
    free(shift);
    free(d1);
    free(d2);
    free(l1);
    free(l2);
}

static void test_kernels_bit_identical(void **state)
{
    static const size_t dims[] = {1, 3, 8, 9, 16, 17, 31, 64};
    static const size_t ks[] = {1, 5, 8, 10, 16, 24, 40, 64, 72, 100, 129};
    static const size_t rows[] = {1, 7, 13, 300};
    (void)state;
    for (size_t a = 0; a < sizeof(dims) / sizeof(dims[0]); a++)
        for (size_t b = 0; b < sizeof(ks) / sizeof(ks[0]); b++)
            for (size_t c = 0; c < sizeof(rows) / sizeof(rows[0]); c++)
                check_same(rows[c], dims[a], ks[b], 7 + a * 100 + b * 10 + c, (int)(c % 2), 0);
}

static void test_inactive_and_unshifted(void **state)
{
    (void)state;
    check_same(300, 16, 100, 1, 2, 0); /* no active center: no label, distance to the shift */
    check_same(300, 16, 100, 2, 1, 1); /* no shift */
    check_same(263, 5, 37, 3, 0, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_bit_identical),
        cmocka_unit_test(test_inactive_and_unshifted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Tests for algorithms/pca_project against a float64 reference
 * Σ_i (x_i − mean_i) v_ij, on synthetic data with fixed seeds: with and
 * without a mean, data far from the origin (where centring before the product
 * matters), blocking (d so large that one block holds a single row), bad
 * arguments and allocation failure; and the CSR form (smg_pca_project_csr)
 * on the same rows, sparse and not, against the same reference.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "algorithms/pca_project.h"
#include "csr_helpers.h"
#include "io/base/alloc.h"

static uint64_t rng_state;

static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

/*
 * out (n x m) from the CSR form of x (its non-zero entries):
 * smg_pca_project_csr with mean . v from smg_pca_mean_projection.
 */
static void project_csr(const float *v, size_t d, size_t m, const float *mean, const float *x,
                        size_t n, float *out)
{
    double *mean_v = malloc(m * sizeof(*mean_v));
    struct smg_batch b = test_dense_to_csr(x, n, d);
    struct smg_error err;

    if (mean != NULL)
        smg_pca_mean_projection(v, d, m, mean, mean_v);
    smg_error_clear(&err);
    assert_int_equal(smg_pca_project_csr(v, d, m, mean ? mean_v : NULL, &b, out, &err), SMG_OK);
    test_free_csr(&b);
    free(mean_v);
}

/*
 * Max abs error of smg_pca_project against the float64 reference, and of
 * smg_pca_project_csr on the same rows. sparsity: the share of x set to 0.
 */
static double project_error_sparse(size_t d, size_t m, size_t n, double offset, bool with_mean,
                                   double sparsity)
{
    float *v = malloc(d * m * sizeof(float)), *mean = malloc(d * sizeof(float));
    float *x = malloc(n * d * sizeof(float)), *out = malloc(n * m * sizeof(float));
    float *out_csr = malloc(n * m * sizeof(float));
    struct smg_error err;
    double maxerr = 0;

    for (size_t i = 0; i < d * m; i++)
        v[i] = (float)((uniform() - 0.5) / sqrt((double)d));
    for (size_t i = 0; i < d; i++)
        mean[i] = (float)(offset + uniform());
    for (size_t i = 0; i < n * d; i++)
        x[i] = uniform() < sparsity ? 0.0f : (float)(offset + 2 * uniform());
    smg_error_clear(&err);
    assert_int_equal(smg_pca_project(v, d, m, with_mean ? mean : NULL, x, n, out, &err), SMG_OK);
    project_csr(v, d, m, with_mean ? mean : NULL, x, n, out_csr);
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < m; j++) {
            double want = 0;
            for (size_t i = 0; i < d; i++)
                want += ((double)x[r * d + i] - (with_mean ? (double)mean[i] : 0.0)) *
                        (double)v[i * m + j];
            maxerr = fmax(maxerr, fabs((double)out[r * m + j] - want));
            maxerr = fmax(maxerr, fabs((double)out_csr[r * m + j] - want));
        }
    free(v);
    free(mean);
    free(x);
    free(out);
    free(out_csr);
    return maxerr;
}

/* Max abs error of smg_pca_project against the float64 reference. */
static double project_error(size_t d, size_t m, size_t n, double offset, bool with_mean)
{
    float *v = malloc(d * m * sizeof(float)), *mean = malloc(d * sizeof(float));
    float *x = malloc(n * d * sizeof(float)), *out = malloc(n * m * sizeof(float));
    struct smg_error err;
    double maxerr = 0;

    for (size_t i = 0; i < d * m; i++)
        v[i] = (float)((uniform() - 0.5) / sqrt((double)d));
    for (size_t i = 0; i < d; i++)
        mean[i] = (float)(offset + uniform());
    for (size_t i = 0; i < n * d; i++)
        x[i] = (float)(offset + 2 * uniform());
    smg_error_clear(&err);
    assert_int_equal(smg_pca_project(v, d, m, with_mean ? mean : NULL, x, n, out, &err), SMG_OK);
    for (size_t r = 0; r < n; r++)
        for (size_t j = 0; j < m; j++) {
            double want = 0;
            for (size_t i = 0; i < d; i++)
                want += ((double)x[r * d + i] - (with_mean ? (double)mean[i] : 0.0)) *
                        (double)v[i * m + j];
            maxerr = fmax(maxerr, fabs((double)out[r * m + j] - want));
        }
    free(v);
    free(mean);
    free(x);
    free(out);
    return maxerr;
}

static void test_reference(void **state)
{
    (void)state;
    rng_state = 1;
    /* Unit-scale values, d = 26: float32 error ~1e-7; allow 1e-5 (the fixture tolerance). */
    assert_true(project_error(26, 25, 300, 0.0, true) < 1e-5);
    assert_true(project_error(26, 25, 300, 0.0, false) < 1e-5);
    /* Data near 1000: centring first keeps the error at the scale of x - mean. */
    assert_true(project_error(20, 5, 100, 1000.0, true) < 1e-5);
}

/* The CSR form (x . v - mean . v in double) on sparse and on dense-ish rows. */
static void test_csr(void **state)
{
    (void)state;
    rng_state = 3;
    assert_true(project_error_sparse(300, 7, 200, 0.0, true, 0.95) < 1e-5);
    assert_true(project_error_sparse(300, 7, 200, 0.0, false, 0.95) < 1e-5);
    assert_true(project_error_sparse(26, 25, 100, 0.0, true, 0.0) < 1e-5);
    /* Near 1000, x - mean ~ 1: subtracting after the product costs ~1e-16 of |x||v| in double. */
    assert_true(project_error_sparse(20, 5, 100, 1000.0, true, 0.0) < 1e-5);
}

static void test_blocking(void **state)
{
    (void)state;
    rng_state = 2;
    /* d = 2^20 + 1: one block is a single row, 3 rows make 3 sgemm calls. */
    assert_true(project_error((1u << 20) + 1, 1, 3, 0.0, true) < 1e-3);
}

static void test_bad_args_and_alloc(void **state)
{
    const float v[2] = {1, 0}, mean[2] = {1, 1}, x[2] = {3, 5};
    float out = 0;
    struct smg_error err;
    int rc;
    (void)state;

    smg_error_clear(&err);
    assert_int_equal(smg_pca_project(v, 0, 1, NULL, x, 1, &out, &err), SMG_EINTERNAL);
    assert_int_equal(smg_pca_project(v, 2, 1, NULL, x, 0, &out, &err), SMG_OK);
    for (long n = 0;; n++) {
        smg_error_clear(&err);
        smg_alloc_fail_after(n);
        rc = smg_pca_project(v, 2, 1, mean, x, 1, &out, &err);
        smg_alloc_reset();
        if (rc == SMG_OK)
            break;
        assert_int_equal(rc, SMG_ENOMEM);
    }
    assert_true(out == 2.0f); /* (3 - 1) * 1 + (5 - 1) * 0 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference),
        cmocka_unit_test(test_csr),
        cmocka_unit_test(test_blocking),
        cmocka_unit_test(test_bad_args_and_alloc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

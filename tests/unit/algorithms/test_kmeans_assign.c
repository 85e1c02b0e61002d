/*
 * Tests for algorithms/kmeans_assign against a float64 brute-force reference
 * (argmin of Σ(x − c)² in double, lowest index on ties), on synthetic data
 * with fixed seeds:
 * - random data: labels equal the reference; distances within 1e-5 relative
 *   (float32 expansion on well-separated, unit-scale data);
 * - near-ties far from the origin, where the float32 expansion cannot tell
 *   the centroids apart: labels still equal the exact reference;
 * - exact ties (duplicate centroids) go to the lowest index;
 * - a row on its centroid far from the origin gets distance ~0, not the
 *   expansion's rounding noise;
 * - blocking (k so large that one block is 3 rows), NaN rows, bad arguments,
 *   and allocation failure (SMG_ENOMEM, no leak under ASan);
 * - every reference check runs the same rows as a CSR batch too
 *   (smg_kmeans_assign_csr: sparse dots in double), plus genuinely sparse rows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "algorithms/kmeans_assign.h"
#include "csr_helpers.h"
#include "io/base/alloc.h"

static uint64_t rng_state;

static double uniform(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static uint32_t reference(const float *c, size_t k, size_t d, const float *x, double *dist)
{
    uint32_t best = 0;
    double bd = INFINITY;
    for (size_t j = 0; j < k; j++) {
        double s = 0;
        for (size_t i = 0; i < d; i++) {
            double t = (double)x[i] - (double)c[j * d + i];
            s += t * t;
        }
        if (s < bd) {
            bd = s;
            best = (uint32_t)j;
        }
    }
    *dist = sqrt(bd);
    return best;
}

static void check_rows(const float *c, size_t k, size_t d, const float *x, size_t n,
                       const uint32_t *lab, const float *dist, double rel_tol, const char *what);

/*
 * Labels equal the reference and distances are within rel_tol of it, for the
 * dense rows and for the same rows as a CSR batch (smg_kmeans_assign_csr).
 */
static void check_against_reference(const float *c, size_t k, size_t d, const float *x, size_t n,
                                    double rel_tol)
{
    uint32_t *lab = malloc(n * sizeof(*lab));
    float *dist = malloc(n * sizeof(*dist));
    struct smg_kmeans_assigner *a = NULL;
    struct smg_batch csr = test_dense_to_csr(x, n, d);
    struct smg_error err;

    smg_error_clear(&err);
    assert_int_equal(smg_kmeans_assign_batch(c, k, d, x, n, lab, dist, &err), SMG_OK);
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            assert_int_equal(smg_kmeans_assigner_new(c, k, d, &a, &err), SMG_OK);
            assert_int_equal(smg_kmeans_assign_csr(a, &csr, lab, dist, &err), SMG_OK);
            smg_kmeans_assigner_free(a);
        }
        check_rows(c, k, d, x, n, lab, dist, rel_tol, pass == 1 ? "CSR" : "dense");
    }
    test_free_csr(&csr);
    free(lab);
    free(dist);
}

static void check_rows(const float *c, size_t k, size_t d, const float *x, size_t n,
                       const uint32_t *lab, const float *dist, double rel_tol, const char *what)
{
    for (size_t i = 0; i < n; i++) {
        double want;
        uint32_t wl = reference(c, k, d, x + i * d, &want);
        if (lab[i] != wl)
            fail_msg("%s row %zu: label %u, reference %u", what, i, lab[i], wl);
        if (fabs((double)dist[i] - want) > rel_tol * want + 1e-30)
            fail_msg("%s row %zu: distance %.9g, reference %.9g", what, i, (double)dist[i], want);
    }
}

static void test_random(void **state)
{
    enum { K = 13, D = 9, N = 2000 };
    float *c = malloc(K * D * sizeof(float)), *x = malloc(N * D * sizeof(float));
    (void)state;

    rng_state = 42;
    for (size_t i = 0; i < K * D; i++)
        c[i] = (float)(uniform() * 2 - 1);
    for (size_t i = 0; i < N * D; i++)
        x[i] = (float)(uniform() * 2 - 1);
    /* Unit-scale data: the float32 expansion is good to ~1e-6; allow 1e-5. */
    check_against_reference(c, K, D, x, N, 1e-5);
    free(c);
    free(x);
}

/*
 * Sparse rows (95% zeros, some rows empty) at d = 300: the CSR path, whose
 * products skip the zeros, against the same reference (in double: 1e-6).
 */
static void test_sparse_rows(void **state)
{
    enum { K = 11, D = 300, N = 400 };
    float *c = malloc(K * D * sizeof(float)), *x = calloc(N * D, sizeof(float));
    (void)state;

    rng_state = 5;
    for (size_t i = 0; i < K * D; i++)
        c[i] = uniform() < 0.1 ? (float)(uniform() * 4 - 2) : 0.0f;
    for (size_t r = 0; r < N; r++)
        for (size_t i = 0; r % 17 != 0 && i < D; i++)
            if (uniform() < 0.05)
                x[r * D + i] = (float)(uniform() * 4 - 2);
    check_against_reference(c, K, D, x, N, 1e-5);
    free(c);
    free(x);
}

/*
 * Issue 12 (scale safety, inference side): the same random problem scaled by
 * 1e-25 .. 1e25, where float32 squares underflow or overflow, still gets the
 * exact nearest centroid and its distance within 1e-5.
 */
static void test_extreme_scales(void **state)
{
    enum { K = 7, D = 5, N = 600 };
    static const double scales[] = {1e-25, 1e-18, 1e18, 1e25};
    float *c = malloc(K * D * sizeof(float)), *x = malloc(N * D * sizeof(float));
    (void)state;

    for (size_t s = 0; s < sizeof(scales) / sizeof(scales[0]); s++) {
        rng_state = 99;
        for (size_t i = 0; i < K * D; i++)
            c[i] = (float)((uniform() * 2 - 1) * scales[s]);
        for (size_t i = 0; i < N * D; i++)
            x[i] = (float)((uniform() * 2 - 1) * scales[s]);
        check_against_reference(c, K, D, x, N, 1e-5);
    }
    free(c);
    free(x);
}

/*
 * Rows whose every square underflows float32 (1e-25) against a unit-scale
 * model: their squared norm is 0 but the row is not, so they are measured in
 * double (the expansion gave distance 0). Dense and CSR.
 */
static void test_underflowing_rows_unit_model(void **state)
{
    const float c[6] = {0, 0, 0, 1, 1, 1};
    const float x[9] = {1.5e-25f, 0, 0, 0, -2e-25f, 0.5e-25f, 0, 0, 0};
    (void)state;

    check_against_reference(c, 2, 3, x, 3, 1e-6);
}

static void test_near_ties_far_from_origin(void **state)
{
    enum { K = 2, D = 4, N = 500 };
    float c[K * D], *x = malloc(N * D * sizeof(float));
    (void)state;

    rng_state = 7;
    /* Two centroids 2e-3 apart around 1000: x·c ~ 4e6, float32 ulp there ~0.25. */
    for (size_t i = 0; i < D; i++) {
        c[i] = 1000.0f;
        c[D + i] = 1000.0f + (i == 0 ? 2e-3f : 0.0f);
    }
    for (size_t r = 0; r < N; r++)
        for (size_t i = 0; i < D; i++)
            x[r * D + i] = 1000.0f + (float)((uniform() - 0.5) * 8e-3);
    /* Labels exact; distances here are ~1e-3 next to norms ~2000, so they fall
     * back to the exact value: 1e-6 relative. */
    check_against_reference(c, K, D, x, N, 1e-6);
    free(x);
}

static void test_ties_and_on_centroid(void **state)
{
    const float c[3 * 2] = {5000, 5000, 1, 1, 1, 1};
    const float x[3 * 2] = {1, 1, 5000, 5000, 3, 1};
    uint32_t lab[3];
    float dist[3];
    struct smg_error err;
    (void)state;

    smg_error_clear(&err);
    assert_int_equal(smg_kmeans_assign_batch(c, 3, 2, x, 3, lab, dist, &err), SMG_OK);
    assert_int_equal(lab[0], 1); /* tie between 1 and 2: lowest index */
    assert_true(dist[0] == 0.0f);
    assert_int_equal(lab[1], 0);
    assert_true(dist[1] < 1e-3f); /* on the centroid: exact 0, not rounding noise */
    assert_int_equal(lab[2], 1);
    assert_true(fabsf(dist[2] - 2.0f) < 1e-6f);
}

static void test_blocking(void **state)
{
    /* k = 2^20 / 3 + 1 centroids of dimension 1: one block holds 2 rows. */
    const size_t k = (1u << 20) / 3 + 1, n = 11;
    float *c = malloc(k * sizeof(float)), x[11];
    (void)state;

    for (size_t j = 0; j < k; j++)
        c[j] = (float)j * 0.5f;
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(i * 1000) + 0.3f;
    check_against_reference(c, k, 1, x, n, 1e-5);
    free(c);
}

static void test_nan_and_bad_args(void **state)
{
    const float c[2] = {0, 1};
    const float x[2] = {NAN, 0.9f};
    uint32_t lab[2];
    float dist[2];
    struct smg_kmeans_assigner *a = NULL;
    struct smg_error err;
    (void)state;

    smg_error_clear(&err);
    assert_int_equal(smg_kmeans_assign_batch(c, 2, 1, x, 2, lab, dist, &err), SMG_OK);
    assert_int_equal(lab[0], 0);
    assert_true(isnan(dist[0]));
    assert_int_equal(lab[1], 1);
    assert_int_equal(smg_kmeans_assign_batch(c, 2, 1, x, 2, lab, NULL, &err), SMG_OK);
    assert_int_equal(smg_kmeans_assigner_new(c, 0, 1, &a, &err), SMG_EINTERNAL);
    assert_null(a);
    assert_int_equal(smg_kmeans_assigner_new(c, 2, 0, &a, &err), SMG_EINTERNAL);
    assert_int_equal(smg_kmeans_assign_batch(c, 2, 1, x, 0, lab, dist, &err), SMG_OK);
    smg_kmeans_assigner_free(NULL);
}

static void test_alloc_failure(void **state)
{
    const float c[4] = {0, 0, 1, 1};
    const float x[2] = {0.9f, 0.8f};
    uint32_t lab;
    float dist;
    struct smg_error err;
    int rc;
    (void)state;

    for (long n = 0;; n++) {
        smg_error_clear(&err);
        smg_alloc_fail_after(n);
        rc = smg_kmeans_assign_batch(c, 2, 2, x, 1, &lab, &dist, &err);
        smg_alloc_reset();
        if (rc == SMG_OK)
            break;
        assert_int_equal(rc, SMG_ENOMEM);
    }
    assert_int_equal(lab, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_sparse_rows),
        cmocka_unit_test(test_underflowing_rows_unit_model),
        cmocka_unit_test(test_near_ties_far_from_origin),
        cmocka_unit_test(test_extreme_scales),
        cmocka_unit_test(test_ties_and_on_centroid),
        cmocka_unit_test(test_blocking),
        cmocka_unit_test(test_nan_and_bad_args),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Unit tests of randomized PCA's Gram sketch solve (algorithms/pca_gram_sketch.c)
 * through the public interface (pca.h): its shifted solve on data where an
 * isotropic noise floor over d = 500 features rivals the weakest kept
 * component, the case the unshifted solve missed (issue 12).
 *
 * Data: rank-10 signal (sd 10 .. 1 along random unit directions) around an
 * offset of 5, plus Gaussian noise of the stated sd in every feature, as
 * benchmarks/bench_pca_randomized.py makes it. Reference: the float64
 * co-moment of the same float32 rows, centred on their exact mean, and a full
 * LAPACKE eigen-solve. The bar, at the default extra_components: the largest
 * principal angle between the top-k subspaces <= 1 degree and every singular
 * value within 1% (the acceptance bar). The unshifted solve is run on
 * the same data and shown to miss it, so the bar is not loose.
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "algorithms/pca.h"

#define D    500
#define RANK 10
#define ROWS 20000

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double rng_normal(void)
{
    double u = ((double)(rng_next() >> 11) + 0.5) * 0x1p-53;
    double v = (double)(rng_next() >> 11) * 0x1p-53;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* n rows: 5 + sum_j z_j sd_j u_j + noise e, u_j random unit vectors, sd 10 .. 1. */
static float *noise_floor_rows(size_t n, double noise, uint64_t seed)
{
    float *x = malloc(n * D * sizeof(float));
    double *basis = malloc(RANK * D * sizeof(double));
    rng_state = seed;
    for (size_t j = 0; j < RANK; j++) {
        double nn = 0.0;
        for (size_t f = 0; f < D; f++) {
            basis[j * D + f] = rng_normal();
            nn += basis[j * D + f] * basis[j * D + f];
        }
        for (size_t f = 0; f < D; f++)
            basis[j * D + f] /= sqrt(nn);
    }
    for (size_t i = 0; i < n; i++) {
        double z[RANK];
        for (size_t j = 0; j < RANK; j++)
            z[j] = rng_normal() * (10.0 - 9.0 * (double)j / (RANK - 1));
        for (size_t f = 0; f < D; f++) {
            double v = 5.0 + noise * rng_normal();
            for (size_t j = 0; j < RANK; j++)
                v += z[j] * basis[j * D + f];
            x[i * D + f] = (float)v;
        }
    }
    free(basis);
    return x;
}

struct reference {
    double *vecs; /* D x D row-major, eigenvectors in columns, ascending */
    double w[D];
};

static void reference_solve(const float *x, size_t n, struct reference *ref)
{
    double mean[D] = {0}, *xc = malloc(n * D * sizeof(double));
    ref->vecs = calloc(D * D, sizeof(double));
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < D; f++)
            mean[f] += x[i * D + f];
    for (size_t f = 0; f < D; f++)
        mean[f] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < D; f++)
            xc[i * D + f] = (double)x[i * D + f] - mean[f];
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, D, (int)n, 1.0, xc, D, 0.0, ref->vecs, D);
    free(xc);
    assert_int_equal(LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', D, ref->vecs, D, ref->w), 0);
}

struct errors {
    double angle_deg, s_rel;
};

/* Largest principal angle between res's and the reference's top k, and worst s error. */
static struct errors errors_of(const struct smg_pca_result *res, const struct reference *ref)
{
    const size_t k = res->num_components;
    double m[RANK * RANK], sv[RANK], superb[RANK];
    struct errors e = {0.0, 0.0};
    for (size_t a = 0; a < k; a++) /* m = V_ref^T V (k x k) */
        for (size_t b = 0; b < k; b++) {
            double acc = 0.0;
            for (size_t f = 0; f < D; f++)
                acc += ref->vecs[f * D + (D - 1 - a)] * res->v[f * k + b];
            m[a * k + b] = acc;
        }
    assert_int_equal(LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', (lapack_int)k, (lapack_int)k, m,
                                    (lapack_int)k, sv, NULL, 1, NULL, 1, superb),
                     0);
    e.angle_deg = acos(fmin(1.0, sv[k - 1])) * 180.0 / 3.141592653589793;
    for (size_t j = 0; j < k; j++) {
        double want = sqrt(ref->w[D - 1 - j]);
        e.s_rel = fmax(e.s_rel, fabs(res->s[j] - want) / want);
    }
    return e;
}

static struct smg_pca_config randomized(size_t k, enum smg_pca_sketch_kind kind)
{
    struct smg_pca_config c = {.feature_dim = D, .num_components = k, .subtract_mean = true};
    c.mode = SMG_PCA_RANDOMIZED;
    c.seed = SMG_PCA_DEFAULT_SEED;
    c.extra_components = -1;
    c.sketch = kind;
    return c;
}

/* The rows [lo, hi) into a new accumulator, in batches of 1000. */
static struct smg_pca *fed(const struct smg_pca_config *cfg, const float *x, size_t lo, size_t hi)
{
    struct smg_pca *p = NULL;
    struct smg_error err = {0};
    assert_int_equal(smg_pca_new(cfg, &p, &err), SMG_OK);
    for (size_t i = lo; i < hi; i += 1000) {
        struct smg_batch b = {.x = x + i * D, .rows = hi - i < 1000 ? hi - i : 1000, .cols = D};
        b.first_record = i - lo;
        assert_int_equal(smg_pca_update(p, &b, &err), SMG_OK);
    }
    return p;
}

static struct errors solve_errors(struct smg_pca *p, const struct reference *ref,
                                  struct smg_pca_result *res)
{
    struct smg_error err = {0};
    assert_int_equal(smg_pca_solve(p, res, &err), SMG_OK);
    return errors_of(res, ref);
}

/*
 * One case: the shifted solve meets the bar, the unshifted one misses it on
 * the same sketch, and the shifted model from the rows split 3 ways (ranks
 * combined) equals the one-part model within 1e-6 (s relative, v absolute).
 */
static void noise_floor_case(size_t k, double noise, uint64_t seed)
{
    float *x = noise_floor_rows(ROWS, noise, seed);
    struct reference ref;
    struct smg_pca_config cfg = randomized(k, SMG_PCA_SKETCH_GRAM);
    struct smg_pca_result one, old, split;
    struct smg_pca *parts[3];
    struct smg_error err = {0};
    struct errors e_new, e_old;

    reference_solve(x, ROWS, &ref);
    parts[0] = fed(&cfg, x, 0, ROWS);
    e_new = solve_errors(parts[0], &ref, &one);
    smg_pca_free(parts[0]);
    cfg.sketch = SMG_PCA_SKETCH_GRAM_UNSHIFTED;
    parts[0] = fed(&cfg, x, 0, ROWS);
    e_old = solve_errors(parts[0], &ref, &old);
    smg_pca_free(parts[0]);
    print_message("noise %.2g k=%zu: shifted %.3g deg, s %.3g%%; unshifted %.3g deg, s %.3g%%\n",
                  noise, k, e_new.angle_deg, 100 * e_new.s_rel, e_old.angle_deg, 100 * e_old.s_rel);
    assert_true(e_new.angle_deg <= 1.0 && e_new.s_rel <= 0.01);
    assert_true(e_old.angle_deg > 1.0 || e_old.s_rel > 0.01);

    cfg.sketch = SMG_PCA_SKETCH_GRAM;
    for (int r = 0; r < 3; r++) {
        cfg.rank = r;
        parts[r] = fed(&cfg, x, ROWS * (size_t)r / 3, ROWS * (size_t)(r + 1) / 3);
    }
    assert_int_equal(smg_pca_combine(parts, 3, &err), SMG_OK);
    assert_int_equal(smg_pca_solve(parts[0], &split, &err), SMG_OK);
    for (size_t j = 0; j < k; j++)
        assert_true(fabs(split.s[j] - one.s[j]) <= 1e-6 * one.s[j]);
    for (size_t i = 0; i < D * k; i++)
        assert_true(fabs(split.v[i] - one.v[i]) <= 1e-6);
    for (int r = 0; r < 3; r++)
        smg_pca_free(parts[r]);
    smg_pca_result_free(&one);
    smg_pca_result_free(&old);
    smg_pca_result_free(&split);
    free(ref.vecs);
    free(x);
}

static void test_noise_01_k10(void **state)
{
    (void)state;
    noise_floor_case(10, 0.1, 4);
}

static void test_noise_03_k3(void **state)
{
    (void)state;
    noise_floor_case(3, 0.3, 5);
}

/* n rows with a decaying spectrum: feature f is 3 + 10 * decay^f * N(0, 1). */
static float *decaying_rows(size_t n, double decay, uint64_t seed)
{
    float *x = malloc(n * D * sizeof(float));
    rng_state = seed;
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < D; f++)
            x[i * D + f] = (float)(3.0 + 10.0 * pow(decay, (double)f) * rng_normal());
    return x;
}

/*
 * Do no harm: on a decaying tail (no noise floor) the shift is small, and the
 * default solve is at least as close to the exact answer as the unshifted one
 * (angle and s error each no more than 1.05 times the unshifted solve's).
 */
static void test_decaying_tail_no_worse(void **state)
{
    (void)state;
    static const double decays[] = {0.9, 0.97};
    for (size_t c = 0; c < 2; c++) {
        float *x = decaying_rows(ROWS, decays[c], 6 + c);
        struct reference ref;
        struct smg_pca_config cfg = randomized(3 + 7 * c, SMG_PCA_SKETCH_GRAM);
        struct smg_pca_result a, b;
        struct smg_pca *p;
        struct errors e_new, e_old;

        reference_solve(x, ROWS, &ref);
        p = fed(&cfg, x, 0, ROWS);
        e_new = solve_errors(p, &ref, &a);
        smg_pca_free(p);
        cfg.sketch = SMG_PCA_SKETCH_GRAM_UNSHIFTED;
        p = fed(&cfg, x, 0, ROWS);
        e_old = solve_errors(p, &ref, &b);
        smg_pca_free(p);
        print_message(
            "decay %.2f k=%zu: shifted %.3g deg, s %.3g%%; unshifted %.3g deg, s %.3g%%\n",
            decays[c], cfg.num_components, e_new.angle_deg, 100 * e_new.s_rel, e_old.angle_deg,
            100 * e_old.s_rel);
        assert_true(e_new.angle_deg <= 1.05 * e_old.angle_deg);
        assert_true(e_new.s_rel <= 1.05 * e_old.s_rel);
        smg_pca_result_free(&a);
        smg_pca_result_free(&b);
        free(ref.vecs);
        free(x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_noise_01_k10),
        cmocka_unit_test(test_noise_03_k3),
        cmocka_unit_test(test_decaying_tail_no_worse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

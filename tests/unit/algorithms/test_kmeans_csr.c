/*
 * k-means on CSR mini-batches (kmeans_csr.h): the sparse nearest-center
 * search against a brute-force double reference (shifted centers, an
 * inactive center, rows on a center with large norms where the expansion
 * cancels: the distance is clamped at 0, never negative); and whole
 * streaming runs (init by random and kmeans++, Lloyd refinement, steps with
 * reseeding, shrink, scoring) on the same rows given densely and as CSR,
 * whose centers, weights, shift and scores agree within 1e-5.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "algorithms/kmeans.h"
#include "algorithms/kmeans_csr.h"

struct data {
    size_t n, d;
    uint64_t *indptr;
    uint32_t *indices;
    float *values;
    float *dense;
};

static uint64_t rng = 88172645463325252ull;

static uint64_t next_u64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double uniform(void)
{
    return (double)(next_u64() >> 11) / 9007199254740992.0;
}

/* c sparse clusters: cluster g lives mostly on columns [g * w, (g + 1) * w). */
static struct data make_data(size_t n, size_t d, size_t c)
{
    struct data x = {.n = n, .d = d};
    size_t w = d / c, nnz = 0;
    x.indptr = calloc(n + 1, sizeof(uint64_t));
    x.indices = malloc(n * d * sizeof(uint32_t));
    x.values = malloc(n * d * sizeof(float));
    x.dense = calloc(n * d, sizeof(float));
    for (size_t i = 0; i < n; i++) {
        size_t g = next_u64() % c;
        for (size_t f = 0; f < d; f++) {
            bool own = f / w == g;
            if (!(own ? uniform() < 0.4 : uniform() < 0.01))
                continue;
            float v = (float)((own ? 3.0 : 0.5) * uniform() + (own ? 1.0 : 0.0));
            x.indices[nnz] = (uint32_t)f;
            x.values[nnz++] = v;
            x.dense[i * d + f] = v;
        }
        x.indptr[i + 1] = nnz;
    }
    return x;
}

static void free_data(struct data *x)
{
    free(x->indptr);
    free(x->indices);
    free(x->values);
    free(x->dense);
}

static struct smg_batch batch(const struct data *x, size_t a, size_t n, bool csr)
{
    struct smg_batch b = {.rows = n, .cols = x->d, .first_record = a};
    if (!csr) {
        b.x = x->dense + a * x->d;
        return b;
    }
    b.indptr = x->indptr + a;
    b.indices = x->indices;
    b.values = x->values;
    return b;
}

static void test_nearest_matches_reference(void **state)
{
    const size_t k = 7, d = 120;
    struct data x = make_data(400, d, 4);
    double *cd = malloc(k * d * sizeof(double)), shift[120], dist[400];
    float cnorm[7] = {0};
    uint32_t lab[400];
    struct smg_kmeans_csr *kc;
    struct smg_batch b = batch(&x, 0, x.n, true);
    (void)state;
    for (size_t f = 0; f < d; f++)
        shift[f] = uniform();
    for (size_t j = 0; j < k; j++) /* centers on rows 3j, stored minus shift */
        for (size_t f = 0; f < d; f++)
            cd[j * d + f] = (double)x.dense[3 * j * d + f] - shift[f];
    cnorm[2] = INFINITY; /* inactive: never wins, even for row 6 which it equals */
    assert_int_equal(smg_kmeans_csr_new(k, d, &kc, NULL), SMG_OK);
    smg_kmeans_csr_load(kc, cd, cnorm, shift);
    smg_kmeans_csr_nearest(kc, cd, shift, &b, lab, dist);
    for (size_t i = 0; i < x.n; i++) {
        double best = INFINITY;
        size_t bj = 0;
        for (size_t j = 0; j < k; j++) {
            double s = 0;
            if (j == 2)
                continue;
            for (size_t f = 0; f < d; f++) {
                double e = ((double)x.dense[i * d + f] - shift[f]) - cd[j * d + f];
                s += e * e;
            }
            if (s < best) {
                best = s;
                bj = j;
            }
        }
        assert_int_equal(lab[i], bj); /* well separated: no near-ties */
        assert_true(dist[i] >= 0.0);
        assert_true(fabs(dist[i] - best) <= 1e-9 * (1.0 + best));
    }
    /* Rows that are centers: 0 up to the expansion's rounding, |c|^2 * 1e-15. */
    assert_true(dist[0] <= 1e-15 * d * 16.0 && dist[3] <= 1e-15 * d * 16.0);
    smg_kmeans_csr_free(kc);
    free(cd);
    free_data(&x);
}

/* A row on a center whose norm is 1e8 times the row's own spread: clamped, >= 0. */
static void test_cancellation_clamped(void **state)
{
    const size_t d = 3;
    double cd[3] = {1e4, 1e4 + 1e-3, 0}, dist;
    uint64_t indptr[2] = {0, 2};
    uint32_t indices[2] = {0, 1};
    float values[2] = {(float)1e4, (float)(1e4 + 1e-3)};
    struct smg_batch b = {
        .rows = 1, .cols = d, .indptr = indptr, .indices = indices, .values = values};
    struct smg_kmeans_csr *kc;
    uint32_t lab;
    (void)state;
    cd[1] = (double)values[1];
    assert_int_equal(smg_kmeans_csr_new(1, d, &kc, NULL), SMG_OK);
    smg_kmeans_csr_load(kc, cd, NULL, NULL);
    smg_kmeans_csr_nearest(kc, cd, NULL, &b, &lab, &dist);
    assert_int_equal(lab, 0);
    assert_true(dist == 0.0);
    smg_kmeans_csr_free(kc);
}

static struct smg_kmeans *stream(const struct smg_kmeans_config *cfg, const struct data *x,
                                 size_t bs, bool csr)
{
    struct smg_kmeans *km;
    struct smg_batch b0 = batch(x, 0, bs, csr);
    bool done = false;
    assert_int_equal(smg_kmeans_new(cfg, &km, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_init(km, NULL, &b0, NULL), SMG_OK);
    for (size_t r = 0; r < x->n; r += bs) {
        struct smg_batch b = batch(x, r, x->n - r < bs ? x->n - r : bs, csr);
        assert_int_equal(smg_kmeans_step(km, NULL, &b, &done, NULL), SMG_OK);
    }
    assert_int_equal(smg_kmeans_step(km, NULL, NULL, &done, NULL), SMG_OK);
    assert_true(done);
    return km;
}

static void assert_close(const double *a, const double *b, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) > 1e-5 * scale)
            fail_msg("entry %zu: %.9g vs %.9g", i, a[i], b[i]);
}

static void run_case(enum smg_kmeans_init init, size_t factor)
{
    const size_t d = 200, k = 5, bs = 500;
    struct data x = make_data(4000, d, 5);
    struct smg_kmeans_config cfg = {.k = k,
                                    .extra_center_factor = factor,
                                    .dim = d,
                                    .init_method = init,
                                    .seed = 11,
                                    .init_lloyd_iters = 20,
                                    .lloyd_init_method = SMG_KMEANS_INIT_KMEANSPP,
                                    .lloyd_max_iter = 100,
                                    .lloyd_tol = 1e-4,
                                    .lloyd_trials = 3,
                                    .quiet = true};
    struct smg_kmeans *a = stream(&cfg, &x, bs, false), *b = stream(&cfg, &x, bs, true);
    size_t K = smg_kmeans_num_centers(a);
    float ca[5 * 200], cb[5 * 200];
    double la, lb, sa = 0, sb = 0, da[5 * 200], db[5 * 200];
    uint64_t ra = 0, rb = 0;
    uint32_t *lab_a = malloc(x.n * sizeof(uint32_t)), *lab_b = malloc(x.n * sizeof(uint32_t));
    struct smg_batch all_d = batch(&x, 0, x.n, false), all_c = batch(&x, 0, x.n, true);

    assert_close(smg_kmeans_shift(a), smg_kmeans_shift(b), d, 1.0);
    assert_close(smg_kmeans_centers(a), smg_kmeans_centers(b), K * d, 4.0);
    assert_close(smg_kmeans_weights(a), smg_kmeans_weights(b), K, 1.0);
    assert_int_equal(smg_kmeans_reseeds(a), smg_kmeans_reseeds(b));
    assert_true(fabs(smg_kmeans_stream_sse(a) - smg_kmeans_stream_sse(b)) <=
                1e-5 * smg_kmeans_stream_sse(a));
    assert_int_equal(smg_kmeans_shrink(a, ca, &la, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_shrink(b, cb, &lb, NULL), SMG_OK);
    for (size_t i = 0; i < k * d; i++) {
        da[i] = ca[i];
        db[i] = cb[i];
    }
    assert_close(da, db, k * d, 4.0);
    assert_int_equal(smg_kmeans_score(ca, k, d, smg_kmeans_shift(a), &all_d, &sa, &ra, lab_a,
                                      SMG_KMEANS_KERNEL_AUTO, NULL),
                     SMG_OK);
    assert_int_equal(smg_kmeans_score(ca, k, d, smg_kmeans_shift(a), &all_c, &sb, &rb, lab_b,
                                      SMG_KMEANS_KERNEL_AUTO, NULL),
                     SMG_OK);
    assert_int_equal(ra, rb);
    assert_memory_equal(lab_a, lab_b, x.n * sizeof(uint32_t));
    assert_true(fabs(sa - sb) <= 1e-9 * sa); /* both exact in double */
    smg_kmeans_free(a);
    smg_kmeans_free(b);
    free(lab_a);
    free(lab_b);
    free_data(&x);
}

static void test_stream_random(void **state)
{
    (void)state;
    run_case(SMG_KMEANS_INIT_RANDOM, 4);
}

static void test_stream_kmeanspp(void **state)
{
    (void)state;
    run_case(SMG_KMEANS_INIT_KMEANSPP, 4);
}

static void test_stream_no_shrink(void **state)
{
    (void)state;
    run_case(SMG_KMEANS_INIT_KMEANSPP, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nearest_matches_reference),
        cmocka_unit_test(test_cancellation_clamped),
        cmocka_unit_test(test_stream_random),
        cmocka_unit_test(test_stream_kmeanspp),
        cmocka_unit_test(test_stream_no_shrink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * k-means on CSR mini-batches (kmeans_csr.h): the sparse nearest-center
 * search against a brute-force double reference (shifted centers, an
 * inactive center, rows on a center with large norms where the expansion
 * cancels: the distance is clamped at 0, never negative); and whole
 * streaming runs (init by random and kmeans++, Lloyd refinement, steps with
 * reseeding, shrink, scoring) on the same rows given densely and as CSR,
 * whose centers, weights, shift and scores agree within 1e-5; a sparse run
 * checkpointed half-way or fed dense and CSR batches in turn agrees too;
 * sparse row equality as densified; and the shrink's Lloyd on pairwise
 * distances (points fewer than features) reaching a true Lloyd fixed point.
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
#include "algorithms/kmeans_csr_lazy.h"
#include "io/base/buffer.h"

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

/* Values and dense copy times scale (a power of ten: the float rounding is the data's). */
static void scale_data(struct data *x, double scale)
{
    for (uint64_t p = 0; p < x->indptr[x->n]; p++)
        x->values[p] = (float)((double)x->values[p] * scale);
    for (size_t i = 0; i < x->n * x->d; i++)
        x->dense[i] = (float)((double)x->dense[i] * scale);
}

/*
 * n rows scaled by `scale` against 7 centers (rows 3j, one inactive), ranked
 * with `kernel` on `pool`: labels and distances as a brute-force double
 * reference. Returns the labels and distances for comparisons between runs.
 */
static void check_nearest(size_t n, double scale, enum smg_kmeans_kernel kernel,
                          struct smg_pool *pool, uint32_t *lab, double *dist)
{
    const size_t k = 7, d = 120;
    struct data x;
    double *cd = malloc(k * d * sizeof(double)), shift[120], s2 = scale * scale;
    float cnorm[7] = {0};
    struct smg_kmeans_csr *kc;
    struct smg_batch b;

    rng = 88172645463325252ull; /* the same rows for every call */
    x = make_data(n, d, 4);
    scale_data(&x, scale);
    b = batch(&x, 0, x.n, true);
    for (size_t f = 0; f < d; f++)
        shift[f] = uniform() * scale;
    for (size_t j = 0; j < k; j++) /* centers on rows 3j, stored minus shift */
        for (size_t f = 0; f < d; f++)
            cd[j * d + f] = (double)x.dense[3 * j * d + f] - shift[f];
    cnorm[2] = INFINITY; /* inactive: never wins, even for row 6 which it equals */
    assert_int_equal(smg_kmeans_csr_new(k, d, &kc, NULL), SMG_OK);
    smg_kmeans_csr_load(kc, cd, cnorm, shift);
    smg_kmeans_csr_nearest(kc, pool, cd, shift, &b, kernel, lab, dist);
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
        if (lab[i] != bj) /* well separated: no near-ties */
            fail_msg("scale %g kernel %d row %zu: label %u, reference %zu", scale, (int)kernel, i,
                     lab[i], bj);
        assert_true(dist[i] >= 0.0);
        assert_true(fabs(dist[i] - best) <= 1e-9 * (s2 + best));
    }
    /* Rows that are centers: 0 up to the expansion's rounding, |c|^2 * 1e-15. */
    assert_true(dist[0] <= 1e-15 * d * 16.0 * s2 && dist[3] <= 1e-15 * d * 16.0 * s2);
    smg_kmeans_csr_free(kc);
    free(cd);
    free_data(&x);
}

static void test_nearest_matches_reference(void **state)
{
    uint32_t lab[400];
    double dist[400];
    (void)state;
    check_nearest(400, 1.0, SMG_KMEANS_KERNEL_AUTO, NULL, lab, dist);
    check_nearest(400, 1.0, SMG_KMEANS_KERNEL_EXACT, NULL, lab, dist);
}

/*
 * Extreme scales: at 1e-25 float32 products underflow, so only the exact
 * kernel the job picks for such data ranks rows right; at 1e20 they overflow
 * and the float kernel's per-row check re-ranks every row in double.
 */
static void test_nearest_extreme_scales(void **state)
{
    uint32_t lab[400];
    double dist[400];
    (void)state;
    check_nearest(400, 1e-25, SMG_KMEANS_KERNEL_EXACT, NULL, lab, dist);
    check_nearest(400, 1e25, SMG_KMEANS_KERNEL_EXACT, NULL, lab, dist);
    check_nearest(400, 1e20, SMG_KMEANS_KERNEL_AUTO, NULL, lab, dist);
    check_nearest(400, 1e20, SMG_KMEANS_KERNEL_PORTABLE, NULL, lab, dist);
}

/* Rows shared between 1, 2 and 3 workers: the same labels and distances, bit for bit. */
static void test_nearest_pool_identical(void **state)
{
    enum { N = 4000 };
    static uint32_t lab[3][N];
    static double dist[3][N];
    static const enum smg_kmeans_kernel kernels[] = {SMG_KMEANS_KERNEL_AUTO,
                                                     SMG_KMEANS_KERNEL_EXACT};
    (void)state;
    for (size_t t = 0; t < 2; t++) {
        for (unsigned w = 1; w <= 3; w++) {
            struct smg_pool *pool = NULL;
            assert_int_equal(smg_pool_new(w, &pool, NULL), SMG_OK);
            check_nearest(N, 1.0, kernels[t], pool, lab[w - 1], dist[w - 1]);
            smg_pool_free(pool);
        }
        for (unsigned w = 1; w < 3; w++) {
            assert_memory_equal(lab[0], lab[w], sizeof(lab[0]));
            assert_memory_equal(dist[0], dist[w], sizeof(dist[0]));
        }
    }
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
    smg_kmeans_csr_nearest(kc, NULL, cd, NULL, &b, SMG_KMEANS_KERNEL_AUTO, &lab, &dist);
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

/*
 * The same rows streamed densely (no pool) and as CSR (on `workers` workers,
 * 0 = no pool), values times scale; the CSR run must take the same kernel
 * (exact when the scale is extreme) and agree within 1e-5.
 */
static void run_case(enum smg_kmeans_init init, size_t factor, double scale, unsigned workers)
{
    const size_t d = 200, k = 5, bs = 1000;
    struct data x = make_data(4000, d, 5);
    enum smg_kmeans_kernel score_kernel =
        scale == 1.0 ? SMG_KMEANS_KERNEL_AUTO : SMG_KMEANS_KERNEL_EXACT;
    struct smg_pool *pool = NULL;
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
    struct smg_kmeans *a, *b;
    size_t K;
    float ca[5 * 200], cb[5 * 200];
    double la, lb, sa = 0, sb = 0, da[5 * 200], db[5 * 200];
    uint64_t ra = 0, rb = 0;
    uint32_t *lab_a = malloc(x.n * sizeof(uint32_t)), *lab_b = malloc(x.n * sizeof(uint32_t));
    struct smg_batch all_d = batch(&x, 0, x.n, false), all_c = batch(&x, 0, x.n, true);

    scale_data(&x, scale);
    a = stream(&cfg, &x, bs, false);
    if (workers > 0)
        assert_int_equal(smg_pool_new(workers, &pool, NULL), SMG_OK);
    cfg.pool = pool;
    b = stream(&cfg, &x, bs, true);
    K = smg_kmeans_num_centers(a);
    assert_close(smg_kmeans_shift(a), smg_kmeans_shift(b), d, scale);
    assert_close(smg_kmeans_centers(a), smg_kmeans_centers(b), K * d, 4.0 * scale);
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
    assert_close(da, db, k * d, 4.0 * scale);
    assert_int_equal(smg_kmeans_score(ca, k, d, smg_kmeans_shift(a), &all_d, &sa, &ra, lab_a,
                                      score_kernel, NULL),
                     SMG_OK);
    assert_int_equal(smg_kmeans_score(ca, k, d, smg_kmeans_shift(a), &all_c, &sb, &rb, lab_b,
                                      score_kernel, NULL),
                     SMG_OK);
    assert_int_equal(ra, rb);
    assert_memory_equal(lab_a, lab_b, x.n * sizeof(uint32_t));
    assert_true(fabs(sa - sb) <= 1e-9 * sa); /* both exact in double */
    smg_kmeans_free(a);
    smg_kmeans_free(b);
    smg_pool_free(pool);
    free(lab_a);
    free(lab_b);
    free_data(&x);
}

static void test_stream_random(void **state)
{
    (void)state;
    run_case(SMG_KMEANS_INIT_RANDOM, 4, 1.0, 0);
}

static void test_stream_kmeanspp(void **state)
{
    (void)state;
    run_case(SMG_KMEANS_INIT_KMEANSPP, 4, 1.0, 2);
}

static void test_stream_no_shrink(void **state)
{
    (void)state;
    run_case(SMG_KMEANS_INIT_KMEANSPP, 1, 1.0, 0);
}

/* Data scaled to 1e-25 and 1e25: the job computes in double, sparse as dense. */
static void test_stream_extreme_scales(void **state)
{
    (void)state;
    run_case(SMG_KMEANS_INIT_KMEANSPP, 4, 1e-25, 2);
    run_case(SMG_KMEANS_INIT_RANDOM, 4, 1e25, 0);
}

/* k = 5 from K = 20 streaming centers at d, kmeans++ seeding, 3 shrink trials, quiet. */
static struct smg_kmeans_config small_cfg(size_t d, uint64_t seed)
{
    struct smg_kmeans_config cfg = {.k = 5,
                                    .extra_center_factor = 4,
                                    .dim = d,
                                    .init_method = SMG_KMEANS_INIT_KMEANSPP,
                                    .seed = seed,
                                    .init_lloyd_iters = 20,
                                    .lloyd_init_method = SMG_KMEANS_INIT_KMEANSPP,
                                    .lloyd_max_iter = 100,
                                    .lloyd_tol = 1e-4,
                                    .lloyd_trials = 3,
                                    .quiet = true};
    return cfg;
}

/* A whole CSR run on 1, 2 and 3 workers: centers, weights and loss bit for bit. */
static void test_stream_pool_identical(void **state)
{
    const size_t d = 200;
    struct data x = make_data(4000, d, 5);
    struct smg_kmeans_config cfg = small_cfg(d, 5);
    struct smg_kmeans *ref = stream(&cfg, &x, 1000, true);
    size_t K = smg_kmeans_num_centers(ref);
    (void)state;
    for (unsigned w = 1; w <= 3; w++) {
        struct smg_pool *pool;
        struct smg_kmeans *km;
        assert_int_equal(smg_pool_new(w, &pool, NULL), SMG_OK);
        cfg.pool = pool;
        km = stream(&cfg, &x, 1000, true);
        assert_memory_equal(smg_kmeans_centers(ref), smg_kmeans_centers(km),
                            K * d * sizeof(double));
        assert_memory_equal(smg_kmeans_weights(ref), smg_kmeans_weights(km), K * sizeof(double));
        assert_true(smg_kmeans_stream_sse(ref) == smg_kmeans_stream_sse(km));
        smg_kmeans_free(km);
        smg_pool_free(pool);
    }
    smg_kmeans_free(ref);
    free_data(&x);
}

/*
 * A sparse run saved after two batches and resumed in a fresh state, and a run
 * whose batches alternate dense and CSR (the centers change form each time),
 * against the dense run: centers and weights within 1e-5.
 */
static void test_stream_resume_and_mixed(void **state)
{
    const size_t d = 200, bs = 500;
    struct data x = make_data(4000, d, 5);
    struct smg_kmeans_config cfg = small_cfg(d, 7);
    struct smg_kmeans *ref = stream(&cfg, &x, bs, false), *a, *b;
    struct smg_batch b0 = batch(&x, 0, bs, true);
    struct smg_buf saved;
    bool done = false;
    size_t K = smg_kmeans_num_centers(ref);
    (void)state;
    smg_buf_init(&saved, (size_t)1 << 30);
    assert_int_equal(smg_kmeans_new(&cfg, &a, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_new(&cfg, &b, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_init(a, NULL, &b0, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_init(b, NULL, &b0, NULL), SMG_OK);
    for (size_t r = 0; r < x.n; r += bs) {
        struct smg_batch bc = batch(&x, r, bs, true), bm = batch(&x, r, bs, (r / bs) % 2 == 0);
        if (r == 2 * bs) { /* checkpoint and resume a */
            assert_int_equal(smg_kmeans_state_save(a, &saved, NULL), SMG_OK);
            smg_kmeans_free(a);
            assert_int_equal(smg_kmeans_new(&cfg, &a, NULL), SMG_OK);
            assert_int_equal(smg_kmeans_state_load(a, saved.data, saved.len, NULL), SMG_OK);
        }
        assert_int_equal(smg_kmeans_step(a, NULL, &bc, &done, NULL), SMG_OK);
        assert_int_equal(smg_kmeans_step(b, NULL, &bm, &done, NULL), SMG_OK);
    }
    assert_int_equal(smg_kmeans_step(a, NULL, NULL, &done, NULL), SMG_OK);
    assert_true(done);
    assert_int_equal(smg_kmeans_step(b, NULL, NULL, &done, NULL), SMG_OK);
    assert_close(smg_kmeans_centers(ref), smg_kmeans_centers(a), K * d, 4.0);
    assert_close(smg_kmeans_centers(ref), smg_kmeans_centers(b), K * d, 4.0);
    assert_close(smg_kmeans_weights(ref), smg_kmeans_weights(a), K, 1.0);
    assert_close(smg_kmeans_weights(ref), smg_kmeans_weights(b), K, 1.0);
    smg_buf_free(&saved);
    smg_kmeans_free(ref);
    smg_kmeans_free(a);
    smg_kmeans_free(b);
    free_data(&x);
}

/* Sparse rows compare as densified: order of entries and stored zeros do not matter. */
static void test_rows_equal(void **state)
{
    /* rows: {0:1, 3:2}, {3:2, 0:1}, {0:1, 3:2, 5:0}, {0:1}, {0:1, 3:2.5}, {} and {4:0} */
    uint64_t indptr[] = {0, 2, 4, 7, 8, 10, 10, 11};
    uint32_t indices[] = {0, 3, 3, 0, 0, 3, 5, 0, 0, 3, 4};
    float values[] = {1, 2, 2, 1, 1, 2, 0, 1, 1, 2.5f, 0}, scratch[6] = {0};
    struct smg_batch b = {
        .rows = 7, .cols = 6, .indptr = indptr, .indices = indices, .values = values};
    (void)state;
    assert_true(smg_csr_rows_equal(&b, 0, 1, scratch));
    assert_true(smg_csr_rows_equal(&b, 1, 2, scratch));
    assert_true(smg_csr_rows_equal(&b, 2, 0, scratch));
    assert_false(smg_csr_rows_equal(&b, 0, 3, scratch));
    assert_false(smg_csr_rows_equal(&b, 3, 0, scratch));
    assert_false(smg_csr_rows_equal(&b, 0, 4, scratch));
    assert_true(smg_csr_rows_equal(&b, 5, 6, scratch));
    assert_false(smg_csr_rows_equal(&b, 5, 3, scratch));
    for (size_t f = 0; f < 6; f++)
        assert_true(scratch[f] == 0.0f); /* left clean for the next call */
}

/*
 * smg_kmeans_lloyd on 40 weighted points of 300 features (iterated on pairwise
 * distances): the result is a Lloyd fixed point by direct double arithmetic,
 * every center the weighted mean of the points nearest to it (1e-9 of the
 * data's scale), and the loss the weighted mean squared distance (1e-9).
 */
static void test_lloyd_pairs_fixed_point(void **state)
{
    const size_t n = 40, d = 300, k = 4;
    double *p = malloc(n * d * sizeof(double)), w[40], c[4 * 300], mean[4 * 300], cw[4], loss;
    double total = 0.0, wsum = 0.0;
    struct smg_lloyd_config lc = {.k = k,
                                  .dim = d,
                                  .init_method = SMG_KMEANS_INIT_KMEANSPP,
                                  .max_iter = 1000,
                                  .tol = 0.0,
                                  .trials = 3,
                                  .seed = 3};
    (void)state;
    for (size_t i = 0; i < n; i++) {
        w[i] = 1.0 + 9.0 * uniform();
        for (size_t f = 0; f < d; f++)
            p[i * d + f] = (double)(i % k == f % k) * 3.0 + uniform();
    }
    assert_int_equal(smg_kmeans_lloyd(&lc, p, w, n, c, &loss, NULL), SMG_OK);
    memset(mean, 0, sizeof(mean));
    memset(cw, 0, sizeof(cw));
    for (size_t i = 0; i < n; i++) {
        double best = INFINITY;
        size_t bj = 0;
        for (size_t j = 0; j < k; j++) {
            double s = 0.0;
            for (size_t f = 0; f < d; f++)
                s += (p[i * d + f] - c[j * d + f]) * (p[i * d + f] - c[j * d + f]);
            if (s < best) {
                best = s;
                bj = j;
            }
        }
        total += w[i] * best;
        wsum += w[i];
        cw[bj] += w[i];
        for (size_t f = 0; f < d; f++)
            mean[bj * d + f] += w[i] * p[i * d + f];
    }
    for (size_t j = 0; j < k; j++) {
        assert_true(cw[j] > 0.0);
        for (size_t f = 0; f < d; f++)
            assert_true(fabs(mean[j * d + f] / cw[j] - c[j * d + f]) <= 1e-9 * 4.0);
    }
    assert_true(fabs(total / wsum - loss) <= 1e-9 * loss);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nearest_matches_reference),
        cmocka_unit_test(test_nearest_extreme_scales),
        cmocka_unit_test(test_nearest_pool_identical),
        cmocka_unit_test(test_cancellation_clamped),
        cmocka_unit_test(test_stream_random),
        cmocka_unit_test(test_stream_kmeanspp),
        cmocka_unit_test(test_stream_no_shrink),
        cmocka_unit_test(test_stream_extreme_scales),
        cmocka_unit_test(test_stream_pool_identical),
        cmocka_unit_test(test_stream_resume_and_mixed),
        cmocka_unit_test(test_rows_equal),
        cmocka_unit_test(test_lloyd_pairs_fixed_point),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

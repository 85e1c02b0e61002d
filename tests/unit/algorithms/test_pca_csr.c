/*
 * PCA on CSR mini-batches: randomized mode sketched from CSR (pca_csr.c),
 * with the Gram sketch (default) and the sign sketch, gives the same
 * components as the same rows given densely, within 1e-5 (only the summation
 * order differs; the test matrix / random signs are shared by stream row),
 * whatever the batch boundaries and with dense and CSR batches mixed; the
 * same model bit for bit on 1, 2 and 3 workers;
 * regular mode takes CSR too; regular mode over its d x d budget is a
 * configuration error naming the bytes and randomized mode.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "algorithms/pca.h"
#include "io/base/buffer.h"

#define N 3000
#define D 400

struct csr {
    uint64_t *indptr;
    uint32_t *indices;
    float *values;
    float *dense; /* the same rows, N x D */
};

static uint64_t rng = 0x1234567;

static uint64_t next_u64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* About 2% density, plus a few heavy columns so the spectrum has a clear top. */
static struct csr make_data(void)
{
    struct csr c;
    size_t nnz = 0;
    c.indptr = calloc(N + 1, sizeof(uint64_t));
    c.indices = malloc((size_t)N * D * sizeof(uint32_t));
    c.values = malloc((size_t)N * D * sizeof(float));
    c.dense = calloc((size_t)N * D, sizeof(float));
    for (size_t i = 0; i < N; i++) {
        for (uint32_t f = 0; f < D; f++) {
            uint64_t r = next_u64();
            bool heavy = f < 5 && (r >> 20) % 3 == 0;
            if (!heavy && r % 50 != 0)
                continue;
            float v = (float)((double)(r >> 40) / (double)(1 << 24)) * (heavy ? 10.0f : 1.0f) +
                      (float)(f % 7);
            c.indices[nnz] = f;
            c.values[nnz++] = v;
            c.dense[i * D + f] = v;
        }
        c.indptr[i + 1] = nnz;
    }
    return c;
}

static void free_data(struct csr *c)
{
    free(c->indptr);
    free(c->indices);
    free(c->values);
    free(c->dense);
}

static struct smg_batch csr_batch(const struct csr *c, size_t a, size_t n)
{
    struct smg_batch b = {.rows = n, .cols = D, .first_record = a};
    b.indptr = c->indptr + a;
    b.indices = c->indices;
    b.values = c->values;
    return b;
}

struct pca_case {
    enum smg_pca_mode mode;
    bool subtract_mean;
    enum smg_pca_sketch_kind sketch;
};

/* Feed rows in batches of `step`; every other batch dense when mix. */
static void run_on(const struct pca_case *pc, const struct csr *c, bool csr, size_t step, bool mix,
                   struct smg_pool *pool, struct smg_pca_result *res)
{
    struct smg_pca_config cfg = {.feature_dim = D,
                                 .num_components = 5,
                                 .subtract_mean = pc->subtract_mean,
                                 .mode = pc->mode,
                                 .extra_components = -1,
                                 .seed = 7,
                                 .sketch = pc->sketch,
                                 .pool = pool};
    struct smg_pca *p;
    assert_int_equal(smg_pca_new(&cfg, &p, NULL), SMG_OK);
    for (size_t a = 0, k = 0; a < N; a += step, k++) {
        size_t n = N - a < step ? N - a : step;
        struct smg_batch b = {.x = c->dense + a * D, .rows = n, .cols = D, .first_record = a};
        if (csr && !(mix && k % 2 == 1))
            b = csr_batch(c, a, n);
        assert_int_equal(smg_pca_update(p, &b, NULL), SMG_OK);
    }
    assert_int_equal(smg_pca_solve(p, res, NULL), SMG_OK);
    smg_pca_free(p);
}

static void run(const struct pca_case *pc, const struct csr *c, bool csr, size_t step, bool mix,
                struct smg_pca_result *res)
{
    run_on(pc, c, csr, step, mix, NULL, res);
}

/* Components and singular values agree to 1e-5 relative to the largest. */
static void assert_close(const struct smg_pca_result *a, const struct smg_pca_result *b)
{
    double top = fabs(a->s[0]) > fabs(a->s[4]) ? fabs(a->s[0]) : fabs(a->s[4]);
    for (size_t j = 0; j < 5; j++)
        if (fabs(a->s[j] - b->s[j]) > 1e-5 * top)
            fail_msg("s[%zu]: %.12g vs %.12g", j, a->s[j], b->s[j]);
    for (size_t i = 0; i < D * 5; i++)
        assert_true(fabs(a->v[i] - b->v[i]) <= 1e-5);
    if (a->mean != NULL)
        for (size_t f = 0; f < D; f++)
            assert_true(fabs(a->mean[f] - b->mean[f]) <= 1e-5 * (1 + fabs(a->mean[f])));
}

static void test_csr_equals_dense(void **state)
{
    static const struct pca_case cases[] = {{SMG_PCA_RANDOMIZED, true, SMG_PCA_SKETCH_GRAM},
                                            {SMG_PCA_RANDOMIZED, false, SMG_PCA_SKETCH_GRAM},
                                            {SMG_PCA_RANDOMIZED, true, SMG_PCA_SKETCH_SIGNS},
                                            {SMG_PCA_RANDOMIZED, false, SMG_PCA_SKETCH_SIGNS},
                                            {SMG_PCA_REGULAR, true, SMG_PCA_SKETCH_GRAM}};
    struct csr c = make_data();
    (void)state;
    for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
        struct smg_pca_result dense, sparse, mixed;
        run(&cases[t], &c, false, 500, false, &dense);
        run(&cases[t], &c, true, 2500, false, &sparse); /* > 1 internal block */
        run(&cases[t], &c, true, 333, true, &mixed);
        assert_close(&dense, &sparse);
        assert_close(&dense, &mixed);
        smg_pca_result_free(&dense);
        smg_pca_result_free(&sparse);
        smg_pca_result_free(&mixed);
    }
    free_data(&c);
}

/* CSR batches on 1, 2 and 3 workers: the same model bit for bit, in every mode. */
static void test_csr_pool_identical(void **state)
{
    static const struct pca_case cases[] = {{SMG_PCA_REGULAR, true, SMG_PCA_SKETCH_GRAM},
                                            {SMG_PCA_RANDOMIZED, true, SMG_PCA_SKETCH_GRAM},
                                            {SMG_PCA_RANDOMIZED, true, SMG_PCA_SKETCH_SIGNS}};
    struct csr c = make_data();
    (void)state;
    for (size_t t = 0; t < sizeof(cases) / sizeof(cases[0]); t++) {
        struct smg_pca_result ref;
        run(&cases[t], &c, true, 700, true, &ref);
        for (unsigned w = 1; w <= 3; w++) {
            struct smg_pool *pool;
            struct smg_pca_result res;
            assert_int_equal(smg_pool_new(w, &pool, NULL), SMG_OK);
            run_on(&cases[t], &c, true, 700, true, pool, &res);
            assert_memory_equal(ref.s, res.s, 5 * sizeof(double));
            assert_memory_equal(ref.v, res.v, D * 5 * sizeof(double));
            smg_pca_result_free(&res);
            smg_pool_free(pool);
        }
        smg_pca_result_free(&ref);
    }
    free_data(&c);
}

/*
 * A checkpoint taken after CSR batches (the sign sketch keeps them apart
 * until a flush) and resumed in a fresh accumulator gives the uninterrupted
 * model, for both sketches.
 */
static void test_csr_state_resume(void **state)
{
    static const enum smg_pca_sketch_kind kinds[] = {SMG_PCA_SKETCH_GRAM, SMG_PCA_SKETCH_SIGNS};
    struct csr c = make_data();
    (void)state;
    for (size_t t = 0; t < 2; t++) {
        struct smg_pca_config cfg = {.feature_dim = D,
                                     .num_components = 5,
                                     .subtract_mean = true,
                                     .mode = SMG_PCA_RANDOMIZED,
                                     .extra_components = -1,
                                     .seed = 7,
                                     .sketch = kinds[t]};
        struct smg_pca *a, *b;
        struct smg_pca_result ra, rb;
        struct smg_buf st;
        assert_int_equal(smg_pca_new(&cfg, &a, NULL), SMG_OK);
        assert_int_equal(smg_pca_new(&cfg, &b, NULL), SMG_OK);
        for (size_t r = 0; r < N; r += 500) {
            struct smg_batch bt = csr_batch(&c, r, 500);
            if (r == 1500) {
                smg_buf_init(&st, (size_t)1 << 20);
                assert_int_equal(smg_pca_state_save(a, &st, NULL), SMG_OK);
                assert_int_equal(smg_pca_state_load(b, st.data, st.len, NULL), SMG_OK);
                smg_buf_free(&st);
            }
            assert_int_equal(smg_pca_update(a, &bt, NULL), SMG_OK);
            if (r >= 1500)
                assert_int_equal(smg_pca_update(b, &bt, NULL), SMG_OK);
        }
        assert_int_equal(smg_pca_solve(a, &ra, NULL), SMG_OK);
        assert_int_equal(smg_pca_solve(b, &rb, NULL), SMG_OK);
        assert_close(&ra, &rb);
        smg_pca_result_free(&ra);
        smg_pca_result_free(&rb);
        smg_pca_free(a);
        smg_pca_free(b);
    }
    free_data(&c);
}

static void test_regular_budget(void **state)
{
    struct smg_pca_config cfg = {
        .feature_dim = 100000, .num_components = 5, .mode = SMG_PCA_REGULAR};
    struct smg_pca *p = NULL;
    struct smg_error err;
    (void)state;
    smg_error_clear(&err);
    assert_int_equal(smg_pca_new(&cfg, &p, &err), SMG_ECONFIG);
    assert_null(p);
    assert_int_equal(err.klass, SMG_CLIENT_ERROR);
    assert_non_null(strstr(err.msg, "80000000000 bytes"));
    assert_non_null(strstr(err.msg, "algorithm_mode=randomized"));
    /* randomized at the same d starts, and holds no dense block until a dense batch */
    cfg.mode = SMG_PCA_RANDOMIZED;
    cfg.extra_components = -1;
    assert_int_equal(smg_pca_new(&cfg, &p, &err), SMG_OK);
    smg_pca_free(p);
    /* the budget's edge: 23171^2 doubles are just over 4 GiB */
    cfg.mode = SMG_PCA_REGULAR;
    cfg.feature_dim = 23171;
    smg_error_clear(&err);
    assert_int_equal(smg_pca_new(&cfg, &p, &err), SMG_ECONFIG);
    if (strstr(err.msg, "(4295161928 bytes)") == NULL)
        fail_msg("%s", err.msg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csr_equals_dense),
        cmocka_unit_test(test_csr_pool_identical),
        cmocka_unit_test(test_csr_state_resume),
        cmocka_unit_test(test_regular_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

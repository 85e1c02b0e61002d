/*
 * Checkpoint state of the algorithms (smg_kmeans_state_*,
 * smg_kmeans_sample_state_*, smg_pca_state_*): an object saved halfway
 * through a stream, restored into a fresh object with the same
 * configuration and fed the rest, ends bit for bit where the uninterrupted
 * one ends (k-means centers and weights, the polish sample, PCA regular and
 * randomized results); a state for another configuration, a truncated state
 * and one with extra bytes are SMG_EFORMAT, never trusted.
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
#include "algorithms/pca.h"

#define N  3000
#define D  5
#define BS 128

static float *data(uint64_t seed)
{
    struct smg_rng r;
    float *x = malloc(N * D * sizeof(float));
    smg_rng_seed(&r, seed);
    for (size_t i = 0; i < N * D; i++)
        x[i] = (float)(smg_rng_uniform(&r) * 10.0 + (double)(i % D) * (i / D % 4 == 0 ? 30 : 1));
    return x;
}

static struct smg_kmeans_config km_cfg(void)
{
    struct smg_kmeans_config c = {.k = 4,
                                  .extra_center_factor = 3,
                                  .dim = D,
                                  .init_method = SMG_KMEANS_INIT_KMEANSPP,
                                  .seed = 7,
                                  .init_lloyd_iters = 5,
                                  .lloyd_init_method = SMG_KMEANS_INIT_KMEANSPP,
                                  .lloyd_max_iter = 50,
                                  .lloyd_tol = 1e-4,
                                  .lloyd_trials = 3,
                                  .quiet = true};
    return c;
}

static struct smg_batch batch_at(const float *x, size_t r)
{
    struct smg_batch b = {.x = x + r * D, .rows = N - r < BS ? N - r : BS, .cols = D};
    return b;
}

/* Steps over rows [from, N), then the empty closing step. */
static void km_finish(struct smg_kmeans *km, struct smg_kmeans_sample *s, const float *x,
                      size_t from)
{
    struct smg_error err = {0};
    bool done = false;
    for (size_t r = from; r < N; r += BS) {
        struct smg_batch b = batch_at(x, r);
        smg_kmeans_sample_add(s, &b);
        assert_int_equal(smg_kmeans_step(km, NULL, &b, &done, &err), SMG_OK);
    }
    assert_int_equal(smg_kmeans_step(km, NULL, NULL, &done, &err), SMG_OK);
    assert_true(done);
}

static void test_kmeans_resume_is_bit_identical(void **state)
{
    struct smg_kmeans_config cfg = km_cfg();
    struct smg_kmeans *a, *b;
    struct smg_kmeans_sample *sa, *sb;
    struct smg_error err = {0};
    struct smg_buf ks, ss;
    float *x = data(1), ca[4 * D], cb[4 * D];
    struct smg_batch first = batch_at(x, 0);
    double la, lb;
    bool done;
    size_t half = 12 * BS;

    (void)state;
    assert_int_equal(smg_kmeans_new(&cfg, &a, &err), SMG_OK);
    assert_int_equal(smg_kmeans_sample_new(D, 500, 9, &sa, &err), SMG_OK);
    assert_int_equal(smg_kmeans_init(a, NULL, &first, &err), SMG_OK);
    for (size_t r = 0; r < half; r += BS) {
        struct smg_batch bt = batch_at(x, r);
        smg_kmeans_sample_add(sa, &bt);
        assert_int_equal(smg_kmeans_step(a, NULL, &bt, &done, &err), SMG_OK);
    }
    smg_buf_init(&ks, (size_t)1 << 24);
    smg_buf_init(&ss, (size_t)1 << 24);
    assert_int_equal(smg_kmeans_state_save(a, &ks, &err), SMG_OK);
    assert_int_equal(smg_kmeans_sample_state_save(sa, &ss, &err), SMG_OK);
    /* A fresh object, never initialised: the state is all it needs. */
    assert_int_equal(smg_kmeans_new(&cfg, &b, &err), SMG_OK);
    assert_int_equal(smg_kmeans_sample_new(D, 500, 12345, &sb, &err), SMG_OK);
    assert_int_equal(smg_kmeans_state_load(b, ks.data, ks.len, &err), SMG_OK);
    assert_int_equal(smg_kmeans_sample_state_load(sb, ss.data, ss.len, &err), SMG_OK);
    km_finish(a, sa, x, half);
    km_finish(b, sb, x, half);
    assert_memory_equal(smg_kmeans_centers(a), smg_kmeans_centers(b), 12 * D * sizeof(double));
    assert_memory_equal(smg_kmeans_weights(a), smg_kmeans_weights(b), 12 * sizeof(double));
    assert_int_equal(smg_kmeans_rows_seen(a), smg_kmeans_rows_seen(b));
    assert_int_equal(smg_kmeans_shrink(a, ca, &la, &err), SMG_OK);
    assert_int_equal(smg_kmeans_shrink(b, cb, &lb, &err), SMG_OK);
    assert_int_equal(smg_kmeans_polish(sa, NULL, NULL, ca, 4, smg_kmeans_shift(a), 20, 1e-4, &la,
                                       &la, SMG_KMEANS_KERNEL_AUTO, &err),
                     SMG_OK);
    assert_int_equal(smg_kmeans_polish(sb, NULL, NULL, cb, 4, smg_kmeans_shift(b), 20, 1e-4, &lb,
                                       &lb, SMG_KMEANS_KERNEL_AUTO, &err),
                     SMG_OK);
    assert_memory_equal(ca, cb, sizeof(ca));
    assert_int_equal(smg_kmeans_sample_rows(sa), smg_kmeans_sample_rows(sb));
    smg_kmeans_free(a);
    smg_kmeans_free(b);
    smg_kmeans_sample_free(sa);
    smg_kmeans_sample_free(sb);
    smg_buf_free(&ks);
    smg_buf_free(&ss);
    free(x);
}

static void test_kmeans_bad_states(void **state)
{
    struct smg_kmeans_config cfg = km_cfg(), other = km_cfg();
    struct smg_kmeans *a, *b;
    struct smg_kmeans_sample *s, *s2;
    struct smg_error err = {0};
    struct smg_buf ks, ss;

    (void)state;
    other.extra_center_factor = 2;
    assert_int_equal(smg_kmeans_new(&cfg, &a, &err), SMG_OK);
    assert_int_equal(smg_kmeans_new(&other, &b, &err), SMG_OK);
    smg_buf_init(&ks, (size_t)1 << 24);
    assert_int_equal(smg_kmeans_state_save(a, &ks, &err), SMG_OK);
    assert_int_equal(smg_kmeans_state_load(b, ks.data, ks.len, &err), SMG_EFORMAT);
    for (size_t len = 0; len < ks.len; len += 7)
        assert_int_equal(smg_kmeans_state_load(a, ks.data, len, &err), SMG_EFORMAT);
    assert_int_equal(smg_buf_append(&ks, "x", 1), SMG_OK);
    assert_int_equal(smg_kmeans_state_load(a, ks.data, ks.len, &err), SMG_EFORMAT);
    assert_int_equal(smg_kmeans_sample_new(D, 100, 1, &s, &err), SMG_OK);
    assert_int_equal(smg_kmeans_sample_new(D, 0, 1, &s2, &err), SMG_OK);
    smg_buf_init(&ss, (size_t)1 << 24);
    assert_int_equal(smg_kmeans_sample_state_save(s, &ss, &err), SMG_OK);
    assert_int_equal(smg_kmeans_sample_state_load(s2, ss.data, ss.len, &err), SMG_EFORMAT);
    assert_int_equal(smg_kmeans_sample_state_load(s, ss.data, ss.len - 1, &err), SMG_EFORMAT);
    assert_int_equal(smg_kmeans_sample_state_load(s, ss.data, ss.len, &err), SMG_OK);
    smg_kmeans_free(a);
    smg_kmeans_free(b);
    smg_kmeans_sample_free(s);
    smg_kmeans_sample_free(s2);
    smg_buf_free(&ks);
    smg_buf_free(&ss);
}

static void pca_resume(enum smg_pca_mode mode)
{
    struct smg_pca_config cfg = {.feature_dim = D,
                                 .num_components = 2,
                                 .subtract_mean = true,
                                 .mode = mode,
                                 .extra_components = -1,
                                 .seed = SMG_PCA_DEFAULT_SEED,
                                 .block_rows = 100};
    struct smg_pca *a, *b;
    struct smg_pca_result ra, rb;
    struct smg_error err = {0};
    struct smg_buf st;
    float *x = data(2);
    size_t half = 9 * BS; /* 1152: not a multiple of the 100-row block, so a block is staged */

    assert_int_equal(smg_pca_new(&cfg, &a, &err), SMG_OK);
    assert_int_equal(smg_pca_new(&cfg, &b, &err), SMG_OK);
    for (size_t r = 0; r < half; r += BS) {
        struct smg_batch bt = batch_at(x, r);
        assert_int_equal(smg_pca_update(a, &bt, &err), SMG_OK);
    }
    smg_buf_init(&st, (size_t)1 << 24);
    assert_int_equal(smg_pca_state_save(a, &st, &err), SMG_OK);
    assert_int_equal(smg_pca_state_load(b, st.data, st.len, &err), SMG_OK);
    assert_int_equal(smg_pca_state_load(b, st.data, st.len - 8, &err), SMG_EFORMAT);
    assert_int_equal(smg_pca_state_load(b, st.data, st.len, &err), SMG_OK);
    for (size_t r = half; r < N; r += BS) {
        struct smg_batch bt = batch_at(x, r);
        assert_int_equal(smg_pca_update(a, &bt, &err), SMG_OK);
        assert_int_equal(smg_pca_update(b, &bt, &err), SMG_OK);
    }
    assert_int_equal(smg_pca_rows(a), smg_pca_rows(b));
    assert_int_equal(smg_pca_solve(a, &ra, &err), SMG_OK);
    assert_int_equal(smg_pca_solve(b, &rb, &err), SMG_OK);
    assert_memory_equal(ra.s, rb.s, 2 * sizeof(double));
    assert_memory_equal(ra.v, rb.v, 2 * D * sizeof(double));
    assert_memory_equal(ra.mean, rb.mean, D * sizeof(double));
    smg_pca_result_free(&ra);
    smg_pca_result_free(&rb);
    smg_pca_free(a);
    smg_pca_free(b);
    smg_buf_free(&st);
    free(x);
}

static void test_pca_regular_resume(void **state)
{
    (void)state;
    pca_resume(SMG_PCA_REGULAR);
}

static void test_pca_randomized_resume(void **state)
{
    (void)state;
    pca_resume(SMG_PCA_RANDOMIZED);
}

static void test_pca_other_mode_refused(void **state)
{
    struct smg_pca_config cfg = {.feature_dim = D, .num_components = 2, .mode = SMG_PCA_REGULAR};
    struct smg_pca *a, *b;
    struct smg_error err = {0};
    struct smg_buf st;

    (void)state;
    assert_int_equal(smg_pca_new(&cfg, &a, &err), SMG_OK);
    cfg.mode = SMG_PCA_RANDOMIZED;
    cfg.extra_components = -1;
    assert_int_equal(smg_pca_new(&cfg, &b, &err), SMG_OK);
    smg_buf_init(&st, (size_t)1 << 24);
    assert_int_equal(smg_pca_state_save(a, &st, &err), SMG_OK);
    assert_int_equal(smg_pca_state_load(b, st.data, st.len, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "another configuration"));
    smg_pca_free(a);
    smg_pca_free(b);
    smg_buf_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kmeans_resume_is_bit_identical),
        cmocka_unit_test(test_kmeans_bad_states),
        cmocka_unit_test(test_pca_regular_resume),
        cmocka_unit_test(test_pca_randomized_resume),
        cmocka_unit_test(test_pca_other_mode_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

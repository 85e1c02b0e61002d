/*
 * Unit tests of several local mini-batches per allreduce
 * (algorithms/kmeans_group.h), with no MPI: two simulated ranks whose groups
 * are summed as the allreduce would.
 *   - A group of m batches, dense or CSR, contributes what one batch holding
 *     all their rows does: the same rows, counts and reseed candidates bit
 *     for bit, sums and sse equal to 1e-12 relative (only the order of
 *     additions differs);
 *   - a group of 1 is smg_kmeans_step, bit for bit;
 *   - grouped streams give the same model bytes with pools of 0 to 3 workers;
 *   - an open group saved and loaded into a fresh job continues bit for bit,
 *     and a group saved for another rank count is refused;
 *   - the rule: 1 on one rank, the README's byte counts, at most the cap.
 * Data come from a fixed-seed generator.
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
#include "algorithms/kmeans_group.h"
#include "io/base/log.h"

/* n rows of d features around c centers 30 apart (noise sd 1), from seed. */
static float *rows(size_t n, size_t d, size_t c, uint64_t seed)
{
    struct smg_rng r;
    float *x = malloc(n * d * sizeof(float));
    smg_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        size_t b = smg_rng_next(&r) % c;
        for (size_t f = 0; f < d; f++) {
            double u = smg_rng_uniform(&r), v = smg_rng_uniform(&r);
            double g = sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
            x[i * d + f] = (float)(50.0 + 30.0 * (double)((b * 7 + f) % 5) + g);
        }
    }
    return x;
}

static struct smg_kmeans_config cfg_of(size_t k, size_t factor, size_t d)
{
    struct smg_kmeans_config c = {.k = k,
                                  .extra_center_factor = factor,
                                  .dim = d,
                                  .init_method = SMG_KMEANS_INIT_RANDOM,
                                  .seed = 42,
                                  .init_lloyd_iters = 0,
                                  .lloyd_init_method = SMG_KMEANS_INIT_KMEANSPP,
                                  .lloyd_max_iter = 50,
                                  .lloyd_tol = 1e-6,
                                  .lloyd_trials = 2,
                                  .quiet = true};
    return c;
}

static struct smg_batch dense(const float *x, size_t first, size_t n, size_t d)
{
    struct smg_batch b = {.x = x + first * d, .rows = n, .cols = d};
    return b;
}

static void close_rel(const double *a, const double *b, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        assert_true(fabs(a[i] - b[i]) <= tol * (fabs(a[i]) + fabs(b[i]) + 1e-300));
}

/* x as CSR (every third entry dropped as a zero); arrays malloc'd into the out pointers. */
static struct smg_batch to_csr(float *x, size_t n, size_t d, uint64_t **ip, uint32_t **ix,
                               float **v)
{
    struct smg_batch b = {.rows = n, .cols = d};
    size_t nnz = 0;
    *ip = malloc((n + 1) * sizeof(uint64_t));
    *ix = malloc(n * d * sizeof(uint32_t));
    *v = malloc(n * d * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        (*ip)[i] = nnz;
        for (size_t f = 0; f < d; f++) {
            if ((i + f) % 3 == 0)
                continue;
            (*ix)[nnz] = (uint32_t)f;
            (*v)[nnz++] = x[i * d + f];
        }
    }
    (*ip)[n] = nnz;
    b.indptr = *ip;
    b.indices = *ix;
    b.values = *v;
    return b;
}

/*
 * Three batches added to one buffer against a fresh state (K = 60 > the 25
 * distinct blobs, so several centers are empty and many candidates kept)
 * equal local_stats of their concatenation, for rank 1 of 2; dense or CSR.
 */
static void check_one_big_batch(bool csr)
{
    const size_t d = 6, n = 900, bs = 300;
    struct smg_kmeans_config cfg = cfg_of(6, 10, d);
    float *x = rows(n, d, 25, 7), *v = NULL;
    uint64_t *ip = NULL;
    uint32_t *ix = NULL;
    struct smg_kmeans *km;
    struct smg_batch all = csr ? to_csr(x, n, d, &ip, &ix, &v) : dense(x, 0, n, d);
    struct smg_batch first = smg_batch_slice(&all, 0, 40);
    size_t len, K;
    double *g, *one;
    assert_int_equal(smg_kmeans_new(&cfg, &km, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_init(km, NULL, &first, NULL), SMG_OK);
    K = smg_kmeans_num_centers(km);
    len = smg_kmeans_stats_len(km, 2);
    g = calloc(len, sizeof(double));
    one = calloc(len, sizeof(double));
    for (size_t a = 0; a < n; a += bs) {
        struct smg_batch b = smg_batch_slice(&all, a, bs);
        assert_int_equal(smg_kmeans_local_add(km, &b, 1, 2, g, NULL), SMG_OK);
        assert_int_equal(smg_kmeans_local_add(km, NULL, 1, 2, g, NULL), SMG_OK); /* no-op */
    }
    assert_int_equal(smg_kmeans_local_stats(km, &all, 1, 2, one, NULL), SMG_OK);
    assert_true(g[0] == (double)n && one[0] == (double)n);
    close_rel(g + 1, one + 1, 1, 1e-12);                        /* sse */
    assert_memory_equal(g + 2, one + 2, K * sizeof(double));    /* counts */
    close_rel(g + 2 + K, one + 2 + K, K * d, 1e-12);            /* sums */
    assert_memory_equal(g + 2 + K + K * d, one + 2 + K + K * d, /* candidates */
                        (len - 2 - K - K * d) * sizeof(double));
    assert_true(g[2 + K + K * d] == 0.0);                  /* rank 0's slot stays empty */
    assert_true(g[len - (len - 2 - K - K * d) / 2] > 0.0); /* rank 1's first entry is used */
    free(g);
    free(one);
    smg_kmeans_free(km);
    free(x);
    free(ip);
    free(ix);
    free(v);
}

static void test_group_is_one_big_batch(void **state)
{
    (void)state;
    check_one_big_batch(false);
    check_one_big_batch(true);
}

/*
 * Two simulated ranks streaming x (rank r takes rows r, r+2, ... batches of
 * bs) in groups of `every`, until a group holds no rows; the state of rank 0.
 */
static struct smg_kmeans *stream_two(const struct smg_kmeans_config *cfg, const float *x, size_t n,
                                     size_t bs, size_t every)
{
    struct smg_kmeans *km[2];
    struct smg_kmeans_group *g[2];
    struct smg_comm c[2] = {{0, 2, false, MPI_COMM_NULL}, {1, 2, false, MPI_COMM_NULL}};
    struct smg_batch first = dense(x, 0, bs, cfg->dim);
    bool done = false, done1 = false;
    size_t slot = 0;

    for (int r = 0; r < 2; r++) {
        assert_int_equal(smg_kmeans_new(cfg, &km[r], NULL), SMG_OK);
        assert_int_equal(smg_kmeans_init(km[r], NULL, &first, NULL), SMG_OK);
        assert_int_equal(smg_kmeans_group_new(every, &g[r], NULL), SMG_OK);
    }
    while (!done) {
        for (int r = 0; r < 2; r++) {
            size_t a = (2 * slot + (size_t)r) * bs, m = a < n ? (n - a < bs ? n - a : bs) : 0;
            struct smg_batch b = dense(x, a < n ? a : 0, m, cfg->dim);
            assert_int_equal(smg_kmeans_group_add(g[r], km[r], &c[r], m ? &b : NULL, NULL), SMG_OK);
        }
        slot++;
        if (!smg_kmeans_group_full(g[0]))
            continue;
        /* What the allreduce does: sum both groups (the comms are not attached: no MPI). */
        size_t len, len1;
        double *s0 = smg_kmeans_group_stats(g[0], &len), *s1 = smg_kmeans_group_stats(g[1], &len1);
        assert_int_equal(len, len1);
        for (size_t i = 0; i < len; i++)
            s0[i] = s1[i] = s0[i] + s1[i];
        assert_int_equal(smg_kmeans_group_sync(g[0], km[0], &c[0], &done, NULL), SMG_OK);
        assert_int_equal(smg_kmeans_group_sync(g[1], km[1], &c[1], &done1, NULL), SMG_OK);
        assert_int_equal(done, done1);
    }
    assert_memory_equal(smg_kmeans_centers(km[0]), smg_kmeans_centers(km[1]),
                        smg_kmeans_num_centers(km[0]) * cfg->dim * sizeof(double));
    smg_kmeans_free(km[1]);
    smg_kmeans_group_free(g[0]);
    smg_kmeans_group_free(g[1]);
    return km[0];
}

/* Groups of every batches on two simulated ranks, with pools of 0 to 3 workers: same bytes. */
static void test_grouped_pool_bit_identical(void **state)
{
    const size_t d = 20, n = 6000, k = 8;
    float *x = rows(n, d, 12, 11);
    struct smg_kmeans *km[4];
    struct smg_pool *pool[4] = {NULL, NULL, NULL, NULL};
    (void)state;
    for (unsigned w = 0; w <= 3; w++) {
        struct smg_kmeans_config cfg = cfg_of(k, 10, d);
        if (w > 0)
            assert_int_equal(smg_pool_new(w, &pool[w], NULL), SMG_OK);
        cfg.pool = pool[w];
        km[w] = stream_two(&cfg, x, n, 400, 3);
    }
    for (unsigned w = 1; w <= 3; w++) {
        assert_memory_equal(smg_kmeans_centers(km[0]), smg_kmeans_centers(km[w]),
                            k * 10 * d * sizeof(double));
        assert_memory_equal(smg_kmeans_weights(km[0]), smg_kmeans_weights(km[w]),
                            k * 10 * sizeof(double));
        assert_true(smg_kmeans_stream_sse(km[0]) == smg_kmeans_stream_sse(km[w]));
    }
    assert_int_equal(smg_kmeans_rows_seen(km[0]), n);
    for (unsigned w = 0; w <= 3; w++) {
        smg_kmeans_free(km[w]);
        smg_pool_free(pool[w]);
    }
    free(x);
}

/* A group of 1 through group_add/sync is smg_kmeans_step, bit for bit. */
static void test_group_of_one_is_a_step(void **state)
{
    const size_t d = 5, n = 3000, bs = 250;
    struct smg_kmeans_config cfg = cfg_of(4, 10, d);
    float *x = rows(n, d, 9, 3);
    struct smg_kmeans *a, *b;
    struct smg_kmeans_group *g;
    struct smg_batch first = dense(x, 0, bs, d);
    bool da = false, db = false;
    (void)state;
    assert_int_equal(smg_kmeans_new(&cfg, &a, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_new(&cfg, &b, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_group_new(1, &g, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_init(a, NULL, &first, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_init(b, NULL, &first, NULL), SMG_OK);
    for (size_t r = 0; !da; r += bs) {
        struct smg_batch bt = dense(x, r < n ? r : 0, r < n ? bs : 0, d);
        assert_int_equal(smg_kmeans_step(a, NULL, r < n ? &bt : NULL, &da, NULL), SMG_OK);
        assert_int_equal(smg_kmeans_group_add(g, b, NULL, r < n ? &bt : NULL, NULL), SMG_OK);
        assert_true(smg_kmeans_group_full(g));
        assert_int_equal(smg_kmeans_group_sync(g, b, NULL, &db, NULL), SMG_OK);
        assert_int_equal(da, db);
    }
    assert_memory_equal(smg_kmeans_centers(a), smg_kmeans_centers(b), 40 * d * sizeof(double));
    assert_memory_equal(smg_kmeans_weights(a), smg_kmeans_weights(b), 40 * sizeof(double));
    assert_true(smg_kmeans_stream_sse(a) == smg_kmeans_stream_sse(b));
    assert_int_equal(smg_kmeans_reseeds(a), smg_kmeans_reseeds(b));
    smg_kmeans_group_free(g);
    smg_kmeans_free(a);
    smg_kmeans_free(b);
    free(x);
}

/* Stream x in groups of 4 on one rank, stopping after `stop` batches (0 = never); *g kept open. */
static void feed(struct smg_kmeans *km, struct smg_kmeans_group *g, const float *x, size_t n,
                 size_t bs, size_t from, size_t stop)
{
    bool done = false;
    for (size_t i = from; !done && (stop == 0 || i < stop); i++) {
        size_t a = i * bs;
        struct smg_batch b = dense(x, a < n ? a : 0, a < n ? bs : 0, smg_kmeans_config(km)->dim);
        assert_int_equal(smg_kmeans_group_add(g, km, NULL, a < n ? &b : NULL, NULL), SMG_OK);
        if (smg_kmeans_group_full(g))
            assert_int_equal(smg_kmeans_group_sync(g, km, NULL, &done, NULL), SMG_OK);
    }
}

/* An open group saved with the state and loaded into a fresh job continues bit for bit. */
static void test_open_group_save_load(void **state)
{
    const size_t d = 4, n = 4000, bs = 200;
    struct smg_kmeans_config cfg = cfg_of(5, 10, d);
    float *x = rows(n, d, 7, 5);
    struct smg_kmeans *a, *b, *c;
    struct smg_kmeans_group *ga, *gb, *gc;
    struct smg_batch first = dense(x, 0, bs, d);
    struct smg_buf st, gr;
    size_t len;
    (void)state;
    assert_int_equal(smg_kmeans_new(&cfg, &a, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_new(&cfg, &b, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_new(&cfg, &c, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_group_new(4, &ga, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_group_new(4, &gb, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_group_new(4, &gc, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_init(a, NULL, &first, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_init(b, NULL, &first, NULL), SMG_OK);
    feed(a, ga, x, n, bs, 0, 0);
    feed(b, gb, x, n, bs, 0, 10); /* 2 groups of 4 and 2 batches of a third */
    assert_int_equal(smg_kmeans_group_batches(gb), 2);
    assert_non_null(smg_kmeans_group_stats(gb, &len));
    smg_buf_init(&st, SIZE_MAX / 2);
    smg_buf_init(&gr, SIZE_MAX / 2);
    assert_int_equal(smg_kmeans_state_save(b, &st, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_group_save(gb, &gr, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_state_load(c, st.data, st.len, NULL), SMG_OK);
    /* Another rank count, or bytes cut short, are refused. */
    assert_int_equal(smg_kmeans_group_load(gc, c, 2, gr.data, gr.len, NULL), SMG_EFORMAT);
    assert_int_equal(smg_kmeans_group_load(gc, c, 1, gr.data, gr.len - 8, NULL), SMG_EFORMAT);
    assert_int_equal(smg_kmeans_group_load(gc, c, 1, gr.data, gr.len, NULL), SMG_OK);
    assert_int_equal(smg_kmeans_group_batches(gc), 2);
    feed(c, gc, x, n, bs, 10, 0);
    assert_memory_equal(smg_kmeans_centers(a), smg_kmeans_centers(c), 50 * d * sizeof(double));
    assert_memory_equal(smg_kmeans_weights(a), smg_kmeans_weights(c), 50 * sizeof(double));
    assert_true(smg_kmeans_stream_sse(a) == smg_kmeans_stream_sse(c));
    assert_int_equal(smg_kmeans_rows_seen(c), n);
    smg_buf_free(&st);
    smg_buf_free(&gr);
    smg_kmeans_group_free(ga);
    smg_kmeans_group_free(gb);
    smg_kmeans_group_free(gc);
    smg_kmeans_free(a);
    smg_kmeans_free(b);
    smg_kmeans_free(c);
    free(x);
}

/* The rule: 1 on one rank; the README's bytes; m grows with the ratio, capped. */
static void test_every_rule(void **state)
{
    (void)state;
    assert_true(smg_kmeans_allreduce_bytes(5000, 784, 2, 8) == 31500624.0);
    assert_true(smg_kmeans_allreduce_bytes(100, 16, 2, 8) == 15920.0);
    assert_int_equal(smg_kmeans_allreduce_every(5000, 784, 5000, 1), 1);
    /* 2 (p-1)/p S = 31.5 MB against 15.68 MB of rows: ratio 2.009, / 0.5 -> 5. */
    assert_int_equal(smg_kmeans_allreduce_every(5000, 784, 5000, 2), 5);
    assert_int_equal(smg_kmeans_allreduce_every(100, 16, 5000, 2), 1);
    /* k=10, d=16: the candidates (p x 8 x 18 doubles) pass half the rows' bytes past p = 64. */
    assert_int_equal(smg_kmeans_allreduce_every(100, 16, 5000, 64), 2);
    assert_int_equal(smg_kmeans_allreduce_every(5000, 784, 5000, 1024),
                     SMG_KMEANS_ALLREDUCE_EVERY_MAX);
    assert_int_equal(smg_kmeans_allreduce_every(3, 1, 1, 2), 16); /* tiny rows: capped */
    for (int p = 2; p < 300; p++)
        assert_true(smg_kmeans_allreduce_every(5000, 784, 5000, p) >=
                    smg_kmeans_allreduce_every(5000, 784, 5000, p - 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_is_one_big_batch),
        cmocka_unit_test(test_grouped_pool_bit_identical),
        cmocka_unit_test(test_group_of_one_is_a_step),
        cmocka_unit_test(test_open_group_save_load),
        cmocka_unit_test(test_every_rule),
    };
    smg_log_set_level(SMG_LOG_WARNING);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

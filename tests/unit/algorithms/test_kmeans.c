/*
 * Unit tests of the streaming k-means algorithm (algorithms/kmeans.h), with
 * no files and no MPI: well-separated blobs are all found (adjusted Rand
 * index, computed here, >= 0.99); starving and duplicate centers are reseeded
 * and never left NaN or coincident; runs are bit-for-bit deterministic; the
 * half-life decay gives the documented weights; the rank-combine path
 * (per-rank contributions summed as the allreduce would) keeps simulated
 * ranks identical and matches one rank fed the union; extra_center_factor 1
 * skips the shrink; weighted Lloyd honours weights; the sample polish never
 * worsens the sample msd; the nearest-center kernels (AVX2, portable with
 * SMG_KMEANS_KERNEL_PORTABLE, and sgemm for large dim) agree with a brute-force
 * double argmin wherever the margin is clear, never pick an inactive center,
 * break exact ties to the lowest index and report exact distances; the
 * reservoir sample is uniform; a worker pool of 1, 2 or 3 threads gives the
 * same model bytes as no pool (fused and sgemm kernels, several batches).
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
#include "io/base/log.h"

static double gauss(struct smg_rng *r)
{
    double u = smg_rng_uniform(r), v = smg_rng_uniform(r);
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* n rows around `c` centers on a grid 100 apart, noise sd 1; labels in lab. */
static float *blobs(size_t n, size_t d, size_t c, uint64_t seed, uint32_t *lab)
{
    struct smg_rng r;
    float *x = malloc(n * d * sizeof(float));
    smg_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        size_t b = smg_rng_next(&r) % c;
        lab[i] = (uint32_t)b;
        for (size_t f = 0; f < d; f++)
            x[i * d + f] =
                (float)(1000.0 + (f == b % d ? 100.0 * (double)(1 + b / d) : 0.0) + gauss(&r));
    }
    return x;
}

static double comb2(double v)
{
    return v * (v - 1.0) / 2.0;
}

static double ari(const uint32_t *a, const uint32_t *b, size_t n, size_t ka, size_t kb)
{
    double *t = calloc(ka * kb, sizeof(double)), *ra = calloc(ka, sizeof(double)),
           *rb = calloc(kb, sizeof(double)), s = 0, sa = 0, sb = 0, e, mx;
    for (size_t i = 0; i < n; i++) {
        t[a[i] * kb + b[i]] += 1;
        ra[a[i]] += 1;
        rb[b[i]] += 1;
    }
    for (size_t i = 0; i < ka * kb; i++)
        s += comb2(t[i]);
    for (size_t i = 0; i < ka; i++)
        sa += comb2(ra[i]);
    for (size_t i = 0; i < kb; i++)
        sb += comb2(rb[i]);
    e = sa * sb / comb2((double)n);
    mx = (sa + sb) / 2.0;
    free(t);
    free(ra);
    free(rb);
    return (s - e) / (mx - e);
}

static struct smg_kmeans_config base_cfg(size_t k, size_t factor, size_t d)
{
    struct smg_kmeans_config c = {.k = k,
                                  .extra_center_factor = factor,
                                  .dim = d,
                                  .init_method = SMG_KMEANS_INIT_RANDOM,
                                  .seed = 42,
                                  .init_lloyd_iters = 20,
                                  .lloyd_init_method = SMG_KMEANS_INIT_KMEANSPP,
                                  .lloyd_max_iter = 300,
                                  .lloyd_tol = 1e-4,
                                  .lloyd_trials = 10,
                                  .quiet = true};
    return c;
}

/* Stream x in batches of bs through a single-rank model. */
static struct smg_kmeans *stream(const struct smg_kmeans_config *cfg, const float *x, size_t n,
                                 size_t bs)
{
    struct smg_kmeans *km;
    struct smg_error err = {0};
    struct smg_batch b0 = {.x = x, .rows = bs < n ? bs : n, .cols = cfg->dim};
    bool done = false;
    assert_int_equal(smg_kmeans_new(cfg, &km, &err), SMG_OK);
    assert_int_equal(smg_kmeans_init(km, NULL, &b0, &err), SMG_OK);
    for (size_t r = 0; r < n; r += bs) {
        struct smg_batch b = {
            .x = x + r * cfg->dim, .rows = n - r < bs ? n - r : bs, .cols = cfg->dim};
        assert_int_equal(smg_kmeans_step(km, NULL, &b, &done, &err), SMG_OK);
        assert_false(done);
    }
    assert_int_equal(smg_kmeans_step(km, NULL, NULL, &done, &err), SMG_OK);
    assert_true(done);
    return km;
}

static void test_blobs_found(void **state)
{
    const size_t n = 6000, d = 4, c = 8;
    uint32_t *truth = malloc(n * sizeof(uint32_t)), *lab = malloc(n * sizeof(uint32_t));
    float *x = blobs(n, d, c, 7, truth), out[8 * 4];
    struct smg_kmeans_config cfg = base_cfg(c, SMG_KMEANS_AUTO_EXTRA_CENTER_FACTOR, d);
    struct smg_kmeans *km = stream(&cfg, x, n, 500);
    struct smg_batch all = {.x = x, .rows = n, .cols = d};
    struct smg_error err = {0};
    double loss, sse = 0;
    uint64_t rows = 0;
    (void)state;
    assert_int_equal(smg_kmeans_shrink(km, out, &loss, &err), SMG_OK);
    assert_int_equal(smg_kmeans_score(out, c, d, smg_kmeans_shift(km), &all, &sse, &rows, lab,
                                      SMG_KMEANS_KERNEL_AUTO, &err),
                     SMG_OK);
    assert_true(ari(truth, lab, n, c, c) >= 0.99);
    /* Noise variance 1 per feature: msd close to d. */
    assert_true(sse / (double)rows < 1.2 * (double)d);
    smg_kmeans_free(km);
    free(x);
    free(truth);
    free(lab);
}

static void test_reseed_duplicates_and_starving(void **state)
{
    const size_t d = 2;
    float same[8 * 2], far[200 * 2];
    struct smg_kmeans_config cfg = base_cfg(2, 4, d); /* K = 8 */
    struct smg_kmeans *km;
    struct smg_error err = {0};
    struct smg_rng r;
    bool done;
    (void)state;
    for (size_t i = 0; i < 16; i++)
        same[i] = 5.0f; /* 8 identical rows: every initial center coincides */
    smg_rng_seed(&r, 3);
    for (size_t i = 0; i < 400; i++)
        far[i] = (float)(smg_rng_uniform(&r) * 100.0);
    cfg.init_lloyd_iters = 0;
    assert_int_equal(smg_kmeans_new(&cfg, &km, &err), SMG_OK);
    struct smg_batch b0 = {.x = same, .rows = 8, .cols = d};
    struct smg_batch b1 = {.x = far, .rows = 200, .cols = d};
    assert_int_equal(smg_kmeans_init(km, NULL, &b0, &err), SMG_OK);
    assert_int_equal(smg_kmeans_step(km, NULL, &b0, &done, &err), SMG_OK);
    assert_int_equal(smg_kmeans_step(km, NULL, &b1, &done, &err), SMG_OK);
    assert_true(smg_kmeans_reseeds(km) >= 7);
    const double *c = smg_kmeans_centers(km), *w = smg_kmeans_weights(km);
    for (size_t j = 0; j < 8; j++) {
        assert_true(w[j] > 0.0);
        for (size_t f = 0; f < d; f++)
            assert_true(isfinite(c[j * d + f]));
        for (size_t i = 0; i < j; i++)
            assert_false(c[j * d] == c[i * d] && c[j * d + 1] == c[i * d + 1]);
    }
    smg_kmeans_free(km);
}

static void test_deterministic(void **state)
{
    const size_t n = 4000, d = 5, k = 6;
    uint32_t *truth = malloc(n * sizeof(uint32_t));
    float *x = blobs(n, d, k, 11, truth), o1[6 * 5], o2[6 * 5];
    struct smg_kmeans_config cfg = base_cfg(k, 10, d);
    struct smg_error err = {0};
    double l1, l2;
    (void)state;
    cfg.init_method = SMG_KMEANS_INIT_KMEANSPP;
    struct smg_kmeans *a = stream(&cfg, x, n, 700), *b = stream(&cfg, x, n, 700);
    assert_memory_equal(smg_kmeans_centers(a), smg_kmeans_centers(b), 60 * d * sizeof(double));
    assert_memory_equal(smg_kmeans_weights(a), smg_kmeans_weights(b), 60 * sizeof(double));
    assert_int_equal(smg_kmeans_shrink(a, o1, &l1, &err), SMG_OK);
    assert_int_equal(smg_kmeans_shrink(b, o2, &l2, &err), SMG_OK);
    assert_memory_equal(o1, o2, sizeof(o1));
    assert_true(l1 == l2);
    smg_kmeans_free(a);
    smg_kmeans_free(b);
    free(x);
    free(truth);
}

/* One model streamed with pools of 0 (none) .. 3 workers: every byte the same. */
static void check_pool_identity(size_t n, size_t d, size_t k, size_t factor, size_t bs)
{
    uint32_t *truth = malloc(n * sizeof(uint32_t));
    float *x = blobs(n, d, k, 5, truth), *out[4];
    struct smg_kmeans *km[4];
    struct smg_pool *pool[4] = {NULL, NULL, NULL, NULL};
    struct smg_error err = {0};
    double loss[4];

    for (unsigned w = 0; w <= 3; w++) {
        struct smg_kmeans_config cfg = base_cfg(k, factor, d);
        if (w > 0)
            assert_int_equal(smg_pool_new(w, &pool[w], &err), SMG_OK);
        cfg.pool = pool[w];
        km[w] = stream(&cfg, x, n, bs);
        out[w] = malloc(k * d * sizeof(float));
        assert_int_equal(smg_kmeans_shrink(km[w], out[w], &loss[w], &err), SMG_OK);
    }
    for (unsigned w = 1; w <= 3; w++) {
        assert_memory_equal(smg_kmeans_centers(km[0]), smg_kmeans_centers(km[w]),
                            k * factor * d * sizeof(double));
        assert_memory_equal(smg_kmeans_weights(km[0]), smg_kmeans_weights(km[w]),
                            k * factor * sizeof(double));
        assert_true(smg_kmeans_stream_sse(km[0]) == smg_kmeans_stream_sse(km[w]));
        assert_memory_equal(out[0], out[w], k * d * sizeof(float));
        assert_true(loss[0] == loss[w]);
    }
    for (unsigned w = 0; w <= 3; w++) {
        smg_kmeans_free(km[w]);
        smg_pool_free(pool[w]);
        free(out[w]);
    }
    free(x);
    free(truth);
}

static void test_pool_bit_identical(void **state)
{
    (void)state;
    check_pool_identity(30000, 16, 10, 10, 5000); /* fused kernel, K = 100 */
    check_pool_identity(12000, 100, 5, 4, 3001);  /* sgemm kernel, odd batch size */
}

static void test_half_life_weights(void **state)
{
    /* Two clusters at 0 and 100 (1-D), 50 rows each per batch, half life 100 rows. */
    float b1[100], b2[100];
    struct smg_kmeans_config cfg = base_cfg(2, 1, 1);
    struct smg_kmeans *km;
    struct smg_error err = {0};
    bool done;
    (void)state;
    for (size_t i = 0; i < 100; i++) {
        b1[i] = i < 50 ? 0.0f : 100.0f;
        b2[i] = i < 50 ? 1.0f : 100.0f;
    }
    cfg.init_method = SMG_KMEANS_INIT_KMEANSPP;
    cfg.half_life = 100;
    assert_int_equal(smg_kmeans_new(&cfg, &km, &err), SMG_OK);
    struct smg_batch a = {.x = b1, .rows = 100, .cols = 1}, b = {.x = b2, .rows = 100, .cols = 1};
    assert_int_equal(smg_kmeans_init(km, NULL, &a, &err), SMG_OK);
    assert_int_equal(smg_kmeans_step(km, NULL, &a, &done, &err), SMG_OK);
    const double *w = smg_kmeans_weights(km), *c = smg_kmeans_centers(km),
                 *s = smg_kmeans_shift(km);
    size_t lo = c[0] + s[0] < c[1] + s[0] ? 0 : 1;
    /* First step: previous weight 0 decays to 0; each center gets its 50 rows. */
    assert_true(fabs(w[0] - 50.0) < 1e-12 && fabs(w[1] - 50.0) < 1e-12);
    assert_int_equal(smg_kmeans_step(km, NULL, &b, &done, &err), SMG_OK);
    /* 100 rows = one half life: 50 * 0.5 + 50 = 75; the low center moves
     * with p = 50 / 75 from 0 toward 1: 2/3. */
    assert_true(fabs(w[0] - 75.0) < 1e-12 && fabs(w[1] - 75.0) < 1e-12);
    assert_true(fabs(c[lo] + s[0] - 2.0 / 3.0) < 1e-9);
    assert_int_equal(smg_kmeans_step(km, NULL, &b, &done, &err), SMG_OK);
    assert_true(fabs(w[0] - 87.5) < 1e-12);
    smg_kmeans_free(km);
}

static void test_rank_combine(void **state)
{
    const size_t n = 3000, d = 3, k = 4, bs = 250;
    uint32_t *truth = malloc(n * sizeof(uint32_t));
    float *x = blobs(n, d, k, 5, truth);
    struct smg_kmeans_config cfg = base_cfg(k, 5, d);
    struct smg_kmeans *r0, *r1, *one;
    struct smg_error err = {0};
    /* rank 0 gets rows [0, 2000), rank 1 rows [2000, 3000): rank 1 ends early. */
    const float *x0 = x, *x1 = x + 2000 * d;
    size_t n0 = 2000, n1 = 1000;
    bool d0 = false, d1 = false, d2 = false;
    (void)state;
    cfg.init_method = SMG_KMEANS_INIT_KMEANSPP;
    struct smg_batch first = {.x = x0, .rows = bs, .cols = d};
    assert_int_equal(smg_kmeans_new(&cfg, &r0, &err), SMG_OK);
    assert_int_equal(smg_kmeans_new(&cfg, &r1, &err), SMG_OK);
    assert_int_equal(smg_kmeans_new(&cfg, &one, &err), SMG_OK);
    /* Rank 0 initialises; the broadcast is modelled by initialising each copy alike. */
    assert_int_equal(smg_kmeans_init(r0, NULL, &first, &err), SMG_OK);
    assert_int_equal(smg_kmeans_init(r1, NULL, &first, &err), SMG_OK);
    assert_int_equal(smg_kmeans_init(one, NULL, &first, &err), SMG_OK);
    for (size_t step = 0; !d0; step++) {
        size_t a = step * bs, len = smg_kmeans_stats_len(r0, 2);
        double *s0 = malloc(len * sizeof(double)), *s1 = malloc(len * sizeof(double));
        float *cat = malloc(2 * bs * d * sizeof(float));
        size_t na = a < n0 ? (n0 - a < bs ? n0 - a : bs) : 0;
        size_t nb = a < n1 ? (n1 - a < bs ? n1 - a : bs) : 0;
        struct smg_batch ba = {.x = x0 + a * d, .rows = na, .cols = d};
        struct smg_batch bb = {.x = x1 + a * d, .rows = nb, .cols = d};
        assert_int_equal(smg_kmeans_stats_len(r1, 2), len);
        assert_int_equal(smg_kmeans_local_stats(r0, na ? &ba : NULL, 0, 2, s0, &err), SMG_OK);
        assert_int_equal(smg_kmeans_local_stats(r1, nb ? &bb : NULL, 1, 2, s1, &err), SMG_OK);
        for (size_t i = 0; i < len; i++)
            s0[i] += s1[i]; /* what MPI_Allreduce(SUM) gives every rank */
        memcpy(s1, s0, len * sizeof(double));
        assert_int_equal(smg_kmeans_apply_stats(r0, s0, 2, &d0, &err), SMG_OK);
        assert_int_equal(smg_kmeans_apply_stats(r1, s1, 2, &d1, &err), SMG_OK);
        assert_int_equal(d0, d1);
        /* One rank fed the union of both batches. */
        memcpy(cat, ba.x, na * d * sizeof(float));
        memcpy(cat + na * d, bb.x, nb * d * sizeof(float));
        struct smg_batch bc = {.x = cat, .rows = na + nb, .cols = d};
        assert_int_equal(smg_kmeans_step(one, NULL, na + nb ? &bc : NULL, &d2, &err), SMG_OK);
        assert_int_equal(d0, d2);
        free(s0);
        free(s1);
        free(cat);
    }
    size_t K = smg_kmeans_num_centers(r0);
    assert_memory_equal(smg_kmeans_centers(r0), smg_kmeans_centers(r1), K * d * sizeof(double));
    assert_memory_equal(smg_kmeans_weights(r0), smg_kmeans_weights(r1), K * sizeof(double));
    assert_int_equal(smg_kmeans_rows_seen(r0), n);
    for (size_t j = 0; j < K; j++) {
        /* Sums differ only in addition order: 1e-12 relative is ample. */
        assert_true(smg_kmeans_weights(r0)[j] == smg_kmeans_weights(one)[j]);
        for (size_t f = 0; f < d; f++) {
            double u = smg_kmeans_centers(r0)[j * d + f], v = smg_kmeans_centers(one)[j * d + f];
            assert_true(fabs(u - v) <= 1e-12 * (1.0 + fabs(v)));
        }
    }
    smg_kmeans_free(r0);
    smg_kmeans_free(r1);
    smg_kmeans_free(one);
    free(x);
    free(truth);
}

static void test_no_shrink_factor_one(void **state)
{
    const size_t n = 2000, d = 3, k = 4;
    uint32_t *truth = malloc(n * sizeof(uint32_t));
    float *x = blobs(n, d, k, 9, truth), out[4 * 3];
    struct smg_kmeans_config cfg = base_cfg(k, 1, d);
    struct smg_kmeans *km = stream(&cfg, x, n, 400);
    struct smg_error err = {0};
    double loss = -1;
    const double *c = smg_kmeans_centers(km), *s = smg_kmeans_shift(km);
    (void)state;
    assert_int_equal(smg_kmeans_shrink(km, out, &loss, &err), SMG_OK);
    assert_true(loss == 0.0);
    for (size_t i = 0; i < k * d; i++)
        assert_true(out[i] == (float)(c[i] + s[i % d]));
    smg_kmeans_free(km);
    free(x);
    free(truth);
}

static void test_weighted_lloyd(void **state)
{
    /* k = 1: the center is the weighted mean; loss the weighted msd. */
    double p[3] = {0.0, 10.0, 100.0}, w[3] = {1.0, 3.0, 0.0}, c, loss;
    struct smg_lloyd_config lc = {.k = 1,
                                  .dim = 1,
                                  .init_method = SMG_KMEANS_INIT_KMEANSPP,
                                  .max_iter = 10,
                                  .tol = 0.0,
                                  .trials = 3,
                                  .seed = 1};
    struct smg_error err = {0};
    (void)state;
    assert_int_equal(smg_kmeans_lloyd(&lc, p, w, 3, &c, &loss, &err), SMG_OK);
    assert_true(fabs(c - 7.5) < 1e-12);
    assert_true(fabs(loss - (7.5 * 7.5 + 3 * 2.5 * 2.5) / 4.0) < 1e-9);
}

static void test_polish_improves(void **state)
{
    const size_t n = 3000, d = 2, k = 3;
    uint32_t *truth = malloc(n * sizeof(uint32_t));
    float *x = blobs(n, d, k, 13, truth);
    float c[3 * 2] = {1080, 1010, 1010, 1080, 1230, 990}; /* off, in the right basins */
    double shift[2] = {1000, 1000}, before, after;
    struct smg_kmeans_sample *s;
    struct smg_error err = {0};
    struct smg_batch b = {.x = x, .rows = n, .cols = d};
    (void)state;
    assert_int_equal(smg_kmeans_sample_new(d, 1000, 1, &s, &err), SMG_OK);
    smg_kmeans_sample_add(s, &b);
    assert_int_equal(smg_kmeans_sample_rows(s), 1000);
    assert_int_equal(smg_kmeans_polish(s, NULL, NULL, c, k, shift, 100, 0.0, &before, &after,
                                       SMG_KMEANS_KERNEL_AUTO, &err),
                     SMG_OK);
    assert_true(after <= before);
    assert_true(after < 1.5 * (double)d); /* noise variance 1 per feature */
    smg_kmeans_sample_free(s);
    free(x);
    free(truth);
}

/* |a - b|^2 summed feature by feature in order, as the seeding sums it. */
static double sqdist_d(const double *a, const double *b, size_t d)
{
    double s = 0.0;
    for (size_t f = 0; f < d; f++)
        s += (a[f] - b[f]) * (a[f] - b[f]);
    return s;
}

/*
 * Greedy kmeans++ as one scalar pass per candidate and a linear draw (what
 * smg_kmeans_seed computed before its batched, feature-major form): the
 * reference the fast form must match index for index.
 */
static void seed_reference(const double *p, const double *w, size_t n, size_t d, size_t k,
                           unsigned trials, struct smg_rng *rng, size_t *idx)
{
    double *dmin = malloc(n * sizeof(double)), *pot = malloc(n * sizeof(double)), total = 0.0;
    for (size_t i = 0; i < n; i++)
        total += pot[i] = w[i] > 0.0 ? w[i] : 0.0;
    idx[0] = smg_rng_draw(pot, n, total, rng);
    for (size_t i = 0; i < n; i++)
        dmin[i] = sqdist_d(p + i * d, p + idx[0] * d, d);
    for (size_t j = 1; j < k; j++) {
        double phi = 0.0, best_phi = INFINITY;
        for (size_t i = 0; i < n; i++)
            phi += pot[i] = (w[i] > 0.0 ? w[i] : 0.0) * dmin[i];
        for (unsigned t = 0; t < trials; t++) {
            size_t c = smg_rng_draw(pot, n, phi, rng);
            double cphi = 0.0;
            for (size_t i = 0; i < n; i++) {
                double v = sqdist_d(p + i * d, p + c * d, d);
                cphi += (w[i] > 0.0 ? w[i] : 0.0) * (v < dmin[i] ? v : dmin[i]);
            }
            if (cphi < best_phi) {
                best_phi = cphi;
                idx[j] = c;
            }
        }
        for (size_t i = 0; i < n; i++) {
            double v = sqdist_d(p + i * d, p + idx[j] * d, d);
            dmin[i] = v < dmin[i] ? v : dmin[i];
        }
    }
    free(dmin);
    free(pot);
}

/* The batched greedy kmeans++ picks exactly the reference's seeds (zero weights, duplicates). */
static void test_seed_matches_scalar_reference(void **state)
{
    const size_t n = 777, d = 5, k = 40; /* n not a multiple of the 128-row block */
    double *p = malloc(n * d * sizeof(double)), *w = malloc(n * sizeof(double));
    size_t idx[40], ref[40], chosen = 0;
    struct smg_rng r, r1, r2;
    struct smg_error err = {0};
    (void)state;
    smg_rng_seed(&r, 99);
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < d; f++)
            p[i * d + f] = i % 7 == 3 ? p[(i - 1) * d + f] : 10.0 * smg_rng_uniform(&r) - 5.0;
        w[i] = i % 11 == 0 ? 0.0 : 0.5 + smg_rng_uniform(&r);
    }
    for (unsigned trials = 1; trials <= 20; trials += 19) { /* 20: more than one batch of 16 */
        smg_rng_seed(&r1, 7 + trials);
        smg_rng_seed(&r2, 7 + trials);
        assert_int_equal(smg_kmeans_seed(SMG_KMEANS_INIT_KMEANSPP, p, w, n, d, k, trials, &r1, idx,
                                         &chosen, &err),
                         SMG_OK);
        assert_int_equal(chosen, k);
        seed_reference(p, w, n, d, k, trials, &r2, ref);
        assert_memory_equal(idx, ref, sizeof(idx));
        assert_int_equal(smg_rng_next(&r1), smg_rng_next(&r2)); /* the same draws consumed */
    }
    free(p);
    free(w);
}

/*
 * A start Lloyd cannot leave (two centers split blob 1, one sits between blobs
 * 0 and 2): the polish keeps it; a kmeans++ restart does better on the pool
 * and replaces it, so the polish from there finds the three blobs; the same
 * seed gives the same centers. Given the three blobs, no restart beats them.
 */
static void test_reseed_escapes_bad_basin(void **state)
{
    const size_t n = 3000, d = 2, k = 3;
    uint32_t *truth = malloc(n * sizeof(uint32_t));
    float *x = blobs(n, d, k, 13, truth);
    float c[3 * 2] = {1100, 1000, 1000, 1095, 1000, 1105}, again[3 * 2];
    double shift[2] = {1000, 1000}, before, stuck, msd;
    struct smg_kmeans_reseed_report rep;
    struct smg_kmeans_sample *s;
    struct smg_error err = {0};
    struct smg_batch b = {.x = x, .rows = n, .cols = d};
    (void)state;
    assert_int_equal(smg_kmeans_sample_new(d, n, 1, &s, &err), SMG_OK);
    smg_kmeans_sample_add(s, &b);
    memcpy(again, c, sizeof(c));
    assert_int_equal(smg_kmeans_polish(s, NULL, NULL, again, k, shift, 100, 1e-4, &before, &stuck,
                                       SMG_KMEANS_KERNEL_AUTO, &err),
                     SMG_OK);
    assert_true(stuck > 100.0); /* blobs 0 and 2 (100 apart) share a center */
    memcpy(again, c, sizeof(c));
    assert_int_equal(smg_kmeans_reseed(s, NULL, NULL, c, k, shift, 100, 1e-4, 5, 10, &rep,
                                       SMG_KMEANS_KERNEL_AUTO, &err),
                     SMG_OK);
    assert_int_equal(rep.won, 1);
    assert_true(rep.restarts >= 1 && rep.pool_rows == n); /* 3000 rows < the 10000-row minimum */
    assert_true(rep.best_msd < rep.shrink_msd);
    assert_int_equal(smg_kmeans_polish(s, NULL, NULL, c, k, shift, 100, 1e-4, &before, &msd,
                                       SMG_KMEANS_KERNEL_AUTO, &err),
                     SMG_OK);
    assert_true(msd < 1.5 * (double)d); /* noise variance 1 per feature */
    assert_int_equal(smg_kmeans_reseed(s, NULL, NULL, again, k, shift, 100, 1e-4, 5, 10, &rep,
                                       SMG_KMEANS_KERNEL_AUTO, &err),
                     SMG_OK);
    assert_int_equal(smg_kmeans_polish(s, NULL, NULL, again, k, shift, 100, 1e-4, &before, &msd,
                                       SMG_KMEANS_KERNEL_AUTO, &err),
                     SMG_OK);
    assert_memory_equal(c, again, sizeof(c));
    /* From the three blobs no restart does better: polishing what it returns gives no more. */
    assert_int_equal(smg_kmeans_reseed(s, NULL, NULL, c, k, shift, 100, 1e-4, 5, 10, &rep,
                                       SMG_KMEANS_KERNEL_AUTO, &err),
                     SMG_OK);
    assert_true(rep.best_msd >= rep.shrink_msd * (1.0 - 1e-9));
    assert_int_equal(smg_kmeans_polish(s, NULL, NULL, c, k, shift, 100, 1e-4, &before, &stuck,
                                       SMG_KMEANS_KERNEL_AUTO, &err),
                     SMG_OK);
    assert_true(stuck <= msd * (1.0 + 1e-9));
    smg_kmeans_sample_free(s);
    free(x);
    free(truth);
}

/* One configuration of smg_kmeans_nearest against a brute-force double argmin. */
static void check_nearest(size_t n, size_t d, size_t k, uint64_t seed,
                          enum smg_kmeans_kernel kernel)
{
    struct smg_rng r;
    float *x = malloc(n * d * sizeof(float)), *cs = malloc(k * d * sizeof(float));
    float *cn = malloc(k * sizeof(float));
    double *cd = malloc(k * d * sizeof(double)), *shift = malloc(d * sizeof(double));
    double *dist = malloc(n * sizeof(double));
    uint32_t *lab = malloc(n * sizeof(uint32_t));
    struct smg_error err = {0};
    size_t clear = 0;

    smg_rng_seed(&r, seed);
    for (size_t f = 0; f < d; f++)
        shift[f] = 50.0 + (double)f;
    for (size_t i = 0; i < n * d; i++)
        x[i] = (float)(50.0 + (double)(i % d) + 3.0 * gauss(&r));
    for (size_t j = 0; j < k; j++) {
        float norm = 0.0f;
        for (size_t f = 0; f < d; f++) {
            /* center j + 1 duplicates center j when j % 7 == 0: a tie to the lower index */
            size_t src = (j % 7 == 1) ? j - 1 : j;
            cd[j * d + f] = src == j ? 3.0 * gauss(&r) : cd[src * d + f];
            cs[j * d + f] = (float)cd[j * d + f];
            norm += cs[j * d + f] * cs[j * d + f];
        }
        cn[j] = (j % 5 == 3) ? INFINITY : norm; /* inactive centers */
    }
    assert_int_equal(smg_kmeans_nearest(cs, cn, cd, k, d, shift, x, n, lab, dist, kernel, &err),
                     SMG_OK);
    for (size_t i = 0; i < n; i++) {
        double best = INFINITY, second = INFINITY, e = 0.0;
        size_t bj = SIZE_MAX;
        for (size_t j = 0; j < k; j++) {
            double s = 0.0;
            if (!isfinite(cn[j]))
                continue;
            for (size_t f = 0; f < d; f++) {
                double v = ((double)x[i * d + f] - shift[f]) - cd[j * d + f];
                s += v * v;
            }
            if (s < best) {
                second = best;
                best = s;
                bj = j;
            } else if (s < second && !(j % 7 == 1 && s == best)) {
                second = s;
            }
        }
        if (bj == SIZE_MAX) {
            assert_int_equal(lab[i], SMG_KMEANS_NO_LABEL);
            continue;
        }
        assert_true(lab[i] < k && isfinite(cn[lab[i]]));
        /* a duplicate never beats its active lower-index twin */
        assert_true(lab[i] % 7 != 1 || !isfinite(cn[lab[i] - 1]));
        for (size_t f = 0; f < d; f++) {
            double v = ((double)x[i * d + f] - shift[f]) - cd[lab[i] * d + f];
            e += v * v;
        }
        assert_true(dist[i] == e); /* the exact distance of the chosen center */
        if (second - best > 1e-3 * (best + 1.0)) {
            assert_int_equal(lab[i], bj);
            clear++;
        }
    }
    assert_true(clear > n / 2);
    free(x);
    free(cs);
    free(cn);
    free(cd);
    free(shift);
    free(dist);
    free(lab);
}

static void test_nearest_kernels(void **state)
{
    static const size_t dims[] = {1, 3, 8, 16, 17, 64, 70};
    static const size_t ks[] = {1, 2, 9, 13, 100};
    static const enum smg_kmeans_kernel kernels[] = {
        SMG_KMEANS_KERNEL_AUTO, SMG_KMEANS_KERNEL_PORTABLE, SMG_KMEANS_KERNEL_EXACT,
        SMG_KMEANS_KERNEL_AVX2};
    (void)state;
    for (size_t kn = 0; kn < sizeof(kernels) / sizeof(kernels[0]); kn++)
        for (size_t a = 0; a < sizeof(dims) / sizeof(dims[0]); a++)
            for (size_t b = 0; b < sizeof(ks) / sizeof(ks[0]); b++)
                check_nearest(601, dims[a], ks[b], 100 + a * 10 + b, kernels[kn]);
}

/*
 * Scale safety (issue 12): the blobs scaled by 1e-30 and 1e30 (float32 squares
 * underflow / overflow) switch the job to the exact kernel and are all found
 * (ARI >= 0.99, as unscaled); at scale 1 the configured kernel stays.
 */
static void test_extreme_scales(void **state)
{
    static const double scales[] = {1e-30, 1e-20, 1.0, 1e20, 1e30};
    const size_t n = 4000, d = 4, c = 6;
    uint32_t *truth = malloc(n * sizeof(uint32_t)), *lab = malloc(n * sizeof(uint32_t));
    float *x0 = blobs(n, d, c, 9, truth), *x = malloc(n * d * sizeof(float)), out[6 * 4];
    (void)state;
    for (size_t s = 0; s < sizeof(scales) / sizeof(scales[0]); s++) {
        struct smg_kmeans_config cfg = base_cfg(c, 4, d);
        struct smg_kmeans *km;
        struct smg_batch all = {.x = x, .rows = n, .cols = d};
        struct smg_error err = {0};
        double loss, sse = 0;
        uint64_t rows = 0;
        /* Centre first (blobs sit near 1000): then 1e20 takes |x - mean| past 2^40 too. */
        for (size_t i = 0; i < n * d; i++)
            x[i] = (float)(((double)x0[i] - 1000.0) * scales[s]);
        km = stream(&cfg, x, n, 500);
        assert_int_equal(smg_kmeans_config(km)->kernel,
                         scales[s] == 1.0 ? SMG_KMEANS_KERNEL_AUTO : SMG_KMEANS_KERNEL_EXACT);
        assert_int_equal(smg_kmeans_shrink(km, out, &loss, &err), SMG_OK);
        for (size_t j = 0; j < c * d; j++)
            assert_true(isfinite(out[j]));
        assert_int_equal(smg_kmeans_score(out, c, d, smg_kmeans_shift(km), &all, &sse, &rows, lab,
                                          smg_kmeans_config(km)->kernel, &err),
                         SMG_OK);
        assert_true(ari(truth, lab, n, c, c) >= 0.99);
        /* Noise variance 1 per feature, rescaled: msd close to d * scale^2. */
        assert_true(sse / (double)rows / (scales[s] * scales[s]) < 1.2 * (double)d);
        smg_kmeans_free(km);
    }
    free(x0);
    free(x);
    free(truth);
    free(lab);
}

/*
 * A row whose float32 scores all overflow (|x| ~ 1e20 on the float kernel, as a
 * late outlier would be) still gets its exact nearest center, never
 * SMG_KMEANS_NO_LABEL (that label indexed past the sums: SIGSEGV before).
 */
static void test_overflowing_row_gets_a_label(void **state)
{
    static const size_t dims[] = {2, 80}; /* fused and sgemm paths */
    (void)state;
    for (size_t a = 0; a < 2; a++) {
        size_t d = dims[a];
        float *x = calloc(2 * d, sizeof(float)), *cs = calloc(2 * d, sizeof(float)), cn[2];
        double *cd = calloc(2 * d, sizeof(double)), dist[2];
        uint32_t lab[2];
        struct smg_error err = {0};
        x[0] = 1e20f;
        x[d] = 2e20f;
        cd[0] = (double)1e20f;
        cd[d] = (double)2e20f;
        smg_kmeans_float_centers(cd, 2, d, cs, cn);
        assert_true(isfinite(cn[0]) && isfinite(cn[1])); /* clamped, still active */
        for (int portable = 0; portable < 2; portable++) {
            assert_int_equal(
                smg_kmeans_nearest(cs, cn, cd, 2, d, NULL, x, 2, lab, dist,
                                   portable ? SMG_KMEANS_KERNEL_PORTABLE : SMG_KMEANS_KERNEL_AUTO,
                                   &err),
                SMG_OK);
            assert_int_equal(lab[0], 0);
            assert_int_equal(lab[1], 1);
            assert_true(dist[0] == 0.0 && dist[1] == 0.0);
        }
        free(x);
        free(cs);
        free(cd);
    }
}

static void test_reservoir_uniform(void **state)
{
    const size_t n = 200000, cap = 5000, d = 1;
    float *x = malloc(n * sizeof(float));
    struct smg_kmeans_sample *s;
    struct smg_error err = {0};
    double cut = 0.0;
    float c = 0.0f;
    double before, after;
    (void)state;
    for (size_t i = 0; i < n; i++)
        x[i] = (float)i;
    assert_int_equal(smg_kmeans_sample_new(d, cap, 7, &s, &err), SMG_OK);
    for (size_t i = 0; i < n; i += 977) { /* uneven batches */
        struct smg_batch b = {.x = x + i, .rows = n - i < 977 ? n - i : 977, .cols = d};
        smg_kmeans_sample_add(s, &b);
    }
    assert_int_equal(smg_kmeans_sample_rows(s), cap);
    /* One center at 0 (no shift): the polish moves it to the sample mean. */
    assert_int_equal(smg_kmeans_polish(s, NULL, NULL, &c, 1, &cut, 1, 0.0, &before, &after,
                                       SMG_KMEANS_KERNEL_AUTO, &err),
                     SMG_OK);
    /* Uniform over [0, n): mean n/2, sd of the sample mean n / sqrt(12 cap) ~ 817. */
    assert_true(fabs((double)c - (double)n / 2.0) < 4000.0);
    smg_kmeans_sample_free(s);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blobs_found),
        cmocka_unit_test(test_reseed_duplicates_and_starving),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_pool_bit_identical),
        cmocka_unit_test(test_half_life_weights),
        cmocka_unit_test(test_rank_combine),
        cmocka_unit_test(test_no_shrink_factor_one),
        cmocka_unit_test(test_weighted_lloyd),
        cmocka_unit_test(test_polish_improves),
        cmocka_unit_test(test_seed_matches_scalar_reference),
        cmocka_unit_test(test_reseed_escapes_bad_basin),
        cmocka_unit_test(test_nearest_kernels),
        cmocka_unit_test(test_extreme_scales),
        cmocka_unit_test(test_overflowing_row_gets_a_label),
        cmocka_unit_test(test_reservoir_uniform),
    };
    smg_log_set_level(SMG_LOG_WARNING);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Randomized PCA's sketch: one pass, O(l d) memory, ranks combined by summing
 * one state vector (smg_pca_sketch_state) with an allreduce. l =
 * num_components + extra_components (extra_components -1 means
 * max(10, num_components)). Two sketches sit behind one interface:
 *
 * GRAM (default, pca_gram_sketch.c): a two-sided sketch of sum x x^T whose
 * test matrix depends on the seed only; accurate (one power step built in,
 * solved on the sketch shifted by the estimated noise floor), and the same
 * model for any split of the rows between hosts. GRAM_UNSHIFTED: the same
 * sketch, solved without the shift (the solve before issue 12's last part).
 *
 * SIGNS: the sketch SageMaker documents ("How PCA works"). Every block X_t
 * of m rows is multiplied by an l x m matrix H_t of random signs, and the
 * accumulator keeps
 *     B = sum_t H_t X_t  (l x d),  h = sum_t H_t 1  (l),  s = sum of rows (d),  n,
 * stored back to back as one vector. The solve forms C = (B - h s^T / n) /
 * sqrt(l) (just B / sqrt(l) when subtract_mean is false), i.e. H applied to
 * the centred data; since E[H^T H] = l I, the singular values of C estimate
 * those of the centred data matrix, so s is on the same scale as regular mode.
 * The top right singular vectors of C (LAPACKE dgesdd) are the components.
 * The sign of H[j, i] is bit j of a splitmix64 hash of (seed, rank, index of
 * row i in this rank's stream, j / 64): it depends neither on batch nor on
 * block boundaries, but ranks draw independent signs, so the model depends on
 * how many hosts share the data. B += H X is one dgemm per block; all sums
 * are in double.
 *
 * Both write s descending, as SageMaker does. Both take CSR batches without
 * densifying (pca_csr.c): GRAM through smg_pca_sketch_gram_csr, SIGNS
 * through its H^T blocks (smg_pca_sketch_signs). The dense block buffers are
 * allocated on the first dense block (smg_pca_sketch_reserve_dense), so a
 * sketch fed only CSR batches never holds block_rows x d doubles.
 */
#include <assert.h>
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "algorithms/pca.h"
#include "algorithms/pca_gram_sketch.h"
#include "algorithms/pca_sketch.h"
#include "io/base/alloc.h"

struct smg_pca_sketch {
    enum smg_pca_sketch_kind kind;
    size_t d, l, k, block_rows;
    bool subtract_mean;
    /* SIGNS: state = B (l*d), h (l), s (d), n (1); h_blk l * block_rows. */
    uint64_t key; /* seed mixed with rank */
    double *h_blk;
    /* GRAM: state = G T (d*L), s (d), sum of squares (1), n (1); t = T (d*L);
     * z_blk block_rows * L. */
    size_t lq, l2; /* l and 2 l + 1, each capped at d */
    double *t;
    double *z_blk;
    double *z_row; /* L: one CSR row times T */
    double *state;
    double *x_blk; /* block_rows * d */
    size_t state_len;
};

static uint64_t splitmix64(uint64_t z)
{
    z += UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double *alloc_doubles(size_t a, size_t b)
{
    size_t n, bytes;
    if (!smg_mul_size(a, b, &n) || !smg_mul_size(n, sizeof(double), &bytes))
        return NULL;
    return smg_calloc(1, bytes ? bytes : 1);
}

static double *alloc_doubles3(size_t a, size_t b, size_t c)
{
    size_t n;
    return smg_mul_size(a, b, &n) ? alloc_doubles(n, c) : NULL;
}

/* Sizes of the chosen sketch; false when they overflow. */
static bool sketch_sizes(struct smg_pca_sketch *sk)
{
    size_t len;
    if (sk->l < sk->k)
        return false;
    if (sk->kind == SMG_PCA_SKETCH_SIGNS) {
        if (!smg_mul_size(sk->l, sk->d, &len) || !smg_add_size(len, sk->l, &len) ||
            !smg_add_size(len, sk->d + 1, &len))
            return false;
    } else {
        sk->lq = sk->l < sk->d ? sk->l : sk->d;
        sk->l2 = sk->l < (sk->d - 1) / 2 ? 2 * sk->l + 1 : sk->d;
        if (!smg_mul_size(sk->d, sk->lq + sk->l2, &len) || !smg_add_size(len, sk->d + 2, &len))
            return false;
    }
    sk->state_len = len;
    return true;
}

/* The state and test matrix; the dense block buffers wait for smg_pca_sketch_reserve_dense. */
static int sketch_buffers(struct smg_pca_sketch *sk, uint64_t seed, struct smg_error *err)
{
    sk->state = alloc_doubles(sk->state_len, 1);
    if (sk->kind == SMG_PCA_SKETCH_SIGNS) {
        sk->h_blk = alloc_doubles(sk->l, sk->block_rows);
        if (!sk->state || !sk->h_blk)
            return smg_error_set(err, SMG_ENOMEM,
                                 "pca: out of memory for a %zu x %zu randomized sketch", sk->l,
                                 sk->d);
        return SMG_OK;
    }
    sk->t = alloc_doubles3(sk->d, sk->lq + sk->l2, 1);
    sk->z_row = alloc_doubles(sk->lq + sk->l2, 1);
    if (!sk->state || !sk->t || !sk->z_row)
        return smg_error_set(err, SMG_ENOMEM,
                             "pca: out of memory for a %zu x %zu randomized sketch", sk->l, sk->d);
    return smg_pca_gram_test_matrix(seed, sk->d, sk->lq, sk->l2, sk->t, err);
}

enum smg_status smg_pca_sketch_new(const struct smg_pca_config *cfg, size_t block_rows,
                                   struct smg_pca_sketch **out, struct smg_error *err)
{
    struct smg_pca_sketch *sk = smg_calloc(1, sizeof(*sk));
    size_t extra;
    int rc;

    *out = NULL;
    if (sk == NULL)
        return smg_error_set(err, SMG_ENOMEM, "pca: out of memory");
    extra = cfg->extra_components < 0 ? (cfg->num_components > 10 ? cfg->num_components : 10)
                                      : (size_t)cfg->extra_components;
    sk->kind = cfg->sketch;
    sk->d = cfg->feature_dim;
    sk->k = cfg->num_components;
    sk->l = cfg->num_components + extra;
    sk->block_rows = block_rows;
    sk->subtract_mean = cfg->subtract_mean;
    sk->key = splitmix64(cfg->seed ^ splitmix64((uint64_t)(int64_t)cfg->rank));
    if (!sketch_sizes(sk)) {
        smg_pca_sketch_free(sk);
        return smg_error_set(err, SMG_ECONFIG, "pca: extra_components %lld is too large",
                             cfg->extra_components);
    }
    /* The message is complete before anything is freed (no use after free). */
    rc = sketch_buffers(sk, cfg->seed, err);
    if (rc != SMG_OK) {
        smg_pca_sketch_free(sk);
        return rc;
    }
    *out = sk;
    return SMG_OK;
}

void smg_pca_sketch_free(struct smg_pca_sketch *sk)
{
    if (sk == NULL)
        return;
    smg_free(sk->state);
    smg_free(sk->h_blk);
    smg_free(sk->t);
    smg_free(sk->z_blk);
    smg_free(sk->z_row);
    smg_free(sk->x_blk);
    smg_free(sk);
}

enum smg_status smg_pca_sketch_reserve_dense(struct smg_pca_sketch *sk, struct smg_error *err)
{
    if (sk->x_blk == NULL)
        sk->x_blk = alloc_doubles(sk->block_rows, sk->d);
    if (sk->kind != SMG_PCA_SKETCH_SIGNS && sk->z_blk == NULL)
        sk->z_blk = alloc_doubles3(sk->block_rows, sk->lq + sk->l2, 1);
    if (sk->x_blk == NULL || (sk->kind != SMG_PCA_SKETCH_SIGNS && sk->z_blk == NULL))
        return smg_error_set(err, SMG_ENOMEM, "pca: out of memory for a %zu-row block",
                             sk->block_rows);
    return SMG_OK;
}

bool smg_pca_sketch_is_signs(const struct smg_pca_sketch *sk)
{
    return sk->kind == SMG_PCA_SKETCH_SIGNS;
}

size_t smg_pca_sketch_l(const struct smg_pca_sketch *sk)
{
    return sk->l;
}

size_t smg_pca_sketch_state_len(const struct smg_pca_sketch *sk)
{
    return sk->state_len;
}

double *smg_pca_sketch_state(struct smg_pca_sketch *sk)
{
    return sk->state;
}

/* The l signs of stream row `row` into out[j * stride] (j < l), added to h. */
static void row_signs(struct smg_pca_sketch *sk, uint64_t row, double *out, size_t stride)
{
    const size_t l = sk->l, chunks = (l + 63) / 64;
    double *h = sk->state + l * sk->d;

    for (size_t c = 0; c < chunks; c++) {
        uint64_t bits = splitmix64(sk->key ^ splitmix64(row * chunks + c));
        size_t top = l - c * 64 < 64 ? l - c * 64 : 64;
        for (size_t j = 0; j < top; j++) {
            double sign = (bits >> j) & 1u ? 1.0 : -1.0;
            out[(c * 64 + j) * stride] = sign;
            h[c * 64 + j] += sign;
        }
    }
}

void smg_pca_sketch_signs(struct smg_pca_sketch *sk, uint64_t first_record, size_t m, double *ht)
{
    assert(sk->kind == SMG_PCA_SKETCH_SIGNS);
    for (size_t i = 0; i < m; i++)
        row_signs(sk, first_record + i, ht + i * sk->l, 1);
}

void smg_pca_sketch_gram_csr(struct smg_pca_sketch *sk, const struct smg_batch *b)
{
    assert(sk->kind != SMG_PCA_SKETCH_SIGNS);
    smg_pca_gram_csr(sk->t, sk->d, sk->lq + sk->l2, b, sk->z_row, sk->state);
}

static void sign_block(struct smg_pca_sketch *sk, const float *x, size_t m, uint64_t first_record)
{
    const size_t d = sk->d, l = sk->l;
    double *B = sk->state, *s = B + l * d + l, *n = s + d;

    for (size_t i = 0; i < m; i++) {
        row_signs(sk, first_record + i, sk->h_blk + i, m);
        for (size_t f = 0; f < d; f++) {
            double v = (double)x[i * d + f];
            sk->x_blk[i * d + f] = v;
            s[f] += v;
        }
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)l, (int)d, (int)m, 1.0, sk->h_blk,
                (int)m, sk->x_blk, (int)d, 1.0, B, (int)d);
    *n += (double)m;
}

void smg_pca_sketch_block(struct smg_pca_sketch *sk, const float *x, size_t m,
                          uint64_t first_record)
{
    assert(sk->x_blk != NULL); /* smg_pca_sketch_reserve_dense came first */
    if (sk->kind == SMG_PCA_SKETCH_SIGNS)
        sign_block(sk, x, m, first_record);
    else
        smg_pca_gram_block(sk->t, sk->d, sk->lq + sk->l2, x, m, sk->x_blk, sk->z_blk, sk->state);
}

static int result_new(const struct smg_pca_sketch *sk, struct smg_pca_result *res)
{
    memset(res, 0, sizeof(*res));
    res->feature_dim = sk->d;
    res->num_components = sk->k;
    res->s = alloc_doubles(sk->k, 1);
    res->v = alloc_doubles(sk->d, sk->k);
    if (sk->subtract_mean)
        res->mean = alloc_doubles(sk->d, 1);
    return res->s && res->v && (!sk->subtract_mean || res->mean);
}

static int gram_solve(const struct smg_pca_sketch *sk, struct smg_pca_result *res,
                      struct smg_error *err)
{
    const double *s = sk->state + sk->d * (sk->lq + sk->l2), n = s[sk->d + 1];
    int rc;
    if (!result_new(sk, res)) {
        smg_pca_result_free(res);
        return smg_error_set(err, SMG_ENOMEM, "pca: out of memory in the randomized solve");
    }
    rc = smg_pca_gram_solve(sk->t, sk->state, sk->d, sk->lq, sk->l2, sk->k, sk->subtract_mean,
                            sk->kind == SMG_PCA_SKETCH_GRAM, res->s, res->v, err);
    if (rc != SMG_OK) {
        smg_pca_result_free(res);
        return rc;
    }
    smg_pca_fix_signs(res->v, sk->d, sk->k);
    if (sk->subtract_mean)
        for (size_t f = 0; f < sk->d; f++)
            res->mean[f] = s[f] / n;
    return SMG_OK;
}

static int sign_solve(const struct smg_pca_sketch *sk, struct smg_pca_result *res,
                      struct smg_error *err);

enum smg_status smg_pca_sketch_solve(const struct smg_pca_sketch *sk, struct smg_pca_result *res,
                                     struct smg_error *err)
{
    return sk->kind == SMG_PCA_SKETCH_SIGNS ? sign_solve(sk, res, err) : gram_solve(sk, res, err);
}

static int sign_solve(const struct smg_pca_sketch *sk, struct smg_pca_result *res,
                      struct smg_error *err)
{
    const size_t d = sk->d, l = sk->l, k = sk->k, r = l < d ? l : d;
    const double *B = sk->state, *h = B + l * d, *s = h + l, n = s[d];
    const double scale = 1.0 / sqrt((double)l);
    double *c = alloc_doubles(l, d), *sv = alloc_doubles(r, 1), *u = alloc_doubles(l, r),
           *vt = alloc_doubles(r, d);
    lapack_int info;
    int rc = SMG_OK;

    if (!result_new(sk, res) || !c || !sv || !u || !vt) {
        rc = smg_error_set(err, SMG_ENOMEM, "pca: out of memory in the randomized solve");
        goto out;
    }
    for (size_t j = 0; j < l; j++)
        for (size_t f = 0; f < d; f++)
            c[j * d + f] = (B[j * d + f] - (sk->subtract_mean ? h[j] * s[f] / n : 0.0)) * scale;
    info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)l, (lapack_int)d, c, (lapack_int)d, sv,
                          u, (lapack_int)r, vt, (lapack_int)d);
    if (info != 0) {
        rc = smg_error_set(err, SMG_EINTERNAL, "pca: LAPACKE_dgesdd failed (info %d)", (int)info);
        goto out;
    }
    /* Descending already; below the floor is rounding noise. */
    for (size_t j = 0; j < k; j++) {
        double floor_ = sv[0] * (double)(l > d ? l : d) * 8.0 * DBL_EPSILON;
        res->s[j] = sv[j] > floor_ ? sv[j] : 0.0;
        for (size_t f = 0; f < d; f++)
            res->v[f * k + j] = vt[j * d + f];
    }
    smg_pca_fix_signs(res->v, d, k);
    if (sk->subtract_mean)
        for (size_t f = 0; f < d; f++)
            res->mean[f] = s[f] / n;
out:
    smg_free(c);
    smg_free(sv);
    smg_free(u);
    smg_free(vt);
    if (rc != SMG_OK)
        smg_pca_result_free(res);
    return rc;
}

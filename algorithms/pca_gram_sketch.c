/*
 * Randomized PCA's default sketch: a two-sided linear sketch of the Gram
 * matrix G = sum_i x_i x_i^T (d x d, never formed), after Tropp, Yurtsever,
 * Udell and Cevher, "Practical sketching algorithms for low-rank matrix
 * approximation" (SIAM J. Matrix Anal. Appl. 2017), applied to the symmetric G.
 *
 * Test matrix T = [Omega | Psi] (d x L, L = l + l2, l = num_components +
 * extra_components, l2 = 2 l + 1, each capped at d): Gaussian entries drawn
 * from a splitmix64 hash of (seed, feature, column), each block of columns
 * then orthonormalised (QR). It depends on the seed alone, so every rank
 * builds the same T.
 *
 * One pass: every block X (m x d) adds X^T (X T) to S = G T (d x L) with two
 * dgemms, plus its column sums and row count. The state is a plain sum over
 * rows, so ranks combine with one allreduce, and the result does not depend on
 * how rows are split between hosts or blocks (up to the rounding of the sums,
 * far below 1e-6). Memory: T and S, 2 d L doubles, i.e. O(l d), plus a block.
 *
 * Solve: centre (S -= n mean (mean^T T) when subtract_mean), Y = G Omega and
 * W = G Psi; Q = orth(Y) (d x l); X = argmin |(Psi^T Q) X - W^T| (least
 * squares, l2 x l system) estimates Q^T G; the eigenpairs of the symmetric
 * part of X Q (l x l) give s = sqrt(eigenvalue) and v = Q u. Y's range is
 * that of G Omega = A^T (A Omega), one power step on the data matrix A, which
 * is why this is far more accurate than the documented H X sketch
 * (pca_randomized.c) at the same O(l d) memory.
 */
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "algorithms/pca_gram_sketch.h"
#include "io/base/alloc.h"

static uint64_t mix64(uint64_t z)
{
    z += UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A standard normal from two hashed uniforms (Box-Muller), a pure function of its inputs. */
static double gauss_at(uint64_t seed, uint64_t f, uint64_t j)
{
    uint64_t a = mix64(seed ^ mix64(f * UINT64_C(0x100000001B3) + j));
    uint64_t b = mix64(a ^ UINT64_C(0xD1B54A32D192ED03));
    double u = ((double)(a >> 11) + 0.5) * 0x1p-53, v = (double)(b >> 11) * 0x1p-53;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Orthonormalise columns [c0, c0 + w) of the d x ld row-major a in place. */
static int orthonormalise(double *a, size_t d, size_t w, size_t ld, struct smg_error *err)
{
    double *tau = smg_malloc((w + 1) * sizeof(double));
    lapack_int info;
    if (tau == NULL)
        return smg_error_set(err, SMG_ENOMEM, "pca: out of memory for the sketch's test matrix");
    info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)w, a, (lapack_int)ld, tau);
    if (info == 0)
        info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)w, (lapack_int)w, a,
                              (lapack_int)ld, tau);
    smg_free(tau);
    if (info != 0)
        return smg_error_set(err, SMG_EINTERNAL, "pca: QR of the test matrix failed (info %d)",
                             (int)info);
    return SMG_OK;
}

enum smg_status smg_pca_gram_test_matrix(uint64_t seed, size_t d, size_t l, size_t l2, double *t,
                                         struct smg_error *err)
{
    const size_t L = l + l2;
    int rc;
    for (size_t f = 0; f < d; f++)
        for (size_t j = 0; j < L; j++)
            t[f * L + j] = gauss_at(seed, f, j);
    rc = orthonormalise(t, d, l, L, err);
    return rc == SMG_OK ? orthonormalise(t + l, d, l2, L, err) : rc;
}

void smg_pca_gram_block(const double *t, size_t d, size_t L, const float *x, size_t m,
                        double *x_blk, double *z_blk, double *state)
{
    double *s = state + d * L, *n = s + d;
    for (size_t i = 0; i < m; i++)
        for (size_t f = 0; f < d; f++) {
            double v = (double)x[i * d + f];
            x_blk[i * d + f] = v;
            s[f] += v;
        }
    /* Z = X T (m x L), then S += X^T Z (d x L). */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)L, (int)d, 1.0, x_blk,
                (int)d, t, (int)L, 0.0, z_blk, (int)L);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)L, (int)m, 1.0, x_blk, (int)d,
                z_blk, (int)L, 1.0, state, (int)L);
    *n += (double)m;
}

struct gram_work {
    double *g;   /* d x L: the (centred) G T */
    double *q;   /* d x l: orth(Y) */
    double *p;   /* l2 x l: Psi^T Q */
    double *rhs; /* l2 x d: W^T, then X in its first l rows */
    double *c;   /* l x l */
    double *w;   /* l eigenvalues */
};

static void gram_work_free(struct gram_work *wk)
{
    smg_free(wk->g);
    smg_free(wk->q);
    smg_free(wk->p);
    smg_free(wk->rhs);
    smg_free(wk->c);
    smg_free(wk->w);
}

static int gram_work_new(struct gram_work *wk, size_t d, size_t l, size_t l2)
{
    memset(wk, 0, sizeof(*wk));
    wk->g = smg_malloc(d * (l + l2) * sizeof(double) + 1);
    wk->q = smg_malloc(d * l * sizeof(double) + 1);
    wk->p = smg_malloc(l2 * l * sizeof(double) + 1);
    wk->rhs = smg_malloc(l2 * d * sizeof(double) + 1);
    wk->c = smg_malloc(l * l * sizeof(double) + 1);
    wk->w = smg_malloc(l * sizeof(double) + 1);
    return wk->g && wk->q && wk->p && wk->rhs && wk->c && wk->w;
}

/* G T, centred on the mean when asked: G - n mean mean^T applied to T. */
static void centred_gt(const double *t, const double *state, size_t d, size_t L, bool centre,
                       double *g)
{
    const double *s = state + d * L, n = s[d];
    memcpy(g, state, d * L * sizeof(double));
    if (!centre)
        return;
    for (size_t j = 0; j < L; j++) {
        double mt = 0.0; /* mean^T T[:, j] */
        for (size_t f = 0; f < d; f++)
            mt += s[f] / n * t[f * L + j];
        for (size_t f = 0; f < d; f++)
            g[f * L + j] -= s[f] * mt; /* n mean[f] = s[f] */
    }
}

/* Q = orth(Y), X = lstsq(Psi^T Q, W^T), C = sym(X Q), eigenpairs of C into wk. */
static int core_eigen(const double *t, size_t d, size_t l, size_t l2, struct gram_work *wk,
                      struct smg_error *err)
{
    const size_t L = l + l2;
    lapack_int info;
    int rc;

    for (size_t f = 0; f < d; f++)
        memcpy(wk->q + f * l, wk->g + f * L, l * sizeof(double));
    if ((rc = orthonormalise(wk->q, d, l, l, err)) != SMG_OK)
        return rc;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)l2, (int)l, (int)d, 1.0, t + l,
                (int)L, wk->q, (int)l, 0.0, wk->p, (int)l);
    for (size_t i = 0; i < l2; i++)
        for (size_t f = 0; f < d; f++)
            wk->rhs[i * d + f] = wk->g[f * L + l + i];
    info = LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', (lapack_int)l2, (lapack_int)l, (lapack_int)d, wk->p,
                         (lapack_int)l, wk->rhs, (lapack_int)d);
    if (info != 0)
        return smg_error_set(err, SMG_EINTERNAL, "pca: LAPACKE_dgels failed (info %d)", (int)info);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)l, (int)l, (int)d, 1.0, wk->rhs,
                (int)d, wk->q, (int)l, 0.0, wk->c, (int)l);
    for (size_t i = 0; i < l; i++)
        for (size_t j = i + 1; j < l; j++)
            wk->c[i * l + j] = wk->c[j * l + i] = 0.5 * (wk->c[i * l + j] + wk->c[j * l + i]);
    info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)l, wk->c, (lapack_int)l, wk->w);
    if (info != 0)
        return smg_error_set(err, SMG_EINTERNAL, "pca: LAPACKE_dsyevd failed (info %d)", (int)info);
    return SMG_OK;
}

enum smg_status smg_pca_gram_solve(const double *t, const double *state, size_t d, size_t l,
                                   size_t l2, size_t k, bool centre, double *s_out, double *v_out,
                                   struct smg_error *err)
{
    const size_t L = l + l2;
    struct gram_work wk;
    double top, floor_;
    int rc;

    if (!gram_work_new(&wk, d, l, l2)) {
        gram_work_free(&wk);
        return smg_error_set(err, SMG_ENOMEM, "pca: out of memory in the randomized solve");
    }
    centred_gt(t, state, d, L, centre, wk.g);
    rc = core_eigen(t, d, l, l2, &wk, err);
    if (rc != SMG_OK)
        goto out;
    /* Ascending from dsyevd; below the floor is rounding noise (centring included). */
    top = fabs(wk.w[l - 1]) > fabs(wk.w[0]) ? fabs(wk.w[l - 1]) : fabs(wk.w[0]);
    floor_ = top * (double)d * 64.0 * DBL_EPSILON;
    for (size_t j = 0; j < k; j++) {
        size_t col = l - 1 - j;
        s_out[j] = wk.w[col] > floor_ ? sqrt(wk.w[col]) : 0.0;
        for (size_t f = 0; f < d; f++) {
            double acc = 0.0;
            for (size_t i = 0; i < l; i++)
                acc += wk.q[f * l + i] * wk.c[i * l + col];
            v_out[f * k + j] = acc;
        }
    }
out:
    gram_work_free(&wk);
    return rc;
}

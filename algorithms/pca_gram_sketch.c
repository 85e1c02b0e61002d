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
 * dgemms, plus its column sums, row count and sum of squared entries. The
 * state is a plain sum over rows, so ranks combine with one allreduce, and the
 * result does not depend on how rows are split between hosts or blocks (up to
 * the rounding of the sums, far below 1e-6). Memory: T and S, 2 d L doubles, i.e. O(l d), plus a
 * block. CSR rows (smg_pca_gram_csr) add x^T (x T) from their stored entries only: no block, O(nnz
 * L) work.
 *
 * Solve, on C = G - n mean mean^T (subtract_mean; else C = G): centre the
 * state (C T = S - n mean (mean^T T)), Y = C Omega and W = C Psi; Q = orth(Y)
 * (d x l); X = argmin |(Psi^T Q) X - W^T| (least squares, l2 x l system)
 * estimates Q^T C; the eigenpairs of the symmetric
 * part of X Q (l x l) give s = sqrt(eigenvalue) and v = Q u. Y's range is
 * that of C Omega = A^T (A Omega), one power step on the data matrix A, which
 * is why this is far more accurate than the documented H X sketch
 * (pca_randomized.c) at the same O(l d) memory.
 *
 * Default solve (shift true): two changes, both from quantities known after
 * the pass. (1) A shift: the sketch's error grows with the part of C it cannot
 * reach, its tail beyond the top l eigenvalues, and a flat tail (an isotropic
 * noise floor over many features) is the worst case. Because T is known,
 * S - mu T is exactly the sketch of C - mu I for any mu chosen after the pass;
 * the core runs on it and mu is added back to its eigenvalues. mu is the mean
 * of the eigenvalues the sketch does not hold, (tr C - sum of the r estimated
 * eigenvalues) / (d - r), the mu that minimises the Frobenius norm of the
 * shifted tail; tr C = sum |x|^2 - n |mean|^2 comes exactly from the state's
 * sum of squares. It starts from the unshifted solve and is refined
 * SHIFT_ROUNDS times; it is clipped to [0, smallest estimated eigenvalue], and
 * is 0 when the tail is below what the sum of squares resolves
 * (TRACE_RESOLUTION) or when r >= d. (2) A Nystrom core on all L columns:
 * C ~ (C T) K^+ (C T)^T with K = T^T C T cut to its top r <= l positive
 * eigenpairs (nystrom_eigen), where the two-sided core takes its range from the
 * l columns of Y alone; when fewer than k pairs are usable (rank-deficient
 * data) the two-sided core is used. On an isotropic tail C - mu I is nearly of
 * rank k and the weak components come out sharp; on a decaying tail mu is
 * small. Every step reads only the summed state, so the model still does not
 * depend on the host count beyond the rounding of the sums. shift false: the two-sided core on
 * C, unshifted (SMALGO_PCA_SKETCH=gram-unshifted).
 */
#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "algorithms/csr_ops.h"
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
    double *s = state + d * L, *sq = s + d, *n = sq + 1, ss = 0.0;
    for (size_t i = 0; i < m; i++)
        for (size_t f = 0; f < d; f++) {
            double v = (double)x[i * d + f];
            x_blk[i * d + f] = v;
            s[f] += v;
            ss += v * v;
        }
    *sq += ss;
    /* Z = X T (m x L), then S += X^T Z (d x L). */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)L, (int)d, 1.0, x_blk,
                (int)d, t, (int)L, 0.0, z_blk, (int)L);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)L, (int)m, 1.0, x_blk, (int)d,
                z_blk, (int)L, 1.0, state, (int)L);
    *n += (double)m;
}

void smg_pca_gram_csr(const double *t, size_t d, size_t L, const struct smg_batch *b, double *z_row,
                      double *state)
{
    double *s = state + d * L, *sq = s + d, *n = sq + 1, ss = 0.0;
    smg_csr_xt_xt(b, t, L, z_row, state);
    smg_csr_col_sums(b, s);
    for (size_t i = 0; i < b->rows; i++)
        ss += smg_csr_row_norm2(b, i);
    *n += (double)b->rows;
    *sq += ss;
}

struct gram_work {
    double *g;   /* d x L: the (centred, shifted) sketch C T */
    double *q;   /* d x l: orth(Y), or the Nystrom basis (r columns) */
    double *p;   /* l2 x l: Psi^T Q */
    double *rhs; /* l2 x d: W^T, then X in its first l rows */
    double *c;   /* r x r (leading dimension r): the core, then its eigenvectors */
    double *w;   /* r eigenvalues, ascending */
    double *k;   /* L x L: T^T C T, then its eigenvectors (Nystrom) */
    double *kw;  /* L eigenvalues of k */
    double *u;   /* L x l: the kept eigenvectors, scaled (Nystrom) */
    double *tau; /* l */
    size_t r;    /* eigenpairs held (l for the two-sided core) */
};

static void gram_work_free(struct gram_work *wk)
{
    smg_free(wk->g);
    smg_free(wk->q);
    smg_free(wk->p);
    smg_free(wk->rhs);
    smg_free(wk->c);
    smg_free(wk->w);
    smg_free(wk->k);
    smg_free(wk->kw);
    smg_free(wk->u);
    smg_free(wk->tau);
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
    wk->k = smg_malloc((l + l2) * (l + l2) * sizeof(double) + 1);
    wk->kw = smg_malloc((l + l2) * sizeof(double) + 1);
    wk->u = smg_malloc((l + l2) * l * sizeof(double) + 1);
    wk->tau = smg_malloc(l * sizeof(double) + 1);
    return wk->g && wk->q && wk->p && wk->rhs && wk->c && wk->w && wk->k && wk->kw && wk->u &&
           wk->tau;
}

/* G T, centred on the mean when asked: G - n mean mean^T applied to T. */
static void centred_gt(const double *t, const double *state, size_t d, size_t L, bool centre,
                       double *g)
{
    const double *s = state + d * L, n = s[d + 1];
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

/* a (n x n, row-major) := its symmetric part. */
static void symmetrise(double *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            a[i * n + j] = a[j * n + i] = 0.5 * (a[i * n + j] + a[j * n + i]);
}

/* The r x r core c (leading dimension r) into its eigenpairs, ascending in wk->w. */
static int core_pairs(struct gram_work *wk, size_t r, struct smg_error *err)
{
    lapack_int info;
    symmetrise(wk->c, r);
    info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)r, wk->c, (lapack_int)r, wk->w);
    if (info != 0)
        return smg_error_set(err, SMG_EINTERNAL, "pca: LAPACKE_dsyevd failed (info %d)", (int)info);
    wk->r = r;
    return SMG_OK;
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
    return core_pairs(wk, l, err);
}

/*
 * How many of K's eigenvalues (ascending in kw, L of them) the Nystrom core
 * keeps: the largest, at most l, each above K's rounding (positive: C - mu I
 * is indefinite only in its tail, and 1 / sqrt(w) of a small w would blow
 * that tail up).
 */
static size_t nystrom_rank(const double *kw, size_t L, size_t l)
{
    const double cut = kw[L - 1] * (double)L * 64.0 * DBL_EPSILON;
    size_t r = 0;
    while (r < l && kw[L - 1 - r] > cut && kw[L - 1 - r] > 0.0)
        r++;
    return r;
}

/*
 * Column j of B = (C T) u_j / sqrt(w_j) has |B_j|^2 = |C t|^2 / (t^T C t) for
 * t = T u_j, which for a positive semi-definite C is at most its largest
 * eigenvalue, and about that for the top pair. A column far above the top
 * one's (4x) comes from a w_j shrunk by the shifted tail's negative part, and
 * would add a spurious component: keep the columns before the first such.
 */
static size_t consistent_rank(const double *b, size_t d, size_t ld, size_t r)
{
    double top = 0.0;
    for (size_t j = 0; j < r; j++) {
        double nn = 0.0;
        for (size_t f = 0; f < d; f++)
            nn += b[f * ld + j] * b[f * ld + j];
        if (j == 0)
            top = nn;
        else if (!(nn <= 4.0 * top))
            return j;
    }
    return r;
}

/*
 * The Nystrom core on the whole sketch: C ~ (C T) K^+ (C T)^T with K = T^T C T
 * cut to its top r eigenpairs (nystrom_rank, consistent_rank). B = (C T) U_r W_r^(-1/2) = Q R,
 * so C ~ Q (R R^T) Q^T, and the eigenpairs of R R^T (r x r) go to wk. Uses all
 * L columns of the sketch (the two-sided core uses l for its range), which is
 * what makes it sharper. wk->r = 0 when fewer than k pairs are usable (the
 * caller then runs the two-sided core).
 */
static int nystrom_eigen(const double *t, size_t d, size_t l, size_t l2, size_t k,
                         struct gram_work *wk, struct smg_error *err)
{
    const size_t L = l + l2;
    size_t r;
    lapack_int info;

    wk->r = 0;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)L, (int)L, (int)d, 1.0, t, (int)L,
                wk->g, (int)L, 0.0, wk->k, (int)L);
    symmetrise(wk->k, L);
    info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)L, wk->k, (lapack_int)L, wk->kw);
    if (info != 0)
        return smg_error_set(err, SMG_EINTERNAL, "pca: LAPACKE_dsyevd failed (info %d)", (int)info);
    r = nystrom_rank(wk->kw, L, l);
    if (r < k)
        return SMG_OK;
    for (size_t i = 0; i < L; i++)
        for (size_t j = 0; j < r; j++)
            wk->u[i * r + j] = wk->k[i * L + (L - 1 - j)] / sqrt(wk->kw[L - 1 - j]);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)d, (int)r, (int)L, 1.0, wk->g,
                (int)L, wk->u, (int)r, 0.0, wk->q, (int)l);
    if ((r = consistent_rank(wk->q, d, l, r)) < k)
        return SMG_OK;
    info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)r, wk->q, (lapack_int)l,
                          wk->tau);
    if (info != 0)
        return smg_error_set(err, SMG_EINTERNAL, "pca: LAPACKE_dgeqrf failed (info %d)", (int)info);
    for (size_t i = 0; i < r; i++) /* R (upper triangle of q) into u, r x r */
        for (size_t j = 0; j < r; j++)
            wk->u[i * r + j] = j >= i ? wk->q[i * l + j] : 0.0;
    info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, (lapack_int)d, (lapack_int)r, (lapack_int)r, wk->q,
                          (lapack_int)l, wk->tau);
    if (info != 0)
        return smg_error_set(err, SMG_EINTERNAL, "pca: LAPACKE_dorgqr failed (info %d)", (int)info);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)r, (int)r, (int)r, 1.0, wk->u, (int)r,
                wk->u, (int)r, 0.0, wk->c, (int)r);
    return core_pairs(wk, r, err);
}

/* The default core, Nystrom, or the two-sided one where Nystrom cannot give k pairs. */
static int best_eigen(const double *t, size_t d, size_t l, size_t l2, size_t k,
                      struct gram_work *wk, struct smg_error *err)
{
    int rc = nystrom_eigen(t, d, l, l2, k, wk, err);
    return rc == SMG_OK && wk->r == 0 ? core_eigen(t, d, l, l2, wk, err) : rc;
}

/* Rounds of the shift estimate after the unshifted solve (see the file comment). */
#define SHIFT_ROUNDS 2
/* A tail below this fraction of sum |x|^2 is within the rounding of the trace: no shift. */
#define TRACE_RESOLUTION 1e-9

/* tr C, exactly from the state's sums: sum |x|^2, less n |mean|^2 when centred. */
static double state_trace(const double *state, size_t d, size_t L, bool centre, double *raw)
{
    const double *s = state + d * L, n = s[d + 1];
    double tr = s[d];
    *raw = tr;
    if (centre)
        for (size_t f = 0; f < d; f++)
            tr -= s[f] * s[f] / n;
    return tr > 0.0 ? tr : 0.0;
}

/*
 * The next shift from the estimated eigenvalues of C, w + mu (w ascending,
 * l of them): the mean of the d - l eigenvalues beyond them, clipped to
 * [0, the smallest estimate]; 0 when the tail is unresolved.
 */
static double next_shift(const double *w, size_t d, size_t l, double mu, double tr, double raw)
{
    double held = 0.0, tail, low = w[0] + mu;
    if (l >= d || l == 0)
        return 0.0;
    for (size_t j = 0; j < l; j++)
        held += w[j] + mu;
    tail = tr - held;
    if (!(tail > TRACE_RESOLUTION * raw) || !(low > 0.0))
        return 0.0;
    tail /= (double)(d - l);
    return tail < low ? tail : low;
}

/* C T - mu T from C T - old T: move the shift of the sketch from old to mu. */
static void reshift(const double *t, size_t d, size_t L, double old, double mu, double *g)
{
    const double delta = mu - old;
    for (size_t i = 0; i < d * L; i++)
        g[i] -= delta * t[i];
}

/*
 * shift: the Nystrom core on the sketch of C - mu I, mu refined SHIFT_ROUNDS
 * times from 0; else the two-sided core on C (the unshifted solve). mu out.
 */
static int shifted_eigen(const double *t, const double *state, size_t d, size_t l, size_t l2,
                         size_t k, bool centre, bool shift, struct gram_work *wk, double *mu,
                         struct smg_error *err)
{
    const size_t L = l + l2;
    double raw, tr = state_trace(state, d, L, centre, &raw);
    int rc;

    *mu = 0.0;
    centred_gt(t, state, d, L, centre, wk->g);
    if (!shift)
        return core_eigen(t, d, l, l2, wk, err);
    rc = best_eigen(t, d, l, l2, k, wk, err);
    for (int round = 0; rc == SMG_OK && round < SHIFT_ROUNDS; round++) {
        double next = next_shift(wk->w, d, wk->r, *mu, tr, raw);
        reshift(t, d, L, *mu, next, wk->g);
        *mu = next;
        rc = best_eigen(t, d, l, l2, k, wk, err);
    }
    return rc;
}

enum smg_status smg_pca_gram_solve(const double *t, const double *state, size_t d, size_t l,
                                   size_t l2, size_t k, bool centre, bool shift, double *s_out,
                                   double *v_out, struct smg_error *err)
{
    struct gram_work wk;
    double top, floor_, mu;
    int rc;

    if (!gram_work_new(&wk, d, l, l2)) {
        gram_work_free(&wk);
        return smg_error_set(err, SMG_ENOMEM, "pca: out of memory in the randomized solve");
    }
    rc = shifted_eigen(t, state, d, l, l2, k, centre, shift, &wk, &mu, err);
    if (rc != SMG_OK)
        goto out;
    /* r >= k pairs, ascending; below the floor is rounding noise (centring included). */
    top = fmax(fabs(wk.w[wk.r - 1] + mu), fabs(wk.w[0] + mu));
    floor_ = top * (double)d * 64.0 * DBL_EPSILON;
    for (size_t j = 0; j < k; j++) {
        size_t col = wk.r - 1 - j;
        double e = wk.w[col] + mu;
        s_out[j] = e > floor_ ? sqrt(e) : 0.0;
        for (size_t f = 0; f < d; f++) {
            double acc = 0.0;
            for (size_t i = 0; i < wk.r; i++)
                acc += wk.q[f * l + i] * wk.c[i * wk.r + col];
            v_out[f * k + j] = acc;
        }
    }
out:
    gram_work_free(&wk);
    return rc;
}

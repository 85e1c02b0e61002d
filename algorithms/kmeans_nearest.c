/*
 * Nearest-center search for k-means: the one hot loop of training and of
 * test scoring, plus the seeded generator the k-means code shares.
 *
 * How: rows are taken in blocks; each block is shifted (x - shift) into a
 * float buffer, the argmin over centers of |c|^2 - 2 x.c picks the winner
 * (|x|^2 is the same for every center and is not needed), and the winner's
 * squared distance is then recomputed exactly in double from the shifted row
 * and the double center: what callers sum and compare (losses, reseed
 * candidates) is never negative and never rounded through the expansion.
 * Shifting by a data mean first is what keeps the float32 expansion
 * meaningful for data far from the origin.
 *
 * Two ways to get the scores |c|^2 - 2 x.c:
 *   - dim <= SMG_NEAREST_FUSED_MAX_DIM (the common case, e.g. d = 16 with
 *     K = 100): a fused kernel over centers stored transposed and scaled by
 *     -2 (ct[f][j] = -2 c_j[f], padded to a multiple of 8 with |c|^2 = +INF),
 *     which keeps a running argmin per row and never writes the K scores to
 *     memory. On x86-64 with AVX2+FMA (checked at run time) it runs 8
 *     centers x 4 rows per step with intrinsics; elsewhere, or when the
 *     caller asks for SMG_KMEANS_KERNEL_PORTABLE (the runtime does for
 *     SMALGO_KMEANS_NO_AVX2=1, for tests and comparisons), a plain C loop
 *     the compiler vectorises. Measured on this machine (d = 16, K =
 * 100) it is several times faster than sgemm + a separate argmin: for so small a product, sgemm
 * spends its time packing and clearing the output. Where the CPU also has
 *     AVX-512F, kmeans_avx512.c runs the same arithmetic 16 centers
 *     wide (and the exact distances 8 rows at a time), bit for bit the AVX2
 *     results, about 1.35x faster for d = 16, K = 100 (0.135 -> 0.099 s of
 *     CPU for 2M rows); SMG_KMEANS_KERNEL_AVX2 keeps the AVX2 kernel.
 *   - larger dim: one blocked sgemm per block of rows (a block and its dot
 *     products stay in L2, about 256 KiB), then the argmin.
 * The kernels round differently (FMA vs sgemm's order), so a near-tie may
 * go another way on a CPU without AVX2: runs are reproducible on one machine,
 * not bit-identical across CPU families. Both pick the lowest index among
 * equal scores; an inactive center
 * (|c|^2 = +INF) never wins; an active center's |c|^2 is clamped to FLT_MAX.
 *
 * Scale safety: float32 squares overflow above ~1.8e19 and lose all precision
 * below ~1e-19, so the runtime's k-means picks SMG_KMEANS_KERNEL_EXACT (every
 * distance in double, which holds the square of any finite float32) when the
 * first mini-batch's shifted values leave SMG_KMEANS_FLOAT_SAFE_MIN/MAX, and a
 * row whose float32 scores may have overflowed (a later outlier: no label, or
 * a winner beyond FLOAT_SCORE_LIMIT) is ranked exactly too, so every row gets
 * its true nearest center whenever one is active.
 */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/kmeans.h"
#include "algorithms/kmeans_csr.h"
#include "algorithms/kmeans_avx512.h"
#include "algorithms/kmeans_split.h"
#include "io/base/alloc.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SMG_NEAREST_AVX2 1
#endif

#define BLOCK_BYTES               (256u * 1024u)
#define SMG_NEAREST_FUSED_MAX_DIM 64
#define FUSED_BLOCK_ROWS          256 /* multiple of 4 */
#define NO_BEST                   SIZE_MAX

static size_t block_rows(size_t k, size_t dim)
{
    size_t b = BLOCK_BYTES / (sizeof(float) * (k + dim + 1));
    if (b < 64)
        b = 64;
    if (b > 4096)
        b = 4096;
    return b;
}

size_t smg_kmeans_nearest_block(size_t k, size_t dim)
{
    return dim <= SMG_NEAREST_FUSED_MAX_DIM ? FUSED_BLOCK_ROWS : block_rows(k, dim);
}

/* Portable fused scores + argmin for nb rows; s holds kp floats of scratch. */
static void argmin_plain(const float *xs, size_t nb, size_t dim, const float *ct, const float *cn,
                         size_t kp, float *s, size_t *best)
{
    for (size_t i = 0; i < nb; i++) {
        const float *xi = xs + i * dim;
        float bestv = INFINITY;
        size_t b = NO_BEST;
        memcpy(s, cn, kp * sizeof(float));
        for (size_t f = 0; f < dim; f++) {
            const float xf = xi[f], *cf = ct + f * kp;
            for (size_t j = 0; j < kp; j++)
                s[j] += xf * cf[j];
        }
        for (size_t j = 0; j < kp; j++)
            if (s[j] < bestv) {
                bestv = s[j];
                b = j;
            }
        best[i] = b;
    }
}

#ifdef SMG_NEAREST_AVX2
/* The lowest index among the lanes holding the smallest value, or NO_BEST. */
__attribute__((target("avx2,fma"))) static inline size_t lane_argmin(__m256 v, __m256i idx)
{
    __m256 m = _mm256_min_ps(v, _mm256_permute2f128_ps(v, v, 1));
    __m256i big = _mm256_set1_epi32(INT32_MAX), cand, t;
    int32_t r;

    m = _mm256_min_ps(m, _mm256_shuffle_ps(m, m, _MM_SHUFFLE(1, 0, 3, 2)));
    m = _mm256_min_ps(m, _mm256_shuffle_ps(m, m, _MM_SHUFFLE(2, 3, 0, 1)));
    /* Lanes equal to the minimum with a real index (>= 0) compete by index. */
    cand = _mm256_castps_si256(
        _mm256_and_ps(_mm256_cmp_ps(v, m, _CMP_EQ_OQ),
                      _mm256_castsi256_ps(_mm256_cmpgt_epi32(idx, _mm256_set1_epi32(-1)))));
    t = _mm256_blendv_epi8(big, idx, cand);
    t = _mm256_min_epi32(t, _mm256_permute2x128_si256(t, t, 1));
    t = _mm256_min_epi32(t, _mm256_shuffle_epi32(t, _MM_SHUFFLE(1, 0, 3, 2)));
    t = _mm256_min_epi32(t, _mm256_shuffle_epi32(t, _MM_SHUFFLE(2, 3, 0, 1)));
    r = _mm256_cvtsi256_si32(t);
    return r == INT32_MAX ? NO_BEST : (size_t)r;
}

/*
 * AVX2 fused scores + argmin, 4 rows at a time (nb is a multiple of 4). Each
 * lane keeps the first (lowest j) strict minimum it saw; lane_argmin then
 * breaks ties between lanes by index, so the result equals argmin_plain's.
 * Inlined with a constant dim for common sizes, so the f loop unrolls.
 */
__attribute__((target("avx2,fma"), always_inline)) static inline void
argmin_avx2_body(const float *xs, size_t nb, size_t dim, const float *ct, const float *cn,
                 size_t kp, size_t *best)
{
    const __m256i step = _mm256_set1_epi32(8), first = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);

    for (size_t i = 0; i < nb; i += 4) {
        const float *x0 = xs + i * dim, *x1 = x0 + dim, *x2 = x1 + dim, *x3 = x2 + dim;
        __m256 m0 = _mm256_set1_ps(INFINITY), m1 = m0, m2 = m0, m3 = m0;
        __m256i i0 = _mm256_set1_epi32(-1), i1 = i0, i2 = i0, i3 = i0, idx = first;
        for (size_t j = 0; j < kp; j += 8) {
            __m256 a0 = _mm256_loadu_ps(cn + j), a1 = a0, a2 = a0, a3 = a0, lt;
            for (size_t f = 0; f < dim; f++) {
                __m256 c = _mm256_loadu_ps(ct + f * kp + j);
                a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x0 + f), c, a0);
                a1 = _mm256_fmadd_ps(_mm256_broadcast_ss(x1 + f), c, a1);
                a2 = _mm256_fmadd_ps(_mm256_broadcast_ss(x2 + f), c, a2);
                a3 = _mm256_fmadd_ps(_mm256_broadcast_ss(x3 + f), c, a3);
            }
#define SMG_TAKE(a, m, ix)                                                                         \
    lt = _mm256_cmp_ps(a, m, _CMP_LT_OQ);                                                          \
    m = _mm256_blendv_ps(m, a, lt);                                                                \
    ix = _mm256_castps_si256(                                                                      \
        _mm256_blendv_ps(_mm256_castsi256_ps(ix), _mm256_castsi256_ps(idx), lt))
            SMG_TAKE(a0, m0, i0);
            SMG_TAKE(a1, m1, i1);
            SMG_TAKE(a2, m2, i2);
            SMG_TAKE(a3, m3, i3);
#undef SMG_TAKE
            idx = _mm256_add_epi32(idx, step);
        }
        best[i] = lane_argmin(m0, i0);
        best[i + 1] = lane_argmin(m1, i1);
        best[i + 2] = lane_argmin(m2, i2);
        best[i + 3] = lane_argmin(m3, i3);
    }
}

__attribute__((target("avx2,fma"))) static void argmin_avx2(const float *xs, size_t nb, size_t dim,
                                                            const float *ct, const float *cn,
                                                            size_t kp, size_t *best)
{
    switch (dim) {
    case 8: argmin_avx2_body(xs, nb, 8, ct, cn, kp, best); break;
    case 16: argmin_avx2_body(xs, nb, 16, ct, cn, kp, best); break;
    default: argmin_avx2_body(xs, nb, dim, ct, cn, kp, best); break;
    }
}

/* AVX2+FMA present (checked once) and not turned off by the caller's kernel choice. */
static bool have_avx2(enum smg_kmeans_kernel kernel)
{
    static int cached = -1;

    if (kernel == SMG_KMEANS_KERNEL_PORTABLE)
        return false;
    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return cached != 0;
}
#endif

/* Shift rows [r0, r0 + nb) of x into xs (float). */
__attribute__((always_inline)) static inline void
shift_rows(const float *x, size_t r0, size_t nb, size_t dim, const double *shift, float *xs)
{
    const float *xb = x + r0 * dim;
    if (shift == NULL) {
        memcpy(xs, xb, nb * dim * sizeof(float));
        return;
    }
    for (size_t i = 0; i < nb; i++)
        for (size_t f = 0; f < dim; f++)
            xs[i * dim + f] = (float)((double)xb[i * dim + f] - shift[f]);
}

#ifdef SMG_NEAREST_AVX2
/* The same compiled for AVX2, d = 16 unrolled (4-wide double conversions). */
__attribute__((target("avx2,fma"))) static void
shift_rows_avx2(const float *x, size_t r0, size_t nb, size_t dim, const double *shift, float *xs)
{
    if (dim == 16)
        shift_rows(x, r0, nb, 16, shift, xs);
    else
        shift_rows(x, r0, nb, dim, shift, xs);
}
#endif

/* Label and exact double squared distance of row r given its winner (or NO_BEST). */
__attribute__((always_inline)) static inline void finish_row(const float *x, size_t r, size_t dim,
                                                             const double *shift, const double *cd,
                                                             size_t best, uint32_t *labels,
                                                             double *dist)
{
    const float *xr = x + r * dim;
    double exact = 0.0;

    if (best == NO_BEST) {
        /* No active center: distance to the shift, no label. */
        for (size_t f = 0; f < dim; f++) {
            double v = (double)xr[f] - (shift ? shift[f] : 0.0);
            exact += v * v;
        }
        labels[r] = SMG_KMEANS_NO_LABEL;
    } else {
        const double *c = cd + best * dim;
        for (size_t f = 0; f < dim; f++) {
            double v = ((double)xr[f] - (shift ? shift[f] : 0.0)) - c[f];
            exact += v * v;
        }
        labels[r] = (uint32_t)best;
    }
    dist[r] = exact;
}

static void finish_block(const float *x, size_t r0, size_t nb, size_t dim, const double *shift,
                         const double *cd, const size_t *best, uint32_t *labels, double *dist)
{
    for (size_t i = 0; i < nb; i++)
        finish_row(x, r0 + i, dim, shift, cd, best[i], labels, dist);
}

#ifdef SMG_NEAREST_AVX2
/* The same, compiled for AVX2 (the double loops vectorise 4 wide), d = 16 unrolled. */
__attribute__((target("avx2,fma"))) static void
finish_block_avx2(const float *x, size_t r0, size_t nb, size_t dim, const double *shift,
                  const double *cd, const size_t *best, uint32_t *labels, double *dist)
{
    if (dim == 16 && shift != NULL)
        for (size_t i = 0; i < nb; i++)
            finish_row(x, r0 + i, 16, shift, cd, best[i], labels, dist);
    else
        for (size_t i = 0; i < nb; i++)
            finish_row(x, r0 + i, dim, shift, cd, best[i], labels, dist);
}
#endif

static int nearest_fused(const float *cs, const float *cnorm, const double *cd, size_t k,
                         size_t dim, const double *shift, const float *x, size_t rows,
                         uint32_t *labels, double *dist, enum smg_kmeans_kernel kernel,
                         struct smg_error *err)
{
    size_t kp, n_ct;
    float *ct = NULL, *cn = NULL, *xs = NULL, *s = NULL;
    size_t best[FUSED_BLOCK_ROWS];
    bool avx2 = false, avx512 = false;
    int rc = SMG_OK;

    (void)kernel; /* only x86-64 has a second kernel */
#ifdef SMG_NEAREST_AVX2
    avx2 = have_avx2(kernel);
    avx512 = avx2 && kernel != SMG_KMEANS_KERNEL_AVX2 && smg_nearest_have_avx512();
#endif
    kp = (k + 7) / 8 * 8;
    if (kp < k || !smg_mul_size(kp, dim, &n_ct) ||
        (ct = smg_malloc(n_ct * sizeof(float))) == NULL ||
        (cn = smg_malloc(kp * sizeof(float))) == NULL ||
        (s = smg_malloc(kp * sizeof(float))) == NULL ||
        (xs = smg_calloc((size_t)FUSED_BLOCK_ROWS * dim, sizeof(float))) == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for %zu centers", k);
        goto out;
    }
    for (size_t j = 0; j < kp; j++) {
        cn[j] = j < k ? cnorm[j] : INFINITY;
        for (size_t f = 0; f < dim; f++)
            ct[f * kp + j] = j < k ? -2.0f * cs[j * dim + f] : 0.0f;
    }
    for (size_t r0 = 0; r0 < rows; r0 += FUSED_BLOCK_ROWS) {
        size_t nb = rows - r0 < FUSED_BLOCK_ROWS ? rows - r0 : FUSED_BLOCK_ROWS;
#ifdef SMG_NEAREST_AVX2
        if (avx512 && shift != NULL)
            smg_nearest_shift_avx512(x + r0 * dim, nb, dim, shift, xs);
        else if (avx2)
            shift_rows_avx2(x, r0, nb, dim, shift, xs);
        else
#endif
            shift_rows(x, r0, nb, dim, shift, xs);
#ifdef SMG_NEAREST_AVX2
        if (avx2) {
            size_t nb4 = (nb + 3) / 4 * 4;
            if (nb4 > nb) /* stale rows of the previous block: scored, ignored */
                memset(xs + nb * dim, 0, (nb4 - nb) * dim * sizeof(float));
            if (avx512)
                smg_nearest_argmin_avx512(xs, nb4, dim, ct, cn, kp, best);
            else
                argmin_avx2(xs, nb4, dim, ct, cn, kp, best);
        }
#endif
        if (!avx2) {
            argmin_plain(xs, nb, dim, ct, cn, kp, s, best);
            finish_block(x, r0, nb, dim, shift, cd, best, labels, dist);
        }
#ifdef SMG_NEAREST_AVX2
        else if (avx512) {
            /* No shift is a shift by +0.0: (double)x - 0.0 is (double)x, as finish_row has it.
             * Rows with no winner are left to finish_row (distance to the shift). */
            static const double zeros[SMG_NEAREST_FUSED_MAX_DIM];
            if (smg_nearest_finish_avx512(x, r0, nb, dim, shift != NULL ? shift : zeros, cd, best,
                                          labels, dist))
                for (size_t i = 0; i < nb; i++)
                    if (best[i] == NO_BEST)
                        finish_row(x, r0 + i, dim, shift, cd, best[i], labels, dist);
        } else {
            finish_block_avx2(x, r0, nb, dim, shift, cd, best, labels, dist);
        }
#endif
    }
out:
    smg_free(ct);
    smg_free(cn);
    smg_free(s);
    smg_free(xs);
    return rc;
}

/*
 * Row r's nearest active center (cnorm[j] != +INF) by exact squared distances
 * in double, lowest index on ties. Double holds the square of any finite
 * float32 difference (at most (2 * FLT_MAX)^2 ~ 4.6e77, at least ~2e-90), so
 * this ranks rows the float32 expansion cannot: SMG_KMEANS_KERNEL_EXACT and
 * rows whose float scores all overflowed.
 */
static void exact_row(const float *cnorm, const double *cd, size_t k, size_t dim,
                      const double *shift, const float *x, size_t r, uint32_t *labels, double *dist)
{
    const float *xr = x + r * dim;
    size_t best = NO_BEST;
    double bestd = INFINITY;

    for (size_t j = 0; j < k; j++) {
        const double *c = cd + j * dim;
        double s = 0.0;
        if (cnorm[j] == INFINITY)
            continue;
        for (size_t f = 0; f < dim; f++) {
            double v = ((double)xr[f] - (shift ? shift[f] : 0.0)) - c[f];
            s += v * v;
        }
        if (best == NO_BEST || s < bestd) {
            bestd = s;
            best = j;
        }
    }
    finish_row(x, r, dim, shift, cd, best, labels, dist);
}

/*
 * Beyond this a float32 score |c|^2 - 2 x.c may overflow: |x|^2 <= 2 (|x - c|^2
 * + |c|^2) stays below 2^102, far under FLT_MAX (~2^128), while both the
 * winner's exact distance and its squared norm are at most 2^100.
 */
#define FLOAT_SCORE_LIMIT 0x1p100

/*
 * After a float32 pass: a row whose ranking float32 cannot be trusted (no
 * label although a center is active: all scores +INF or NaN; or a winner so
 * far or so large that the scores may have overflowed) is ranked exactly
 * instead. Ordinary data never comes near the limit, so this only reads each
 * row's label and distance; a late outlier (|x| ~ 1e20 on a float32 job) gets
 * its true nearest center.
 */
static void rescue_unranked(const float *cnorm, const double *cd, size_t k, size_t dim,
                            const double *shift, const float *x, size_t rows, uint32_t *labels,
                            double *dist)
{
    bool any_active = false;
    for (size_t j = 0; j < k && !any_active; j++)
        any_active = cnorm[j] != INFINITY;
    if (!any_active)
        return;
    for (size_t r = 0; r < rows; r++) {
        uint32_t l = labels[r];
        if (l == SMG_KMEANS_NO_LABEL || dist[r] > FLOAT_SCORE_LIMIT ||
            cnorm[l] > (float)FLOAT_SCORE_LIMIT)
            exact_row(cnorm, cd, k, dim, shift, x, r, labels, dist);
    }
}

static int nearest_blocked(const float *cs, const float *cnorm, const double *cd, size_t k,
                           size_t dim, const double *shift, const float *x, size_t rows,
                           uint32_t *labels, double *dist, struct smg_error *err)
{
    size_t bmax = block_rows(k, dim), n_xs, n_dots;
    float *xs = NULL, *dots = NULL;
    bool any_active = false;
    int rc = SMG_OK;

    for (size_t j = 0; j < k; j++)
        if (isfinite(cnorm[j]))
            any_active = true;
    if (!smg_mul_size(bmax, dim, &n_xs) || !smg_mul_size(bmax, k, &n_dots) ||
        (xs = smg_malloc(n_xs * sizeof(float))) == NULL ||
        (dots = smg_malloc(n_dots * sizeof(float) + 1)) == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for a %zu-row block", bmax);
        goto out;
    }
    for (size_t r0 = 0; r0 < rows; r0 += bmax) {
        size_t nb = rows - r0 < bmax ? rows - r0 : bmax;
        shift_rows(x, r0, nb, dim, shift, xs);
        if (any_active && k > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)k, (int)dim, 1.0f,
                        xs, (int)dim, cs, (int)dim, 0.0f, dots, (int)k);
        for (size_t i = 0; i < nb; i++) {
            size_t best = NO_BEST;
            float bestd = INFINITY;
            if (any_active) {
                const float *di = dots + i * k;
                for (size_t j = 0; j < k; j++) {
                    float v = cnorm[j] - 2.0f * di[j];
                    if (v < bestd) {
                        bestd = v;
                        best = j;
                    }
                }
            }
            finish_row(x, r0 + i, dim, shift, cd, best, labels, dist);
        }
    }
out:
    smg_free(xs);
    smg_free(dots);
    return rc;
}

enum smg_status smg_kmeans_nearest(const float *cs, const float *cnorm, const double *cd, size_t k,
                                   size_t dim, const double *shift, const float *x, size_t rows,
                                   uint32_t *labels, double *dist, enum smg_kmeans_kernel kernel,
                                   struct smg_error *err)
{
    int rc;

    if (kernel == SMG_KMEANS_KERNEL_EXACT) {
        for (size_t r = 0; r < rows; r++)
            exact_row(cnorm, cd, k, dim, shift, x, r, labels, dist);
        return SMG_OK;
    }
    if (dim <= SMG_NEAREST_FUSED_MAX_DIM)
        rc = nearest_fused(cs, cnorm, cd, k, dim, shift, x, rows, labels, dist, kernel, err);
    else
        rc = nearest_blocked(cs, cnorm, cd, k, dim, shift, x, rows, labels, dist, err);
    if (rc == SMG_OK)
        rescue_unranked(cnorm, cd, k, dim, shift, x, rows, labels, dist);
    return rc;
}

/* Nearest of k centers (cd + shift, unshifted) for a CSR batch (kmeans_csr.h). */
static int score_csr(const double *cd, size_t k, size_t dim, const double *shift,
                     const struct smg_batch *b, uint32_t *lab, double *dist,
                     enum smg_kmeans_kernel kernel, struct smg_error *err)
{
    struct smg_kmeans_csr *kc;
    int rc = smg_kmeans_csr_new(k, dim, &kc, err);

    if (rc != SMG_OK)
        return rc;
    smg_kmeans_csr_load(kc, cd, NULL, shift);
    smg_kmeans_csr_nearest(kc, NULL, cd, shift, b, kernel, lab, dist);
    smg_kmeans_csr_free(kc);
    return SMG_OK;
}

enum smg_status smg_kmeans_score(const float *centers, size_t k, size_t dim, const double *shift,
                                 const struct smg_batch *b, double *sse, uint64_t *rows,
                                 uint32_t *labels, enum smg_kmeans_kernel kernel,
                                 struct smg_error *err)
{
    float *cs = NULL, *cn = NULL;
    double *cd = NULL, *dist = NULL;
    uint32_t *lab = labels;
    size_t n_c;
    int rc = SMG_OK;

    if (b == NULL || b->rows == 0)
        return SMG_OK;
    if (b->cols != dim)
        return smg_error_set(err, SMG_EINTERNAL, "k-means score: batch has %zu columns, model %zu",
                             b->cols, dim);
    if (!smg_mul_size(k, dim, &n_c) || (cs = smg_malloc(n_c * sizeof(float) + 1)) == NULL ||
        (cd = smg_malloc(n_c * sizeof(double) + 1)) == NULL ||
        (cn = smg_malloc(k * sizeof(float) + 1)) == NULL ||
        (dist = smg_malloc(b->rows * sizeof(double))) == NULL ||
        (lab == NULL && (lab = smg_malloc(b->rows * sizeof(uint32_t))) == NULL)) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means score: out of memory");
        goto out;
    }
    for (size_t j = 0; j < n_c; j++)
        cd[j] = (double)centers[j] - (shift ? shift[j % dim] : 0.0);
    smg_kmeans_float_centers(cd, k, dim, cs, cn);
    if (smg_batch_is_csr(b))
        rc = score_csr(cd, k, dim, shift, b, lab, dist, kernel, err);
    else
        rc = smg_kmeans_nearest(cs, cn, cd, k, dim, shift, b->x, b->rows, lab, dist, kernel, err);
    if (rc != SMG_OK)
        goto out;
    for (size_t i = 0; i < b->rows; i++)
        *sse += dist[i];
    *rows += b->rows;
out:
    smg_free(cs);
    smg_free(cd);
    smg_free(cn);
    smg_free(dist);
    if (lab != labels)
        smg_free(lab);
    return rc;
}

/* splitmix64, to expand one seed into the generator state. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void smg_rng_seed(struct smg_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t smg_rng_next(struct smg_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double smg_rng_uniform(struct smg_rng *r)
{
    return (double)(smg_rng_next(r) >> 11) * 0x1.0p-53;
}

size_t smg_rng_draw(const double *p, size_t n, double total, struct smg_rng *r)
{
    double u = smg_rng_uniform(r) * total, acc = 0.0;
    size_t last = n;
    for (size_t i = 0; i < n; i++) {
        if (p[i] <= 0.0)
            continue;
        acc += p[i];
        last = i;
        if (u < acc)
            return i;
    }
    return last;
}

void smg_kmeans_float_centers(const double *cd, size_t k, size_t dim, float *cs, float *cnorm)
{
    for (size_t j = 0; j < k; j++) {
        float norm = 0.0f;
        for (size_t f = 0; f < dim; f++) {
            cs[j * dim + f] = (float)cd[j * dim + f];
            norm += cs[j * dim + f] * cs[j * dim + f];
        }
        /* Finite even when the square overflows: +INF means "inactive". */
        cnorm[j] = norm < FLT_MAX ? norm : FLT_MAX;
    }
}

/*
 * AVX-512 kernels of the k-means step (kmeans_avx512.h): the same arithmetic
 * as kmeans_nearest.c's AVX2 kernels and kmeans_split.c's sums, in wider
 * vectors and with more rows and centers per step.
 *
 * Scores: 4 rows x up to 4 vectors of 16 centers per step (16 accumulators
 * in registers), one broadcast per row and one load of 16 centers per
 * feature, so the fused multiply-adds, not the loads, set the pace. Each
 * lane keeps the first (lowest j) strict minimum it saw, centers being
 * visited in increasing order; lane_argmin then takes the lowest index
 * among the lanes holding the smallest value: the lowest index among the
 * smallest scores, as the AVX2 and plain kernels pick it.
 *
 * Exact distances: a squared distance is a chain of dim dependent double
 * additions, so one row at a time waits on the adder's latency. Here the
 * squares of 8 rows are formed 8 features at a time, transposed so that a
 * vector holds one feature of 8 rows, and added in feature order: the same
 * sums, 8 rows per chain.
 */
#include "algorithms/kmeans_avx512.h"

#ifdef SMG_NEAREST_AVX512
#include <immintrin.h>
#include <math.h>

#define NO_BEST SIZE_MAX
#define TARGET  __attribute__((target("avx512f,fma,avx2")))

bool smg_nearest_have_avx512(void)
{
    static int cached = -1;

    if (cached < 0) {
        __builtin_cpu_init();
        cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
                 __builtin_cpu_supports("fma");
    }
    return cached != 0;
}

/* The lowest index among the lanes holding the smallest value (index >= 0), or NO_BEST. */
TARGET static inline size_t lane_argmin(__m512 v, __m512i idx)
{
    float m = _mm512_reduce_min_ps(v);
    __mmask16 cand = _mm512_cmp_ps_mask(v, _mm512_set1_ps(m), _CMP_EQ_OQ) &
                     _mm512_cmpgt_epi32_mask(idx, _mm512_set1_epi32(-1));
    int32_t r;

    if (cand == 0)
        return NO_BEST;
    r = _mm512_mask_reduce_min_epi32(cand, idx);
    return (size_t)r;
}

/*
 * G vectors of 16 centers starting at j against 4 rows: scores into the
 * per-row running minima m[r] and their indices ix[r]. G and dim are
 * constants after inlining, so the loops unroll into registers.
 */
TARGET __attribute__((always_inline)) static inline void
step_rows4(const float *x0, size_t dim, const float *ct, const float *cn, size_t kp, size_t j,
           const int G, __m512 m[4], __m512i ix[4])
{
    __m512 a[4][4];
    const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

    for (int q = 0; q < G; q++) {
        __m512 c = _mm512_loadu_ps(cn + j + 16 * (size_t)q);
        for (int r = 0; r < 4; r++)
            a[r][q] = c;
    }
    for (size_t f = 0; f < dim; f++) {
        __m512 c[4];
        for (int q = 0; q < G; q++)
            c[q] = _mm512_loadu_ps(ct + f * kp + j + 16 * (size_t)q);
        for (int r = 0; r < 4; r++) {
            __m512 xb = _mm512_set1_ps(x0[(size_t)r * dim + f]);
            for (int q = 0; q < G; q++)
                a[r][q] = _mm512_fmadd_ps(xb, c[q], a[r][q]);
        }
    }
    for (int q = 0; q < G; q++) {
        __m512i idx = _mm512_add_epi32(lanes, _mm512_set1_epi32((int)(j + 16 * (size_t)q)));
        for (int r = 0; r < 4; r++) {
            __mmask16 lt = _mm512_cmp_ps_mask(a[r][q], m[r], _CMP_LT_OQ);
            m[r] = _mm512_mask_blend_ps(lt, m[r], a[r][q]);
            ix[r] = _mm512_mask_blend_epi32(lt, ix[r], idx);
        }
    }
}

/* The last 8 centers at j (kp % 16 == 8) in 256-bit vectors: half the work of a 16-wide step. */
TARGET __attribute__((always_inline)) static inline void
step_rows4_8(const float *x0, size_t dim, const float *ct, const float *cn, size_t kp, size_t j,
             __m512 m[4], __m512i ix[4])
{
    const __m512i idx =
        _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, -1, -1, -1, -1, -1, -1, -1, -1),
                         _mm512_setr_epi32((int)j, (int)j, (int)j, (int)j, (int)j, (int)j, (int)j,
                                           (int)j, 0, 0, 0, 0, 0, 0, 0, 0));
    const __m512 inf = _mm512_set1_ps(INFINITY);
    __m256 a[4];

    for (int r = 0; r < 4; r++)
        a[r] = _mm256_loadu_ps(cn + j);
    for (size_t f = 0; f < dim; f++) {
        __m256 c = _mm256_loadu_ps(ct + f * kp + j);
        for (int r = 0; r < 4; r++)
            a[r] = _mm256_fmadd_ps(_mm256_set1_ps(x0[(size_t)r * dim + f]), c, a[r]);
    }
    for (int r = 0; r < 4; r++) {
        /* Upper lanes +INF: never below a running minimum. */
        __m512 v = _mm512_mask_blend_ps(0x00FF, inf, _mm512_castps256_ps512(a[r]));
        __mmask16 lt = _mm512_cmp_ps_mask(v, m[r], _CMP_LT_OQ);
        m[r] = _mm512_mask_blend_ps(lt, m[r], v);
        ix[r] = _mm512_mask_blend_epi32(lt, ix[r], idx);
    }
}

TARGET __attribute__((always_inline)) static inline void argmin_body(const float *xs, size_t nb,
                                                                     size_t dim, const float *ct,
                                                                     const float *cn, size_t kp,
                                                                     size_t *best)
{
    for (size_t i = 0; i < nb; i += 4) {
        const float *x0 = xs + i * dim;
        __m512 m[4];
        __m512i ix[4];
        size_t j = 0;

        for (int r = 0; r < 4; r++) {
            m[r] = _mm512_set1_ps(INFINITY);
            ix[r] = _mm512_set1_epi32(-1);
        }
        for (; j + 64 <= kp; j += 64)
            step_rows4(x0, dim, ct, cn, kp, j, 4, m, ix);
        switch ((kp - j) / 16) {
        case 3: step_rows4(x0, dim, ct, cn, kp, j, 3, m, ix); break;
        case 2: step_rows4(x0, dim, ct, cn, kp, j, 2, m, ix); break;
        case 1: step_rows4(x0, dim, ct, cn, kp, j, 1, m, ix); break;
        default: break;
        }
        if (kp % 16 == 8)
            step_rows4_8(x0, dim, ct, cn, kp, kp - 8, m, ix);
        for (int r = 0; r < 4; r++)
            best[i + (size_t)r] = lane_argmin(m[r], ix[r]);
    }
}

TARGET void smg_nearest_argmin_avx512(const float *xs, size_t nb, size_t dim, const float *ct,
                                      const float *cn, size_t kp, size_t *best)
{
    switch (dim) {
    case 8: argmin_body(xs, nb, 8, ct, cn, kp, best); break;
    case 16: argmin_body(xs, nb, 16, ct, cn, kp, best); break;
    default: argmin_body(xs, nb, dim, ct, cn, kp, best); break;
    }
}

TARGET __attribute__((always_inline)) static inline void
shift_body(const float *x, size_t nb, size_t dim, const double *shift, float *xs)
{
    for (size_t i = 0; i < nb; i++)
        for (size_t f0 = 0; f0 < dim; f0 += 8) {
            const size_t w = dim - f0 < 8 ? dim - f0 : 8;
            const __mmask8 mk = (__mmask8)((1u << w) - 1u);
            __m256 xf =
                _mm512_castps512_ps256(_mm512_maskz_loadu_ps((__mmask16)mk, x + i * dim + f0));
            __m512d v = _mm512_sub_pd(_mm512_cvtps_pd(xf), _mm512_maskz_loadu_pd(mk, shift + f0));
            __m256 r = _mm512_cvtpd_ps(v);
            _mm512_mask_storeu_ps(xs + i * dim + f0, (__mmask16)mk, _mm512_castps256_ps512(r));
        }
}

TARGET void smg_nearest_shift_avx512(const float *x, size_t nb, size_t dim, const double *shift,
                                     float *xs)
{
    if (dim == 16)
        shift_body(x, nb, 16, shift, xs);
    else
        shift_body(x, nb, dim, shift, xs);
}

/* Transpose 8 vectors of 8 doubles (rows) into 8 vectors holding one column each. */
TARGET static inline void transpose8(__m512d r[8])
{
    const __m512i lo2 = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
    const __m512i hi2 = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
    const __m512i lo4 = _mm512_setr_epi64(0, 1, 2, 3, 8, 9, 10, 11);
    const __m512i hi4 = _mm512_setr_epi64(4, 5, 6, 7, 12, 13, 14, 15);
    __m512d t[8], s[8];

    for (int p = 0; p < 4; p++) {
        t[2 * p] = _mm512_unpacklo_pd(r[2 * p], r[2 * p + 1]);     /* cols 0 2 4 6 */
        t[2 * p + 1] = _mm512_unpackhi_pd(r[2 * p], r[2 * p + 1]); /* cols 1 3 5 7 */
    }
    for (int h = 0; h < 2; h++) {
        const int b = 4 * h;
        s[b + 0] = _mm512_permutex2var_pd(t[b + 0], lo2, t[b + 2]); /* cols 0, 4 */
        s[b + 1] = _mm512_permutex2var_pd(t[b + 0], hi2, t[b + 2]); /* cols 2, 6 */
        s[b + 2] = _mm512_permutex2var_pd(t[b + 1], lo2, t[b + 3]); /* cols 1, 5 */
        s[b + 3] = _mm512_permutex2var_pd(t[b + 1], hi2, t[b + 3]); /* cols 3, 7 */
    }
    r[0] = _mm512_permutex2var_pd(s[0], lo4, s[4]);
    r[4] = _mm512_permutex2var_pd(s[0], hi4, s[4]);
    r[2] = _mm512_permutex2var_pd(s[1], lo4, s[5]);
    r[6] = _mm512_permutex2var_pd(s[1], hi4, s[5]);
    r[1] = _mm512_permutex2var_pd(s[2], lo4, s[6]);
    r[5] = _mm512_permutex2var_pd(s[2], hi4, s[6]);
    r[3] = _mm512_permutex2var_pd(s[3], lo4, s[7]);
    r[7] = _mm512_permutex2var_pd(s[3], hi4, s[7]);
}

/* Exact squared distances of 8 rows (x8: the first, stride dim) to their winners c8[i]. */
TARGET __attribute__((always_inline)) static inline __m512d
exact8(const float *x8, size_t dim, const double *shift, const double *const c8[8])
{
    __m512d acc = _mm512_setzero_pd();

    for (size_t f0 = 0; f0 < dim; f0 += 8) {
        const size_t w = dim - f0 < 8 ? dim - f0 : 8;
        const __mmask8 mk = (__mmask8)((1u << w) - 1u);
        const __m512d sh = _mm512_maskz_loadu_pd(mk, shift + f0);
        __m512d q[8];
        for (int i = 0; i < 8; i++) {
            __m256 xf = _mm512_castps512_ps256(
                _mm512_maskz_loadu_ps((__mmask16)mk, x8 + (size_t)i * dim + f0));
            __m512d v = _mm512_sub_pd(_mm512_sub_pd(_mm512_cvtps_pd(xf), sh),
                                      _mm512_maskz_loadu_pd(mk, c8[i] + f0));
            q[i] = _mm512_mul_pd(v, v);
        }
        transpose8(q);
        for (size_t f = 0; f < w; f++)
            acc = _mm512_add_pd(acc, q[f]);
    }
    return acc;
}

TARGET __attribute__((always_inline)) static inline bool
finish_body(const float *x, size_t r0, size_t nb, size_t dim, const double *shift, const double *cd,
            const size_t *best, uint32_t *labels, double *dist)
{
    bool missing = false;
    size_t i = 0;

    for (; i + 8 <= nb; i += 8) {
        const double *c8[8];
        bool ok = true;
        for (int t = 0; t < 8; t++) {
            ok = ok && best[i + (size_t)t] != NO_BEST;
            c8[t] = cd + (ok ? best[i + (size_t)t] : 0) * dim;
        }
        if (!ok)
            break;
        _mm512_storeu_pd(dist + r0 + i, exact8(x + (r0 + i) * dim, dim, shift, c8));
        for (int t = 0; t < 8; t++)
            labels[r0 + i + (size_t)t] = (uint32_t)best[i + (size_t)t];
    }
    /* The rest one row at a time (a tail, or a group holding a row with no winner). */
    for (; i < nb; i++) {
        const float *xr = x + (r0 + i) * dim;
        double exact = 0.0;
        if (best[i] == NO_BEST) {
            missing = true;
            continue;
        }
        for (size_t f = 0; f < dim; f++) {
            double v = ((double)xr[f] - shift[f]) - cd[best[i] * dim + f];
            exact += v * v;
        }
        labels[r0 + i] = (uint32_t)best[i];
        dist[r0 + i] = exact;
    }
    return missing;
}

TARGET bool smg_nearest_finish_avx512(const float *x, size_t r0, size_t nb, size_t dim,
                                      const double *shift, const double *cd, const size_t *best,
                                      uint32_t *labels, double *dist)
{
    if (dim == 16)
        return finish_body(x, r0, nb, 16, shift, cd, best, labels, dist);
    return finish_body(x, r0, nb, dim, shift, cd, best, labels, dist);
}

TARGET __attribute__((always_inline)) static inline void
accumulate_body(const float *x, size_t rows, size_t dim, size_t f0, size_t w, const double *shift,
                const uint32_t *labels, double *counts, double *acc, size_t stride)
{
    for (size_t i = 0; i < rows; i++) {
        const uint32_t l = labels[i];
        const float *xr = x + i * dim + f0;
        double *a = acc + (size_t)l * stride;
        if (l == UINT32_MAX)
            continue;
        if (counts != NULL)
            counts[l] += 1.0;
        for (size_t f = 0; f < w; f += 8) {
            const size_t n = w - f < 8 ? w - f : 8;
            const __mmask8 mk = (__mmask8)((1u << n) - 1u);
            __m256 xf = _mm512_castps512_ps256(_mm512_maskz_loadu_ps((__mmask16)mk, xr + f));
            __m512d v =
                _mm512_sub_pd(_mm512_cvtps_pd(xf), _mm512_maskz_loadu_pd(mk, shift + f0 + f));
            _mm512_mask_storeu_pd(a + f, mk, _mm512_add_pd(_mm512_maskz_loadu_pd(mk, a + f), v));
        }
    }
}

TARGET void smg_kmeans_accumulate_avx512(const float *x, size_t rows, size_t dim, size_t f0,
                                         size_t w, const double *shift, const uint32_t *labels,
                                         double *counts, double *acc, size_t stride)
{
    if (w == 8)
        accumulate_body(x, rows, dim, f0, 8, shift, labels, counts, acc, stride);
    else if (w == 16)
        accumulate_body(x, rows, dim, f0, 16, shift, labels, counts, acc, stride);
    else
        accumulate_body(x, rows, dim, f0, w, shift, labels, counts, acc, stride);
}
#endif

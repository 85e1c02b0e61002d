/*
 * AVX-512 forms of the k-means step's hot loops (the nearest-center kernels
 * of kmeans_nearest.c and the per-center sums of kmeans_split.c), for CPUs
 * that have AVX-512F (checked at run time by the caller). They compute
 * exactly what the AVX2 or plain C loops compute, bit for bit:
 *   - the scores |c_j|^2 - 2 x.c_j are the same FMA chain per (row, center),
 *     cn[j] then one fused multiply-add per feature in feature order, only
 *     16 centers wide instead of 8, so the argmin (the lowest index among the
 *     smallest scores; NaN and +INF never win) is the same;
 *   - the winner's exact squared distance in double is the same sum, in
 *     feature order, of the same rounded squares; rows are summed 8 at a time
 *     in the lanes of a vector instead of one by one;
 *   - the per-center sums add the same (double)x - shift to the same sums in
 *     the same row order, 8 features per instruction.
 * So a model does not depend on which of the kernels ran. Internal to
 * algorithms/.
 */
#ifndef SMG_KMEANS_AVX512_H
#define SMG_KMEANS_AVX512_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SMG_NEAREST_AVX512 1

/* Whether the CPU has AVX-512F, AVX2 and FMA, all these kernels use (checked once). */
bool smg_nearest_have_avx512(void);

/*
 * Fused scores + argmin for nb rows of xs (nb a multiple of 4, dim floats
 * each) against ct (dim x kp, ct[f * kp + j] = -2 c_j[f]) and cn (kp squared
 * norms, +INF for inactive or padding centers); kp a multiple of 8. best[i]
 * gets the winner or SIZE_MAX when no score is below +INF.
 */
void smg_nearest_argmin_avx512(const float *xs, size_t nb, size_t dim, const float *ct,
                               const float *cn, size_t kp, size_t *best);

/* xs[i][f] = (float)((double)x[i][f] - shift[f]) for nb rows of dim floats. */
void smg_nearest_shift_avx512(const float *x, size_t nb, size_t dim, const double *shift,
                              float *xs);

/*
 * For rows r0 .. r0 + nb - 1 of x (dim floats each): labels[r] = best[i] and
 * dist[r] = sum over f, in order, of (((double)x[r][f] - shift[f]) -
 * cd[best[i]][f])^2, each square rounded to double before it is added. Rows
 * whose best is SIZE_MAX are left to the caller (their labels and dist are
 * not written); returns whether there was any.
 */
bool smg_nearest_finish_avx512(const float *x, size_t r0, size_t nb, size_t dim,
                               const double *shift, const double *cd, const size_t *best,
                               uint32_t *labels, double *dist);

/*
 * Features [f0, f0 + w) of every row i < rows whose label l is not
 * SMG_KMEANS_NO_LABEL: acc[l * stride + f] += (double)x[i][f0 + f] -
 * shift[f0 + f] for f < w, in row order (x rows of dim floats); counts[l] +=
 * 1 too when counts is not NULL.
 */
void smg_kmeans_accumulate_avx512(const float *x, size_t rows, size_t dim, size_t f0, size_t w,
                                  const double *shift, const uint32_t *labels, double *counts,
                                  double *acc, size_t stride);
#endif

#endif

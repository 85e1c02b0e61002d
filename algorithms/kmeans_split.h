/*
 * The k-means step's hot loops split across a worker pool, so that the result
 * is bit for bit the serial one whatever the number of workers:
 *   - nearest centers: the rows are cut at multiples of the kernel's own row
 *     block (smg_kmeans_nearest_block), so every worker runs exactly the
 *     blocks, hence exactly the arithmetic, the serial call would;
 *   - per-center sums: split by feature columns, not by rows. Each sum
 *     sums[l][f] is still accumulated by one thread over all the rows in row
 *     order, so no partial sums of rows are formed: the fixed-order reduction
 *     is the serial order itself, and the result does not depend on the
 *     thread count. (Splitting rows with per-worker partial sums would make
 *     the bits depend on where the rows are cut.)
 * A NULL pool or a pool of one runs the serial code path on the caller.
 */
#ifndef SMG_KMEANS_SPLIT_H
#define SMG_KMEANS_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "algorithms/kmeans.h"
#include "io/base/pool.h"
#include "io/base/status.h"

/* Rows per block of smg_kmeans_nearest for k centers of dim features. */
size_t smg_kmeans_nearest_block(size_t k, size_t dim);

/* smg_kmeans_nearest over the pool (same arguments, same results). */
SMG_MUST_CHECK enum smg_status
smg_kmeans_nearest_pool(struct smg_pool *pool, const float *cs, const float *cnorm,
                        const double *cd, size_t k, size_t dim, const double *shift, const float *x,
                        size_t rows, uint32_t *labels, double *dist, enum smg_kmeans_kernel kernel,
                        struct smg_error *err);

/*
 * For every row i whose label l (< k) is not SMG_KMEANS_NO_LABEL: counts[l]
 * += 1 and sums[l * dim + f] += x[i][f] - shift[f], in row order, over the
 * pool. With several workers each worker sums its columns from zero and adds
 * the total to sums once, so sums must be zero on entry (the step's are) for
 * the bits to equal the serial loop's. A failed scratch allocation falls
 * back to the serial loop. kernel: SMG_KMEANS_KERNEL_PORTABLE or _AVX2 keep
 * the plain C loop (the bits are the same either way).
 */
void smg_kmeans_accumulate_pool(struct smg_pool *pool, const float *x, size_t rows, size_t dim,
                                size_t k, const double *shift, const uint32_t *labels,
                                double *counts, double *sums, enum smg_kmeans_kernel kernel);

/*
 * The polish's sums (kmeans_sample.c) over the pool: acc holds k * dim sums,
 * k weights, the weighted distance sum and the weight sum, all zero on
 * entry; for every row i (label l < k) sums[l][f] += w * (x[i][f] -
 * shift[f]), weights[l] += w, and the last two += w * dist[i] and w, in row
 * order: the serial loop's bits whatever the number of workers (split by
 * feature columns, as smg_kmeans_accumulate_pool). A failed scratch
 * allocation falls back to the serial loop.
 */
void smg_kmeans_accumulate_weighted_pool(struct smg_pool *pool, const float *x, size_t rows,
                                         size_t dim, size_t k, const double *shift,
                                         const uint32_t *labels, const double *dist, double w,
                                         double *acc);

#endif

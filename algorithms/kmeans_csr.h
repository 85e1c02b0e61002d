/*
 * k-means on CSR mini-batches (io/base/batch.h) without densifying them.
 *
 * Distances: |x - c|^2 = |x|^2 - 2 x.c + |c|^2, with x.c a sparse dot
 * product over x's stored entries. The centers are kept transposed (d x k
 * float32, unshifted), so each stored entry costs one k-wide float32 axpy
 * (AVX2+FMA when the CPU has it), contiguous in memory; x.c is float32 as on
 * the dense path's GEMM. The argmin uses |c|^2 - 2 x.c (|x|^2 is common to all centers);
 * the winner's distance is then computed exactly in double as
 * |c|^2 + sum over stored f of ((x_f - c_f)^2 - c_f^2), which cancels only
 * when x is on c (relative error ~1e-16 of |c|^2) and is clamped at 0.
 *
 * Scale safety, as kmeans_nearest.c: under SMG_KMEANS_KERNEL_EXACT (chosen by
 * smg_kmeans_init from the first batch's range, smg_kmeans_csr_first_range)
 * every active center's distance is computed in double and the smallest
 * wins; under the float32 kernels a row whose float scores may have
 * overflowed (no winner while a center is active, or a winner whose exact
 * distance or squared norm exceeds 2^100) is ranked that way too.
 *
 * Threads: rows are independent, so a worker pool ranks row ranges
 * (smg_batch_slice) each with its own float scratch; every row's result is
 * the serial one, whatever the number of workers.
 *
 * The shift: k-means keeps its centers as c - s (kmeans.h, the mean of the
 * first batch), which would make every row dense. Distances do not depend on
 * s ((x - s) - (c - s) = x - c), so this file works on unshifted centers
 * c = stored + s; sums of shifted rows are formed as sum x - n s by the
 * caller (kmeans.c).
 *
 * Init from a CSR first batch (smg_kmeans_init_csr) follows kmeans.c's
 * pick_initial step for step: shift = the batch mean, K seeds by the same
 * draws of the same generator as smg_kmeans_seed (random: uniform distinct
 * rows; kmeans++: classic D^2 sampling, one trial), then init_lloyd_iters
 * Lloyd iterations on the batch, so a sparse job starts where the densified
 * one does (up to rounding).
 */
#ifndef SMG_KMEANS_CSR_H
#define SMG_KMEANS_CSR_H

#include <stddef.h>
#include <stdint.h>

#include "algorithms/kmeans.h"
#include "io/base/batch.h"
#include "io/base/pool.h"
#include "io/base/status.h"

struct smg_kmeans_csr;

SMG_MUST_CHECK enum smg_status smg_kmeans_csr_new(size_t k, size_t d, struct smg_kmeans_csr **out,
                                                  struct smg_error *err);
void smg_kmeans_csr_free(struct smg_kmeans_csr *kc); /* accepts NULL */

/*
 * Load k centers: cd (k x d doubles) + shift (d, NULL = 0) are the unshifted
 * centers; cnorm[j] == +INF (cnorm may be NULL) marks an inactive center,
 * which never wins.
 */
void smg_kmeans_csr_load(struct smg_kmeans_csr *kc, const double *cd, const float *cnorm,
                         const double *shift);

/*
 * Nearest loaded center of every row of b (CSR): labels[i] (lowest index on
 * ties; SMG_KMEANS_NO_LABEL with no active center) and dist[i], the squared
 * distance in double (to the shift when no center is active). cd and shift
 * must be those last loaded. kernel EXACT ranks in double; pool (NULL = this
 * thread) shares the rows without changing any result.
 */
void smg_kmeans_csr_nearest(struct smg_kmeans_csr *kc, struct smg_pool *pool, const double *cd,
                            const double *shift, const struct smg_batch *b,
                            enum smg_kmeans_kernel kernel, uint32_t *labels, double *dist);

/*
 * The first batch's mean into shift (d doubles, zeroed by the caller) and the
 * range smg_kmeans_init judges the kernel by: the largest |x - shift| over the
 * batch as if densified (unstored entries are 0), or the largest stored |x|
 * when larger, since this file's float32 products use unshifted values.
 */
double smg_kmeans_csr_first_range(const struct smg_batch *b, double *shift);

/*
 * Rank 0's initial state from a CSR first batch, as kmeans.c's pick_initial
 * computes it from a dense one: given shift (smg_kmeans_csr_first_range) and
 * cfg->kernel, the K seeds minus shift into c (K x d) and act[j] = 1 for the
 * seeds found. c and act are zeroed by the caller.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_init_csr(const struct smg_kmeans_config *cfg, size_t K,
                                                   const struct smg_batch *b, double *shift,
                                                   double *c, double *act, struct smg_error *err);

#endif

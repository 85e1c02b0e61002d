/*
 * Streaming principal component analysis over mini-batches, as SageMaker's
 * built-in PCA computes it, in two modes:
 *
 * regular (default): one pass accumulates the count n, the mean and the
 *   centred co-moment M2 = sum (x - mean)(x - mean)^T in double. Rows are
 *   gathered into fixed blocks (block_rows, independent of how the caller
 *   batches them), each block is centred on its own exact double mean, its
 *   co-moment comes from one dsyrk, and blocks are merged with Chan, Golub and
 *   LeVeque's formula. The textbook sum(xx^T) - n mean mean^T is never formed,
 *   so columns whose mean is thousands of standard deviations from zero (GPS
 *   coordinates, timestamps) keep their digits. With subtract_mean false the
 *   matrix solved is the uncentred second moment M2 + n mean mean^T (a sum of
 *   positive semi-definite terms, no cancellation). The top num_components
 *   eigenpairs come from LAPACKE dsyevr (few) or dsyevd (many).
 *
 * randomized: a one-pass O(l d) sketch (pca_randomized.c): by default the
 *   two-sided Gram sketch (pca_gram_sketch.c), or the H X sketch SageMaker
 *   documents (struct smg_pca_config.sketch).
 *
 * Ranks combine exactly with one allreduce (smg_pca_allreduce): each rank
 * contributes its (n_r, mean_r) in its own slot of a table and its M2_r to a
 * common sum; every rank then forms the global mean from the counts and sums
 * and M2 = sum_r [M2_r + n_r (mean_r - mean)(mean_r - mean)^T] in rank order.
 * smg_pca_combine does the same arithmetic on in-process accumulators, so the
 * formula is testable without MPI.
 *
 * Results (struct smg_pca_result), in double:
 *   s: the singular values of the (centred, if subtract_mean) data matrix, not
 *      divided by sqrt(n): s = sqrt(max(eigenvalue, 0)); an eigenvalue at or
 *      below the noise floor max_eigenvalue * d * 64 * DBL_EPSILON (rank-
 *      deficient data) gives exactly 0, never NaN.
 *   v: feature_dim x num_components, row-major; column j is the unit component
 *      of s[j]. Sign rule: the coordinate of largest magnitude of every
 *      component is positive (the first such coordinate on ties).
 *   mean: feature_dim values, or NULL when subtract_mean is false.
 *   Order: ascending s in regular mode, descending in randomized mode, as
 *   SageMaker's own model files are.
 *
 * Determinism: for fixed data, configuration, rank count and BLAS thread
 * count, every result is bit for bit the same; in regular mode it does not
 * depend on the mini-batch boundaries or on the size of cfg.pool either.
 */
#ifndef SMG_PCA_H
#define SMG_PCA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "algorithms/comm.h"
#include "io/base/batch.h"
#include "io/base/buffer.h"
#include "io/base/pool.h"
#include "io/base/status.h"

enum smg_pca_mode { SMG_PCA_REGULAR = 0, SMG_PCA_RANDOMIZED = 1 };
/*
 * Randomized mode's sketch: GRAM (default) is the two-sided sketch of
 * sum x x^T (pca_gram_sketch.c), solved on the sketch shifted by the estimated
 * noise floor: accurate, and the same model on any number of hosts;
 * GRAM_UNSHIFTED is the same sketch solved without the shift (less accurate
 * where isotropic noise rivals the weakest kept component), kept for
 * comparison; SIGNS is the H X sketch SageMaker documents, its signs seeded per
 * rank (so its model depends on the host count), kept for comparison.
 */
enum smg_pca_sketch_kind {
    SMG_PCA_SKETCH_GRAM = 0,
    SMG_PCA_SKETCH_SIGNS = 1,
    SMG_PCA_SKETCH_GRAM_UNSHIFTED = 2
};

/*
 * Regular mode refuses (SMG_ECONFIG, naming the bytes) a feature_dim whose
 * d x d double matrix exceeds this, 4 GiB (d <= 23170), and points at
 * algorithm_mode=randomized. Randomized mode takes CSR batches (batch.h)
 * without densifying them: O(l d + nnz) memory (pca_csr.h).
 */
#define SMG_PCA_REGULAR_MAX_BYTES ((size_t)4 << 30)

/* The seed randomized mode uses unless told otherwise ("SMGPCA\0\1"). */
#define SMG_PCA_DEFAULT_SEED UINT64_C(0x534d475043410001)

struct smg_pca_config {
    size_t feature_dim;    /* d >= 1 */
    size_t num_components; /* 1 <= k <= d */
    bool subtract_mean;
    enum smg_pca_mode mode;
    long long extra_components;      /* randomized: >= 0, or -1 for max(10, k) */
    uint64_t seed;                   /* randomized: sign matrix seed */
    int rank;                        /* randomized: mixed into the signs so ranks differ */
    enum smg_pca_sketch_kind sketch; /* randomized: which sketch */
    size_t block_rows;               /* rows per internal block; 0 = automatic */
    /* Workers for regular mode's block statistics (one block each); NULL =
     * this thread only. Borrowed: the owner frees it after the accumulator.
     * The result is bit-identical whatever its size. */
    struct smg_pool *pool;
};

/* Regular mode stages at most this many bytes of per-worker block scratch. */
#define SMG_PCA_PARALLEL_BYTES ((size_t)256 << 20)

struct smg_pca_result {
    size_t feature_dim;
    size_t num_components;
    double *s;    /* num_components */
    double *v;    /* feature_dim * num_components, row-major */
    double *mean; /* feature_dim, or NULL when !subtract_mean */
};

struct smg_pca;

/* Validate cfg and allocate an empty accumulator. SMG_ECONFIG names the bad field. */
SMG_MUST_CHECK enum smg_status smg_pca_new(const struct smg_pca_config *cfg, struct smg_pca **out,
                                           struct smg_error *err);
void smg_pca_free(struct smg_pca *p); /* accepts NULL */

/* Add a batch (cols must equal feature_dim, else SMG_EFORMAT). */
SMG_MUST_CHECK enum smg_status smg_pca_update(struct smg_pca *p, const struct smg_batch *b,
                                              struct smg_error *err);

/* Rows added to this accumulator (after a combine or allreduce: the total). */
uint64_t smg_pca_rows(const struct smg_pca *p);

/* Sketch rows l of randomized mode (0 in regular mode). */
size_t smg_pca_sketch_rows(const struct smg_pca *p);

/*
 * Combine this rank's accumulator with every other rank's, in place, with one
 * allreduce. Collective: every rank must call it, including ranks with no rows.
 */
SMG_MUST_CHECK enum smg_status smg_pca_allreduce(struct smg_pca *p, struct smg_comm *c,
                                                 struct smg_error *err);

/*
 * Combine parts[0..n_parts) into parts[0] with exactly the arithmetic
 * smg_pca_allreduce uses when part i is rank i (the others are left flushed).
 * All parts must share the configuration.
 */
SMG_MUST_CHECK enum smg_status smg_pca_combine(struct smg_pca *const *parts, size_t n_parts,
                                               struct smg_error *err);

/*
 * Solve for the top num_components components. SMG_EFORMAT if no rows were
 * added; SMG_EINTERNAL if LAPACK fails. The accumulator is unchanged and can be
 * solved again. Free the result with smg_pca_result_free.
 */
SMG_MUST_CHECK enum smg_status smg_pca_solve(struct smg_pca *p, struct smg_pca_result *res,
                                             struct smg_error *err);
void smg_pca_result_free(struct smg_pca_result *res); /* accepts NULL; zeroes it */

/*
 * Mean squared reconstruction error of a batch on a result: the mean over the
 * batch's rows of |(x - mean) - (x - mean) V V^T|^2 / d (mean omitted when
 * res->mean is NULL). Adds the batch's sum of squared errors to *sse and its
 * rows*d to *count, so callers can stream a whole channel. SMG_EFORMAT on a
 * wrong column count.
 */
SMG_MUST_CHECK enum smg_status smg_pca_reconstruction_sse(const struct smg_pca_result *res,
                                                          const struct smg_batch *b, double *sse,
                                                          double *count, struct smg_error *err);

/*
 * Checkpoints: append the accumulator's whole state (rows, the partly filled
 * block, the mode's sums) to out; restore it into an accumulator made with the
 * same configuration, which then continues bit for bit as the saved one
 * would. SMG_ENOMEM; SMG_EFORMAT when the bytes do not fit this configuration.
 */
SMG_MUST_CHECK enum smg_status smg_pca_state_save(const struct smg_pca *p, struct smg_buf *out,
                                                  struct smg_error *err);
SMG_MUST_CHECK enum smg_status smg_pca_state_load(struct smg_pca *p, const void *data, size_t len,
                                                  struct smg_error *err);

/* Flip signs so the largest-magnitude coordinate of each column is positive. */
void smg_pca_fix_signs(double *v, size_t d, size_t k);

#endif

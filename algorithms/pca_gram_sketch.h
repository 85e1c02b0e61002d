/*
 * The two-sided Gram sketch of randomized PCA (pca_gram_sketch.c), private to
 * pca_randomized.c, which owns the buffers: the d x L test matrix T = [Omega |
 * Psi] (L = l + l2), and the state G T (d x L) followed by the column sums (d),
 * the sum of squared entries (1) and the row count (1, last, as pca.c reads
 * it), one vector for a single allreduce.
 */
#ifndef SMG_PCA_GRAM_SKETCH_H
#define SMG_PCA_GRAM_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/base/batch.h"
#include "io/base/status.h"

/* Fill t (d x (l + l2)) from the seed alone; l, l2 <= d. */
SMG_MUST_CHECK enum smg_status smg_pca_gram_test_matrix(uint64_t seed, size_t d, size_t l,
                                                        size_t l2, double *t,
                                                        struct smg_error *err);
/*
 * One block of m rows (x row-major, d columns) into the state; x_blk (m x d)
 * and z_blk (m x L) are scratch. The only per-row work of the sketch, so a
 * sparse (CSR) variant can sit beside it.
 */
void smg_pca_gram_block(const double *t, size_t d, size_t L, const float *x, size_t m,
                        double *x_blk, double *z_blk, double *state);
/*
 * The same for the CSR rows of b (io/base/batch.h), touching only their
 * stored entries: S += X^T (X T) row by row (csr_ops.h), column sums and
 * count. z_row (L doubles) is scratch. Memory O(nnz) beyond the state.
 */
void smg_pca_gram_csr(const double *t, size_t d, size_t L, const struct smg_batch *b, double *z_row,
                      double *state);
/*
 * The top k singular values (descending) and components (d x k, row-major).
 * shift: solve on the sketch of C - mu I with mu estimated from the trace
 * (the default); false: the plain two-sided solve.
 */
SMG_MUST_CHECK enum smg_status smg_pca_gram_solve(const double *t, const double *state, size_t d,
                                                  size_t l, size_t l2, size_t k, bool centre,
                                                  bool shift, double *s_out, double *v_out,
                                                  struct smg_error *err);

#endif

/*
 * Products of a CSR mini-batch (io/base/batch.h) with dense matrices, for the
 * algorithms' sparse paths: each costs O(nnz x width) and touches no
 * rows x cols buffer. All sums are in double. Row ranges work as anywhere
 * else: pass smg_batch_slice(b, a, n).
 */
#ifndef SMG_CSR_OPS_H
#define SMG_CSR_OPS_H

#include <stddef.h>

#include "io/base/batch.h"

/*
 * out (b->cols x w, row-major) += X^T H for the batch X (rows x cols) and
 * H (b->rows x w, row-major): for every stored x[i, f], out[f, :] += x[i, f] *
 * H[i, :]. With H a block of random signs, this is the transpose of the
 * sketch product H^T X that randomized PCA accumulates.
 */
void smg_csr_xt_h(const struct smg_batch *b, const double *h, size_t w, double *out);

/*
 * out (b->cols x w, row-major) += X^T (X T) for T (b->cols x w, row-major),
 * one row at a time: z = x_i^T T from the stored entries (z: w doubles of
 * scratch), then out[f, :] += x[i, f] * z for each stored f. O(nnz x w); the
 * sparse form of the Gram sketch's block update (pca_gram_sketch.h).
 */
void smg_csr_xt_xt(const struct smg_batch *b, const double *t, size_t w, double *z, double *out);

/* s[f] += sum over rows of x[i, f] (b->cols doubles). */
void smg_csr_col_sums(const struct smg_batch *b, double *s);

/* |x_i|^2 of row i, in double. */
double smg_csr_row_norm2(const struct smg_batch *b, size_t i);

/* x_i . c for a dense vector c of b->cols floats, in double. */
double smg_csr_row_dot_f(const struct smg_batch *b, size_t i, const float *c);

/* x_i . c for a dense vector c of b->cols doubles. */
double smg_csr_row_dot_d(const struct smg_batch *b, size_t i, const double *c);

/* out[f] += a * x[i, f] for the stored entries of row i. */
void smg_csr_row_axpy(const struct smg_batch *b, size_t i, double a, double *out);

/* Row i written densely into out (b->cols floats; unstored entries 0). */
void smg_csr_row_densify(const struct smg_batch *b, size_t i, float *out);

#endif

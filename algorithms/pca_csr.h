/*
 * Randomized PCA's sketch update from CSR mini-batches, without densifying.
 *
 * The default Gram sketch (pca_gram_sketch.h) is a plain sum of x x^T T over
 * rows: its CSR update (smg_pca_gram_csr) writes straight into the sketch's
 * state, with one L-wide scratch row; nothing below is allocated for it.
 *
 * The sign sketch (SMALGO_PCA_SKETCH=signs, pca_sketch.h) keeps
 * B = sum_t H_t X_t (l x d) plus h, s, n.
 * For sparse X_t this file accumulates the transpose B^T = sum_t X_t^T H_t^T
 * (d x l) instead: one l-wide axpy per stored entry (csr_ops.h,
 * smg_csr_xt_h), contiguous in memory whatever the columns, and the column
 * sums s from the stored entries. The random block H_t^T comes from the
 * sketch itself (smg_pca_sketch_signs), so row i of the stream gets the same
 * signs whichever path it takes, and fold adds B^T into the sketch's B before
 * anything reads it (allreduce, solve). Memory: 2 l d doubles for B and B^T,
 * plus BLOCK_ROWS x l; the CSR rows themselves are the channel's, O(nnz).
 *
 * The sign sketch is only asked for H^T blocks and the (B, h, s, n) layout.
 */
#ifndef SMG_PCA_CSR_H
#define SMG_PCA_CSR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "algorithms/pca_sketch.h"
#include "io/base/batch.h"
#include "io/base/status.h"

struct smg_pca_csr;

/* For the sketch sk (d features): the sign sketch's B^T and H^T buffers, if it is one. */
SMG_MUST_CHECK enum smg_status smg_pca_csr_new(const struct smg_pca_sketch *sk, size_t d,
                                               struct smg_pca_csr **out, struct smg_error *err);
void smg_pca_csr_free(struct smg_pca_csr *pc); /* accepts NULL */

/* Sketch the CSR rows of b, stream row b->rows' first at index first_record. */
void smg_pca_csr_update(struct smg_pca_csr *pc, struct smg_pca_sketch *sk,
                        const struct smg_batch *b, uint64_t first_record);

/* Add what was accumulated into the sketch's B and start again from zero. */
void smg_pca_csr_fold(struct smg_pca_csr *pc, struct smg_pca_sketch *sk);

/*
 * Whether sparse rows wait to be folded, and a copy of the sketch's state
 * vector with them added (for a checkpoint taken without folding).
 */
bool smg_pca_csr_pending(const struct smg_pca_csr *pc);
void smg_pca_csr_add_to(const struct smg_pca_csr *pc, double *state);

#endif

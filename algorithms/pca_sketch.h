/*
 * The randomized-mode sketch behind struct smg_pca (pca_randomized.c), private
 * to pca.c, pca_csr.c and pca_randomized.c: l x d sums B, h, s, n kept as one vector so a
 * single allreduce combines ranks. See pca.h for the public interface.
 */
#ifndef SMG_PCA_SKETCH_H
#define SMG_PCA_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "algorithms/pca.h"
#include "io/base/batch.h"
#include "io/base/status.h"

struct smg_pca_sketch;
SMG_MUST_CHECK enum smg_status smg_pca_sketch_new(const struct smg_pca_config *cfg,
                                                  size_t block_rows, struct smg_pca_sketch **out,
                                                  struct smg_error *err);
void smg_pca_sketch_free(struct smg_pca_sketch *sk);
size_t smg_pca_sketch_l(const struct smg_pca_sketch *sk);
/* Sketch m rows of x (row-major, d columns); first_record is row 0's index. */
void smg_pca_sketch_block(struct smg_pca_sketch *sk, const float *x, size_t m,
                          uint64_t first_record);
/* The dense block buffers smg_pca_sketch_block needs (allocated on first use). */
SMG_MUST_CHECK enum smg_status smg_pca_sketch_reserve_dense(struct smg_pca_sketch *sk,
                                                            struct smg_error *err);
/* SMALGO_PCA_SKETCH=signs (the documented H X sketch) rather than the Gram sketch. */
bool smg_pca_sketch_is_signs(const struct smg_pca_sketch *sk);
/*
 * SIGNS only: the random block of rows first_record .. first_record + m - 1
 * transposed: ht (m x l, row-major) = H_t^T, also added into h. The sparse
 * path (pca_csr.c) multiplies it with CSR rows itself.
 */
void smg_pca_sketch_signs(struct smg_pca_sketch *sk, uint64_t first_record, size_t m, double *ht);
/* GRAM only: sketch the CSR rows of b (smg_pca_gram_csr); no dense buffer needed. */
void smg_pca_sketch_gram_csr(struct smg_pca_sketch *sk, const struct smg_batch *b);
/* The sums (B, h, s, n) as one vector, for allreduce: l*d + l + d + 1 doubles. */
size_t smg_pca_sketch_state_len(const struct smg_pca_sketch *sk);
double *smg_pca_sketch_state(struct smg_pca_sketch *sk);
SMG_MUST_CHECK enum smg_status smg_pca_sketch_solve(const struct smg_pca_sketch *sk,
                                                    struct smg_pca_result *res,
                                                    struct smg_error *err);

#endif

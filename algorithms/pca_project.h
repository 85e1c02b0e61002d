/*
 * PCA inference, as SageMaker's PCA endpoint computes it:
 *
 *     projection = (x - mean) · v
 *
 * with v the (d, m) component matrix of the model file and mean its (1, d)
 * row (absent when the model was trained with subtract_mean=false; then
 * projection = x · v). Element j of a projection belongs to column j of v, in
 * the file's order (regular mode: s ascending, so the largest component is the
 * last value). The singular values s are never used: the fixtures show the
 * endpoint does not divide by them, and s may hold NaN (fixtures README §1.1,
 * §1.3).
 *
 * Pure math: no files, no JSON. Thread-safe (per-call scratch).
 */
#ifndef SMG_PCA_PROJECT_H
#define SMG_PCA_PROJECT_H

#include <stddef.h>

#include "io/base/batch.h"
#include "io/base/status.h"

/*
 * Project n rows x (n × d float32, C order) onto the m columns of v (d × m
 * float32, C order), subtracting mean (d floats) first unless it is NULL.
 * out receives n × m floats. Rows are centred and multiplied in blocks (one
 * sgemm each), so scratch memory is bounded (about 4 MiB). SMG_ENOMEM, or
 * SMG_EINTERNAL for zero or oversized dimensions.
 */
SMG_MUST_CHECK enum smg_status smg_pca_project(const float *v, size_t d, size_t m,
                                               const float *mean, const float *x, size_t n,
                                               float *out, struct smg_error *err);

/*
 * mean · v in double (m values): what the CSR form subtracts. mean has d
 * floats, v is d × m as above.
 */
void smg_pca_mean_projection(const float *v, size_t d, size_t m, const float *mean, double *out);

/*
 * Project the rows of a CSR batch (b->cols == d; io/base/batch.h) without
 * densifying them: out[i, :] = x_i · v − mean_v, the product over the row's
 * stored values only (O(nnz × m)), summed in double and rounded once to
 * float32. mean_v is smg_pca_mean_projection's result, or NULL for a model
 * without a mean. Subtracting after the product is exact enough in double
 * (the cancellation the dense form avoids by centring first costs about
 * 1e-16 of ‖x‖‖v‖ here). SMG_EINTERNAL for a dense batch or another width.
 */
SMG_MUST_CHECK enum smg_status smg_pca_project_csr(const float *v, size_t d, size_t m,
                                                   const double *mean_v, const struct smg_batch *b,
                                                   float *out, struct smg_error *err);

#endif

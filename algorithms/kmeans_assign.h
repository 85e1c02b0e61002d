/*
 * k-means inference: for each row, the closest centroid (0-based row index of
 * the (k, d) centroid matrix; ties go to the lowest index) and the Euclidean
 * (not squared) distance to it, as SageMaker's k-means endpoint returns them
 * in closest_cluster and distance_to_cluster.
 *
 * Distances come from one sgemm per block of rows, x·cᵀ, plus norms:
 * sqrt(max(0, ‖x‖² − 2x·c + ‖c‖²)) in float32, which reproduces SageMaker's
 * float32 output to the bit in most fixture cases (fixtures README §1.5). The
 * winner is chosen robustly: every centroid whose float32 distance lies within
 * the expansion's rounding bound of the best is re-measured exactly in double,
 * so near-ties are decided by the true distance. When that bound is large
 * compared with the winning distance itself (a row almost on its centroid
 * with large norms), the exact distance is returned instead of the expansion.
 *
 * Pure math: no files, no JSON. Safe to call from several threads on one
 * assigner (each call allocates its own scratch).
 */
#ifndef SMG_KMEANS_ASSIGN_H
#define SMG_KMEANS_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "io/base/batch.h"
#include "io/base/status.h"

struct smg_kmeans_assigner;

/*
 * An assigner over a copy of `centroids` (k rows of d float32, C order) with
 * their squared norms precomputed. SMG_ENOMEM, or SMG_EINTERNAL when k or d
 * is 0 or too large for BLAS (int) indexing.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_assigner_new(const float *centroids, size_t k, size_t d,
                                                       struct smg_kmeans_assigner **out,
                                                       struct smg_error *err);
void smg_kmeans_assigner_free(struct smg_kmeans_assigner *a); /* accepts NULL */

/* The assigner's k and d. */
size_t smg_kmeans_assigner_k(const struct smg_kmeans_assigner *a);
size_t smg_kmeans_assigner_d(const struct smg_kmeans_assigner *a);

/*
 * Assign n rows (n × d float32, C order). closest[i] gets the centroid index,
 * distance[i] (may be NULL) the Euclidean distance. A row holding NaN gets
 * index 0 and a NaN distance. Rows are processed in blocks, so scratch memory
 * is bounded (about 4 MiB) whatever n is. SMG_ENOMEM on allocation failure.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_assign(const struct smg_kmeans_assigner *a,
                                                 const float *x, size_t n, uint32_t *closest,
                                                 float *distance, struct smg_error *err);

/*
 * Assign the rows of a CSR batch (b->cols == d; io/base/batch.h) without
 * densifying them: the expansion ‖x‖² − 2x·c + ‖c‖² in double from the stored
 * values, near-ties and near-zero distances measured exactly over all d
 * features (kmeans_assign.c says when). Scratch: k + d doubles.
 * SMG_ENOMEM; SMG_EINTERNAL for a dense batch or another width.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_assign_csr(const struct smg_kmeans_assigner *a,
                                                     const struct smg_batch *b, uint32_t *closest,
                                                     float *distance, struct smg_error *err);

/* One-shot form: build an assigner, assign, free it. */
SMG_MUST_CHECK enum smg_status smg_kmeans_assign_batch(const float *centroids, size_t k, size_t d,
                                                       const float *x, size_t n, uint32_t *closest,
                                                       float *distance, struct smg_error *err);

#endif

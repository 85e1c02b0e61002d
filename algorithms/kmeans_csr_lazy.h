/*
 * The streaming k-means centers of a single-rank job on CSR mini-batches,
 * kept so that one step costs O(nnz x K), not O(K x d) (kmeans.c uses it
 * while every batch is CSR and the job runs on one rank).
 *
 * Layout: one table V of d x K doubles, transposed (feature f of every
 * center is one contiguous row V[f * K .. f * K + K)), unshifted, and a scale
 * a_j per center: center j = a_j * V[:, j]. So
 *   - the assignment of a row costs one K-wide double axpy per stored value
 *     (x . V[:, j] for every j at once), then x . c_j = a_j * (x . V[:, j]);
 *   - the update c_j = (w c_j + sum x) / (w + n) (kmeans.h) multiplies a_j by
 *     w / (w + n) and adds x / (a_j w) to V[f, j] for each stored value of
 *     each row that joined j: no dense pass over the center;
 *   - nv_j = |V[:, j]|^2 is updated with every changed entry and recomputed
 *     exactly every SMG_KMEANS_LAZY_NORM_STEPS steps (and on reseed), so
 *     |c_j|^2 = a_j^2 nv_j carries at most a few thousand roundings.
 * Every distance is computed in double (the float32 and exact kernels agree
 * here); the winner's distance is |x|^2 - 2 x.c + |c|^2, clamped at 0.
 * Updates run on one thread in row order, so the state is bit-identical for
 * any number of workers; the pool only shares the assignment.
 */
#ifndef SMG_KMEANS_CSR_LAZY_H
#define SMG_KMEANS_CSR_LAZY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/base/batch.h"
#include "io/base/pool.h"
#include "io/base/status.h"

#define SMG_KMEANS_LAZY_NORM_STEPS 64

struct smg_kmeans_lazy;

/*
 * Insert (dist, row) into the reseed candidates td/ti, n of at most m, kept
 * farthest first; ties keep the earlier row, and dist <= 0 never enters
 * (kmeans.c's dense steps and this file's CSR steps pick candidates alike).
 */
void smg_kmeans_top_insert(double *td, size_t *ti, size_t *n, size_t m, double dist, size_t row);

/*
 * From K shifted centers c (K x d doubles) and shift (d): center j is
 * c_j + shift, inactive where active[j] is false (never wins). SMG_ENOMEM.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_lazy_new(size_t K, size_t d, const double *c,
                                                   const bool *active, const double *shift,
                                                   struct smg_kmeans_lazy **out,
                                                   struct smg_error *err);
void smg_kmeans_lazy_free(struct smg_kmeans_lazy *lz); /* accepts NULL */

/* Center j minus shift into out (d doubles): the dense, shifted form kmeans.c keeps. */
void smg_kmeans_lazy_row(const struct smg_kmeans_lazy *lz, size_t j, const double *shift,
                         double *out);

/*
 * Nearest active center of each row of b: labels (SMG_KMEANS_NO_LABEL when
 * none is active) and squared distances (to the shift when none is active).
 * pool (NULL = this thread) shares rows without changing any result.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_lazy_nearest(struct smg_kmeans_lazy *lz,
                                                       struct smg_pool *pool, const double *shift,
                                                       const struct smg_batch *b, uint32_t *labels,
                                                       double *dist, struct smg_error *err);

/* Center js[t] becomes row rows[t] of b, for t < n (one pass over the table). */
void smg_kmeans_lazy_set_rows(struct smg_kmeans_lazy *lz, const size_t *js, const size_t *rows,
                              size_t n, const struct smg_batch *b);

/*
 * Begin the update of center j from weight w (after decay) to w + n: scale it
 * by w / (w + n); rows then added by smg_kmeans_lazy_add_row count 1 / (w + n).
 */
void smg_kmeans_lazy_begin(struct smg_kmeans_lazy *lz, size_t j, double w, double n);
void smg_kmeans_lazy_add_row(struct smg_kmeans_lazy *lz, size_t j, const struct smg_batch *b,
                             size_t i);
/* End of a step: squared norms of the active centers (exact every few steps). */
void smg_kmeans_lazy_end_step(struct smg_kmeans_lazy *lz, const bool *active);

/*
 * One step's update from the assigned batch b (labels, dist from
 * smg_kmeans_lazy_nearest), as smg_kmeans_apply_stats does it for one rank:
 * weights w decay by `decay`, starving centers are reseeded (in index order)
 * from the m farthest rows (distinct, distance > 0), which then join no
 * center, and every other center with new rows moves to the weighted mean.
 * w, active (K each) are updated; wk->reseeds says how many were reseeded.
 */
struct smg_kmeans_lazy_work {
    double *counts;  /* K */
    size_t *seeds;   /* SMG_KMEANS_MAX_CANDIDATES: rows taken as seeds */
    size_t *targets; /* SMG_KMEANS_MAX_CANDIDATES: the centers they become */
    float *scratch;  /* d, all 0 */
    size_t reseeds;
};
void smg_kmeans_lazy_update(struct smg_kmeans_lazy *lz, const struct smg_batch *b,
                            const uint32_t *labels, const double *dist, size_t m, double decay,
                            double *w, bool *active, struct smg_kmeans_lazy_work *wk);

/* Rows i and j of b are the same point once densified. scratch: b->cols floats, all 0. */
bool smg_csr_rows_equal(const struct smg_batch *b, size_t i, size_t j, float *scratch);

#endif

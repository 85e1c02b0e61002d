/*
 * Greedy kmeans++ (scikit-learn's variant: each step draws `trials`
 * candidates with probability w D^2 and keeps the one that lowers the
 * weighted potential most), two ways that choose the same seeds bit for bit:
 *
 *   - smg_kmeans_greedy_plain: every candidate's potential summed over all
 *     points in point order (the reference, and the tie re-check);
 *   - smg_kmeans_greedy: the same draws, each candidate evaluated only on
 *     the points it can move (triangle-inequality bounds, kmeans_greedy.c).
 *
 * Both start from the first seed idx[0] (*chosen = 1) with dmin its squared
 * distances, and stop at k seeds or when every remaining point coincides
 * with a seed. cols is the points feature-major (cols[f n + i]); cum is n
 * doubles of scratch. Weights <= 0 count as 0.
 */
#ifndef SMG_KMEANS_GREEDY_H
#define SMG_KMEANS_GREEDY_H

#include <stddef.h>

#include "algorithms/kmeans.h"

/* dmin_i = |p_i - c|^2 (init) or min(dmin_i, |p_i - c|^2), features summed in order. */
void smg_kmeans_greedy_nearer(const double *cols, const double *c, size_t n, size_t dim,
                              double *dmin, bool init);

void smg_kmeans_greedy_plain(const double *cols, const double *points, const double *weights,
                             size_t n, size_t dim, size_t k, unsigned trials, struct smg_rng *rng,
                             double *cum, double *dmin, size_t *idx, size_t *chosen);

/* As smg_kmeans_greedy_plain; SMG_ENOMEM if its bookkeeping (O(n + k)) cannot be allocated. */
SMG_MUST_CHECK enum smg_status smg_kmeans_greedy(const double *cols, const double *points,
                                                 const double *weights, size_t n, size_t dim,
                                                 size_t k, unsigned trials, struct smg_rng *rng,
                                                 double *cum, double *dmin, size_t *idx,
                                                 size_t *chosen, struct smg_error *err);

#endif

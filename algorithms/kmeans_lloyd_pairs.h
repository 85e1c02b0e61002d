/*
 * Weighted Lloyd for the shrink when the points are few and long (n points of
 * d > n features, as K streaming centers of sparse data): every center is a
 * combination of the points, c_j = sum_m coef[j, m] p_m / div[j] (a weighted
 * mean after an update, one point after seeding or an empty-cluster move), so
 * with the pairwise squared distances D (smg_kmeans_pair_dists)
 *     |p_i - c_j|^2 = sum_m a_m D[i, m] - 1/2 sum_m sum_m' a_m a_m' D[m, m'],
 * a_m = coef[j, m] / div[j], exact algebra. An iteration costs O(n^2), not
 * O(n k d); only the final centers are formed in d dimensions. Rules are
 * kmeans_lloyd.c's: nearest center (lowest index on ties), weighted means, a
 * center left with no weight moves to the point with the largest w D^2 not
 * yet used, stop after max_iter or when the loss falls by <= tol relative.
 */
#ifndef SMG_KMEANS_LLOYD_PAIRS_H
#define SMG_KMEANS_LLOYD_PAIRS_H

#include <stddef.h>
#include <stdint.h>

/*
 * One run from seed points idx[0..k) (indices into the points). coef (k x n),
 * div, q (k), lab, dist (n) are the caller's scratch; on return they describe the
 * centers and the assignment. Returns the weighted loss over wsum.
 */
double smg_kmeans_lloyd_pairs(const double *pair, const double *w, size_t n, size_t k,
                              const size_t *idx, uint64_t max_iter, double tol, double wsum,
                              double *coef, double *div, double *q, size_t *lab, double *dist);

/*
 * The point an empty cluster moves to, in both Lloyds: the largest w[i] *
 * dist[i], the first on ties (the caller zeroes its dist so it is not used twice).
 */
size_t smg_kmeans_heaviest_point(const double *w, const double *dist, size_t n);

/* The centers in d dimensions: c (k x d) = coef p / div. */
void smg_kmeans_pairs_centers(const double *p, size_t n, size_t d, size_t k, const double *coef,
                              const double *div, double *c);

#endif

/*
 * Weighted Lloyd on pairwise distances (contract: kmeans_lloyd_pairs.h).
 */
#include "algorithms/kmeans_lloyd_pairs.h"

#include <math.h>
#include <string.h>

/* Center j becomes point m. */
static void set_point(double *coef, double *div, size_t n, size_t j, size_t m)
{
    memset(coef + j * n, 0, n * sizeof(double));
    coef[j * n + m] = 1.0;
    div[j] = 1.0;
}

/* Nearest center per point; returns the weighted loss sum. q: k doubles of scratch. */
static double assign(const double *pair, const double *w, size_t n, size_t k, const double *coef,
                     const double *div, size_t *lab, double *dist, double *q)
{
    double loss = 0.0;

    for (size_t j = 0; j < k; j++) { /* q_j = 1/2 sum a_m a_m' D[m, m'] */
        const double *cj = coef + j * n;
        double s = 0.0;
        for (size_t m = 0; m < n; m++)
            for (size_t m2 = 0; cj[m] != 0.0 && m2 < n; m2++)
                s += cj[m] * cj[m2] * pair[m * n + m2];
        q[j] = 0.5 * s / (div[j] * div[j]);
    }
    for (size_t i = 0; i < n; i++) {
        double best = INFINITY;
        size_t bj = 0;
        for (size_t j = 0; j < k; j++) {
            const double *cj = coef + j * n;
            double s = 0.0, v;
            for (size_t m = 0; m < n; m++)
                s += cj[m] * pair[i * n + m];
            v = s / div[j] - q[j];
            v = v > 0.0 ? v : 0.0;
            if (v < best) {
                best = v;
                bj = j;
            }
        }
        lab[i] = bj;
        dist[i] = best;
        loss += w[i] * best;
    }
    return loss;
}

size_t smg_kmeans_heaviest_point(const double *w, const double *dist, size_t n)
{
    size_t far = 0;
    double fv = -1.0;

    for (size_t i = 0; i < n; i++)
        if (w[i] * dist[i] > fv) {
            fv = w[i] * dist[i];
            far = i;
        }
    return far;
}

/* Weighted means of the clusters; an empty one moves to the farthest unused point. */
static void update(const double *w, size_t n, size_t k, double *coef, double *div,
                   const size_t *lab, double *dist)
{
    memset(coef, 0, k * n * sizeof(double));
    memset(div, 0, k * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        coef[lab[i] * n + i] += w[i];
        div[lab[i]] += w[i];
    }
    for (size_t j = 0; j < k; j++) {
        size_t far;
        if (div[j] > 0.0)
            continue;
        far = smg_kmeans_heaviest_point(w, dist, n);
        set_point(coef, div, n, j, far);
        dist[far] = 0.0;
    }
}

double smg_kmeans_lloyd_pairs(const double *pair, const double *w, size_t n, size_t k,
                              const size_t *idx, uint64_t max_iter, double tol, double wsum,
                              double *coef, double *div, double *q, size_t *lab, double *dist)
{
    double prev = INFINITY, cur;

    for (size_t j = 0; j < k; j++)
        set_point(coef, div, n, j, idx[j]);
    for (uint64_t it = 0;; it++) {
        cur = assign(pair, w, n, k, coef, div, lab, dist, q) / wsum;
        if (it >= max_iter || cur == 0.0 || (it > 0 && prev - cur <= tol * prev))
            break;
        prev = cur;
        update(w, n, k, coef, div, lab, dist);
    }
    return cur;
}

void smg_kmeans_pairs_centers(const double *p, size_t n, size_t d, size_t k, const double *coef,
                              const double *div, double *c)
{
    memset(c, 0, k * d * sizeof(double));
    for (size_t j = 0; j < k; j++) {
        for (size_t m = 0; m < n; m++)
            for (size_t f = 0; coef[j * n + m] != 0.0 && f < d; f++)
                c[j * d + f] += coef[j * n + m] * p[m * d + f];
        for (size_t f = 0; f < d; f++)
            c[j * d + f] /= div[j];
    }
}

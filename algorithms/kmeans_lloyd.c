/*
 * The final shrink of streaming k-means, K centers -> k, and the weighted
 * seeding both the shrink and the streaming init use.
 *
 * smg_kmeans_lloyd runs weighted Lloyd on n points with weights w (here the
 * K streaming centers and their accumulated counts) `trials` times, each from
 * its own seeding (kmeans++ or random, seeded from cfg->seed and the trial
 * number), and keeps the run with the smallest weighted mean squared distance
 *     loss = sum_i w_i |p_i - c(p_i)|^2 / sum_i w_i.
 * A run stops after max_iter iterations, or when the loss decreased by no more
 * than tol relative to the previous iteration (local_lloyd_tol), or reached 0.
 * A cluster that loses all its weight moves to the point with the largest
 * w * D^2 not already used, so the result has no empty or duplicate center
 * while there are enough distinct points.
 *
 * Points are centred by their weighted mean and distances are computed
 * directly in double: K is small (k * extra_center_factor), so precision, not
 * speed, is what matters here. Ties go to the lower index; with a fixed seed
 * the result is the same on every rank and run.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "algorithms/kmeans.h"
#include "algorithms/kmeans_greedy.h"
#include "algorithms/kmeans_lloyd_pairs.h"
#include "io/base/alloc.h"
#include "io/base/log.h"

static double sqdist(const double *a, const double *b, size_t d)
{
    double s = 0.0;
    for (size_t f = 0; f < d; f++) {
        double v = a[f] - b[f];
        s += v * v;
    }
    return s;
}

/*
 * greedy_kmeanspp on the table of smg_kmeans_pair_dists (pair[i n + c] =
 * |p_i - p_c|^2): the same draws and choices, each distance looked up.
 */
static void greedy_kmeanspp_pairs(const double *pair, const double *weights, size_t n, size_t k,
                                  unsigned trials, struct smg_rng *rng, double *pot, double *dmin,
                                  size_t *idx, size_t *chosen)
{
    while (*chosen < k) {
        double phi = 0.0, best_phi = INFINITY;
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            pot[i] = (weights[i] > 0.0 ? weights[i] : 0.0) * dmin[i];
            phi += pot[i];
        }
        if (!(phi > 0.0))
            break; /* every remaining point coincides with a seed */
        for (unsigned t = 0; t < trials; t++) {
            size_t c = smg_rng_draw(pot, n, phi, rng);
            double cphi = 0.0;
            for (size_t i = 0; i < n; i++) {
                double v = pair[i * n + c];
                cphi += (weights[i] > 0.0 ? weights[i] : 0.0) * (v < dmin[i] ? v : dmin[i]);
            }
            if (cphi < best_phi) {
                best_phi = cphi;
                best = c;
            }
        }
        idx[(*chosen)++] = best;
        for (size_t i = 0; i < n; i++)
            if (pair[i * n + best] < dmin[i])
                dmin[i] = pair[i * n + best];
    }
}

bool smg_kmeans_pair_dists_pay(size_t n, size_t k, uint64_t seedings)
{
    /* Filling costs n^2 / 2 distances; each seeding about (3 + ln k) k n. */
    return n > 0 && n <= SMG_KMEANS_PAIR_MAX_POINTS &&
           (double)n / 2.0 < (double)seedings * (3.0 + log((double)k)) * (double)k;
}

void smg_kmeans_pair_dists(const double *points, size_t n, size_t dim, double *pair)
{
    for (size_t i = 0; i < n; i++) {
        pair[i * n + i] = 0.0;
        for (size_t c = i + 1; c < n; c++) /* (a - b)^2 == (b - a)^2 bit for bit */
            pair[i * n + c] = pair[c * n + i] = sqdist(points + i * dim, points + c * dim, dim);
    }
}

enum smg_status smg_kmeans_seed(enum smg_kmeans_init method, const double *points,
                                const double *weights, size_t n, size_t dim, size_t k,
                                unsigned local_trials, struct smg_rng *rng, size_t *idx,
                                size_t *chosen, struct smg_error *err)
{
    return smg_kmeans_seed_pairs(method, points, NULL, weights, n, dim, k, local_trials, rng, idx,
                                 chosen, err);
}

enum smg_status smg_kmeans_seed_pairs(enum smg_kmeans_init method, const double *points,
                                      const double *pair, const double *weights, size_t n,
                                      size_t dim, size_t k, unsigned local_trials,
                                      struct smg_rng *rng, size_t *idx, size_t *chosen,
                                      struct smg_error *err)
{
    double *pot = NULL, *dmin = NULL, *cols = NULL, total = 0.0;
    unsigned trials = local_trials;
    int rc = SMG_OK;

    *chosen = 0;
    if (n == 0 || k == 0)
        return SMG_OK;
    pot = smg_malloc(n * sizeof(double));
    dmin = smg_malloc(n * sizeof(double));
    if (method != SMG_KMEANS_INIT_RANDOM && pair == NULL)
        cols = smg_malloc(n * dim * sizeof(double) + 1);
    if (!pot || !dmin || (method != SMG_KMEANS_INIT_RANDOM && pair == NULL && !cols)) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means seeding: out of memory for %zu points", n);
        goto out;
    }
    if (trials == 0)
        trials = 2 + (unsigned)log((double)k);
    for (size_t i = 0; i < n; i++) {
        pot[i] = weights[i] > 0.0 ? weights[i] : 0.0;
        total += pot[i];
    }
    if (!(total > 0.0))
        goto out;
    if (method == SMG_KMEANS_INIT_RANDOM) {
        /* k distinct indices, each draw proportional to weight among the rest. */
        while (*chosen < k && total > 0.0) {
            size_t i = smg_rng_draw(pot, n, total, rng);
            idx[(*chosen)++] = i;
            total -= pot[i];
            pot[i] = 0.0;
            if (total < 0.0)
                total = 0.0;
            if (total == 0.0) {
                total = 0.0;
                for (size_t t = 0; t < n; t++)
                    total += pot[t];
            }
        }
        goto out;
    }
    idx[(*chosen)++] = smg_rng_draw(pot, n, total, rng);
    if (pair != NULL) {
        for (size_t i = 0; i < n; i++)
            dmin[i] = pair[i * n + idx[0]];
        greedy_kmeanspp_pairs(pair, weights, n, k, trials, rng, pot, dmin, idx, chosen);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < dim; f++)
            cols[f * n + i] = points[i * dim + f];
    smg_kmeans_greedy_nearer(cols, points + idx[0] * dim, n, dim, dmin, true);
    rc = smg_kmeans_greedy(cols, points, weights, n, dim, k, trials, rng, pot, dmin, idx, chosen,
                           err);
out:
    smg_free(pot);
    smg_free(dmin);
    smg_free(cols);
    return rc;
}

/* Nearest center per point, exact in double; returns the weighted loss sum. */
static double assign(const double *p, const double *w, size_t n, const double *c, size_t k,
                     size_t d, size_t *lab, double *dist)
{
    double loss = 0.0;
    for (size_t i = 0; i < n; i++) {
        double best = INFINITY;
        size_t bj = 0;
        for (size_t j = 0; j < k; j++) {
            double v = sqdist(p + i * d, c + j * d, d);
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

/* Weighted means; an empty cluster takes the unused point of largest w * D^2. */
static void update(const double *p, const double *w, size_t n, double *c, size_t k, size_t d,
                   const size_t *lab, double *dist, double *cw)
{
    memset(c, 0, k * d * sizeof(double));
    memset(cw, 0, k * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        cw[lab[i]] += w[i];
        for (size_t f = 0; f < d; f++)
            c[lab[i] * d + f] += w[i] * p[i * d + f];
    }
    for (size_t j = 0; j < k; j++) {
        if (cw[j] > 0.0) {
            for (size_t f = 0; f < d; f++)
                c[j * d + f] /= cw[j];
            continue;
        }
        size_t far = smg_kmeans_heaviest_point(w, dist, n);
        memcpy(c + j * d, p + far * d, d * sizeof(double));
        dist[far] = 0.0;
    }
}

/* one_trial through kmeans_lloyd_pairs.h, from the seeds idx; the centers land in c. */
static int pairs_trial(const struct smg_lloyd_config *cfg, const double *p, const double *pair,
                       const double *w, size_t n, double wsum, double *c, size_t *lab, double *dist,
                       const size_t *idx, double *loss, struct smg_error *err)
{
    size_t k = cfg->k;
    double *coef = smg_malloc(k * n * sizeof(double) + 1),
           *div = smg_malloc(2 * k * sizeof(double));

    if (coef == NULL || div == NULL) {
        smg_free(coef);
        smg_free(div);
        return smg_error_set(err, SMG_ENOMEM, "k-means shrink: out of memory");
    }
    *loss = smg_kmeans_lloyd_pairs(pair, w, n, k, idx, cfg->max_iter, cfg->tol, wsum, coef, div,
                                   div + k, lab, dist);
    smg_kmeans_pairs_centers(p, n, cfg->dim, k, coef, div, c);
    smg_free(coef);
    smg_free(div);
    return SMG_OK;
}

static int one_trial(const struct smg_lloyd_config *cfg, const double *p, const double *pair,
                     const double *w, size_t n, double wsum, struct smg_rng *rng, double *c,
                     size_t *lab, double *dist, double *cw, size_t *idx, double *loss,
                     struct smg_error *err)
{
    size_t k = cfg->k, d = cfg->dim, chosen;
    double prev = INFINITY, cur;
    int rc =
        smg_kmeans_seed_pairs(cfg->init_method, p, pair, w, n, d, k, 0, rng, idx, &chosen, err);
    if (rc != SMG_OK)
        return rc;
    for (size_t j = chosen; j < k; j++) /* fewer distinct points than k: repeat seeds */
        idx[j] = idx[chosen > 0 ? j % chosen : 0];
    if (pair != NULL && d > n) /* few, long points: iterate on pairwise distances */
        return pairs_trial(cfg, p, pair, w, n, wsum, c, lab, dist, idx, loss, err);
    for (size_t j = 0; j < k; j++)
        memcpy(c + j * d, p + idx[j] * d, d * sizeof(double));
    for (uint64_t it = 0;; it++) {
        cur = assign(p, w, n, c, k, d, lab, dist) / wsum;
        if (it >= cfg->max_iter || cur == 0.0 || (it > 0 && prev - cur <= cfg->tol * prev))
            break;
        prev = cur;
        update(p, w, n, c, k, d, lab, dist, cw);
    }
    *loss = cur;
    return SMG_OK;
}

/*
 * smg_kmeans_lloyd on points p (n x d) it may overwrite: they are centred in
 * place, so the shrink holds one copy of the K centers, not two.
 */
static int lloyd_in_place(const struct smg_lloyd_config *cfg, double *p, const double *weights,
                          size_t n, double *centers, double *loss, struct smg_error *err)
{
    size_t k = cfg->k, d = cfg->dim;
    double *c = NULL, *dist = NULL, *cw = NULL, *mean = NULL, *pair = NULL, wsum = 0.0;
    size_t *lab = NULL, *idx = NULL;
    double best = INFINITY;
    int rc = SMG_OK;

    c = smg_malloc(k * d * sizeof(double) + 1);
    dist = smg_malloc(n * sizeof(double) + 1);
    cw = smg_malloc(k * sizeof(double) + 1);
    mean = smg_calloc(d + 1, sizeof(double));
    lab = smg_malloc(n * sizeof(size_t) + 1);
    idx = smg_malloc(k * sizeof(size_t) + 1);
    if (!c || !dist || !cw || !mean || !lab || !idx) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means shrink: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        wsum += weights[i];
        for (size_t f = 0; f < d; f++)
            mean[f] += weights[i] * p[i * d + f];
    }
    if (!(wsum > 0.0)) {
        rc = smg_error_set(err, SMG_EINTERNAL, "k-means shrink: all %zu centers have weight 0", n);
        goto out;
    }
    for (size_t f = 0; f < d; f++)
        mean[f] /= wsum;
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < d; f++)
            p[i * d + f] -= mean[f];
    /* Pairwise distances once for all trials' kmeans++ seedings and, for few long
     * points, the Lloyd iterations (optional: NULL = direct). */
    if (((cfg->init_method == SMG_KMEANS_INIT_KMEANSPP &&
          smg_kmeans_pair_dists_pay(n, k, cfg->trials)) ||
         (d > n && n <= SMG_KMEANS_PAIR_MAX_POINTS)) &&
        (pair = smg_malloc(n * n * sizeof(double))) != NULL)
        smg_kmeans_pair_dists(p, n, d, pair);
    for (uint64_t t = 0; t < cfg->trials; t++) {
        struct smg_rng rng;
        double l = INFINITY;
        smg_rng_seed(&rng, cfg->seed ^ (0x9E3779B97F4A7C15ull * (t + 1)));
        rc = one_trial(cfg, p, pair, weights, n, wsum, &rng, c, lab, dist, cw, idx, &l, err);
        if (rc != SMG_OK)
            goto out;
        if (cfg->log_attempts)
            smg_log_info("local kmeans attempt #%" PRIu64 ". Current mean square distance %f", t,
                         l);
        if (l < best) {
            best = l;
            for (size_t j = 0; j < k; j++)
                for (size_t f = 0; f < d; f++)
                    centers[j * d + f] = c[j * d + f] + mean[f];
        }
    }
    *loss = best;
out:
    smg_free(pair);
    smg_free(c);
    smg_free(dist);
    smg_free(cw);
    smg_free(mean);
    smg_free(lab);
    smg_free(idx);
    return rc;
}

enum smg_status smg_kmeans_lloyd(const struct smg_lloyd_config *cfg, const double *points,
                                 const double *weights, size_t n, double *centers, double *loss,
                                 struct smg_error *err)
{
    double *p = smg_malloc(n * cfg->dim * sizeof(double) + 1);
    int rc;

    if (p == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means shrink: out of memory");
    memcpy(p, points, n * cfg->dim * sizeof(double));
    rc = lloyd_in_place(cfg, p, weights, n, centers, loss, err);
    smg_free(p);
    return rc;
}

enum smg_status smg_kmeans_refine(const double *points, size_t n, size_t dim, double *centers,
                                  size_t k, unsigned max_iter, double tol,
                                  enum smg_kmeans_kernel kernel, struct smg_error *err)
{
    float *pf = NULL, *cf = NULL, *cn = NULL;
    double *dist = NULL, *sum = NULL, *cnt = NULL, prev = INFINITY;
    uint32_t *lab = NULL;
    int rc = SMG_OK;

    pf = smg_malloc(n * dim * sizeof(float) + 1);
    cf = smg_malloc(k * dim * sizeof(float) + 1);
    cn = smg_malloc(k * sizeof(float) + 1);
    dist = smg_malloc(n * sizeof(double) + 1);
    sum = smg_malloc(k * dim * sizeof(double) + 1);
    cnt = smg_malloc(k * sizeof(double) + 1);
    lab = smg_malloc(n * sizeof(uint32_t) + 1);
    if (!pf || !cf || !cn || !dist || !sum || !cnt || !lab) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means init refinement: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n * dim; i++)
        pf[i] = (float)points[i];
    for (unsigned it = 0; it < max_iter; it++) {
        double loss = 0.0;
        smg_kmeans_float_centers(centers, k, dim, cf, cn);
        rc = smg_kmeans_nearest(cf, cn, centers, k, dim, NULL, pf, n, lab, dist, kernel, err);
        if (rc != SMG_OK)
            goto out;
        for (size_t i = 0; i < n; i++)
            loss += dist[i];
        if (loss == 0.0 || (it > 0 && prev - loss <= tol * prev))
            break;
        prev = loss;
        memset(sum, 0, k * dim * sizeof(double));
        memset(cnt, 0, k * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            cnt[lab[i]] += 1.0;
            for (size_t f = 0; f < dim; f++)
                sum[lab[i] * dim + f] += points[i * dim + f];
        }
        for (size_t j = 0; j < k; j++)
            if (cnt[j] > 0.0) /* an empty center stays put; streaming reseeds it */
                for (size_t f = 0; f < dim; f++)
                    centers[j * dim + f] = sum[j * dim + f] / cnt[j];
    }
out:
    smg_free(pf);
    smg_free(cf);
    smg_free(cn);
    smg_free(dist);
    smg_free(sum);
    smg_free(cnt);
    smg_free(lab);
    return rc;
}

enum smg_status smg_kmeans_shrink(const struct smg_kmeans *km, float *out, double *loss,
                                  struct smg_error *err)
{
    size_t K = smg_kmeans_num_centers(km), d, n = 0;
    const double *c = smg_kmeans_centers(km), *w = smg_kmeans_weights(km),
                 *shift = smg_kmeans_shift(km);
    const struct smg_kmeans_config *cfg = smg_kmeans_config(km);
    double *pts = NULL, *wts = NULL, *res = NULL;
    int rc = SMG_OK;

    d = cfg->dim;
    *loss = 0.0;
    if (c == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means shrink: out of memory for the centers");
    if (cfg->extra_center_factor == 1) {
        if (!cfg->quiet)
            smg_log_info("No shrinking is required as extra_center_factor is 1.");
        for (size_t j = 0; j < K * d; j++)
            out[j] = (float)(c[j] + shift[j % d]);
        return SMG_OK;
    }
    pts = smg_malloc(K * d * sizeof(double));
    wts = smg_malloc(K * sizeof(double));
    res = smg_malloc(cfg->k * d * sizeof(double));
    if (!pts || !wts || !res) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means shrink: out of memory");
        goto out;
    }
    for (size_t j = 0; j < K; j++) {
        if (!(w[j] > 0.0))
            continue;
        for (size_t f = 0; f < d; f++)
            pts[n * d + f] = c[j * d + f] + shift[f];
        wts[n++] = w[j];
    }
    if (!cfg->quiet)
        smg_log_info("shrinking %zu centers into %zu", n, cfg->k);
    struct smg_lloyd_config lc = {
        .k = cfg->k,
        .dim = d,
        .init_method = cfg->lloyd_init_method,
        .max_iter = cfg->lloyd_max_iter,
        .tol = cfg->lloyd_tol,
        .trials = cfg->lloyd_trials > 0 ? cfg->lloyd_trials : 1,
        .seed = cfg->seed + 1,
        .log_attempts = !cfg->quiet,
    };
    rc = lloyd_in_place(&lc, pts, wts, n, res, loss, err);
    if (rc != SMG_OK)
        goto out;
    if (!cfg->quiet)
        smg_log_info("finished shrinking process. Mean Square Distance = %g", *loss);
    for (size_t j = 0; j < cfg->k * d; j++)
        out[j] = (float)res[j];
out:
    smg_free(pts);
    smg_free(wts);
    smg_free(res);
    return rc;
}

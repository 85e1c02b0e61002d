/*
 * Greedy kmeans++ seeding (kmeans_greedy.h), the plain pass and the pruned
 * one, which choose the same seeds bit for bit.
 *
 * Why: the restarts (kmeans_reseed.c) seed up to 10 times on a pool of 500
 * rows per center; the plain pass costs (2 + ln k) k n distances per seeding,
 * most of a k = 100 job's CPU on 50k rows, although late in a seeding a
 * candidate moves only the few points near it.
 *
 * How (smg_kmeans_greedy): the points are kept grouped by their nearest seed
 * so far (lab), with each group's largest squared distance to its seed
 * (rmax). A candidate c can lower point i's D^2 only if |p_i - c| < D_i,
 * and |p_i - c| >= |s - c| - D_i for i's seed s, so a group with
 * |s - c|^2 > 4 rmax (and, inside a group that is not, a point with
 * |s - c|^2 > 4 D_i^2) is skipped; a margin of PRUNE_MARGIN relative keeps
 * the skip safe under rounding (a skipped point's computed distance is
 * strictly above its computed D^2, so the plain pass would not have moved it
 * either). Each candidate's gain, the sum of w (D^2 - |p_i - c|^2) over the
 * points it moves, ranks the candidates; its potential is phi - gain. That
 * sum runs in another order than the plain pass's potential, so when the
 * best two distinct candidates' gains are within TIE_ULPS (n + 2) eps phi (a
 * bound on both sums' rounding), the contenders are re-evaluated by the
 * plain pass and its rule decides (lowest potential, first drawn). The
 * draws, the distances and the D^2 updates are the plain pass's operations
 * in its order, so the seeds, dmin and the generator's state are identical.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "algorithms/kmeans_greedy.h"
#include "io/base/alloc.h"

/*
 * Greedy kmeans++ candidates evaluated per pass over the points: the draws
 * of one step do not depend on the evaluations, so they are drawn first and
 * evaluated together, block by block of points, on a feature-major copy of
 * the points (each feature a contiguous column) so the distances vectorise
 * across points. Every distance still sums its features in order and every
 * candidate's potential its points in order: the sums, and the choice, are
 * exactly those of one scalar pass per candidate.
 */
#define SEED_BATCH 16u
#define SEED_BLOCK 128u

/*
 * dist[i] = |p_{i0+i} - c|^2 for b <= SEED_BLOCK points, features summed in
 * order: feature by feature over the block, which vectorises across points.
 */
static void block_dist(const double *cols, size_t n, size_t i0, size_t b, size_t dim,
                       const double *c, double *dist)
{
    memset(dist, 0, b * sizeof(double));
    for (size_t f = 0; f < dim; f++) {
        const double *col = cols + f * n + i0;
        for (size_t i = 0; i < b; i++) {
            double v = col[i] - c[f];
            dist[i] += v * v;
        }
    }
}

/* cphi[t] = sum_i w_i min(dmin_i, |p_i - p_c[t]|^2) for m <= SEED_BATCH candidates c. */
static void candidate_phis(const double *cols, const double *points, const double *weights,
                           const double *dmin, size_t n, size_t dim, const size_t *c, unsigned m,
                           double *cphi)
{
    double dist[SEED_BATCH][SEED_BLOCK];

    for (unsigned t = 0; t < m; t++)
        cphi[t] = 0.0;
    for (size_t i0 = 0; i0 < n; i0 += SEED_BLOCK) {
        size_t b = n - i0 < SEED_BLOCK ? n - i0 : SEED_BLOCK;
        for (unsigned t = 0; t < m; t++)
            block_dist(cols, n, i0, b, dim, points + c[t] * dim, dist[t]);
        for (size_t i = 0; i < b; i++) {
            double w = weights[i0 + i] > 0.0 ? weights[i0 + i] : 0.0, dm = dmin[i0 + i];
            for (unsigned t = 0; t < m; t++)
                cphi[t] += w * (dist[t][i] < dm ? dist[t][i] : dm);
        }
    }
}

void smg_kmeans_greedy_nearer(const double *cols, const double *c, size_t n, size_t dim,
                              double *dmin, bool init)
{
    double dist[SEED_BLOCK];

    for (size_t i0 = 0; i0 < n; i0 += SEED_BLOCK) {
        size_t b = n - i0 < SEED_BLOCK ? n - i0 : SEED_BLOCK;
        block_dist(cols, n, i0, b, dim, c, dist);
        for (size_t i = 0; i < b; i++)
            if (init || dist[i] < dmin[i0 + i])
                dmin[i0 + i] = dist[i];
    }
}

/*
 * smg_rng_draw(p, n, total) by bisection on cum, the running sums of p's
 * positive entries (as smg_rng_draw adds them); last is p's last positive
 * index. The first i with u < cum[i] has p_i > 0: the same index.
 */
static size_t draw_at(const double *cum, size_t n, size_t last, double total, double uniform)
{
    double u = uniform * total;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (u < cum[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < n ? lo : last;
}

static size_t draw_cumulative(const double *cum, size_t n, size_t last, double total,
                              struct smg_rng *rng)
{
    return draw_at(cum, n, last, total, smg_rng_uniform(rng));
}

void smg_kmeans_greedy_plain(const double *cols, const double *points, const double *weights,
                             size_t n, size_t dim, size_t k, unsigned trials, struct smg_rng *rng,
                             double *cum, double *dmin, size_t *idx, size_t *chosen)
{
    while (*chosen < k) {
        double phi = 0.0, acc = 0.0, best_phi = INFINITY;
        size_t best = n, last = n;
        for (size_t i = 0; i < n; i++) {
            double p = (weights[i] > 0.0 ? weights[i] : 0.0) * dmin[i];
            phi += p;
            if (p > 0.0) {
                acc += p;
                last = i;
            }
            cum[i] = acc;
        }
        if (!(phi > 0.0))
            break; /* every remaining point coincides with a seed */
        for (unsigned t0 = 0; t0 < trials; t0 += SEED_BATCH) {
            unsigned m = trials - t0 < SEED_BATCH ? trials - t0 : SEED_BATCH;
            size_t c[SEED_BATCH];
            double cphi[SEED_BATCH];
            for (unsigned t = 0; t < m; t++)
                c[t] = draw_cumulative(cum, n, last, phi, rng);
            candidate_phis(cols, points, weights, dmin, n, dim, c, m, cphi);
            for (unsigned t = 0; t < m; t++)
                if (cphi[t] < best_phi) {
                    best_phi = cphi[t];
                    best = c[t];
                }
        }
        idx[(*chosen)++] = best;
        smg_kmeans_greedy_nearer(cols, points + best * dim, n, dim, dmin, false);
    }
}

/* ---- the pruned pass ----------------------------------------------------- */

#define PRUNE_MARGIN 1e-6
#define TIE_ULPS     8.0

/* A point index and its dmin, for sorting a group. */
struct member {
    double dmin;
    size_t i;
};

/* The points nearest one seed, dmin descending, their rows copied so a scan streams. */
struct group {
    size_t off, len; /* members are [off, len): moves free the front */
    size_t *i;       /* point indices */
    double *x, *d;   /* rows (len x dim) and dmin */
    double *w;       /* weights, <= 0 as 0 */
};

struct groups {
    struct group *g;     /* one per seed */
    double *dsc;         /* |s_j - c|^2 for the candidate at hand */
    double *gain;        /* per candidate of the step */
    size_t *cand;        /* the step's draws */
    struct member *move; /* the points a new seed takes, before sorting */
    struct member *tmp;  /* radix sort scratch */
};

static double sqdist_rows(const double *a, const double *b, size_t d)
{
    double s = 0.0; /* as block_dist: from 0, features in order */
    for (size_t f = 0; f < d; f++) {
        double v = a[f] - b[f];
        s += v * v;
    }
    return s;
}

/* Row copy without a library call: rows are short (dim doubles). */
static void copy_row(double *to, const double *from, size_t dim)
{
    for (size_t f = 0; f < dim; f++)
        to[f] = from[f];
}

/* Whether a point at squared distance r from its seed s is at least r from c, |s - c|^2 = dsc. */
static bool skip(double dsc, double r)
{
    return dsc > 4.0 * r * (1.0 + PRUNE_MARGIN);
}

/*
 * Groups are sorted by the top SORT_BITS bits of dmin (sign, exponent and 4
 * mantissa bits: buckets 2^(1/16) wide), descending, in two byte passes; a
 * scan stops at the first member whose bucket's largest value is skipped,
 * so no member that could move is left out.
 */
#define SORT_LOW 48

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

/* The largest value of v's bucket (NaN for an infinite v: never skipped). */
static double bucket_top(double v)
{
    uint64_t b = bits_of(v) | ((UINT64_C(1) << SORT_LOW) - 1);
    double t;
    memcpy(&t, &b, sizeof(t));
    return t;
}

/* Stable LSD radix sort of a[0..n) by the descending bucket of dmin; tmp holds n. */
static void sort_desc(struct member *a, struct member *tmp, size_t n)
{
    for (unsigned shift = SORT_LOW; shift < 64; shift += 8) {
        size_t cnt[257] = {0};
        for (size_t q = 0; q < n; q++)
            cnt[((~bits_of(a[q].dmin) >> shift) & 0xFF) + 1]++;
        if (cnt[((~bits_of(a[0].dmin) >> shift) & 0xFF) + 1] == n)
            continue; /* one digit value: already in order */
        for (unsigned b = 0; b < 256; b++)
            cnt[b + 1] += cnt[b];
        for (size_t q = 0; q < n; q++)
            tmp[cnt[(~bits_of(a[q].dmin) >> shift) & 0xFF]++] = a[q];
        memcpy(a, tmp, n * sizeof(*a));
    }
}

/* Group j from the cnt points in g->move, sorted by dmin descending. */
static bool new_group(struct groups *g, const double *points, const double *weights, size_t dim,
                      size_t j, size_t cnt)
{
    struct group *gr = &g->g[j];
    gr->i = smg_malloc(cnt * sizeof(size_t) + 1);
    gr->x = smg_malloc(cnt * dim * sizeof(double) + 1);
    gr->d = smg_malloc(cnt * sizeof(double) + 1);
    gr->w = smg_malloc(cnt * sizeof(double) + 1);
    if (!gr->i || !gr->x || !gr->d || !gr->w)
        return false;
    if (cnt > 0)
        sort_desc(g->move, g->tmp, cnt);
    for (size_t q = 0; q < cnt; q++) {
        size_t i = g->move[q].i;
        gr->i[q] = i;
        gr->d[q] = g->move[q].dmin;
        gr->w[q] = weights[i] > 0.0 ? weights[i] : 0.0;
        copy_row(gr->x + q * dim, points + i * dim, dim);
    }
    gr->len = cnt;
    return true;
}

/* dsc[j] = |s_j - c|^2 for the m seeds so far. */
static void seed_dists(struct groups *g, const double *points, size_t dim, const size_t *idx,
                       size_t m, const double *c)
{
    for (size_t j = 0; j < m; j++)
        g->dsc[j] = sqdist_rows(points + idx[j] * dim, c, dim);
}

/*
 * d[u] = |x_u - c|^2 for the 4 rows at x, each summed from 0 over the
 * features in order (as block_dist), the four chains interleaved.
 */
static void sqdist4(const double *x, const double *c, size_t dim, double *d)
{
    double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
    for (size_t f = 0; f < dim; f++) {
        double v0 = x[f] - c[f], v1 = x[dim + f] - c[f], v2 = x[2 * dim + f] - c[f],
               v3 = x[3 * dim + f] - c[f];
        a0 += v0 * v0;
        a1 += v1 * v1;
        a2 += v2 * v2;
        a3 += v3 * v3;
    }
    d[0] = a0;
    d[1] = a1;
    d[2] = a2;
    d[3] = a3;
}

/*
 * How many of group j's members from q on c could move (dmin descending, so
 * a prefix; g->dsc already for c), and their distances to c, 4 at a time:
 * dist[u] for member q + u, u < the count returned (at most 4).
 */
static size_t next_dists(const struct groups *g, size_t j, size_t q, size_t dim, const double *c,
                         double *dist)
{
    const struct group *gr = &g->g[j];
    size_t b = 0;
    while (b < 4 && q + b < gr->len && !skip(g->dsc[j], bucket_top(gr->d[q + b])))
        b++;
    if (b == 4) {
        sqdist4(gr->x + q * dim, c, dim, dist);
        return 4;
    }
    for (size_t u = 0; u < b; u++)
        dist[u] = sqdist_rows(gr->x + (q + u) * dim, c, dim);
    return b;
}

/* Sum of w (dmin_i - |p_i - c|^2) over the points c would move (g->dsc already for c). */
static double gain_of(const struct groups *g, size_t dim, size_t m, const double *c)
{
    double gain = 0.0, dist[4];
    for (size_t j = 0; j < m; j++) {
        const struct group *gr = &g->g[j];
        size_t b;
        for (size_t q = gr->off; (b = next_dists(g, j, q, dim, c, dist)) > 0; q += b)
            for (size_t u = 0; u < b; u++)
                if (dist[u] < gr->d[q + u])
                    gain += gr->w[q + u] * (gr->d[q + u] - dist[u]);
    }
    return gain;
}

/*
 * Seed number m at c (g->dsc already for c): dmin updated as the plain pass
 * does, the points it takes leave their groups (which stay sorted) and form
 * group m.
 */
static bool move_to(struct groups *g, const double *points, const double *weights, double *dmin,
                    size_t dim, size_t m, const double *c)
{
    size_t cnt = 0;
    for (size_t j = 0; j < m; j++) {
        struct group *gr = &g->g[j];
        size_t q = gr->off, to, b;
        double dist[4];
        for (; (b = next_dists(g, j, q, dim, c, dist)) > 0; q += b)
            for (size_t u = 0; u < b; u++) {
                if (!(dist[u] < gr->d[q + u]))
                    continue;
                dmin[gr->i[q + u]] = dist[u];
                g->move[cnt].dmin = dist[u];
                g->move[cnt++].i = gr->i[q + u];
                gr->i[q + u] = SIZE_MAX;
            }
        /* The scanned members that stay close up towards q, still in order. */
        to = q;
        for (size_t r = q; r-- > gr->off;) {
            if (gr->i[r] == SIZE_MAX)
                continue;
            if (--to != r) {
                gr->i[to] = gr->i[r];
                gr->d[to] = gr->d[r];
                gr->w[to] = gr->w[r];
                copy_row(gr->x + to * dim, gr->x + r * dim, dim);
            }
        }
        gr->off = to;
    }
    return new_group(g, points, weights, dim, m, cnt);
}

/*
 * The plain pass's choice among the step's m candidates: the gains rank them;
 * contenders (gain within tol of the best, other indices) are settled by the
 * plain potentials, lowest first in draw order.
 */
static size_t choose(struct groups *g, const double *cols, const double *points,
                     const double *weights, const double *dmin, size_t n, size_t dim, unsigned m,
                     double phi)
{
    double top = -INFINITY, tol = TIE_ULPS * ((double)n + 2.0) * DBL_EPSILON * phi;
    double best_phi = INFINITY;
    size_t list[SEED_BATCH], best = n;
    unsigned nl = 0, first = m;
    bool tie = false;

    for (unsigned t = 0; t < m; t++)
        if (g->gain[t] > top)
            top = g->gain[t];
    for (unsigned t = 0; t < m; t++) {
        if (!(g->gain[t] >= top - tol))
            continue;
        if (first == m)
            first = t;
        else if (g->cand[t] != g->cand[first])
            tie = true;
    }
    if (!tie)
        return g->cand[first];
    /* Re-check: plain potentials of the contenders, SEED_BATCH at a time, in draw order. */
    for (unsigned t = 0; t <= m; t++) {
        if (t < m && g->gain[t] >= top - tol)
            list[nl++] = g->cand[t];
        if (nl > 0 && (nl == SEED_BATCH || t == m)) {
            double cphi[SEED_BATCH];
            candidate_phis(cols, points, weights, dmin, n, dim, list, nl, cphi);
            for (unsigned u = 0; u < nl; u++)
                if (cphi[u] < best_phi) {
                    best_phi = cphi[u];
                    best = list[u];
                }
            nl = 0;
        }
    }
    return best;
}

/*
 * The draws without the plain pass's O(n) prefix sums every step: pot_i =
 * w_i D_i^2 summed per block of DRAW_BLOCK points (in point order; a block is
 * summed again only when a point in it moved), the blocks' running sums, and
 * a walk through one block. These sums round differently from the plain
 * running sum, by at most about 2 (n + 1) eps/2 phi each; a draw whose target
 * lies within DRAW_ULPS (n + 2) eps phi of its point's interval ends (or of
 * the total) is redone exactly as the plain pass draws (its running sums,
 * computed once for the step), so every draw is the plain pass's.
 */
#define DRAW_BLOCK 32u
#define DRAW_ULPS  8.0

struct draws {
    size_t n, nb;
    double *pot, *bsum, *pre; /* pot per point, per block, running block sums (nb + 1) */
    unsigned char *dirty;
    bool exact; /* cum, last and total hold the plain pass's sums for this step */
    size_t last;
    double total;
};

static void block_sum(struct draws *dr, size_t b)
{
    size_t end = (b + 1) * DRAW_BLOCK < dr->n ? (b + 1) * DRAW_BLOCK : dr->n;
    double acc = 0.0;
    for (size_t i = b * DRAW_BLOCK; i < end; i++)
        acc += dr->pot[i];
    dr->bsum[b] = acc;
    dr->dirty[b] = 0;
}

/* The step's running block sums; returns their total (> 0 iff the plain phi is). */
static double draws_prepare(struct draws *dr)
{
    for (size_t b = 0; b < dr->nb; b++)
        if (dr->dirty[b])
            block_sum(dr, b);
    dr->pre[0] = 0.0;
    for (size_t b = 0; b < dr->nb; b++)
        dr->pre[b + 1] = dr->pre[b] + dr->bsum[b];
    dr->exact = false;
    return dr->pre[dr->nb];
}

/* The plain pass's draw at uniform u: its running sums in cum, built once per step. */
static size_t exact_draw(struct draws *dr, double *cum, double u)
{
    if (!dr->exact) {
        double phi = 0.0, acc = 0.0;
        dr->last = dr->n;
        for (size_t i = 0; i < dr->n; i++) {
            double p = dr->pot[i];
            phi += p;
            if (p > 0.0) {
                acc += p;
                dr->last = i;
            }
            cum[i] = acc;
        }
        dr->total = phi;
        dr->exact = true;
    }
    return draw_at(cum, dr->n, dr->last, dr->total, u);
}

/* The draw at uniform u, from the block sums when clear of every rounding doubt. */
static size_t fast_draw(struct draws *dr, double *cum, double phi, double u)
{
    double e = DRAW_ULPS * ((double)dr->n + 2.0) * DBL_EPSILON * phi, target = u * phi, acc;
    size_t lo = 0, hi = dr->nb, end;

    if (!(target < phi - e))
        return exact_draw(dr, cum, u);
    while (lo < hi) { /* the first block whose running sum passes the target */
        size_t mid = lo + (hi - lo) / 2;
        if (target < dr->pre[mid + 1])
            hi = mid;
        else
            lo = mid + 1;
    }
    if (lo >= dr->nb)
        return exact_draw(dr, cum, u);
    acc = dr->pre[lo];
    end = (lo + 1) * DRAW_BLOCK < dr->n ? (lo + 1) * DRAW_BLOCK : dr->n;
    for (size_t i = lo * DRAW_BLOCK; i < end; i++) {
        double before = acc;
        acc += dr->pot[i];
        if (target < acc)
            return target - before > e && acc - target > e ? i : exact_draw(dr, cum, u);
    }
    return exact_draw(dr, cum, u);
}

/* pot of the points now nearest the newest seed (group m), their blocks to sum again. */
static void draws_moved(struct draws *dr, const struct group *gr, const double *dmin)
{
    for (size_t q = gr->off; q < gr->len; q++) {
        size_t i = gr->i[q];
        dr->pot[i] = gr->w[q] * dmin[i];
        dr->dirty[i / DRAW_BLOCK] = 1;
    }
}

static bool draws_new(struct draws *dr, const double *weights, const double *dmin, size_t n)
{
    dr->n = n;
    dr->nb = (n + DRAW_BLOCK - 1) / DRAW_BLOCK;
    dr->pot = smg_malloc(n * sizeof(double) + 1);
    dr->bsum = smg_malloc(dr->nb * sizeof(double) + 1);
    dr->pre = smg_malloc((dr->nb + 1) * sizeof(double));
    dr->dirty = smg_malloc(dr->nb + 1);
    if (!dr->pot || !dr->bsum || !dr->pre || !dr->dirty)
        return false;
    for (size_t i = 0; i < n; i++)
        dr->pot[i] = (weights[i] > 0.0 ? weights[i] : 0.0) * dmin[i];
    memset(dr->dirty, 1, dr->nb);
    return true;
}

static void draws_free(struct draws *dr)
{
    smg_free(dr->pot);
    smg_free(dr->bsum);
    smg_free(dr->pre);
    smg_free(dr->dirty);
}

static void groups_free(struct groups *g, size_t k)
{
    for (size_t j = 0; g->g != NULL && j < k; j++) {
        smg_free(g->g[j].i);
        smg_free(g->g[j].x);
        smg_free(g->g[j].d);
        smg_free(g->g[j].w);
    }
    smg_free(g->g);
    smg_free(g->dsc);
    smg_free(g->gain);
    smg_free(g->cand);
    smg_free(g->move);
    smg_free(g->tmp);
}

enum smg_status smg_kmeans_greedy(const double *cols, const double *points, const double *weights,
                                  size_t n, size_t dim, size_t k, unsigned trials,
                                  struct smg_rng *rng, double *cum, double *dmin, size_t *idx,
                                  size_t *chosen, struct smg_error *err)
{
    struct groups g = {0};
    struct draws dr = {0};
    bool ok;

    g.g = smg_calloc(k + 1, sizeof(struct group));
    g.dsc = smg_malloc((k + 1) * sizeof(double));
    g.gain = smg_malloc(((size_t)trials + 1) * sizeof(double));
    g.cand = smg_malloc(((size_t)trials + 1) * sizeof(size_t));
    g.move = smg_malloc((n + 1) * sizeof(struct member));
    g.tmp = smg_malloc((n + 1) * sizeof(struct member));
    ok = g.g && g.dsc && g.gain && g.cand && g.move && g.tmp;
    for (size_t i = 0; ok && i < n; i++) { /* every point starts in the first seed's group */
        g.move[i].dmin = dmin[i];
        g.move[i].i = i;
    }
    ok = ok && new_group(&g, points, weights, dim, 0, n) && draws_new(&dr, weights, dmin, n);
    while (ok && *chosen < k) {
        size_t m = *chosen, best;
        double phi = draws_prepare(&dr);
        if (!(phi > 0.0))
            break; /* every remaining point coincides with a seed */
        for (unsigned t = 0; t < trials; t++)
            g.cand[t] = fast_draw(&dr, cum, phi, smg_rng_uniform(rng));
        for (unsigned t = 0; trials > 1 && t < trials; t++) {
            seed_dists(&g, points, dim, idx, m, points + g.cand[t] * dim);
            g.gain[t] = gain_of(&g, dim, m, points + g.cand[t] * dim);
        }
        best =
            trials > 1 ? choose(&g, cols, points, weights, dmin, n, dim, trials, phi) : g.cand[0];
        idx[(*chosen)++] = best;
        seed_dists(&g, points, dim, idx, m, points + best * dim);
        ok = move_to(&g, points, weights, dmin, dim, m, points + best * dim);
        if (ok)
            draws_moved(&dr, &g.g[m], dmin);
    }
    draws_free(&dr);
    groups_free(&g, k);
    if (!ok)
        return smg_error_set(err, SMG_ENOMEM, "k-means seeding: out of memory for %zu points", n);
    return SMG_OK;
}

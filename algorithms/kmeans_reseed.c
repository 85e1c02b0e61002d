/*
 * Restarts for the final k-means centers: greedy kmeans++ seeds drawn from a
 * pool of sampled rows, Lloyd on the pool, then the polish (Lloyd on the whole
 * reservoir sample) of the best of them; the model is whichever of the
 * polished shrink result and that restart has the lower sample msd.
 *
 * Why: the shrink clusters the K streaming centers, and Lloyd from its result
 * stays in that result's basin. When K is small (extra_center_factor 1-4) or
 * k is large, that basin is poor: measured on 50k taxi-like rows the polished
 * shrink result was 1.30x scikit-learn's KMeans(n_init=10) msd at k = 50 with
 * extra_center_factor 1 and 1.44x at k = 500 with the default factor 10.
 * Seeding from rows, as scikit-learn does, starts Lloyd in a good basin; the
 * spread between single starts is a few percent, so several are tried.
 *
 * How: every rank takes evenly spaced rows of its reservoir, in proportion to
 * the rows it saw, up to a pool of SMG_KMEANS_RESEED_ROWS_PER_CENTER rows per
 * center (bounded in bytes), each weighted rows seen / rows taken on its rank;
 * one allreduce of a zeroed buffer in which each rank fills its own slots
 * gives every rank the same pool exactly. Every rank then runs the same
 * restarts with no communication: greedy kmeans++ (2 + ln k candidates per
 * step, as scikit-learn) on evenly spaced pool rows, Lloyd on the pool
 * (local_lloyd_max_iter, local_lloyd_tol), keeping the lowest pool msd. The
 * number of restarts is what SMG_KMEANS_RESEED_BUDGET distance evaluations of
 * seeding allow (1 to `trials`: 10 up to k = 100 and 3 at k = 500 on a
 * 50k-row pool; one start at k = 500 missed the 2% bar on 2 ranks, 1.026).
 * Only the winner is polished on the distributed sample (collective).
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "algorithms/kmeans.h"
#include "io/base/alloc.h"

struct pool {
    size_t rows, dim;
    double *x, *w;                 /* shifted rows and their weights */
    struct smg_kmeans_sample *smp; /* the same rows as floats, for Lloyd on the pool */
    size_t seed_rows;              /* evenly spaced pool rows the kmeans++ seeding draws from */
    double *sx, *sw;
};

/*
 * The seeding subset: SMG_KMEANS_RESEED_SEED_ROWS_PER_CENTER rows per center
 * (at least SMG_KMEANS_RESEED_MIN_SEED_ROWS) evenly spaced over the pool, so
 * every rank's share is in it. Seeding costs (2 + ln k) k distance passes over
 * these rows, Lloyd only a few dozen over the pool.
 */
static enum smg_status seeding_rows(struct pool *p, size_t k, struct smg_error *err)
{
    size_t d = p->dim, m;
    if (!smg_mul_size(k, SMG_KMEANS_RESEED_SEED_ROWS_PER_CENTER, &m) || m > p->rows)
        m = p->rows;
    if (m < SMG_KMEANS_RESEED_MIN_SEED_ROWS)
        m = p->rows < SMG_KMEANS_RESEED_MIN_SEED_ROWS ? p->rows : SMG_KMEANS_RESEED_MIN_SEED_ROWS;
    p->seed_rows = m;
    p->sx = smg_malloc(m * d * sizeof(double) + 1);
    p->sw = smg_malloc(m * sizeof(double) + 1);
    if (!p->sx || !p->sw)
        return smg_error_set(err, SMG_ENOMEM, "k-means reseed: out of memory");
    for (size_t i = 0; i < m; i++) {
        size_t src = (size_t)((double)i * (double)p->rows / (double)m);
        memcpy(p->sx + i * d, p->x + src * d, d * sizeof(double));
        p->sw[i] = p->w[src];
    }
    return SMG_OK;
}

/* Pool rows: ROWS_PER_CENTER per center, at least MIN_ROWS, at most BYTES of doubles. */
static size_t pool_cap(size_t k, size_t dim)
{
    size_t limit = SMG_KMEANS_RESEED_BYTES / ((dim + 1) * sizeof(double)), want;
    if (!smg_mul_size(k, SMG_KMEANS_RESEED_ROWS_PER_CENTER, &want))
        want = limit;
    if (want < SMG_KMEANS_RESEED_MIN_ROWS)
        want = SMG_KMEANS_RESEED_MIN_ROWS;
    return want < limit ? want : limit;
}

/*
 * Pool rows of rank r: all its sample when every rank's data fits in the pool,
 * else a share proportional to the rows it saw (so pool rows weigh about the
 * same on every rank), never more than it kept.
 */
static size_t share(const int64_t *cnt, size_t nr, size_t r, uint64_t seen, size_t cap)
{
    size_t kept = (size_t)cnt[r], m;
    if (seen <= cap)
        return kept;
    m = (size_t)((double)cap * (double)cnt[nr + r] / (double)seen);
    if (m > kept)
        m = kept;
    return m == 0 && kept > 0 ? 1 : m;
}

/* Rank me's rows into its slots of the zeroed pool, then the sum over ranks. */
static enum smg_status fill_pool(const struct smg_kmeans_sample *s, struct smg_comm *comm,
                                 const double *shift, size_t off, size_t m, struct pool *p,
                                 struct smg_error *err)
{
    size_t kept = smg_kmeans_sample_rows(s), d = p->dim;
    const float *x = smg_kmeans_sample_data(s);
    int rc = SMG_OK;

    for (size_t i = 0; i < m; i++) {
        size_t src = (size_t)((double)i * (double)kept / (double)m);
        for (size_t f = 0; f < d; f++)
            p->x[(off + i) * d + f] = (double)x[src * d + f] - shift[f];
        p->w[off + i] = (double)smg_kmeans_sample_seen(s) / (double)m;
    }
    if (comm != NULL && (rc = smg_comm_sum_f64(comm, p->x, p->rows * d, err)) == SMG_OK)
        rc = smg_comm_sum_f64(comm, p->w, p->rows, err);
    return rc;
}

static enum smg_status build_pool(const struct smg_kmeans_sample *s, struct smg_comm *comm,
                                  size_t k, const double *shift, struct pool *p,
                                  struct smg_error *err)
{
    size_t nr = comm ? (size_t)comm->size : 1, me = comm ? (size_t)comm->rank : 0, off = 0;
    size_t d = p->dim, cap = pool_cap(k, d);
    int64_t *cnt = smg_calloc(2 * nr + 1, sizeof(int64_t));
    float *xf = NULL;
    uint64_t seen = 0;
    int rc = SMG_OK;

    if (cnt == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means reseed: out of memory");
    cnt[me] = (int64_t)smg_kmeans_sample_rows(s);
    cnt[nr + me] = (int64_t)smg_kmeans_sample_seen(s);
    if (comm != NULL && (rc = smg_comm_sum_i64(comm, cnt, 2 * nr, err)) != SMG_OK)
        goto out;
    for (size_t r = 0; r < nr; r++)
        seen += (uint64_t)cnt[nr + r];
    for (size_t r = 0; r < nr; r++) {
        if (r == me)
            off = p->rows;
        p->rows += share(cnt, nr, r, seen, cap);
    }
    p->x = smg_calloc(p->rows * d + 1, sizeof(double));
    p->w = smg_calloc(p->rows + 1, sizeof(double));
    xf = smg_malloc(p->rows * d * sizeof(float) + 1);
    if (!p->x || !p->w || !xf) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means reseed: out of memory for a %zu-row pool",
                           p->rows);
        goto out;
    }
    rc = fill_pool(s, comm, shift, off, share(cnt, nr, me, seen, cap), p, err);
    for (size_t i = 0; rc == SMG_OK && i < p->rows * d; i++)
        xf[i] = (float)(p->x[i] + shift[i % d]);
    if (rc == SMG_OK)
        rc = smg_kmeans_sample_of_rows(xf, p->rows, d, &p->smp, err);
out:
    smg_free(cnt);
    smg_free(xf);
    return rc;
}

/*
 * Restarts within SMG_KMEANS_RESEED_BUDGET point-to-seed distances of greedy
 * seeding ((2 + ln k) k per seeding row), at least 1, at most max: many for
 * small k, where one start varies most, one for large k.
 */
static unsigned budget_trials(unsigned max, size_t k, size_t rows)
{
    double per = (2.0 + log((double)k)) * (double)k * (double)rows, t;
    t = per > 0.0 ? floor(SMG_KMEANS_RESEED_BUDGET / per) : (double)max;
    return t < 1.0 ? 1u : t > (double)max ? max : (unsigned)t;
}

/*
 * `trials` kmeans++ seedings of the pool, each followed by Lloyd on the pool
 * (every rank the same work, no communication); best gets the centers with
 * the lowest pool msd. *found is false when the pool has fewer distinct rows
 * than k.
 */
static enum smg_status pool_trials(struct pool *p, size_t k, const double *shift, unsigned max_iter,
                                   double tol, uint64_t seed, unsigned trials, float *best,
                                   bool *found, enum smg_kmeans_kernel kernel,
                                   struct smg_error *err)
{
    size_t d = p->dim, chosen = 0, *idx = smg_malloc(k * sizeof(size_t) + 1);
    float *cand = smg_malloc(k * d * sizeof(float) + 1);
    double lowest = INFINITY, *pair = NULL;
    int rc = SMG_OK;

    *found = false;
    trials = budget_trials(trials, k, p->seed_rows);
    /* The seeding rows' pairwise distances once for all trials (optional: NULL = direct). */
    if (trials > 0 && smg_kmeans_pair_dists_pay(p->seed_rows, k, trials) &&
        (pair = smg_malloc(p->seed_rows * p->seed_rows * sizeof(double))) != NULL)
        smg_kmeans_pair_dists(p->sx, p->seed_rows, d, pair);
    if (!idx || !cand)
        rc = smg_error_set(err, SMG_ENOMEM, "k-means reseed: out of memory");
    for (unsigned t = 0; rc == SMG_OK && t < trials && p->seed_rows > k; t++) {
        struct smg_rng rng;
        double before, after;
        smg_rng_seed(&rng, seed ^ (0xD1B54A32D192ED03ull * (t + 1)));
        rc = smg_kmeans_seed_pairs(SMG_KMEANS_INIT_KMEANSPP, p->sx, pair, p->sw, p->seed_rows, d, k,
                                   0, &rng, idx, &chosen, err);
        if (rc != SMG_OK || chosen < k)
            break; /* fewer distinct rows than centers: keep the shrink result */
        for (size_t j = 0; j < k; j++)
            for (size_t f = 0; f < d; f++)
                cand[j * d + f] = (float)(p->sx[idx[j] * d + f] + shift[f]);
        rc = smg_kmeans_polish(p->smp, NULL, cand, k, shift, max_iter, tol, &before, &after, kernel,
                               err);
        if (rc == SMG_OK && after < lowest) {
            lowest = after;
            *found = true;
            memcpy(best, cand, k * d * sizeof(float));
        }
    }
    smg_free(pair);
    smg_free(idx);
    smg_free(cand);
    return rc;
}

enum smg_status smg_kmeans_reseed(struct smg_kmeans_sample *s, struct smg_comm *comm,
                                  float *centers, size_t k, const double *shift, unsigned max_iter,
                                  double tol, uint64_t seed, unsigned trials, double *msd,
                                  unsigned *won, enum smg_kmeans_kernel kernel,
                                  struct smg_error *err)
{
    struct pool p = {.dim = smg_kmeans_sample_dim(s)};
    float *cand = smg_malloc(k * p.dim * sizeof(float) + 1);
    bool found = false;
    double before, after;
    int rc;

    *won = 0;
    rc = cand ? build_pool(s, comm, k, shift, &p, err)
              : smg_error_set(err, SMG_ENOMEM, "k-means reseed: out of memory");
    if (rc == SMG_OK)
        rc = seeding_rows(&p, k, err);
    if (rc == SMG_OK)
        rc = pool_trials(&p, k, shift, max_iter, tol, seed, trials, cand, &found, kernel, err);
    /* found is the same on every rank (same pool, same seeds): the polish stays collective. */
    if (rc == SMG_OK && found)
        rc =
            smg_kmeans_polish(s, comm, cand, k, shift, max_iter, tol, &before, &after, kernel, err);
    if (rc == SMG_OK && found && after < *msd) {
        *msd = after;
        *won = 1;
        memcpy(centers, cand, k * p.dim * sizeof(float));
    }
    smg_free(p.x);
    smg_free(p.w);
    smg_free(p.sx);
    smg_free(p.sw);
    smg_kmeans_sample_free(p.smp);
    smg_free(cand);
    return rc;
}

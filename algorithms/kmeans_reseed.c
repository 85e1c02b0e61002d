/*
 * The start of the final polish: the shrink result, or a restart from greedy
 * kmeans++ seeds drawn from a pool of sampled rows when, after Lloyd on that
 * pool, one of them has a lower pool msd than the shrink result after the
 * same Lloyd on the same pool. The polish (Lloyd on the whole reservoir
 * sample) then runs once, from whichever start won.
 *
 * Why: the shrink clusters the K streaming centers, and Lloyd from its result
 * stays in that result's basin. When K is small (extra_center_factor 1-4) or
 * k is large, that basin is poor: measured on 50k taxi-like rows the polished
 * shrink result was 1.30x scikit-learn's KMeans(n_init=10) msd at k = 50 with
 * extra_center_factor 1 and 1.44x at k = 500 with the default factor 10.
 * Seeding from rows, as scikit-learn does, starts Lloyd in a good basin; the
 * spread between single starts is a few percent, so several are tried.
 * Choosing on the pool and polishing only the winner costs one polish, not
 * two (the shrink result's and the winner's); at 400k rows that polish is
 * most of the job. The pool must be large (500 rows per center): measured on
 * the same 50k rows, restarts on a pool of 100 rows per center looked better
 * there than the shrink result and ended 1.09x at k = 100 after the polish
 * (fitted to that pool's rare rows), and seeding from 100 rows per center of
 * the 500 ended 1.03-1.05x where seeding from all of them gave 0.99-1.02x.
 *
 * How: every rank takes evenly spaced rows of its reservoir, in proportion to
 * the rows it saw, up to a pool of SMG_KMEANS_RESEED_ROWS_PER_CENTER rows per
 * center (bounded in bytes), each weighted rows seen / rows taken on its rank;
 * one allreduce of a zeroed buffer in which each rank fills its own slots
 * gives every rank the same pool exactly. The restarts are shared out over
 * the ranks (restart t on rank t mod ranks, no communication while they run):
 * greedy kmeans++ (2 + ln k candidates per step, as scikit-learn) on the
 * pool, seeded from seed and t, then Lloyd on the pool to
 * SMG_KMEANS_RESEED_TOL (looser than local_lloyd_tol: the polish finishes the
 * winner). Two small allreduces (the restarts' pool msds, then the winner's
 * k x dim centers) give every rank the same winner, the lowest pool msd, first
 * in t order: the same restarts and winner whatever the rank count while all
 * rows fit the pool. Every rank also runs Lloyd on the pool from the shrink
 * result (the bar a restart must pass). On a rank, the restarts (and the
 * shrink result's Lloyd, beside the first leg) run in parallel on the job's
 * worker pool, one part each with its own scratch and Lloyd on no pool
 * inside: each part's arithmetic is the serial code's, and the winner is
 * chosen after in t order, so the result does not depend on the worker count. The number of
 * restarts is what SMG_KMEANS_RESEED_BUDGET distance evaluations of seeding allow (1 to `trials`:
 * 10 up to k = 100 and 3 at k = 500 on a 50k-row pool); measured on 50k taxi-like rows at k = 100,
 * 6 restarts missed the 2% bar on 2 ranks (1.021), 10 gave 1.008.
 *
 * Pruning: Lloyd on the pool runs in two legs (smg_kmeans_run_step). After
 * SMG_KMEANS_RESEED_PRUNE_ITERS (3) iterations every restart pauses, one
 * allreduce of their pool msds gives every rank the same list, and only the
 * restarts within SMG_KMEANS_RESEED_PRUNE_MARGIN (2%) of the lowest run on to
 * convergence, from where they paused (the same iterates as one run); the
 * others cannot win. The rule depends only on the restarts' msds, so like
 * the restarts it does not depend on the rank count while all rows fit the
 * pool. Measured on 50k taxi-like rows, the final winner was within 0.6% of
 * the lowest after 3 iterations at k = 10, 50, 100 and 500; over the 36 rows
 * of the README's quality table the models were those without pruning byte
 * for byte but in 4 (k = 5 and 10 on 2 ranks, where the restart that would
 * have won was more than 2% behind after 3 iterations: msd ratio 1.0001 ->
 * 1.0000 at k = 5, 1.0012 -> 1.0023 at k = 10); at k = 100, 4 of 10
 * restarts ran on and Lloyd on the pool took 76 assignment passes, not 125.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "algorithms/kmeans.h"
#include "io/base/alloc.h"

struct pool {
    size_t rows, dim;
    struct smg_pool *workers;      /* the job's worker pool (NULL = this thread) */
    double *x, *w;                 /* shifted rows and their weights */
    struct smg_kmeans_sample *smp; /* the same rows as floats, for Lloyd on the pool */
    size_t seed_rows;              /* evenly spaced pool rows the kmeans++ seeding draws from */
    double *sx, *sw;
};

/*
 * The seeding rows: SMG_KMEANS_RESEED_SEED_ROWS_PER_CENTER rows per center
 * (at least SMG_KMEANS_RESEED_MIN_SEED_ROWS) evenly spaced over the pool, so
 * every rank's share is in it (today the same numbers as the pool: all of it).
 * Seeding costs (2 + ln k) k distance passes over these rows.
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
 * small k, where one start varies most, few for large k.
 */
static unsigned budget_trials(unsigned max, size_t k, size_t rows)
{
    double per = (2.0 + log((double)k)) * (double)k * (double)rows, t;
    t = per > 0.0 ? floor(SMG_KMEANS_RESEED_BUDGET / per) : (double)max;
    return t < 1.0 ? 1u : t > (double)max ? max : (unsigned)t;
}

/* Lloyd on the pool from cand (in place) to SMG_KMEANS_RESEED_TOL; *msd gets the pool msd. */
static enum smg_status pool_lloyd(struct pool *p, float *cand, size_t k, const double *shift,
                                  unsigned max_iter, double tol, double *msd,
                                  enum smg_kmeans_kernel kernel, struct smg_error *err)
{
    double before;
    if (tol < SMG_KMEANS_RESEED_TOL)
        tol = SMG_KMEANS_RESEED_TOL;
    return smg_kmeans_polish(p->smp, NULL, p->workers, cand, k, shift, max_iter, tol, &before, msd,
                             kernel, err);
}

/*
 * Restart t's start: greedy kmeans++ on the seeding rows from seed and t
 * into cand (k x dim floats, unshifted); *ok = false when the pool has fewer
 * distinct rows than k.
 */
static enum smg_status seed_restart(struct pool *p, const double *pair, size_t k,
                                    const double *shift, uint64_t seed, unsigned t, size_t *idx,
                                    float *cand, bool *ok, struct smg_error *err)
{
    size_t d = p->dim, chosen = 0;
    struct smg_rng rng;
    int rc;

    smg_rng_seed(&rng, seed ^ (0xD1B54A32D192ED03ull * (t + 1)));
    rc = smg_kmeans_seed_pairs(SMG_KMEANS_INIT_KMEANSPP, p->sx, pair, p->sw, p->seed_rows, d, k, 0,
                               &rng, idx, &chosen, err);
    *ok = rc == SMG_OK && chosen == k;
    for (size_t j = 0; *ok && j < k; j++)
        for (size_t f = 0; f < d; f++)
            cand[j * d + f] = (float)(p->sx[idx[j] * d + f] + shift[f]);
    return rc;
}

/*
 * Which restarts go on after SMG_KMEANS_RESEED_PRUNE_ITERS iterations: those
 * whose pool msd then is within SMG_KMEANS_RESEED_PRUNE_MARGIN of the lowest
 * (msd holds every restart's, the same on every rank). The others stop there
 * and cannot win.
 */
static void prune(double *msd, unsigned trials, bool *go_on)
{
    double low = INFINITY;
    for (unsigned t = 0; t < trials; t++)
        if (msd[t] < low)
            low = msd[t];
    for (unsigned t = 0; t < trials; t++)
        go_on[t] = msd[t] <= low * (1.0 + SMG_KMEANS_RESEED_PRUNE_MARGIN);
}

/*
 * One rank's restarts on the worker pool: part i runs restart t = me + i * nr
 * with its own scratch (seeding indices, centers, run, error); the pool rows,
 * seeding rows and pair are only read, and Lloyd inside a part runs on no
 * pool (jobs must not use the pool running them) and records nothing in the
 * pool's sample. Each part's arithmetic is the serial code's, so the results
 * are the same whatever the number of workers. In the first leg one more
 * part (i == mine) runs Lloyd from the shrink result, when given, to the end.
 */
struct trials_job {
    struct pool *p;
    const double *pair, *shift;
    size_t k, me, nr, mine;
    unsigned max_iter;
    double tol;
    uint64_t seed, pause; /* pause: the leg's end (UINT64_MAX: to convergence) */
    enum smg_kmeans_kernel kernel;
    size_t *idx;                /* k per part */
    float *cen;                 /* k x dim per part: restart t's centers */
    struct smg_kmeans_run *run; /* per restart t */
    double *msd;                /* per restart t */
    const bool *go_on;          /* second leg: per restart t (NULL in the first) */
    float *shrink;              /* the shrink result, Lloyd'd in place (NULL: none) */
    double *shrink_msd;
    int *rc;                /* per part */
    struct smg_error *errs; /* per part */
};

/* Lloyd on the pool's sample from cand (in place) to the end, on this thread only. */
static enum smg_status lloyd_alone(const struct trials_job *j, float *cand, double *msd,
                                   struct smg_error *err)
{
    struct smg_kmeans_run r;
    int rc = smg_kmeans_run_start(&r, cand, j->k, j->p->dim, j->shift, err);
    if (rc == SMG_OK)
        rc = smg_kmeans_run_iterate(j->p->smp, NULL, NULL, &r, cand, j->k, j->shift, j->max_iter,
                                    j->tol, UINT64_MAX, j->kernel, err);
    *msd = r.after;
    smg_kmeans_run_free(&r);
    return rc;
}

static void trial_part(void *ctx, size_t part, size_t begin, size_t end)
{
    const struct trials_job *j = ctx;
    size_t i = begin, t = j->me + i * j->nr, kd = j->k * j->p->dim;
    float *cand = j->cen + i * kd;
    struct smg_error *err = &j->errs[part];
    struct smg_kmeans_run *run = &j->run[t];
    bool ok;
    int rc = SMG_OK;

    (void)end;
    if (i == j->mine) { /* the shrink result, first leg only */
        j->rc[part] = lloyd_alone(j, j->shrink, j->shrink_msd, err);
        return;
    }
    if (j->go_on == NULL) {
        rc = seed_restart(j->p, j->pair, j->k, j->shift, j->seed, (unsigned)t, j->idx + i * j->k,
                          cand, &ok, err);
        j->msd[t] = INFINITY;
        if (rc == SMG_OK && ok)
            rc = smg_kmeans_run_start(run, cand, j->k, j->p->dim, j->shift, err);
    } else if (!j->go_on[t] || run->cd == NULL) {
        j->msd[t] = INFINITY;
        j->rc[part] = SMG_OK;
        return;
    } else {
        ok = true;
    }
    if (rc == SMG_OK && ok)
        rc = smg_kmeans_run_iterate(j->p->smp, NULL, NULL, run, cand, j->k, j->shift, j->max_iter,
                                    j->tol, j->pause, j->kernel, err);
    if (rc == SMG_OK && ok)
        j->msd[t] = run->after;
    j->rc[part] = rc;
}

/* Run one leg over the pool; the first failing part's error (in restart order) is returned. */
static enum smg_status run_leg(struct smg_pool *workers, struct trials_job *j, size_t parts,
                               struct smg_error *err)
{
    for (size_t i = 0; i < parts; i++) {
        j->rc[i] = SMG_OK;
        smg_error_clear(&j->errs[i]);
    }
    smg_pool_run(workers, parts, parts, trial_part, j);
    for (size_t i = 0; i < parts; i++)
        if (j->rc[i] != SMG_OK)
            return smg_error_set(err, j->rc[i], "%s", j->errs[i].msg);
    return SMG_OK;
}

/*
 * Restarts t = me, me + nr, ... < trials of the pool, one part each on the
 * worker pool: kmeans++ seeding from seed and t, then Lloyd on the pool in
 * two legs. After the first leg (SMG_KMEANS_RESEED_PRUNE_ITERS iterations)
 * one allreduce of the pool msds gives every rank the same survivors
 * (prune); only they run on to convergence, each exactly as one
 * uninterrupted Lloyd. msd[t] gets each restart's final pool msd (INFINITY
 * when pruned or when the pool has fewer distinct rows than k; the other
 * ranks' entries stay 0) and best the centers of this rank's lowest, first
 * in t order. shrink (when not NULL) gets Lloyd on the pool beside the first
 * leg, and *shrink_msd its pool msd.
 */
static enum smg_status pool_trials(struct pool *p, struct smg_comm *comm, size_t k,
                                   const double *shift, unsigned max_iter, double tol,
                                   uint64_t seed, unsigned trials, size_t me, size_t nr,
                                   double *msd, float *best, float *shrink, double *shrink_msd,
                                   enum smg_kmeans_kernel kernel, struct smg_error *err)
{
    size_t d = p->dim, mine = me < trials ? (trials - me + nr - 1) / nr : 0, parts = mine + 1;
    struct trials_job j = {.p = p,
                           .shift = shift,
                           .k = k,
                           .me = me,
                           .nr = nr,
                           .mine = shrink != NULL ? mine : SIZE_MAX,
                           .max_iter = max_iter,
                           .tol = tol < SMG_KMEANS_RESEED_TOL ? SMG_KMEANS_RESEED_TOL : tol,
                           .seed = seed,
                           .pause = SMG_KMEANS_RESEED_PRUNE_ITERS + 1,
                           .kernel = kernel,
                           .msd = msd,
                           .shrink = shrink,
                           .shrink_msd = shrink_msd};
    bool *go_on = smg_calloc(trials + 1, sizeof(bool));
    double lowest = INFINITY, *pair = NULL;
    int rc = SMG_OK;

    j.idx = smg_malloc(mine * k * sizeof(size_t) + 1);
    j.cen = smg_malloc(mine * k * d * sizeof(float) + 1); /* part i: restart me + i * nr */
    j.run = smg_calloc(trials + 1, sizeof(*j.run));
    j.rc = smg_calloc(parts, sizeof(int));
    j.errs = smg_calloc(parts, sizeof(struct smg_error));
    /* The seeding rows' pairwise distances once for this rank's restarts (NULL: direct). */
    if (mine > 0 && smg_kmeans_pair_dists_pay(p->seed_rows, k, mine) &&
        (pair = smg_malloc(p->seed_rows * p->seed_rows * sizeof(double))) != NULL)
        smg_kmeans_pair_dists(p->sx, p->seed_rows, d, pair);
    j.pair = pair;
    if (!j.idx || !j.cen || !j.run || !go_on || !j.rc || !j.errs)
        rc = smg_error_set(err, SMG_ENOMEM, "k-means reseed: out of memory");
    if (rc == SMG_OK)
        rc = run_leg(p->workers, &j, shrink != NULL ? parts : mine, err);
    if (rc == SMG_OK && nr > 1) /* others' entries 0 here: the sum is every rank's msd */
        for (unsigned t = 0; t < trials; t++)
            if (t % nr != me)
                msd[t] = 0.0;
    if (rc == SMG_OK && nr > 1)
        rc = smg_comm_sum_f64(comm, msd, trials, err);
    if (rc == SMG_OK)
        prune(msd, trials, go_on);
    j.go_on = go_on;
    j.pause = UINT64_MAX;
    j.mine = SIZE_MAX;
    if (rc == SMG_OK)
        rc = run_leg(p->workers, &j, mine, err);
    for (size_t i = 0; rc == SMG_OK && i < mine; i++) {
        size_t t = me + i * nr;
        if (msd[t] < lowest) {
            lowest = msd[t];
            memcpy(best, j.cen + i * k * d, k * d * sizeof(float));
        }
    }
    for (unsigned t = 0; rc == SMG_OK && nr > 1 && t < trials; t++)
        if (t % nr != me)
            msd[t] = 0.0;
    for (unsigned t = 0; j.run != NULL && t < trials; t++)
        smg_kmeans_run_free(&j.run[t]);
    smg_free(j.run);
    smg_free(j.rc);
    smg_free(j.errs);
    smg_free(go_on);
    smg_free(pair);
    smg_free(j.idx);
    smg_free(j.cen);
    return rc;
}

/*
 * The restarts shared out over the ranks, then two small allreduces: every
 * rank's pool msds (so all pick the same winner, the lowest, first in t
 * order) and the winner's centers from the rank that ran it. *lowest gets the
 * winner's pool msd and best its centers (INFINITY: no restart).
 */
static enum smg_status shared_trials(struct pool *p, struct smg_comm *comm, size_t k,
                                     const double *shift, unsigned max_iter, double tol,
                                     uint64_t seed, unsigned trials, float *best, double *lowest,
                                     float *shrink, double *shrink_msd,
                                     enum smg_kmeans_kernel kernel, struct smg_error *err)
{
    size_t nr = comm ? (size_t)comm->size : 1, me = comm ? (size_t)comm->rank : 0, d = p->dim;
    double *msd = smg_calloc(trials + 1, sizeof(double));
    double *share = smg_calloc(k * d + 1, sizeof(double));
    unsigned win = trials;
    int rc =
        msd && share ? SMG_OK : smg_error_set(err, SMG_ENOMEM, "k-means reseed: out of memory");

    if (rc == SMG_OK)
        rc = pool_trials(p, comm, k, shift, max_iter, tol, seed, trials, me, nr, msd, best, shrink,
                         shrink_msd, kernel, err);
    if (rc == SMG_OK && nr > 1)
        rc = smg_comm_sum_f64(comm, msd, trials, err);
    for (unsigned t = 0; rc == SMG_OK && t < trials; t++)
        if (win == trials || msd[t] < msd[win])
            win = t;
    if (rc == SMG_OK && win < trials && !(msd[win] < INFINITY))
        win = trials; /* no restart had k distinct seeds */
    if (rc == SMG_OK && win < trials && nr > 1) {
        if (win % nr == me)
            for (size_t j = 0; j < k * d; j++)
                share[j] = (double)best[j];
        rc = smg_comm_sum_f64(comm, share, k * d, err);
        for (size_t j = 0; rc == SMG_OK && j < k * d; j++)
            best[j] = (float)share[j];
    }
    *lowest = rc == SMG_OK && win < trials ? msd[win] : INFINITY;
    smg_free(msd);
    smg_free(share);
    return rc;
}

enum smg_status smg_kmeans_reseed(struct smg_kmeans_sample *s, struct smg_comm *comm,
                                  struct smg_pool *workers, float *centers, size_t k,
                                  const double *shift, unsigned max_iter, double tol, uint64_t seed,
                                  unsigned trials, struct smg_kmeans_reseed_report *rep,
                                  enum smg_kmeans_kernel kernel, struct smg_error *err)
{
    struct pool p = {.dim = smg_kmeans_sample_dim(s), .workers = workers};
    float *cand = smg_malloc(k * p.dim * sizeof(float) + 1);
    float *best = smg_malloc(k * p.dim * sizeof(float) + 1);
    int rc;

    memset(rep, 0, sizeof(*rep));
    rep->best_msd = INFINITY;
    rc = cand && best ? build_pool(s, comm, k, shift, &p, err)
                      : smg_error_set(err, SMG_ENOMEM, "k-means reseed: out of memory");
    if (rc == SMG_OK)
        rc = seeding_rows(&p, k, err);
    rep->pool_rows = p.rows;
    rep->restarts = rc == SMG_OK && p.seed_rows > k ? budget_trials(trials, k, p.seed_rows) : 0;
    /*
     * The shrink result, Lloyd on the same pool to the same tolerance (what a
     * restart must beat): beside the restarts' first leg when there are any.
     */
    if (rc == SMG_OK)
        memcpy(cand, centers, k * p.dim * sizeof(float));
    if (rc == SMG_OK && rep->restarts > 0)
        rc = shared_trials(&p, comm, k, shift, max_iter, tol, seed, rep->restarts, best,
                           &rep->best_msd, cand, &rep->shrink_msd, kernel, err);
    else if (rc == SMG_OK)
        rc = pool_lloyd(&p, cand, k, shift, max_iter, tol, &rep->shrink_msd, kernel, err);
    /* Same pool and seeds on every rank: every rank keeps the same start. */
    if (rc == SMG_OK && rep->best_msd < rep->shrink_msd) {
        rep->won = 1;
        memcpy(centers, best, k * p.dim * sizeof(float));
    }
    smg_free(p.x);
    smg_free(p.w);
    smg_free(p.sx);
    smg_free(p.sw);
    smg_kmeans_sample_free(p.smp);
    smg_free(cand);
    smg_free(best);
    return rc;
}

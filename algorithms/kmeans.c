/*
 * Streaming (web-scale) k-means state: init, per-step contributions, the
 * rank combine and the update. The algorithm and its rules are described in
 * kmeans.h; this file keeps these invariants:
 *   - centers are stored shifted (c - shift) in double, with a float32 copy
 *     (made on the first dense batch) and its squared norms for the sgemm;
 *     an inactive center (never filled) has norm +INF so it never wins an
 *     assignment; while single-rank CSR steps run, kmeans_csr_lazy.h's state
 *     holds the centers instead and c is NULL (to_lazy / to_dense convert);
 *   - every rank applies the same summed contribution in the same order, so
 *     the state is bit-identical on all ranks after each step;
 *   - weights are >= 0, centers finite; a center with weight 0 after a step
 *     with data is reseeded when a candidate exists.
 *
 * Contribution layout (doubles), m = reseed candidates per rank this step:
 *   [0] rows   [1] sse   [2, 2+K) counts   [2+K, 2+K+K*d) shifted sums
 *   then n_ranks slots of m entries of (2 + d): distance (0 = none), label of
 *   the center the row joined (-1 = none), shifted row.
 * Every rank writes only its own slot and zeros elsewhere, so a plain sum
 * over ranks is the exact union.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "algorithms/kmeans.h"
#include "algorithms/csr_ops.h"
#include "algorithms/kmeans_csr.h"
#include "algorithms/kmeans_csr_lazy.h"
#include "algorithms/kmeans_split.h"
#include "io/base/alloc.h"
#include "io/base/bytes.h"
#include "io/base/log.h"

struct smg_kmeans {
    struct smg_kmeans_config cfg;
    size_t K, d;
    double *shift; /* d */
    double *c;     /* K * d, shifted; NULL while lz holds the centers */
    double *w;     /* K */
    float *cf;     /* K * d, made on the first dense batch; NULL before */
    float *cnorm;  /* K */
    bool *active;  /* K */
    uint32_t *labels;
    double *dist;
    size_t cap_rows;
    double *stats;
    size_t cap_stats;
    uint64_t rows_seen, reseeds;
    double sse;
    double comm_s;              /* wall seconds in the step allreduce */
    double *scratch;            /* K + K * d: a batch's sums inside a group (zero_scratch) */
    struct smg_kmeans_csr *csr; /* CSR batches' assignment (kmeans_csr.h), made on first use */
    /* Single-rank CSR steps (kmeans_csr_lazy.h): the centers while c is NULL, and scratch. */
    struct smg_kmeans_lazy *lz;
    struct smg_kmeans_lazy_work wk;
};

static size_t step_candidates(const struct smg_kmeans *km)
{
    size_t empty = 0, m;
    for (size_t j = 0; j < km->K; j++)
        if (!km->active[j] || km->w[j] == 0.0)
            empty++;
    m = empty < SMG_KMEANS_MIN_CANDIDATES ? SMG_KMEANS_MIN_CANDIDATES : empty;
    if (m > SMG_KMEANS_MAX_CANDIDATES)
        m = SMG_KMEANS_MAX_CANDIDATES;
    return m < km->K ? m : km->K;
}

size_t smg_kmeans_stats_len(const struct smg_kmeans *km, int n_ranks)
{
    return 2 + km->K + km->K * km->d + (size_t)n_ranks * step_candidates(km) * (2 + km->d);
}

static void refresh_float(struct smg_kmeans *km, size_t j)
{
    float norm = 0.0f;
    for (size_t f = 0; f < km->d; f++) {
        float v = (float)km->c[j * km->d + f];
        if (km->cf != NULL)
            km->cf[j * km->d + f] = v;
        norm += v * v;
    }
    /* +INF marks inactive; an active norm that overflows is clamped (exact kernel). */
    km->cnorm[j] = km->active[j] ? (norm < FLT_MAX ? norm : FLT_MAX) : INFINITY;
}

enum smg_status smg_kmeans_new(const struct smg_kmeans_config *cfg, struct smg_kmeans **out,
                               struct smg_error *err)
{
    struct smg_kmeans *km;
    size_t K, kd;

    *out = NULL;
    if (cfg->k < 1 || cfg->extra_center_factor < 1 || cfg->dim < 1)
        return smg_error_set(err, SMG_ECONFIG,
                             "k-means: k, extra_center_factor and feature_dim "
                             "must be positive");
    if (!smg_mul_size(cfg->k, cfg->extra_center_factor, &K) || K > (size_t)1 << 31 ||
        !smg_mul_size(K, cfg->dim, &kd) || kd > ((size_t)1 << 40) / sizeof(double))
        return smg_error_set(err, SMG_ECONFIG,
                             "k-means: k * extra_center_factor * feature_dim = %zu * %zu * %zu "
                             "is too large",
                             cfg->k, cfg->extra_center_factor, cfg->dim);
    km = smg_calloc(1, sizeof(*km));
    if (km == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory");
    km->cfg = *cfg;
    km->K = K;
    km->d = cfg->dim;
    km->shift = smg_calloc(km->d, sizeof(double));
    km->c = smg_calloc(kd, sizeof(double));
    km->w = smg_calloc(K, sizeof(double));
    km->cnorm = smg_calloc(K, sizeof(float));
    km->active = smg_calloc(K, sizeof(bool));
    if (!km->shift || !km->c || !km->w || !km->cnorm || !km->active) {
        smg_kmeans_free(km);
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for %zu centers", K);
    }
    for (size_t j = 0; j < K; j++)
        km->cnorm[j] = INFINITY;
    *out = km;
    return SMG_OK;
}

void smg_kmeans_free(struct smg_kmeans *km)
{
    if (km == NULL)
        return;
    smg_free(km->shift);
    smg_free(km->c);
    smg_free(km->w);
    smg_free(km->cf);
    smg_free(km->cnorm);
    smg_free(km->active);
    smg_free(km->labels);
    smg_free(km->dist);
    smg_free(km->stats);
    smg_free(km->scratch);
    smg_kmeans_csr_free(km->csr);
    smg_kmeans_lazy_free(km->lz);
    smg_free(km->wk.counts);
    smg_free(km->wk.seeds);
    smg_free(km->wk.targets);
    smg_free(km->wk.scratch);
    smg_free(km);
}

static int ensure_rows(struct smg_kmeans *km, size_t rows, struct smg_error *err)
{
    uint32_t *l;
    double *d;
    if (rows <= km->cap_rows)
        return SMG_OK;
    l = smg_realloc(km->labels, rows * sizeof(uint32_t));
    if (l == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for %zu rows", rows);
    km->labels = l;
    d = smg_realloc(km->dist, rows * sizeof(double));
    if (d == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for %zu rows", rows);
    km->dist = d;
    km->cap_rows = rows;
    return SMG_OK;
}

/* The float32 copy of the centers the dense kernels take, made on the first dense batch. */
static int ensure_float(struct smg_kmeans *km, struct smg_error *err)
{
    if (km->cf != NULL)
        return SMG_OK;
    km->cf = smg_malloc(km->K * km->d * sizeof(float));
    if (km->cf == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for %zu float centers",
                             km->K);
    for (size_t j = 0; j < km->K; j++)
        refresh_float(km, j);
    return SMG_OK;
}

/*
 * Hand the centers to the single-rank CSR state (kmeans_csr_lazy.h): the
 * dense copies (c, cf, the transposed floats) are freed, so the job holds
 * one K x d table.
 */
static int to_lazy(struct smg_kmeans *km, struct smg_error *err)
{
    int rc;

    if (km->lz != NULL)
        return SMG_OK;
    if (km->wk.counts == NULL)
        km->wk.counts = smg_malloc(km->K * sizeof(double));
    if (km->wk.seeds == NULL)
        km->wk.seeds = smg_malloc(SMG_KMEANS_MAX_CANDIDATES * sizeof(size_t));
    if (km->wk.targets == NULL)
        km->wk.targets = smg_malloc(SMG_KMEANS_MAX_CANDIDATES * sizeof(size_t));
    if (km->wk.scratch == NULL)
        km->wk.scratch = smg_calloc(km->d, sizeof(float));
    if (!km->wk.counts || !km->wk.seeds || !km->wk.targets || !km->wk.scratch)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for the step");
    rc = smg_kmeans_lazy_new(km->K, km->d, km->c, km->active, km->shift, &km->lz, err);
    if (rc != SMG_OK)
        return rc;
    smg_free(km->c);
    km->c = NULL;
    smg_free(km->cf);
    km->cf = NULL;
    smg_kmeans_csr_free(km->csr);
    km->csr = NULL;
    return SMG_OK;
}

/* Back from the single-rank CSR state to the dense, shifted centers (c). */
static int to_dense(struct smg_kmeans *km, struct smg_error *err)
{
    if (km->lz == NULL)
        return SMG_OK;
    km->c = smg_malloc(km->K * km->d * sizeof(double));
    if (km->c == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for %zu centers", km->K);
    for (size_t j = 0; j < km->K; j++) {
        smg_kmeans_lazy_row(km->lz, j, km->shift, km->c + j * km->d);
        refresh_float(km, j);
    }
    smg_kmeans_lazy_free(km->lz);
    km->lz = NULL;
    return SMG_OK;
}

/*
 * The kernel for this job: the configured one while the first batch's largest
 * |x - shift| (max_abs) keeps float32 squared distances normal numbers with a
 * wide margin, SMG_KMEANS_KERNEL_EXACT outside (see SMG_KMEANS_FLOAT_SAFE_MIN).
 */
static enum smg_kmeans_kernel kernel_for_range(const struct smg_kmeans *km, double max_abs)
{
    double hi = SMG_KMEANS_FLOAT_SAFE_MAX / sqrt((double)km->d);
    if (max_abs == 0.0 || (max_abs >= SMG_KMEANS_FLOAT_SAFE_MIN && max_abs <= hi))
        return km->cfg.kernel;
    if (!km->cfg.quiet)
        smg_log_info("k-means: the first mini-batch spans |x - mean| up to %g, outside the range "
                     "float32 squared distances keep ([%g, %g]); computing distances in double.",
                     max_abs, SMG_KMEANS_FLOAT_SAFE_MIN, hi);
    return SMG_KMEANS_KERNEL_EXACT;
}

/*
 * Rank 0: shift = mean of the first batch, the job's kernel (from its range),
 * K seeds from it (shifted, weight 0).
 */
static int pick_initial(struct smg_kmeans *km, const struct smg_batch *b, double *buf,
                        struct smg_error *err)
{
    size_t n = b->rows, d = km->d, chosen = 0, nd;
    double *pts = NULL, *ones = NULL, *shift = buf, *c = buf + d, *act = buf + d + km->K * d;
    double max_abs = 0.0;
    size_t *idx = NULL;
    struct smg_rng rng;
    int rc;

    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < d; f++)
            shift[f] += b->x[i * d + f];
    for (size_t f = 0; f < d; f++)
        shift[f] /= (double)n;
    for (size_t i = 0; i < n * d; i++)
        max_abs = fmax(max_abs, fabs((double)b->x[i] - shift[i % d]));
    km->cfg.kernel = kernel_for_range(km, max_abs);
    act[km->K] = (double)km->cfg.kernel;
    if (!smg_mul_size(n, d, &nd) || (pts = smg_malloc(nd * sizeof(double))) == NULL ||
        (ones = smg_malloc(n * sizeof(double))) == NULL ||
        (idx = smg_malloc(km->K * sizeof(size_t))) == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means init: out of memory for %zu rows", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        ones[i] = 1.0;
        for (size_t f = 0; f < d; f++)
            pts[i * d + f] = (double)b->x[i * d + f] - shift[f];
    }
    smg_rng_seed(&rng, km->cfg.seed);
    rc = smg_kmeans_seed(km->cfg.init_method, pts, ones, n, d, km->K < n ? km->K : n, 1, &rng, idx,
                         &chosen, err);
    if (rc != SMG_OK)
        goto out;
    for (size_t j = 0; j < chosen; j++) {
        memcpy(c + j * d, pts + idx[j] * d, d * sizeof(double));
        act[j] = 1.0;
    }
    if (km->cfg.init_lloyd_iters > 0) {
        rc = smg_kmeans_refine(pts, n, d, c, chosen, km->cfg.init_lloyd_iters, 1e-4, km->cfg.kernel,
                               err);
        if (rc != SMG_OK)
            goto out;
    }
    if (chosen < km->K && !km->cfg.quiet)
        smg_log_info("Batch size %zu holds only %zu distinct initial center(s) of %zu; the rest "
                     "are seeded from later mini-batches.",
                     n, chosen, km->K);
out:
    smg_free(pts);
    smg_free(ones);
    smg_free(idx);
    return rc;
}

/* pick_initial for a CSR first batch (kmeans_csr.h): the same shift, kernel rule and draws. */
static int pick_initial_csr(struct smg_kmeans *km, const struct smg_batch *b, double *buf,
                            struct smg_error *err)
{
    double *act = buf + km->d + km->K * km->d;

    km->cfg.kernel = kernel_for_range(km, smg_kmeans_csr_first_range(b, buf));
    act[km->K] = (double)km->cfg.kernel;
    return smg_kmeans_init_csr(&km->cfg, km->K, b, buf, buf + km->d, act, err);
}

enum smg_status smg_kmeans_init(struct smg_kmeans *km, struct smg_comm *comm,
                                const struct smg_batch *first, struct smg_error *err)
{
    size_t len = km->d + km->K * km->d + km->K + 1; /* shift, centers, active, kernel */
    double *buf = smg_calloc(len, sizeof(double));
    int rc = SMG_OK;

    if (buf == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means init: out of memory");
    if (comm == NULL || comm->rank == 0) {
        if (first != NULL && first->rows > 0) {
            if (first->cols != km->d) {
                rc = smg_error_set(err, SMG_EINTERNAL, "k-means init: %zu columns, expected %zu",
                                   first->cols, km->d);
                goto out;
            }
            if (smg_batch_is_csr(first))
                rc = pick_initial_csr(km, first, buf, err);
            else
                rc = pick_initial(km, first, buf, err);
            if (rc != SMG_OK)
                goto out;
        }
    }
    /* A failed pick on rank 0 still broadcasts (zeros) so peers do not hang. */
    if (comm != NULL)
        rc = smg_comm_bcast_bytes(comm, buf, len * sizeof(double), 0, err);
    if (rc != SMG_OK)
        goto out;
    memcpy(km->shift, buf, km->d * sizeof(double));
    if (buf[len - 1] == (double)SMG_KMEANS_KERNEL_EXACT)
        km->cfg.kernel = SMG_KMEANS_KERNEL_EXACT;
    if (km->c == NULL) { /* init after CSR steps: start again from dense centers */
        smg_kmeans_lazy_free(km->lz);
        km->lz = NULL;
        if ((km->c = smg_malloc(km->K * km->d * sizeof(double))) == NULL) {
            rc = smg_error_set(err, SMG_ENOMEM, "k-means init: out of memory");
            goto out;
        }
    }
    memcpy(km->c, buf + km->d, km->K * km->d * sizeof(double));
    for (size_t j = 0; j < km->K; j++) {
        km->active[j] = buf[km->d + km->K * km->d + j] != 0.0;
        km->w[j] = 0.0;
        refresh_float(km, j);
    }
out:
    smg_free(buf);
    return rc;
}

/* Nearest center of every row of a CSR batch into km->labels and km->dist. */
static int nearest_csr(struct smg_kmeans *km, const struct smg_batch *b, struct smg_error *err)
{
    int rc;

    if (km->csr == NULL && (rc = smg_kmeans_csr_new(km->K, km->d, &km->csr, err)) != SMG_OK)
        return rc;
    smg_kmeans_csr_load(km->csr, km->c, km->cnorm, km->shift);
    smg_kmeans_csr_nearest(km->csr, km->cfg.pool, km->c, km->shift, b, km->cfg.kernel, km->labels,
                           km->dist);
    return SMG_OK;
}

/*
 * counts[l] and sums[l] += x - shift for every labelled row of a CSR batch,
 * on this thread in row order (O(nnz), small beside the assignment): sum x
 * from the stored entries, then subtract counts * shift once.
 */
static void accumulate_csr(const struct smg_kmeans *km, const struct smg_batch *b, double *counts,
                           double *sums)
{
    const size_t K = km->K, d = km->d;

    for (size_t i = 0; i < b->rows; i++) {
        uint32_t l = km->labels[i];
        if (l == SMG_KMEANS_NO_LABEL)
            continue;
        counts[l] += 1.0;
        smg_csr_row_axpy(b, i, 1.0, sums + (size_t)l * d);
    }
    for (size_t j = 0; j < K; j++)
        for (size_t f = 0; counts[j] > 0.0 && f < d; f++)
            sums[j * d + f] -= counts[j] * km->shift[f];
}

void smg_kmeans_top_insert(double *td, size_t *ti, size_t *n, size_t m, double dist, size_t row)
{
    size_t pos = *n;
    if (m == 0 || dist <= 0.0 || (*n == m && dist <= td[m - 1]))
        return;
    if (*n < m)
        (*n)++;
    else
        pos = m - 1;
    while (pos > 0 && td[pos - 1] < dist) {
        td[pos] = td[pos - 1];
        ti[pos] = ti[pos - 1];
        pos--;
    }
    td[pos] = dist;
    ti[pos] = row;
}

/*
 * km->scratch (K counts then K * d sums) allocated and zeroed: a batch added
 * to a group that already holds rows sums into it from zero and is then added
 * to the group's totals, so each batch's sums are formed exactly as a step's
 * are (smg_kmeans_accumulate_pool's bits then do not depend on the pool).
 */
static int zero_scratch(struct smg_kmeans *km, struct smg_error *err)
{
    size_t len = km->K + km->K * km->d;

    if (km->scratch == NULL && (km->scratch = smg_malloc(len * sizeof(double))) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for a group's sums");
    memset(km->scratch, 0, len * sizeof(double));
    return SMG_OK;
}

/* Candidate entry e: distance, the label row `row` of b joined, the shifted row. */
static void fill_candidate(const struct smg_kmeans *km, const struct smg_batch *b, size_t row,
                           double dist, double *e)
{
    const size_t d = km->d;
    uint32_t l = km->labels[row];

    e[0] = dist;
    e[1] = l == SMG_KMEANS_NO_LABEL ? -1.0 : (double)l;
    for (size_t f = 0; f < d; f++)
        e[2 + f] = smg_batch_is_csr(b) ? -km->shift[f] : (double)b->x[row * d + f] - km->shift[f];
    if (smg_batch_is_csr(b))
        smg_csr_row_axpy(b, row, 1.0, e + 2);
}

/*
 * Merge this batch's top list (td/ti, ntop rows, farthest first) into the
 * rank's slot of m entries, which holds the open group's earlier candidates
 * farthest first (distance 0 = empty): the slot keeps the m farthest of both,
 * earlier batches first on ties, as smg_kmeans_top_insert over one batch
 * holding the group's rows in order would. The forward pass counts how many of each are
 * kept; the backward pass writes them in place (an old entry only moves up).
 */
static void merge_candidates(const struct smg_kmeans *km, const struct smg_batch *b, double *slot,
                             size_t m, const double *td, const size_t *ti, size_t ntop)
{
    const size_t esz = 2 + km->d;
    size_t n_old = 0, a = 0, c = 0;

    while (n_old < m && slot[n_old * esz] > 0.0)
        n_old++;
    while (a + c < m && (a < n_old || c < ntop)) {
        if (a < n_old && (c == ntop || slot[a * esz] >= td[c]))
            a++;
        else
            c++;
    }
    for (size_t t = a + c; t-- > 0;) {
        if (c > 0 && (a == 0 || slot[(a - 1) * esz] >= td[c - 1])) {
            c--;
            fill_candidate(km, b, ti[c], td[c], slot + t * esz);
        } else {
            a--;
            if (a != t)
                memmove(slot + t * esz, slot + a * esz, esz * sizeof(double));
        }
    }
}

enum smg_status smg_kmeans_local_add(struct smg_kmeans *km, const struct smg_batch *b, int rank,
                                     int n_ranks, double *stats, struct smg_error *err)
{
    size_t K = km->K, d = km->d, m = step_candidates(km), ntop = 0;
    double *counts = stats + 2, *sums = stats + 2 + K, *cnt, *sm;
    double td[SMG_KMEANS_MAX_CANDIDATES];
    size_t ti[SMG_KMEANS_MAX_CANDIDATES];
    int rc;

    if (b == NULL || b->rows == 0)
        return SMG_OK;
    if (b->cols != d)
        return smg_error_set(err, SMG_EINTERNAL, "k-means: batch has %zu columns, expected %zu",
                             b->cols, d);
    rc = ensure_rows(km, b->rows, err);
    if (rc == SMG_OK)
        rc = to_dense(km, err);
    if (rc == SMG_OK && !smg_batch_is_csr(b))
        rc = ensure_float(km, err);
    if (rc != SMG_OK)
        return rc;
    if (smg_batch_is_csr(b))
        rc = nearest_csr(km, b, err);
    else
        rc = smg_kmeans_nearest_pool(km->cfg.pool, km->cf, km->cnorm, km->c, K, d, km->shift, b->x,
                                     b->rows, km->labels, km->dist, km->cfg.kernel, err);
    if (rc != SMG_OK)
        return rc;
    /* Rows already in stats: this batch's sums start from zero in scratch (see below). */
    if (stats[0] > 0.0 && (rc = zero_scratch(km, err)) != SMG_OK)
        return rc;
    cnt = stats[0] > 0.0 ? km->scratch : counts;
    sm = stats[0] > 0.0 ? km->scratch + K : sums;
    for (size_t i = 0; i < b->rows; i++) {
        stats[1] += km->dist[i];
        smg_kmeans_top_insert(td, ti, &ntop, m, km->dist[i], i);
    }
    if (smg_batch_is_csr(b))
        accumulate_csr(km, b, cnt, sm);
    else
        smg_kmeans_accumulate_pool(km->cfg.pool, b->x, b->rows, d, K, km->shift, km->labels, cnt,
                                   sm, km->cfg.kernel);
    for (size_t j = 0; cnt != counts && j < K + K * d; j++)
        counts[j] += cnt[j]; /* counts and sums are adjacent, as are their scratch copies */
    stats[0] += (double)b->rows;
    merge_candidates(km, b, sums + K * d + (size_t)rank * m * (2 + d), m, td, ti, ntop);
    (void)n_ranks;
    return SMG_OK;
}

enum smg_status smg_kmeans_local_stats(struct smg_kmeans *km, const struct smg_batch *b, int rank,
                                       int n_ranks, double *stats, struct smg_error *err)
{
    memset(stats, 0, smg_kmeans_stats_len(km, n_ranks) * sizeof(double));
    return smg_kmeans_local_add(km, b, rank, n_ranks, stats, err);
}

/* Candidate entries of all ranks, farthest first (ties: lower rank, then row). */
static size_t sort_candidates(const double *cand, size_t n_entries, size_t esz, size_t *order)
{
    size_t n = 0;
    for (size_t e = 0; e < n_entries; e++) {
        double de = cand[e * esz];
        size_t pos = n;
        if (!(de > 0.0))
            continue;
        while (pos > 0 && cand[order[pos - 1] * esz] < de) {
            order[pos] = order[pos - 1];
            pos--;
        }
        order[pos] = e;
        n++;
    }
    return n;
}

static bool same_point(const double *a, const double *b, size_t d)
{
    return memcmp(a, b, d * sizeof(double)) == 0;
}

enum smg_status smg_kmeans_apply_stats(struct smg_kmeans *km, const double *summed, int n_ranks,
                                       bool *done, struct smg_error *err)
{
    size_t K = km->K, d = km->d, m = step_candidates(km), esz = 2 + d, n_entries, n_cand, next = 0;
    double rows = summed[0], decay = 1.0, total = 0.0, thresh;
    const double *cand;
    double *counts = NULL, *sums = NULL;
    size_t *order = NULL, *seeds = NULL, n_seeds = 0;
    int rc = SMG_OK;

    *done = !(rows > 0.0);
    if (*done || (rc = to_dense(km, err)) != SMG_OK)
        return rc;
    n_entries = (size_t)n_ranks * m;
    cand = summed + 2 + K + K * d;
    counts = smg_malloc(K * sizeof(double));
    sums = smg_malloc(K * d * sizeof(double));
    order = smg_malloc((n_entries + 1) * sizeof(size_t));
    seeds = smg_malloc((K + 1) * sizeof(size_t));
    if (!counts || !sums || !order || !seeds) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means update: out of memory");
        goto out;
    }
    memcpy(counts, summed + 2, K * sizeof(double));
    memcpy(sums, summed + 2 + K, K * d * sizeof(double));
    km->rows_seen += (uint64_t)rows;
    km->sse += summed[1];
    if (km->cfg.half_life > 0)
        decay = exp2(-rows / (double)km->cfg.half_life);
    for (size_t j = 0; j < K; j++) {
        km->w[j] *= decay;
        total += km->w[j] + counts[j];
    }
    thresh = SMG_KMEANS_STARVE_RATIO * total / (double)K;
    n_cand = sort_candidates(cand, n_entries, esz, order);
    /* Reseed starving centers, in index order, from the farthest candidates. */
    for (size_t j = 0; j < K; j++) {
        double wn = km->w[j] + counts[j];
        const double *e = NULL;
        if (km->active[j] && wn > 0.0 && wn >= thresh)
            continue;
        while (next < n_cand && e == NULL) {
            const double *cnd = cand + order[next++] * esz;
            bool dup = false;
            for (size_t s = 0; s < n_seeds && !dup; s++)
                dup = same_point(cnd + 2, cand + seeds[s] * esz + 2, d);
            if (!dup)
                e = cnd;
        }
        if (e == NULL)
            break; /* no candidate left: retried next step */
        seeds[n_seeds++] = (size_t)(e - cand) / esz;
        if (e[1] >= 0.0) {
            size_t src = (size_t)e[1];
            counts[src] -= 1.0;
            for (size_t f = 0; f < d; f++)
                sums[src * d + f] -= e[2 + f];
        }
        memcpy(km->c + j * d, e + 2, d * sizeof(double));
        km->w[j] = 1.0;
        counts[j] = -1.0; /* marks "reseeded": no regular update below */
        km->active[j] = true;
        km->reseeds++;
    }
    for (size_t j = 0; j < K; j++) {
        double n = counts[j], wn;
        if (n <= 0.0)
            continue;
        wn = km->w[j] + n;
        /* center = (1 - p) center + p mean, p = n / (w + n), as w*c + sum over w + n. */
        for (size_t f = 0; f < d; f++)
            km->c[j * d + f] = (km->w[j] * km->c[j * d + f] + sums[j * d + f]) / wn;
        km->w[j] = wn;
    }
    for (size_t j = 0; j < K; j++)
        refresh_float(km, j);
out:
    smg_free(counts);
    smg_free(sums);
    smg_free(order);
    smg_free(seeds);
    return rc;
}

/*
 * A single-rank step on a CSR batch (or the end of the stream) with the
 * centers in kmeans_csr_lazy.h's form: the same rules as local_stats +
 * apply_stats, in O(nnz x K). The end of the stream returns the centers to
 * their dense form for the shrink.
 */
static int step_lazy(struct smg_kmeans *km, const struct smg_batch *b, bool *done,
                     struct smg_error *err)
{
    double sse = 0.0, decay = 1.0;
    int rc;

    *done = b == NULL || b->rows == 0;
    if (*done)
        return to_dense(km, err);
    if (b->cols != km->d)
        return smg_error_set(err, SMG_EINTERNAL, "k-means: batch has %zu columns, expected %zu",
                             b->cols, km->d);
    if ((rc = ensure_rows(km, b->rows, err)) != SMG_OK || (rc = to_lazy(km, err)) != SMG_OK)
        return rc;
    rc = smg_kmeans_lazy_nearest(km->lz, km->cfg.pool, km->shift, b, km->labels, km->dist, err);
    if (rc != SMG_OK)
        return rc;
    for (size_t i = 0; i < b->rows; i++)
        sse += km->dist[i];
    if (km->cfg.half_life > 0)
        decay = exp2(-(double)b->rows / (double)km->cfg.half_life);
    smg_kmeans_lazy_update(km->lz, b, km->labels, km->dist, step_candidates(km), decay, km->w,
                           km->active, &km->wk);
    km->rows_seen += b->rows;
    km->sse += sse;
    km->reseeds += km->wk.reseeds;
    return SMG_OK;
}

enum smg_status smg_kmeans_stats_reserve(double **stats, size_t *cap, size_t len,
                                         struct smg_error *err)
{
    double *s;

    if (len <= *cap)
        return SMG_OK;
    if ((s = smg_realloc(*stats, len * sizeof(double))) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for step statistics");
    *stats = s;
    *cap = len;
    return SMG_OK;
}

enum smg_status smg_kmeans_step(struct smg_kmeans *km, struct smg_comm *comm,
                                const struct smg_batch *b, bool *done, struct smg_error *err)
{
    int n_ranks = comm != NULL ? comm->size : 1, rank = comm != NULL ? comm->rank : 0;
    size_t len;
    int rc;

    if (n_ranks == 1 && ((b != NULL && b->rows > 0 && smg_batch_is_csr(b)) ||
                         (km->lz != NULL && (b == NULL || b->rows == 0))))
        return step_lazy(km, b, done, err);
    len = smg_kmeans_stats_len(km, n_ranks);
    if ((rc = smg_kmeans_stats_reserve(&km->stats, &km->cap_stats, len, err)) != SMG_OK)
        return rc;
    rc = smg_kmeans_local_stats(km, b, rank, n_ranks, km->stats, err);
    /* Join the collective even after a local failure would desync peers; the
     * runtime aborts all ranks on error, so returning early is safe here. */
    if (rc != SMG_OK)
        return rc;
    if (comm != NULL &&
        (rc = smg_comm_sum_f64_timed(comm, km->stats, len, &km->comm_s, err)) != SMG_OK)
        return rc;
    return smg_kmeans_apply_stats(km, km->stats, n_ranks, done, err);
}

const struct smg_kmeans_config *smg_kmeans_config(const struct smg_kmeans *km)
{
    return &km->cfg;
}

size_t smg_kmeans_num_centers(const struct smg_kmeans *km)
{
    return km->K;
}

const double *smg_kmeans_centers(const struct smg_kmeans *km)
{
    /* The dense form is rebuilt on demand (a cache of the state, hence the cast). */
    if (km->lz != NULL && to_dense((struct smg_kmeans *)km, NULL) != SMG_OK)
        return NULL;
    return km->c;
}

const double *smg_kmeans_weights(const struct smg_kmeans *km)
{
    return km->w;
}

const double *smg_kmeans_shift(const struct smg_kmeans *km)
{
    return km->shift;
}

uint64_t smg_kmeans_rows_seen(const struct smg_kmeans *km)
{
    return km->rows_seen;
}

double smg_kmeans_stream_sse(const struct smg_kmeans *km)
{
    return km->sse;
}

double smg_kmeans_comm_seconds(const struct smg_kmeans *km)
{
    return km->comm_s;
}

uint64_t smg_kmeans_reseeds(const struct smg_kmeans *km)
{
    return km->reseeds;
}

/* ---- checkpoint state ------------------------------------------------------ */

/* The K shifted centers, from c or from the single-rank CSR state one row at a time. */
static int append_centers(const struct smg_kmeans *km, struct smg_buf *out)
{
    double *row;
    int rc = SMG_OK;

    if (km->lz == NULL)
        return smg_buf_append(out, km->c, km->K * km->d * sizeof(double));
    if ((row = smg_malloc(km->d * sizeof(double))) == NULL)
        return SMG_ENOMEM;
    for (size_t j = 0; j < km->K && rc == SMG_OK; j++) {
        smg_kmeans_lazy_row(km->lz, j, km->shift, row);
        rc = smg_buf_append(out, row, km->d * sizeof(double));
    }
    smg_free(row);
    return rc;
}

/*
 * Layout (machine byte order): u64 K, d, rows_seen, reseeds; f64 sse; shift
 * (d), centers (K * d), weights (K) as f64; active (K bytes). The float copy
 * and norms are derived, so they are rebuilt rather than stored.
 */
enum smg_status smg_kmeans_state_save(const struct smg_kmeans *km, struct smg_buf *out,
                                      struct smg_error *err)
{
    const uint64_t head[4] = {km->K, km->d, km->rows_seen, km->reseeds};
    int rc = smg_buf_append(out, head, sizeof(head));

    if (rc == SMG_OK)
        rc = smg_buf_append(out, &km->sse, sizeof(km->sse));
    if (rc == SMG_OK)
        rc = smg_buf_append(out, km->shift, km->d * sizeof(double));
    if (rc == SMG_OK)
        rc = append_centers(km, out);
    if (rc == SMG_OK)
        rc = smg_buf_append(out, km->w, km->K * sizeof(double));
    if (rc == SMG_OK)
        rc = smg_buf_append(out, km->active, km->K * sizeof(bool));
    if (rc != SMG_OK)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory saving the state");
    return SMG_OK;
}

enum smg_status smg_kmeans_state_load(struct smg_kmeans *km, const void *data, size_t len,
                                      struct smg_error *err)
{
    struct smg_bytes r;
    uint64_t head[4];

    smg_bytes_init(&r, data, len);
    smg_bytes_get(&r, head, sizeof(head));
    if (r.bad || head[0] != km->K || head[1] != km->d)
        return smg_error_set(err, SMG_EFORMAT,
                             "k-means: the saved state holds %llu centers of %llu features; this "
                             "job has %zu of %zu",
                             (unsigned long long)head[0], (unsigned long long)head[1], km->K,
                             km->d);
    smg_kmeans_lazy_free(km->lz); /* the loaded centers are dense; a CSR step converts them */
    km->lz = NULL;
    if (km->c == NULL && (km->c = smg_calloc(km->K * km->d, sizeof(double))) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory loading the state");
    km->rows_seen = head[2];
    km->reseeds = head[3];
    km->sse = smg_bytes_f64(&r);
    smg_bytes_get_array(&r, km->shift, km->d, sizeof(double));
    smg_bytes_get_array(&r, km->c, km->K * km->d, sizeof(double));
    smg_bytes_get_array(&r, km->w, km->K, sizeof(double));
    for (size_t j = 0; j < km->K; j++) {
        unsigned char a = 0;
        smg_bytes_get(&r, &a, 1);
        km->active[j] = a != 0;
        refresh_float(km, j);
    }
    if (!smg_bytes_done(&r))
        return smg_error_set(err, SMG_EFORMAT,
                             "k-means: the saved state has %zu bytes, not what %zu centers of %zu "
                             "features need",
                             len, km->K, km->d);
    return SMG_OK;
}

/*
 * Streaming PCA, regular mode, and the parts both modes share: the block
 * stager, the rank combine and the result helpers (see pca.h for the maths).
 *
 * Rows are copied into a float stage of `slots` blocks of block_rows rows;
 * a full stage is handed to the mode's block function. Block boundaries
 * therefore sit at fixed positions of the row stream, whatever the caller's
 * batch sizes, which is what makes the result independent of
 * mini_batch_size bit for bit.
 *
 * Regular block update, in double, in two steps. On the worker pool (one
 * slot, i.e. one block, per worker): the block's mean b (exact to rounding),
 * Xc = X - 1 b^T into a double buffer and its own co-moment M2_b = Xc^T Xc
 * from zero by one dsyrk (upper triangle of a row-major matrix). Then on
 * the calling thread, block after block in stream order, Chan's merge of
 * (n_a, mean, M2) with (m, b, M2_b): delta = b - mean, M2 += M2_b +
 * delta delta^T n_a m / n, mean += delta m / n. Every block's statistics
 * depend on its rows alone and the merges run in one fixed order, so the
 * result is bit-identical whatever the number of workers (and slots).
 *
 * Why double dsyrk, measured with benchmarks/bench_pca_update.c (2 shared
 * cores, OPENBLAS_CORETYPE=Haswell): at d=316 the dsyrk is ~2.2 us/row, about
 * 45 GFLOP/s, the AVX2 FMA peak of one core; block mean, centring and merge
 * add ~0.1-0.3 us/row. ssyrk on the same double-centred blocks (cast to float,
 * beta 0 into a float scratch added to the double M2) halves the syrk but its
 * top-10 eigenvalues are off by 1.5e-6 (32-row blocks) to 5e-5 (16k-row
 * blocks) relative at d=316, where the spectrum spans 1e5: float32 products
 * cannot hold 1e-6 on the small eigenvalues, so it is not used (on the d=6
 * taxi case it gives 1.2e-7 with blocks up to 4096, 1.4e-6 at 16k, but there
 * decoding, not the update, is the bottleneck anyway). Block
 * sizes 256..4096 cost the same within noise. The runtime sets OpenBLAS to
 * one thread (runtime/threads.h): the cores are used by the pool, a block
 * per worker, which also keeps the model independent of the thread count.
 */
#include "algorithms/pca.h"
#include "algorithms/pca_sketch.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/base/bytes.h"

struct smg_pca {
    struct smg_pca_config cfg;
    size_t d;
    size_t block_rows;
    size_t slots; /* blocks staged before they are processed (regular: one per worker) */
    float *stage; /* slots * block_rows * d */
    size_t staged;
    uint64_t rows; /* rows added here (after combine: the total) */
    /* regular mode */
    double n;
    double *mean; /* d */
    double *m2;   /* d * d, upper triangle (row-major) valid */
    /* per slot: a block's mean, its centred rows and its co-moment from zero */
    double *bmean; /* slots * d */
    double *xc;    /* slots * block_rows * d */
    double *m2b;   /* slots * d * d */
    /* randomized mode */
    struct smg_pca_sketch *sk;
};

static size_t auto_block_rows(size_t width)
{
    size_t m = ((size_t)1 << 18) / (width ? width : 1);
    if (m < 64)
        m = 64;
    if (m > 4096)
        m = 4096;
    return m;
}

/*
 * Blocks staged and computed at once in regular mode: one per worker, as
 * long as their d x d co-moments fit in SMG_PCA_PARALLEL_BYTES. The model
 * does not depend on it: blocks sit at the same stream positions and merge
 * in the same order whatever the count.
 */
static size_t regular_slots(const struct smg_pool *pool, size_t d, size_t block_rows)
{
    size_t w = smg_pool_size(pool), dd, bd, per;
    if (w <= 1 || !smg_mul_size(d, d, &dd) || !smg_mul_size(block_rows, d, &bd) ||
        !smg_mul_size(dd + bd, sizeof(double), &per) || per == 0)
        return 1;
    if (w > SMG_PCA_PARALLEL_BYTES / per)
        w = SMG_PCA_PARALLEL_BYTES / per;
    return w >= 1 ? w : 1;
}

static int check_config(const struct smg_pca_config *cfg, struct smg_error *err)
{
    if (cfg->feature_dim == 0)
        return smg_error_set(err, SMG_ECONFIG, "pca: feature_dim must be at least 1");
    if (cfg->num_components == 0)
        return smg_error_set(err, SMG_ECONFIG, "pca: num_components must be at least 1");
    if (cfg->num_components > cfg->feature_dim)
        return smg_error_set(err, SMG_ECONFIG,
                             "pca: num_components (%zu) is greater than feature_dim (%zu); "
                             "at most feature_dim components exist",
                             cfg->num_components, cfg->feature_dim);
    if (cfg->mode != SMG_PCA_REGULAR && cfg->mode != SMG_PCA_RANDOMIZED)
        return smg_error_set(err, SMG_ECONFIG, "pca: unknown algorithm_mode %d", (int)cfg->mode);
    if (cfg->mode == SMG_PCA_RANDOMIZED && cfg->extra_components < -1)
        return smg_error_set(err, SMG_ECONFIG,
                             "pca: extra_components is %lld; it must be an integer greater "
                             "than or equal to 0, or -1",
                             cfg->extra_components);
    return SMG_OK;
}

static double *alloc_doubles(size_t a, size_t b)
{
    size_t n, bytes;
    if (!smg_mul_size(a, b, &n) || !smg_mul_size(n, sizeof(double), &bytes))
        return NULL;
    return smg_calloc(1, bytes ? bytes : 1);
}

enum smg_status smg_pca_new(const struct smg_pca_config *cfg, struct smg_pca **out,
                            struct smg_error *err)
{
    struct smg_pca *p = NULL;
    size_t stage_n, stage_bytes;
    int rc = check_config(cfg, err);

    *out = NULL;
    if (rc != SMG_OK)
        return rc;
    p = smg_calloc(1, sizeof(*p));
    if (p == NULL)
        return smg_error_set(err, SMG_ENOMEM, "pca: out of memory");
    p->cfg = *cfg;
    p->d = cfg->feature_dim;
    if (cfg->mode == SMG_PCA_RANDOMIZED) {
        p->block_rows = cfg->block_rows;
        if (p->block_rows == 0)
            p->block_rows = auto_block_rows(p->d + cfg->num_components + 10);
        rc = smg_pca_sketch_new(cfg, p->block_rows, &p->sk, err);
        if (rc != SMG_OK)
            goto out;
    } else {
        p->block_rows = cfg->block_rows ? cfg->block_rows : auto_block_rows(p->d);
        p->slots = regular_slots(cfg->pool, p->d, p->block_rows);
        p->mean = alloc_doubles(p->d, 1);
        p->bmean = alloc_doubles(p->slots, p->d);
        p->m2 = alloc_doubles(p->d, p->d);
        p->xc = alloc_doubles(p->slots * p->block_rows, p->d);
        p->m2b = alloc_doubles(p->slots * p->d, p->d);
        if (!p->mean || !p->bmean || !p->m2 || !p->xc || !p->m2b) {
            rc = smg_error_set(err, SMG_ENOMEM,
                               "pca: out of memory for the %zu x %zu covariance matrix of "
                               "regular mode (algorithm_mode=randomized needs O(d) memory)",
                               p->d, p->d);
            goto out;
        }
    }
    if (p->slots == 0)
        p->slots = 1;
    if (!smg_mul_size(p->slots * p->block_rows, p->d, &stage_n) ||
        !smg_mul_size(stage_n, sizeof(float), &stage_bytes) ||
        (p->stage = smg_malloc(stage_bytes)) == NULL) {
        rc =
            smg_error_set(err, SMG_ENOMEM, "pca: out of memory for a %zu-row block", p->block_rows);
        goto out;
    }
    *out = p;
    p = NULL;
out:
    smg_pca_free(p);
    return rc;
}

void smg_pca_free(struct smg_pca *p)
{
    if (p == NULL)
        return;
    smg_free(p->stage);
    smg_free(p->mean);
    smg_free(p->m2);
    smg_free(p->bmean);
    smg_free(p->xc);
    smg_free(p->m2b);
    smg_pca_sketch_free(p->sk);
    smg_free(p);
}

/* A block's mean (exact to rounding) and co-moment from zero, into a slot. */
static void block_stats(struct smg_pca *p, size_t slot, const float *x, size_t m)
{
    const size_t d = p->d;
    double *b = p->bmean + slot * d, *xc = p->xc + slot * p->block_rows * d;

    for (size_t j = 0; j < d; j++)
        b[j] = 0.0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < d; j++)
            b[j] += (double)x[i * d + j];
    for (size_t j = 0; j < d; j++)
        b[j] /= (double)m;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < d; j++)
            xc[i * d + j] = (double)x[i * d + j] - b[j];
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)m, 1.0, xc, (int)d, 0.0,
                p->m2b + slot * d * d, (int)d);
}

/* Chan merge of a slot's block of m rows into (n, mean, m2). */
static void merge_block(struct smg_pca *p, size_t slot, size_t m)
{
    const size_t d = p->d;
    double *b = p->bmean + slot * d;
    const double *m2b = p->m2b + slot * d * d;
    double n_a = p->n, n = p->n + (double)m, f;

    /* b becomes delta = b - mean; the merge term uses it twice. */
    for (size_t j = 0; j < d; j++)
        b[j] -= p->mean[j];
    f = n_a * (double)m / n;
    for (size_t i = 0; i < d; i++)
        for (size_t j = i; j < d; j++)
            p->m2[i * d + j] += m2b[i * d + j];
    if (f > 0.0)
        for (size_t i = 0; i < d; i++)
            for (size_t j = i; j < d; j++)
                p->m2[i * d + j] += f * b[i] * b[j];
    for (size_t j = 0; j < d; j++)
        p->mean[j] += b[j] * ((double)m / n);
    p->n = n;
}

/* Block `part` of the stage (the last may be short): one worker's share. */
static void stats_part(void *ctx, size_t part, size_t begin, size_t end)
{
    struct smg_pca *p = ctx;
    size_t m = p->block_rows, r0 = part * m, rows = p->staged - r0 < m ? p->staged - r0 : m;
    (void)begin, (void)end;
    block_stats(p, part, p->stage + r0 * p->d, rows);
}

/*
 * Process every staged row: regular mode computes the blocks' statistics on
 * the pool, one block per worker, then merges them in stream order on this
 * thread; randomized mode updates its sketch with the (single) block.
 */
static void flush(struct smg_pca *p)
{
    size_t m = p->block_rows, blocks = (p->staged + m - 1) / m;

    if (p->staged == 0)
        return;
    if (p->sk != NULL) {
        smg_pca_sketch_block(p->sk, p->stage, p->staged, p->rows - p->staged);
    } else {
        smg_pool_run(p->cfg.pool, blocks, blocks, stats_part, p);
        for (size_t i = 0; i < blocks; i++)
            merge_block(p, i, p->staged - i * m < m ? p->staged - i * m : m);
    }
    p->staged = 0;
}

enum smg_status smg_pca_update(struct smg_pca *p, const struct smg_batch *b, struct smg_error *err)
{
    const size_t d = p->d, cap = p->slots * p->block_rows;
    const float *x = b->x;
    size_t left = b->rows;

    if (b->cols != d)
        return smg_error_set(err, SMG_EFORMAT,
                             "pca: a batch has %zu features per row, expected %zu (feature_dim)",
                             b->cols, d);
    while (left > 0) {
        size_t take = cap - p->staged < left ? cap - p->staged : left;
        memcpy(p->stage + p->staged * d, x, take * d * sizeof(float));
        p->staged += take;
        p->rows += take;
        x += take * d;
        left -= take;
        if (p->staged == cap)
            flush(p);
    }
    return SMG_OK;
}

uint64_t smg_pca_rows(const struct smg_pca *p)
{
    return p->rows;
}

size_t smg_pca_sketch_rows(const struct smg_pca *p)
{
    return p->sk ? smg_pca_sketch_l(p->sk) : 0;
}

/*
 * Regular-mode combine: table holds n_r and mean_r for each of `parts` ranks
 * (1 + d doubles each), m2sum the sum of their M2_r. Sets p's n, mean, m2.
 */
static void combine_table(struct smg_pca *p, const double *table, size_t parts, const double *m2sum)
{
    const size_t d = p->d;
    double n = 0.0;

    for (size_t r = 0; r < parts; r++)
        n += table[r * (d + 1)];
    for (size_t j = 0; j < d; j++) {
        double acc = 0.0;
        for (size_t r = 0; r < parts; r++)
            acc += table[r * (d + 1)] * table[r * (d + 1) + 1 + j];
        p->mean[j] = n > 0.0 ? acc / n : 0.0;
    }
    memcpy(p->m2, m2sum, d * d * sizeof(double));
    for (size_t r = 0; r < parts; r++) {
        double n_r = table[r * (d + 1)];
        const double *mu_r = table + r * (d + 1) + 1;
        if (n_r == 0.0)
            continue;
        for (size_t i = 0; i < d; i++)
            for (size_t j = i; j < d; j++)
                p->m2[i * d + j] += n_r * (mu_r[i] - p->mean[i]) * (mu_r[j] - p->mean[j]);
    }
    p->n = n;
    p->rows = (uint64_t)n;
}

enum smg_status smg_pca_allreduce(struct smg_pca *p, struct smg_comm *c, struct smg_error *err)
{
    const size_t d = p->d;
    size_t ranks = c->size > 0 ? (size_t)c->size : 1, len;
    double *buf = NULL;
    int rc;

    flush(p);
    if (p->sk != NULL) {
        rc = smg_comm_sum_f64(c, smg_pca_sketch_state(p->sk), smg_pca_sketch_state_len(p->sk), err);
        if (rc == SMG_OK) {
            const double *st = smg_pca_sketch_state(p->sk);
            p->rows = (uint64_t)st[smg_pca_sketch_state_len(p->sk) - 1];
        }
        return rc;
    }
    len = ranks * (d + 1) + d * d;
    buf = alloc_doubles(len, 1);
    if (buf == NULL)
        return smg_error_set(err, SMG_ENOMEM, "pca: out of memory for the allreduce buffer");
    {
        double *slot = buf + (size_t)c->rank * (d + 1);
        slot[0] = p->n;
        memcpy(slot + 1, p->mean, d * sizeof(double));
        memcpy(buf + ranks * (d + 1), p->m2, d * d * sizeof(double));
    }
    rc = smg_comm_sum_f64(c, buf, len, err);
    if (rc == SMG_OK)
        combine_table(p, buf, ranks, buf + ranks * (d + 1));
    smg_free(buf);
    return rc;
}

enum smg_status smg_pca_combine(struct smg_pca *const *parts, size_t n_parts, struct smg_error *err)
{
    struct smg_pca *p = parts[0];
    const size_t d = p->d;
    double *table = NULL, *m2sum = NULL;
    int rc = SMG_OK;

    for (size_t r = 0; r < n_parts; r++) {
        if (parts[r]->d != d || (parts[r]->sk == NULL) != (p->sk == NULL))
            return smg_error_set(err, SMG_EINTERNAL, "pca: combining unlike accumulators");
        flush(parts[r]);
    }
    if (p->sk != NULL) {
        double *acc = smg_pca_sketch_state(p->sk);
        size_t len = smg_pca_sketch_state_len(p->sk);
        for (size_t r = 1; r < n_parts; r++) {
            const double *st = smg_pca_sketch_state(parts[r]->sk);
            for (size_t i = 0; i < len; i++)
                acc[i] += st[i];
        }
        p->rows = (uint64_t)acc[len - 1];
        return SMG_OK;
    }
    table = alloc_doubles(n_parts, d + 1);
    m2sum = alloc_doubles(d, d);
    if (table == NULL || m2sum == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "pca: out of memory combining accumulators");
        goto out;
    }
    for (size_t r = 0; r < n_parts; r++) {
        table[r * (d + 1)] = parts[r]->n;
        memcpy(table + r * (d + 1) + 1, parts[r]->mean, d * sizeof(double));
        for (size_t i = 0; i < d * d; i++)
            m2sum[i] += parts[r]->m2[i];
    }
    combine_table(p, table, n_parts, m2sum);
out:
    smg_free(table);
    smg_free(m2sum);
    return rc;
}

void smg_pca_fix_signs(double *v, size_t d, size_t k)
{
    for (size_t j = 0; j < k; j++) {
        size_t best = 0;
        for (size_t i = 1; i < d; i++)
            if (fabs(v[i * k + j]) > fabs(v[best * k + j]))
                best = i;
        if (v[best * k + j] < 0.0)
            for (size_t i = 0; i < d; i++)
                v[i * k + j] = -v[i * k + j];
    }
}

void smg_pca_result_free(struct smg_pca_result *res)
{
    if (res == NULL)
        return;
    smg_free(res->s);
    smg_free(res->v);
    smg_free(res->mean);
    memset(res, 0, sizeof(*res));
}

/* Eigen-solve of the d x d symmetric a (upper valid; destroyed) for the top k. */
static int top_eigenpairs(double *a, size_t d, size_t k, double *w, double *v,
                          struct smg_error *err)
{
    lapack_int info, found = 0;

    if (4 * k < d) {
        double *z = alloc_doubles(d, k), *wall = alloc_doubles(d, 1);
        /*
         * dsyevr's W must hold N values even when fewer are asked for, and
         * ISUPPZ is given 2 * N rather than the documented 2 * M: with k
         * values in W, fuzz_algorithms saw LAPACK (not instrumented) write
         * past it (d = 8, k = 1, identical rows), ending in a bad free.
         */
        lapack_int *isuppz = smg_calloc(2 * d, sizeof(lapack_int));
        if (z == NULL || isuppz == NULL || wall == NULL) {
            smg_free(z);
            smg_free(wall);
            smg_free(isuppz);
            return smg_error_set(err, SMG_ENOMEM, "pca: out of memory in the eigen-solve");
        }
        info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', (lapack_int)d, a, (lapack_int)d, 0.0,
                              0.0, (lapack_int)(d - k + 1), (lapack_int)d, 0.0, &found, wall, z,
                              (lapack_int)k, isuppz);
        if (info == 0 && (size_t)found == k) {
            memcpy(v, z, d * k * sizeof(double));
            memcpy(w, wall, k * sizeof(double));
        }
        smg_free(z);
        smg_free(wall);
        smg_free(isuppz);
        if (info != 0 || (size_t)found != k)
            return smg_error_set(err, SMG_EINTERNAL,
                                 "pca: LAPACKE_dsyevr failed (info %d, %d of %zu eigenpairs)",
                                 (int)info, (int)found, k);
        return SMG_OK;
    }
    {
        double *wall = alloc_doubles(d, 1);
        if (wall == NULL)
            return smg_error_set(err, SMG_ENOMEM, "pca: out of memory in the eigen-solve");
        info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', (lapack_int)d, a, (lapack_int)d, wall);
        if (info == 0) {
            for (size_t j = 0; j < k; j++) {
                w[j] = wall[d - k + j];
                for (size_t i = 0; i < d; i++)
                    v[i * k + j] = a[i * d + (d - k + j)];
            }
        }
        smg_free(wall);
        if (info != 0)
            return smg_error_set(err, SMG_EINTERNAL, "pca: LAPACKE_dsyevd failed (info %d)",
                                 (int)info);
    }
    return SMG_OK;
}

enum smg_status smg_pca_solve(struct smg_pca *p, struct smg_pca_result *res, struct smg_error *err)
{
    const size_t d = p->d, k = p->cfg.num_components;
    double *a = NULL, floor_;
    int rc;

    memset(res, 0, sizeof(*res));
    flush(p);
    if (p->rows == 0)
        return smg_error_set(err, SMG_EFORMAT, "pca: no training rows to compute components from");
    if (p->sk != NULL)
        return smg_pca_sketch_solve(p->sk, res, err);
    res->feature_dim = d;
    res->num_components = k;
    res->s = alloc_doubles(k, 1);
    res->v = alloc_doubles(d, k);
    a = alloc_doubles(d, d);
    if (p->cfg.subtract_mean)
        res->mean = alloc_doubles(d, 1);
    if (!res->s || !res->v || !a || (p->cfg.subtract_mean && !res->mean)) {
        rc = smg_error_set(err, SMG_ENOMEM, "pca: out of memory for the result");
        goto out;
    }
    memcpy(a, p->m2, d * d * sizeof(double));
    if (!p->cfg.subtract_mean)
        for (size_t i = 0; i < d; i++)
            for (size_t j = i; j < d; j++)
                a[i * d + j] += p->n * p->mean[i] * p->mean[j];
    else
        memcpy(res->mean, p->mean, d * sizeof(double));
    rc = top_eigenpairs(a, d, k, res->s, res->v, err);
    if (rc != SMG_OK)
        goto out;
    /* Ascending: the largest is last. Below the floor is rounding noise. */
    floor_ = res->s[k - 1] * (double)d * 64.0 * DBL_EPSILON;
    for (size_t j = 0; j < k; j++)
        res->s[j] = res->s[j] > floor_ && res->s[j] > 0.0 ? sqrt(res->s[j]) : 0.0;
    smg_pca_fix_signs(res->v, d, k);
out:
    smg_free(a);
    if (rc != SMG_OK)
        smg_pca_result_free(res);
    return rc;
}

enum smg_status smg_pca_reconstruction_sse(const struct smg_pca_result *res,
                                           const struct smg_batch *b, double *sse, double *count,
                                           struct smg_error *err)
{
    const size_t d = res->feature_dim, k = res->num_components;
    double *proj;

    if (b->cols != d)
        return smg_error_set(err, SMG_EFORMAT,
                             "pca: a batch has %zu features per row, expected %zu (feature_dim)",
                             b->cols, d);
    proj = alloc_doubles(k, 1);
    if (proj == NULL)
        return smg_error_set(err, SMG_ENOMEM, "pca: out of memory");
    for (size_t i = 0; i < b->rows; i++) {
        const float *x = b->x + i * d;
        for (size_t j = 0; j < k; j++)
            proj[j] = 0.0;
        for (size_t f = 0; f < d; f++) {
            double xf = (double)x[f] - (res->mean ? res->mean[f] : 0.0);
            for (size_t j = 0; j < k; j++)
                proj[j] += xf * res->v[f * k + j];
        }
        for (size_t f = 0; f < d; f++) {
            double e = (double)x[f] - (res->mean ? res->mean[f] : 0.0);
            for (size_t j = 0; j < k; j++)
                e -= res->v[f * k + j] * proj[j];
            *sse += e * e;
        }
    }
    *count += (double)b->rows * (double)d;
    smg_free(proj);
    return SMG_OK;
}

/* ---- checkpoint state ------------------------------------------------------ */

/*
 * Layout (machine byte order): u64 d, block_rows, mode, rows, staged; the
 * staged rows (staged * d float32); then the mode's sums: regular f64 n,
 * mean (d), M2 (d * d); randomized u64 len and the sketch's state vector
 * (sketch_state_save/_load: the one place that knows the sketch).
 */
static int sketch_state_save(const struct smg_pca *p, struct smg_buf *out)
{
    uint64_t len = smg_pca_sketch_state_len(p->sk);

    if (smg_buf_append(out, &len, sizeof(len)) != SMG_OK)
        return SMG_ENOMEM;
    return smg_buf_append(out, smg_pca_sketch_state(p->sk), (size_t)len * sizeof(double));
}

static void sketch_state_load(struct smg_pca *p, struct smg_bytes *r)
{
    if (smg_bytes_u64(r) != smg_pca_sketch_state_len(p->sk)) {
        r->bad = true;
        return;
    }
    smg_bytes_get_array(r, smg_pca_sketch_state(p->sk), smg_pca_sketch_state_len(p->sk),
                        sizeof(double));
}

enum smg_status smg_pca_state_save(const struct smg_pca *p, struct smg_buf *out,
                                   struct smg_error *err)
{
    const uint64_t head[5] = {p->d, p->block_rows, (uint64_t)p->cfg.mode, p->rows, p->staged};
    int rc = smg_buf_append(out, head, sizeof(head));

    if (rc == SMG_OK)
        rc = smg_buf_append(out, p->stage, p->staged * p->d * sizeof(float));
    if (rc == SMG_OK && p->sk != NULL)
        rc = sketch_state_save(p, out);
    else if (rc == SMG_OK) {
        rc = smg_buf_append(out, &p->n, sizeof(p->n));
        if (rc == SMG_OK)
            rc = smg_buf_append(out, p->mean, p->d * sizeof(double));
        if (rc == SMG_OK)
            rc = smg_buf_append(out, p->m2, p->d * p->d * sizeof(double));
    }
    if (rc != SMG_OK)
        return smg_error_set(err, SMG_ENOMEM, "pca: out of memory saving the state");
    return SMG_OK;
}

/*
 * The staged rows are fed back through smg_pca_update after the sums are
 * restored: a checkpoint written with more workers (more staging slots) than
 * this process has then resumes here too, with the same blocks, since staging
 * always starts at a block boundary.
 */
enum smg_status smg_pca_state_load(struct smg_pca *p, const void *data, size_t len,
                                   struct smg_error *err)
{
    struct smg_bytes r;
    uint64_t head[5];
    size_t stage_bytes;
    const void *staged;
    struct smg_batch b;
    float *copy;
    enum smg_status rc;

    smg_bytes_init(&r, data, len);
    smg_bytes_get(&r, head, sizeof(head));
    if (r.bad || head[0] != p->d || head[1] != p->block_rows || head[2] != (uint64_t)p->cfg.mode ||
        head[4] > head[3] || !smg_mul_size((size_t)head[4], p->d * sizeof(float), &stage_bytes) ||
        stage_bytes > len - r.off)
        return smg_error_set(err, SMG_EFORMAT,
                             "pca: the saved state is for another configuration (d %llu, block "
                             "%llu, mode %llu; this job: %zu, %zu, %d)",
                             (unsigned long long)head[0], (unsigned long long)head[1],
                             (unsigned long long)head[2], p->d, p->block_rows, (int)p->cfg.mode);
    p->rows = head[3] - head[4];
    p->staged = 0;
    staged = r.p + r.off;
    r.off += stage_bytes;
    if (p->sk != NULL)
        sketch_state_load(p, &r);
    else {
        p->n = smg_bytes_f64(&r);
        smg_bytes_get_array(&r, p->mean, p->d, sizeof(double));
        smg_bytes_get_array(&r, p->m2, p->d * p->d, sizeof(double));
    }
    if (!smg_bytes_done(&r))
        return smg_error_set(err, SMG_EFORMAT,
                             "pca: the saved state has %zu bytes, not what this configuration "
                             "needs",
                             len);
    b = (struct smg_batch){0};
    b.rows = (size_t)head[4];
    b.cols = p->d;
    if (b.rows == 0)
        return SMG_OK;
    copy = smg_malloc(stage_bytes);
    if (copy == NULL)
        return smg_error_set(err, SMG_ENOMEM, "pca: out of memory restoring %zu staged rows",
                             b.rows);
    memcpy(copy, staged, stage_bytes);
    b.x = copy;
    rc = smg_pca_update(p, &b, err);
    smg_free(copy);
    return rc;
}

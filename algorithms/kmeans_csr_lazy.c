/*
 * Scaled, transposed streaming centers for single-rank CSR k-means
 * (contract and invariants: kmeans_csr_lazy.h).
 */
#include "algorithms/kmeans_csr_lazy.h"

#include <math.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "algorithms/csr_ops.h"
#include "algorithms/kmeans.h"
#include "io/base/alloc.h"

/* Below this scale a center is folded back into V (a_j = 1) before it shrinks further. */
#define LAZY_MIN_SCALE 0x1p-300

/* Below this many stored entries x centers a batch is not worth sharing between workers. */
#define MIN_PARALLEL_WORK ((size_t)1 << 18)

struct smg_kmeans_lazy {
    size_t K, d;
    double *v;   /* d x K: V[f * K + j] */
    double *a;   /* K: scale of center j */
    double *nv;  /* K: |V[:, j]|^2 */
    double *inc; /* K: what one unit of a row adds to V[:, j] in the current update */
    double *un;  /* K: |c_j|^2, +INF for an inactive center */
    uint64_t steps;
    bool any_active;
    void (*axpy)(double *acc, const double *u, double v, size_t k);
};

/* acc += v * u over k doubles: one stored value against every center. */
static void axpy_portable(double *acc, const double *u, double v, size_t k)
{
    for (size_t j = 0; j < k; j++)
        acc[j] += v * u[j];
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The same loop compiled for AVX2+FMA (4 centers per instruction). */
__attribute__((target("avx2,fma"))) static void axpy_avx2(double *acc, const double *u, double v,
                                                          size_t k)
{
    size_t j = 0;
    __m256d vv = _mm256_set1_pd(v);
    for (; j + 4 <= k; j += 4)
        _mm256_storeu_pd(acc + j,
                         _mm256_fmadd_pd(vv, _mm256_loadu_pd(u + j), _mm256_loadu_pd(acc + j)));
    for (; j < k; j++)
        acc[j] += v * u[j];
}
#endif

/* |V[:, j]|^2, exactly in feature order. */
static double column_norm(const struct smg_kmeans_lazy *lz, size_t j)
{
    double s = 0.0;
    for (size_t f = 0; f < lz->d; f++)
        s += lz->v[f * lz->K + j] * lz->v[f * lz->K + j];
    return s;
}

enum smg_status smg_kmeans_lazy_new(size_t K, size_t d, const double *c, const bool *active,
                                    const double *shift, struct smg_kmeans_lazy **out,
                                    struct smg_error *err)
{
    struct smg_kmeans_lazy *lz = smg_calloc(1, sizeof(*lz));
    size_t n;

    *out = NULL;
    if (lz == NULL || !smg_mul_size(K, d, &n) || (lz->v = smg_malloc(n * sizeof(double))) == NULL ||
        (lz->a = smg_malloc(K * sizeof(double))) == NULL ||
        (lz->nv = smg_calloc(K, sizeof(double))) == NULL ||
        (lz->inc = smg_calloc(K, sizeof(double))) == NULL ||
        (lz->un = smg_malloc(K * sizeof(double))) == NULL) {
        smg_kmeans_lazy_free(lz);
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for %zu x %zu centers", K, d);
    }
    lz->K = K;
    lz->d = d;
    lz->axpy = axpy_portable;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        lz->axpy = axpy_avx2;
#endif
    /* Transpose 16 centers at a time: 16 sequential reads, one contiguous write per f. */
    for (size_t j0 = 0; j0 < K; j0 += 16) {
        size_t nj = K - j0 < 16 ? K - j0 : 16;
        for (size_t f = 0; f < d; f++)
            for (size_t j = 0; j < nj; j++)
                lz->v[f * K + j0 + j] = c[(j0 + j) * d + f] + shift[f];
    }
    for (size_t j = 0; j < K; j++)
        lz->a[j] = 1.0;
    lz->steps = SMG_KMEANS_LAZY_NORM_STEPS - 1; /* the first end_step recomputes exactly */
    smg_kmeans_lazy_end_step(lz, active);
    *out = lz;
    return SMG_OK;
}

void smg_kmeans_lazy_free(struct smg_kmeans_lazy *lz)
{
    if (lz == NULL)
        return;
    smg_free(lz->v);
    smg_free(lz->a);
    smg_free(lz->nv);
    smg_free(lz->inc);
    smg_free(lz->un);
    smg_free(lz);
}

void smg_kmeans_lazy_row(const struct smg_kmeans_lazy *lz, size_t j, const double *shift,
                         double *out)
{
    for (size_t f = 0; f < lz->d; f++)
        out[f] = lz->a[j] * lz->v[f * lz->K + j] - shift[f];
}

/*
 * The assignment walks V once per part, not once per stored value: a part's
 * stored values are sorted by column (a counting sort), then each column's
 * row of V updates acc[i] (K doubles) of every row i storing it. Each row's
 * x . V[:, j] is thus summed in increasing column order, whatever the split
 * into parts, so the result does not depend on the number of workers.
 */
struct nearest_job {
    const struct smg_kmeans_lazy *lz;
    const double *shift;
    double snorm;
    const struct smg_batch *b;
    uint32_t *labels;
    double *dist;
    double *acc;     /* rows x K */
    uint32_t *erow;  /* nnz: row of each sorted value */
    float *eval;     /* nnz: the value */
    uint64_t *count; /* parts x (d + 1) */
};

/* acc[i] = x_i . V for rows [begin, end) through the column-sorted values. */
static void part_products(const struct nearest_job *jb, size_t part, size_t begin, size_t end)
{
    const struct smg_kmeans_lazy *lz = jb->lz;
    const struct smg_batch *b = jb->b;
    const size_t K = lz->K, d = lz->d;
    /* Sorted values of this part start at base (the batch's first value is 0). */
    uint64_t *cnt = jb->count + part * (d + 1), base = b->indptr[begin] - b->indptr[0], p0;

    memset(cnt, 0, (d + 1) * sizeof(uint64_t));
    for (uint64_t p = b->indptr[begin]; p < b->indptr[end]; p++)
        cnt[b->indices[p] + 1]++;
    for (size_t f = 0; f < d; f++)
        cnt[f + 1] += cnt[f];
    for (size_t i = begin; i < end; i++)
        for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++) {
            uint64_t at = base + cnt[b->indices[p]]++;
            jb->erow[at] = (uint32_t)i;
            jb->eval[at] = b->values[p];
        }
    memset(jb->acc + begin * K, 0, (end - begin) * K * sizeof(double));
    p0 = base; /* cnt[f] is now where column f + 1 starts */
    for (size_t f = 0; f < d; f++) {
        const double *vf = lz->v + f * K;
        for (; p0 < base + cnt[f]; p0++)
            lz->axpy(jb->acc + (size_t)jb->erow[p0] * K, vf, (double)jb->eval[p0], K);
    }
}

static void nearest_part(void *ctx, size_t part, size_t begin, size_t end)
{
    const struct nearest_job *jb = ctx;
    const struct smg_kmeans_lazy *lz = jb->lz;

    if (lz->any_active)
        part_products(jb, part, begin, end);
    for (size_t i = begin; i < end; i++) {
        const double *acc = jb->acc + i * lz->K;
        double score = INFINITY, xn = smg_csr_row_norm2(jb->b, i), v;
        size_t best = lz->K;
        for (size_t j = 0; lz->any_active && j < lz->K; j++) {
            double sj = lz->un[j] - 2.0 * lz->a[j] * acc[j];
            if (sj < score) { /* lowest index on ties */
                score = sj;
                best = j;
            }
        }
        if (best == lz->K) { /* no active center: the distance to the shift */
            v = xn - 2.0 * smg_csr_row_dot_d(jb->b, i, jb->shift) + jb->snorm;
            jb->labels[i] = SMG_KMEANS_NO_LABEL;
        } else {
            v = xn + score;
            jb->labels[i] = (uint32_t)best;
        }
        jb->dist[i] = v > 0.0 ? v : 0.0;
    }
}

enum smg_status smg_kmeans_lazy_nearest(struct smg_kmeans_lazy *lz, struct smg_pool *pool,
                                        const double *shift, const struct smg_batch *b,
                                        uint32_t *labels, double *dist, struct smg_error *err)
{
    struct nearest_job jb = {lz, shift, 0.0, b, labels, dist, NULL, NULL, NULL, NULL};
    size_t parts = smg_pool_size(pool), nnz = smg_batch_nnz(b), work;
    enum smg_status rc = SMG_OK;

    for (size_t f = 0; f < lz->d; f++)
        jb.snorm += shift[f] * shift[f];
    if (parts < 1 || !smg_mul_size(nnz, lz->K, &work) || work < MIN_PARALLEL_WORK)
        parts = 1;
    if (parts > b->rows)
        parts = b->rows > 0 ? b->rows : 1;
    jb.acc = smg_malloc(b->rows * lz->K * sizeof(double) + 1);
    jb.erow = smg_malloc(nnz * sizeof(uint32_t) + 1);
    jb.eval = smg_malloc(nnz * sizeof(float) + 1);
    jb.count = smg_malloc(parts * (lz->d + 1) * sizeof(uint64_t));
    if (!jb.acc || !jb.erow || !jb.eval || !jb.count)
        rc = smg_error_set(err, SMG_ENOMEM, "k-means: out of memory assigning %zu sparse rows",
                           b->rows);
    else if (parts <= 1)
        nearest_part(&jb, 0, 0, b->rows);
    else
        smg_pool_run(pool, b->rows, parts, nearest_part, &jb);
    smg_free(jb.acc);
    smg_free(jb.erow);
    smg_free(jb.eval);
    smg_free(jb.count);
    return rc;
}

/* V[:, j] = 0 with a_j = 1. */
static void clear_column(struct smg_kmeans_lazy *lz, size_t j)
{
    for (size_t f = 0; f < lz->d; f++)
        lz->v[f * lz->K + j] = 0.0;
    lz->a[j] = 1.0;
    lz->nv[j] = 0.0;
}

void smg_kmeans_lazy_set_rows(struct smg_kmeans_lazy *lz, const size_t *js, const size_t *rows,
                              size_t n, const struct smg_batch *b)
{
    /* One pass over V clears every column: a column alone costs d scattered cache lines. */
    for (size_t f = 0; n > 0 && f < lz->d; f++)
        for (size_t t = 0; t < n; t++)
            lz->v[f * lz->K + js[t]] = 0.0;
    for (size_t t = 0; t < n; t++) {
        for (uint64_t p = b->indptr[rows[t]]; p < b->indptr[rows[t] + 1]; p++)
            lz->v[(size_t)b->indices[p] * lz->K + js[t]] = (double)b->values[p];
        lz->a[js[t]] = 1.0;
        lz->nv[js[t]] = smg_csr_row_norm2(b, rows[t]);
    }
}

void smg_kmeans_lazy_begin(struct smg_kmeans_lazy *lz, size_t j, double w, double n)
{
    double wn = w + n;

    if (!(w > 0.0)) { /* the old center has no weight left: c_j = the mean of the new rows */
        clear_column(lz, j);
        lz->a[j] = 1.0 / wn;
        lz->inc[j] = 1.0;
        return;
    }
    if (lz->a[j] < LAZY_MIN_SCALE) { /* fold the scale into V before it underflows */
        for (size_t f = 0; f < lz->d; f++)
            lz->v[f * lz->K + j] *= lz->a[j];
        lz->a[j] = 1.0;
        lz->nv[j] = column_norm(lz, j);
    }
    /* c = a V; (w c + sum x) / wn = (a w / wn) (V + sum x / (a w)). */
    lz->inc[j] = 1.0 / (lz->a[j] * w);
    lz->a[j] = lz->a[j] * w / wn;
}

void smg_kmeans_lazy_add_row(struct smg_kmeans_lazy *lz, size_t j, const struct smg_batch *b,
                             size_t i)
{
    double inc = lz->inc[j], nv = lz->nv[j];

    for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++) {
        double *e = lz->v + (size_t)b->indices[p] * lz->K + j, old = *e;
        *e = old + (double)b->values[p] * inc;
        nv += *e * *e - old * old;
    }
    lz->nv[j] = nv;
}

void smg_kmeans_lazy_end_step(struct smg_kmeans_lazy *lz, const bool *active)
{
    bool exact = ++lz->steps % SMG_KMEANS_LAZY_NORM_STEPS == 0;

    if (exact) { /* all columns in one pass over V, row by row */
        memset(lz->nv, 0, lz->K * sizeof(double));
        for (size_t f = 0; f < lz->d; f++)
            for (size_t j = 0; j < lz->K; j++)
                lz->nv[j] += lz->v[f * lz->K + j] * lz->v[f * lz->K + j];
    }
    lz->any_active = false;
    for (size_t j = 0; j < lz->K; j++) {
        double nv = lz->nv[j] > 0.0 ? lz->nv[j] : 0.0;
        lz->un[j] = active[j] ? lz->a[j] * lz->a[j] * nv : INFINITY;
        lz->any_active = lz->any_active || active[j];
    }
}

bool smg_csr_rows_equal(const struct smg_batch *b, size_t i, size_t j, float *scratch)
{
    size_t nz = 0, matched = 0;
    bool same = true;

    for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++) {
        scratch[b->indices[p]] = b->values[p];
        nz += b->values[p] != 0.0f;
    }
    for (uint64_t p = b->indptr[j]; p < b->indptr[j + 1] && same; p++) {
        if (b->values[p] == 0.0f)
            continue;
        same = scratch[b->indices[p]] == b->values[p];
        matched++;
    }
    for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++)
        scratch[b->indices[p]] = 0.0f;
    return same && matched == nz;
}

/* The next farthest candidate not equal to a seed taken before, or SIZE_MAX. */
static size_t next_candidate(const struct smg_batch *b, const size_t *ti, size_t ntop, size_t *next,
                             const size_t *seeds, size_t n_seeds, float *scratch)
{
    while (*next < ntop) {
        size_t r = ti[(*next)++];
        bool dup = false;
        for (size_t s = 0; s < n_seeds && !dup; s++)
            dup = smg_csr_rows_equal(b, r, seeds[s], scratch);
        if (!dup)
            return r;
    }
    return SIZE_MAX;
}

/* Row r was taken as a seed this step (it joins no center). */
static bool is_seed(const size_t *seeds, size_t n_seeds, size_t r)
{
    for (size_t s = 0; s < n_seeds; s++)
        if (seeds[s] == r)
            return true;
    return false;
}

void smg_kmeans_lazy_update(struct smg_kmeans_lazy *lz, const struct smg_batch *b,
                            const uint32_t *labels, const double *dist, size_t m, double decay,
                            double *w, bool *active, struct smg_kmeans_lazy_work *wk)
{
    const size_t K = lz->K;
    double td[SMG_KMEANS_MAX_CANDIDATES], total = 0.0, thresh, *counts = wk->counts;
    size_t ti[SMG_KMEANS_MAX_CANDIDATES], ntop = 0, next = 0, n_seeds = 0;

    memset(counts, 0, K * sizeof(double));
    for (size_t i = 0; i < b->rows; i++) {
        smg_kmeans_top_insert(td, ti, &ntop, m, dist[i], i);
        if (labels[i] != SMG_KMEANS_NO_LABEL)
            counts[labels[i]] += 1.0;
    }
    for (size_t j = 0; j < K; j++) {
        w[j] *= decay;
        total += w[j] + counts[j];
    }
    thresh = SMG_KMEANS_STARVE_RATIO * total / (double)K;
    /* Reseed starving centers, in index order, from the farthest rows (kmeans.c's rule). */
    for (size_t j = 0; j < K; j++) {
        double wn = w[j] + counts[j];
        size_t r;
        if (active[j] && wn > 0.0 && wn >= thresh)
            continue;
        r = next_candidate(b, ti, ntop, &next, wk->seeds, n_seeds, wk->scratch);
        if (r == SIZE_MAX)
            break; /* no candidate left: retried next step */
        wk->seeds[n_seeds++] = r;
        if (labels[r] != SMG_KMEANS_NO_LABEL)
            counts[labels[r]] -= 1.0;
        wk->targets[n_seeds - 1] = j; /* center j becomes row r (below, all in one pass) */
        w[j] = 1.0;
        counts[j] = -1.0; /* marks "reseeded": no regular update below */
        active[j] = true;
    }
    wk->reseeds = n_seeds;
    smg_kmeans_lazy_set_rows(lz, wk->targets, wk->seeds, n_seeds, b);
    for (size_t j = 0; j < K; j++)
        if (counts[j] > 0.0) {
            smg_kmeans_lazy_begin(lz, j, w[j], counts[j]);
            w[j] += counts[j];
        }
    for (size_t i = 0; i < b->rows; i++) {
        uint32_t l = labels[i];
        if (l != SMG_KMEANS_NO_LABEL && counts[l] > 0.0 && !is_seed(wk->seeds, n_seeds, i))
            smg_kmeans_lazy_add_row(lz, l, b, i);
    }
    smg_kmeans_lazy_end_step(lz, active);
}

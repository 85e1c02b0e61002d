/*
 * k-means on CSR batches (contract: kmeans_csr.h): transposed float32
 * centers for the argmin, exact double distances for the winner, and the
 * init (seeding and Lloyd refinement on the first batch) on sparse rows.
 */
#include "algorithms/kmeans_csr.h"

#include <math.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "algorithms/csr_ops.h"
#include "io/base/alloc.h"
#include "io/base/log.h"

struct smg_kmeans_csr {
    size_t k, d;
    float *ut;  /* d x k: unshifted center j, coordinate f at ut[f * k + j] */
    double *un; /* k: |c_j|^2 in double; +INF for an inactive center */
    float *acc; /* acc_parts x k: x . c_j of a part's current row (float32, as the dense GEMM) */
    size_t acc_parts;
    void (*axpy)(float *acc, const float *u, float v, size_t k);
    double snorm;    /* |shift|^2 */
    bool any_active; /* some loaded center is active */
};

/* acc += v * u over k floats: one stored entry against every center. */
static void axpy_portable(float *acc, const float *u, float v, size_t k)
{
    for (size_t j = 0; j < k; j++)
        acc[j] += v * u[j];
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The same loop compiled for AVX2+FMA (8 centers per instruction). */
__attribute__((target("avx2,fma"))) static void axpy_avx2(float *acc, const float *u, float v,
                                                          size_t k)
{
    size_t j = 0;
    __m256 vv = _mm256_set1_ps(v);
    for (; j + 8 <= k; j += 8)
        _mm256_storeu_ps(acc + j,
                         _mm256_fmadd_ps(vv, _mm256_loadu_ps(u + j), _mm256_loadu_ps(acc + j)));
    for (; j < k; j++)
        acc[j] += v * u[j];
}
#endif

enum smg_status smg_kmeans_csr_new(size_t k, size_t d, struct smg_kmeans_csr **out,
                                   struct smg_error *err)
{
    struct smg_kmeans_csr *kc = smg_calloc(1, sizeof(*kc));
    size_t n;

    *out = NULL;
    if (kc == NULL || !smg_mul_size(k, d, &n) || (kc->ut = smg_malloc(n * sizeof(float))) == NULL ||
        (kc->un = smg_malloc(k * sizeof(double))) == NULL ||
        (kc->acc = smg_malloc(k * sizeof(float))) == NULL) {
        smg_kmeans_csr_free(kc);
        return smg_error_set(err, SMG_ENOMEM,
                             "k-means: out of memory for %zu x %zu transposed centers", k, d);
    }
    kc->k = k;
    kc->d = d;
    kc->acc_parts = 1;
    kc->axpy = axpy_portable;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        kc->axpy = axpy_avx2;
#endif
    *out = kc;
    return SMG_OK;
}

void smg_kmeans_csr_free(struct smg_kmeans_csr *kc)
{
    if (kc == NULL)
        return;
    smg_free(kc->ut);
    smg_free(kc->un);
    smg_free(kc->acc);
    smg_free(kc);
}

void smg_kmeans_csr_load(struct smg_kmeans_csr *kc, const double *cd, const float *cnorm,
                         const double *shift)
{
    const size_t k = kc->k, d = kc->d;
    double norm[16];

    kc->snorm = 0.0;
    kc->any_active = false;
    for (size_t f = 0; f < d; f++)
        kc->snorm += shift ? shift[f] * shift[f] : 0.0;
    /* Transpose 16 centers at a time: 16 sequential reads, one contiguous write per f. */
    for (size_t j0 = 0; j0 < k; j0 += 16) {
        size_t nj = k - j0 < 16 ? k - j0 : 16;
        memset(norm, 0, sizeof(norm));
        for (size_t f = 0; f < d; f++) {
            double s = shift ? shift[f] : 0.0;
            float *out = kc->ut + f * k + j0;
            for (size_t j = 0; j < nj; j++) {
                double u = cd[(j0 + j) * d + f] + s;
                out[j] = (float)u;
                norm[j] += u * u;
            }
        }
        for (size_t j = 0; j < nj; j++)
            kc->un[j0 + j] = cnorm != NULL && isinf(cnorm[j0 + j]) ? INFINITY : norm[j];
    }
    for (size_t j = 0; j < k; j++)
        kc->any_active = kc->any_active || kc->un[j] != INFINITY;
}

/* The winner's squared distance, exactly in double over the stored entries. */
static double exact_dist(const struct smg_kmeans_csr *kc, const double *cd, const double *shift,
                         const struct smg_batch *b, size_t i, size_t j)
{
    double acc = kc->un[j];

    for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++) {
        size_t f = b->indices[p];
        double u = cd[j * kc->d + f] + (shift ? shift[f] : 0.0), e = (double)b->values[p] - u;
        acc += e * e - u * u;
    }
    return acc > 0.0 ? acc : 0.0;
}

/* Row i's nearest active center by exact double distances (lowest index on ties), or k. */
static size_t exact_best(const struct smg_kmeans_csr *kc, const double *cd, const double *shift,
                         const struct smg_batch *b, size_t i, double *best_dist)
{
    size_t best = kc->k;

    for (size_t j = 0; j < kc->k; j++) {
        double v;
        if (kc->un[j] == INFINITY)
            continue;
        v = exact_dist(kc, cd, shift, b, i, j);
        if (best == kc->k || v < *best_dist) {
            best = j;
            *best_dist = v;
        }
    }
    return best;
}

/* Row i's argmin of |c|^2 - 2 x.c with x.c in float32 (acc: k floats of scratch), or k. */
static size_t float_best(const struct smg_kmeans_csr *kc, float *acc, const struct smg_batch *b,
                         size_t i)
{
    const size_t k = kc->k;
    size_t best = k;
    double best_score = INFINITY;

    memset(acc, 0, k * sizeof(float));
    for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++)
        kc->axpy(acc, kc->ut + (size_t)b->indices[p] * k, b->values[p], k);
    for (size_t j = 0; j < k; j++) {
        double score = kc->un[j] - 2.0 * (double)acc[j];
        if (score < best_score) {
            best_score = score;
            best = j;
        }
    }
    return best;
}

/*
 * Beyond this the float32 products x_f c_f or their sums may have overflowed
 * (kmeans_nearest.c's FLOAT_SCORE_LIMIT): such a row is ranked exactly.
 */
#define FLOAT_SCORE_LIMIT 0x1p100

/* Below this many stored entries x centers a batch is not worth sharing between workers. */
#define MIN_PARALLEL_WORK ((size_t)1 << 18)

static void nearest_rows(const struct smg_kmeans_csr *kc, float *acc, const double *cd,
                         const double *shift, const struct smg_batch *b, bool exact,
                         uint32_t *labels, double *dist)
{
    const size_t k = kc->k;

    for (size_t i = 0; i < b->rows; i++) {
        double d = INFINITY;
        size_t best = exact ? exact_best(kc, cd, shift, b, i, &d) : float_best(kc, acc, b, i);

        if (!exact && best < k) {
            d = exact_dist(kc, cd, shift, b, i, best);
            if (d > FLOAT_SCORE_LIMIT || kc->un[best] > FLOAT_SCORE_LIMIT)
                best = exact_best(kc, cd, shift, b, i, &d);
        } else if (!exact && kc->any_active) { /* every float score overflowed or is NaN */
            best = exact_best(kc, cd, shift, b, i, &d);
        }
        if (best == k) { /* no active center: the distance to the shift */
            double xs = shift ? smg_csr_row_dot_d(b, i, shift) : 0.0;
            double v = smg_csr_row_norm2(b, i) - 2.0 * xs + kc->snorm;
            labels[i] = SMG_KMEANS_NO_LABEL;
            dist[i] = v > 0.0 ? v : 0.0;
            continue;
        }
        labels[i] = (uint32_t)best;
        dist[i] = d;
    }
}

struct nearest_job {
    const struct smg_kmeans_csr *kc;
    const double *cd, *shift;
    const struct smg_batch *b;
    bool exact;
    uint32_t *labels;
    double *dist;
};

static void nearest_part(void *ctx, size_t part, size_t begin, size_t end)
{
    const struct nearest_job *j = ctx;
    struct smg_batch s = smg_batch_slice(j->b, begin, end - begin);

    nearest_rows(j->kc, j->kc->acc + part * j->kc->k, j->cd, j->shift, &s, j->exact,
                 j->labels + begin, j->dist + begin);
}

/* Row ranges for the pool: several per worker, none for a batch too small to share. */
static size_t parts_for(struct smg_kmeans_csr *kc, const struct smg_pool *pool,
                        const struct smg_batch *b)
{
    size_t parts = 4 * (size_t)smg_pool_size(pool), work;
    float *acc;

    if (parts <= 4 || !smg_mul_size(smg_batch_nnz(b), kc->k, &work) || work < MIN_PARALLEL_WORK)
        return 1;
    if (parts > b->rows)
        parts = b->rows;
    if (parts > kc->acc_parts) {
        if ((acc = smg_malloc(parts * kc->k * sizeof(float) + 1)) == NULL)
            return 1; /* the serial path gives the same result */
        smg_free(kc->acc);
        kc->acc = acc;
        kc->acc_parts = parts;
    }
    return parts;
}

void smg_kmeans_csr_nearest(struct smg_kmeans_csr *kc, struct smg_pool *pool, const double *cd,
                            const double *shift, const struct smg_batch *b,
                            enum smg_kmeans_kernel kernel, uint32_t *labels, double *dist)
{
    struct nearest_job j = {kc, cd, shift, b, kernel == SMG_KMEANS_KERNEL_EXACT, labels, dist};
    size_t parts = parts_for(kc, pool, b);

    if (parts <= 1)
        nearest_rows(kc, kc->acc, cd, shift, b, j.exact, labels, dist);
    else
        smg_pool_run(pool, b->rows, parts, nearest_part, &j);
}

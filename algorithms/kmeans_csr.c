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
    float *acc; /* k: x . c_j of the current row (float32, as the dense GEMM path) */
    void (*axpy)(float *acc, const float *u, float v, size_t k);
    double snorm; /* |shift|^2 */
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

void smg_kmeans_csr_nearest(struct smg_kmeans_csr *kc, const double *cd, const double *shift,
                            const struct smg_batch *b, uint32_t *labels, double *dist)
{
    const size_t k = kc->k;

    for (size_t i = 0; i < b->rows; i++) {
        size_t best = k;
        double best_score = INFINITY;

        memset(kc->acc, 0, k * sizeof(float));
        for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++)
            kc->axpy(kc->acc, kc->ut + (size_t)b->indices[p] * k, b->values[p], k);
        for (size_t j = 0; j < k; j++) {
            double score = kc->un[j] - 2.0 * (double)kc->acc[j];
            if (score < best_score) {
                best_score = score;
                best = j;
            }
        }
        if (best == k) { /* no active center: the distance to the shift */
            double xs = shift ? smg_csr_row_dot_d(b, i, shift) : 0.0;
            double v = smg_csr_row_norm2(b, i) - 2.0 * xs + kc->snorm;
            labels[i] = SMG_KMEANS_NO_LABEL;
            dist[i] = v > 0.0 ? v : 0.0;
            continue;
        }
        labels[i] = (uint32_t)best;
        dist[i] = exact_dist(kc, cd, shift, b, i, best);
    }
}

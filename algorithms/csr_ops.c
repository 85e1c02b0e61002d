/*
 * CSR x dense helpers (contract: csr_ops.h). Loops walk each row's stored
 * entries once; the X^T H product accumulates into contiguous rows of `out`
 * (one w-wide axpy per stored entry, AVX2+FMA when the CPU has it), which is
 * cache-friendly however the columns are scattered.
 */
#include "algorithms/csr_ops.h"

#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* o += v * h over w doubles. */
static void daxpy_portable(double *o, const double *h, double v, size_t w)
{
    for (size_t j = 0; j < w; j++)
        o[j] += v * h[j];
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* The same with AVX2+FMA, 4 doubles per instruction. */
__attribute__((target("avx2,fma"))) static void daxpy_avx2(double *o, const double *h, double v,
                                                           size_t w)
{
    __m256d vv = _mm256_set1_pd(v);
    size_t j = 0;
    for (; j + 4 <= w; j += 4)
        _mm256_storeu_pd(o + j,
                         _mm256_fmadd_pd(vv, _mm256_loadu_pd(h + j), _mm256_loadu_pd(o + j)));
    for (; j < w; j++)
        o[j] += v * h[j];
}
#endif

void smg_csr_xt_h(const struct smg_batch *b, const double *h, size_t w, double *out)
{
    void (*axpy)(double *, const double *, double, size_t) = daxpy_portable;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        axpy = daxpy_avx2;
#endif
    for (size_t i = 0; i < b->rows; i++) {
        const double *hi = h + i * w;
        for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++)
            axpy(out + (size_t)b->indices[p] * w, hi, (double)b->values[p], w);
    }
}

void smg_csr_xt_xt(const struct smg_batch *b, const double *t, size_t w, double *z, double *out)
{
    void (*axpy)(double *, const double *, double, size_t) = daxpy_portable;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        axpy = daxpy_avx2;
#endif
    for (size_t i = 0; i < b->rows; i++) {
        memset(z, 0, w * sizeof(double));
        for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++)
            axpy(z, t + (size_t)b->indices[p] * w, (double)b->values[p], w);
        for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++)
            axpy(out + (size_t)b->indices[p] * w, z, (double)b->values[p], w);
    }
}

void smg_csr_col_sums(const struct smg_batch *b, double *s)
{
    for (uint64_t p = b->indptr[0]; p < b->indptr[b->rows]; p++)
        s[b->indices[p]] += (double)b->values[p];
}

double smg_csr_row_norm2(const struct smg_batch *b, size_t i)
{
    double acc = 0.0;

    for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++)
        acc += (double)b->values[p] * (double)b->values[p];
    return acc;
}

double smg_csr_row_dot_f(const struct smg_batch *b, size_t i, const float *c)
{
    double acc = 0.0;

    for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++)
        acc += (double)b->values[p] * (double)c[b->indices[p]];
    return acc;
}

double smg_csr_row_dot_d(const struct smg_batch *b, size_t i, const double *c)
{
    double acc = 0.0;

    for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++)
        acc += (double)b->values[p] * c[b->indices[p]];
    return acc;
}

void smg_csr_row_axpy(const struct smg_batch *b, size_t i, double a, double *out)
{
    for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++)
        out[b->indices[p]] += a * (double)b->values[p];
}

void smg_csr_row_densify(const struct smg_batch *b, size_t i, float *out)
{
    memset(out, 0, b->cols * sizeof(float));
    for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++)
        out[b->indices[p]] = b->values[p];
}

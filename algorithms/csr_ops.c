/*
 * CSR x dense helpers (contract: csr_ops.h). Loops walk each row's stored
 * entries once; the X^T H product accumulates into contiguous rows of `out`
 * (one w-wide axpy per stored entry, AVX2+FMA when the CPU has it), which is
 * cache-friendly however the columns are scattered.
 */
#include "algorithms/csr_ops.h"

#include "io/base/alloc.h"

#include <stdbool.h>
#include <stdint.h>
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

/*
 * The batch's stored values sorted by column (a stable counting sort: within a
 * column, rows ascend): start[f] .. start[f + 1] index row[] and val[].
 */
struct csc {
    uint64_t *start; /* cols + 1 */
    uint32_t *row;
    float *val;
};

static bool csc_build(const struct smg_batch *b, struct csc *c)
{
    uint64_t nnz = b->indptr[b->rows] - b->indptr[0];

    c->start = smg_calloc(b->cols + 2, sizeof(uint64_t));
    c->row = smg_malloc(nnz * sizeof(uint32_t) + 1);
    c->val = smg_malloc(nnz * sizeof(float) + 1);
    if (!c->start || !c->row || !c->val)
        return false;
    for (uint64_t p = b->indptr[0]; p < b->indptr[b->rows]; p++)
        c->start[b->indices[p] + 2]++;
    for (size_t f = 0; f < b->cols; f++)
        c->start[f + 2] += c->start[f + 1];
    for (size_t i = 0; i < b->rows; i++) /* start[f + 1] runs from column f's start to its end */
        for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++) {
            uint64_t at = c->start[b->indices[p] + 1]++;
            c->row[at] = (uint32_t)i;
            c->val[at] = b->values[p];
        }
    return true;
}

static void csc_free(struct csc *c)
{
    smg_free(c->start);
    smg_free(c->row);
    smg_free(c->val);
}

/*
 * smg_csr_xt_xt in column order: Z = X T with each row of T read once, then
 * out += X^T Z with each row of out written once, so T and out stream through
 * memory instead of being gathered per stored value; Z (rows x w) stays in
 * cache. Row i of Z sums its values in column order, out[f] its rows in
 * ascending order, as the row-wise loop does for rows stored by column.
 */
static bool xt_xt_by_column(const struct smg_batch *b, const double *t, size_t w, double *out,
                            void (*axpy)(double *, const double *, double, size_t))
{
    struct csc c = {0};
    double *z = smg_calloc(b->rows * w + 1, sizeof(double));
    bool ok = z != NULL && csc_build(b, &c);

    for (size_t f = 0; ok && f < b->cols; f++)
        for (uint64_t p = c.start[f]; p < c.start[f + 1]; p++)
            axpy(z + (size_t)c.row[p] * w, t + f * w, (double)c.val[p], w);
    for (size_t f = 0; ok && f < b->cols; f++)
        for (uint64_t p = c.start[f]; p < c.start[f + 1]; p++)
            axpy(out + f * w, z + (size_t)c.row[p] * w, (double)c.val[p], w);
    smg_free(z);
    csc_free(&c);
    return ok;
}

void smg_csr_xt_xt(const struct smg_batch *b, const double *t, size_t w, double *z, double *out)
{
    void (*axpy)(double *, const double *, double, size_t) = daxpy_portable;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        axpy = daxpy_avx2;
#endif
    if (xt_xt_by_column(b, t, w, out, axpy))
        return;
    for (size_t i = 0; i < b->rows; i++) { /* out of memory for the sorted copy: row by row */
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

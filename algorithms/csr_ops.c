/*
 * CSR x dense helpers (contract: csr_ops.h). Loops walk each row's stored
 * entries once; the X^T H product accumulates into contiguous rows of `out`
 * (one w-wide axpy per stored entry), which is cache-friendly however the
 * columns are scattered.
 */
#include "algorithms/csr_ops.h"

#include <string.h>

void smg_csr_xt_h(const struct smg_batch *b, const double *h, size_t w, double *out)
{
    for (size_t i = 0; i < b->rows; i++) {
        const double *hi = h + i * w;
        for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++) {
            double v = (double)b->values[p];
            double *o = out + (size_t)b->indices[p] * w;
            for (size_t j = 0; j < w; j++)
                o[j] += v * hi[j];
        }
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

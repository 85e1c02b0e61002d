/*
 * PCA inference (see pca_project.h): projection = (x - mean) · v.
 *
 * The rows are centred in float32 before the product rather than computing
 * x·v − mean·v afterwards: centring first keeps the values small and avoids
 * the cancellation of two large terms, which matters when the data sit far
 * from the origin. Blocks of rows are copied into a scratch buffer, centred,
 * and multiplied by v with one sgemm per block.
 *
 * CSR rows (smg_pca_project_csr) are never densified: each stored value
 * x[f] adds x[f] times row f of v (contiguous, v being d × m) to the row's
 * m double sums, and mean · v, computed once per model, is subtracted.
 */
#include "algorithms/pca_project.h"

#include <cblas.h>
#include <limits.h>
#include <string.h>

#include "io/base/alloc.h"

/* Floats of centred-row scratch per block: 4 MiB. */
#define BLOCK_FLOATS (1u << 20)

enum smg_status smg_pca_project(const float *v, size_t d, size_t m, const float *mean,
                                const float *x, size_t n, float *out, struct smg_error *err)
{
    size_t block, done;
    float *xc = NULL;

    if (d == 0 || m == 0 || d > INT_MAX || m > INT_MAX || v == NULL)
        return smg_error_set(err, SMG_EINTERNAL, "PCA project: bad component matrix %zu x %zu", d,
                             m);
    if (n == 0)
        return SMG_OK;
    if (x == NULL || out == NULL)
        return smg_error_set(err, SMG_EINTERNAL, "PCA project: NULL argument");
    block = BLOCK_FLOATS / d;
    if (block == 0)
        block = 1;
    if (block > n)
        block = n;
    if (block > INT_MAX)
        block = INT_MAX;
    if (mean != NULL) {
        xc = smg_calloc(block, d * sizeof(float)); /* block * d <= max(2^20, d) */
        if (xc == NULL)
            return smg_error_set(err, SMG_ENOMEM, "PCA project: out of memory for %zu x %zu", block,
                                 d);
    }
    for (done = 0; done < n; done += block) {
        size_t b = n - done < block ? n - done : block;
        const float *a = x + done * d;
        if (mean != NULL) {
            for (size_t i = 0; i < b; i++)
                for (size_t j = 0; j < d; j++)
                    xc[i * d + j] = a[i * d + j] - mean[j];
            a = xc;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)m, (int)d, 1.0f, a,
                    (int)d, v, (int)m, 0.0f, out + done * m, (int)m);
    }
    smg_free(xc);
    return SMG_OK;
}

void smg_pca_mean_projection(const float *v, size_t d, size_t m, const float *mean, double *out)
{
    memset(out, 0, m * sizeof(double));
    for (size_t f = 0; f < d; f++)
        for (size_t j = 0; j < m; j++)
            out[j] += (double)mean[f] * (double)v[f * m + j];
}

enum smg_status smg_pca_project_csr(const float *v, size_t d, size_t m, const double *mean_v,
                                    const struct smg_batch *b, float *out, struct smg_error *err)
{
    double *acc;

    if (d == 0 || m == 0 || v == NULL || !smg_batch_is_csr(b) || b->cols != d)
        return smg_error_set(err, SMG_EINTERNAL, "PCA project: not a CSR batch of %zu columns", d);
    if ((acc = smg_malloc(m * sizeof(double))) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "PCA project: out of memory for %zu components", m);
    for (size_t i = 0; i < b->rows; i++) {
        for (size_t j = 0; j < m; j++)
            acc[j] = mean_v != NULL ? -mean_v[j] : 0.0;
        for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++) {
            const float *vr = v + (size_t)b->indices[p] * m;
            const double x = (double)b->values[p];
            for (size_t j = 0; j < m; j++)
                acc[j] += x * (double)vr[j];
        }
        for (size_t j = 0; j < m; j++)
            out[i * m + j] = (float)acc[j];
    }
    smg_free(acc);
    return SMG_OK;
}

/*
 * The k-means step's hot loops over a worker pool (kmeans_split.h). Small
 * batches stay on the calling thread: waking the workers costs tens of
 * microseconds, more than the work of a few hundred rows. Where the CPU has
 * AVX-512F (and the kernel is not PORTABLE or AVX2) the sums run in
 * kmeans_avx512.c, the same additions in the same order.
 */
#include "algorithms/kmeans_split.h"

#include <string.h>

#include "algorithms/kmeans_avx512.h"
#include "io/base/alloc.h"

/* Below this many row x center x feature products a step stays serial. */
#define MIN_PARALLEL_WORK ((size_t)1 << 18)

struct nearest_job {
    const float *cs, *cnorm;
    const double *cd, *shift;
    size_t k, dim, block, rows;
    const float *x;
    uint32_t *labels;
    double *dist;
    enum smg_kmeans_kernel kernel;
    int *rc;                /* one per part */
    struct smg_error *errs; /* one per part */
};

static void nearest_part(void *ctx, size_t part, size_t begin, size_t end)
{
    struct nearest_job *j = ctx;
    size_t r0 = begin * j->block, r1 = end * j->block;

    if (r1 > j->rows)
        r1 = j->rows;
    if (r0 >= r1)
        return;
    smg_error_clear(&j->errs[part]);
    j->rc[part] =
        smg_kmeans_nearest(j->cs, j->cnorm, j->cd, j->k, j->dim, j->shift, j->x + r0 * j->dim,
                           r1 - r0, j->labels + r0, j->dist + r0, j->kernel, &j->errs[part]);
}

static unsigned parts_for(struct smg_pool *pool, size_t rows, size_t k, size_t dim)
{
    unsigned w = smg_pool_size(pool);
    size_t work;
    if (w <= 1 || !smg_mul_size(rows, k, &work) || !smg_mul_size(work, dim, &work))
        return w <= 1 ? 1 : w;
    return work < MIN_PARALLEL_WORK ? 1 : w;
}

enum smg_status smg_kmeans_nearest_pool(struct smg_pool *pool, const float *cs, const float *cnorm,
                                        const double *cd, size_t k, size_t dim, const double *shift,
                                        const float *x, size_t rows, uint32_t *labels, double *dist,
                                        enum smg_kmeans_kernel kernel, struct smg_error *err)
{
    /* Several ranges per worker: when the scheduler stalls one thread (a busy
     * host), the others take its remaining ranges. */
    unsigned workers = parts_for(pool, rows, k, dim), parts = 4 * workers;
    struct nearest_job j = {
        cs,   cnorm, cd,     shift, k,      dim,  smg_kmeans_nearest_block(k, dim),
        rows, x,     labels, dist,  kernel, NULL, NULL};
    size_t blocks = (rows + j.block - 1) / j.block;
    int rc = SMG_OK;

    if (parts > blocks)
        parts = blocks > 0 ? (unsigned)blocks : 1;
    if (workers <= 1 || parts <= 1)
        return smg_kmeans_nearest(cs, cnorm, cd, k, dim, shift, x, rows, labels, dist, kernel, err);
    j.rc = smg_calloc(parts, sizeof(int));
    j.errs = smg_calloc(parts, sizeof(struct smg_error));
    if (j.rc == NULL || j.errs == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for %u workers", parts);
        goto out;
    }
    smg_pool_run(pool, blocks, parts, nearest_part, &j);
    for (unsigned p = 0; p < parts && rc == SMG_OK; p++)
        if (j.rc[p] != SMG_OK)
            rc = smg_error_set(err, j.rc[p], "%s", j.errs[p].msg);
out:
    smg_free(j.rc);
    smg_free(j.errs);
    return rc;
}

struct accumulate_job {
    const float *x;
    size_t rows, dim, k;
    const double *shift;
    const uint32_t *labels;
    double *counts, *sums;
    double *own; /* NULL = write sums in place (one part), else k * dim private sums */
    enum smg_kmeans_kernel kernel;
};

/*
 * Features [f0, f1) of every labelled row; part 0 also counts the rows. With
 * several parts each sums into its own zeroed k x (f1 - f0) block, so no two
 * threads write one cache line; the block is then added to sums once.
 */
static void accumulate_part(void *ctx, size_t part, size_t f0, size_t f1)
{
    const struct accumulate_job *j = ctx;
    const size_t d = j->dim, w = f1 - f0;
    double *acc = j->own != NULL ? j->own + j->k * f0 : j->sums + f0;
    const size_t stride = j->own != NULL ? w : d;

#ifdef SMG_NEAREST_AVX512
    if (j->kernel != SMG_KMEANS_KERNEL_PORTABLE && j->kernel != SMG_KMEANS_KERNEL_AVX2 &&
        smg_nearest_have_avx512())
        smg_kmeans_accumulate_avx512(j->x, j->rows, d, f0, w, j->shift, j->labels,
                                     part == 0 ? j->counts : NULL, acc, stride);
    else
#endif
        for (size_t i = 0; i < j->rows; i++) {
            uint32_t l = j->labels[i];
            if (l == SMG_KMEANS_NO_LABEL)
                continue;
            if (part == 0)
                j->counts[l] += 1.0;
            for (size_t f = 0; f < w; f++)
                acc[l * stride + f] += (double)j->x[i * d + f0 + f] - j->shift[f0 + f];
        }
    if (j->own != NULL)
        for (size_t l = 0; l < j->k; l++)
            for (size_t f = 0; f < w; f++)
                j->sums[l * d + f0 + f] += acc[l * w + f];
}

void smg_kmeans_accumulate_pool(struct smg_pool *pool, const float *x, size_t rows, size_t dim,
                                size_t k, const double *shift, const uint32_t *labels,
                                double *counts, double *sums, enum smg_kmeans_kernel kernel)
{
    struct accumulate_job j = {x, rows, dim, k, shift, labels, counts, sums, NULL, kernel};
    /* The sums cost ~dim per row: worth splitting from a few thousand rows up. */
    size_t parts = parts_for(pool, rows, 64, dim);

    if (parts > dim)
        parts = dim;
    if (parts > 1)
        j.own = smg_calloc(k * dim, sizeof(double)); /* k * dim fits: the caller holds sums */
    if (j.own == NULL)
        parts = 1;
    smg_pool_run(parts > 1 ? pool : NULL, dim, parts, accumulate_part, &j);
    smg_free(j.own);
}

struct weighted_job {
    const float *x;
    size_t rows, dim, k;
    const double *shift, *dist;
    const uint32_t *labels;
    double w, *acc;
    double *own; /* NULL = write acc in place (one part), else k * dim private sums */
};

/*
 * Features [f0, f1) of every row, each sum over the rows in row order; part 0
 * also sums the weights and weighted distances. With several parts each sums
 * into its own zeroed k x (f1 - f0) block, then adds it to acc's zeros once.
 */
static void weighted_part(void *ctx, size_t part, size_t f0, size_t f1)
{
    const struct weighted_job *j = ctx;
    const size_t d = j->dim, w = f1 - f0, len = j->k * d + j->k + 2;
    double *acc = j->own != NULL ? j->own + j->k * f0 : j->acc + f0, *wts = j->acc + j->k * d;
    const size_t stride = j->own != NULL ? w : d;

    for (size_t i = 0; i < j->rows; i++) {
        uint32_t l = j->labels[i];
        if (part == 0) {
            j->acc[len - 2] += j->w * j->dist[i];
            j->acc[len - 1] += j->w;
            wts[l] += j->w;
        }
        for (size_t f = 0; f < w; f++)
            acc[l * stride + f] += j->w * ((double)j->x[i * d + f0 + f] - j->shift[f0 + f]);
    }
    if (j->own != NULL)
        for (size_t l = 0; l < j->k; l++)
            for (size_t f = 0; f < w; f++)
                j->acc[l * d + f0 + f] += acc[l * w + f];
}

void smg_kmeans_accumulate_weighted_pool(struct smg_pool *pool, const float *x, size_t rows,
                                         size_t dim, size_t k, const double *shift,
                                         const uint32_t *labels, const double *dist, double w,
                                         double *acc)
{
    struct weighted_job j = {x, rows, dim, k, shift, dist, labels, w, acc, NULL};
    size_t parts = parts_for(pool, rows, 64, dim);

    if (parts > dim)
        parts = dim;
    if (parts > 1)
        j.own = smg_calloc(k * dim, sizeof(double));
    if (j.own == NULL)
        parts = 1;
    smg_pool_run(parts > 1 ? pool : NULL, dim, parts, weighted_part, &j);
    smg_free(j.own);
}

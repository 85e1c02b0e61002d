/*
 * Nearest-center search for k-means: the one hot loop of training and of
 * test scoring, plus the seeded generator the k-means code shares.
 *
 * How: rows are taken in blocks sized so a block and its dot products stay in
 * L2 (about 256 KiB); each block is shifted (x - shift) into a float buffer,
 * then one sgemm gives all dot products x.c, and the argmin of
 * |c|^2 - 2 x.c picks the winner (|x|^2 is the same for every center and is not
 * needed). Float32 cancellation can pick a near-tie wrongly or give a negative
 * distance, so the winner's squared distance is recomputed exactly in double
 * from the shifted row and the double center: what callers sum and compare
 * (losses, reseed candidates) is never negative and never rounded through the
 * expansion. Shifting by a data mean first is what keeps the expansion
 * meaningful for data far from the origin.
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "alloc.h"
#include "kmeans.h"

#define BLOCK_BYTES (256u * 1024u)

static size_t block_rows(size_t k, size_t dim)
{
    size_t b = BLOCK_BYTES / (sizeof(float) * (k + dim + 1));
    if (b < 64)
        b = 64;
    if (b > 4096)
        b = 4096;
    return b;
}

int smg_kmeans_nearest(const float *cs, const float *cnorm, const double *cd, size_t k, size_t dim,
                       const double *shift, const float *x, size_t rows, uint32_t *labels,
                       double *dist, struct smg_error *err)
{
    size_t bmax = block_rows(k, dim), n_xs, n_dots;
    float *xs = NULL, *dots = NULL;
    bool any_active = false;
    int rc = SMG_OK;

    for (size_t j = 0; j < k; j++)
        if (isfinite(cnorm[j]))
            any_active = true;
    if (!smg_mul_size(bmax, dim, &n_xs) || !smg_mul_size(bmax, k, &n_dots) ||
        (xs = smg_malloc(n_xs * sizeof(float))) == NULL ||
        (dots = smg_malloc(n_dots * sizeof(float) + 1)) == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for a %zu-row block", bmax);
        goto out;
    }
    for (size_t r0 = 0; r0 < rows; r0 += bmax) {
        size_t nb = rows - r0 < bmax ? rows - r0 : bmax;
        const float *xb = x + r0 * dim;
        for (size_t i = 0; i < nb; i++)
            for (size_t f = 0; f < dim; f++)
                xs[i * dim + f] = (float)((double)xb[i * dim + f] - (shift ? shift[f] : 0.0));
        if (any_active && k > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)k, (int)dim, 1.0f,
                        xs, (int)dim, cs, (int)dim, 0.0f, dots, (int)k);
        for (size_t i = 0; i < nb; i++) {
            size_t best = SIZE_MAX;
            float bestd = INFINITY;
            double exact = 0.0;
            if (any_active) {
                const float *di = dots + i * k;
                for (size_t j = 0; j < k; j++) {
                    float v = cnorm[j] - 2.0f * di[j];
                    if (v < bestd) {
                        bestd = v;
                        best = j;
                    }
                }
            }
            if (best == SIZE_MAX) {
                /* No active center: distance to the shift, no label. */
                for (size_t f = 0; f < dim; f++) {
                    double v = (double)xb[i * dim + f] - (shift ? shift[f] : 0.0);
                    exact += v * v;
                }
                labels[r0 + i] = SMG_KMEANS_NO_LABEL;
            } else {
                const double *c = cd + best * dim;
                for (size_t f = 0; f < dim; f++) {
                    double v = ((double)xb[i * dim + f] - (shift ? shift[f] : 0.0)) - c[f];
                    exact += v * v;
                }
                labels[r0 + i] = (uint32_t)best;
            }
            dist[r0 + i] = exact;
        }
    }
out:
    smg_free(xs);
    smg_free(dots);
    return rc;
}

int smg_kmeans_score(const float *centers, size_t k, size_t dim, const double *shift,
                     const struct smg_batch *b, double *sse, uint64_t *rows, uint32_t *labels,
                     struct smg_error *err)
{
    float *cs = NULL, *cn = NULL;
    double *cd = NULL, *dist = NULL;
    uint32_t *lab = labels;
    size_t n_c;
    int rc = SMG_OK;

    if (b == NULL || b->rows == 0)
        return SMG_OK;
    if (b->cols != dim)
        return smg_error_set(err, SMG_EINTERNAL, "k-means score: batch has %zu columns, model %zu",
                             b->cols, dim);
    if (!smg_mul_size(k, dim, &n_c) || (cs = smg_malloc(n_c * sizeof(float) + 1)) == NULL ||
        (cd = smg_malloc(n_c * sizeof(double) + 1)) == NULL ||
        (cn = smg_malloc(k * sizeof(float) + 1)) == NULL ||
        (dist = smg_malloc(b->rows * sizeof(double))) == NULL ||
        (lab == NULL && (lab = smg_malloc(b->rows * sizeof(uint32_t))) == NULL)) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means score: out of memory");
        goto out;
    }
    for (size_t j = 0; j < k; j++) {
        float norm = 0.0f;
        for (size_t f = 0; f < dim; f++) {
            cd[j * dim + f] = (double)centers[j * dim + f] - (shift ? shift[f] : 0.0);
            cs[j * dim + f] = (float)cd[j * dim + f];
            norm += cs[j * dim + f] * cs[j * dim + f];
        }
        cn[j] = norm;
    }
    rc = smg_kmeans_nearest(cs, cn, cd, k, dim, shift, b->x, b->rows, lab, dist, err);
    if (rc != SMG_OK)
        goto out;
    for (size_t i = 0; i < b->rows; i++)
        *sse += dist[i];
    *rows += b->rows;
out:
    smg_free(cs);
    smg_free(cd);
    smg_free(cn);
    smg_free(dist);
    if (lab != labels)
        smg_free(lab);
    return rc;
}

/* splitmix64, to expand one seed into the generator state. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void smg_rng_seed(struct smg_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t smg_rng_next(struct smg_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double smg_rng_uniform(struct smg_rng *r)
{
    return (double)(smg_rng_next(r) >> 11) * 0x1.0p-53;
}

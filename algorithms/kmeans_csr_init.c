/*
 * k-means init from a CSR first batch (contract: kmeans_csr.h,
 * smg_kmeans_init_csr): the steps of kmeans.c's pick_initial and
 * kmeans_lloyd.c's smg_kmeans_seed / smg_kmeans_refine, on sparse rows.
 *
 * Seeding needs the squared distance from every row to a chosen row c:
 * |x_i|^2 + |x_c|^2 - 2 x_i . x_c, with x_c scattered once into a dense
 * double vector (cleared again through its stored entries) and clamped at 0.
 * Two identical rows sum the same products in the same order, so their
 * distance is exactly 0, as on the dense path, and kmeans++ stops at the
 * same point when rows run out. Draws consume the generator exactly as
 * smg_kmeans_seed does with unit weights.
 */
#include <math.h>
#include <string.h>

#include "algorithms/csr_ops.h"
#include "algorithms/kmeans_csr.h"
#include "io/base/alloc.h"
#include "io/base/log.h"

struct seeding {
    const struct smg_batch *b;
    double *xn;    /* n: |x_i|^2 */
    double *dense; /* d: the current candidate row, scattered */
    double *dmin;  /* n */
    double *pot;   /* n */
};

/* dmin[i] = min(dmin[i], |x_i - x_c|^2) (or = when first). */
static void distances_to(struct seeding *s, size_t c, bool first)
{
    const struct smg_batch *b = s->b;

    for (uint64_t p = b->indptr[c]; p < b->indptr[c + 1]; p++)
        s->dense[b->indices[p]] = (double)b->values[p];
    for (size_t i = 0; i < b->rows; i++) {
        double v = s->xn[i] + s->xn[c] - 2.0 * smg_csr_row_dot_d(b, i, s->dense);
        v = v > 0.0 ? v : 0.0;
        if (first || v < s->dmin[i])
            s->dmin[i] = v;
    }
    for (uint64_t p = b->indptr[c]; p < b->indptr[c + 1]; p++)
        s->dense[b->indices[p]] = 0.0;
}

/* Up to k seeds (row indices) into idx, as smg_kmeans_seed with unit weights, one trial. */
static size_t seed_rows(struct seeding *s, enum smg_kmeans_init method, size_t k,
                        struct smg_rng *rng, size_t *idx)
{
    size_t n = s->b->rows, chosen = 0;
    double total = (double)n;

    for (size_t i = 0; i < n; i++)
        s->pot[i] = 1.0;
    if (method == SMG_KMEANS_INIT_RANDOM) {
        while (chosen < k && total > 0.0) {
            size_t i = smg_rng_draw(s->pot, n, total, rng);
            idx[chosen++] = i;
            total -= s->pot[i];
            s->pot[i] = 0.0;
            if (total < 0.0)
                total = 0.0;
            if (total == 0.0)
                for (size_t t = 0; t < n; t++)
                    total += s->pot[t];
        }
        return chosen;
    }
    idx[chosen++] = smg_rng_draw(s->pot, n, total, rng);
    distances_to(s, idx[0], true);
    while (chosen < k) {
        double phi = 0.0;
        for (size_t i = 0; i < n; i++)
            phi += s->dmin[i];
        if (!(phi > 0.0))
            break; /* every remaining row coincides with a seed */
        idx[chosen] = smg_rng_draw(s->dmin, n, phi, rng);
        distances_to(s, idx[chosen++], false);
    }
    return chosen;
}

/* Lloyd iterations on the batch from k unshifted centers c (smg_kmeans_refine's loop). */
static int refine(const struct smg_batch *b, double *c, size_t k, unsigned max_iter,
                  enum smg_kmeans_kernel kernel, struct smg_error *err)
{
    const size_t n = b->rows, d = b->cols;
    struct smg_kmeans_csr *kc = NULL;
    double *dist = smg_malloc(n * sizeof(double)), *sum = smg_malloc(k * d * sizeof(double));
    double *cnt = smg_malloc(k * sizeof(double)), prev = INFINITY;
    uint32_t *lab = smg_malloc(n * sizeof(uint32_t));
    int rc = smg_kmeans_csr_new(k, d, &kc, err);

    if (rc == SMG_OK && (!dist || !sum || !cnt || !lab))
        rc = smg_error_set(err, SMG_ENOMEM, "k-means init refinement: out of memory");
    for (unsigned it = 0; rc == SMG_OK && it < max_iter; it++) {
        double loss = 0.0;
        smg_kmeans_csr_load(kc, c, NULL, NULL);
        smg_kmeans_csr_nearest(kc, NULL, c, NULL, b, kernel, lab, dist);
        for (size_t i = 0; i < n; i++)
            loss += dist[i];
        if (loss == 0.0 || (it > 0 && prev - loss <= 1e-4 * prev))
            break;
        prev = loss;
        memset(sum, 0, k * d * sizeof(double));
        memset(cnt, 0, k * sizeof(double));
        for (size_t i = 0; i < n; i++) {
            cnt[lab[i]] += 1.0;
            smg_csr_row_axpy(b, i, 1.0, sum + (size_t)lab[i] * d);
        }
        for (size_t j = 0; j < k; j++)
            if (cnt[j] > 0.0)
                for (size_t f = 0; f < d; f++)
                    c[j * d + f] = sum[j * d + f] / cnt[j];
    }
    smg_kmeans_csr_free(kc);
    smg_free(dist);
    smg_free(sum);
    smg_free(cnt);
    smg_free(lab);
    return rc;
}

double smg_kmeans_csr_first_range(const struct smg_batch *b, double *shift)
{
    const size_t n = b->rows, d = b->cols;
    double max_abs = 0.0;
    uint64_t stored = smg_batch_nnz(b);

    smg_csr_col_sums(b, shift);
    for (size_t f = 0; f < d; f++)
        shift[f] /= (double)n;
    for (uint64_t p = b->indptr[0]; p < b->indptr[n]; p++) {
        double v = (double)b->values[p];
        max_abs = fmax(max_abs, fmax(fabs(v - shift[b->indices[p]]), fabs(v)));
    }
    /* An unstored entry is 0, |0 - shift[f]|; some column has one unless every row stores all. */
    if (stored < (uint64_t)n * d) {
        uint64_t *count = smg_calloc(d, sizeof(uint64_t));
        for (uint64_t p = b->indptr[0]; count != NULL && p < b->indptr[n]; p++)
            count[b->indices[p]]++;
        for (size_t f = 0; f < d; f++)
            if (count == NULL || count[f] < n)
                max_abs = fmax(max_abs, fabs(shift[f]));
        smg_free(count);
    }
    return max_abs;
}

enum smg_status smg_kmeans_init_csr(const struct smg_kmeans_config *cfg, size_t K,
                                    const struct smg_batch *b, double *shift, double *c,
                                    double *act, struct smg_error *err)
{
    const size_t n = b->rows, d = b->cols;
    struct seeding s = {.b = b};
    size_t *idx = smg_malloc(K * sizeof(size_t)), chosen = 0;
    struct smg_rng rng;
    int rc = SMG_OK;

    s.xn = smg_malloc(n * sizeof(double));
    s.dense = smg_calloc(d, sizeof(double));
    s.dmin = smg_malloc(n * sizeof(double));
    s.pot = smg_malloc(n * sizeof(double));
    if (!idx || !s.xn || !s.dense || !s.dmin || !s.pot) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means init: out of memory for %zu rows", n);
        goto out;
    }
    for (size_t i = 0; i < n; i++)
        s.xn[i] = smg_csr_row_norm2(b, i);
    smg_rng_seed(&rng, cfg->seed);
    chosen = seed_rows(&s, cfg->init_method, K < n ? K : n, &rng, idx);
    for (size_t j = 0; j < chosen; j++) {
        smg_csr_row_axpy(b, idx[j], 1.0, c + j * d); /* c is zeroed */
        act[j] = 1.0;
    }
    if (cfg->init_lloyd_iters > 0 && chosen > 0 &&
        (rc = refine(b, c, chosen, cfg->init_lloyd_iters, cfg->kernel, err)) != SMG_OK)
        goto out;
    for (size_t j = 0; j < chosen; j++)
        for (size_t f = 0; f < d; f++)
            c[j * d + f] -= shift[f];
    if (chosen < K && !cfg->quiet)
        smg_log_info("Batch size %zu holds only %zu distinct initial center(s) of %zu; the rest "
                     "are seeded from later mini-batches.",
                     n, chosen, K);
out:
    smg_free(idx);
    smg_free(s.xn);
    smg_free(s.dense);
    smg_free(s.dmin);
    smg_free(s.pot);
    return rc;
}

/*
 * k-means inference (see kmeans_assign.h): nearest centroid and Euclidean
 * distance for a batch of rows, via sgemm and norms, with an exact double
 * check of near-ties.
 *
 * Rounding bound. In float32 the expansion ‖x‖² − 2x·c + ‖c‖² carries an
 * absolute error of at most about (d + 3)·u·(‖x‖² + 2|x·c| + ‖c‖²), u = 2⁻²⁴,
 * for any summation order (sgemm blocks and FMAs included), and
 * |x·c| ≤ ‖x‖‖c‖. We use bound = (d + 4)·2u·(‖x‖ + ‖c‖)², twice that. Any
 * centroid whose float32 squared distance minus its bound is not above the
 * best's plus its bound might truly be the nearest; when there is more than
 * one such candidate, each is re-measured exactly as Σ(x − c)² in double and
 * the smallest wins (lowest index on ties). The reported distance is the
 * float32 expansion of the winner (SageMaker-like), unless its bound exceeds
 * 1e-3 of the value, when the exact distance is reported instead. A row or
 * model whose squared norms leave float32's comfortable range (in_float_range),
 * or are 0 for a vector that is not (every square underflowed: a row at 1e-25
 * against a unit-scale model), is measured exactly in double for every
 * centroid.
 *
 * CSR rows (smg_kmeans_assign_csr) use the same expansion, in double from the
 * stored values: ‖x‖² and x·c_j over the row's entries, ‖c_j‖² over all d.
 * Float32 inputs cannot leave double's range there (squares of float32 lie
 * within about 1e±90), so no row needs another path for its scale; the bound
 * is the one above with the double epsilon. Candidates within it, and a
 * winner whose bound exceeds 1e-7 of its squared distance, are measured
 * exactly as Σ(x − c)² over all d features in double, from the row spread
 * once into a d-double scratch row: so the answer is the dense one computed in
 * double, and only near-ties or near-zero distances cost O(d).
 */
#include "algorithms/kmeans_assign.h"

#include <cblas.h>
#include <float.h>
#include <limits.h>
#include <stdbool.h>
#include <math.h>
#include <string.h>

#include "algorithms/csr_ops.h"
#include "io/base/alloc.h"

/* Floats of x·cᵀ scratch per block: 4 MiB. */
#define BLOCK_FLOATS (1u << 20)

struct smg_kmeans_assigner {
    size_t k, d;
    float *centroids; /* k × d */
    float *norms;     /* ‖c_j‖², float32 accumulation */
    double *norms_d;  /* ‖c_j‖² in double, for CSR rows */
    double *roots;    /* ‖c_j‖ in double, for the bound */
    bool in_range;    /* every ‖c_j‖² in_float_range: the expansion can be used */
};

/*
 * Squared norms where the float32 expansion keeps its rounding bound: 0 or
 * normal with a wide margin on both sides. Outside (data scaled by 1e-20 or
 * 1e20, say) squares underflow into subnormals or overflow to +INF, and the
 * row is measured exactly in double instead (issue 12: scale safety).
 */
static bool in_float_range(float sq)
{
    return sq == 0.0f || (sq >= 0x1p-100f && sq <= 0x1p100f);
}

/* Whether every value of v is 0: a squared norm of 0 may be squares that underflowed. */
static bool all_zero(const float *v, size_t d)
{
    for (size_t i = 0; i < d; i++)
        if (v[i] != 0.0f)
            return false;
    return true;
}

static float sqnorm(const float *v, size_t d)
{
    float s = 0.0f;
    for (size_t i = 0; i < d; i++)
        s += v[i] * v[i];
    return s;
}

static double exact_sq(const float *x, const float *c, size_t d)
{
    double s = 0.0;
    for (size_t i = 0; i < d; i++) {
        double t = (double)x[i] - (double)c[i];
        s += t * t;
    }
    return s;
}

static double dnorm(const float *v, size_t d)
{
    double s = 0.0;
    for (size_t i = 0; i < d; i++)
        s += (double)v[i] * (double)v[i];
    return s;
}

size_t smg_kmeans_assigner_k(const struct smg_kmeans_assigner *a)
{
    return a->k;
}

size_t smg_kmeans_assigner_d(const struct smg_kmeans_assigner *a)
{
    return a->d;
}

void smg_kmeans_assigner_free(struct smg_kmeans_assigner *a)
{
    if (a == NULL)
        return;
    smg_free(a->centroids);
    smg_free(a->norms);
    smg_free(a->norms_d);
    smg_free(a->roots);
    smg_free(a);
}

enum smg_status smg_kmeans_assigner_new(const float *centroids, size_t k, size_t d,
                                        struct smg_kmeans_assigner **out, struct smg_error *err)
{
    struct smg_kmeans_assigner *a;
    size_t kd, bytes;

    *out = NULL;
    if (centroids == NULL || k == 0 || d == 0 || k > INT_MAX || d > INT_MAX || k > UINT32_MAX ||
        !smg_mul_size(k, d, &kd) || !smg_mul_size(kd, sizeof(float), &bytes))
        return smg_error_set(err, SMG_EINTERNAL, "k-means: bad centroid matrix %zu x %zu", k, d);
    a = smg_calloc(1, sizeof(*a));
    if (a == NULL)
        goto nomem;
    a->k = k;
    a->d = d;
    a->centroids = smg_malloc(bytes);
    a->norms = smg_calloc(k, sizeof(float));
    a->roots = smg_calloc(k, sizeof(double));
    a->norms_d = smg_calloc(k, sizeof(double));
    if (a->centroids == NULL || a->norms == NULL || a->roots == NULL || a->norms_d == NULL)
        goto nomem;
    memcpy(a->centroids, centroids, bytes);
    a->in_range = true;
    for (size_t j = 0; j < k; j++) {
        a->norms[j] = sqnorm(a->centroids + j * d, d);
        a->norms_d[j] = dnorm(a->centroids + j * d, d);
        a->roots[j] = sqrt(a->norms_d[j]);
        a->in_range = a->in_range && in_float_range(a->norms[j]) &&
                      (a->norms[j] != 0.0f || a->norms_d[j] == 0.0);
    }
    *out = a;
    return SMG_OK;
nomem:
    smg_kmeans_assigner_free(a);
    return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for %zu x %zu centroids", k, d);
}

/* The expansion's rounding bound for a row of norm rx and centroid j. */
static double bound_of(const struct smg_kmeans_assigner *a, double rx, size_t j)
{
    double gamma = (double)(a->d + 4) * FLT_EPSILON;
    return gamma * (rx + a->roots[j]) * (rx + a->roots[j]);
}

/* The exact nearest centroid in double (lowest index on ties) and its distance. */
static void assign_row_exact(const struct smg_kmeans_assigner *a, const float *x, uint32_t *closest,
                             float *distance)
{
    double best = -1.0;
    for (size_t j = 0; j < a->k; j++) {
        double e = exact_sq(x, a->centroids + j * a->d, a->d);
        if (best < 0.0 || e < best) {
            best = e;
            *closest = (uint32_t)j;
        }
    }
    if (distance != NULL)
        *distance = (float)sqrt(best);
}

/*
 * Pick the winner of one row. g[j] holds x·c_j on entry and is overwritten
 * with the float32 squared distance ‖x‖² − 2x·c_j + ‖c_j‖².
 */
static void assign_row(const struct smg_kmeans_assigner *a, const float *x, float xx, float *g,
                       uint32_t *closest, float *distance)
{
    const double rx = sqrt((double)xx);
    size_t best = 0, win, candidates = 0;
    double limit, exact = -1.0;

    if (isnan(xx)) {
        *closest = 0;
        if (distance != NULL)
            *distance = NAN;
        return;
    }
    if (!a->in_range || !in_float_range(xx) || (xx == 0.0f && !all_zero(x, a->d))) {
        assign_row_exact(a, x, closest, distance);
        return;
    }
    for (size_t j = 0; j < a->k; j++) {
        g[j] = xx - 2.0f * g[j] + a->norms[j];
        if (!isnan(g[j]) && (isnan(g[best]) || g[j] < g[best]))
            best = j;
    }
    /* Centroids that might truly be nearest, given the rounding bounds. */
    limit = (double)g[best] + bound_of(a, rx, best);
    for (size_t j = 0; j < a->k; j++)
        candidates += (double)g[j] - bound_of(a, rx, j) <= limit;
    win = best;
    if (candidates > 1) {
        for (size_t j = 0; j < a->k; j++) {
            double e;
            if ((double)g[j] - bound_of(a, rx, j) > limit)
                continue;
            e = exact_sq(x, a->centroids + j * a->d, a->d);
            if (exact < 0.0 || e < exact) {
                exact = e;
                win = j;
            }
        }
    }
    *closest = (uint32_t)win;
    if (distance == NULL)
        return;
    if (bound_of(a, rx, win) <= 1e-3 * (double)g[win]) {
        *distance = sqrtf(g[win]);
    } else {
        if (exact < 0.0)
            exact = exact_sq(x, a->centroids + win * a->d, a->d);
        *distance = (float)sqrt(exact);
    }
}

enum smg_status smg_kmeans_assign(const struct smg_kmeans_assigner *a, const float *x, size_t n,
                                  uint32_t *closest, float *distance, struct smg_error *err)
{
    size_t block, done;
    float *g;

    if (n == 0)
        return SMG_OK;
    if (a == NULL || x == NULL || closest == NULL)
        return smg_error_set(err, SMG_EINTERNAL, "k-means assign: NULL argument");
    block = BLOCK_FLOATS / a->k;
    if (block == 0)
        block = 1;
    if (block > n)
        block = n;
    if (block > INT_MAX)
        block = INT_MAX;
    g = smg_calloc(block, a->k * sizeof(float)); /* block * k <= max(2^20, k): no overflow */
    if (g == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means assign: out of memory for %zu x %zu", block,
                             a->k);
    for (done = 0; done < n; done += block) {
        size_t b = n - done < block ? n - done : block;
        const float *xb = x + done * a->d;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)a->k, (int)a->d, 1.0f, xb,
                    (int)a->d, a->centroids, (int)a->d, 0.0f, g, (int)a->k);
        for (size_t i = 0; i < b; i++) {
            const float *row = xb + i * a->d;
            assign_row(a, row, sqnorm(row, a->d), g + i * a->k, closest + done + i,
                       distance != NULL ? distance + done + i : NULL);
        }
    }
    smg_free(g);
    return SMG_OK;
}

enum smg_status smg_kmeans_assign_batch(const float *centroids, size_t k, size_t d, const float *x,
                                        size_t n, uint32_t *closest, float *distance,
                                        struct smg_error *err)
{
    struct smg_kmeans_assigner *a = NULL;
    int rc = smg_kmeans_assigner_new(centroids, k, d, &a, err);

    if (rc == SMG_OK)
        rc = smg_kmeans_assign(a, x, n, closest, distance, err);
    smg_kmeans_assigner_free(a);
    return rc;
}

/* Scratch for CSR rows: dots (k doubles) and, when first needed, one dense row (d doubles). */
struct csr_scratch {
    double *dots;
    double *row; /* all zero between uses */
};

/* Σ(x − c_j)² over all d features in double, x being CSR row i of b. */
static double exact_sq_csr(const struct smg_kmeans_assigner *a, const struct smg_batch *b, size_t i,
                           size_t j, double *row)
{
    const float *c = a->centroids + j * a->d;
    double s = 0.0;

    for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++)
        row[b->indices[p]] = (double)b->values[p];
    for (size_t f = 0; f < a->d; f++) {
        double t = row[f] - (double)c[f];
        s += t * t;
    }
    for (uint64_t p = b->indptr[i]; p < b->indptr[i + 1]; p++)
        row[b->indices[p]] = 0.0;
    return s;
}

/* CSR row i's nearest centroid and distance (file comment: the CSR rule). */
static void assign_csr_row(const struct smg_kmeans_assigner *a, const struct smg_batch *b, size_t i,
                           const struct csr_scratch *sc, uint32_t *closest, float *distance)
{
    const double xx = smg_csr_row_norm2(b, i), rx = sqrt(xx);
    const double gamma = (double)(a->d + 4) * DBL_EPSILON;
    double *g = sc->dots, limit, exact = -1.0, bnd;
    size_t best = 0, win;

    for (size_t j = 0; j < a->k; j++) {
        g[j] = xx - 2.0 * smg_csr_row_dot_f(b, i, a->centroids + j * a->d) + a->norms_d[j];
        if (g[j] < g[best])
            best = j;
    }
    limit = g[best] + gamma * (rx + a->roots[best]) * (rx + a->roots[best]);
    win = best;
    for (size_t j = 0; j < a->k; j++) {
        double e;
        if (j == best || g[j] - gamma * (rx + a->roots[j]) * (rx + a->roots[j]) > limit)
            continue;
        if (exact < 0.0)
            exact = exact_sq_csr(a, b, i, best, sc->row);
        e = exact_sq_csr(a, b, i, j, sc->row);
        if (e < exact || (e == exact && j < win)) {
            exact = e;
            win = j;
        }
    }
    *closest = (uint32_t)win;
    if (distance == NULL)
        return;
    bnd = gamma * (rx + a->roots[win]) * (rx + a->roots[win]);
    if (exact < 0.0 && bnd > 1e-7 * g[win])
        exact = exact_sq_csr(a, b, i, win, sc->row);
    *distance = (float)sqrt(exact >= 0.0 ? exact : g[win]);
}

enum smg_status smg_kmeans_assign_csr(const struct smg_kmeans_assigner *a,
                                      const struct smg_batch *b, uint32_t *closest, float *distance,
                                      struct smg_error *err)
{
    struct csr_scratch sc;

    if (b->rows == 0)
        return SMG_OK;
    if (a == NULL || closest == NULL || !smg_batch_is_csr(b) || b->cols != a->d)
        return smg_error_set(err, SMG_EINTERNAL, "k-means assign: not a CSR batch of %zu columns",
                             a != NULL ? a->d : 0);
    sc.dots = smg_malloc(a->k * sizeof(double));
    sc.row = smg_calloc(a->d, sizeof(double));
    if (sc.dots == NULL || sc.row == NULL) {
        smg_free(sc.dots);
        smg_free(sc.row);
        return smg_error_set(err, SMG_ENOMEM, "k-means assign: out of memory for %zu features",
                             a->d);
    }
    for (size_t i = 0; i < b->rows; i++)
        assign_csr_row(a, b, i, &sc, closest + i, distance != NULL ? distance + i : NULL);
    smg_free(sc.dots);
    smg_free(sc.row);
    return SMG_OK;
}

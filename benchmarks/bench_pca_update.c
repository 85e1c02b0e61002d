/*
 * The cost and accuracy of PCA's covariance update, per row, in isolation.
 *
 *   bench_pca_update [rows316] [rows6] [block,block,...]
 *
 * Two data sets (generated here, seeded): taxi-like rows at d=6 (coordinates
 * thousands of standard deviations from zero, the hard case of the tests) and
 * d=316 (those columns plus noisy mixes, as benchmarks/bench_pca.py writes).
 * For each, kernels of the regular-mode block update are timed and their
 * eigenvalues compared with a float64 two-pass reference:
 *
 *   dsyrk      the block centred on its own double mean into double, dsyrk
 *   prep       everything but the syrk: block mean, centring, Chan merge
 *   ssyrk      the same centring, rounded to float, ssyrk (beta 0) into a float
 *              d x d scratch that is added into the double accumulator
 *
 * each at several block sizes and with 1 and 2 OpenBLAS threads. Then the
 * library itself (smg_pca_update + smg_pca_solve) is timed the same way. The
 * figures are ns/row (median and minimum of 5; with a breakdown of the last
 * run into block mean, centring, syrk and merge) and the worst relative
 * eigenvalue error (over the top 10, or all 6 at d=6). This is what chose the
 * library's kernel: see the measurements in algorithms/pca.c. A row count of 0
 * skips that data set.
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "algorithms/pca.h"

#define REPS 5

static uint64_t rng_state;

static double rng_uniform(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(void)
{
    double u = rng_uniform(), v = rng_uniform();
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Taxi-like base columns, then d - 6 mixes of them plus noise. */
static float *make_rows(size_t n, size_t d, uint64_t seed)
{
    float *x = malloc(n * d * sizeof(float));
    double *mix = malloc(6 * (d > 6 ? d - 6 : 1) * sizeof(double));

    rng_state = seed;
    for (size_t i = 0; i < 6 * (d > 6 ? d - 6 : 1); i++)
        mix[i] = 0.3 * rng_normal();
    for (size_t i = 0; i < n; i++) {
        double b[6], z[6];
        for (int j = 0; j < 6; j++)
            z[j] = rng_normal();
        b[0] = -73.98 + 0.04 * z[0];
        b[1] = 40.75 + 0.03 * (0.3 * z[0] + 0.954 * z[1]);
        b[2] = b[0] + 0.02 * z[2];
        b[3] = b[1] + 0.015 * z[3];
        b[4] = 3.0 + 2.0 * z[4];
        b[5] = 12.0 + 2.5 * (b[4] - 3.0) + z[5];
        for (size_t f = 0; f < d && f < 6; f++)
            x[i * d + f] = (float)b[f];
        for (size_t f = 6; f < d; f++) {
            double v = 0.1 * rng_normal();
            for (int j = 0; j < 6; j++)
                v += b[j] * mix[j * (d - 6) + (f - 6)];
            x[i * d + f] = (float)v;
        }
    }
    free(mix);
    return x;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* All eigenvalues (ascending) of the upper triangle of m (destroyed). */
static void eigenvalues(double *m, size_t d, double *w)
{
    if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'N', 'U', (lapack_int)d, m, (lapack_int)d, w) != 0)
        exit(1);
}

/* Two-pass float64 reference co-moment. */
static void reference(const float *x, size_t n, size_t d, double *m2)
{
    double *mean = calloc(d, sizeof(double)), *c = malloc(4096 * d * sizeof(double));
    for (size_t i = 0; i < n; i++)
        for (size_t f = 0; f < d; f++)
            mean[f] += x[i * d + f];
    for (size_t f = 0; f < d; f++)
        mean[f] /= (double)n;
    memset(m2, 0, d * d * sizeof(double));
    for (size_t i0 = 0; i0 < n; i0 += 4096) {
        size_t m = n - i0 < 4096 ? n - i0 : 4096;
        for (size_t i = 0; i < m; i++)
            for (size_t f = 0; f < d; f++)
                c[i * d + f] = (double)x[(i0 + i) * d + f] - mean[f];
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)m, 1.0, c, (int)d, 1.0, m2,
                    (int)d);
    }
    free(mean);
    free(c);
}

/* Seconds in: block mean, centring (dsyrk), syrk (or float centring + ssyrk), merge. */
static double phase[4];

struct acc {
    size_t d;
    double n, *mean, *m2, *b;
    double *xc;
    float *xf, *sf;
};

/* One block, Chan merge; single: 0 dsyrk, 1 ssyrk (float32 products), 2 none. */
static void block(struct acc *a, const float *x, size_t m, int single)
{
    const size_t d = a->d;
    double n_a = a->n, n = a->n + (double)m, f;
    double *b = a->b, t0 = now(), t1, t2, t3;

    for (size_t j = 0; j < d; j++)
        b[j] = 0.0;
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < d; j++)
            b[j] += (double)x[i * d + j];
    for (size_t j = 0; j < d; j++)
        b[j] /= (double)m;
    t1 = now();
    if (single == 1) {
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < d; j++)
                a->xf[i * d + j] = (float)((double)x[i * d + j] - b[j]);
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)m, 1.0f, a->xf, (int)d,
                    0.0f, a->sf, (int)d);
        for (size_t i = 0; i < d; i++)
            for (size_t j = i; j < d; j++)
                a->m2[i * d + j] += (double)a->sf[i * d + j];
    } else {
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < d; j++)
                a->xc[i * d + j] = (double)x[i * d + j] - b[j];
        t2 = now();
        phase[1] += t2 - t1;
        t1 = t2;
        if (single == 0)
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)m, 1.0, a->xc, (int)d,
                        1.0, a->m2, (int)d);
    }
    t2 = now();
    for (size_t j = 0; j < d; j++)
        b[j] -= a->mean[j];
    f = n_a * (double)m / n;
    if (f > 0.0)
        for (size_t i = 0; i < d; i++)
            for (size_t j = i; j < d; j++)
                a->m2[i * d + j] += f * b[i] * b[j];
    for (size_t j = 0; j < d; j++)
        a->mean[j] += b[j] * ((double)m / n);
    a->n = n;
    t3 = now();
    phase[0] += t1 - t0;
    phase[2] += t2 - t1;
    phase[3] += t3 - t2;
}

/* Worst relative error of the top k eigenvalues of m2 (destroyed) against w_ref. */
static double eig_error(double *m2, size_t d, size_t k, const double *w_ref)
{
    double *w = malloc(d * sizeof(double)), worst = 0.0;
    eigenvalues(m2, d, w);
    for (size_t j = d - k; j < d; j++)
        worst = fmax(worst, fabs(w[j] - w_ref[j]) / w_ref[j]);
    free(w);
    return worst;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void run_kernel(const float *x, size_t n, size_t d, size_t k, const double *w_ref, size_t m,
                       int single)
{
    struct acc a = {.d = d};
    double t[REPS], err = 0.0;

    a.mean = calloc(d, sizeof(double));
    a.b = calloc(d, sizeof(double));
    a.m2 = calloc(d * d, sizeof(double));
    a.xc = malloc(m * d * sizeof(double));
    a.xf = malloc(m * d * sizeof(float));
    a.sf = malloc(d * d * sizeof(float));
    for (int r = 0; r < REPS; r++) {
        double t0 = now();
        memset(phase, 0, sizeof(phase));
        a.n = 0.0;
        memset(a.mean, 0, d * sizeof(double));
        memset(a.m2, 0, d * d * sizeof(double));
        for (size_t i = 0; i < n; i += m)
            block(&a, x + i * d, n - i < m ? n - i : m, single);
        t[r] = (now() - t0) / (double)n * 1e9;
    }
    qsort(t, REPS, sizeof(double), cmp);
    err = eig_error(a.m2, d, k, w_ref);
    if (single == 2)
        printf("  %-6s block %5zu: %8.1f ns/row (min %8.1f)\n", "prep", m, t[REPS / 2], t[0]);
    else
        printf("  %-6s block %5zu: %8.1f ns/row (min %8.1f)  eig rel err %.2e\n",
               single ? "ssyrk" : "dsyrk", m, t[REPS / 2], t[0], err);
    printf("         last run: mean %.1f, centre %.1f, syrk %.1f, merge %.1f ns/row\n",
           phase[0] / (double)n * 1e9, phase[1] / (double)n * 1e9, phase[2] / (double)n * 1e9,
           phase[3] / (double)n * 1e9);
    free(a.mean);
    free(a.b);
    free(a.m2);
    free(a.xc);
    free(a.xf);
    free(a.sf);
}

static void run_library(const float *x, size_t n, size_t d, size_t k)
{
    struct smg_pca_config cfg = {.feature_dim = d, .num_components = k, .subtract_mean = true};
    struct smg_error err = {0};
    double t[3];

    for (int r = 0; r < 3; r++) {
        struct smg_pca *p = NULL;
        struct smg_pca_result res;
        double t0 = now();
        if (smg_pca_new(&cfg, &p, &err) != SMG_OK)
            exit(1);
        for (size_t i = 0; i < n; i += 5000) {
            struct smg_batch b = {.x = x + i * d, .rows = n - i < 5000 ? n - i : 5000, .cols = d};
            if (smg_pca_update(p, &b, &err) != SMG_OK)
                exit(1);
        }
        if (smg_pca_solve(p, &res, &err) != SMG_OK)
            exit(1);
        t[r] = (now() - t0) / (double)n * 1e9;
        smg_pca_result_free(&res);
        smg_pca_free(p);
    }
    qsort(t, 3, sizeof(double), cmp);
    printf("  library (update+solve, k=%zu): %8.1f ns/row\n", k, t[1]);
}

static size_t blocks[8] = {256, 1024, 4096, 16384};
static size_t n_blocks = 4;

static void suite(size_t n, size_t d, size_t k)
{
    float *x = make_rows(n, d, 20240611 + d);
    double *m2 = malloc(d * d * sizeof(double)), *w = malloc(d * sizeof(double));

    reference(x, n, d, m2);
    eigenvalues(m2, d, w);
    printf("d=%zu, %zu rows, top %zu eigenvalues (largest %.6g, smallest compared %.6g)\n", d, n, k,
           w[d - 1], w[d - k]);
    for (int threads = 1; threads <= 2; threads++) {
        openblas_set_num_threads(threads);
        printf(" OpenBLAS threads %d\n", threads);
        for (size_t i = 0; i < n_blocks; i++) {
            if (blocks[i] > n)
                continue;
            run_kernel(x, n, d, k, w, blocks[i], 0);
            run_kernel(x, n, d, k, w, blocks[i], 1);
            if (threads == 1)
                run_kernel(x, n, d, k, w, blocks[i], 2);
        }
        run_library(x, n, d, k < 10 ? k : 10);
    }
    free(x);
    free(m2);
    free(w);
}

int main(int argc, char **argv)
{
    size_t n316 = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 100000;
    size_t n6 = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : 2000000;

    if (argc > 3) { /* block sizes, comma-separated */
        char *s = argv[3], *end;
        for (n_blocks = 0; n_blocks < 8 && *s; s = *end ? end + 1 : end)
            blocks[n_blocks++] = (size_t)strtoull(s, &end, 10);
    }

    if (n6 > 0)
        suite(n6, 6, 6);
    if (n316 > 0)
        suite(n316, 316, 10);
    return 0;
}

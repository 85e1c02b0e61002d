/*
 * Fuzz target: adversarial data through the algorithms themselves, with
 * allocation failures injected (issue 13: the probes' crashes were where the
 * parser fuzzers did not reach).
 *
 * Input: a 6-byte header, then float32 values. Header bytes:
 *   0  what to run: PCA regular, PCA randomized, k-means training (init,
 *      steps, shrink), inference (k-means assignment and PCA projection)
 *   1  feature_dim 1..8      2  k / num_components 1..4 (capped at d for PCA)
 *   3  the allocation that fails (0: none; n: the n-th, via smg_alloc_fail_after)
 *   4  rows 1..64            5  bit 0 subtract_mean; bit 1 every row a copy of row 0
 *                              (duplicates); bits 2-7 a decimal scale 10^(s - 32)
 * Values are the input's bytes as float32, times the scale; a NaN or infinity
 * becomes +-FLT_MAX, so data is NaN-free but may be huge, tiny, subnormal,
 * duplicated or rank-deficient. Every call must succeed or fail with a status
 * and a message; never crash, hang, leak or read freed memory (ASan).
 * Randomized PCA alternates between the Gram sketch (shifted solve), the sign
 * sketch (byte 3's bit 2) and the Gram sketch's unshifted solve (bit 3), with
 * allocation failures injected in its constructor too.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/comm.h"
#include "algorithms/kmeans.h"
#include "algorithms/kmeans_assign.h"
#include "algorithms/pca.h"
#include "algorithms/pca_project.h"
#include "io/base/alloc.h"

#define MAX_ROWS 64
#define MAX_D    8

struct fuzz_case {
    unsigned what, fail_at;
    size_t d, k, rows;
    bool subtract_mean;
    float x[MAX_ROWS * MAX_D];
};

static void check(int rc, const struct smg_error *err)
{
    if (rc != SMG_OK && err->msg[0] == '\0')
        abort(); /* every failure says what failed */
}

static void read_case(const uint8_t *data, size_t size, struct fuzz_case *c)
{
    const uint8_t *v = data + 6;
    size_t nv = (size - 6) / 4;
    float scale = powf(10.0f, (float)((data[5] >> 2) & 63) - 32.0f);

    c->what = data[0] % 4;
    c->d = 1 + data[1] % MAX_D;
    c->k = 1 + data[2] % 4;
    c->fail_at = data[3];
    c->rows = 1 + data[4] % MAX_ROWS;
    c->subtract_mean = data[5] & 1;
    for (size_t i = 0; i < c->rows * c->d; i++) {
        size_t src = (data[5] & 2) ? i % c->d : i;
        float f = 0.0f;
        if (nv > 0)
            memcpy(&f, v + 4 * (src % nv), 4);
        f *= scale;
        if (!isfinite(f))
            f = signbit(f) ? -FLT_MAX : FLT_MAX;
        c->x[i] = f;
    }
}

static void run_pca(struct fuzz_case *c, bool randomized)
{
    struct smg_pca_config cfg = {
        .feature_dim = c->d,
        .num_components = c->k > c->d ? c->d : c->k,
        .subtract_mean = c->subtract_mean,
        .mode = randomized ? SMG_PCA_RANDOMIZED : SMG_PCA_REGULAR,
        .extra_components = c->fail_at % 3,
        .seed = SMG_PCA_DEFAULT_SEED,
        .sketch = (c->fail_at & 4)   ? SMG_PCA_SKETCH_SIGNS
                  : (c->fail_at & 8) ? SMG_PCA_SKETCH_GRAM_UNSHIFTED
                                     : SMG_PCA_SKETCH_GRAM,
    };
    struct smg_batch b = {.x = c->x, .rows = c->rows, .cols = c->d};
    struct smg_pca_result res;
    struct smg_pca *p = NULL;
    struct smg_error err;
    double sse = 0.0, count = 0.0;
    int rc;

    memset(&res, 0, sizeof(res));
    smg_error_clear(&err);
    if (c->fail_at)
        smg_alloc_fail_after(c->fail_at - 1);
    rc = smg_pca_new(&cfg, &p, &err);
    if (rc == SMG_OK)
        rc = smg_pca_update(p, &b, &err);
    if (rc == SMG_OK)
        rc = smg_pca_solve(p, &res, &err);
    if (rc == SMG_OK)
        rc = smg_pca_reconstruction_sse(&res, &b, &sse, &count, &err);
    check(rc, &err);
    smg_alloc_reset();
    smg_pca_result_free(&res);
    smg_pca_free(p);
}

static void run_kmeans(struct fuzz_case *c)
{
    struct smg_kmeans_config cfg = {0};
    struct smg_batch b = {.x = c->x, .rows = c->rows, .cols = c->d};
    struct smg_comm comm;
    struct smg_kmeans *km = NULL;
    struct smg_error err;
    float centers[4 * MAX_D];
    double loss = 0.0;
    bool done = false;
    int rc;

    cfg.k = c->k;
    cfg.extra_center_factor = 1 + c->fail_at % 3;
    cfg.dim = c->d;
    cfg.init_method = c->subtract_mean ? SMG_KMEANS_INIT_KMEANSPP : SMG_KMEANS_INIT_RANDOM;
    cfg.seed = 7;
    cfg.init_lloyd_iters = 3;
    cfg.lloyd_init_method = SMG_KMEANS_INIT_KMEANSPP;
    cfg.lloyd_max_iter = 20;
    cfg.lloyd_tol = 1e-4;
    cfg.lloyd_trials = 2;
    cfg.quiet = true;
    cfg.kernel = SMG_KMEANS_KERNEL_PORTABLE;
    smg_comm_solo(&comm);
    smg_error_clear(&err);
    if (c->fail_at)
        smg_alloc_fail_after(c->fail_at - 1);
    rc = smg_kmeans_new(&cfg, &km, &err);
    if (rc == SMG_OK)
        rc = smg_kmeans_init(km, &comm, &b, &err);
    for (int step = 0; rc == SMG_OK && !done && step < 4; step++)
        rc = smg_kmeans_step(km, &comm, step < 2 ? &b : NULL, &done, &err);
    if (rc == SMG_OK)
        rc = smg_kmeans_shrink(km, centers, &loss, &err);
    check(rc, &err);
    smg_alloc_reset();
    smg_kmeans_free(km);
}

/* Inference: the first k rows are the model (centroids, or a d x k projection). */
static void run_inference(struct fuzz_case *c)
{
    uint32_t closest[MAX_ROWS];
    float dist[MAX_ROWS], out[MAX_ROWS * MAX_D];
    struct smg_error err;
    size_t k = c->k > c->rows ? c->rows : c->k;
    int rc;

    smg_error_clear(&err);
    if (c->fail_at)
        smg_alloc_fail_after(c->fail_at - 1);
    rc = smg_kmeans_assign_batch(c->x, k, c->d, c->x, c->rows, closest, dist, &err);
    check(rc, &err);
    for (size_t i = 0; rc == SMG_OK && i < c->rows; i++)
        if (closest[i] >= k)
            abort();
    smg_error_clear(&err);
    rc = smg_pca_project(c->x, c->d, 1, c->subtract_mean ? c->x : NULL, c->x, c->rows, out, &err);
    check(rc, &err);
    smg_alloc_reset();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_case c;

    if (size < 6)
        return 0;
    read_case(data, size, &c);
    switch (c.what) {
    case 0: run_pca(&c, false); break;
    case 1: run_pca(&c, true); break;
    case 2: run_kmeans(&c); break;
    default: run_inference(&c); break;
    }
    return 0;
}

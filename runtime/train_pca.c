/*
 * `smalgo train` for PCA: SageMaker's built-in PCA, one streaming pass.
 *
 * Reads the hyperparameters (feature_dim, mini_batch_size, num_components,
 * algorithm_mode, subtract_mean, extra_components), streams the `train`
 * channel's mini-batches into the accumulator of algorithms/pca.h, combines
 * ranks with one allreduce, solves, and writes model/model_<host>: an MXNet
 * NDArray named dict, in this order, all float32, exactly as SageMaker's PCA
 * writes it:
 *     s     (num_components)               singular values of the centred data
 *     v     (feature_dim, num_components)  column j is the component of s[j]
 *     mean  (1, feature_dim)               only when subtract_mean is true
 * ascending s in regular mode, descending in randomized mode. A projection is
 * (x - mean) . v.
 *
 * Logs and metrics: #progress_metric and #throughput_metric after the pass;
 * timings initialize.time, epochs, update.time, finalize.time (and
 * model.serialize.time from the model writer) for the #metrics line; with a
 * `test` channel, "#quality_metric: host=algo-1, test reconstruction_mse
 * <loss>=..." -- the mean over the test rows and features of the squared
 * error of reconstructing x from its projection, (x - mean) - (x - mean) V V^T
 * (mean omitted without subtract_mean). That metric is ours: SageMaker's PCA
 * reports none.
 *
 * Client errors: num_components > feature_dim; an empty train channel (all
 * ranks together); rows whose feature count is not feature_dim (the decoder);
 * fewer training records than num_components (an error, not a warning: the
 * components past the data's rank would be arbitrary directions).
 * epochs > 1 is accepted and ignored: one pass computes the exact answer.
 */
#include <string.h>

#include "runtime/algorithm.h"
#include "io/base/alloc.h"
#include "runtime/hparam_tables.h"
#include "runtime/job.h"
#include "io/base/log.h"
#include "algorithms/pca.h"

#define MS(t0) ((smg_now() - (t0)) * 1000.0)

static int read_config(struct smg_job *job, struct smg_pca_config *cfg, size_t *batch_rows)
{
    const struct smg_hparams *hp = job->hp;

    memset(cfg, 0, sizeof(*cfg));
    cfg->feature_dim = (size_t)smg_hp_int(hp, "feature_dim");
    cfg->num_components = (size_t)smg_hp_int(hp, "num_components");
    cfg->subtract_mean = smg_hp_bool(hp, "subtract_mean");
    cfg->mode = strcmp(smg_hp_str(hp, "algorithm_mode"), "randomized") == 0 ? SMG_PCA_RANDOMIZED
                                                                            : SMG_PCA_REGULAR;
    cfg->extra_components = smg_hp_int(hp, "extra_components");
    cfg->seed = SMG_PCA_DEFAULT_SEED;
    cfg->rank = job->comm.rank;
    *batch_rows = (size_t)smg_hp_int(hp, "mini_batch_size");
    if (smg_hp_present(hp, "epochs") && smg_hp_int(hp, "epochs") > 1)
        smg_log_info("PCA makes one pass over the data; epochs=%lld is ignored",
                     smg_hp_int(hp, "epochs"));
    return SMG_OK;
}

static int update_batch(void *p, const struct smg_batch *b, struct smg_error *err)
{
    return smg_pca_update(p, b, err);
}

struct test_ctx {
    const struct smg_pca_result *res;
    double sums[2]; /* squared error, values */
};

static int test_batch(void *ctx, const struct smg_batch *b, struct smg_error *err)
{
    struct test_ctx *t = ctx;

    return smg_pca_reconstruction_sse(t->res, b, &t->sums[0], &t->sums[1], err);
}

/* The reconstruction error of the `test` channel, summed over ranks. */
static int test_metric(struct smg_job *job, const struct smg_pca_result *res, size_t batch_rows,
                       struct smg_error *err)
{
    struct test_ctx ctx = {res, {0.0, 0.0}};
    double *sums = ctx.sums;
    int rc;

    if (smg_job_channel(job, "test") == NULL) {
        if (job->rank_on_host == 0)
            smg_log_info("Test data is not provided.");
        return SMG_OK;
    }
    rc = smg_job_read_channel(job, "test", res->feature_dim, batch_rows, test_batch, &ctx, NULL,
                              err);
    if (rc != SMG_OK)
        return rc;
    rc = smg_comm_sum_f64(&job->comm, sums, 2, err);
    if (rc != SMG_OK)
        return rc;
    if (sums[1] == 0.0)
        return smg_error_set(err, SMG_EFORMAT, "no records in channel test");
    smg_job_quality_metric(job, "test reconstruction_mse", sums[0] / sums[1]);
    return SMG_OK;
}

static int set_array(struct smg_ndarray *a, const char *name, uint32_t ndim, int64_t d0, int64_t d1,
                     const double *src, size_t n)
{
    float *data = smg_malloc(n * sizeof(float));

    a->name = smg_strdup(name);
    if (data == NULL || a->name == NULL) {
        smg_free(data);
        return SMG_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        data[i] = (float)src[i];
    a->ndim = ndim;
    a->shape[0] = d0;
    a->shape[1] = d1;
    a->dtype = SMG_DTYPE_FLOAT32;
    a->dev_type = 1;
    a->dev_id = 0;
    a->magic = 0xF993FAC9u;
    a->data = data;
    a->nbytes = n * sizeof(float);
    return SMG_OK;
}

static int write_model(struct smg_job *job, const struct smg_pca_result *res, struct smg_error *err)
{
    const size_t d = res->feature_dim, k = res->num_components;
    struct smg_ndarray_file *f = smg_ndarray_file_new(res->mean ? 3 : 2, true);
    int rc = SMG_ENOMEM;

    if (f == NULL)
        goto out;
    if (set_array(&f->arrays[0], "s", 1, (int64_t)k, 0, res->s, k) != SMG_OK ||
        set_array(&f->arrays[1], "v", 2, (int64_t)d, (int64_t)k, res->v, d * k) != SMG_OK ||
        (res->mean && set_array(&f->arrays[2], "mean", 2, 1, (int64_t)d, res->mean, d) != SMG_OK))
        goto out;
    rc = smg_job_write_model(job, f, err);
out:
    if (rc == SMG_ENOMEM)
        smg_error_set(err, SMG_ENOMEM, "pca: out of memory building the model file");
    smg_ndarray_file_free(f);
    return rc;
}

static int train(struct smg_job *job, struct smg_error *err)
{
    struct smg_pca_config cfg;
    struct smg_pca *p = NULL;
    struct smg_pca_result res;
    size_t batch_rows;
    struct smg_job_pass pass = {0, 0.0};
    uint64_t local_rows;
    double t0 = smg_now(), seconds;
    int rc;

    memset(&res, 0, sizeof(res));
    read_config(job, &cfg, &batch_rows);
    rc = smg_pca_new(&cfg, &p, err);
    if (rc != SMG_OK)
        goto out;
    if (cfg.mode == SMG_PCA_RANDOMIZED && job->rank_on_host == 0) {
        size_t l = smg_pca_sketch_rows(p);
        smg_log_info("Randomized PCA: a %zu x %zu sketch (num_components %zu + extra_components "
                     "%zu)",
                     l, cfg.feature_dim, cfg.num_components, l - cfg.num_components);
        if (l >= cfg.feature_dim)
            smg_log_warn("The total number of components and extra components should be less "
                         "than the number of features.");
    }
    smg_job_add_timing(job, "initialize.time", MS(t0));

    /* This rank's share of `train`: with several ranks one may get no files (checked below). */
    rc = smg_job_read_channel(job, "train", cfg.feature_dim, batch_rows, update_batch, p, &pass,
                              err);
    if (rc != SMG_OK)
        goto out;
    seconds = pass.seconds;
    local_rows = smg_pca_rows(p);
    smg_job_add_timing(job, "epochs", 1.0);
    smg_job_add_timing(job, "update.time", seconds * 1000.0);
    smg_job_progress_metric(job, 100.0);
    smg_job_throughput_metric(job, "train", seconds > 0.0 ? (double)local_rows / seconds : 0.0);
    smg_log_info("Read %llu records (%.1f MB) in %.3f s on rank %d", (unsigned long long)local_rows,
                 (double)pass.bytes / 1e6, seconds, job->comm.rank);

    t0 = smg_now();
    rc = smg_pca_allreduce(p, &job->comm, err);
    if (rc != SMG_OK)
        goto out;
    if (smg_pca_rows(p) == 0) {
        rc = smg_error_set(err, SMG_EFORMAT, "no records in channel train");
        goto out;
    }
    if (smg_pca_rows(p) < cfg.num_components) {
        rc = smg_error_set(err, SMG_EFORMAT,
                           "the train channel has %llu records, fewer than num_components (%zu); "
                           "give at least num_components records or lower num_components",
                           (unsigned long long)smg_pca_rows(p), cfg.num_components);
        goto out;
    }
    rc = smg_pca_solve(p, &res, err);
    if (rc != SMG_OK)
        goto out;
    smg_job_add_timing(job, "finalize.time", MS(t0));
    if (job->comm.rank == 0)
        smg_log_info("PCA (%s mode) on %llu records: largest singular value %g",
                     cfg.mode == SMG_PCA_RANDOMIZED ? "randomized" : "regular",
                     (unsigned long long)smg_pca_rows(p),
                     cfg.mode == SMG_PCA_RANDOMIZED ? res.s[0] : res.s[res.num_components - 1]);

    rc = write_model(job, &res, err);
    if (rc != SMG_OK)
        goto out;
    rc = test_metric(job, &res, batch_rows, err);
out:
    smg_pca_result_free(&res);
    smg_pca_free(p);
    return rc;
}

const struct smg_algorithm smg_algorithm_pca = {
    .name = "pca",
    .metrics_name = "PCA",
    .identifying_hp = "num_components",
    .hparams = smg_pca_hparams,
    .n_hparams = SMG_PCA_N_HPARAMS,
    .train = train,
};

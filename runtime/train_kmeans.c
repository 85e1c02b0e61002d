/*
 * `smalgo train` for k-means: SageMaker's streaming web-scale k-means
 * (algorithms/kmeans.h), one MPI rank per host (or several ranks on one host
 * in File mode).
 *
 * Flow: read the hyperparameters; for each epoch open the `train` channel's
 * epoch and stream it: in epoch 0 rank 0 initialises the K = k *
 * extra_center_factor centers from its first mini-batch and broadcasts them;
 * every mini-batch is one collective step (one allreduce); a rank whose data
 * ran out keeps stepping with empty contributions until a step holds no rows
 * on any rank. Epoch 0 also fills each rank's bounded reservoir sample. Then
 * shrink K -> k (weighted Lloyd, best of local_lloyd_num_trials), polish the k
 * centers with Lloyd on the reservoir sample (kmeans_sample.c says why), and
 * write model/model_algo-1: an unnamed NDArray list holding one float32
 * (k, feature_dim) array of centroids, as SageMaker writes it.
 *
 * The polish is smalgo's addition to SageMaker's documented algorithm; it is
 * what brings the model within 2% of scikit-learn's KMeans(n_init=10) msd, so
 * it is on by default. The environment variable SMALGO_KMEANS_POLISH chooses:
 *   unset, "", 1, true, on, yes: polish (default);
 *   0, false, off, no: SageMaker's documented behaviour only (stream + shrink),
 *     no sample is kept and the shrink result is the model;
 *   anything else: a ClientError naming the variable.
 * Rank 0 logs which one ran: "k-means polish: on (...)" or "k-means polish:
 * off (SMALGO_KMEANS_POLISH=0): the model is the shrink result".
 *
 * `auto` values: extra_center_factor = 10 and local_lloyd_num_trials = 10, as
 * SageMaker's logs show. The seed is fixed (SMG_KMEANS_TRAIN_SEED): results are
 * the same for the same data, rank count and BLAS thread count. The initial
 * centers are refined by up to SMG_KMEANS_INIT_LLOYD_ITERS Lloyd iterations on
 * the first mini-batch.
 *
 * Metrics:
 *   train msd: as in SageMaker's logs, the loss of the best local Lloyd attempt
 *     of the shrink, i.e. the weighted mean squared distance of the K
 *     streaming centers (weights = their counts) to the k centers it found.
 *     It leaves out the spread of the rows around their streaming center, so
 *     it is smaller than the training data's msd to the model. With
 *     extra_center_factor = 1 (no shrink) it is the reservoir sample's msd to
 *     the final centers, or without the polish the streaming msd (each row's
 *     exact squared distance to its nearest center when it was assigned, over
 *     all epochs and ranks).
 *   test msd / test ssd (each of eval_metrics, with a `test` channel): exact
 *     mean / sum over all test rows of the squared distance to the closest
 *     final center, summed over ranks.
 *   #progress_metric per epoch, #throughput_metric (training records of all
 *   ranks per second of streaming), and timings initialize.time, epochs,
 *   update.time, _shrink.time, finalize.time (+ model.serialize.time from the
 *   model writer) for the #metrics line.
 *
 * Client errors: fewer training records than k (after epoch 0, all ranks
 * together), no training records, an eval_metrics list naming no metric, an
 * empty test channel; hyperparameter types and ranges are the table's
 * (hparams_kmeans.c).
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/algorithm.h"
#include "io/base/alloc.h"
#include "runtime/hparam_tables.h"
#include "runtime/job.h"
#include "algorithms/kmeans.h"
#include "io/base/log.h"

#define SMG_KMEANS_TRAIN_SEED       0x5EEDC0DEull
#define SMG_KMEANS_INIT_LLOYD_ITERS 20
#define MS(t0)                      ((smg_now() - (t0)) * 1000.0)

/* SMALGO_KMEANS_POLISH: *on = true unless it says 0/false/off/no. */
static int polish_choice(bool *on, struct smg_error *err)
{
    static const char *const yes[] = {"", "1", "true", "on", "yes"};
    static const char *const no[] = {"0", "false", "off", "no"};
    const char *v = getenv("SMALGO_KMEANS_POLISH");

    *on = true;
    if (v == NULL)
        return SMG_OK;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        if (strcmp(v, yes[i]) == 0)
            return SMG_OK;
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (strcmp(v, no[i]) == 0) {
            *on = false;
            return SMG_OK;
        }
    return smg_error_set(err, SMG_ECONFIG,
                         "environment variable SMALGO_KMEANS_POLISH='%.40s' is not one of 1, true, "
                         "on, yes, 0, false, off, no",
                         v);
}

static int read_config(struct smg_job *job, struct smg_kmeans_config *cfg, size_t *batch_rows,
                       unsigned *epochs, struct smg_error *err)
{
    const struct smg_hparams *hp = job->hp;
    bool log = job->rank_on_host == 0 && job->comm.rank == 0;

    memset(cfg, 0, sizeof(*cfg));
    cfg->k = (size_t)smg_hp_int(hp, "k");
    cfg->dim = (size_t)smg_hp_int(hp, "feature_dim");
    *batch_rows = (size_t)smg_hp_int(hp, "mini_batch_size");
    *epochs = (unsigned)smg_hp_int(hp, "epochs");
    cfg->init_method = strcmp(smg_hp_str(hp, "init_method"), "kmeans++") == 0
                           ? SMG_KMEANS_INIT_KMEANSPP
                           : SMG_KMEANS_INIT_RANDOM;
    cfg->lloyd_init_method = strcmp(smg_hp_str(hp, "local_lloyd_init_method"), "random") == 0
                                 ? SMG_KMEANS_INIT_RANDOM
                                 : SMG_KMEANS_INIT_KMEANSPP;
    if (smg_hp_is_auto(hp, "extra_center_factor")) {
        cfg->extra_center_factor = SMG_KMEANS_AUTO_EXTRA_CENTER_FACTOR;
        if (log)
            smg_log_info("'extra_center_factor' was set to 'auto', evaluated to %d.",
                         SMG_KMEANS_AUTO_EXTRA_CENTER_FACTOR);
    } else {
        cfg->extra_center_factor = (size_t)smg_hp_int(hp, "extra_center_factor");
    }
    if (smg_hp_is_auto(hp, "local_lloyd_num_trials")) {
        cfg->lloyd_trials = SMG_KMEANS_AUTO_LLOYD_TRIALS;
        if (log)
            smg_log_info("'local_lloyd_num_trials' was set to 'auto', evaluated to %d.",
                         SMG_KMEANS_AUTO_LLOYD_TRIALS);
    } else {
        cfg->lloyd_trials = (unsigned)smg_hp_int(hp, "local_lloyd_num_trials");
    }
    cfg->half_life = (uint64_t)smg_hp_int(hp, "half_life_time_size");
    cfg->lloyd_max_iter = (unsigned)smg_hp_int(hp, "local_lloyd_max_iter");
    cfg->lloyd_tol = smg_hp_float(hp, "local_lloyd_tol");
    cfg->seed = SMG_KMEANS_TRAIN_SEED;
    cfg->init_lloyd_iters = SMG_KMEANS_INIT_LLOYD_ITERS;
    cfg->quiet = job->comm.rank != 0;
    if (!smg_hp_list_has(hp, "eval_metrics", "msd") && !smg_hp_list_has(hp, "eval_metrics", "ssd"))
        return smg_error_set(err, SMG_ECONFIG,
                             "hyperparameter eval_metrics names no metric; allowed: [\"msd\"], "
                             "[\"ssd\"] or [\"msd\", \"ssd\"]");
    return SMG_OK;
}

/* One epoch of collective steps. Rank 0 initialises from its first batch in epoch 0. */
static int run_epoch(struct smg_job *job, struct smg_channel *ch, unsigned e, size_t batch_rows,
                     struct smg_kmeans *km, struct smg_kmeans_sample *smp, double *init_ms,
                     struct smg_error *err)
{
    struct smg_batch b;
    bool have = true, done = false, pending = false;
    int rc = smg_channel_begin_epoch(ch, e, err);

    if (rc != SMG_OK)
        return rc;
    if (e == 0) {
        double t0 = smg_now();
        if (job->comm.rank == 0) {
            rc = smg_channel_next_batch(ch, &b, err);
            if (rc == SMG_EEOF)
                have = false;
            else if (rc != SMG_OK)
                return rc;
            pending = have;
            if (have && b.rows < batch_rows)
                smg_log_info("Batch size %zu is bigger than the first batch data. Effective "
                             "batch size used to initialize is %zu",
                             batch_rows, b.rows);
        }
        rc = smg_kmeans_init(km, &job->comm, pending ? &b : NULL, err);
        if (rc != SMG_OK)
            return rc;
        *init_ms = MS(t0);
    }
    while (!done) {
        const struct smg_batch *pb = NULL;
        if (pending) {
            pb = &b;
            pending = false;
        } else if (have) {
            rc = smg_channel_next_batch(ch, &b, err);
            if (rc == SMG_OK)
                pb = &b;
            else if (rc == SMG_EEOF)
                have = false;
            else
                return rc;
        }
        if (e == 0 && pb != NULL)
            smg_kmeans_sample_add(smp, pb);
        rc = smg_kmeans_step(km, &job->comm, pb, &done, err);
        if (rc != SMG_OK)
            return rc;
    }
    smg_channel_end_epoch(ch);
    return SMG_OK;
}

static int stream_train(struct smg_job *job, struct smg_kmeans *km, struct smg_kmeans_sample *smp,
                        size_t batch_rows, unsigned epochs, uint64_t *rows_epoch0,
                        struct smg_error *err)
{
    const struct smg_kmeans_config *cfg = smg_kmeans_config(km);
    struct smg_channel *ch = NULL;
    double t0 = smg_now(), init_ms = 0.0, secs, tally[2] = {0.0, 0.0}; /* bytes, records */
    int rc;

    rc = smg_job_open_channel(job, "train", cfg->dim, batch_rows, job->comm.size > 1, &ch, err);
    if (rc != SMG_OK)
        return rc;
    for (unsigned e = 0; e < epochs; e++) {
        uint64_t before = smg_kmeans_rows_seen(km);
        rc = run_epoch(job, ch, e, batch_rows, km, smp, &init_ms, err);
        if (rc != SMG_OK)
            goto out;
        tally[0] += (double)smg_channel_bytes(ch);
        if (e == 0) {
            *rows_epoch0 = smg_kmeans_rows_seen(km);
            if (*rows_epoch0 == 0) {
                rc = smg_error_set(err, SMG_EFORMAT, "no records in channel train");
                goto out;
            }
            if (*rows_epoch0 < cfg->k) {
                rc = smg_error_set(err, SMG_ECONFIG,
                                   "hyperparameter k=%zu is larger than the number of training "
                                   "records (%llu); use k <= %llu",
                                   cfg->k, (unsigned long long)*rows_epoch0,
                                   (unsigned long long)*rows_epoch0);
                goto out;
            }
        }
        if (job->comm.rank == 0)
            smg_log_info("epoch %u: %llu records, %llu centers reseeded so far", e,
                         (unsigned long long)(smg_kmeans_rows_seen(km) - before),
                         (unsigned long long)smg_kmeans_reseeds(km));
        smg_job_progress_metric(job, 100.0 * (double)(e + 1) / (double)epochs);
    }
    secs = smg_now() - t0 - init_ms / 1000.0;
    tally[1] = (double)smg_kmeans_rows_seen(km);
    rc = smg_comm_sum_f64(&job->comm, tally, 1, err); /* bytes of all ranks */
    if (rc != SMG_OK)
        goto out;
    smg_job_add_timing(job, "initialize.time", init_ms);
    smg_job_add_timing(job, "epochs", (double)epochs);
    smg_job_add_timing(job, "update.time", secs * 1000.0);
    smg_job_throughput_metric(job, "train", secs > 0.0 ? tally[1] / secs : 0.0);
    if (job->comm.rank == 0)
        smg_log_info("streamed %.0f records (%.3f GB) in %.3f s: %.0f records/s, %.3f GB/s",
                     tally[1], tally[0] / 1e9, secs, secs > 0.0 ? tally[1] / secs : 0.0,
                     secs > 0.0 ? tally[0] / 1e9 / secs : 0.0);
out:
    smg_channel_free(ch);
    return rc;
}

struct test_ctx {
    const float *centers;
    const struct smg_kmeans_config *cfg;
    const double *shift;
    double sse;
    uint64_t rows;
};

static int test_batch(void *ctx, const struct smg_batch *b, struct smg_error *err)
{
    struct test_ctx *t = ctx;

    return smg_kmeans_score(t->centers, t->cfg->k, t->cfg->dim, t->shift, b, &t->sse, &t->rows,
                            NULL, err);
}

/* test msd / test ssd over the whole `test` channel, all ranks. */
static int test_metrics(struct smg_job *job, const float *centers, const struct smg_kmeans *km,
                        size_t batch_rows, struct smg_error *err)
{
    struct test_ctx t = {centers, smg_kmeans_config(km), smg_kmeans_shift(km), 0.0, 0};
    double acc[2]; /* sse, rows */
    int rc;

    if (smg_job_channel(job, "test") == NULL) {
        if (job->rank_on_host == 0)
            smg_log_info("Test data is not provided.");
        return SMG_OK;
    }
    rc = smg_job_read_channel(job, "test", t.cfg->dim, batch_rows, test_batch, &t, NULL, err);
    if (rc != SMG_OK)
        return rc;
    acc[0] = t.sse;
    acc[1] = (double)t.rows;
    rc = smg_comm_sum_f64(&job->comm, acc, 2, err);
    if (rc != SMG_OK)
        return rc;
    if (acc[1] == 0.0)
        return smg_error_set(err, SMG_EFORMAT, "no records in channel test");
    if (smg_hp_list_has(job->hp, "eval_metrics", "msd"))
        smg_job_quality_metric(job, "test msd", acc[0] / acc[1]);
    if (smg_hp_list_has(job->hp, "eval_metrics", "ssd"))
        smg_job_quality_metric(job, "test ssd", acc[0]);
    return SMG_OK;
}

static int write_model(struct smg_job *job, const float *centers, size_t k, size_t d,
                       struct smg_error *err)
{
    struct smg_ndarray_file *f = smg_ndarray_file_new(1, false);
    struct smg_ndarray *a;
    int rc;

    if (f == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for the model");
    a = &f->arrays[0];
    a->data = smg_malloc(k * d * sizeof(float));
    if (a->data == NULL) {
        smg_ndarray_file_free(f);
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for the model");
    }
    memcpy(a->data, centers, k * d * sizeof(float));
    a->ndim = 2;
    a->shape[0] = (int64_t)k;
    a->shape[1] = (int64_t)d;
    a->dtype = SMG_DTYPE_FLOAT32;
    a->dev_type = 1;
    a->dev_id = 0;
    a->magic = 0xF993FAC9u;
    a->nbytes = k * d * sizeof(float);
    rc = smg_job_write_model(job, f, err);
    smg_ndarray_file_free(f);
    return rc;
}

static int train(struct smg_job *job, struct smg_error *err)
{
    struct smg_kmeans_config cfg;
    struct smg_kmeans *km = NULL;
    struct smg_kmeans_sample *smp = NULL;
    float *centers = NULL;
    size_t batch_rows, cap;
    unsigned epochs;
    uint64_t rows0 = 0;
    double loss = 0.0, before = 0.0, after = 0.0, t0;
    bool polish;
    int rc;

    rc = read_config(job, &cfg, &batch_rows, &epochs, err);
    if (rc == SMG_OK)
        rc = polish_choice(&polish, err);
    if (rc != SMG_OK)
        return rc;
    rc = smg_kmeans_new(&cfg, &km, err);
    if (rc != SMG_OK)
        return rc;
    cap = polish ? smg_kmeans_sample_capacity(cfg.k, cfg.dim) : 0;
    rc = smg_kmeans_sample_new(cfg.dim, cap, cfg.seed + 1000003u * (uint64_t)job->comm.rank, &smp,
                               err);
    if (rc != SMG_OK)
        goto out;
    centers = smg_malloc(cfg.k * cfg.extra_center_factor * cfg.dim * sizeof(float));
    if (centers == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for the centers");
        goto out;
    }
    rc = stream_train(job, km, smp, batch_rows, epochs, &rows0, err);
    if (rc != SMG_OK)
        goto out;
    t0 = smg_now();
    rc = smg_kmeans_shrink(km, centers, &loss, err);
    if (rc != SMG_OK)
        goto out;
    smg_job_add_timing(job, "_shrink.time", MS(t0));
    t0 = smg_now();
    if (polish) {
        rc = smg_kmeans_polish(smp, &job->comm, centers, cfg.k, smg_kmeans_shift(km),
                               cfg.lloyd_max_iter, cfg.lloyd_tol, &before, &after, err);
        if (rc != SMG_OK)
            goto out;
        if (job->comm.rank == 0)
            smg_log_info("k-means polish: on (default; SMALGO_KMEANS_POLISH=0 turns it off): "
                         "Lloyd on a %zu-row sample of rank 0 (%zu-row cap per rank), %u "
                         "iteration(s), sample mean square distance %g -> %g",
                         smg_kmeans_sample_rows(smp), cap, smg_kmeans_polish_iters(smp), before,
                         after);
    } else {
        if (job->comm.rank == 0)
            smg_log_info("k-means polish: off (SMALGO_KMEANS_POLISH=0): the model is the shrink "
                         "result, as SageMaker documents");
        if (cfg.extra_center_factor == 1)
            after = smg_kmeans_rows_seen(km) > 0
                        ? smg_kmeans_stream_sse(km) / (double)smg_kmeans_rows_seen(km)
                        : 0.0;
    }
    smg_job_quality_metric(job, "train msd", cfg.extra_center_factor == 1 ? after : loss);
    smg_job_add_timing(job, "finalize.time", MS(t0));
    rc = write_model(job, centers, cfg.k, cfg.dim, err);
    if (rc != SMG_OK)
        goto out;
    rc = test_metrics(job, centers, km, batch_rows, err);
out:
    smg_free(centers);
    smg_kmeans_sample_free(smp);
    smg_kmeans_free(km);
    return rc;
}

const struct smg_algorithm smg_algorithm_kmeans = {
    .name = "kmeans",
    .metrics_name = "AWS/KMeansWebscale",
    .identifying_hp = "k",
    .hparams = smg_kmeans_hparams,
    .n_hparams = SMG_KMEANS_N_HPARAMS,
    .train = train,
};

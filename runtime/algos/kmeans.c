/*
 * SageMaker's built-in k-means ("AWS/KMeansWebscale"), as smalgo's train,
 * serve and inspect see it: the one file that describes the algorithm to the
 * runtime (runtime/algorithm.h). The algorithm itself is algorithms/kmeans.h.
 *
 * Hyperparameters (developer guide k-means-api-config; the container's
 * default-input.json spells the defaults: init_method random,
 * mini_batch_size 5000, epochs 1, extra_center_factor auto,
 * local_lloyd_max_iter 300, local_lloyd_tol 0.0001, local_lloyd_init_method
 * kmeans++, local_lloyd_num_trials auto, half_life_time_size 0, eval_metrics
 * ["msd"]). k must be at least 2, as the SDK (k > 1) and Spark (k >= 2) say.
 * `auto` values: extra_center_factor = 10 and local_lloyd_num_trials = 10, as
 * SageMaker's logs show.
 *
 * Train, one MPI rank per host (or several ranks on one host in File mode):
 * for each epoch open the `train` channel's epoch and stream it: in epoch 0
 * rank 0 initialises the K = k * extra_center_factor centers from its first
 * mini-batch and broadcasts them; every group of local mini-batches (one on
 * one rank; algorithms/kmeans_group.h says how many on several) is one
 * collective step (one allreduce); a rank whose data ran out keeps stepping
 * with empty contributions until a step holds no rows on any rank. Epoch 0 also fills
 * each rank's bounded reservoir sample. Then shrink K -> k (weighted Lloyd,
 * best of local_lloyd_num_trials), pick the start of the polish on a pool of
 * the reservoir sample: the shrink result or a restart from kmeans++ seeds,
 * whichever Lloyd on the pool leaves lower (kmeans_reseed.c says why), polish
 * it with Lloyd on the reservoir sample (kmeans_sample.c says why), score the
 * `test` channel (if any) and write the model (smg_job_finish: a bad test
 * channel leaves no model). The seed
 * is fixed (SMG_KMEANS_TRAIN_SEED): results are the same for the same data,
 * rank count and BLAS thread count. The initial centers are refined by up to
 * SMG_KMEANS_INIT_LLOYD_ITERS Lloyd iterations on the first mini-batch.
 *
 * Environment (read here, so that algorithms/ reads none):
 *   SMALGO_KMEANS_POLISH: unset, "", 1, true, on, yes: polish (default);
 *     0, false, off, no: SageMaker's documented behaviour only (stream +
 *     shrink), no sample is kept and the shrink result is the model (no
 *     polish, no restarts); anything else: a ClientError naming the variable.
 *     Rank 0 logs which one ran. The polish and the restarts are smalgo's
 *     addition; they bring the model within 2% of scikit-learn's
 *     KMeans(n_init=10) msd.
 *   SMALGO_KMEANS_NO_AVX2=1: the portable nearest-center kernel.
 *   SMALGO_KMEANS_ALLREDUCE_EVERY=N: N local mini-batches per allreduce
 *     instead of the rule's choice (algorithms/kmeans_group.h; 1 on one
 *     rank), on one rank too; unset or empty: the rule; not a whole number
 *     from 1 to 1000000: a ClientError naming the variable.
 *
 * Metrics:
 *   train msd: as in SageMaker's logs, the loss of the best local Lloyd attempt
 *     of the shrink, i.e. the weighted mean squared distance of the K
 *     streaming centers (weights = their counts) to the k centers it found.
 *     With extra_center_factor = 1 (no shrink) it is the reservoir sample's
 *     msd to the final centers, or without the polish the streaming msd.
 *   test msd / test ssd (each of eval_metrics, with a `test` channel): exact
 *     mean / sum over all test rows of the squared distance to the closest
 *     final center, summed over ranks.
 *   #progress_metric per epoch, #throughput_metric, and timings
 *   initialize.time, epochs, update.time, _shrink.time, finalize.time.
 * Client errors: fewer training records than k (after epoch 0, all ranks
 * together), no training records, an eval_metrics list naming no metric, an
 * empty test channel; hyperparameter types and ranges are the table's.
 *
 * Model schema: an unnamed NDArray list holding one float32 (k, feature_dim)
 * array of centroids, as SageMaker writes it; any unnamed list of exactly one
 * array is claimed as k-means, and serving then checks it is 2-D float32.
 *
 * Predict: closest_cluster = the 0-based row of the nearest centroid (as a
 * float, the wire type), distance_to_cluster = its Euclidean distance, one
 * GEMM per request (algorithms/kmeans_assign.h); every response format,
 * CSV included.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/kmeans.h"
#include "algorithms/kmeans_assign.h"
#include "algorithms/kmeans_group.h"
#include "io/base/alloc.h"
#include "io/base/log.h"
#include "runtime/algorithm.h"
#include "runtime/cli_number.h"
#include "runtime/algos/kmeans_checkpoint.h"
#include "runtime/job.h"
#include "runtime/job_memory.h"

#define SMG_KMEANS_TRAIN_SEED       0x5EEDC0DEull
#define SMG_KMEANS_INIT_LLOYD_ITERS 20
#define SMG_KMEANS_RESEED_TRIALS    10 /* at most; kmeans_reseed.c bounds the work */
#define SMG_KMEANS_EVERY_ENV_MAX    1000000
#define MS(t0)                      ((smg_now() - (t0)) * 1000.0)

/* The hyperparameters, as the table below fills them. */
struct kmeans_hp {
    long long k;
    long long feature_dim;
    long long mini_batch_size;
    long long epochs;
    int init_method; /* index in "random|kmeans++" */
    struct smg_hp_int_or_auto extra_center_factor;
    long long half_life_time_size;
    int local_lloyd_init_method; /* index in "random|kmeans++" */
    long long local_lloyd_max_iter;
    struct smg_hp_int_or_auto local_lloyd_num_trials;
    double local_lloyd_tol;
    unsigned eval_metrics; /* bits of "msd|ssd" */
};

enum { INIT_RANDOM = 0, INIT_KMEANSPP = 1 }; /* the order of "random|kmeans++" */
#define METRIC_MSD (1u << 0)                 /* the order of "msd|ssd" */
#define METRIC_SSD (1u << 1)

static const struct smg_hp_spec kmeans_hparams[] = {
    {.name = "k",
     SMG_HP_FIELD_INT(struct kmeans_hp, k),
     .required = true,
     .min = 2,
     .max = SMG_HP_NO_MAX,
     .allowed = "an integer >= 2"},
    {.name = "feature_dim",
     SMG_HP_FIELD_INT(struct kmeans_hp, feature_dim),
     .required = true,
     .min = 1,
     .max = SMG_HP_NO_MAX,
     .allowed = "a positive integer"},
    {.name = "mini_batch_size",
     SMG_HP_FIELD_INT(struct kmeans_hp, mini_batch_size),
     .default_value = "5000",
     .min = 1,
     .max = SMG_HP_NO_MAX,
     .allowed = "a positive integer"},
    {.name = "epochs",
     SMG_HP_FIELD_INT(struct kmeans_hp, epochs),
     .default_value = "1",
     .min = 1,
     .max = SMG_HP_NO_MAX,
     .allowed = "a positive integer"},
    {.name = "init_method",
     SMG_HP_FIELD_CHOICE(struct kmeans_hp, init_method),
     .default_value = "random",
     .choices = "random|kmeans++"},
    {.name = "extra_center_factor",
     SMG_HP_FIELD_INT_OR_AUTO(struct kmeans_hp, extra_center_factor),
     .default_value = "auto",
     .min = 1,
     .max = SMG_HP_NO_MAX,
     .allowed = "auto or a positive integer"},
    {.name = "half_life_time_size",
     SMG_HP_FIELD_INT(struct kmeans_hp, half_life_time_size),
     .default_value = "0",
     .min = 0,
     .max = SMG_HP_NO_MAX,
     .allowed = "a non-negative integer"},
    {.name = "local_lloyd_init_method",
     SMG_HP_FIELD_CHOICE(struct kmeans_hp, local_lloyd_init_method),
     .default_value = "kmeans++",
     .choices = "random|kmeans++"},
    {.name = "local_lloyd_max_iter",
     SMG_HP_FIELD_INT(struct kmeans_hp, local_lloyd_max_iter),
     .default_value = "300",
     .min = 1,
     .max = SMG_HP_NO_MAX,
     .allowed = "a positive integer"},
    {.name = "local_lloyd_num_trials",
     SMG_HP_FIELD_INT_OR_AUTO(struct kmeans_hp, local_lloyd_num_trials),
     .default_value = "auto",
     .min = 1,
     .max = SMG_HP_NO_MAX,
     .allowed = "auto or a positive integer"},
    {.name = "local_lloyd_tol",
     SMG_HP_FIELD_FLOAT(struct kmeans_hp, local_lloyd_tol),
     .default_value = "0.0001",
     .min = 0,
     .max = 1,
     .allowed = "a number from 0 to 1"},
    {.name = "eval_metrics",
     SMG_HP_FIELD_METRIC_LIST(struct kmeans_hp, eval_metrics),
     .default_value = "[\"msd\"]",
     .choices = "msd|ssd"},
};

/* ---- train --------------------------------------------------------------- */

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

/* SMALGO_KMEANS_NO_AVX2=1: the portable nearest-center kernel (for tests and comparisons). */
static enum smg_kmeans_kernel kernel_choice(void)
{
    const char *off = getenv("SMALGO_KMEANS_NO_AVX2");

    return off != NULL && strcmp(off, "1") == 0 ? SMG_KMEANS_KERNEL_PORTABLE
                                                : SMG_KMEANS_KERNEL_AUTO;
}

/* The big buffers the settings imply, checked before any is allocated (job_memory.h adds the
 * batch ring). */
static int check_memory(struct smg_job *job, const struct smg_kmeans_config *cfg, size_t batch_rows,
                        struct smg_error *err)
{
    const double d = (double)cfg->dim;
    const struct smg_mem_term terms[] = {
        {"k x extra_center_factor x feature_dim centers as doubles",
         (double)cfg->k * (double)cfg->extra_center_factor * d * 8},
    };

    return smg_job_check_memory(job, terms, 1, cfg->dim, batch_rows, err);
}

static int read_config(struct smg_job *job, struct smg_kmeans_config *cfg, size_t *batch_rows,
                       uint64_t *epochs, unsigned *metrics, struct smg_error *err)
{
    bool log = job->rank_on_host == 0 && job->comm.rank == 0;
    struct kmeans_hp hp;
    int rc;

    memset(&hp, 0, sizeof(hp));
    if ((rc = smg_hparams_fill(job->hp, kmeans_hparams, &hp, err)) != SMG_OK)
        return rc;
    memset(cfg, 0, sizeof(*cfg));
    cfg->k = (size_t)hp.k;
    cfg->dim = (size_t)hp.feature_dim;
    *batch_rows = (size_t)hp.mini_batch_size;
    *epochs = (uint64_t)hp.epochs;
    cfg->init_method =
        hp.init_method == INIT_KMEANSPP ? SMG_KMEANS_INIT_KMEANSPP : SMG_KMEANS_INIT_RANDOM;
    cfg->lloyd_init_method = hp.local_lloyd_init_method == INIT_RANDOM ? SMG_KMEANS_INIT_RANDOM
                                                                       : SMG_KMEANS_INIT_KMEANSPP;
    if (hp.extra_center_factor.is_auto) {
        cfg->extra_center_factor = SMG_KMEANS_AUTO_EXTRA_CENTER_FACTOR;
        if (log)
            smg_log_info("'extra_center_factor' was set to 'auto', evaluated to %d.",
                         SMG_KMEANS_AUTO_EXTRA_CENTER_FACTOR);
    } else {
        cfg->extra_center_factor = (size_t)hp.extra_center_factor.value;
    }
    if (hp.local_lloyd_num_trials.is_auto) {
        cfg->lloyd_trials = SMG_KMEANS_AUTO_LLOYD_TRIALS;
        if (log)
            smg_log_info("'local_lloyd_num_trials' was set to 'auto', evaluated to %d.",
                         SMG_KMEANS_AUTO_LLOYD_TRIALS);
    } else {
        cfg->lloyd_trials = (uint64_t)hp.local_lloyd_num_trials.value;
    }
    cfg->half_life = (uint64_t)hp.half_life_time_size;
    cfg->lloyd_max_iter = (uint64_t)hp.local_lloyd_max_iter;
    cfg->lloyd_tol = hp.local_lloyd_tol;
    cfg->seed = SMG_KMEANS_TRAIN_SEED;
    cfg->init_lloyd_iters = SMG_KMEANS_INIT_LLOYD_ITERS;
    cfg->quiet = job->comm.rank != 0;
    cfg->kernel = kernel_choice();
    cfg->pool = job->pool;
    *metrics = hp.eval_metrics;
    if ((hp.eval_metrics & (METRIC_MSD | METRIC_SSD)) == 0)
        return smg_error_set(err, SMG_ECONFIG,
                             "hyperparameter eval_metrics names no metric; allowed: [\"msd\"], "
                             "[\"ssd\"] or [\"msd\", \"ssd\"]");
    return check_memory(job, cfg, *batch_rows, err);
}

/*
 * One epoch of collective steps: every local mini-batch (or, once this
 * rank's stream has ended, none) joins ck->grp, which is summed over the
 * ranks and applied once it holds its `every` (kmeans_group.h). Rank 0
 * initialises from its first batch in epoch 0 (not when resuming from a
 * checkpoint, which holds the initialised state). ck checkpoints before any
 * local mini-batch, an open group included (kmeans_checkpoint.h).
 */
static int run_epoch(struct smg_job *job, struct smg_channel *ch, uint64_t e, size_t batch_rows,
                     struct smg_kmeans_ckpt *ck, struct smg_kmeans_sample *smp, double *init_ms,
                     struct smg_error *err)
{
    struct smg_kmeans *km = ck->km;
    struct smg_batch b;
    bool have = true, done = false, pending = false;
    int rc = smg_kmeans_ckpt_begin_epoch(ck, ch, e, err);

    if (rc != SMG_OK)
        return rc;
    if (e == 0 && !smg_kmeans_ckpt_resumed(ck)) {
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
        bool stopped = false;
        if (pending) {
            pb = &b;
            pending = false;
        } else if (have) {
            rc = smg_channel_next_batch(ch, &b, err);
            if (rc == SMG_OK)
                pb = &b;
            else if (rc == SMG_EEOF)
                have = false;
            else if (rc == SMG_ESTOPPED)
                stopped = true;
            else
                return rc;
        }
        if ((rc = smg_kmeans_ckpt_poll(ck, stopped, err)) != SMG_OK)
            return rc;
        if (e == 0 && pb != NULL)
            smg_kmeans_sample_add(smp, pb);
        if ((rc = smg_kmeans_group_add(ck->grp, km, &job->comm, pb, err)) != SMG_OK)
            return rc;
        smg_kmeans_ckpt_stepped(ck, pb != NULL ? pb->rows : 0);
        if (smg_kmeans_group_full(ck->grp) &&
            (rc = smg_kmeans_group_sync(ck->grp, km, &job->comm, &done, err)) != SMG_OK)
            return rc;
    }
    smg_channel_end_epoch(ch);
    return SMG_OK;
}

static int stream_train(struct smg_job *job, struct smg_kmeans_ckpt *ck,
                        struct smg_kmeans_sample *smp, size_t batch_rows, uint64_t epochs,
                        uint64_t *rows_epoch0, struct smg_error *err)
{
    struct smg_kmeans *km = ck->km;
    const struct smg_kmeans_config *cfg = smg_kmeans_config(km);
    struct smg_channel *ch = NULL;
    double t0 = smg_now(), init_ms = 0.0, secs, tally[2] = {0.0, 0.0}; /* bytes, records */
    struct smg_channel_stats io;
    int rc;

    rc = smg_job_open_channel(job, "train", cfg->dim, batch_rows, job->comm.size > 1, &ch, err);
    if (rc != SMG_OK)
        return rc;
    for (uint64_t e = smg_kmeans_ckpt_first_epoch(ck); e < epochs; e++) {
        uint64_t before = smg_kmeans_rows_seen(km);
        rc = run_epoch(job, ch, e, batch_rows, ck, smp, &init_ms, err);
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
            smg_log_info("epoch %" PRIu64 ": %llu records, %llu centers reseeded so far", e,
                         (unsigned long long)(smg_kmeans_rows_seen(km) - before),
                         (unsigned long long)smg_kmeans_reseeds(km));
        smg_job_progress_metric(job, 100.0 * (double)(e + 1) / (double)epochs);
    }
    if ((rc = smg_kmeans_ckpt_done(ck, epochs, err)) != SMG_OK)
        goto out;
    secs = smg_now() - t0 - init_ms / 1000.0;
    smg_channel_stats(ch, &io);
    tally[1] = (double)smg_kmeans_rows_seen(km);
    rc = smg_comm_sum_f64(&job->comm, tally, 1, err); /* bytes of all ranks */
    if (rc != SMG_OK)
        goto out;
    smg_job_add_timing(job, "initialize.time", init_ms);
    smg_job_add_timing(job, "epochs", (double)epochs);
    smg_job_add_timing(job, "update.time", secs * 1000.0);
    /* The stage split `make bench` reads: read, decode, wait, compute, allreduce. */
    smg_job_stage_split(job, &io, secs - io.wait_s - smg_kmeans_group_comm_seconds(ck->grp),
                        smg_kmeans_group_comm_seconds(ck->grp));
    smg_job_throughput_metric(job, "train", secs > 0.0 ? tally[1] / secs : 0.0);
    if (job->comm.rank == 0)
        smg_log_info("streamed %.0f records (%.3f GB) in %.3f s: %.0f records/s, %.3f GB/s; "
                     "%.3f s of it in the allreduce of %" PRIu64 " step(s) on rank 0",
                     tally[1], tally[0] / 1e9, secs, secs > 0.0 ? tally[1] / secs : 0.0,
                     secs > 0.0 ? tally[0] / 1e9 / secs : 0.0,
                     smg_kmeans_group_comm_seconds(ck->grp), smg_kmeans_group_syncs(ck->grp));
out:
    smg_channel_free(ch);
    return rc;
}

struct test_ctx {
    struct smg_job *job;
    const float *centers;
    const struct smg_kmeans_config *cfg;
    const double *shift;
    size_t batch_rows;
    unsigned metrics;
    double sse;
    uint64_t rows;
    double acc[2]; /* sse, rows: summed over ranks */
};

static int test_batch(void *ctx, const struct smg_batch *b, struct smg_error *err)
{
    struct test_ctx *t = ctx;

    return smg_kmeans_score(t->centers, t->cfg->k, t->cfg->dim, t->shift, b, &t->sse, &t->rows,
                            NULL, t->cfg->kernel, err);
}

/* smg_job_finish's score: the test channel's squared distances, summed over ranks. */
static int test_score(void *ctx, struct smg_error *err)
{
    struct test_ctx *t = ctx;
    int rc =
        smg_job_read_channel(t->job, "test", t->cfg->dim, t->batch_rows, test_batch, t, NULL, err);

    if (rc != SMG_OK)
        return rc;
    t->acc[0] = t->sse;
    t->acc[1] = (double)t->rows;
    if ((rc = smg_comm_sum_f64(&t->job->comm, t->acc, 2, err)) != SMG_OK)
        return rc;
    if (t->acc[1] == 0.0)
        return smg_error_set(err, SMG_EFORMAT, "no records in channel test");
    return SMG_OK;
}

/* test msd / test ssd, as eval_metrics asks. */
static void test_report(void *ctx)
{
    struct test_ctx *t = ctx;

    if (t->metrics & METRIC_MSD)
        smg_job_quality_metric(t->job, "test msd", t->acc[0] / t->acc[1]);
    if (t->metrics & METRIC_SSD)
        smg_job_quality_metric(t->job, "test ssd", t->acc[0]);
}

/*
 * The model schema above: one unnamed (k, d) float32 array, written once the
 * `test` channel (if any) has been scored with it (smg_job_finish).
 */
static int write_model(struct smg_job *job, const float *centers, const struct smg_kmeans *km,
                       size_t batch_rows, unsigned metrics, struct smg_error *err)
{
    const struct smg_kmeans_config *cfg = smg_kmeans_config(km);
    const int64_t shape[2] = {(int64_t)cfg->k, (int64_t)cfg->dim};
    struct test_ctx test = {job, centers, cfg,       smg_kmeans_shift(km), batch_rows, metrics,
                            0.0, 0,       {0.0, 0.0}};
    struct smg_ndarray_file *f = smg_ndarray_file_new(1, false);
    int rc;

    if (f == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for the model");
    rc = smg_ndarray_set(f, 0, NULL, SMG_DTYPE_FLOAT32, 2, shape, centers, err);
    if (rc == SMG_OK)
        rc = smg_job_finish(job, f, test_score, test_report, &test, err);
    smg_ndarray_file_free(f);
    return rc;
}

/*
 * The start of the polish (kmeans_reseed.c): the shrink result or, when one
 * does better on a pool of the sample, a restart from kmeans++ seeds.
 */
static int reseed_centers(struct smg_job *job, const struct smg_kmeans *km,
                          struct smg_kmeans_sample *smp, float *centers, unsigned *won,
                          struct smg_error *err)
{
    const struct smg_kmeans_config *cfg = smg_kmeans_config(km);
    struct smg_kmeans_reseed_report rep;
    int rc = smg_kmeans_reseed(smp, &job->comm, cfg->pool, centers, cfg->k, smg_kmeans_shift(km),
                               cfg->lloyd_max_iter, cfg->lloyd_tol, cfg->seed + 2,
                               SMG_KMEANS_RESEED_TRIALS, &rep, cfg->kernel, err);
    if (rc == SMG_OK && job->comm.rank == 0)
        smg_log_info("k-means restart from kmeans++ seeds on the sample: Lloyd on a %zu-row pool "
                     "of it, mean square distance %g from the shrink result, %g from the best of "
                     "%u kmeans++ restart(s): %s",
                     rep.pool_rows, rep.shrink_msd, rep.best_msd, rep.restarts,
                     rep.won ? "restart kept" : "shrink result kept");
    *won = rc == SMG_OK ? rep.won : 0;
    return rc;
}

/*
 * The sample msd of centers (one assignment pass over every rank's sample,
 * the centers left as they are): for the check on a restart below.
 */
static int sample_msd(struct smg_job *job, const struct smg_kmeans *km,
                      struct smg_kmeans_sample *smp, const float *centers, double *msd,
                      struct smg_error *err)
{
    const struct smg_kmeans_config *cfg = smg_kmeans_config(km);
    size_t n = cfg->k * cfg->dim;
    float *c = smg_malloc(n * sizeof(float) + 1);
    double ignored;
    int rc;

    if (c == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for the restart check");
    memcpy(c, centers, n * sizeof(float));
    rc = smg_kmeans_polish(smp, &job->comm, cfg->pool, c, cfg->k, smg_kmeans_shift(km), 0,
                           cfg->lloyd_tol, msd, &ignored, cfg->kernel, err);
    smg_free(c);
    return rc;
}

/*
 * The polish, with a check on a restart the pool preferred: the pool holds
 * 500 rows per center, too few to see a heavy tail, so a restart can win
 * there and lose on the sample (2M taxi-like rows, k = 10: msd 1.085x the
 * shrink result's after the polish). When the unpolished shrink result's
 * sample msd is no higher than the polished restart's, the shrink result is
 * polished and kept instead. Every rank sees the same sums: one branch.
 */
static int polish_checked(struct smg_job *job, const struct smg_kmeans *km,
                          struct smg_kmeans_sample *smp, float *centers, double *before,
                          double *after, struct smg_error *err)
{
    const struct smg_kmeans_config *cfg = smg_kmeans_config(km);
    size_t n = cfg->k * cfg->dim;
    float *shrink = smg_malloc(n * sizeof(float) + 1);
    double shrink_msd = 0.0;
    unsigned won = 0;
    int rc;

    if (shrink == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory for the polish");
    memcpy(shrink, centers, n * sizeof(float));
    rc = reseed_centers(job, km, smp, centers, &won, err);
    if (rc == SMG_OK && won)
        rc = sample_msd(job, km, smp, shrink, &shrink_msd, err);
    if (rc == SMG_OK)
        rc =
            smg_kmeans_polish(smp, &job->comm, cfg->pool, centers, cfg->k, smg_kmeans_shift(km),
                              cfg->lloyd_max_iter, cfg->lloyd_tol, before, after, cfg->kernel, err);
    if (rc == SMG_OK && won && shrink_msd <= *after) {
        if (job->comm.rank == 0)
            smg_log_info("k-means restart check: the shrink result's sample mean square distance "
                         "%g is no higher than the polished restart's %g; polishing the shrink "
                         "result instead",
                         shrink_msd, *after);
        memcpy(centers, shrink, n * sizeof(float));
        rc =
            smg_kmeans_polish(smp, &job->comm, cfg->pool, centers, cfg->k, smg_kmeans_shift(km),
                              cfg->lloyd_max_iter, cfg->lloyd_tol, before, after, cfg->kernel, err);
    }
    smg_free(shrink);
    return rc;
}

/*
 * The polish (when on) of the k shrunk centers, in place; *after gets the
 * sample's msd after it, or with the polish off and extra_center_factor 1 the
 * streaming msd (what "train msd" reports then).
 */
static int polish_centers(struct smg_job *job, const struct smg_kmeans *km,
                          struct smg_kmeans_sample *smp, bool polish, size_t cap, float *centers,
                          double *after, struct smg_error *err)
{
    const struct smg_kmeans_config *cfg = smg_kmeans_config(km);
    double before = 0.0;
    int rc;

    if (polish) {
        rc = polish_checked(job, km, smp, centers, &before, after, err);
        if (rc != SMG_OK)
            return rc;
        if (job->comm.rank == 0)
            smg_log_info("k-means polish: on (default; SMALGO_KMEANS_POLISH=0 turns it off): "
                         "Lloyd on a %zu-row sample of rank 0 (%zu-row cap per rank), %" PRIu64 " "
                         "iteration(s), sample mean square distance %g -> %g",
                         smg_kmeans_sample_rows(smp), cap, smg_kmeans_polish_iters(smp), before,
                         *after);
        return SMG_OK;
    }
    if (job->comm.rank == 0)
        smg_log_info("k-means polish: off (SMALGO_KMEANS_POLISH=0): the model is the shrink "
                     "result, as SageMaker documents");
    if (cfg->extra_center_factor == 1)
        *after = smg_kmeans_rows_seen(km) > 0
                     ? smg_kmeans_stream_sse(km) / (double)smg_kmeans_rows_seen(km)
                     : 0.0;
    return SMG_OK;
}

/*
 * The group of local mini-batches per allreduce (kmeans_group.h): its size
 * from SMALGO_KMEANS_ALLREDUCE_EVERY (1 to SMG_KMEANS_EVERY_ENV_MAX; anything
 * else is a ClientError naming the variable) or else the rule, which is 1 on
 * one rank. Every rank reads the same environment under mpirun.
 */
static int group_open(struct smg_job *job, const struct smg_kmeans_config *cfg, size_t batch_rows,
                      struct smg_kmeans_group **out, struct smg_error *err)
{
    const char *v = getenv("SMALGO_KMEANS_ALLREDUCE_EVERY");
    size_t K = cfg->k * cfg->extra_center_factor;
    size_t c = K < SMG_KMEANS_MIN_CANDIDATES ? K : SMG_KMEANS_MIN_CANDIDATES;
    uint64_t every = smg_kmeans_allreduce_every(K, cfg->dim, batch_rows, job->comm.size);

    if (v != NULL && *v == '\0')
        v = NULL; /* set but empty: the rule, as for the other variables */
    if (v != NULL && !smg_cli_parse_u64(v, 1, SMG_KMEANS_EVERY_ENV_MAX, &every))
        return smg_error_set(err, SMG_ECONFIG,
                             "environment variable SMALGO_KMEANS_ALLREDUCE_EVERY='%.40s' is not a "
                             "whole number from 1 to %d",
                             v, SMG_KMEANS_EVERY_ENV_MAX);
    if (job->comm.rank == 0 && job->comm.size > 1)
        smg_log_info("k-means: one allreduce of %.0f bytes every %" PRIu64 " mini-batch(es) per "
                     "rank (%s) of %.0f bytes of float32 rows",
                     smg_kmeans_allreduce_bytes(K, cfg->dim, job->comm.size, c), every,
                     v != NULL ? "SMALGO_KMEANS_ALLREDUCE_EVERY"
                               : "rule: at most half of "
                                 "the rows' bytes",
                     (double)batch_rows * (double)cfg->dim * 4.0);
    return smg_kmeans_group_new((size_t)every, out, err);
}

/* Checkpoints (kmeans_checkpoint.h): what must match is the configuration and these settings. */
static int checkpoints_open(struct smg_job *job, struct smg_kmeans_ckpt *ck, struct smg_kmeans *km,
                            struct smg_kmeans_group *grp, struct smg_kmeans_sample *smp,
                            bool polish, struct smg_error *err)
{
    char *hp = smg_hparams_to_json(job->hp);
    struct smg_buf conf;
    int rc;

    smg_buf_init(&conf, 1 << 20);
    if (hp == NULL || smg_buf_printf(&conf, "%s polish=%d kernel=%d every=%zu", hp, polish,
                                     (int)kernel_choice(), smg_kmeans_group_every(grp)) != SMG_OK)
        rc = smg_error_set(err, SMG_ENOMEM, "out of memory setting up checkpoints");
    else
        rc = smg_kmeans_ckpt_open(ck, job, conf.data, km, grp, smp, err);
    smg_free(hp);
    smg_buf_free(&conf);
    return rc;
}

static enum smg_status train(struct smg_job *job, struct smg_error *err)
{
    struct smg_kmeans_config cfg;
    struct smg_kmeans *km = NULL;
    struct smg_kmeans_group *grp = NULL;
    struct smg_kmeans_sample *smp = NULL;
    float *centers = NULL;
    size_t batch_rows, cap;
    uint64_t epochs;
    unsigned metrics = 0;
    uint64_t rows0 = 0;
    double loss = 0.0, after = 0.0, t0;
    bool polish;
    struct smg_kmeans_ckpt ck;
    int rc;

    memset(&ck, 0, sizeof(ck));
    job->accept_csr = true; /* sparse channels arrive as CSR (kmeans_csr.h) */
    rc = read_config(job, &cfg, &batch_rows, &epochs, &metrics, err);
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
    if ((rc = group_open(job, &cfg, batch_rows, &grp, err)) != SMG_OK ||
        (rc = checkpoints_open(job, &ck, km, grp, smp, polish, err)) != SMG_OK)
        goto out;
    if (!smg_kmeans_ckpt_stream_done(&ck) &&
        (rc = stream_train(job, &ck, smp, batch_rows, epochs, &rows0, err)) != SMG_OK)
        goto out;
    t0 = smg_now();
    rc = smg_kmeans_shrink(km, centers, &loss, err);
    if (rc != SMG_OK)
        goto out;
    smg_job_add_timing(job, "_shrink.time", MS(t0));
    t0 = smg_now();
    if ((rc = polish_centers(job, km, smp, polish, cap, centers, &after, err)) != SMG_OK)
        goto out;
    smg_job_quality_metric(job, "train msd", cfg.extra_center_factor == 1 ? after : loss);
    smg_job_add_timing(job, "finalize.time", MS(t0));
    rc = write_model(job, centers, km, batch_rows, metrics, err);
out:
    smg_kmeans_ckpt_close(&ck);
    smg_free(centers);
    smg_kmeans_sample_free(smp);
    smg_kmeans_group_free(grp);
    smg_kmeans_free(km);
    return rc;
}

/* ---- model schema and serving ------------------------------------------------ */

struct served_kmeans {
    size_t k, d;
    const float *centers;                 /* the model file's (k, d) array; it outlives this */
    struct smg_kmeans_assigner *assigner; /* over the (k, d) centroids */
};

static bool model_claims(const struct smg_ndarray_file *f)
{
    return !f->named && f->count == 1;
}

static enum smg_status serve_open(const struct smg_ndarray_file *f, const char *what,
                                  struct smg_served *out, struct smg_error *err)
{
    const struct smg_ndarray *c = &f->arrays[0];
    struct served_kmeans *m;
    int rc;

    if (c->ndim != 2 || c->shape[0] < 1 || c->shape[1] < 1)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s: a k-means model holds one 2-D (k, feature_dim) array; this "
                             "one has %u dims",
                             what, c->ndim);
    if (c->dtype != SMG_DTYPE_FLOAT32)
        return smg_error_set(err, SMG_EFORMAT, "%s: array 0 has dtype %d, expected float32 (0)",
                             what, (int)c->dtype);
    if ((m = smg_calloc(1, sizeof(*m))) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory loading the model");
    m->k = (size_t)c->shape[0];
    m->d = (size_t)c->shape[1];
    m->centers = c->data;
    if ((rc = smg_kmeans_assigner_new(c->data, m->k, m->d, &m->assigner, err)) != SMG_OK) {
        smg_free(m);
        return rc;
    }
    out->state = m;
    out->feature_dim = m->d;
    snprintf(out->describe, sizeof(out->describe), "k-means model: k=%zu, %zu features", m->k,
             m->d);
    return SMG_OK;
}

static void serve_close(struct smg_served *served)
{
    struct served_kmeans *m = served->state;

    if (m != NULL)
        smg_kmeans_assigner_free(m->assigner);
    smg_free(m);
    served->state = NULL;
}

/*
 * A row whose float32 distance overflowed (values near float32's limit: the
 * GEMM form squares them), scored again exactly in double. The result is
 * still infinite only when the true distance is beyond float32, which the
 * response encoder then refuses naming the row (infer_response.h).
 */
static void score_exactly(const struct served_kmeans *m, const float *row, float *closest,
                          float *dist)
{
    double best = INFINITY;
    size_t best_j = 0;

    for (size_t j = 0; j < m->k; j++) {
        double s = 0.0;
        for (size_t f = 0; f < m->d; f++) {
            double t = (double)row[f] - (double)m->centers[j * m->d + f];
            s += t * t;
        }
        if (s < best) {
            best = s;
            best_j = j;
        }
    }
    *closest = (float)best_j;
    *dist = (float)sqrt(best);
}

/*
 * closest[i] and dist[i] for the rows of b: dense rows through the sgemm
 * assigner, a row whose float32 distance overflowed scored again in double;
 * CSR rows through the sparse assigner, in double from the start.
 */
static enum smg_status assign_rows(const struct served_kmeans *m, const struct smg_batch *b,
                                   uint32_t *closest, float *dist, struct smg_error *err)
{
    enum smg_status rc;

    if (smg_batch_is_csr(b))
        return smg_kmeans_assign_csr(m->assigner, b, closest, dist, err);
    rc = smg_kmeans_assign(m->assigner, b->x, b->rows, closest, dist, err);
    for (size_t i = 0; rc == SMG_OK && i < b->rows; i++) {
        if (!isfinite(dist[i])) {
            float c;
            score_exactly(m, b->x + i * m->d, &c, &dist[i]);
            closest[i] = (uint32_t)c;
        }
    }
    return rc;
}

static enum smg_status predict(const struct smg_served *served, const struct smg_batch *b,
                               const struct smg_codec *accept, struct smg_buf *out,
                               struct smg_error *err)
{
    const struct served_kmeans *m = served->state;
    const size_t n = b->rows;
    float *res = NULL;
    uint32_t *closest = NULL;
    struct smg_infer_field fields[2];
    struct smg_infer_result r;
    size_t bytes;
    int rc;

    /* res holds n labels (as floats, the wire type) then n distances. */
    if (!smg_mul_size(n, 2 * sizeof(float), &bytes) || (res = smg_malloc(bytes)) == NULL ||
        (closest = smg_malloc(n * sizeof(uint32_t))) == NULL) {
        smg_free(res);
        return smg_error_set(err, SMG_ENOMEM, "out of memory scoring %zu rows", n);
    }
    rc = assign_rows(m, b, closest, res + n, err);
    if (rc == SMG_OK) {
        for (size_t i = 0; i < n; i++)
            res[i] = (float)closest[i];
        fields[0] = (struct smg_infer_field){"closest_cluster", res, 1, true};
        fields[1] = (struct smg_infer_field){"distance_to_cluster", res + n, 1, true};
        r = (struct smg_infer_result){"predictions", n, 2, fields};
        rc = smg_infer_response_encode(accept, &r, out, err);
    }
    smg_free(closest);
    smg_free(res);
    return rc;
}

/* ---- inspect note -------------------------------------------------------------- */

static enum smg_status inspect_note(const struct smg_ndarray_file *f, struct smg_buf *out)
{
    if (!model_claims(f) || f->arrays[0].ndim != 2 || f->arrays[0].dtype != SMG_DTYPE_FLOAT32)
        return SMG_OK;
    return smg_buf_printf(out,
                          "{\"model\": \"kmeans\", \"k\": %lld, \"feature_dim\": %lld, "
                          "\"meaning\": \"each row is a centroid; closest_cluster is the 0-based "
                          "row index of the nearest centroid and distance_to_cluster its "
                          "Euclidean distance\"}",
                          (long long)f->arrays[0].shape[0], (long long)f->arrays[0].shape[1]);
}

const struct smg_algorithm smg_algorithm_kmeans = {
    .name = "kmeans",
    .title = "k-means",
    .metrics_name = "AWS/KMeansWebscale",
    .identifying_hp = "k",
    .hparams = kmeans_hparams,
    .n_hparams = sizeof(kmeans_hparams) / sizeof(kmeans_hparams[0]),
    .train = train,
    .model_schema = "a k-means model (one unnamed (k, feature_dim) array)",
    .model_claims = model_claims,
    .serve_open = serve_open,
    .serve_close = serve_close,
    .serve_check_accept = NULL,
    .predict = predict,
    .inspect_note = inspect_note,
};

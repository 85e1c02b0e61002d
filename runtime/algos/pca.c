/*
 * SageMaker's built-in PCA, as smalgo's train, serve and inspect see it: the
 * one file that describes the algorithm to the runtime (runtime/algorithm.h).
 *
 * Hyperparameters (developer guide PCA-reference; the container's
 * default-conf.json: algorithm_mode regular, subtract_mean true,
 * extra_components -1, epochs 1). feature_dim, mini_batch_size and
 * num_components are required. epochs is not documented but is in the
 * container's defaults, so a file that sets it must be accepted, and ignored:
 * one pass computes the exact answer. Cross-field checks (num_components <=
 * feature_dim) are the algorithm's.
 *
 * Train: stream the `train` channel's mini-batches into the accumulator of
 * algorithms/pca.h, combine ranks with one allreduce, solve, score the `test`
 * channel (if any) and write model/model_<host> (smg_job_finish: a bad test
 * channel leaves no model). Logs and metrics: #progress_metric and
 * #throughput_metric after the pass; timings initialize.time, epochs,
 * update.time, finalize.time (and model.serialize.time from the model writer);
 * with a `test` channel, "#quality_metric: host=algo-1, test
 * reconstruction_mse <loss>=..." -- the mean over the test rows and features
 * of the squared error of reconstructing x from its projection, (x - mean) -
 * (x - mean) V V^T (mean omitted without subtract_mean). That metric is ours:
 * SageMaker's PCA reports none. Client errors: num_components > feature_dim;
 * an empty train channel (all ranks together); rows whose feature count is not
 * feature_dim (the decoder); fewer training records than num_components (the
 * components past the data's rank would be arbitrary directions).
 *
 * Model schema: an MXNet NDArray named dict, in this order, all float32,
 * exactly as SageMaker's PCA writes it:
 *     s     (num_components)               singular values of the centred data
 *     v     (feature_dim, num_components)  column j is the component of s[j]
 *     mean  (1, feature_dim)               only when subtract_mean is true
 * ascending s in regular mode, descending in randomized mode. A file is
 * claimed as PCA when it is named and holds 's' and 'v'; serving then checks
 * 'v' is (d, k), 's' has k values, 'mean' (if any) d, all float32.
 *
 * Predict: projection = (x - mean) . v, k values per row in the model's
 * column order, one GEMM per request (algorithms/pca_project.h); 's' is never
 * used (it may hold NaN). Sparse (CSR) request rows are projected as x . v -
 * mean . v over their stored values, mean . v computed once at load (with
 * 'mean' only: SageMaker and smalgo write it when subtract_mean is true). Responses: "projections"
 * with a "projection" list per row; CSV is refused (it is k-means' format).
 *
 * Environment: SMALGO_PCA_SKETCH=signs selects randomized mode's documented
 * H X sketch instead of the default two-sided Gram sketch, gram-unshifted the
 * Gram sketch without its shifted solve (algorithms/pca.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/pca.h"
#include "algorithms/pca_project.h"
#include "io/base/alloc.h"
#include "io/base/log.h"
#include "io/codec.h"
#include "runtime/algorithm.h"
#include "runtime/algos/pca_checkpoint.h"
#include "runtime/job.h"
#include "runtime/job_memory.h"
#include "runtime/ndarray_value.h"

#include <math.h>

#define MS(t0) ((smg_now() - (t0)) * 1000.0)

/* The hyperparameters, as the table below fills them. */
struct pca_hp {
    long long feature_dim;
    long long mini_batch_size;
    long long num_components;
    int algorithm_mode; /* index in "regular|randomized" */
    bool subtract_mean;
    long long extra_components;
    long long epochs;
};

enum { MODE_REGULAR = 0, MODE_RANDOMIZED = 1 }; /* the order of algorithm_mode's choices */

static const struct smg_hp_spec pca_hparams[] = {
    {.name = "feature_dim",
     SMG_HP_FIELD_INT(struct pca_hp, feature_dim),
     .required = true,
     .min = 1,
     .max = SMG_HP_NO_MAX,
     .allowed = "a positive integer"},
    {.name = "mini_batch_size",
     SMG_HP_FIELD_INT(struct pca_hp, mini_batch_size),
     .required = true,
     .min = 1,
     .max = SMG_HP_NO_MAX,
     .allowed = "a positive integer"},
    {.name = "num_components",
     SMG_HP_FIELD_INT(struct pca_hp, num_components),
     .required = true,
     .min = 1,
     .max = SMG_HP_NO_MAX,
     .allowed = "a positive integer"},
    {.name = "algorithm_mode",
     SMG_HP_FIELD_CHOICE(struct pca_hp, algorithm_mode),
     .default_value = "regular",
     .choices = "regular|randomized"},
    {.name = "subtract_mean",
     SMG_HP_FIELD_BOOL(struct pca_hp, subtract_mean),
     .default_value = "true"},
    {.name = "extra_components",
     SMG_HP_FIELD_INT(struct pca_hp, extra_components),
     .default_value = "-1",
     .min = -1,
     .max = SMG_HP_NO_MAX,
     .allowed = "-1 or a non-negative integer"},
    {.name = "epochs",
     SMG_HP_FIELD_INT(struct pca_hp, epochs),
     .default_value = "1",
     .min = 1,
     .max = SMG_HP_NO_MAX,
     .allowed = "a positive integer"},
};

/* ---- train --------------------------------------------------------------- */

/*
 * SMALGO_PCA_SKETCH: unset, "" or gram: the two-sided Gram sketch with the
 * shifted solve (default); gram-unshifted: the same sketch, solved without the
 * shift; signs: the H X sketch SageMaker documents (its model depends on the
 * host count); anything else: a ClientError naming the variable.
 */
static int sketch_choice(enum smg_pca_sketch_kind *kind, struct smg_error *err)
{
    const char *v = getenv("SMALGO_PCA_SKETCH");
    *kind = SMG_PCA_SKETCH_GRAM;
    if (v == NULL || strcmp(v, "") == 0 || strcmp(v, "gram") == 0)
        return SMG_OK;
    if (strcmp(v, "signs") == 0) {
        *kind = SMG_PCA_SKETCH_SIGNS;
        return SMG_OK;
    }
    if (strcmp(v, "gram-unshifted") == 0) {
        *kind = SMG_PCA_SKETCH_GRAM_UNSHIFTED;
        return SMG_OK;
    }
    return smg_error_set(err, SMG_ECONFIG,
                         "environment variable SMALGO_PCA_SKETCH='%.40s' is not gram, "
                         "gram-unshifted or signs",
                         v);
}

/*
 * The big buffers the settings imply, checked before any is allocated
 * (job_memory.h, which adds the batch ring): regular mode's d x d matrix, randomized mode's sketch
 * of l = num_components + extra_components rows (-1 means max(10, num_components)): the Gram sketch
 * holds 2 (3 l + 1) x d doubles, the sign sketch l x d.
 */
static int check_memory(struct smg_job *job, const struct smg_pca_config *cfg, size_t batch_rows,
                        struct smg_error *err)
{
    const double d = (double)cfg->feature_dim;
    const double k = (double)cfg->num_components;
    const double l =
        k + (cfg->extra_components < 0 ? (k > 10.0 ? k : 10.0) : (double)cfg->extra_components);
    const double sketch = cfg->sketch != SMG_PCA_SKETCH_SIGNS ? 2.0 * (3.0 * l + 1.0) : l;
    const struct smg_mem_term terms[] = {
        cfg->mode == SMG_PCA_REGULAR
            ? (struct smg_mem_term){"a feature_dim x feature_dim matrix of doubles", d * d * 8}
            : (struct smg_mem_term){"a randomized sketch of feature_dim x "
                                    "(num_components + extra_components) doubles",
                                    sketch * d * 8},
    };

    return smg_job_check_memory(job, terms, 1, cfg->feature_dim, batch_rows, err);
}

static int read_config(struct smg_job *job, struct smg_pca_config *cfg, size_t *batch_rows,
                       struct smg_error *err)
{
    struct pca_hp hp;
    int rc;

    memset(&hp, 0, sizeof(hp));
    if ((rc = smg_hparams_fill(job->hp, pca_hparams, &hp, err)) != SMG_OK)
        return rc;
    memset(cfg, 0, sizeof(*cfg));
    cfg->feature_dim = (size_t)hp.feature_dim;
    cfg->num_components = (size_t)hp.num_components;
    cfg->subtract_mean = hp.subtract_mean;
    cfg->mode = hp.algorithm_mode == MODE_RANDOMIZED ? SMG_PCA_RANDOMIZED : SMG_PCA_REGULAR;
    cfg->extra_components = hp.extra_components;
    cfg->seed = SMG_PCA_DEFAULT_SEED;
    cfg->rank = job->comm.rank;
    cfg->pool = job->pool;
    if (cfg->mode == SMG_PCA_RANDOMIZED && (rc = sketch_choice(&cfg->sketch, err)) != SMG_OK)
        return rc;
    *batch_rows = (size_t)hp.mini_batch_size;
    if (hp.epochs > 1)
        smg_log_info("PCA makes one pass over the data; epochs=%lld is ignored", hp.epochs);
    return check_memory(job, cfg, *batch_rows, err);
}

static int update_batch(void *p, const struct smg_batch *b, struct smg_error *err)
{
    return smg_pca_update(p, b, err);
}

struct test_ctx {
    struct smg_job *job;
    const struct smg_pca_result *res;
    size_t batch_rows;
    double sums[2]; /* squared error, values */
};

static int test_batch(void *ctx, const struct smg_batch *b, struct smg_error *err)
{
    struct test_ctx *t = ctx;

    return smg_pca_reconstruction_sse(t->res, b, &t->sums[0], &t->sums[1], err);
}

/* smg_job_finish's score: the reconstruction error of the `test` channel, summed over ranks. */
static int test_score(void *ctx, struct smg_error *err)
{
    struct test_ctx *t = ctx;
    int rc = smg_job_read_channel(t->job, "test", t->res->feature_dim, t->batch_rows, test_batch, t,
                                  NULL, err);

    if (rc != SMG_OK || (rc = smg_comm_sum_f64(&t->job->comm, t->sums, 2, err)) != SMG_OK)
        return rc;
    if (t->sums[1] == 0.0)
        return smg_error_set(err, SMG_EFORMAT, "no records in channel test");
    return SMG_OK;
}

static void test_report(void *ctx)
{
    struct test_ctx *t = ctx;

    smg_job_quality_metric(t->job, "test reconstruction_mse", t->sums[0] / t->sums[1]);
}

/*
 * The model schema above: s, v and (with subtract_mean) mean, written once the
 * `test` channel (if any) has been scored with it (smg_job_finish).
 */
static int write_model(struct smg_job *job, const struct smg_pca_result *res, size_t batch_rows,
                       struct smg_error *err)
{
    const int64_t d = (int64_t)res->feature_dim, k = (int64_t)res->num_components;
    const int64_t s_shape[1] = {k}, v_shape[2] = {d, k}, mean_shape[2] = {1, d};
    struct smg_ndarray_file *f = smg_ndarray_file_new(res->mean ? 3 : 2, true);
    struct test_ctx test = {job, res, batch_rows, {0.0, 0.0}};
    int rc;

    if (f == NULL)
        return smg_error_set(err, SMG_ENOMEM, "pca: out of memory building the model file");
    if ((rc = smg_ndarray_set_f32_from_f64(f, 0, "s", 1, s_shape, res->s, err)) != SMG_OK ||
        (rc = smg_ndarray_set_f32_from_f64(f, 1, "v", 2, v_shape, res->v, err)) != SMG_OK ||
        (res->mean && (rc = smg_ndarray_set_f32_from_f64(f, 2, "mean", 2, mean_shape, res->mean,
                                                         err)) != SMG_OK)) {
        if (rc == SMG_ENOMEM)
            smg_error_prefix(err, "pca: building the model file: ");
        goto out;
    }
    rc = smg_job_finish(job, f, test_score, test_report, &test, err);
out:
    smg_ndarray_file_free(f);
    return rc;
}

static void log_sketch(const struct smg_pca_config *cfg, const struct smg_pca *p)
{
    size_t l = smg_pca_sketch_rows(p);
    const char *kind = cfg->sketch == SMG_PCA_SKETCH_SIGNS ? "sign (SMALGO_PCA_SKETCH=signs)"
                       : cfg->sketch == SMG_PCA_SKETCH_GRAM_UNSHIFTED
                           ? "two-sided Gram (unshifted solve, SMALGO_PCA_SKETCH=gram-unshifted)"
                           : "two-sided Gram";

    smg_log_info("Randomized PCA: a %zu x %zu %s sketch (num_components %zu + extra_components "
                 "%zu)",
                 l, cfg->feature_dim, kind, cfg->num_components, l - cfg->num_components);
    if (l >= cfg->feature_dim)
        smg_log_warn("The total number of components and extra components should be less "
                     "than the number of features.");
}

/* One pass over this rank's share of `train` (with several ranks it may get no files). */
static int stream_train(struct smg_job *job, const struct smg_pca_config *cfg,
                        struct smg_pca_ckpt *ck, size_t batch_rows, struct smg_error *err)
{
    struct smg_pca *p = ck->p;
    struct smg_job_pass pass;
    uint64_t local_rows;
    int rc;

    memset(&pass, 0, sizeof(pass));
    if (smg_pca_ckpt_on(ck))
        rc = smg_pca_ckpt_read(ck, job, cfg->feature_dim, batch_rows, &pass, err);
    else
        rc = smg_job_read_channel(job, "train", cfg->feature_dim, batch_rows, update_batch, p,
                                  &pass, err);
    if (rc != SMG_OK)
        return rc;
    local_rows = smg_pca_rows(p);
    smg_job_add_timing(job, "epochs", 1.0);
    smg_job_add_timing(job, "update.time", pass.seconds * 1000.0);
    /* The stage split `make bench` reads; the allreduce comes after the pass (finish). */
    smg_job_stage_split(job, &pass.io, pass.seconds - pass.io.wait_s, -1.0);
    smg_job_progress_metric(job, 100.0);
    smg_job_throughput_metric(job, "train",
                              pass.seconds > 0.0 ? (double)local_rows / pass.seconds : 0.0);
    smg_log_info("Read %llu records (%.1f MB) in %.3f s on rank %d", (unsigned long long)local_rows,
                 (double)pass.bytes / 1e6, pass.seconds, job->comm.rank);
    return SMG_OK;
}

/* Combine ranks, check the record count and solve into res. */
static int finish(struct smg_job *job, const struct smg_pca_config *cfg, struct smg_pca *p,
                  struct smg_pca_result *res, struct smg_error *err)
{
    double t0 = smg_now();
    int rc = smg_pca_allreduce(p, &job->comm, err);

    if (rc != SMG_OK)
        return rc;
    smg_job_add_timing(job, "_allreduce.time", MS(t0));
    if (job->comm.size > 1)
        smg_log_info("rank %d: allreduce %.3f s", job->comm.rank, MS(t0) / 1000.0);
    if (smg_pca_rows(p) == 0)
        return smg_error_set(err, SMG_EFORMAT, "no records in channel train");
    if (smg_pca_rows(p) < cfg->num_components)
        return smg_error_set(err, SMG_EFORMAT,
                             "the train channel has %llu records, fewer than num_components (%zu); "
                             "give at least num_components records or lower num_components",
                             (unsigned long long)smg_pca_rows(p), cfg->num_components);
    if ((rc = smg_pca_solve(p, res, err)) != SMG_OK)
        return rc;
    smg_job_add_timing(job, "finalize.time", MS(t0));
    if (job->comm.rank == 0)
        smg_log_info("PCA (%s mode) on %llu records: largest singular value %g",
                     cfg->mode == SMG_PCA_RANDOMIZED ? "randomized" : "regular",
                     (unsigned long long)smg_pca_rows(p),
                     cfg->mode == SMG_PCA_RANDOMIZED ? res->s[0] : res->s[res->num_components - 1]);
    return SMG_OK;
}

/* Checkpoints (pca_checkpoint.h): what must match is the resolved configuration. */
static int checkpoints_open(struct smg_job *job, struct smg_pca_ckpt *ck, struct smg_pca *p,
                            struct smg_error *err)
{
    char *hp = smg_hparams_to_json(job->hp);
    int rc;

    if (hp == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory setting up checkpoints");
    rc = smg_pca_ckpt_open(ck, job, hp, p, err);
    smg_free(hp);
    return rc;
}

static enum smg_status train(struct smg_job *job, struct smg_error *err)
{
    struct smg_pca_config cfg;
    struct smg_pca *p = NULL;
    struct smg_pca_result res;
    struct smg_pca_ckpt ck;
    size_t batch_rows;
    double t0 = smg_now();
    int rc;

    memset(&res, 0, sizeof(res));
    memset(&ck, 0, sizeof(ck));
    job->accept_csr = true; /* sparse channels arrive as CSR (smg_pca_update takes both) */
    if ((rc = read_config(job, &cfg, &batch_rows, err)) != SMG_OK)
        return rc;
    rc = smg_pca_new(&cfg, &p, err);
    if (rc != SMG_OK)
        goto out;
    if (cfg.mode == SMG_PCA_RANDOMIZED && job->rank_on_host == 0)
        log_sketch(&cfg, p);
    smg_job_add_timing(job, "initialize.time", MS(t0));
    if ((rc = checkpoints_open(job, &ck, p, err)) != SMG_OK)
        goto out;
    if ((smg_pca_ckpt_stream_done(&ck) ||
         (rc = stream_train(job, &cfg, &ck, batch_rows, err)) == SMG_OK) &&
        (rc = finish(job, &cfg, p, &res, err)) == SMG_OK)
        rc = write_model(job, &res, batch_rows, err);
out:
    smg_pca_ckpt_close(&ck);
    smg_pca_result_free(&res);
    smg_pca_free(p);
    return rc;
}

/* ---- model schema and serving ------------------------------------------------ */

struct served_pca {
    size_t d, k;
    const float *v;    /* (d, k), in the model file */
    const float *mean; /* d values, or NULL */
    double *mean_v;    /* mean · v (k values) for CSR rows, or NULL without a mean */
};

static bool model_claims(const struct smg_ndarray_file *f)
{
    return f->named && smg_ndarray_find(f, "s") != NULL && smg_ndarray_find(f, "v") != NULL;
}

static int check_f32(const struct smg_ndarray *a, const char *name, const char *what,
                     struct smg_error *err)
{
    if (a->dtype != SMG_DTYPE_FLOAT32)
        return smg_error_set(err, SMG_EFORMAT, "%s: array %s has dtype %d, expected float32 (0)",
                             what, name, (int)a->dtype);
    return SMG_OK;
}

/* Check the shapes and dtypes of a claimed file into *m (pointing into f). */
static int check_model(const struct smg_ndarray_file *f, const char *what, struct served_pca *m,
                       struct smg_error *err)
{
    const struct smg_ndarray *s = smg_ndarray_find(f, "s");
    const struct smg_ndarray *v = smg_ndarray_find(f, "v");
    const struct smg_ndarray *mean = smg_ndarray_find(f, "mean");
    int rc;

    if (v->ndim != 2 || v->shape[0] < 1 || v->shape[1] < 1)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s: PCA array 'v' must be 2-D (feature_dim, num_components), has "
                             "%u dims",
                             what, v->ndim);
    if ((rc = check_f32(v, "'v'", what, err)) != SMG_OK ||
        (rc = check_f32(s, "'s'", what, err)) != SMG_OK)
        return rc;
    m->d = (size_t)v->shape[0];
    m->k = (size_t)v->shape[1];
    if (smg_ndarray_elements(s) != m->k)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s: PCA array 's' has %zu values but 'v' has %zu components", what,
                             smg_ndarray_elements(s), m->k);
    m->v = v->data;
    if (mean != NULL) {
        if ((rc = check_f32(mean, "'mean'", what, err)) != SMG_OK)
            return rc;
        if (smg_ndarray_elements(mean) != m->d)
            return smg_error_set(err, SMG_EFORMAT,
                                 "%s: PCA array 'mean' has %zu values but 'v' has %zu features",
                                 what, smg_ndarray_elements(mean), m->d);
        m->mean = mean->data;
    }
    return SMG_OK;
}

static enum smg_status serve_open(const struct smg_ndarray_file *f, const char *what,
                                  struct smg_served *out, struct smg_error *err)
{
    struct served_pca *m = smg_calloc(1, sizeof(*m));
    int rc;

    if (m == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory loading the model");
    if ((rc = check_model(f, what, m, err)) != SMG_OK) {
        smg_free(m);
        return rc;
    }
    if (m->mean != NULL) {
        if ((m->mean_v = smg_malloc(m->k * sizeof(double))) == NULL) {
            smg_free(m);
            return smg_error_set(err, SMG_ENOMEM, "out of memory loading the model");
        }
        smg_pca_mean_projection(m->v, m->d, m->k, m->mean, m->mean_v);
    }
    out->state = m;
    out->feature_dim = m->d;
    snprintf(out->describe, sizeof(out->describe), "PCA model: %zu features, %zu components%s",
             m->d, m->k, m->mean ? ", with mean" : ", no mean");
    return SMG_OK;
}

static void serve_close(struct smg_served *served)
{
    struct served_pca *m = served->state;

    if (m != NULL)
        smg_free(m->mean_v);
    smg_free(m);
    served->state = NULL;
}

static enum smg_status serve_check_accept(const struct smg_codec *accept, struct smg_error *err)
{
    if (accept == &smg_codec_csv)
        return smg_error_set(err, SMG_ECONFIG,
                             "Accept text/csv is for k-means models; a PCA model answers "
                             "application/json, application/jsonlines or "
                             "application/x-recordio-protobuf");
    return SMG_OK;
}

static enum smg_status predict(const struct smg_served *served, const struct smg_batch *b,
                               const struct smg_codec *accept, struct smg_buf *out,
                               struct smg_error *err)
{
    const struct served_pca *m = served->state;
    const size_t n = b->rows;
    float *proj = NULL;
    struct smg_infer_field field;
    struct smg_infer_result r;
    size_t bytes;
    int rc;

    if (!smg_mul_size(n, m->k, &bytes) || !smg_mul_size(bytes, sizeof(float), &bytes) ||
        (proj = smg_malloc(bytes)) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory scoring %zu rows", n);
    if (smg_batch_is_csr(b))
        rc = smg_pca_project_csr(m->v, m->d, m->k, m->mean_v, b, proj, err);
    else
        rc = smg_pca_project(m->v, m->d, m->k, m->mean, b->x, n, proj, err);
    if (rc == SMG_OK) {
        field = (struct smg_infer_field){"projection", proj, m->k, false};
        r = (struct smg_infer_result){"projections", n, 1, &field};
        rc = smg_infer_response_encode(accept, &r, out, err);
    }
    smg_free(proj);
    return rc;
}

/* ---- inspect note -------------------------------------------------------------- */

/* +1 if the finite values of s ascend, -1 if they descend, 0 otherwise. */
static int order_of(const struct smg_ndarray *s)
{
    size_t n = smg_ndarray_elements(s);
    double prev = NAN;
    bool up = true, down = true;

    for (size_t i = 0; i < n; i++) {
        double v = smg_ndarray_value(s, i);
        if (!isfinite(v))
            continue;
        if (isfinite(prev)) {
            up = up && v >= prev;
            down = down && v <= prev;
        }
        prev = v;
    }
    return up == down ? 0 : (up ? 1 : -1);
}

static enum smg_status inspect_note(const struct smg_ndarray_file *f, struct smg_buf *out)
{
    const struct smg_ndarray *s = smg_ndarray_find(f, "s"), *v = smg_ndarray_find(f, "v");
    int order;

    if (!model_claims(f) || v->ndim != 2)
        return SMG_OK;
    order = order_of(s);
    return smg_buf_printf(
        out,
        "{\"model\": \"pca\", \"feature_dim\": %lld, \"num_components\": %lld, \"projection\": "
        "\"%s\", \"component_order\": \"%s\", \"uses_s\": false}",
        (long long)v->shape[0], (long long)v->shape[1],
        smg_ndarray_find(f, "mean") != NULL ? "projection = (x - mean) · v" : "projection = x · v",
        order > 0   ? "s ascending (regular mode): the last column of v, and the last projection "
                      "value, is the largest component"
        : order < 0 ? "s descending (randomized mode): the first column of v, and the first "
                      "projection value, is the largest component"
                    : "s is neither ascending nor descending");
}

const struct smg_algorithm smg_algorithm_pca = {
    .name = "pca",
    .title = "PCA",
    .metrics_name = "PCA",
    .identifying_hp = "num_components",
    .hparams = pca_hparams,
    .n_hparams = sizeof(pca_hparams) / sizeof(pca_hparams[0]),
    .train = train,
    .model_schema = "a PCA model (named arrays 's', 'v' and optionally 'mean')",
    .model_claims = model_claims,
    .serve_open = serve_open,
    .serve_close = serve_close,
    .serve_check_accept = serve_check_accept,
    .predict = predict,
    .inspect_note = inspect_note,
};

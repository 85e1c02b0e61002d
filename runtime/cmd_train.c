/*
 * `smalgo train`: the SageMaker training contract.
 *
 * Order of work: find the ML root (--ml-root, SMALGO_ML_ROOT, /opt/ml); start
 * MPI when run under mpirun; install the stop handlers; read
 * resourceconfig.json and inputdataconfig.json (or apply a local run's
 * defaults); choose the algorithm (--algorithm, SMALGO_ALGORITHM, else from
 * the hyperparameters: each algorithm's identifying_hp, e.g. k for k-means); check the
 * hyperparameters against its table and log "Final configuration: {...}";
 * check every declared channel is there, has a known content type, its files
 * can be read and it is not empty (File mode: some bytes on some host); train;
 * print the #metrics line. Any failure becomes output/failure and a non-zero
 * exit; under MPI a failing rank aborts the others so no peer waits forever.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "algorithms/comm.h"
#include "io/base/alloc.h"
#include "io/base/log.h"
#include "io/file_list.h"
#include "io/s3/s3_manifest.h"
#include "runtime/commands.h"
#include "runtime/config.h"
#include "runtime/config_walk.h"
#include "runtime/failure.h"
#include "runtime/job.h"
#include "runtime/jsonfile.h"
#include "runtime/model_dir.h"
#include "runtime/mpi_peers.h"
#include "runtime/mpi_process.h"
#include "runtime/threads.h"
#include "runtime/signals.h"
#include "runtime/train_s3.h"

struct train_opts {
    const char *root;
    const char *algorithm;
    const char *algorithm_from; /* "--algorithm", "SMALGO_ALGORITHM" or NULL */
    struct smg_train_s3 s3;     /* --channel NAME=s3://..., --output s3://..., --job-name */
    const char *checkpoint_dir; /* --checkpoint-dir, or NULL */
};

static void usage(FILE *out)
{
    char names[256];

    smg_algorithm_names("|", names, sizeof(names));
    fprintf(out,
            "usage: smalgo train [--ml-root DIR] [--algorithm %s]\n\n"
            "Train as SageMaker's built-in algorithm would, from DIR/input/config and\n"
            "DIR/input/data, writing DIR/model (or DIR/output/failure on error).\n\n"
            "  --ml-root DIR       the SageMaker root (default: $SMALGO_ML_ROOT, else /opt/ml)\n"
            "  --algorithm NAME    one of %s (default: $SMALGO_ALGORITHM, else inferred\n"
            "                      from the hyperparameters:",
            names, names);
    for (size_t i = 0; smg_algorithms[i] != NULL; i++)
        fprintf(out, "%s\n                        %s means %s", i ? "," : "",
                smg_algorithms[i]->identifying_hp, smg_algorithms[i]->name);
    fprintf(out,
            ")\n"
            "  --channel NAME=s3://bucket/prefix/   read channel NAME from S3 (repeatable)\n"
            "  --output s3://bucket/prefix/   upload <prefix>/<job>/output/model.tar.gz\n"
            "  --job-name NAME     the <job> of --output (default: $TRAINING_JOB_NAME)\n"
            "  --checkpoint-dir DIR  write checkpoints to DIR and resume from them (default:\n"
            "                      $SMALGO_CHECKPOINT_DIR, else DIR/checkpoints of the ML\n"
            "                      root when that folder exists, else none)\n"
            "  --help              this text\n\n"
            "Environment: SMALGO_PIPE_TIMEOUT_MS (how long to wait for a Pipe-mode FIFO),\n"
            "SMALGO_PIPE_STALL_TIMEOUT (seconds without data from its writer; default 300),\n"
            "SMALGO_CHECKPOINT_INTERVAL_S (seconds between checkpoints; fractions allowed).\n");
}

/* 0: run; 1: help printed; -1: usage error (printed). */
static int parse_args(int argc, char **argv, struct train_opts *o)
{
    const char *env;

    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if ((strcmp(a, "--ml-root") == 0 || strcmp(a, "--algorithm") == 0) && i + 1 < argc) {
            if (a[2] == 'm')
                o->root = argv[++i];
            else
                o->algorithm = argv[++i];
        } else if (strcmp(a, "--channel") == 0 && i + 1 < argc) {
            if (!smg_train_s3_add_channel(&o->s3, argv[++i])) {
                fprintf(stderr,
                        "smalgo train: --channel wants NAME=s3://bucket/prefix/ (at most "
                        "%d)\n",
                        SMG_TRAIN_S3_MAX_CHANNELS);
                return -1;
            }
        } else if ((strcmp(a, "--output") == 0 || strcmp(a, "--job-name") == 0) && i + 1 < argc) {
            if (a[2] == 'o')
                o->s3.output = argv[++i];
            else
                o->s3.job_name = argv[++i];
        } else if (strcmp(a, "--checkpoint-dir") == 0 && i + 1 < argc) {
            o->checkpoint_dir = argv[++i];
        } else if (strncmp(a, "--checkpoint-dir=", 17) == 0) {
            o->checkpoint_dir = a + 17;
        } else if (strncmp(a, "--ml-root=", 10) == 0) {
            o->root = a + 10;
        } else if (strncmp(a, "--algorithm=", 12) == 0) {
            o->algorithm = a + 12;
        } else {
            fprintf(stderr, "smalgo train: unknown or incomplete option '%s'\n\n", a);
            usage(stderr);
            return -1;
        }
    }
    if (o->s3.output != NULL && strncmp(o->s3.output, "s3://", 5) != 0) {
        fprintf(stderr, "smalgo train: --output wants s3://bucket/prefix/\n");
        return -1;
    }
    if (o->algorithm != NULL)
        o->algorithm_from = "--algorithm";
    else if ((env = getenv("SMALGO_ALGORITHM")) != NULL && *env != '\0') {
        o->algorithm = env;
        o->algorithm_from = "SMALGO_ALGORITHM";
    }
    if (o->root == NULL && (env = getenv("SMALGO_ML_ROOT")) != NULL && *env != '\0')
        o->root = env;
    if (o->root == NULL)
        o->root = "/opt/ml";
    return 0;
}

/*
 * E.g. "neither 'k' (kmeans) nor 'num_components' (pca)"; "none of ..." for more
 * than two. Listed from the last table entry to the first, which keeps the
 * message the two-algorithm releases printed (and tests pin) word for word.
 */
static int identifying_item(char *dst, size_t room, const struct smg_algorithm *a)
{
    return snprintf(dst, room, "'%s' (%s)", a->identifying_hp, a->name);
}

static void identifying_list(char *buf, size_t size)
{
    smg_algorithm_alternatives(buf, size, true, identifying_item);
}

static int choose_algorithm(const struct train_opts *o, const char *hp_text, const char *hp_path,
                            const struct smg_algorithm **out, struct smg_error *err)
{
    const struct smg_algorithm *found = NULL;
    char names[256], idents[512];
    int rc;

    smg_algorithm_names(", ", names, sizeof(names));
    if (o->algorithm != NULL) {
        *out = smg_algorithm_find(o->algorithm);
        if (*out == NULL)
            return smg_error_set(err, SMG_ECONFIG,
                                 "unknown algorithm '%.100s' (from %s); choose "
                                 "one of: %s",
                                 o->algorithm, o->algorithm_from, names);
        return SMG_OK;
    }
    for (size_t i = 0; smg_algorithms[i] != NULL; i++) {
        bool has;
        rc = smg_hparams_has_key(hp_text, hp_path, smg_algorithms[i]->identifying_hp, &has, err);
        if (rc != SMG_OK)
            return rc;
        if (has && found != NULL)
            return smg_error_set(err, SMG_ECONFIG,
                                 "cannot tell which algorithm to train: %s names both '%s' and "
                                 "'%s'; pass --algorithm (%s) or set SMALGO_ALGORITHM",
                                 hp_path, found->name, smg_algorithms[i]->name, names);
        if (has)
            found = smg_algorithms[i];
    }
    if (found == NULL) {
        identifying_list(idents, sizeof(idents));
        return smg_error_set(err, SMG_ECONFIG,
                             "cannot tell which algorithm to train: %s has %s; pass --algorithm "
                             "(%s) or set SMALGO_ALGORITHM",
                             hp_path, idents, names);
    }
    *out = found;
    return SMG_OK;
}

static int read_hparams(struct smg_job *job, const struct train_opts *o, struct smg_error *err)
{
    char path[8192];
    char *text = NULL;
    size_t len;
    bool missing;
    char *resolved;
    int rc;

    snprintf(path, sizeof(path), "%s/input/config/hyperparameters.json", job->root);
    rc = smg_file_read_text(path, SMG_CONFIG_MAX_BYTES, &text, &len, &missing, err);
    if (rc != SMG_OK) {
        if (missing)
            smg_error_prefix(err, "the job's hyperparameters are missing: ");
        return rc;
    }
    if ((rc = choose_algorithm(o, text, path, &job->algorithm, err)) != SMG_OK)
        goto out;
    if (job->rank_on_host == 0)
        smg_log_info("Algorithm: %s (%s)", job->algorithm->name,
                     o->algorithm_from ? o->algorithm_from : "inferred from the hyperparameters");
    rc = smg_hparams_parse(job->algorithm->hparams, job->algorithm->n_hparams, text, path, &job->hp,
                           err);
    if (rc != SMG_OK)
        goto out;
    resolved = smg_hparams_to_json(job->hp);
    if (resolved == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "out of memory logging the configuration");
        goto out;
    }
    if (job->rank_on_host == 0)
        smg_log_info("Final configuration: %s", resolved);
    smg_free(resolved);
out:
    smg_free(text);
    return rc;
}

static int pipe_timeout(struct smg_job *job, struct smg_error *err)
{
    const char *s = getenv("SMALGO_PIPE_TIMEOUT_MS");
    long v = 0;

    if (s == NULL || *s == '\0')
        return SMG_OK;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || v > 86400000L)
            return smg_error_set(err, SMG_ECONFIG,
                                 "SMALGO_PIPE_TIMEOUT_MS='%.40s' is not a number of milliseconds "
                                 "from 1 to 86400000",
                                 s);
        v = v * 10 + (*p - '0');
    }
    if (v < 1 || v > 86400000L)
        return smg_error_set(err, SMG_ECONFIG,
                             "SMALGO_PIPE_TIMEOUT_MS='%.40s' is not a number of milliseconds from "
                             "1 to 86400000",
                             s);
    job->pipe_timeout_ms = (int)v;
    return SMG_OK;
}

/* SMALGO_PIPE_STALL_TIMEOUT: seconds (fractions allowed) without data before a writer has stalled.
 */
static int pipe_stall_timeout(struct smg_job *job, struct smg_error *err)
{
    const char *s = getenv("SMALGO_PIPE_STALL_TIMEOUT");
    char *end = NULL;
    double v;

    if (s == NULL || *s == '\0')
        return SMG_OK;
    v = strtod(s, &end);
    if (strspn(s, "0123456789.") != strlen(s) || *end != '\0' || !(v >= 0.001 && v <= 86400.0))
        return smg_error_set(err, SMG_ECONFIG,
                             "SMALGO_PIPE_STALL_TIMEOUT='%.40s' is not a number of seconds from "
                             "0.001 to 86400",
                             s);
    job->pipe_stall_ms = (int)(v * 1000.0 + 0.5);
    return SMG_OK;
}

/* smg_config_walk callback: the file must open for reading; adds its size to *(double *)ctx. */
static int check_readable_size(const char *path, void *ctx, struct smg_error *err)
{
    int rc = smg_config_check_readable(path, NULL, err);
    struct stat st;
    if (rc == SMG_OK && stat(path, &st) == 0 && S_ISREG(st.st_mode))
        *(double *)ctx += (double)st.st_size;
    return rc;
}

/*
 * A channel folder holding a SageMaker manifest (io/s3/s3_manifest.h) has data
 * when the manifest lists an object: count it as one byte (its size is S3's
 * to tell; a missing object fails when it is read, naming its URI).
 */
static int count_manifest_objects(const char *dir, double *bytes, struct smg_error *err)
{
    struct smg_file_list listed = {NULL, 0};
    bool found;
    int rc = smg_s3_manifest_scan_folder(dir, &listed, &found, err);

    if (rc == SMG_OK && found && listed.count > 0 && *bytes == 0.0)
        *bytes = 1.0;
    smg_file_list_clear(&listed);
    return rc;
}

/*
 * A File-mode channel with no data bytes on any host (summed over all ranks:
 * with ShardedByS3Key one host may rightly get no file) is a ClientError now,
 * before training, rather than after the model is written (the `test` channel
 * is read last). Pipe-mode channels are counted as non-empty: their data has
 * not arrived yet.
 */
static int check_not_empty(struct smg_job *job, double *bytes, struct smg_error *err)
{
    int rc = smg_comm_sum_f64(&job->comm, bytes, job->n_channels, err);
    if (rc != SMG_OK)
        return rc;
    for (size_t i = 0; i < job->n_channels; i++)
        if (bytes[i] == 0.0)
            return smg_error_set(err, SMG_EFORMAT,
                                 "channel '%s' is empty: no data in %s/%s%s; give it data or leave "
                                 "it out of inputdataconfig.json",
                                 job->channels[i].name, job->data_dir, job->channels[i].name,
                                 job->comm.size > 1 ? " on any host" : "");
    return SMG_OK;
}

static int check_channels(struct smg_job *job, struct smg_error *err)
{
    char dir[8192];
    double bytes[SMG_MAX_CHANNELS] = {0};
    struct stat st;
    int rc;

    if (smg_job_channel(job, "train") == NULL)
        return smg_error_set(err, SMG_ECONFIG,
                             "no 'train' channel: %s needs training data in %s/train (declare it "
                             "in inputdataconfig.json, or create that folder for a local run)",
                             job->algorithm->name, job->data_dir);
    for (size_t i = 0; i < job->n_channels; i++) {
        const struct smg_channel_info *ch = &job->channels[i];
        struct smg_format fmt;
        memset(&fmt, 0, sizeof(fmt));
        if ((rc = smg_format_parse_content_type(ch->content_type, &fmt, err)) != SMG_OK) {
            smg_error_prefix(err, "channel '%s': ", ch->name);
            return rc;
        }
        snprintf(dir, sizeof(dir), "%s/%s", job->data_dir, ch->name);
        if (ch->mode == SMG_MODE_PIPE) {
            bytes[i] = 1.0;
            if (job->rank_on_host == 0)
                smg_log_info("The channel '%s' is in pipe input mode under %s.", ch->name, dir);
            continue;
        }
        if (stat(dir, &st) != 0)
            return smg_error_set(err, SMG_ECONFIG,
                                 "channel '%s' is declared in inputdataconfig.json but its folder "
                                 "%s does not exist",
                                 ch->name, dir);
        if (!S_ISDIR(st.st_mode))
            return smg_error_set(err, SMG_ECONFIG,
                                 "channel '%s' is in %s mode but %s is not a folder", ch->name,
                                 ch->mode == SMG_MODE_FASTFILE ? "FastFile" : "File", dir);
        if ((rc = smg_config_walk(dir, check_readable_size, &bytes[i], err)) != SMG_OK ||
            (rc = count_manifest_objects(dir, &bytes[i], err)) != SMG_OK)
            return rc;
        if (job->rank_on_host == 0)
            smg_log_info("The channel '%s' is in %s input mode under %s, content type %s.",
                         ch->name, ch->mode == SMG_MODE_FASTFILE ? "fastfile" : "file", dir,
                         ch->content_type[0] ? ch->content_type : "(default recordIO-protobuf)");
    }
    return check_not_empty(job, bytes, err);
}

static int run(struct smg_job *job, const struct train_opts *o, struct smg_error *err)
{
    struct stat st;
    double t0;
    int rc;

    if ((rc = smg_job_set_root(job, o->root, err)) != SMG_OK)
        return rc;
    if (stat(job->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
        bool exists = stat(job->root, &st) == 0;
        return smg_error_set(err, SMG_ECONFIG,
                             "the ML root %s %s; give --ml-root DIR or set SMALGO_ML_ROOT to a "
                             "folder holding input/config and input/data",
                             job->root, exists ? "is not a folder" : "does not exist");
    }
    if (o->checkpoint_dir != NULL &&
        snprintf(job->checkpoint_dir, sizeof(job->checkpoint_dir), "%s", o->checkpoint_dir) >=
            (int)sizeof(job->checkpoint_dir))
        return smg_error_set(err, SMG_ECONFIG, "--checkpoint-dir is too long");
    job->stop = smg_signals_install(job->output_dir);
    smg_failure_clear(job->output_dir);
    smg_job_assign_ranks(job); /* from mpirun's variables, so only one rank per host logs */
    if (job->rank_on_host == 0 && job->comm.rank == 0 &&
        (rc = smg_train_s3_channels(&o->s3, job->data_dir, err)) != SMG_OK)
        return rc;
    if ((rc = pipe_timeout(job, err)) != SMG_OK || (rc = pipe_stall_timeout(job, err)) != SMG_OK ||
        (rc = smg_config_load(job, err)) != SMG_OK)
        return rc;
    smg_job_assign_ranks(job);
    smg_mpi_peers_share(job); /* so a stop handler can name a rank that died */
    if (job->n_hosts > 1 && job->comm.size == 1 && job->rank_on_host == 0)
        smg_log_warn("%zu hosts are listed but this process is not under mpirun: host %s trains "
                     "on its own data only",
                     job->n_hosts, job->current_host);
    if ((rc = read_hparams(job, o, err)) != SMG_OK || (rc = check_channels(job, err)) != SMG_OK ||
        (rc = smg_threads_pool(job->ranks_on_host, job->rank_on_host == 0, &job->pool, err)) !=
            SMG_OK ||
        (rc = smg_threads_decode_count(smg_pool_size(job->pool), &job->decode_threads, err)) !=
            SMG_OK)
        return rc;
    if ((rc = smg_model_dir_prepare(job->model_dir, job->rank_on_host == 0, err)) != SMG_OK)
        return rc;
    t0 = smg_now();
    smg_job_add_timing(job, "setuptime", (t0 - job->start_time) * 1000.0);
    rc = job->algorithm->train(job, err);
    if (rc != SMG_OK)
        return rc;
    if (o->s3.output != NULL && job->comm.rank == 0 &&
        (rc = smg_train_s3_upload(&o->s3, job->model_dir, job->output_dir, err)) != SMG_OK)
        return rc;
    smg_job_add_timing(job, "totaltime", (smg_now() - job->start_time) * 1000.0);
    smg_job_emit_metrics(job);
    return SMG_OK;
}

int smg_cmd_train(int argc, char **argv)
{
    struct train_opts opts;
    struct smg_job job;
    struct smg_error err;
    int rc;

    rc = parse_args(argc, argv, &opts);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    smg_job_init(&job);
    smg_error_clear(&err);
    rc = smg_mpi_process_init(&argc, &argv, &job.comm, &err);
    if (rc == SMG_OK)
        rc = run(&job, &opts, &err);
    if (rc != SMG_OK) {
        if (job.stop != NULL && *job.stop != 0 && job.model_written[0] != '\0') {
            smg_error_clear(&err);
            smg_error_set(&err, SMG_ESTOPPED,
                          "training stopped by %s (StopTrainingJob, MaxRuntimeInSeconds or "
                          "Ctrl-C) after the model was written to %s (it is complete); what "
                          "followed it (such as scoring the test channel) did not finish",
                          smg_signal_name((int)*job.stop), job.model_written);
        } else if (job.stop != NULL && *job.stop != 0) {
            smg_error_clear(&err);
            smg_error_set(&err, SMG_ESTOPPED,
                          "training stopped by %s (StopTrainingJob, MaxRuntimeInSeconds or "
                          "Ctrl-C) at a mini-batch boundary; no model was written%s",
                          smg_signal_name((int)*job.stop),
                          job.checkpoints > 0 ? "; its progress is in a checkpoint: restart the "
                                                "job with the same checkpoint folder to resume"
                                              : "");
        }
        if (err.status == SMG_OK)
            smg_error_set(&err, rc, "training failed: %s", smg_status_str(rc));
        smg_failure_report(job.output_dir[0] ? job.output_dir : NULL, &err);
        if (job.comm.size > 1)
            smg_mpi_process_abort(&job.comm, 1);
    }
    smg_mpi_process_finalize(&job.comm);
    smg_job_release(&job);
    return rc == SMG_OK ? 0 : 1;
}

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
 * can be read and it is not empty (File mode: some bytes and a well-formed
 * first record on some host, runtime/channel_records.h); train (the drivers
 * score the `test` channel before they write the model, so a bad test channel
 * leaves no model); print the #metrics line. Any failure becomes output/failure and a non-zero
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
#include "runtime/channel_records.h"
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
 * to tell; a missing object fails when it is read, naming its URI). *found:
 * the folder holds a manifest (its records are in S3, not probed here).
 */
static int count_manifest_objects(const char *dir, double *bytes, bool *found,
                                  struct smg_error *err)
{
    struct smg_file_list listed = {NULL, 0};
    int rc = smg_s3_manifest_scan_folder(dir, &listed, found, err);

    if (rc == SMG_OK && *found && listed.count > 0 && *bytes == 0.0)
        *bytes = 1.0;
    smg_file_list_clear(&listed);
    return rc;
}

/* What check_channels learns of one channel on this rank, before the sums over ranks. */
struct channel_seen {
    double bytes[SMG_MAX_CHANNELS];   /* data bytes (Pipe mode and manifests: 1) */
    double records[SMG_MAX_CHANNELS]; /* 1 when a record was found (or cannot be looked for) */
    struct smg_channel_records probe[SMG_MAX_CHANNELS];
};

/* "channel 'test' has no records: the 1 file under DIR (first: F) holds only empty lines" */
static int no_records(struct smg_job *job, size_t i, const struct channel_seen *seen,
                      struct smg_error *err)
{
    const struct smg_channel_info *ch = &job->channels[i];
    const struct smg_channel_records *p = &seen->probe[i];
    struct smg_format fmt;
    struct smg_error ignored;
    bool csv = smg_format_parse_content_type(ch->content_type, &fmt, &ignored) == SMG_OK &&
               fmt.rows == SMG_ROWS_CSV;

    if (p->files == 0)
        return smg_error_set(err, SMG_EFORMAT,
                             "channel '%s' has no records on any host; give it data or leave it "
                             "out of inputdataconfig.json",
                             ch->name);
    return smg_error_set(err, SMG_EFORMAT,
                         "channel '%s' has no records: the %zu file%s under %s/%s (first: %s) "
                         "hold%s %s%s; give it data or leave it out of inputdataconfig.json",
                         ch->name, p->files, p->files == 1 ? "" : "s", job->data_dir, ch->name,
                         p->first, p->files == 1 ? "s" : "",
                         csv && !ch->recordio_wrapped ? "only empty lines"
                         : csv                        ? "only empty CSV records"
                                                      : "no RecordIO record",
                         job->comm.size > 1 ? ", nor do the other hosts' files" : "");
}

/*
 * A File-mode channel with no data bytes, or no record, on any host (summed
 * over all ranks: with ShardedByS3Key one host may rightly get no file) is a
 * ClientError now, before training, rather than after the model is written
 * (the `test` channel is read last). Pipe-mode channels are counted as
 * non-empty: their data has not arrived yet.
 */
static int check_not_empty(struct smg_job *job, struct channel_seen *seen, struct smg_error *err)
{
    double sums[2 * SMG_MAX_CHANNELS];
    size_t n = job->n_channels;
    int rc;

    memcpy(sums, seen->bytes, n * sizeof(double));
    memcpy(sums + n, seen->records, n * sizeof(double));
    if ((rc = smg_comm_sum_f64(&job->comm, sums, 2 * n, err)) != SMG_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (sums[i] == 0.0)
            return smg_error_set(err, SMG_EFORMAT,
                                 "channel '%s' is empty: no data in %s/%s%s; give it data or leave "
                                 "it out of inputdataconfig.json",
                                 job->channels[i].name, job->data_dir, job->channels[i].name,
                                 job->comm.size > 1 ? " on any host" : "");
    for (size_t i = 0; i < n; i++)
        if (sums[n + i] == 0.0)
            return no_records(job, i, seen, err);
    return SMG_OK;
}

/* A File/FastFile channel: its folder, every file readable, its bytes, its first record. */
static int check_file_channel(struct smg_job *job, size_t i, const struct smg_format *fmt,
                              struct channel_seen *seen, struct smg_error *err)
{
    struct smg_channel_info *ch = &job->channels[i];
    char dir[8192];
    struct stat st;
    bool manifest = false;
    int rc;

    snprintf(dir, sizeof(dir), "%s/%s", job->data_dir, ch->name);
    if (stat(dir, &st) != 0)
        return smg_error_set(err, SMG_ECONFIG,
                             "channel '%s' is declared in inputdataconfig.json but its folder "
                             "%s does not exist",
                             ch->name, dir);
    if (!S_ISDIR(st.st_mode))
        return smg_error_set(err, SMG_ECONFIG, "channel '%s' is in %s mode but %s is not a folder",
                             ch->name, ch->mode == SMG_MODE_FASTFILE ? "FastFile" : "File", dir);
    if ((rc = smg_config_walk(dir, check_readable_size, &seen->bytes[i], err)) != SMG_OK ||
        (rc = count_manifest_objects(dir, &seen->bytes[i], &manifest, err)) != SMG_OK)
        return rc;
    if (job->rank_on_host == 0)
        smg_log_info("The channel '%s' is in %s input mode under %s, content type %s.", ch->name,
                     ch->mode == SMG_MODE_FASTFILE ? "fastfile" : "file", dir,
                     ch->content_type[0] ? ch->content_type : "(default recordIO-protobuf)");
    if (manifest) {
        seen->records[i] = 1.0; /* in S3: read when training */
        return SMG_OK;
    }
    if (seen->bytes[i] > 0.0 &&
        (rc = smg_channel_records_probe(ch->name, dir, fmt, &seen->probe[i], err)) != SMG_OK)
        return rc;
    seen->records[i] = seen->probe[i].found ? 1.0 : 0.0;
    if (seen->probe[i].found)
        ch->first_record = seen->probe[i].sparse ? SMG_FIRST_SPARSE : SMG_FIRST_DENSE;
    return SMG_OK;
}

static int check_channels(struct smg_job *job, struct smg_error *err)
{
    struct channel_seen *seen;
    int rc = SMG_OK;

    if (smg_job_channel(job, "train") == NULL)
        return smg_error_set(err, SMG_ECONFIG,
                             "no 'train' channel: %s needs training data in %s/train (declare it "
                             "in inputdataconfig.json, or create that folder for a local run)",
                             job->algorithm->name, job->data_dir);
    if ((seen = smg_calloc(1, sizeof(*seen))) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory checking the channels");
    for (size_t i = 0; i < job->n_channels && rc == SMG_OK; i++) {
        const struct smg_channel_info *ch = &job->channels[i];
        struct smg_format fmt;
        memset(&fmt, 0, sizeof(fmt));
        if ((rc = smg_format_parse_content_type(ch->content_type, &fmt, err)) != SMG_OK) {
            smg_error_prefix(err, "channel '%s': ", ch->name);
            break;
        }
        fmt.recordio_wrapped = ch->recordio_wrapped;
        if (ch->mode != SMG_MODE_PIPE) {
            rc = check_file_channel(job, i, &fmt, seen, err);
            continue;
        }
        seen->bytes[i] = seen->records[i] = 1.0;
        if (job->rank_on_host == 0)
            smg_log_info("The channel '%s' is in pipe input mode under %s/%s.", ch->name,
                         job->data_dir, ch->name);
    }
    if (rc == SMG_OK)
        rc = check_not_empty(job, seen, err);
    smg_free(seen);
    return rc;
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

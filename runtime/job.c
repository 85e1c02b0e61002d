/*
 * What an algorithm's train driver asks of the job: find a declared channel,
 * open it with the job's settings (mode, content type, this rank's share of
 * the files, the stop flag, the Pipe-mode timeout) or read it once through
 * batch by batch, and write the model file where SageMaker expects it. The
 * drivers (runtime/algos/) go through these calls rather than io/channel.h
 * and io/ndarray_io directly, so that the job's settings are applied in one
 * place.
 *
 * How a channel's files are split between ranks: with ShardedByS3Key each host
 * already holds its own shard, so only the ranks on one host share it
 * (rank_on_host of ranks_on_host). With FullyReplicated every host holds all
 * files, so all ranks of the job share them (rank of size); either way every
 * record is read exactly once. A Pipe-mode FIFO may be read by one process
 * only, so Pipe mode needs one rank per host.
 *
 * The stage split (smg_job_stage_split) is logged and reported as timings
 * here too, so both algorithms report the same stages the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/job.h"
#include "io/base/log.h"
#include "runtime/signals.h"

const struct smg_channel_info *smg_job_channel(const struct smg_job *job, const char *name)
{
    for (size_t i = 0; i < job->n_channels; i++)
        if (strcmp(job->channels[i].name, name) == 0)
            return &job->channels[i];
    return NULL;
}

static int undeclared(const struct smg_job *job, const char *name, struct smg_error *err)
{
    char names[512];
    size_t used = 0;

    names[0] = '\0';
    for (size_t i = 0; i < job->n_channels; i++) {
        int n = snprintf(names + used, sizeof(names) - used, "%s'%s'", i ? ", " : "",
                         job->channels[i].name);
        if (n > 0 && (size_t)n < sizeof(names) - used)
            used += (size_t)n;
    }
    return smg_error_set(err, SMG_ECONFIG, "no channel '%s' in this job (channels: %s)", name,
                         job->n_channels ? names : "none");
}

enum smg_status smg_job_open_channel(struct smg_job *job, const char *name, size_t feature_dim,
                                     size_t batch_rows, bool allow_empty, struct smg_channel **out,
                                     struct smg_error *err)
{
    const struct smg_channel_info *info = smg_job_channel(job, name);
    struct smg_channel_config cfg;
    int rc;

    *out = NULL;
    if (info == NULL)
        return undeclared(job, name, err);
    memset(&cfg, 0, sizeof(cfg));
    cfg.name = info->name;
    cfg.data_dir = job->data_dir;
    cfg.mode = info->mode;
    cfg.compression = info->compression;
    cfg.batch_rows = batch_rows;
    cfg.pipe_timeout_ms = job->pipe_timeout_ms;
    cfg.pipe_stall_ms = job->pipe_stall_ms;
    cfg.allow_empty = allow_empty;
    cfg.stop = job->stop;
    cfg.accept_csr = job->accept_csr;
    cfg.max_dense_bytes = job->dense_budget;
    cfg.decode_threads = job->decode_threads;
    cfg.pool = job->pool;
    rc = smg_format_parse_content_type(info->content_type, &cfg.format, err);
    if (rc != SMG_OK) {
        smg_error_prefix(err, "channel '%s': ", name);
        return rc;
    }
    cfg.format.feature_dim = feature_dim;
    cfg.format.recordio_wrapped = info->recordio_wrapped;
    if (info->mode == SMG_MODE_PIPE) {
        if (job->ranks_on_host > 1)
            return smg_error_set(err, SMG_ECONFIG,
                                 "channel '%s' is in Pipe mode, whose FIFOs may be read by one "
                                 "process only, but %d ranks run on host %s; run one rank per "
                                 "host or use File mode",
                                 name, job->ranks_on_host, job->current_host);
        cfg.rank_on_host = 0;
        cfg.ranks_on_host = 1;
    } else if (info->sharded || job->n_hosts <= 1) {
        cfg.rank_on_host = job->rank_on_host;
        cfg.ranks_on_host = job->ranks_on_host;
    } else {
        cfg.rank_on_host = job->comm.rank;
        cfg.ranks_on_host = job->comm.size;
    }
    if (cfg.ranks_on_host < 1) {
        cfg.rank_on_host = 0;
        cfg.ranks_on_host = 1;
    }
    return smg_channel_open(&cfg, out, err);
}

enum smg_status
smg_job_read_channel(struct smg_job *job, const char *name, size_t feature_dim, size_t batch_rows,
                     int (*each_batch)(void *ctx, const struct smg_batch *b, struct smg_error *err),
                     void *ctx, struct smg_job_pass *pass, struct smg_error *err)
{
    struct smg_channel *ch = NULL;
    struct smg_batch b;
    double t0;
    int rc;

    rc = smg_job_open_channel(job, name, feature_dim, batch_rows, job->comm.size > 1, &ch, err);
    if (rc != SMG_OK)
        return rc;
    t0 = smg_now();
    rc = smg_channel_begin_epoch(ch, 0, err);
    while (rc == SMG_OK && (rc = smg_channel_next_batch(ch, &b, err)) == SMG_OK)
        rc = each_batch(ctx, &b, err);
    if (rc == SMG_EEOF)
        rc = SMG_OK;
    if (pass != NULL)
        pass->bytes = smg_channel_bytes(ch);
    smg_channel_end_epoch(ch);
    if (pass != NULL)
        smg_channel_stats(ch, &pass->io);
    smg_channel_free(ch);
    if (pass != NULL)
        pass->seconds = smg_now() - t0;
    return rc;
}

enum smg_status smg_job_write_model(struct smg_job *job, const struct smg_ndarray_file *model,
                                    struct smg_error *err)
{
    char path[8192];
    double t0;
    int rc;

    if (job->comm.rank != 0)
        return SMG_OK;
    if (mkdir(job->model_dir, 0755) != 0 && errno != EEXIST)
        return smg_error_set(err, SMG_EIO, "cannot create model folder %s: %s", job->model_dir,
                             strerror(errno));
    snprintf(path, sizeof(path), "%s/model_%s", job->model_dir, job->current_host);
    t0 = smg_now();
    rc = smg_ndarray_save(path, model, err);
    if (rc != SMG_OK)
        return rc;
    smg_job_add_timing(job, "model.serialize.time", (smg_now() - t0) * 1000.0);
    smg_log_info("Wrote the model to %s", path);
    snprintf(job->model_written, sizeof(job->model_written), "%.4000s", path);
    smg_signals_model_written(path); /* a later stop must not say "no model was written" */
    return SMG_OK;
}

enum smg_status smg_job_finish(struct smg_job *job, const struct smg_ndarray_file *model,
                               int (*score)(void *ctx, struct smg_error *err),
                               void (*report)(void *ctx), void *ctx, struct smg_error *err)
{
    bool test = smg_job_channel(job, "test") != NULL;
    struct smg_error ignored;
    int rc = test ? score(ctx, err) : SMG_OK;

    if (rc == SMG_ESTOPPED) {
        smg_error_clear(&ignored);
        if (smg_job_write_model(job, model, &ignored) != SMG_OK)
            smg_log_warn("stopped while scoring the test channel; writing the model failed: %s",
                         ignored.msg);
        return SMG_ESTOPPED;
    }
    if (rc != SMG_OK || (rc = smg_job_write_model(job, model, err)) != SMG_OK)
        return rc;
    if (test)
        report(ctx);
    else if (job->rank_on_host == 0)
        smg_log_info("Test data is not provided.");
    return SMG_OK;
}

void smg_job_stage_split(struct smg_job *job, const struct smg_channel_stats *io, double compute_s,
                         double allreduce_s)
{
    char reduce[64] = "";

    if (compute_s < 0.0)
        compute_s = 0.0; /* timer granularity */
    smg_job_add_timing(job, "_read.time", io->read_s * 1000.0);
    smg_job_add_timing(job, "_decode.time", io->decode_cpu_s * 1000.0);
    smg_job_add_timing(job, "_wait.time", io->wait_s * 1000.0);
    smg_job_add_timing(job, "_compute.time", compute_s * 1000.0);
    if (allreduce_s >= 0.0) {
        smg_job_add_timing(job, "_allreduce.time", allreduce_s * 1000.0);
        snprintf(reduce, sizeof(reduce), ", allreduce %.3f s", allreduce_s);
    }
    smg_log_info("rank %d stage split: read %.3f s (I/O wait), decode %.3f s CPU on %u thread(s), "
                 "compute %.3f s on %u worker(s)%s; the trainer waited %.3f s for batches",
                 job->comm.rank, io->read_s, io->decode_cpu_s, io->decode_threads, compute_s,
                 smg_pool_size(job->pool), reduce, io->wait_s);
}

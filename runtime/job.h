/*
 * A training job: the resolved /opt/ml configuration, the hyperparameters, the
 * channels, the hosts and this process's place among them. Built by cmd_train
 * from the config files; algorithms' train functions read it and use the
 * helpers here to open channels, report metrics and write the model.
 */
#ifndef SMG_JOB_H
#define SMG_JOB_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "algorithms/comm.h"
#include "io/base/pool.h"
#include "io/base/status.h"
#include "io/channel.h"
#include "io/ndarray.h"
#include "runtime/algorithm.h"
#include "runtime/hparams.h"

#define SMG_MAX_CHANNELS 16
#define SMG_MAX_HOSTS    256

struct smg_timings;

/*
 * What the check before training saw of a channel's first record
 * (runtime/channel_records.h): nothing in Pipe mode (the data has not arrived)
 * or for an S3 manifest, else dense or sparse.
 */
enum smg_first_record { SMG_FIRST_UNSEEN = 0, SMG_FIRST_DENSE, SMG_FIRST_SPARSE };

struct smg_channel_info {
    char name[128];
    char content_type[256]; /* as given, e.g. "text/csv;label_size=0"; "" if absent */
    enum smg_input_mode mode;
    enum smg_compression compression;
    bool recordio_wrapped;              /* RecordWrapperType=RecordIO */
    bool sharded;                       /* S3DistributionType=ShardedByS3Key */
    enum smg_first_record first_record; /* set by `train`'s channel check */
};

struct smg_job {
    char root[4096];       /* /opt/ml unless --ml-root or SMALGO_ML_ROOT */
    char model_dir[4096];  /* <root>/model */
    char output_dir[4096]; /* <root>/output */
    char data_dir[4096];   /* <root>/input/data */
    const struct smg_algorithm *algorithm;
    struct smg_hparams *hp;
    struct smg_channel_info channels[SMG_MAX_CHANNELS];
    size_t n_channels;
    char current_host[256];
    char *hosts[SMG_MAX_HOSTS];
    size_t n_hosts;
    char network_interface[64];
    struct smg_comm comm;        /* rank 0 is the leader */
    int pipe_timeout_ms;         /* SMALGO_PIPE_TIMEOUT_MS, else the default */
    int pipe_stall_ms;           /* SMALGO_PIPE_STALL_TIMEOUT (seconds), else the default */
    volatile sig_atomic_t *stop; /* set by SIGTERM */
    double start_time;           /* seconds since the epoch, at job start */
    struct smg_timings *timings; /* owned by the runtime; see smg_job_add_timing */
    struct smg_pool *pool;       /* the training workers (runtime/threads.h); NULL = one */
    unsigned decode_threads;     /* threads a channel decodes on (smg_threads_decode_count) */
    /* Ranks on this host (mpirun -np N on one machine): File-mode files are split
     * between them, and only the first prints metric lines. 0 and 1 by default. */
    int rank_on_host;
    int ranks_on_host;
    bool channels_inferred;   /* no inputdataconfig.json: channels are input/data's folders */
    bool metrics_emitted;     /* the #metrics line was printed */
    char model_written[4096]; /* where smg_job_write_model wrote the model; "" before */
    /* Checkpoints (runtime/checkpoint.h): --checkpoint-dir ("" = SMALGO_CHECKPOINT_DIR or
     * <root>/checkpoints when it exists), and how many this run wrote. */
    char checkpoint_dir[4096];
    uint64_t checkpoints;
    bool accept_csr; /* channels opened from now on may deliver CSR batches (batch.h) */
    /* Bytes a channel's dense batch ring may take (job_memory.h); 0 = no limit. */
    double dense_budget;
};

/*
 * Lifecycle (job_setup.c). smg_job_init zeroes job and sets the defaults:
 * current_host algo-1 (hosts are filled by config.c), rank 0 of 1, the
 * default Pipe timeout, start_time now.
 * smg_job_set_root fills root and the model/output/data folders (SMG_ECONFIG if
 * too long). smg_job_release frees what the job owns (hosts, hyperparameters,
 * timings), not the job itself; it accepts a job that was only initialised.
 */
void smg_job_init(struct smg_job *job);
SMG_MUST_CHECK enum smg_status smg_job_set_root(struct smg_job *job, const char *root,
                                                struct smg_error *err);
void smg_job_release(struct smg_job *job);

/*
 * Place this process among the ranks on its host: from OpenMPI's
 * OMPI_COMM_WORLD_LOCAL_RANK/LOCAL_SIZE when run by mpirun, else derived from
 * the world size and the number of hosts (one rank per host by default).
 */
void smg_job_assign_ranks(struct smg_job *job);

/* The channel's info, or NULL if the job has no such channel. */
const struct smg_channel_info *smg_job_channel(const struct smg_job *job, const char *name);

/*
 * Open a declared channel for reading with this job's mode, content type,
 * rank split and stop flag. SMG_ECONFIG if the channel is not declared (the
 * message names it and the channels that are).
 */
SMG_MUST_CHECK enum smg_status smg_job_open_channel(struct smg_job *job, const char *name,
                                                    size_t feature_dim, size_t batch_rows,
                                                    bool allow_empty, struct smg_channel **out,
                                                    struct smg_error *err);

/* What smg_job_read_channel measured: bytes read, seconds from the epoch's start to the close. */
struct smg_job_pass {
    uint64_t bytes;
    double seconds;
    struct smg_channel_stats io; /* read, decode and wait times (smg_channel_stats) */
};

/*
 * One pass (epoch 0) over a declared channel, for algorithms that read it
 * once: open it as smg_job_open_channel does (with several ranks a rank may
 * get no files; the caller checks the total over ranks), call
 * each_batch(ctx, batch, err) for every mini-batch until the data ends or
 * each_batch returns non-OK, and close it. Returns SMG_OK at the end of the
 * data, else the first failing status. pass (may be NULL) is filled when the
 * channel opened.
 */
SMG_MUST_CHECK enum smg_status
smg_job_read_channel(struct smg_job *job, const char *name, size_t feature_dim, size_t batch_rows,
                     int (*each_batch)(void *ctx, const struct smg_batch *b, struct smg_error *err),
                     void *ctx, struct smg_job_pass *pass, struct smg_error *err);

/*
 * Write model/model_<current_host> atomically. Only the leader (rank 0) writes;
 * on other ranks this returns SMG_OK and writes nothing.
 */
SMG_MUST_CHECK enum smg_status smg_job_write_model(struct smg_job *job,
                                                   const struct smg_ndarray_file *model,
                                                   struct smg_error *err);

/*
 * The end of a train driver, in the order that keeps a bad `test` channel from
 * leaving a model behind: when the job has a `test` channel, score(ctx, err)
 * (the driver's pass over it with the in-memory model, on every rank, summed
 * over ranks, SMG_EFORMAT "no records in channel test" when it held none);
 * then write the model (smg_job_write_model); then report(ctx), which prints
 * the test metric lines, or "Test data is not provided." without a `test`
 * channel. Scoring comes before writing so that under MPI no rank writes a
 * model while another is still failing on its share of the test data. A stop
 * (SMG_ESTOPPED: SIGTERM) while scoring still writes the model, which is
 * complete (SageMaker gives a stopped job time to save its model), and
 * returns SMG_ESTOPPED.
 */
SMG_MUST_CHECK enum smg_status smg_job_finish(struct smg_job *job,
                                              const struct smg_ndarray_file *model,
                                              int (*score)(void *ctx, struct smg_error *err),
                                              void (*report)(void *ctx), void *ctx,
                                              struct smg_error *err);

/*
 * Metric lines exactly as SageMaker's regexes expect, tagged host=<current_host>
 * (metrics.c). Only the first rank on each host prints them.
 * "#quality_metric: host=algo-1, train msd <loss>=0.0640490949153900" for
 * what = "train msd". Numbers print in the shortest form that reads back exactly.
 */
void smg_job_quality_metric(const struct smg_job *job, const char *what, double value);
/* "#progress_metric: host=algo-1, completed 100.0 % of epochs" */
void smg_job_progress_metric(const struct smg_job *job, double percent);
/* "#throughput_metric: host=algo-1, train throughput=... records/second" */
void smg_job_throughput_metric(const struct smg_job *job, const char *channel,
                               double records_per_second);

/*
 * Timers collected into the final "#metrics {...}" line, each as
 * {"sum", "count", "min", "max"} over the calls with that name (in
 * milliseconds, as the built-ins report ".time" metrics). cmd_train adds
 * "setuptime" and "totaltime" and prints the line once after a successful
 * train; an algorithm need not call smg_job_emit_metrics (a second call prints
 * nothing).
 */
void smg_job_add_timing(struct smg_job *job, const char *name, double milliseconds);
void smg_job_emit_metrics(struct smg_job *job);

/*
 * The stage split of a training pass, so the limit of a job is visible: adds
 * the timings _read.time (wall time in file/FIFO reads), _decode.time (CPU
 * of the decode threads), _wait.time (the trainer blocked waiting for
 * batches), _compute.time (compute_s: training) and, when allreduce_s >= 0,
 * _allreduce.time, and logs them in one line for this rank.
 */
void smg_job_stage_split(struct smg_job *job, const struct smg_channel_stats *io, double compute_s,
                         double allreduce_s);

double smg_now(void); /* wall-clock seconds, double */

#endif

/*
 * Checkpoint and resume of a training job (the algorithm-neutral part).
 *
 * When: checkpointing is on when --checkpoint-dir or SMALGO_CHECKPOINT_DIR
 * names a folder (made if missing), or <ml-root>/checkpoints exists (SageMaker
 * creates /opt/ml/checkpoints when the estimator sets checkpoint_s3_uri, and
 * syncs it to S3). A driver asks at each mini-batch boundary whether a
 * checkpoint is due: every SMALGO_CHECKPOINT_INTERVAL_S seconds (fractions
 * allowed), by default every max(60 s, 100 x the last write's duration) so
 * writing costs under 1% of training time; once when SIGTERM has stopped
 * the job, before it exits; and once when every epoch is read
 * (smg_checkpoint_final).
 *
 * Files: each rank writes its own complete state to
 * <dir>/smalgo-<algorithm>-rank<r>.<a|b>.ckpt, alternating between the two
 * slots (generation g goes to slot g % 2), each written atomically (temporary
 * file, fsync, rename, fsync of the folder), so the previous generation stays
 * intact while the next is written. The format is io/checkpoint_file.h.
 *
 * Coordinated algorithms (k-means: ranks step together) decide and write
 * collectively: rank 0's clock and any rank's stop flag decide for all (one
 * small allreduce per mini-batch), the generation advances only when every
 * rank's write succeeded, and a restarted job resumes from the newest
 * generation every rank holds (the minimum over ranks of each one's newest).
 * Independent ones (PCA: ranks meet only at the end) decide and resume per
 * rank.
 *
 * Resume: a checkpoint whose algorithm, hyperparameters (a hash of the
 * resolved configuration), rank count, input mode or data (File mode: the
 * channel's file names and sizes) differ from this job's is a ClientError that
 * says what differs and how to start fresh; a corrupt or truncated file is a
 * ClientError naming it (its CRC32C is checked before anything is read).
 */
#ifndef SMG_CHECKPOINT_H
#define SMG_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "io/base/status.h"
#include "io/channel.h"
#include "io/checkpoint_file.h"
#include "runtime/job.h"

/* How far training got: what a checkpoint records and a resume continues from. */
struct smg_ckpt_progress {
    uint32_t epoch;         /* the epoch being read (or, when DONE, the number read) */
    uint32_t phase;         /* enum smg_ckpt_phase */
    uint64_t epoch_records; /* records of that epoch this rank has consumed */
    uint64_t total_records; /* records this rank consumed in all epochs */
};

/* A loaded checkpoint: the progress and the algorithm's sections (valid until free). */
struct smg_ckpt_resume {
    bool found;
    struct smg_ckpt_progress at;
    struct smg_ckpt_section sections[SMG_CKPT_MAX_SECTIONS];
    size_t n_sections;
};

struct smg_checkpoint;

/*
 * Decide whether this job checkpoints; *out is NULL when it does not.
 * config is the text whose hash must match on resume (the resolved
 * hyperparameters plus anything else that changes the state, e.g. an
 * environment setting); channel the channel whose progress is recorded.
 * SMG_ECONFIG for a bad SMALGO_CHECKPOINT_INTERVAL_S or a folder that cannot
 * be made.
 */
SMG_MUST_CHECK enum smg_status smg_checkpoint_open(struct smg_job *job, const char *config,
                                                   const char *channel, bool coordinated,
                                                   struct smg_checkpoint **out,
                                                   struct smg_error *err);
void smg_checkpoint_free(struct smg_checkpoint *c); /* accepts NULL */

/*
 * Find this rank's checkpoint to resume from (collective when coordinated)
 * and check it matches the job; r->found is false for a fresh start. Logs
 * "resuming from checkpoint: epoch 2, 1,234,567 records".
 */
SMG_MUST_CHECK enum smg_status
smg_checkpoint_resume(struct smg_checkpoint *c, struct smg_ckpt_resume *r, struct smg_error *err);

/*
 * At a mini-batch boundary: whether to write a checkpoint now (*write) and
 * whether the job must then stop (*stop: SIGTERM on this rank, or, when
 * coordinated, on any). stopped_here says this rank saw the stop (its channel
 * returned SMG_ESTOPPED). Collective when coordinated.
 */
SMG_MUST_CHECK enum smg_status smg_checkpoint_poll(struct smg_checkpoint *c, bool stopped_here,
                                                   bool *write, bool *stop, struct smg_error *err);

/*
 * Write this rank's checkpoint (collective when coordinated). A failed write
 * is logged as a warning and training goes on (the previous checkpoint stays
 * valid); only out-of-memory and collective failures are returned.
 */
SMG_MUST_CHECK enum smg_status smg_checkpoint_write(struct smg_checkpoint *c,
                                                    const struct smg_ckpt_progress *at,
                                                    const struct smg_ckpt_section *sections,
                                                    size_t n, struct smg_error *err);

/*
 * Whether to write the final (DONE) checkpoint once every epoch is read: always
 * with SMALGO_CHECKPOINT_INTERVAL_S set; by default only when training has run
 * at least as long as the default interval (a shorter job loses less than that
 * by starting over, and the write stays under 1% of its time). Collective
 * when coordinated (rank 0 decides).
 */
SMG_MUST_CHECK enum smg_status smg_checkpoint_final(struct smg_checkpoint *c, bool *write,
                                                    struct smg_error *err);

/*
 * Position ch at a resumed epoch: in Pipe mode open and close the FIFOs of the
 * epochs already done (SageMaker restarts Pipe channels from epoch 0), then
 * begin `epoch` and read and discard its first `records` records. SMG_ECONFIG
 * when the channel ends early or its batches do not land on `records` (other
 * data than the checkpoint's).
 */
SMG_MUST_CHECK enum smg_status smg_checkpoint_seek(struct smg_checkpoint *c, struct smg_channel *ch,
                                                   uint32_t epoch, uint64_t records,
                                                   struct smg_error *err);

/*
 * `smalgo inspect` of a checkpoint (checkpoint_inspect.c): whether path starts
 * with the checkpoint magic, and its header, progress, configuration and
 * sections printed as one JSON object to stream (after a full check of the
 * file; SMG_EFORMAT naming the damage otherwise).
 */
bool smg_checkpoint_sniff(const char *path);
SMG_MUST_CHECK int smg_checkpoint_inspect(const char *path, FILE *stream, struct smg_error *err);

/* "1,234,567" into buf. */
const char *smg_checkpoint_thousands(uint64_t v, char *buf, size_t size);

#endif

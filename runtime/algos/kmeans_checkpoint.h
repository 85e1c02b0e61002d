/*
 * Checkpoints of k-means training (runtime/checkpoint.h does the files):
 * the glue between the driver in kmeans.c and the checkpointer. A checkpoint
 * holds the streaming state (smg_kmeans_state_save: centers, weights, shift,
 * counts), this rank's polish sample with its generator, the open group of
 * local mini-batches when one is open (section KMGR, kmeans_group.h: several
 * mini-batches per allreduce), and the progress (epoch, records stepped in
 * it on this rank, those of the open group included). Ranks step together, so they
 * checkpoint together (coordinated). Taken at step boundaries, after the init
 * (which a resumed job therefore skips), and once more when every epoch is
 * done (phase DONE; see smg_checkpoint_final), so a job stopped in the
 * shrink, the polish or the model write resumes straight into them.
 */
#ifndef SMG_KMEANS_CHECKPOINT_H
#define SMG_KMEANS_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "algorithms/kmeans.h"
#include "algorithms/kmeans_group.h"
#include "io/channel.h"
#include "runtime/checkpoint.h"
#include "runtime/job.h"

struct smg_kmeans_ckpt {
    struct smg_checkpoint *c; /* NULL when checkpoints are off: every call is then a no-op */
    struct smg_ckpt_resume resume;
    struct smg_kmeans *km;
    struct smg_kmeans_group *grp; /* the open group of local mini-batches */
    struct smg_kmeans_sample *smp;
    uint32_t epoch;   /* the epoch being streamed */
    uint64_t stepped; /* records of it this rank has stepped */
    uint64_t total;   /* records this rank stepped in all epochs */
};

/*
 * Decide whether to checkpoint and, when a matching checkpoint exists, load
 * it into km, grp and smp (k->resume.found). config: the text whose hash must
 * match (hyperparameters and settings). Collective.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_ckpt_open(struct smg_kmeans_ckpt *k, struct smg_job *job,
                                                    const char *config, struct smg_kmeans *km,
                                                    struct smg_kmeans_group *grp,
                                                    struct smg_kmeans_sample *smp,
                                                    struct smg_error *err);
void smg_kmeans_ckpt_close(struct smg_kmeans_ckpt *k);

/* Whether streaming resumes inside or after epoch e (init must then be skipped). */
bool smg_kmeans_ckpt_resumed(const struct smg_kmeans_ckpt *k);
/* The first epoch to stream (0 on a fresh start); whether streaming is all done. */
uint32_t smg_kmeans_ckpt_first_epoch(const struct smg_kmeans_ckpt *k);
bool smg_kmeans_ckpt_stream_done(const struct smg_kmeans_ckpt *k);

/* Begin epoch e on ch, seeking past what the checkpoint consumed when resuming into e. */
SMG_MUST_CHECK enum smg_status smg_kmeans_ckpt_begin_epoch(struct smg_kmeans_ckpt *k,
                                                           struct smg_channel *ch, uint32_t e,
                                                           struct smg_error *err);

/*
 * Before each local mini-batch: write a checkpoint if one is due (collective), and return
 * SMG_ESTOPPED after writing it when SIGTERM stopped the job on any rank
 * (stopped_here: this rank's channel said so). A no-op returning SMG_OK when
 * off, except that stopped_here is then SMG_ESTOPPED.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_ckpt_poll(struct smg_kmeans_ckpt *k, bool stopped_here,
                                                    struct smg_error *err);
void smg_kmeans_ckpt_stepped(struct smg_kmeans_ckpt *k, uint64_t rows);

/* After the last epoch: the DONE checkpoint (collective). */
SMG_MUST_CHECK enum smg_status smg_kmeans_ckpt_done(struct smg_kmeans_ckpt *k, uint32_t epochs,
                                                    struct smg_error *err);

#endif

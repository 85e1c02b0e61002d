/*
 * Checkpoints of PCA training (runtime/checkpoint.h does the files): the
 * glue between the driver in pca.c and the checkpointer. A checkpoint holds
 * the accumulator (smg_pca_state_save: rows, the partly filled block, the
 * mean and co-moment or the randomized sketch) and the records this rank has
 * consumed. Ranks read independently and meet only at the final allreduce,
 * so each checkpoints and resumes on its own. One more checkpoint is written
 * when the pass is done (phase DONE; see smg_checkpoint_final), so a job stopped in the combine,
 * the solve or the model write resumes straight into them.
 */
#ifndef SMG_PCA_CHECKPOINT_H
#define SMG_PCA_CHECKPOINT_H

#include <stdbool.h>

#include "algorithms/pca.h"
#include "runtime/checkpoint.h"
#include "runtime/job.h"

struct smg_pca_ckpt {
    struct smg_checkpoint *c; /* NULL when checkpoints are off */
    struct smg_ckpt_resume resume;
    struct smg_pca *p;
};

/* Decide whether to checkpoint and load a matching checkpoint into p. */
SMG_MUST_CHECK enum smg_status smg_pca_ckpt_open(struct smg_pca_ckpt *k, struct smg_job *job,
                                                 const char *config, struct smg_pca *p,
                                                 struct smg_error *err);
void smg_pca_ckpt_close(struct smg_pca_ckpt *k);

/* Whether checkpoints are on; whether the resumed checkpoint had finished the pass. */
bool smg_pca_ckpt_on(const struct smg_pca_ckpt *k);
bool smg_pca_ckpt_stream_done(const struct smg_pca_ckpt *k);

/*
 * The training pass with checkpoints, in place of smg_job_read_channel +
 * smg_pca_update: seek past what the resumed checkpoint consumed, update p
 * batch by batch, checkpoint when due, on SIGTERM (then SMG_ESTOPPED) and at
 * the end (DONE).
 */
SMG_MUST_CHECK enum smg_status smg_pca_ckpt_read(struct smg_pca_ckpt *k, struct smg_job *job,
                                                 size_t feature_dim, size_t batch_rows,
                                                 struct smg_job_pass *pass, struct smg_error *err);

#endif

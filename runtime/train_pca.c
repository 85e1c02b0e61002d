/* Placeholder for the pca training driver until its implementation lands. */
#include "algorithm.h"
#include "job.h"

static int train(struct smg_job *job, struct smg_error *err)
{
    (void)job;
    return smg_error_set(err, SMG_EINTERNAL, "pca training is not implemented yet");
}

const struct smg_algorithm smg_algorithm_pca = {
    .name = "pca",
    .metrics_name = "pca",
    .identifying_hp = "pca",
    .hparams = NULL,
    .n_hparams = 0,
    .train = train,
};

/* Placeholder for the kmeans training driver until its implementation lands. */
#include "algorithm.h"
#include "job.h"

static int train(struct smg_job *job, struct smg_error *err)
{
    (void)job;
    return smg_error_set(err, SMG_EINTERNAL, "kmeans training is not implemented yet");
}

const struct smg_algorithm smg_algorithm_kmeans = {
    .name = "kmeans",
    .metrics_name = "kmeans",
    .identifying_hp = "kmeans",
    .hparams = NULL,
    .n_hparams = 0,
    .train = train,
};

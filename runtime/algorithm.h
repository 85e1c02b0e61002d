/*
 * The table of algorithms `smalgo train` can run. Adding one is a new
 * runtime/train_<name>.c that defines a struct smg_algorithm, plus one entry in
 * runtime/algorithms.c.
 */
#ifndef SMG_ALGORITHM_H
#define SMG_ALGORITHM_H

#include <stddef.h>

#include "runtime/hparams.h"
#include "io/base/status.h"

struct smg_job;

struct smg_algorithm {
    const char *name;         /* "pca", "kmeans": --algorithm and SMALGO_ALGORITHM */
    const char *metrics_name; /* #metrics Dimensions.Algorithm: "PCA", "AWS/KMeansWebscale" */
    const char
        *identifying_hp; /* a hyperparameter only this algorithm has: "num_components", "k" */
    const struct smg_hp_spec *hparams;
    size_t n_hparams;
    /* Train from job's channels and write the model. Returns a status; err says why. */
    int (*train)(struct smg_job *job, struct smg_error *err);
};

extern const struct smg_algorithm smg_algorithm_pca;
extern const struct smg_algorithm smg_algorithm_kmeans;

/* NULL-terminated list of every algorithm. */
extern const struct smg_algorithm *const smg_algorithms[];

const struct smg_algorithm *smg_algorithm_find(const char *name);

#endif

/*
 * PCA's hyperparameters (developer guide PCA-reference; the container's
 * default-conf.json: algorithm_mode regular, subtract_mean true,
 * extra_components -1, epochs 1). feature_dim, mini_batch_size and
 * num_components are required. epochs is not documented but is in the
 * container's defaults, so a file that sets it must be accepted.
 * Cross-field checks (num_components <= feature_dim) are the algorithm's.
 */
#include "runtime/hparam_tables.h"

const struct smg_hp_spec smg_pca_hparams[SMG_PCA_N_HPARAMS] = {
    {.name = "feature_dim",
     .type = SMG_HP_INT,
     .required = true,
     .min = 1,
     .max = SMG_HP_NO_MAX,
     .allowed = "a positive integer"},
    {.name = "mini_batch_size",
     .type = SMG_HP_INT,
     .required = true,
     .min = 1,
     .max = SMG_HP_NO_MAX,
     .allowed = "a positive integer"},
    {.name = "num_components",
     .type = SMG_HP_INT,
     .required = true,
     .min = 1,
     .max = SMG_HP_NO_MAX,
     .allowed = "a positive integer"},
    {.name = "algorithm_mode",
     .type = SMG_HP_CHOICE,
     .default_value = "regular",
     .choices = "regular|randomized"},
    {.name = "subtract_mean", .type = SMG_HP_BOOL, .default_value = "true"},
    {.name = "extra_components",
     .type = SMG_HP_INT,
     .default_value = "-1",
     .min = -1,
     .max = SMG_HP_NO_MAX,
     .allowed = "-1 or a non-negative integer"},
    {.name = "epochs",
     .type = SMG_HP_INT,
     .default_value = "1",
     .min = 1,
     .max = SMG_HP_NO_MAX,
     .allowed = "a positive integer"},
};

const size_t smg_pca_n_hparams = sizeof(smg_pca_hparams) / sizeof(smg_pca_hparams[0]);

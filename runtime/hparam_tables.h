/*
 * The hyperparameter tables of SageMaker's built-in PCA and k-means, as the
 * developer guide and the containers' default files give them (names, types,
 * required, defaults spelled as the default files spell them, ranges). The
 * algorithms point their struct smg_algorithm at these; cmd_train also finds
 * them by algorithm name.
 */
#ifndef SMG_HPARAM_TABLES_H
#define SMG_HPARAM_TABLES_H

#include <stddef.h>

#include "hparams.h"

extern const struct smg_hp_spec smg_pca_hparams[];
extern const size_t smg_pca_n_hparams;

extern const struct smg_hp_spec smg_kmeans_hparams[];
extern const size_t smg_kmeans_n_hparams;

#endif

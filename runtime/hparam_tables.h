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

#include "runtime/hparams.h"

/*
 * The sizes are constants so that a static struct smg_algorithm can say
 *     .hparams = smg_pca_hparams, .n_hparams = SMG_PCA_N_HPARAMS,
 * (an extern const size_t is not a constant expression in C). The unit tests
 * check that every entry is filled in.
 */
#define SMG_PCA_N_HPARAMS    7
#define SMG_KMEANS_N_HPARAMS 12

extern const struct smg_hp_spec smg_pca_hparams[SMG_PCA_N_HPARAMS];
extern const size_t smg_pca_n_hparams; /* == SMG_PCA_N_HPARAMS */

extern const struct smg_hp_spec smg_kmeans_hparams[SMG_KMEANS_N_HPARAMS];
extern const size_t smg_kmeans_n_hparams; /* == SMG_KMEANS_N_HPARAMS */

#endif

/*
 * The table of algorithms `smalgo train` knows, and lookup by name.
 *
 * What: smg_algorithms lists every struct smg_algorithm (name, metrics
 * dimension, hyperparameter table, train function), NULL-terminated, and
 * smg_algorithm_find returns the entry whose name matches --algorithm or
 * SMALGO_ALGORITHM exactly, or NULL.
 *
 * How: a static array of pointers to the descriptors each
 * runtime/train_<name>.c defines, searched linearly (there are two). The
 * order is the order names are listed in error messages and the order
 * cmd_train.c tries each algorithm's identifying hyperparameter ('num_components',
 * 'k') when no algorithm is named.
 *
 * Why: one table is the single place an algorithm is registered. The
 * commands iterate it rather than naming algorithms, so adding one is a new
 * train_<name>.c plus one line here (only the hint in cmd_train.c's "cannot
 * tell which algorithm" message names the two algorithms in its text).
 */
#include <string.h>

#include "runtime/algorithm.h"

const struct smg_algorithm *const smg_algorithms[] = {&smg_algorithm_pca, &smg_algorithm_kmeans,
                                                      NULL};

const struct smg_algorithm *smg_algorithm_find(const char *name)
{
    for (size_t i = 0; smg_algorithms[i] != NULL; i++)
        if (strcmp(smg_algorithms[i]->name, name) == 0)
            return smg_algorithms[i];
    return NULL;
}

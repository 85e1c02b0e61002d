/* The table of algorithms `smalgo train` knows, and lookup by name. */
#include <string.h>

#include "algorithm.h"

const struct smg_algorithm *const smg_algorithms[] = {&smg_algorithm_pca, &smg_algorithm_kmeans,
                                                      NULL};

const struct smg_algorithm *smg_algorithm_find(const char *name)
{
    for (size_t i = 0; smg_algorithms[i] != NULL; i++)
        if (strcmp(smg_algorithms[i]->name, name) == 0)
            return smg_algorithms[i];
    return NULL;
}

/*
 * The table of algorithms `smalgo train`, `serve` and `inspect` know, and
 * lookup by name.
 *
 * What: smg_algorithms lists every struct smg_algorithm (runtime/algorithm.h:
 * hyperparameters, train, model schema, serving, inspect note), NULL-terminated, and
 * smg_algorithm_find returns the entry whose name matches --algorithm or
 * SMALGO_ALGORITHM exactly, or NULL.
 *
 * How: a static array of pointers to the descriptors each
 * runtime/algos/<name>.c defines, made from SMG_ALGORITHM_LIST (algorithm.h,
 * which also declares them), searched linearly (there are two). The
 * order is the order names are listed in usage texts and error messages, the
 * order cmd_train.c tries each algorithm's identifying hyperparameter when no
 * algorithm is named, and the order serve and inspect try each model schema.
 *
 * Why: one table is the single place an algorithm is registered. The
 * commands iterate it rather than naming algorithms, so adding one is a new
 * runtime/algos/<name>.c plus its name in SMG_ALGORITHM_LIST.
 */
#include <stdio.h>
#include <string.h>

#include "runtime/algorithm.h"

#define SMG_ALGORITHM_ENTRY(n) &smg_algorithm_##n,
const struct smg_algorithm *const smg_algorithms[] = {SMG_ALGORITHM_LIST(SMG_ALGORITHM_ENTRY) NULL};

const struct smg_algorithm *smg_algorithm_find(const char *name)
{
    for (size_t i = 0; smg_algorithms[i] != NULL; i++)
        if (strcmp(smg_algorithms[i]->name, name) == 0)
            return smg_algorithms[i];
    return NULL;
}

void smg_algorithm_names(const char *sep, char *buf, size_t size)
{
    size_t used = 0;

    if (size == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; smg_algorithms[i] != NULL; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? sep : "", smg_algorithms[i]->name);
        if (w < 0 || (size_t)w >= size - used) {
            buf[used] = '\0'; /* whole names only */
            return;
        }
        used += (size_t)w;
    }
}

void smg_algorithm_alternatives(char *buf, size_t size, bool last_first,
                                int (*item)(char *dst, size_t room, const struct smg_algorithm *a))
{
    size_t used = 0, n = 0;

    if (size == 0)
        return;
    while (smg_algorithms[n] != NULL)
        n++;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const struct smg_algorithm *a = smg_algorithms[last_first ? n - 1 - i : i];
        const char *sep = i == 0 ? (n == 2 ? "neither " : "none of ") : (n == 2 ? " nor " : ", ");
        size_t mark = used;
        int w = snprintf(buf + used, size - used, "%s", sep);
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
        w = item(buf + used, size - used, a);
        if (w < 0 || (size_t)w >= size - used) {
            used = mark;
            buf[used] = '\0';
            break;
        }
        used += (size_t)w;
    }
}

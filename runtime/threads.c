/*
 * Worker threads for a training job (threads.h): the count from
 * SMALGO_THREADS or the CPUs the process may use, the pool, and the
 * channels' decode thread count (SMALGO_DECODE_THREADS or the same count).
 */
#include "runtime/threads.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/blas_threads.h"
#include "io/base/log.h"
#include "io/cpu_limit.h"

/* A whole number from 1 to SMG_POOL_MAX_WORKERS in the variable `name`; *set false when unset. */
static int env_count(const char *name, unsigned *out, bool *set, struct smg_error *err)
{
    const char *s = getenv(name);
    unsigned long v = 0;

    *set = s != NULL && *s != '\0';
    if (!*set)
        return SMG_OK;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || v > SMG_POOL_MAX_WORKERS)
            goto bad;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v < 1 || v > SMG_POOL_MAX_WORKERS)
        goto bad;
    *out = (unsigned)v;
    return SMG_OK;
bad:
    return smg_error_set(
        err, SMG_ECONFIG, "%s='%.40s' is not a whole number of %s threads from 1 to %d", name, s,
        strcmp(name, "SMALGO_THREADS") == 0 ? "worker" : "decode", SMG_POOL_MAX_WORKERS);
}

enum smg_status smg_threads_count(int ranks_on_host, unsigned *out, struct smg_error *err)
{
    unsigned cpus;
    bool set;
    int rc = env_count("SMALGO_THREADS", out, &set, err);

    if (rc != SMG_OK || set)
        return (enum smg_status)rc;
    cpus = smg_cpu_limit_detect("/");
    if (ranks_on_host > 1)
        cpus /= (unsigned)ranks_on_host;
    *out = cpus >= 1 ? cpus : 1;
    return SMG_OK;
}

enum smg_status smg_threads_decode_count(unsigned workers, unsigned *out, struct smg_error *err)
{
    bool set;
    int rc = env_count("SMALGO_DECODE_THREADS", out, &set, err);

    if (rc == SMG_OK && !set)
        *out = workers >= 1 ? workers : 1;
    return (enum smg_status)rc;
}

enum smg_status smg_threads_pool(int ranks_on_host, bool log, struct smg_pool **out,
                                 struct smg_error *err)
{
    unsigned n = 1;
    int rc = smg_threads_count(ranks_on_host, &n, err);

    *out = NULL;
    if (rc != SMG_OK)
        return rc;
    smg_blas_one_thread();
    rc = smg_pool_new(n, out, err);
    if (rc == SMG_OK && log)
        smg_log_info("Training on %u worker thread(s) (%s; OpenBLAS on 1 thread).", n,
                     getenv("SMALGO_THREADS") != NULL && *getenv("SMALGO_THREADS") != '\0'
                         ? "SMALGO_THREADS"
                         : "the CPUs this process may use");
    return rc;
}

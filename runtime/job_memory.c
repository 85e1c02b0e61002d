/*
 * Checking the memory a job's settings imply against the machine's (see
 * job_memory.h): /proc/meminfo's MemTotal, the cgroup limit, or
 * SMALGO_MEMORY_LIMIT_BYTES.
 */
#include "runtime/job_memory.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/records_probe.h"
#include "io/rows.h"

/* The first unsigned number in file path, or UINT64_MAX ("max", absent, unreadable). */
static uint64_t read_number(const char *path, const char *key)
{
    char line[256];
    uint64_t v = UINT64_MAX;
    FILE *f = fopen(path, "re");

    if (f == NULL)
        return UINT64_MAX;
    while (fgets(line, sizeof(line), f) != NULL) {
        const char *p = line;
        if (key != NULL) {
            if (strncmp(line, key, strlen(key)) != 0)
                continue;
            p += strlen(key);
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p >= '0' && *p <= '9') {
            v = strtoull(p, NULL, 10);
            if (key != NULL && strstr(p, "kB") != NULL)
                v = v > UINT64_MAX / 1024 ? UINT64_MAX : v * 1024;
        }
        break;
    }
    fclose(f);
    return v;
}

uint64_t smg_memory_limit(void)
{
    const char *env = getenv("SMALGO_MEMORY_LIMIT_BYTES");
    uint64_t lim, v;

    if (env != NULL && *env >= '0' && *env <= '9')
        return strtoull(env, NULL, 10);
    lim = read_number("/proc/meminfo", "MemTotal:");
    v = read_number("/sys/fs/cgroup/memory.max", NULL);
    lim = v < lim ? v : lim;
    v = read_number("/sys/fs/cgroup/memory/memory.limit_in_bytes", NULL);
    return v < lim ? v : lim;
}

/* The train channel's first-record feature count differs from feature_dim: that is the error. */
static int dimension_mismatch(struct smg_job *job, uint64_t feature_dim, struct smg_error *err)
{
    const struct smg_channel_info *info = smg_job_channel(job, "train");
    struct smg_format fmt;
    struct smg_error ignored;
    char folder[8192];
    size_t dim = 0;

    if (info == NULL || info->mode == SMG_MODE_PIPE)
        return SMG_OK;
    smg_error_clear(&ignored);
    if (smg_format_parse_content_type(info->content_type, &fmt, &ignored) != SMG_OK)
        return SMG_OK;
    fmt.recordio_wrapped = info->recordio_wrapped;
    snprintf(folder, sizeof(folder), "%s/%s", job->data_dir, info->name);
    if (smg_records_probe_dim(folder, &fmt, &dim, &ignored) != SMG_OK || dim == feature_dim)
        return SMG_OK;
    return smg_error_set(err, SMG_ECONFIG,
                         "hyperparameter feature_dim=%" PRIu64
                         " does not match the data: the first record of channel train has %zu "
                         "features",
                         feature_dim, dim);
}

enum smg_status smg_job_check_memory(struct smg_job *job, const struct smg_mem_term *terms,
                                     size_t n, uint64_t feature_dim, struct smg_error *err)
{
    char list[512];
    size_t used = 0;
    double total = 0.0;
    uint64_t limit = smg_memory_limit();
    int rc;

    for (size_t i = 0; i < n; i++)
        total += terms[i].bytes;
    if (limit == UINT64_MAX || total <= (double)limit)
        return SMG_OK;
    if ((rc = dimension_mismatch(job, feature_dim, err)) != SMG_OK)
        return rc;
    list[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(list + used, sizeof(list) - used, "%s%s = %.3g GiB", i ? ", " : "",
                         terms[i].what, terms[i].bytes / 1073741824.0);
        if (w > 0 && (size_t)w < sizeof(list) - used)
            used += (size_t)w;
    }
    return smg_error_set(err, SMG_ECONFIG,
                         "the hyperparameters need at least %.3g GiB of memory (%s) but this "
                         "machine allows %.3g GiB; lower them",
                         total / 1073741824.0, list, (double)limit / 1073741824.0);
}

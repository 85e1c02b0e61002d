/*
 * Checking the memory a job's settings imply against the machine's (see
 * job_memory.h): /proc/meminfo's MemTotal, the cgroup limit, or
 * SMALGO_MEMORY_LIMIT_BYTES; the batch ring counted as the train channel will
 * hold it (dense or CSR).
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

/*
 * How the train channel's batches will be held: dense unless the channel can be
 * sparse (recordIO-protobuf, not wrapped, the job takes CSR batches, column
 * indices fit 32 bits) and then as the check before training saw its first
 * record; unseen (Pipe mode, an S3 manifest) is SMG_FIRST_UNSEEN.
 */
static enum smg_first_record train_layout(const struct smg_job *job, uint64_t feature_dim)
{
    const struct smg_channel_info *info = smg_job_channel(job, "train");
    struct smg_format fmt;
    struct smg_error ignored;

    smg_error_clear(&ignored);
    if (info == NULL || !job->accept_csr || info->recordio_wrapped || feature_dim > UINT32_MAX ||
        smg_format_parse_content_type(info->content_type, &fmt, &ignored) != SMG_OK ||
        fmt.rows != SMG_ROWS_RECORDIO_PROTOBUF)
        return SMG_FIRST_DENSE;
    return info->first_record;
}

/* The train channel's batch ring as train_layout says it will be held. */
static struct smg_mem_term batch_term(const struct smg_job *job, uint64_t feature_dim,
                                      size_t batch_rows)
{
    const double rows = (double)batch_rows;

    if (train_layout(job, feature_dim) == SMG_FIRST_DENSE)
        return (struct smg_mem_term){"3 batch buffers of mini_batch_size x feature_dim floats",
                                     3.0 * rows * (double)feature_dim * 4};
    return (struct smg_mem_term){"3 sparse batch buffers of mini_batch_size row offsets",
                                 3.0 * (rows + 1.0) * 8};
}

enum smg_status smg_job_check_memory(struct smg_job *job, const struct smg_mem_term *model,
                                     size_t n, uint64_t feature_dim, size_t batch_rows,
                                     struct smg_error *err)
{
    struct smg_mem_term terms[SMG_MEM_MAX_TERMS + 1];
    char list[512];
    size_t used = 0;
    double total = 0.0;
    uint64_t limit = smg_memory_limit();
    int rc;

    if (n > SMG_MEM_MAX_TERMS)
        n = SMG_MEM_MAX_TERMS;
    terms[0] = batch_term(job, feature_dim, batch_rows);
    memcpy(terms + 1, model, n * sizeof(*model));
    n++;
    for (size_t i = 0; i < n; i++)
        total += terms[i].bytes;
    job->dense_budget = 0.0;
    if (limit != UINT64_MAX && total <= (double)limit)
        job->dense_budget = (double)limit - (total - terms[0].bytes);
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

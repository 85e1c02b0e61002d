/*
 * The job's lifecycle and its place among MPI ranks.
 *
 * One rank per host is the default. When several ranks share a host (mpirun
 * -np N on one machine, or N slots per host), OpenMPI tells each its local
 * rank and the local size; File-mode files are split between them and only
 * local rank 0 prints metric lines. Without those variables we assume ranks
 * are placed by slot (consecutive ranks share a host), which is mpirun's
 * default mapping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/alloc.h"
#include "runtime/job.h"
#include "runtime/metrics.h"

void smg_job_init(struct smg_job *job)
{
    memset(job, 0, sizeof(*job));
    snprintf(job->current_host, sizeof(job->current_host), "algo-1");
    job->comm.rank = 0;
    job->comm.size = 1;
    job->rank_on_host = 0;
    job->ranks_on_host = 1;
    job->pipe_timeout_ms = SMG_DEFAULT_PIPE_TIMEOUT_MS;
    job->pipe_stall_ms = SMG_DEFAULT_PIPE_STALL_MS;
    job->start_time = smg_now();
}

static bool join(char *dst, size_t size, const char *root, const char *tail)
{
    int n = snprintf(dst, size, "%s%s", root, tail);
    return n >= 0 && (size_t)n < size;
}

enum smg_status smg_job_set_root(struct smg_job *job, const char *root, struct smg_error *err)
{
    size_t len = strlen(root);

    while (len > 1 && root[len - 1] == '/')
        len--;
    if (len == 0 || len >= sizeof(job->root) - 32)
        return smg_error_set(err, SMG_ECONFIG, "ML root '%.200s' is %s", root,
                             len == 0 ? "empty" : "too long");
    memcpy(job->root, root, len);
    job->root[len] = '\0';
    if (!join(job->model_dir, sizeof(job->model_dir), job->root, "/model") ||
        !join(job->output_dir, sizeof(job->output_dir), job->root, "/output") ||
        !join(job->data_dir, sizeof(job->data_dir), job->root, "/input/data"))
        return smg_error_set(err, SMG_ECONFIG, "ML root '%.200s' is too long", root);
    return SMG_OK;
}

void smg_job_release(struct smg_job *job)
{
    for (size_t i = 0; i < job->n_hosts; i++)
        smg_free(job->hosts[i]);
    job->n_hosts = 0;
    smg_hparams_free(job->hp);
    job->hp = NULL;
    smg_timings_free(job->timings);
    job->timings = NULL;
    smg_pool_free(job->pool);
    job->pool = NULL;
}

/* A non-negative int from the environment, or -1. */
static int env_int(const char *name)
{
    const char *s = getenv(name);
    long v = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > 1000000)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return (int)v;
}

void smg_job_assign_ranks(struct smg_job *job)
{
    int local_rank = env_int("OMPI_COMM_WORLD_LOCAL_RANK");
    int local_size = env_int("OMPI_COMM_WORLD_LOCAL_SIZE");
    size_t hosts = job->n_hosts > 0 ? job->n_hosts : 1;

    job->rank_on_host = 0;
    job->ranks_on_host = 1;
    if (job->comm.size <= 1)
        return;
    if (job->comm.mpi && local_size >= 1 && local_rank >= 0 && local_rank < local_size) {
        job->rank_on_host = local_rank;
        job->ranks_on_host = local_size;
        return;
    }
    if ((size_t)job->comm.size % hosts == 0) {
        int per_host = (int)((size_t)job->comm.size / hosts);
        job->rank_on_host = job->comm.rank % per_host;
        job->ranks_on_host = per_host;
    }
}

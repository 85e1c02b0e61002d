/*
 * struct smg_comm over a communicator handed in by the runtime (which alone
 * initialises MPI, and only under mpirun). A solo or one-rank communicator
 * makes every collective a no-op. Buffers larger than INT_MAX elements are
 * reduced in chunks, so the element count passed to MPI always fits an int.
 */
#include "algorithms/comm.h"

#include <limits.h>
#include <mpi.h>
#include <time.h>

void smg_comm_solo(struct smg_comm *c)
{
    c->rank = 0;
    c->size = 1;
    c->mpi = false;
    c->handle = MPI_COMM_NULL;
}

enum smg_status smg_comm_attach(struct smg_comm *c, MPI_Comm handle, struct smg_error *err)
{
    int rank, size;

    smg_comm_solo(c);
    if (MPI_Comm_rank(handle, &rank) != MPI_SUCCESS || MPI_Comm_size(handle, &size) != MPI_SUCCESS)
        return smg_error_set(err, SMG_EMPI, "cannot read this process's rank and the world size");
    c->rank = rank;
    c->size = size;
    c->handle = handle;
    c->mpi = true;
    return SMG_OK;
}

static int allreduce(struct smg_comm *c, void *buf, size_t n, MPI_Datatype type, size_t esize,
                     MPI_Op op, struct smg_error *err)
{
    char *p = buf;

    if (!c->mpi || c->size == 1)
        return SMG_OK;
    while (n > 0) {
        int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        if (MPI_Allreduce(MPI_IN_PLACE, p, chunk, type, op, c->handle) != MPI_SUCCESS)
            return smg_error_set(err, SMG_EMPI, "MPI_Allreduce failed on rank %d of %d", c->rank,
                                 c->size);
        p += (size_t)chunk * esize;
        n -= (size_t)chunk;
    }
    return SMG_OK;
}

enum smg_status smg_comm_sum_f64(struct smg_comm *c, double *buf, size_t n, struct smg_error *err)
{
    return allreduce(c, buf, n, MPI_DOUBLE, sizeof(double), MPI_SUM, err);
}

enum smg_status smg_comm_sum_f64_timed(struct smg_comm *c, double *buf, size_t n, double *seconds,
                                       struct smg_error *err)
{
    struct timespec a, z;
    enum smg_status rc;

    clock_gettime(CLOCK_MONOTONIC, &a);
    rc = smg_comm_sum_f64(c, buf, n, err);
    clock_gettime(CLOCK_MONOTONIC, &z);
    *seconds += (double)(z.tv_sec - a.tv_sec) + (double)(z.tv_nsec - a.tv_nsec) * 1e-9;
    return rc;
}

enum smg_status smg_comm_sum_i64(struct smg_comm *c, int64_t *buf, size_t n, struct smg_error *err)
{
    return allreduce(c, buf, n, MPI_INT64_T, sizeof(int64_t), MPI_SUM, err);
}

enum smg_status smg_comm_max_i64(struct smg_comm *c, int64_t *buf, size_t n, struct smg_error *err)
{
    return allreduce(c, buf, n, MPI_INT64_T, sizeof(int64_t), MPI_MAX, err);
}

enum smg_status smg_comm_bcast_bytes(struct smg_comm *c, void *buf, size_t n, int root,
                                     struct smg_error *err)
{
    char *p = buf;

    if (!c->mpi || c->size == 1)
        return SMG_OK;
    while (n > 0) {
        int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        if (MPI_Bcast(p, chunk, MPI_BYTE, root, c->handle) != MPI_SUCCESS)
            return smg_error_set(err, SMG_EMPI, "MPI_Bcast failed on rank %d of %d", c->rank,
                                 c->size);
        p += chunk;
        n -= (size_t)chunk;
    }
    return SMG_OK;
}

/*
 * struct smg_comm over MPI. MPI is initialised only when the process runs
 * under mpirun, so single-host jobs and unit tests never start an MPI runtime.
 * Buffers larger than INT_MAX elements are reduced in chunks.
 */
#include "algorithms/comm.h"

#include <limits.h>
#include <mpi.h>
#include <stdlib.h>

int smg_comm_init(int *argc, char ***argv, struct smg_comm *c, struct smg_error *err)
{
    c->rank = 0;
    c->size = 1;
    c->mpi = false;
    if (getenv("OMPI_COMM_WORLD_SIZE") == NULL && getenv("PMI_SIZE") == NULL)
        return SMG_OK;
    if (MPI_Init(argc, argv) != MPI_SUCCESS)
        return smg_error_set(err, SMG_EMPI, "MPI_Init failed");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &c->size);
    c->mpi = true;
    return SMG_OK;
}

void smg_comm_abort(struct smg_comm *c, int code)
{
    if (c->mpi && c->size > 1)
        MPI_Abort(MPI_COMM_WORLD, code);
}

void smg_comm_finalize(struct smg_comm *c)
{
    if (c->mpi)
        MPI_Finalize();
    c->mpi = false;
}

static int allreduce(struct smg_comm *c, void *buf, size_t n, MPI_Datatype type, size_t esize,
                     MPI_Op op, struct smg_error *err)
{
    char *p = buf;

    if (!c->mpi || c->size == 1)
        return SMG_OK;
    while (n > 0) {
        int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        if (MPI_Allreduce(MPI_IN_PLACE, p, chunk, type, op, MPI_COMM_WORLD) != MPI_SUCCESS)
            return smg_error_set(err, SMG_EMPI, "MPI_Allreduce failed on rank %d of %d", c->rank,
                                 c->size);
        p += (size_t)chunk * esize;
        n -= (size_t)chunk;
    }
    return SMG_OK;
}

int smg_comm_sum_f64(struct smg_comm *c, double *buf, size_t n, struct smg_error *err)
{
    return allreduce(c, buf, n, MPI_DOUBLE, sizeof(double), MPI_SUM, err);
}

int smg_comm_sum_i64(struct smg_comm *c, int64_t *buf, size_t n, struct smg_error *err)
{
    return allreduce(c, buf, n, MPI_INT64_T, sizeof(int64_t), MPI_SUM, err);
}

int smg_comm_max_i64(struct smg_comm *c, int64_t *buf, size_t n, struct smg_error *err)
{
    return allreduce(c, buf, n, MPI_INT64_T, sizeof(int64_t), MPI_MAX, err);
}

int smg_comm_bcast_bytes(struct smg_comm *c, void *buf, size_t n, int root, struct smg_error *err)
{
    char *p = buf;

    if (!c->mpi || c->size == 1)
        return SMG_OK;
    while (n > 0) {
        int chunk = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        if (MPI_Bcast(p, chunk, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS)
            return smg_error_set(err, SMG_EMPI, "MPI_Bcast failed on rank %d of %d", c->rank,
                                 c->size);
        p += chunk;
        n -= (size_t)chunk;
    }
    return SMG_OK;
}

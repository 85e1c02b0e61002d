/*
 * MPI start, abort and finish for `smalgo train` (see mpi_process.h). The
 * world communicator returns errors instead of aborting, so a failed
 * collective becomes an smg_error naming the rank, and the failure file says
 * what happened before smg_mpi_process_abort ends the other ranks.
 */
#include "runtime/mpi_process.h"

#include <mpi.h>
#include <stdlib.h>

bool smg_mpi_process_launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") != NULL || getenv("PMI_SIZE") != NULL;
}

enum smg_status smg_mpi_process_init(int *argc, char ***argv, struct smg_comm *c,
                                     struct smg_error *err)
{
    smg_comm_solo(c);
    if (!smg_mpi_process_launched())
        return SMG_OK;
    if (MPI_Init(argc, argv) != MPI_SUCCESS)
        return smg_error_set(err, SMG_EMPI, "MPI_Init failed");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    return smg_comm_attach(c, MPI_COMM_WORLD, err);
}

void smg_mpi_process_abort(const struct smg_comm *c, int code)
{
    if (c->mpi && c->size > 1)
        MPI_Abort(c->handle, code);
}

void smg_mpi_process_finalize(struct smg_comm *c)
{
    int started = 0, finished = 0;

    MPI_Initialized(&started);
    MPI_Finalized(&finished);
    if (started && !finished)
        MPI_Finalize();
    smg_comm_solo(c);
}

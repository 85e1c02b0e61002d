/*
 * The MPI process lifecycle of `smalgo train`: whether this process was
 * started by mpirun, MPI_Init, MPI_Abort after a local failure, MPI_Finalize.
 * The algorithms only see the communicator (algorithms/comm.h); the
 * environment and the process belong here.
 *
 * MPI is initialised only under mpirun (OpenMPI's OMPI_COMM_WORLD_SIZE or a
 * PMI launcher's PMI_SIZE in the environment), so single-host jobs, tools and
 * unit tests never start an MPI runtime.
 */
#ifndef SMG_MPI_PROCESS_H
#define SMG_MPI_PROCESS_H

#include <stdbool.h>

#include "algorithms/comm.h"
#include "io/base/status.h"

/* True when a launcher (mpirun) started this process as one rank of a world. */
bool smg_mpi_process_launched(void);

/*
 * Make *c this process's communicator: solo when not launched by mpirun,
 * else MPI_Init (errors returned, not fatal) and attach to MPI_COMM_WORLD.
 * SMG_EMPI if MPI cannot start; *c is then solo.
 */
SMG_MUST_CHECK enum smg_status smg_mpi_process_init(int *argc, char ***argv, struct smg_comm *c,
                                                    struct smg_error *err);

/* After a local failure: end every rank (exit code), so no peer waits forever. No-op when solo. */
void smg_mpi_process_abort(const struct smg_comm *c, int code);

/* MPI_Finalize when this process initialised MPI; *c becomes solo. */
void smg_mpi_process_finalize(struct smg_comm *c);

#endif

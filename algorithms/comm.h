/*
 * The collectives algorithms use to combine work across ranks (one rank per
 * host by default), over an MPI communicator the caller hands in. Starting,
 * aborting and finalising MPI, and deciding whether the process runs under
 * mpirun at all, belong to the runtime (runtime/mpi_process.h): this library
 * reads no environment and controls no process.
 *
 * A struct smg_comm is either solo (rank 0 of 1, every collective a no-op, so
 * the same code runs on a laptop with no MPI daemon) or attached to a
 * communicator. All calls are collective: every rank must make the same calls
 * in the same order, including ranks whose data ran out. Buffers larger than
 * INT_MAX elements are reduced in chunks.
 */
#ifndef SMG_COMM_H
#define SMG_COMM_H

#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/base/status.h"

struct smg_comm {
    int rank;
    int size;
    bool mpi;        /* attached: collectives go over handle */
    MPI_Comm handle; /* meaningful only when mpi */
};

/* Rank 0 of 1, not attached. */
void smg_comm_solo(struct smg_comm *c);

/*
 * Attach c to an MPI communicator (MPI already initialised by the caller):
 * rank and size come from it. SMG_EMPI if MPI cannot report them.
 */
SMG_MUST_CHECK enum smg_status smg_comm_attach(struct smg_comm *c, MPI_Comm handle,
                                               struct smg_error *err);

/* In-place sums and maxima over all ranks. */
SMG_MUST_CHECK enum smg_status smg_comm_sum_f64(struct smg_comm *c, double *buf, size_t n,
                                                struct smg_error *err);
SMG_MUST_CHECK enum smg_status smg_comm_sum_i64(struct smg_comm *c, int64_t *buf, size_t n,
                                                struct smg_error *err);
SMG_MUST_CHECK enum smg_status smg_comm_max_i64(struct smg_comm *c, int64_t *buf, size_t n,
                                                struct smg_error *err);
/* smg_comm_sum_f64, adding its wall time (seconds, CLOCK_MONOTONIC) to *seconds. */
SMG_MUST_CHECK enum smg_status smg_comm_sum_f64_timed(struct smg_comm *c, double *buf, size_t n,
                                                      double *seconds, struct smg_error *err);
/* Broadcast buf from root to every rank. */
SMG_MUST_CHECK enum smg_status smg_comm_bcast_bytes(struct smg_comm *c, void *buf, size_t n,
                                                    int root, struct smg_error *err);

#endif

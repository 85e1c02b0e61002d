/*
 * The collectives algorithms use to combine work across ranks (one rank per
 * host by default). Backed by MPI when the process was started by mpirun
 * (OMPI_COMM_WORLD_SIZE in the environment); otherwise a single-rank no-op,
 * so the same code runs on a laptop with no MPI daemon.
 *
 * All calls are collective: every rank must make the same calls in the same
 * order, including ranks whose data ran out.
 */
#ifndef SMG_COMM_H
#define SMG_COMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/base/status.h"

struct smg_comm {
    int rank;
    int size;
    bool mpi; /* MPI initialised by smg_comm_init */
};

int smg_comm_init(int *argc, char ***argv, struct smg_comm *c, struct smg_error *err);
/* Abort every rank (after a local failure) so no peer waits forever. */
void smg_comm_abort(struct smg_comm *c, int code);
void smg_comm_finalize(struct smg_comm *c);

/* In-place sums and maxima over all ranks. */
int smg_comm_sum_f64(struct smg_comm *c, double *buf, size_t n, struct smg_error *err);
int smg_comm_sum_i64(struct smg_comm *c, int64_t *buf, size_t n, struct smg_error *err);
int smg_comm_max_i64(struct smg_comm *c, int64_t *buf, size_t n, struct smg_error *err);
/* Broadcast buf from root to every rank. */
int smg_comm_bcast_bytes(struct smg_comm *c, void *buf, size_t n, int root, struct smg_error *err);

#endif

/*
 * Naming the rank that died, when mpirun stops a job because one of its ranks
 * ended unexpectedly (kill -9, a crash, the OOM killer).
 *
 * Why: mpirun then sends SIGTERM to the other ranks and SIGKILL one second
 * later, while rank 0 is usually blocked in a collective waiting for the dead
 * rank, so it never reaches the code that writes output/failure: the job
 * ended with no failure file at all.
 *
 * How: once the job's configuration is read, every rank shares its pid, its
 * SageMaker host name and its kernel host name (one MPI_Allgather). Each rank
 * hands the peers that run on its own machine to the stop handler
 * (signals.h, smg_signals_watch_peers) with the failure text for each already
 * written; on SIGTERM the handler looks for a peer that is gone (no such pid,
 * or a zombie) and writes that peer's text at once. A rank on another machine
 * cannot be checked that way; the multi-host launcher names lost hosts
 * (launch_leader.c).
 */
#ifndef SMG_MPI_PEERS_H
#define SMG_MPI_PEERS_H

#include "io/base/status.h"
#include "runtime/job.h"

/* Collective (a no-op for one rank). Failures only cost the naming: logged, not returned. */
void smg_mpi_peers_share(const struct smg_job *job);

#endif

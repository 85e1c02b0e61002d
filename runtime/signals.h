/*
 * SIGTERM (SageMaker's StopTrainingJob and MaxRuntimeInSeconds: SIGTERM, then
 * SIGKILL 120 s later) and SIGINT (Ctrl-C on a laptop) ask the job to stop.
 * The handler sets the job's stop flag, which channels check at each
 * mini-batch, so training ends at the next batch boundary and cmd_train
 * reports "stopped by SIGTERM". If the job is stuck elsewhere (a blocking
 * read, a long SVD) and has not ended within the grace period, or a second
 * signal arrives, the handler itself writes output/failure and exits.
 */
#ifndef SMG_SIGNALS_H
#define SMG_SIGNALS_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#define SMG_STOP_GRACE_SECONDS 10

/*
 * Install the handlers. output_dir is where the fallback failure file goes
 * (copied). Returns the stop flag: 0, or the number of the signal received.
 */
volatile sig_atomic_t *smg_signals_install(const char *output_dir);

/*
 * For the helper commands (pipe, records) that have no failure file and no
 * grace period: SIGTERM and SIGINT set *flag to 1, and the command ends at its
 * next check of the flag. No SA_RESTART, so a blocking call returns EINTR and
 * sees the flag. The flag must outlive the process's handling of signals
 * (a static). Not to be combined with smg_signals_install.
 */
void smg_signals_catch_stop(volatile sig_atomic_t *flag);

/*
 * Ranks of this job on this machine, each with the failure text to write if
 * it is found gone (mpi_peers.h): on SIGTERM the handler checks each pid (no
 * such process, or a zombie) and writes the first dead peer's text at once,
 * since mpirun's SIGKILL follows within a second. Copied; n is capped at
 * SMG_SIGNALS_MAX_PEERS.
 */
#define SMG_SIGNALS_MAX_PEERS 64
struct smg_signal_peer {
    pid_t pid;
    char text[256];
};
void smg_signals_watch_peers(const struct smg_signal_peer *peers, size_t n);

/*
 * The model is complete at path: from now on a stop that gives up says so
 * rather than "no model was written".
 */
void smg_signals_model_written(const char *path);

/* "SIGTERM", "SIGINT", or "signal". */
const char *smg_signal_name(int sig);

#endif

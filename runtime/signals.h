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

/* "SIGTERM", "SIGINT", or "signal". */
const char *smg_signal_name(int sig);

#endif

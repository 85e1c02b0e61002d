/*
 * Child processes for `smalgo launch`: start a program (fork + execvp, never
 * a shell), poll it without blocking, end it with a bounded grace, and ask a
 * host whether its sshd lets us in (`ssh -o BatchMode=yes HOST true`), as a
 * probe that runs beside other work. Every child started here is reaped by
 * smg_proc_poll or smg_proc_stop; no wait here is unbounded.
 *
 * The launcher is PID 1 of a multi-host container, so orphans of the
 * container (sshd sessions, orted) become its children too: every poll and
 * every nap reaps whatever child ended, keeps the status of our own for
 * smg_proc_poll (launch_children.h) and drops an orphan's. Nothing else in
 * the launcher may wait for children.
 */
#ifndef SMG_LAUNCH_PROC_H
#define SMG_LAUNCH_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "io/base/status.h"

/* A probe or transfer that takes longer than this has failed. */
#define SMG_SSH_TIMEOUT_SECONDS 15.0

/* Seconds on a monotonic clock. */
double smg_proc_now(void);

/* Sleep up to seconds (a signal cuts it short), then reap ended children. */
void smg_proc_nap(double seconds);

/* Reap every child that ended (see above); never blocks. */
void smg_proc_reap(void);

/*
 * An anonymous temporary file (created under /tmp and unlinked at once) open
 * for reading and writing, close-on-exec: a child sees it only as the stdin or
 * stdout it is given. The descriptor into *fd; the caller closes it.
 */
SMG_MUST_CHECK enum smg_status smg_proc_tmpfd(int *fd, struct smg_error *err);

/*
 * Start argv[0] (searched in PATH) with argv. in_fd and out_fd become the
 * child's stdin and stdout (-1: /dev/null); stderr is inherited, or
 * /dev/null when quiet. The child gets default signal dispositions and an
 * empty signal mask. SMG_EINTERNAL when fork fails or the launcher already
 * tracks SMG_CHILDREN_MAX children.
 */
SMG_MUST_CHECK enum smg_status smg_proc_spawn(char *const argv[], int in_fd, int out_fd, bool quiet,
                                              pid_t *pid, struct smg_error *err);

/*
 * Reap pid if it has ended: true and *code set to its exit status (128 + the
 * signal number when a signal ended it), false while it runs. A pid that is
 * not a running child of smg_proc_spawn reads as ended with status 1.
 */
bool smg_proc_poll(pid_t pid, int *code);

/*
 * End pid: SIGTERM, then SIGKILL after grace seconds, and reap it. Returns
 * its exit status as smg_proc_poll does.
 */
int smg_proc_stop(pid_t pid, double grace);

/*
 * Run argv quietly to completion, bounded by timeout seconds (then it is
 * stopped and counts as failed: returns -1). Returns the exit status, or -1
 * when it could not start.
 */
int smg_proc_run(char *const argv[], int in_fd, int out_fd, double timeout);

/* An ssh reachability probe of one host, running in the background. */
struct smg_probe {
    pid_t pid; /* 0 when idle */
    double started;
};

/* Start a probe of host (a checked name). false if ssh could not start (counts as a miss). */
bool smg_probe_start(struct smg_probe *p, const char *host);

/*
 * Poll a running probe: 1 when it answered, 0 when it failed or ran past
 * SMG_SSH_TIMEOUT_SECONDS (it is then stopped), -1 while it still runs.
 * Idle afterwards unless -1.
 */
int smg_probe_poll(struct smg_probe *p);

/* Stop and reap a running probe (no-op when idle). */
void smg_probe_cancel(struct smg_probe *p);

#endif

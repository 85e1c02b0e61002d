/*
 * `smalgo launch`: the multi-host leader/worker logic of a SageMaker training
 * container (what docker/entrypoint.sh did in shell). cmd_launch.c reads
 * resourceconfig.json through runtime/config.c and, for one host, execs
 * `smalgo train`; for several it starts sshd and runs launch_leader.c on
 * hosts[0] or launch_worker.c elsewhere. This header is what those files
 * share; nothing outside them uses it.
 */
#ifndef SMG_LAUNCH_H
#define SMG_LAUNCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/job.h"

struct smg_launch {
    struct smg_job job; /* hosts, current_host, output_dir */
    char iface[64];     /* the interface mpirun uses */
    char smalgo[4096];  /* the program each rank runs */
    char **args;        /* "train" and its options */
    size_t n_args;
    unsigned host_wait;          /* SMALGO_HOST_WAIT_SECONDS */
    unsigned check_every;        /* SMALGO_HOST_CHECK_SECONDS */
    unsigned lost_checks;        /* SMALGO_HOST_LOST_CHECKS */
    pid_t sshd;                  /* 0 when not running */
    volatile sig_atomic_t *stop; /* set by SIGTERM or SIGINT */
};

/* Consecutive failed checks per host; a host is lost after lost_after of them. */
struct smg_launch_watch {
    unsigned misses[SMG_MAX_HOSTS];
    unsigned lost_after;
};

void smg_launch_watch_init(struct smg_launch_watch *w, unsigned lost_after);
/* Record one check of host i; true when host i is now lost. */
bool smg_launch_watch_record(struct smg_launch_watch *w, size_t i, bool answered);

/* The roles; each returns the process exit status and stops sshd first. */
int smg_launch_leader(struct smg_launch *l);
int smg_launch_worker(struct smg_launch *l);

/*
 * Log text as an error and write it to output/failure unless something
 * (smalgo's own rank, usually) already wrote a non-empty one there.
 */
void smg_launch_fail(const struct smg_launch *l, const char *text);

/* Read at most max bytes of path into buf (terminated), trailing newlines dropped; "" if absent. */
void smg_launch_read_text(const char *path, char *buf, size_t max);

/* Stop sshd (bounded) and reap it. */
void smg_launch_stop_sshd(struct smg_launch *l);

#endif

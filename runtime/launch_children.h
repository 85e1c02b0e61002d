/*
 * The children `smalgo launch` started, and what became of them. In a
 * multi-host container the launcher is PID 1, so besides its own children
 * (sshd, mpirun, ssh probes) it inherits every orphan of the container (sshd
 * sessions, orted); the kernel leaves each one a zombie until PID 1 waits for
 * it. So launch_proc.c reaps any ended child (waitpid(-1, ...)) and records
 * the status here when the pid is one of ours, for the code that polls that
 * pid later; an orphan's status is dropped.
 *
 * Invariants: a pid is in the table at most once; an entry is added before
 * the child can end (by the parent right after fork, before any reaping) and
 * removed when its status is taken. No processes, no I/O: unit-testable.
 */
#ifndef SMG_LAUNCH_CHILDREN_H
#define SMG_LAUNCH_CHILDREN_H

#include <stdbool.h>
#include <sys/types.h>

#include "runtime/job.h"

/* Every probe of a round at once, plus sshd, mpirun and one ssh transfer. */
#define SMG_CHILDREN_MAX (SMG_MAX_HOSTS + 8)

struct smg_child {
    pid_t pid; /* 0: a free slot */
    bool ended;
    int code; /* the exit status once ended */
};

struct smg_children {
    struct smg_child c[SMG_CHILDREN_MAX];
};

void smg_children_init(struct smg_children *t);

/* Start tracking pid (> 0, running). false when the table is full. */
bool smg_children_add(struct smg_children *t, pid_t pid);

/* True when the table has room for one more child. */
bool smg_children_room(const struct smg_children *t);

/*
 * A reaped child ended with exit status code: recorded when pid is ours
 * (true), ignored when it is an orphan (false).
 */
bool smg_children_ended(struct smg_children *t, pid_t pid, int code);

/*
 * What became of pid: 1 when it ended (*code set, and pid forgotten), 0 while
 * it runs, -1 when pid is not ours (never added, or already taken).
 */
int smg_children_take(struct smg_children *t, pid_t pid, int *code);

#endif

/*
 * The pure decisions of `smalgo launch` (no processes, no I/O): which names
 * are safe to hand to ssh and mpirun, the mpirun and ssh command lines, which
 * interface carries the default route, the ML root named by train's
 * arguments, and the launch's tunables from the environment. Kept apart from the process code so
 * unit tests can check them with plain strings.
 */
#ifndef SMG_LAUNCH_PLAN_H
#define SMG_LAUNCH_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/status.h"

/* A NULL-terminated argument vector whose strings it owns. */
struct smg_argv {
    char **v; /* v[n] == NULL once anything was pushed */
    size_t n;
    size_t cap;
};

void smg_argv_init(struct smg_argv *a);
void smg_argv_free(struct smg_argv *a); /* accepts an initialised, empty vector */
/* Append a copy of s. SMG_ENOMEM when out of memory (a is unchanged). */
SMG_MUST_CHECK enum smg_status smg_argv_push(struct smg_argv *a, const char *s,
                                             struct smg_error *err);

/*
 * A host or interface name we pass to ssh and mpirun: non-empty, letters,
 * digits, '.', '-' and '_', not starting with '-' (it would read as an option).
 */
bool smg_launch_name_ok(const char *s);

/*
 * True when name (NAME=value or a bare NAME) is one of the variables every
 * rank needs and mpirun must forward (-x), because orted starts remote ranks
 * through sshd, which does not pass the container's environment on:
 * SMALGO_*, AWS_*, TRAINING_JOB_*, SM_*, OPENBLAS_*, OMP_*, LD_LIBRARY_*.
 */
bool smg_launch_forwarded(const char *name);

struct smg_launch_job {
    const char *const *hosts; /* hosts[0] is the leader: rank 0 */
    size_t n_hosts;
    const char *iface;  /* network_interface_name, already checked */
    const char *smalgo; /* the program every rank runs */
    char *const *args;  /* what each rank runs after smalgo: "train", options */
    size_t n_args;
    char *const *environ; /* NULL-terminated; the names to forward come from it */
};

/*
 * The mpirun command line: one rank per host (--host h1:1,h2:1,...), TCP
 * over iface for both MPI traffic and OpenMPI's out-of-band channel, abort
 * every rank when one exits non-zero, PATH and the forwarded variables
 * (sorted, each once), then smalgo and its arguments.
 */
SMG_MUST_CHECK enum smg_status smg_launch_mpirun_argv(const struct smg_launch_job *job,
                                                      struct smg_argv *out, struct smg_error *err);

/* The ssh options of every probe and transfer: fail fast, never prompt. */
#define SMG_SSH_CONNECT_TIMEOUT "ConnectTimeout=5"
/* The slots smg_launch_ssh_argv fills, the terminating NULL included. */
#define SMG_SSH_ARGV_LEN 8

/*
 * The one ssh command line of the launcher, `ssh -o ConnectTimeout=5 -o
 * BatchMode=yes HOST CMD`, into argv (SMG_SSH_ARGV_LEN slots, NULL-terminated;
 * it points at host and cmd, which must outlive it). host must be a checked
 * name (smg_launch_name_ok). Returns argv.
 */
char **smg_launch_ssh_argv(char *argv[SMG_SSH_ARGV_LEN], const char *host, const char *cmd);

/*
 * The ML root a `smalgo train` with these arguments (args[0] is "train") uses,
 * with train's precedence: the last --ml-root DIR or --ml-root=DIR, else env
 * (SMALGO_ML_ROOT; NULL or "" when unset), else /opt/ml. The value of
 * --algorithm is skipped, as train reads it; other words are train's to judge.
 */
const char *smg_launch_ml_root(char *const *args, size_t n_args, const char *env);

/*
 * From the text of /proc/net/route, the interface of the default route (the
 * first line whose destination is 00000000) into out. False when none (or it
 * does not fit).
 */
bool smg_launch_default_route_iface(const char *route_text, char *out, size_t size);

/*
 * A launch tunable: the decimal value of the environment variable name when
 * it is a whole number in [lo, hi], else fallback (a malformed value is
 * logged as a warning, not fatal).
 */
unsigned smg_launch_env_uint(const char *name, unsigned fallback, unsigned lo, unsigned hi);

#endif

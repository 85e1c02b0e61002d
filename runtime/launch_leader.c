/*
 * The leader of a multi-host job (`smalgo launch` on hosts[0]):
 *
 * 1. wait until every worker's sshd lets us in, bounded by
 *    SMALGO_HOST_WAIT_SECONDS (then a ClientError naming the missing hosts);
 * 2. run mpirun with one rank per host (launch_plan.h) and, while it runs,
 *    check every worker over ssh each SMALGO_HOST_CHECK_SECONDS: a worker that
 *    fails SMALGO_HOST_LOST_CHECKS checks in a row is lost, and mpirun is
 *    stopped (SIGTERM, SIGKILL 10 s later);
 * 3. name what went wrong in output/failure (a lost host; else the first
 *    worker's own failure; else mpirun's status);
 * 4. hand the job's status to every remaining worker (launch_done.h).
 *
 * SIGTERM stops mpirun as a lost host does (SIGTERM, SIGKILL 10 s later) and
 * the job ends with status 143 on every host. One loop polls mpirun, the
 * probes and the stop flag every 100 ms; the probes run beside mpirun as
 * child processes, so nothing blocks the loop, and every wait is bounded.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/base/log.h"
#include "runtime/failure.h"
#include "runtime/launch.h"
#include "runtime/launch_done.h"
#include "runtime/launch_plan.h"
#include "runtime/launch_proc.h"

extern char **environ;

#define TICK 0.1
/* Seconds mpirun gets between SIGTERM and SIGKILL. */
#define MPIRUN_GRACE 10.0

/* Parallel ssh checks of some workers (indices into job.hosts). */
struct round {
    struct smg_probe probe[SMG_MAX_HOSTS];
    bool answered[SMG_MAX_HOSTS];
    bool running;
};

static void round_start(struct round *r, const struct smg_launch *l, const bool *which)
{
    for (size_t i = 1; i < l->job.n_hosts; i++) {
        r->probe[i].pid = 0;
        r->answered[i] = false;
        if (which[i] && !smg_probe_start(&r->probe[i], l->job.hosts[i]))
            r->probe[i].pid = 0;
    }
    r->running = true;
}

/* True once every probe of the round came back (answered[] then holds the results). */
static bool round_poll(struct round *r, const struct smg_launch *l)
{
    bool done = true;

    for (size_t i = 1; i < l->job.n_hosts; i++) {
        if (r->probe[i].pid == 0)
            continue;
        int res = smg_probe_poll(&r->probe[i]);
        if (res < 0)
            done = false;
        else
            r->answered[i] = res == 1;
    }
    if (done)
        r->running = false;
    return done;
}

static void round_cancel(struct round *r, const struct smg_launch *l)
{
    for (size_t i = 1; i < l->job.n_hosts; i++)
        smg_probe_cancel(&r->probe[i]);
    r->running = false;
}

/* Append the names of hosts flagged in which to out as "a b c". */
static void host_names(const struct smg_launch *l, const bool *which, char *out, size_t size)
{
    size_t off = 0;

    out[0] = '\0';
    for (size_t i = 1; i < l->job.n_hosts && off < size; i++)
        if (which[i]) {
            int n = snprintf(out + off, size - off, "%s%s", off ? " " : "", l->job.hosts[i]);
            off += n > 0 ? (size_t)n : 0;
        }
}

/* Write the done file to each worker in which; three tries each, bounded. */
static void tell_workers(const struct smg_launch *l, int status, const bool *which)
{
    static const char cmd[] = "cat >" SMG_LAUNCH_DONE_FILE ".tmp && mv " SMG_LAUNCH_DONE_FILE
                              ".tmp " SMG_LAUNCH_DONE_FILE;
    char failure[SMG_LAUNCH_DONE_REASON_MAX + 1], path[8192];
    char msg[SMG_LAUNCH_DONE_REASON_MAX + 64];
    char *argv[SMG_SSH_ARGV_LEN];
    size_t len;
    int fd = -1;

    snprintf(path, sizeof(path), "%s/failure", l->job.output_dir);
    smg_launch_read_text(path, failure, sizeof(failure));
    len = smg_launch_done_format(status, failure, msg, sizeof(msg));
    if (smg_proc_tmpfd(&fd, NULL) != SMG_OK || write(fd, msg, len) != (ssize_t)len) {
        smg_log_error("cannot prepare the job's status for the workers");
        goto out;
    }
    for (size_t i = 1; i < l->job.n_hosts; i++) {
        int tries = 0;
        if (!which[i])
            continue;
        smg_launch_ssh_argv(argv, l->job.hosts[i], cmd);
        while (lseek(fd, 0, SEEK_SET) == 0 &&
               smg_proc_run(argv, fd, -1, SMG_SSH_TIMEOUT_SECONDS) != 0) {
            if (++tries >= 3) {
                smg_log_error("could not tell %s that the job ended", l->job.hosts[i]);
                break;
            }
            smg_proc_nap(1.0);
        }
    }
out:
    if (fd >= 0)
        close(fd);
}

/* Step 1. 0 when every worker answers, else the exit status (workers told). */
static int wait_for_workers(struct smg_launch *l)
{
    bool pending[SMG_MAX_HOSTS] = {false}, others[SMG_MAX_HOSTS] = {false};
    double deadline = smg_proc_now() + (double)l->host_wait;
    struct round r;
    char names[4096], text[4608];
    bool any;

    for (size_t i = 1; i < l->job.n_hosts; i++)
        pending[i] = true;
    for (;;) {
        round_start(&r, l, pending);
        while (!round_poll(&r, l) && !*l->stop)
            smg_proc_nap(TICK);
        round_cancel(&r, l);
        any = false;
        for (size_t i = 1; i < l->job.n_hosts; i++) {
            pending[i] = pending[i] && !r.answered[i];
            others[i] = !pending[i];
            any = any || pending[i];
        }
        if (!any)
            return 0;
        if (*l->stop) {
            for (size_t i = 1; i < l->job.n_hosts; i++)
                others[i] = true;
            tell_workers(l, 143, others);
            return 143;
        }
        if (smg_proc_now() >= deadline) {
            host_names(l, pending, names, sizeof(names));
            snprintf(text, sizeof(text),
                     "ClientError: host(s) %s did not answer over SSH within %u s "
                     "(SMALGO_HOST_WAIT_SECONDS); every host of the job must run this image on "
                     "one network",
                     names, l->host_wait);
            smg_launch_fail(l, text);
            tell_workers(l, 1, others);
            return 1;
        }
        smg_proc_nap(1.0);
    }
}

/* Start mpirun for the job; SMG_OK and *pid, or an error in err. */
static int start_mpirun(const struct smg_launch *l, pid_t *pid, struct smg_error *err)
{
    struct smg_launch_job plan = {.hosts = (const char *const *)l->job.hosts,
                                  .n_hosts = l->job.n_hosts,
                                  .iface = l->iface,
                                  .smalgo = l->smalgo,
                                  .args = l->args,
                                  .n_args = l->n_args,
                                  .environ = environ};
    struct smg_argv argv;
    int rc;

    smg_argv_init(&argv);
    rc = smg_launch_mpirun_argv(&plan, &argv, err);
    if (rc == SMG_OK)
        rc = smg_proc_spawn(argv.v, -1, STDOUT_FILENO, false, pid, err);
    smg_argv_free(&argv);
    return rc;
}

/* Step 2: mpirun's exit status; lost[] names the workers the checks lost. */
static int watch_mpirun(struct smg_launch *l, pid_t mpirun, bool *lost)
{
    bool all[SMG_MAX_HOSTS] = {false}, lost_any = false;
    double next_round = smg_proc_now() + (double)l->check_every, kill_at = 0;
    struct smg_launch_watch watch;
    struct round r = {.running = false};
    char names[4096];
    int code;

    smg_launch_watch_init(&watch, l->lost_checks);
    for (size_t i = 1; i < l->job.n_hosts; i++)
        all[i] = true;
    while (!smg_proc_poll(mpirun, &code)) {
        /* Stopping for either cause: SIGTERM once, SIGKILL 10 s later, so this loop ends. */
        if ((*l->stop || lost_any) && kill_at == 0) {
            if (lost_any) {
                host_names(l, lost, names, sizeof(names));
                smg_log_warn("lost host(s): %s; stopping mpirun", names);
            }
            kill(mpirun, SIGTERM);
            kill_at = smg_proc_now() + MPIRUN_GRACE;
        } else if (kill_at > 0 && smg_proc_now() >= kill_at) {
            kill(mpirun, SIGKILL);
        }
        if (!r.running && !lost_any && smg_proc_now() >= next_round)
            round_start(&r, l, all);
        if (r.running && round_poll(&r, l)) {
            for (size_t i = 1; i < l->job.n_hosts; i++)
                if (smg_launch_watch_record(&watch, i, r.answered[i]))
                    lost[i] = lost_any = true;
            next_round = smg_proc_now() + (double)l->check_every;
        }
        smg_proc_nap(TICK);
    }
    round_cancel(&r, l);
    return code;
}

/* The first worker's own failure text ("host W failed: ..."), into out; false if none. */
static bool worker_failure(const struct smg_launch *l, char *out, size_t size)
{
    char cmd[8300], text[901];
    char *argv[SMG_SSH_ARGV_LEN];
    bool found = false;
    int fd = -1;

    if (strchr(l->job.output_dir, '\'') != NULL)
        return false;
    snprintf(cmd, sizeof(cmd), "head -c 900 '%s/failure'", l->job.output_dir);
    if (smg_proc_tmpfd(&fd, NULL) != SMG_OK)
        return false;
    for (size_t i = 1; !found && i < l->job.n_hosts; i++) {
        ssize_t got;
        size_t n;
        if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
            break;
        int code = smg_proc_run(smg_launch_ssh_argv(argv, l->job.hosts[i], cmd), -1, fd,
                                SMG_SSH_TIMEOUT_SECONDS);
        got = pread(fd, text, sizeof(text) - 1, 0);
        n = got > 0 ? (size_t)got : 0;
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
            n--;
        text[n] = '\0';
        if (code == 0 && n > 0) {
            snprintf(out, size, "host %s failed: %s", l->job.hosts[i], text);
            found = true;
        }
    }
    close(fd);
    return found;
}

/* Step 3: a failed job's cause into output/failure; lost[] gains unreachable workers. */
static void name_failure(struct smg_launch *l, int code, bool *lost)
{
    bool all[SMG_MAX_HOSTS] = {false}, any = false;
    char names[4096], text[5000];
    struct round r;

    for (size_t i = 1; i < l->job.n_hosts; i++)
        any = any || lost[i];
    if (!any) {
        /* Every worker at once; each probe ends within SMG_SSH_TIMEOUT_SECONDS. */
        for (size_t i = 1; i < l->job.n_hosts; i++)
            all[i] = true;
        round_start(&r, l, all);
        while (!round_poll(&r, l))
            smg_proc_nap(TICK);
        for (size_t i = 1; i < l->job.n_hosts; i++)
            lost[i] = !r.answered[i];
    }
    any = false;
    for (size_t i = 1; i < l->job.n_hosts; i++)
        any = any || lost[i];
    if (any) {
        /* Overrides what rank 0 wrote: it only saw its peers vanish. */
        smg_failure_clear(l->job.output_dir);
        host_names(l, lost, names, sizeof(names));
        snprintf(text, sizeof(text),
                 "AlgorithmError: lost host(s) %s during training (no answer over SSH); the job "
                 "cannot finish without every host (mpirun status %d)",
                 names, code);
    } else if (!worker_failure(l, text, sizeof(text))) {
        snprintf(text, sizeof(text),
                 "AlgorithmError: training failed (mpirun exited with status %d; see the log)",
                 code);
    }
    smg_launch_fail(l, text);
}

int smg_launch_leader(struct smg_launch *l)
{
    bool lost[SMG_MAX_HOSTS] = {false}, remaining[SMG_MAX_HOSTS] = {false};
    struct smg_error err;
    pid_t mpirun;
    int code;

    if ((code = wait_for_workers(l)) != 0)
        goto out;
    smg_log_info("all %zu hosts answer; starting mpirun", l->job.n_hosts);
    smg_error_clear(&err);
    if (start_mpirun(l, &mpirun, &err) != SMG_OK) {
        smg_launch_fail(l, err.msg);
        code = 1;
    } else {
        code = watch_mpirun(l, mpirun, lost);
    }
    if (*l->stop) {
        smg_log_info("stopped (SIGTERM); mpirun exited with status %d", code);
        code = 143;
    } else if (code != 0) {
        name_failure(l, code, lost);
    }
    for (size_t i = 1; i < l->job.n_hosts; i++)
        remaining[i] = !lost[i];
    tell_workers(l, code, remaining);
out:
    smg_launch_stop_sshd(l);
    return code;
}

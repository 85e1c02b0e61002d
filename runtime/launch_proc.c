/*
 * fork/exec/waitpid for `smalgo launch` (see launch_proc.h). The launcher is
 * a small event loop: it never blocks on a child, it polls. Children get the
 * default signal dispositions back, so SIGTERM sent to mpirun or ssh ends
 * them even though the launcher itself catches it. Only smg_proc_reap waits
 * for children, with waitpid(-1): our own children's statuses go to one
 * table (launch_children.h), orphans are just reaped. Every descriptor the
 * launcher opens is close-on-exec, so children inherit only stdin, stdout
 * and stderr.
 */
#include "runtime/launch_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/launch_children.h"
#include "runtime/launch_plan.h"

/* Zero-filled: every slot free. */
static struct smg_children children;

double smg_proc_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int exit_code(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return 1;
}

void smg_proc_reap(void)
{
    int wstatus = 0;
    pid_t r;

    for (;;) {
        r = waitpid(-1, &wstatus, WNOHANG);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return; /* none ended (0), or no children at all (ECHILD) */
        /* Ours: kept for smg_proc_poll. Else an orphan: reaped is all it needed. */
        smg_children_ended(&children, r, exit_code(wstatus));
    }
}

void smg_proc_nap(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};

    nanosleep(&ts, NULL); /* a signal cuts it short, which is what callers want */
    smg_proc_reap();
}

enum smg_status smg_proc_tmpfd(int *fd, struct smg_error *err)
{
    char path[] = "/tmp/smalgo-launch-XXXXXX";
    int f = mkostemp(path, O_CLOEXEC);

    if (f < 0)
        return smg_error_set(err, SMG_EIO, "cannot create a temporary file in /tmp: %s",
                             strerror(errno));
    unlink(path);
    *fd = f;
    return SMG_OK;
}

/* In the child: stdin/stdout, default signals, then exec. Never returns. */
static void child_exec(char *const argv[], int in_fd, int out_fd, bool quiet)
{
    sigset_t none;
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC); /* dup2's copies stay open */

    for (int sig = 1; sig < NSIG; sig++)
        if (sig != SIGKILL && sig != SIGSTOP)
            signal(sig, SIG_DFL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (dup2(in_fd >= 0 ? in_fd : null_fd, STDIN_FILENO) < 0 ||
        dup2(out_fd >= 0 ? out_fd : null_fd, STDOUT_FILENO) < 0 ||
        (quiet && dup2(null_fd, STDERR_FILENO) < 0))
        _exit(127);
    execvp(argv[0], argv);
    _exit(127);
}

enum smg_status smg_proc_spawn(char *const argv[], int in_fd, int out_fd, bool quiet, pid_t *pid,
                               struct smg_error *err)
{
    pid_t p;

    if (!smg_children_room(&children))
        return smg_error_set(err, SMG_EINTERNAL, "cannot start %s: %d children already run",
                             argv[0], SMG_CHILDREN_MAX);
    p = fork();
    if (p < 0)
        return smg_error_set(err, SMG_EINTERNAL, "cannot start %s: fork: %s", argv[0],
                             strerror(errno));
    if (p == 0)
        child_exec(argv, in_fd, out_fd, quiet);
    /* Before any reaping, so its status cannot be dropped as an orphan's; room was checked. */
    (void)smg_children_add(&children, p);
    *pid = p;
    return SMG_OK;
}

bool smg_proc_poll(pid_t pid, int *code)
{
    int r;

    smg_proc_reap();
    r = smg_children_take(&children, pid, code);
    if (r == 0)
        return false;
    if (r < 0)
        *code = 1; /* not a child of ours (any more) */
    return true;
}

int smg_proc_stop(pid_t pid, double grace)
{
    double deadline = smg_proc_now() + grace;
    int code;

    kill(pid, SIGTERM);
    while (smg_proc_now() < deadline) {
        if (smg_proc_poll(pid, &code))
            return code;
        smg_proc_nap(0.05);
    }
    kill(pid, SIGKILL);
    while (!smg_proc_poll(pid, &code))
        smg_proc_nap(0.01); /* SIGKILL cannot be refused: this ends */
    return code;
}

int smg_proc_run(char *const argv[], int in_fd, int out_fd, double timeout)
{
    double deadline = smg_proc_now() + timeout;
    pid_t pid = 0;
    int code;

    if (smg_proc_spawn(argv, in_fd, out_fd, true, &pid, NULL) != SMG_OK)
        return -1;
    while (!smg_proc_poll(pid, &code)) {
        if (smg_proc_now() >= deadline) {
            smg_proc_stop(pid, 1.0);
            return -1;
        }
        smg_proc_nap(0.05);
    }
    return code;
}

bool smg_probe_start(struct smg_probe *p, const char *host)
{
    char *argv[SMG_SSH_ARGV_LEN];

    p->pid = 0;
    p->started = smg_proc_now();
    return smg_proc_spawn(smg_launch_ssh_argv(argv, host, "true"), -1, -1, true, &p->pid, NULL) ==
           SMG_OK;
}

int smg_probe_poll(struct smg_probe *p)
{
    int code;

    if (p->pid == 0)
        return 0;
    if (smg_proc_poll(p->pid, &code)) {
        p->pid = 0;
        return code == 0;
    }
    if (smg_proc_now() - p->started < SMG_SSH_TIMEOUT_SECONDS)
        return -1;
    smg_probe_cancel(p);
    return 0;
}

void smg_probe_cancel(struct smg_probe *p)
{
    if (p->pid != 0)
        smg_proc_stop(p->pid, 1.0);
    p->pid = 0;
}

/*
 * The stop-signal handlers. Everything the handler may need is prepared
 * before any signal can arrive (paths, the fallback failure texts), because a
 * handler may call only async-signal-safe functions: it sets a flag, arms
 * alarm(), and on the second signal or the alarm writes the prepared text
 * with io's async-signal-safe atomic write (smg_atomic_write_raw: open,
 * write, fsync, rename, fsync the folder; no allocation) and leaves with
 * _exit(128 + signal).
 *
 * The helper commands (pipe, records) use the plain variant,
 * smg_signals_catch_stop: the handler only sets their flag.
 */
#include "runtime/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/atomic_file.h"

static volatile sig_atomic_t stop_flag;
static char failure_path[8192];
static char failure_tmp[8192];
static char failure_dir[8192];
static char fallback_text[2][512]; /* [0]: SIGTERM, [1]: SIGINT */
static size_t fallback_len[2];
static volatile sig_atomic_t *plain_flag; /* smg_signals_catch_stop's */
static struct smg_signal_peer peers[SMG_SIGNALS_MAX_PEERS];
static char peer_stat[SMG_SIGNALS_MAX_PEERS][48]; /* "/proc/<pid>/stat" */
static volatile sig_atomic_t n_peers;

const char *smg_signal_name(int sig)
{
    if (sig == SIGTERM)
        return "SIGTERM";
    if (sig == SIGINT)
        return "SIGINT";
    return "signal";
}

static void give_up(void)
{
    int which = stop_flag == SIGINT ? 1 : 0;
    int code = 128 + (stop_flag != 0 ? (int)stop_flag : SIGTERM);

    if (failure_path[0] != '\0')
        (void)smg_atomic_write_raw(failure_path, failure_tmp, failure_dir, fallback_text[which],
                                   fallback_len[which], 0644, NULL);
    if (write(STDERR_FILENO, fallback_text[which], fallback_len[which]) < 0) {
        /* Nowhere left to report to; the exit status still says why. */
    }
    _exit(code);
}

/* Whether the process is gone or a zombie (async-signal-safe: open, read, close). */
static bool peer_dead(size_t i)
{
    char buf[256];
    ssize_t n;
    int fd;

    if (kill(peers[i].pid, 0) != 0 && errno == ESRCH)
        return true;
    if ((fd = open(peer_stat[i], O_RDONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    for (ssize_t j = n - 2; j > 0; j--) /* "pid (comm) S ...": the state follows the last ')' */
        if (buf[j] == ')')
            return buf[j + 2] == 'Z';
    return false;
}

/*
 * A local rank has died: write its text now (mpirun's SIGKILL is a second
 * away), unless a failure file is there already: a rank that stopped on an
 * error of its own wrote the real reason before it exited.
 */
static void report_dead_peer(void)
{
    int saved = errno;

    for (size_t i = 0; i < (size_t)n_peers; i++) {
        if (!peer_dead(i))
            continue;
        size_t len = strlen(peers[i].text);
        if (failure_path[0] != '\0' && access(failure_path, F_OK) != 0)
            (void)smg_atomic_write_raw(failure_path, failure_tmp, failure_dir, peers[i].text, len,
                                       0644, NULL);
        if (write(STDERR_FILENO, peers[i].text, len) < 0) {
            /* the file says it */
        }
        break;
    }
    errno = saved;
}

static void on_signal(int sig)
{
    if (sig == SIGALRM || stop_flag != 0)
        give_up();
    stop_flag = sig;
    if (sig == SIGTERM && n_peers > 0)
        report_dead_peer();
    alarm(SMG_STOP_GRACE_SECONDS);
}

void smg_signals_watch_peers(const struct smg_signal_peer *list, size_t n)
{
    n_peers = 0;
    if (n > SMG_SIGNALS_MAX_PEERS)
        n = SMG_SIGNALS_MAX_PEERS;
    for (size_t i = 0; i < n; i++) {
        peers[i] = list[i];
        snprintf(peer_stat[i], sizeof(peer_stat[i]), "/proc/%ld/stat", (long)list[i].pid);
    }
    n_peers = (sig_atomic_t)n;
}

void smg_signals_model_written(const char *path)
{
    static const int sigs[2] = {SIGTERM, SIGINT};

    for (int i = 0; i < 2; i++) {
        char text[sizeof(fallback_text[i])];
        int n = snprintf(text, sizeof(text),
                         "ClientError: training stopped by %s after the model was written to %s "
                         "(it is complete); what followed it did not finish within %d seconds\n",
                         smg_signal_name(sigs[i]), path, SMG_STOP_GRACE_SECONDS);
        if (n <= 0 || (size_t)n >= sizeof(text))
            continue;
        fallback_len[i] = 0; /* a signal in between writes nothing rather than half a text */
        memcpy(fallback_text[i], text, (size_t)n + 1);
        fallback_len[i] = (size_t)n;
    }
}

volatile sig_atomic_t *smg_signals_install(const char *output_dir)
{
    struct sigaction sa;
    static const int sigs[2] = {SIGTERM, SIGINT};

    stop_flag = 0;
    n_peers = 0;
    failure_path[0] = '\0';
    if (output_dir != NULL) {
        int a = snprintf(failure_path, sizeof(failure_path), "%s/failure", output_dir);
        int b = snprintf(failure_tmp, sizeof(failure_tmp), "%s/.failure.sig.%ld", output_dir,
                         (long)getpid());
        int c = snprintf(failure_dir, sizeof(failure_dir), "%s", output_dir);
        if (a < 0 || b < 0 || c < 0 || (size_t)a >= sizeof(failure_path) ||
            (size_t)b >= sizeof(failure_tmp) || (size_t)c >= sizeof(failure_dir))
            failure_path[0] = '\0';
    }
    for (int i = 0; i < 2; i++) {
        int n = snprintf(fallback_text[i], sizeof(fallback_text[i]),
                         "ClientError: training stopped by %s and did not reach a mini-batch "
                         "boundary within %d seconds; no model was written\n",
                         smg_signal_name(sigs[i]), SMG_STOP_GRACE_SECONDS);
        fallback_len[i] = n > 0 ? strlen(fallback_text[i]) : 0;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: a blocking read returns EINTR and sees the flag */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    return &stop_flag;
}

static void on_plain_signal(int sig)
{
    (void)sig;
    *plain_flag = 1;
}

void smg_signals_catch_stop(volatile sig_atomic_t *flag)
{
    struct sigaction sa;

    plain_flag = flag;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_plain_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

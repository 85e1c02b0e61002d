/*
 * Pipe-mode FIFO reader: see fifo.h for the contract.
 *
 * The descriptor stays O_NONBLOCK for its whole life. A read() that finds the
 * pipe empty (EAGAIN) falls back to poll() in 50 ms ticks, re-checking the
 * stop and cancel flags between ticks, so no thread ever sleeps in the kernel
 * for longer than that. Linux reports POLLHUP on a FIFO's read end only once a
 * writer has come and gone since the reader opened it, which is what lets us
 * tell "no writer yet" from "writer done" without a blocking open().
 */
#include "io/fifo.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/base/alloc.h"

#define FIFO_BUF    ((size_t)1 << 20)
#define FIFO_TICK   50
#define BACKOFF_MAX 100

struct fifo_ctx {
    int fd;
    int stall_ms;           /* <= 0: none */
    long long last_data_ms; /* when the last byte (or the open) was seen */
    unsigned long long bytes;
    volatile sig_atomic_t *stop;
    atomic_bool *cancel;
    unsigned char *buf;
    size_t buf_len;
    size_t buf_pos;
    const char *name; /* the stream's name, set after the stream exists */
};

long long smg_fifo_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int check_flags(volatile sig_atomic_t *stop, atomic_bool *cancel, const char *what,
                       struct smg_error *err)
{
    if (stop != NULL && *stop)
        return smg_error_set(err, SMG_ESTOPPED, "%s: stopped (stop signal received)", what);
    if (cancel != NULL && atomic_load(cancel))
        return smg_error_set(err, SMG_ESTOPPED, "%s: closed early by the reader", what);
    return SMG_OK;
}

static int raw_read(struct fifo_ctx *f, void *dst, size_t cap, size_t *got, struct smg_error *err)
{
    for (;;) {
        ssize_t n = read(f->fd, dst, cap);
        int rc;

        if (n >= 0) {
            *got = (size_t)n;
            f->bytes += (size_t)n;
            f->last_data_ms = smg_fifo_now_ms();
            return SMG_OK;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN)
            return smg_error_set(err, SMG_EIO, "%s: read failed: %s", f->name, strerror(errno));
        if ((rc = check_flags(f->stop, f->cancel, f->name, err)) != SMG_OK)
            return rc;
        if (f->stall_ms > 0 && smg_fifo_now_ms() - f->last_data_ms >= f->stall_ms)
            return smg_error_set(err, SMG_ETIMEOUT,
                                 "%s: the writer stalled: no data for %g s after %llu bytes (the "
                                 "stall timeout, counted from the last byte received)",
                                 f->name, f->stall_ms / 1000.0, f->bytes);
        struct pollfd p = {f->fd, POLLIN, 0};
        (void)poll(&p, 1, FIFO_TICK);
    }
}

static int fifo_read(void *ctx, void *dst, size_t cap, size_t *got, struct smg_error *err)
{
    struct fifo_ctx *f = ctx;
    size_t n;
    int rc;

    *got = 0;
    if ((rc = check_flags(f->stop, f->cancel, f->name, err)) != SMG_OK)
        return rc;
    if (f->buf_pos == f->buf_len) {
        if (cap >= FIFO_BUF || f->buf == NULL)
            return raw_read(f, dst, cap, got, err);
        f->buf_pos = f->buf_len = 0;
        if ((rc = raw_read(f, f->buf, FIFO_BUF, &f->buf_len, err)) != SMG_OK)
            return rc;
    }
    n = f->buf_len - f->buf_pos;
    if (n > cap)
        n = cap;
    memcpy(dst, f->buf + f->buf_pos, n);
    f->buf_pos += n;
    *got = n;
    return SMG_OK;
}

static void fifo_free(void *ctx)
{
    struct fifo_ctx *f = ctx;

    if (f == NULL)
        return;
    if (f->fd >= 0)
        close(f->fd);
    smg_free(f->buf);
    smg_free(f);
}

enum fifo_state { FIFO_ABSENT, FIFO_NO_WRITER, FIFO_SILENT_WRITER };

static int timeout_error(const char *path, const struct smg_fifo_opts *o, enum fifo_state state,
                         struct smg_error *err)
{
    static const char *const what[] = {"", ": it exists but no writer opened it",
                                       ": a writer opened it but wrote nothing"};
    const char *ctx = o->context != NULL ? o->context : "";
    return smg_error_set(err, SMG_ETIMEOUT, "timed out after %g s waiting for FIFO %s%s%s%s%s",
                         o->timeout_ms / 1000.0, path, *ctx ? " (" : "", ctx, *ctx ? ")" : "",
                         what[state]);
}

/*
 * Whether a writer has opened the FIFO: a thread blocks in open(O_RDONLY),
 * which returns once one has. watch_end releases a thread still blocked (or
 * not yet in open) by opening the write end itself and holding it until the
 * thread is joined: our non-blocking reader is open, so that cannot block or
 * fail for want of a reader. Both opens go through /proc/self/fd/<reader>,
 * the FIFO we hold, not its path: a writer that has come and gone may have
 * unlinked the path, and a release by path would then fail and leave the
 * thread blocked for good.
 */
struct writer_watch {
    char proc[48];
    pthread_t thread;
    bool started;
    atomic_bool opened;
    int fd;
};

static void *watch_main(void *arg)
{
    struct writer_watch *w = arg;
    int fd = open(w->proc, O_RDONLY | O_CLOEXEC);

    w->fd = fd;
    if (fd >= 0)
        atomic_store(&w->opened, true);
    return NULL;
}

static void watch_begin(struct writer_watch *w, int reader_fd)
{
    snprintf(w->proc, sizeof(w->proc), "/proc/self/fd/%d", reader_fd);
    w->fd = -1;
    atomic_init(&w->opened, false);
    w->started = pthread_create(&w->thread, NULL, watch_main, w) == 0;
}

/* Whether a writer was seen opening the FIFO before now. */
static bool watch_end(struct writer_watch *w)
{
    bool seen;
    int release;

    if (!w->started)
        return false;
    seen = atomic_load(&w->opened);
    release = open(w->proc, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (release < 0) {
        /* Cannot happen while our reader is open; never join a thread we cannot release. */
        pthread_detach(w->thread);
        return seen;
    }
    pthread_join(w->thread, NULL);
    close(release);
    if (w->fd >= 0)
        close(w->fd);
    return seen;
}

/* Wait until path exists; fills *st. */
static int wait_exists(const char *path, const struct smg_fifo_opts *o, long long deadline,
                       struct stat *st, struct smg_error *err)
{
    long backoff = 1;

    for (;;) {
        int rc;

        if (stat(path, st) == 0)
            return SMG_OK;
        if (errno != ENOENT)
            return smg_error_set(err, SMG_EIO, "cannot stat FIFO %s: %s", path, strerror(errno));
        if ((rc = check_flags(o->stop, o->cancel, path, err)) != SMG_OK)
            return rc;
        long long now = smg_fifo_now_ms();
        if (deadline >= 0 && now >= deadline)
            return timeout_error(path, o, FIFO_ABSENT, err);
        long wait = backoff;
        if (deadline >= 0 && deadline - now < wait)
            wait = (long)(deadline - now);
        sleep_ms(wait);
        backoff = backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : backoff * 2;
    }
}

/* Wait until the FIFO has data or its writer has come and gone. */
static int wait_data(int fd, const char *path, const struct smg_fifo_opts *o, long long deadline,
                     struct smg_error *err)
{
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int rc;
        int n = poll(&p, 1, FIFO_TICK);

        if (n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
            return SMG_OK;
        if (n < 0 && errno != EINTR)
            return smg_error_set(err, SMG_EIO, "poll on FIFO %s failed: %s", path, strerror(errno));
        if ((rc = check_flags(o->stop, o->cancel, path, err)) != SMG_OK)
            return rc;
        if (deadline >= 0 && smg_fifo_now_ms() >= deadline)
            return timeout_error(path, o, FIFO_NO_WRITER, err);
    }
}

/* wait_data, telling a silent writer from none when it times out. */
static int wait_writer(int fd, const char *path, const struct smg_fifo_opts *o, long long deadline,
                       struct smg_error *err)
{
    struct writer_watch w;
    int rc;

    watch_begin(&w, fd);
    rc = wait_data(fd, path, o, deadline, err);
    if (watch_end(&w) && rc == SMG_ETIMEOUT) {
        smg_error_clear(err); /* the first message wins otherwise */
        rc = timeout_error(path, o, FIFO_SILENT_WRITER, err);
    }
    return rc;
}

enum smg_status smg_fifo_open(const char *path, const struct smg_fifo_opts *opts,
                              struct smg_stream **out, struct smg_error *err)
{
    static const struct smg_fifo_opts defaults = {0, NULL, NULL, NULL, 0};
    const struct smg_fifo_opts *o = opts != NULL ? opts : &defaults;
    long long deadline = o->timeout_ms > 0 ? smg_fifo_now_ms() + o->timeout_ms : -1;
    struct fifo_ctx *f = NULL;
    struct stat st;
    char name[4200];
    int rc;

    *out = NULL;
    if ((rc = wait_exists(path, o, deadline, &st, err)) != SMG_OK)
        return rc;
    if (!S_ISFIFO(st.st_mode) && !S_ISREG(st.st_mode))
        return smg_error_set(err, SMG_EIO, "%s is neither a FIFO nor a regular file", path);
    f = smg_calloc(1, sizeof(*f));
    if (f == NULL || (f->buf = smg_malloc(FIFO_BUF)) == NULL) {
        smg_free(f);
        return smg_error_set(err, SMG_ENOMEM, "out of memory opening FIFO %s", path);
    }
    f->stop = o->stop;
    f->cancel = o->cancel;
    f->stall_ms = S_ISFIFO(st.st_mode) ? o->stall_ms : 0;
    f->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f->fd < 0) {
        rc = smg_error_set(err, SMG_EIO, "cannot open FIFO %s: %s", path, strerror(errno));
        goto out;
    }
    if (S_ISFIFO(st.st_mode)) {
        /* Best effort: an unprivileged process may be refused beyond pipe-max-size. */
        (void)fcntl(f->fd, F_SETPIPE_SZ, SMG_FIFO_PIPE_SIZE);
        if ((rc = wait_writer(f->fd, path, o, deadline, err)) != SMG_OK)
            goto out;
    } else {
        (void)posix_fadvise(f->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    }
    snprintf(name, sizeof(name), "%s%s", S_ISFIFO(st.st_mode) ? "FIFO " : "", path);
    f->last_data_ms = smg_fifo_now_ms();
    rc = smg_stream_open_custom(f, fifo_read, fifo_free, name, out, err);
    if (rc == SMG_OK)
        f->name = smg_stream_name(*out);
out:
    if (rc != SMG_OK)
        fifo_free(f);
    return rc;
}

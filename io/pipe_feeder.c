/*
 * The Pipe feeder behind `smalgo pipe`: see pipe_feeder.h for the contract.
 *
 * One thread per channel runs serve_channel(); they share nothing but the
 * options and the stop flag. Each write path returns WRITE_OK, WRITE_EPIPE
 * (the reader closed early: end of epoch, not an error) or an SMG_ status.
 */
#include "io/pipe_feeder.h"

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
#include "io/fifo.h"
#include "io/file_list.h"
#include "io/gzip.h"
#include "io/recordio.h"
#include "io/s3/s3_uri.h"

#define CHUNK       ((size_t)1 << 20)
#define TICK_MS     100
#define WRITE_EPIPE 1

struct worker {
    const struct smg_pipe_options *o;
    const struct smg_pipe_channel_spec *spec;
    pthread_t thread;
    char path[4096]; /* the FIFO currently created, "" if none */
    unsigned char *buf;
    int rc;
    struct smg_error err;
};

static bool stopping(const struct worker *w)
{
    return w->o->stop != NULL && *w->o->stop;
}

static void remove_fifo(struct worker *w)
{
    if (w->path[0] != '\0')
        (void)unlink(w->path);
    w->path[0] = '\0';
}

/* Wait until fd is writable, the reader is gone, or stop. */
static int wait_writable(struct worker *w, int fd)
{
    for (;;) {
        struct pollfd p = {fd, POLLOUT, 0};
        int n = poll(&p, 1, TICK_MS);
        if (n > 0)
            return SMG_OK; /* POLLOUT, or POLLERR when the reader left: write() says which */
        if (stopping(w))
            return SMG_ESTOPPED;
    }
}

static int write_all(struct worker *w, int fd, const void *buf, size_t len)
{
    const unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && errno == EPIPE) {
            return WRITE_EPIPE;
        } else if (n < 0 && errno == EAGAIN) {
            int rc = wait_writable(w, fd);
            if (rc != SMG_OK)
                return rc;
        } else if (n < 0 && errno != EINTR) {
            return smg_error_set(&w->err, SMG_EIO, "write to %s failed: %s", w->path,
                                 strerror(errno));
        }
    }
    return SMG_OK;
}

/* A plain file, page cache to pipe with splice(); read/write if splice is refused. */
static int send_plain(struct worker *w, int fd, const char *file, uint64_t *sent)
{
    int in = open(file, O_RDONLY | O_CLOEXEC);
    int rc = SMG_OK;
    bool use_splice = true;

    if (in < 0)
        return smg_error_set(&w->err, SMG_EIO, "cannot open %s: %s", file, strerror(errno));
    (void)posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
    for (;;) {
        ssize_t n;
        if (use_splice) {
            n = splice(in, NULL, fd, NULL, CHUNK, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n < 0 && (errno == EINVAL || errno == ENOSYS)) {
                use_splice = false;
                continue;
            }
            if (n < 0 && errno == EAGAIN) {
                if ((rc = wait_writable(w, fd)) != SMG_OK)
                    break;
                continue;
            }
            if (n < 0 && errno == EPIPE) {
                rc = WRITE_EPIPE;
                break;
            }
        } else {
            n = read(in, w->buf, CHUNK);
            if (n > 0 && (rc = write_all(w, fd, w->buf, (size_t)n)) != SMG_OK)
                break;
        }
        if (n == 0)
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = smg_error_set(&w->err, SMG_EIO, "reading %s failed: %s", file, strerror(errno));
            break;
        }
        *sent += (uint64_t)n;
        if (stopping(w)) {
            rc = SMG_ESTOPPED;
            break;
        }
    }
    close(in);
    return rc;
}

/* A file through gzip detection: inflated if gzip, as is otherwise. */
static int open_inflating(struct worker *w, const char *file, struct smg_stream **s)
{
    struct smg_stream *raw;
    int rc = smg_file_open_sequential(file, &raw, &w->err);

    if (rc != SMG_OK)
        return rc;
    return smg_gzip_detect(raw, s, NULL, &w->err);
}

/* A file through a stream: inflated (--gunzip), or as it is (an s3:// object). */
static int send_stream(struct worker *w, int fd, const char *file, bool inflate, uint64_t *sent)
{
    struct smg_stream *s = NULL;
    int rc = inflate ? open_inflating(w, file, &s) : smg_file_open_sequential(file, &s, &w->err);

    while (rc == SMG_OK) {
        size_t got;
        if ((rc = smg_stream_read(s, w->buf, CHUNK, &got, &w->err)) != SMG_OK || got == 0)
            break;
        rc = write_all(w, fd, w->buf, got);
        *sent += got;
        if (rc == SMG_OK && stopping(w))
            rc = SMG_ESTOPPED;
    }
    smg_stream_free(s);
    return rc;
}

static int write_header(struct worker *w, int fd, unsigned flag, size_t len)
{
    uint8_t h[SMG_RECORDIO_HEADER_BYTES];

    smg_recordio_header(h, (uint32_t)len, flag);
    return write_all(w, fd, h, sizeof(h));
}

/* One whole file as one RecordIO record, split at magic words as dmlc does. */
static int send_wrapped(struct worker *w, int fd, const char *file, uint64_t *sent)
{
    static const unsigned char zeros[4] = {0, 0, 0, 0};
    struct smg_stream *s = NULL;
    unsigned char *data = NULL;
    size_t len = 0, cap = 0, dptr = 0;
    int rc =
        w->o->gunzip ? open_inflating(w, file, &s) : smg_file_open_sequential(file, &s, &w->err);

    while (rc == SMG_OK) {
        size_t got;
        if (len == SMG_RECORDIO_MAX_LENGTH) { /* full: only the end of the file may follow */
            unsigned char extra;
            if ((rc = smg_stream_read(s, &extra, 1, &got, &w->err)) == SMG_OK && got > 0)
                rc = smg_error_set(&w->err, SMG_EFORMAT,
                                   "%s: too large to wrap in one RecordIO record (%lu bytes max)",
                                   file, (unsigned long)SMG_RECORDIO_MAX_LENGTH);
            break;
        }
        if (len == cap) {
            unsigned char *p;
            cap = cap ? cap * 2 : CHUNK;
            if (cap > SMG_RECORDIO_MAX_LENGTH)
                cap = SMG_RECORDIO_MAX_LENGTH;
            if ((p = smg_realloc(data, cap)) == NULL) {
                rc = smg_error_set(&w->err, SMG_ENOMEM, "out of memory wrapping %s", file);
                break;
            }
            data = p;
        }
        if ((rc = smg_stream_read(s, data + len, cap - len, &got, &w->err)) != SMG_OK || got == 0)
            break;
        len += got;
    }
    smg_stream_free(s);
    for (size_t i = 0; rc == SMG_OK && i + 4 <= len; i += 4) {
        if (!smg_recordio_is_magic(data + i))
            continue;
        if ((rc = write_header(w, fd,
                               dptr == 0 ? SMG_RECORDIO_CFLAG_FIRST : SMG_RECORDIO_CFLAG_MIDDLE,
                               i - dptr)) == SMG_OK)
            rc = write_all(w, fd, data + dptr, i - dptr);
        dptr = i + 4;
    }
    if (rc == SMG_OK &&
        (rc = write_header(w, fd, dptr != 0 ? SMG_RECORDIO_CFLAG_LAST : SMG_RECORDIO_CFLAG_WHOLE,
                           len - dptr)) == SMG_OK)
        rc = write_all(w, fd, data + dptr, len - dptr);
    if (rc == SMG_OK && len % 4 != 0)
        rc = write_all(w, fd, zeros, 4 - len % 4);
    if (rc == SMG_OK)
        *sent += len;
    smg_free(data);
    return rc;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* The epoch's file order: identity, or a seeded Fisher-Yates shuffle. */
static void epoch_order(const struct smg_pipe_options *o, unsigned long epoch, size_t *order,
                        size_t n)
{
    uint64_t state = o->seed ^ (0xD1B54A32D192ED03ULL * (epoch + 1));

    for (size_t i = 0; i < n; i++)
        order[i] = i;
    if (!o->shuffle)
        return;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(splitmix64(&state) % i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

/* Open the write end once a reader is there. SMG_ETIMEOUT if none came. */
static int open_writer(struct worker *w, int *fd)
{
    long long deadline = w->o->open_timeout_ms > 0 ? smg_fifo_now_ms() + w->o->open_timeout_ms : -1;
    long backoff = 1;

    for (;;) {
        *fd = open(w->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (*fd >= 0)
            break;
        if (errno != ENXIO && errno != EINTR)
            return smg_error_set(&w->err, SMG_EIO, "cannot open FIFO %s for writing: %s", w->path,
                                 strerror(errno));
        if (stopping(w))
            return SMG_ESTOPPED;
        if (deadline >= 0 && smg_fifo_now_ms() >= deadline)
            return SMG_ETIMEOUT;
        struct timespec ts = {0, backoff * 1000000L};
        nanosleep(&ts, NULL);
        backoff = backoff * 2 > 20 ? 20 : backoff * 2;
    }
    (void)fcntl(*fd, F_SETPIPE_SZ, SMG_FIFO_PIPE_SIZE);
    return SMG_OK;
}

static int serve_epoch(struct worker *w, const struct smg_file_list *files, size_t *order,
                       unsigned long epoch)
{
    const struct smg_pipe_options *o = w->o;
    uint64_t sent = 0;
    size_t nfiles = 0;
    int fd = -1, rc;
    bool early = false;

    snprintf(w->path, sizeof(w->path), "%s/%s_%lu", o->dir, w->spec->name, epoch);
    (void)unlink(w->path);
    if (mkfifo(w->path, 0660) != 0) {
        rc = smg_error_set(&w->err, SMG_EIO, "cannot create FIFO %s: %s", w->path, strerror(errno));
        w->path[0] = '\0';
        return rc;
    }
    if ((rc = open_writer(w, &fd)) != SMG_OK)
        goto out;
    epoch_order(o, epoch, order, files->count);
    for (size_t j = 0; j < files->count && rc == SMG_OK; j++) {
        const char *file = files->paths[order[j]];
        if (o->host_count > 1 && j % (size_t)o->host_count != (size_t)o->host_index)
            continue;
        if (o->recordio_wrap)
            rc = send_wrapped(w, fd, file, &sent);
        else if (o->gunzip || smg_s3_is_uri(file))
            rc = send_stream(w, fd, file, o->gunzip, &sent);
        else
            rc = send_plain(w, fd, file, &sent);
        nfiles++;
    }
    if (rc == WRITE_EPIPE) {
        early = true;
        rc = SMG_OK;
    }
    if (!o->quiet && rc == SMG_OK)
        fprintf(stderr, "smalgo pipe: %s epoch %lu: %ju bytes from %zu files%s\n", w->spec->name,
                epoch, (uintmax_t)sent, nfiles, early ? " (reader closed early)" : "");
out:
    if (fd >= 0)
        close(fd);
    remove_fifo(w);
    return rc;
}

static void *serve_channel(void *arg)
{
    struct worker *w = arg;
    const struct smg_pipe_options *o = w->o;
    struct smg_file_list files = {NULL, 0};
    size_t *order = NULL;
    int rc;

    if ((rc = smg_file_list_scan(w->spec->source, &files, &w->err)) != SMG_OK)
        goto out;
    if ((order = smg_calloc(files.count + 1, sizeof(*order))) == NULL ||
        (w->buf = smg_malloc(CHUNK)) == NULL) {
        rc = smg_error_set(&w->err, SMG_ENOMEM, "out of memory");
        goto out;
    }
    for (unsigned long e = 0; o->epochs < 0 || e < (unsigned long)o->epochs; e++) {
        rc = serve_epoch(w, &files, order, e);
        if (rc == SMG_ETIMEOUT) {
            if (o->epochs < 0 && e > 0) {
                rc = SMG_OK; /* the reader is done with this channel */
                break;
            } else {
                rc = smg_error_set(&w->err, SMG_ETIMEOUT,
                                   "no reader opened FIFO %s/%s_%lu within %g s", o->dir,
                                   w->spec->name, e, o->open_timeout_ms / 1000.0);
            }
        }
        if (rc != SMG_OK)
            break;
    }
out:
    if (rc == SMG_ESTOPPED)
        rc = SMG_OK;
    if (rc != SMG_OK)
        smg_error_prefix(&w->err, "channel %s: ", w->spec->name);
    w->rc = rc;
    remove_fifo(w);
    smg_free(order);
    smg_free(w->buf);
    w->buf = NULL;
    smg_file_list_clear(&files);
    return NULL;
}

enum smg_status smg_pipe_feeder_run(const struct smg_pipe_options *opts, struct smg_error *err)
{
    struct worker *workers = smg_calloc(opts->n_channels, sizeof(*workers));
    int rc = SMG_OK;
    size_t started = 0;

    if (workers == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory");
    for (size_t i = 0; i < opts->n_channels; i++) {
        workers[i].o = opts;
        workers[i].spec = &opts->channels[i];
        if (pthread_create(&workers[i].thread, NULL, serve_channel, &workers[i]) != 0) {
            rc = smg_error_set(err, SMG_EINTERNAL, "cannot start a thread: %s", strerror(errno));
            if (opts->stop != NULL)
                *opts->stop = 1;
            break;
        }
        started++;
    }
    for (size_t i = 0; i < started; i++) {
        pthread_join(workers[i].thread, NULL);
        if (rc == SMG_OK && workers[i].rc != SMG_OK) {
            rc = workers[i].rc;
            smg_error_set_class(err, rc, workers[i].err.klass, "%s", workers[i].err.msg);
        }
    }
    smg_free(workers);
    return rc;
}

/*
 * struct smg_stream back ends: file descriptor, memory buffer and callbacks.
 * One struct with a read function pointer; the offset is kept here so every
 * back end reports positions the same way, and the time spent reading (the
 * I/O wait a job's stage split reports).
 */
#include "io/stream.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/base/alloc.h"

struct smg_stream {
    char *name;
    uint64_t offset;
    double read_s; /* wall seconds inside read_fn */
    smg_stream_read_fn read_fn;
    smg_stream_free_fn free_fn;
    void *ctx;
    /* fd back end */
    int fd;
    bool owns_fd;
    /* memory back end */
    const unsigned char *mem;
    size_t mem_len;
    size_t mem_pos;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int fd_read(void *ctx, void *dst, size_t cap, size_t *got, struct smg_error *err)
{
    struct smg_stream *s = ctx;
    ssize_t n;

    do {
        n = read(s->fd, dst, cap);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        *got = 0;
        return smg_error_set(err, SMG_EIO, "%s: read failed at byte %ju: %s", s->name,
                             (uintmax_t)s->offset, strerror(errno));
    }
    *got = (size_t)n;
    return SMG_OK;
}

static int mem_read(void *ctx, void *dst, size_t cap, size_t *got, struct smg_error *err)
{
    struct smg_stream *s = ctx;
    size_t left = s->mem_len - s->mem_pos;
    size_t n = cap < left ? cap : left;

    (void)err;
    if (n > 0)
        memcpy(dst, s->mem + s->mem_pos, n);
    s->mem_pos += n;
    *got = n;
    return SMG_OK;
}

static int stream_new(const char *name, struct smg_stream **out, struct smg_error *err)
{
    struct smg_stream *s = smg_calloc(1, sizeof(*s));

    if (s == NULL || (s->name = smg_strdup(name != NULL ? name : "<stream>")) == NULL) {
        smg_free(s);
        return smg_error_set(err, SMG_ENOMEM, "out of memory opening stream");
    }
    s->fd = -1;
    *out = s;
    return SMG_OK;
}

enum smg_status smg_stream_open_fd(int fd, const char *name, bool owns_fd, struct smg_stream **out,
                                   struct smg_error *err)
{
    int rc = stream_new(name, out, err);
    if (rc != SMG_OK)
        return rc;
    (*out)->fd = fd;
    (*out)->owns_fd = owns_fd;
    (*out)->read_fn = fd_read;
    (*out)->ctx = *out;
    return SMG_OK;
}

enum smg_status smg_stream_open_memory(const void *buf, size_t len, const char *name,
                                       struct smg_stream **out, struct smg_error *err)
{
    int rc = stream_new(name != NULL ? name : "<memory>", out, err);
    if (rc != SMG_OK)
        return rc;
    (*out)->mem = buf;
    (*out)->mem_len = len;
    (*out)->read_fn = mem_read;
    (*out)->ctx = *out;
    return SMG_OK;
}

enum smg_status smg_stream_open_custom(void *ctx, smg_stream_read_fn read_fn,
                                       smg_stream_free_fn free_fn, const char *name,
                                       struct smg_stream **out, struct smg_error *err)
{
    int rc = stream_new(name, out, err);
    if (rc != SMG_OK)
        return rc;
    (*out)->read_fn = read_fn;
    (*out)->free_fn = free_fn;
    (*out)->ctx = ctx;
    return SMG_OK;
}

enum smg_status smg_stream_read(struct smg_stream *s, void *dst, size_t cap, size_t *got,
                                struct smg_error *err)
{
    double t0;
    int rc;

    *got = 0;
    if (cap == 0)
        return SMG_OK;
    t0 = mono_s();
    rc = s->read_fn(s->ctx, dst, cap, got, err);
    s->read_s += mono_s() - t0;
    if (rc == SMG_OK)
        s->offset += *got;
    return rc;
}

enum smg_status smg_stream_read_full(struct smg_stream *s, void *dst, size_t cap, size_t *got,
                                     struct smg_error *err)
{
    size_t total = 0;

    while (total < cap) {
        size_t n;
        int rc = smg_stream_read(s, (unsigned char *)dst + total, cap - total, &n, err);
        if (rc != SMG_OK) {
            *got = total;
            return rc;
        }
        if (n == 0)
            break;
        total += n;
    }
    *got = total;
    return SMG_OK;
}

const char *smg_stream_name(const struct smg_stream *s)
{
    return s->name;
}

double smg_stream_read_seconds(const struct smg_stream *s)
{
    return s->read_s;
}

uint64_t smg_stream_offset(const struct smg_stream *s)
{
    return s->offset;
}

void smg_stream_free(struct smg_stream *s)
{
    if (s == NULL)
        return;
    if (s->free_fn != NULL)
        s->free_fn(s->ctx);
    if (s->owns_fd && s->fd >= 0)
        close(s->fd);
    smg_free(s->name);
    smg_free(s);
}

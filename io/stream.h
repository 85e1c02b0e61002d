/*
 * A pull-based byte source: a file or FIFO descriptor, or a memory buffer.
 *
 * Parsers (recordio, csv) read from a struct smg_stream and never care where the
 * bytes come from. Filters such as gzip inflation wrap one stream in another.
 * Every stream has a name (file path, "FIFO /opt/ml/input/data/train_0", or
 * "<memory>") and a count of bytes delivered so far, which errors quote as the
 * byte offset.
 */
#ifndef SMG_STREAM_H
#define SMG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/base/status.h"

struct smg_stream;

/* Read from fd. When owns_fd, smg_stream_free closes it. name is copied. */
SMG_MUST_CHECK enum smg_status smg_stream_open_fd(int fd, const char *name, bool owns_fd,
                                                  struct smg_stream **out, struct smg_error *err);

/* Read from memory; buf must outlive the stream (it is not copied). */
SMG_MUST_CHECK enum smg_status smg_stream_open_memory(const void *buf, size_t len, const char *name,
                                                      struct smg_stream **out,
                                                      struct smg_error *err);

/*
 * Generic stream over callbacks, for filters (gzip) and tests. read_fn returns
 * a status and sets *got; *got == 0 with SMG_OK means end of stream. free_fn
 * (may be NULL) releases ctx.
 */
typedef int (*smg_stream_read_fn)(void *ctx, void *dst, size_t cap, size_t *got,
                                  struct smg_error *err);
typedef void (*smg_stream_free_fn)(void *ctx);
SMG_MUST_CHECK enum smg_status smg_stream_open_custom(void *ctx, smg_stream_read_fn read_fn,
                                                      smg_stream_free_fn free_fn, const char *name,
                                                      struct smg_stream **out,
                                                      struct smg_error *err);

/*
 * Read up to cap bytes into dst. SMG_OK with *got == 0 means end of stream;
 * a short read is not the end. Interrupted reads (EINTR) are retried.
 */
SMG_MUST_CHECK enum smg_status smg_stream_read(struct smg_stream *s, void *dst, size_t cap,
                                               size_t *got, struct smg_error *err);

/* Read exactly cap bytes unless the stream ends first; *got tells how many. */
SMG_MUST_CHECK enum smg_status smg_stream_read_full(struct smg_stream *s, void *dst, size_t cap,
                                                    size_t *got, struct smg_error *err);

const char *smg_stream_name(const struct smg_stream *s);
uint64_t smg_stream_offset(const struct smg_stream *s); /* bytes delivered so far */
/* Wall seconds spent in this stream's reads so far (waiting for I/O, copying). */
double smg_stream_read_seconds(const struct smg_stream *s);
void smg_stream_free(struct smg_stream *s); /* accepts NULL */

#endif

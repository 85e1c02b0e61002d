/*
 * A growable byte buffer with a hard cap, the one every smalgo library uses
 * where output or input grows by pieces (HTTP bodies, encoded records, text
 * lines, JSON documents).
 *
 * The buffer doubles its capacity as it grows, never past `max` bytes, and
 * always keeps one spare byte after the data so that it can be NUL-terminated
 * for string callers. Growing past the cap is SMG_ENOMEM with nothing changed,
 * so a caller can turn it into a precise error ("request larger than N MB").
 * The memory comes from smg_realloc, so allocation-failure injection reaches it.
 */
#ifndef SMG_BUFFER_H
#define SMG_BUFFER_H

#include <stdarg.h>
#include <stddef.h>

#include "io/base/status.h"

struct smg_buf {
    char *data; /* len bytes, then a NUL; NULL until the first growth */
    size_t len;
    size_t cap; /* bytes allocated */
    size_t max; /* len may never exceed this */
};

/* An empty buffer that may hold up to max bytes. No allocation. */
void smg_buf_init(struct smg_buf *b, size_t max);
/* Release the memory and leave b empty, keeping max. Accepts NULL. */
void smg_buf_free(struct smg_buf *b);
/* Forget the content, keep the memory. */
void smg_buf_reset(struct smg_buf *b);

/* Make room for `more` bytes past len (plus the NUL). SMG_ENOMEM past max. */
SMG_MUST_CHECK enum smg_status smg_buf_reserve(struct smg_buf *b, size_t more);
/* Append n bytes (n may be 0; p may then be NULL). */
SMG_MUST_CHECK enum smg_status smg_buf_append(struct smg_buf *b, const void *p, size_t n);
/* Append a NUL-terminated string. */
SMG_MUST_CHECK enum smg_status smg_buf_append_str(struct smg_buf *b, const char *s);
/* Append printf-style text. */
SMG_MUST_CHECK enum smg_status smg_buf_printf(struct smg_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Hand the data to the caller (smg_free it; NUL-terminated) and leave b empty. */
char *smg_buf_take(struct smg_buf *b, size_t *len);

#endif

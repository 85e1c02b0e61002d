/*
 * Gzip inflation as a struct smg_stream filter, and detection by magic bytes.
 *
 * smg_gzip_open wraps a stream of gzip bytes in a stream of inflated bytes
 * (zlib, inflateInit2 with MAX_WBITS + 32, so gzip and zlib headers are both
 * accepted; concatenated gzip members, as `cat a.gz b.gz` produces, are read
 * one after the other via inflateReset). A corrupt or truncated gzip stream is
 * an SMG_EFORMAT error naming the stream and the compressed byte offset.
 *
 * smg_gzip_detect peeks the first two bytes of a stream: gzip (1f 8b) gets the
 * inflating filter, anything else a pass-through that replays the peeked bytes,
 * so callers never need to know which they got. Data arriving in a channel is
 * run through it in File and Pipe mode alike.
 *
 * Offsets reported by the outer stream count inflated bytes; messages from the
 * filter itself quote the compressed offset.
 */
#ifndef SMG_GZIP_H
#define SMG_GZIP_H

#include <stdbool.h>

#include "io/base/status.h"
#include "io/stream.h"

/*
 * A stream of the inflated contents of inner. When owns_inner, freeing the
 * result frees inner too. The name is inner's name.
 */
SMG_MUST_CHECK enum smg_status smg_gzip_open(struct smg_stream *inner, bool owns_inner,
                                             struct smg_stream **out, struct smg_error *err);

/*
 * Peek at inner's first two bytes and return a stream that yields its
 * contents, inflated when they are gzip. *out takes ownership of inner in
 * every case, also on error (inner is then freed). *was_gzip (may be NULL)
 * tells which it was.
 */
SMG_MUST_CHECK enum smg_status smg_gzip_detect(struct smg_stream *inner, struct smg_stream **out,
                                               bool *was_gzip, struct smg_error *err);

#endif

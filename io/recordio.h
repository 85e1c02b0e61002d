/*
 * RecordIO framing (dmlc / MXNet), as SageMaker's recordIO-protobuf uses it.
 *
 * A stream is a sequence of records, each laid out as
 *
 *     offset  size  field
 *     0       4     magic   0xced7230a, little-endian (on disk: 0a 23 d7 ce)
 *     4       4     lrecord = (cflag << 29) | length, little-endian
 *     8       len   payload
 *     8+len   pad   zero bytes up to a multiple of 4 (pad = (4 - len % 4) % 4)
 *
 * cflag 0 is a complete record. dmlc's writer splits a payload that contains
 * the magic at a 4-aligned offset into parts: cflag 1 (first), 2 (middle,
 * any number), 3 (last), dropping each of those magic words; the reader joins
 * the parts and re-inserts the magic between them. The SageMaker SDK never
 * splits, but dmlc-produced files may.
 *
 * The reader pulls large chunks (1 MiB) from a struct smg_stream into one
 * buffer and hands out payloads as pointers into that buffer (zero-copy) when
 * the record is complete; multi-part records are joined in a second buffer.
 * A length (or joined length) above max_record_bytes is an error, never an
 * allocation. Every error names the stream, the record index (0-based count
 * of logical records) and the byte offset of the offending header.
 */
#ifndef SMG_RECORDIO_H
#define SMG_RECORDIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "io/base/status.h"
#include "io/stream.h"

#define SMG_RECORDIO_MAGIC      0xced7230aU
#define SMG_RECORDIO_MAX_LENGTH (((size_t)1 << 29) - 1)

struct smg_recordio_reader;

/* The reader borrows s. max_record_bytes 0 means SMG_RECORDIO_MAX_LENGTH. */
int smg_recordio_reader_new(struct smg_stream *s, size_t max_record_bytes,
                            struct smg_recordio_reader **out, struct smg_error *err);

/*
 * The next logical record. SMG_OK: *data and *len hold its payload, valid until
 * the next call or free. SMG_EEOF: the stream ended cleanly between records.
 * SMG_EFORMAT: bad magic, truncated header/payload/padding, a length over the
 * maximum, a broken multi-part sequence (message says which). SMG_EIO from
 * the stream. After an error the reader stays in error.
 */
int smg_recordio_next(struct smg_recordio_reader *r, const uint8_t **data, size_t *len,
                      struct smg_error *err);

/* Index and header byte offset of the record last returned (for messages). */
uint64_t smg_recordio_index(const struct smg_recordio_reader *r);
uint64_t smg_recordio_offset(const struct smg_recordio_reader *r);
const char *smg_recordio_name(const struct smg_recordio_reader *r);
void smg_recordio_reader_free(struct smg_recordio_reader *r); /* accepts NULL */

/* The 8-byte header for a complete (cflag 0) record of len bytes. */
void smg_recordio_header(uint8_t hdr[8], uint32_t len, unsigned cflag);

/* Padding after a payload of len bytes (0..3). */
static inline size_t smg_recordio_pad(size_t len)
{
    return (4 - (len & 3)) & 3;
}

/*
 * Write one complete record (header, payload, zero padding) to f, as the SDK's
 * _write_recordio does (never split). SMG_EIO on a write error, SMG_EFORMAT
 * if len does not fit in 29 bits.
 */
int smg_recordio_write(FILE *f, const void *data, size_t len, struct smg_error *err);

#endif

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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "io/base/status.h"
#include "io/stream.h"

#define SMG_RECORDIO_MAGIC      0xced7230aU
#define SMG_RECORDIO_MAX_LENGTH (((size_t)1 << 29) - 1)

struct smg_recordio_reader;

/* The reader borrows s. max_record_bytes 0 means SMG_RECORDIO_MAX_LENGTH. */
SMG_MUST_CHECK enum smg_status smg_recordio_reader_new(struct smg_stream *s,
                                                       size_t max_record_bytes,
                                                       struct smg_recordio_reader **out,
                                                       struct smg_error *err);

/*
 * The next logical record. SMG_OK: *data and *len hold its payload, valid until
 * the next call or free. SMG_EEOF: the stream ended cleanly between records.
 * SMG_EFORMAT: bad magic, truncated header/payload/padding, a length over the
 * maximum, a broken multi-part sequence (message says which). SMG_EIO from
 * the stream. After an error the reader stays in error.
 */
SMG_MUST_CHECK enum smg_status smg_recordio_next(struct smg_recordio_reader *r,
                                                 const uint8_t **data, size_t *len,
                                                 struct smg_error *err);

/*
 * smg_recordio_next without reading: true, with *data and *len, when the next
 * record is whole (cflag 0, length within the maximum) and already buffered,
 * so no earlier payload pointer is invalidated; false (nothing consumed)
 * otherwise, and after an error: then smg_recordio_next reads, or reports.
 */
bool smg_recordio_next_buffered(struct smg_recordio_reader *r, const uint8_t **data, size_t *len);

/* One record framed in place: payload, length, index and header byte offset. */
struct smg_recordio_rec {
    const uint8_t *data;
    size_t len;
    uint64_t index, offset;
};

/*
 * Up to max records taken at once, exactly those that max calls of
 * smg_recordio_next_buffered would hand out (in order, stopping at the first
 * it would refuse): how many. For framing many small records in one call.
 */
size_t smg_recordio_take_buffered(struct smg_recordio_reader *r, struct smg_recordio_rec *out,
                                  size_t max);

/* Index and header byte offset of the record last returned (for messages). */
uint64_t smg_recordio_index(const struct smg_recordio_reader *r);
uint64_t smg_recordio_offset(const struct smg_recordio_reader *r);
const char *smg_recordio_name(const struct smg_recordio_reader *r);
void smg_recordio_reader_free(struct smg_recordio_reader *r); /* accepts NULL */

/* Header size, the cflag values and the largest length the 29-bit field holds. */
#define SMG_RECORDIO_HEADER_BYTES 8
#define SMG_RECORDIO_CFLAG_WHOLE  0U
#define SMG_RECORDIO_CFLAG_FIRST  1U
#define SMG_RECORDIO_CFLAG_MIDDLE 2U
#define SMG_RECORDIO_CFLAG_LAST   3U

/*
 * Write the 8-byte header of one part: the magic, then (cflag << 29) | len,
 * both little-endian. Every recordIO writer in smalgo goes through here (the
 * SDK-style writer below, inference responses, `smalgo pipe --recordio-wrap`).
 * len must fit in 29 bits and cflag in 0..3 (programmer errors).
 */
void smg_recordio_header(uint8_t hdr[8], uint32_t len, unsigned cflag);

/*
 * Read and check the 8-byte header at hdr: the magic, and a continuation flag
 * in 0..3. SMG_OK fills *len and *cflag. SMG_EFORMAT names what was wrong
 * ("bad magic 0x04030201 (expected 0xced7230a): not RecordIO") without a
 * location: the caller prefixes stream, record and byte offset. The length is
 * not checked against any maximum here.
 */
SMG_MUST_CHECK enum smg_status smg_recordio_header_parse(const uint8_t hdr[8], size_t *len,
                                                         unsigned *cflag, struct smg_error *err);

/* Whether the 4 bytes at p are the magic as it lies on disk (dmlc splits records there). */
static inline bool smg_recordio_is_magic(const uint8_t p[4])
{
    return ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24) ==
           SMG_RECORDIO_MAGIC;
}

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
SMG_MUST_CHECK enum smg_status smg_recordio_write(FILE *f, const void *data, size_t len,
                                                  struct smg_error *err);

#endif

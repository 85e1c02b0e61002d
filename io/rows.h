/*
 * Format decoding: turn a byte stream of recordIO-protobuf or CSV into dense
 * float32 rows of exactly feature_dim features.
 *
 * A struct smg_row_reader sits on one struct smg_stream (one file, or one
 * epoch's FIFO) and hands out rows in bulk. It owns no I/O policy: which files,
 * which FIFO, how many ranks, is the channel's business (channel.h).
 *
 * Errors name the stream, the record index (recordIO) or line number (CSV),
 * and the byte offset, e.g.
 *   "train/part-0.pbr: record 17 at byte 1024: 15 features, expected 16 (feature_dim)"
 */
#ifndef SMG_ROWS_H
#define SMG_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/base/status.h"
#include "io/csr_buf.h"
#include "io/stream.h"

/*
 * The row readers this file implements. A training content type names the one
 * it is read with in its codec (codec.h, field `rows`), so this is not a list
 * of content types: aliases and future types share these readers. Zero is
 * recordIO-protobuf so that a zeroed struct smg_format reads SageMaker's
 * default training format.
 */
enum smg_row_kind {
    SMG_ROWS_RECORDIO_PROTOBUF = 0, /* recordIO framing, one aialgs.data.Record per row */
    SMG_ROWS_CSV = 1,               /* comma-separated lines, optional label columns */
    SMG_ROWS_NONE = 2               /* a codec that is not a training format */
};

/* Records longer than this are rejected as malformed unless configured otherwise. */
#define SMG_DEFAULT_MAX_RECORD_BYTES ((size_t)64 << 20)

struct smg_format {
    enum smg_row_kind rows;  /* the reader, from the content type's codec */
    size_t feature_dim;      /* every row must have exactly this many features */
    size_t label_size;       /* CSV: leading label columns to drop (content-type label_size) */
    bool recordio_wrapped;   /* CSV under RecordWrapperType=RecordIO: each record is a CSV object */
    size_t max_record_bytes; /* 0 means SMG_DEFAULT_MAX_RECORD_BYTES */
};

/*
 * Parse a content type such as "text/csv;label_size=0" or
 * "application/x-recordio-protobuf" into fmt->rows (the row reader named by the
 * type's codec) and fmt->label_size (other fields untouched), through
 * media_type.h's table (SMG_MEDIA_TRAIN rows).
 * NULL or "" means recordIO-protobuf. Unknown types, a label_size that is not
 * a number or given to a type whose codec takes no label columns, and a
 * parameter without '=' are SMG_ECONFIG errors naming the content type and the
 * supported ones.
 */
SMG_MUST_CHECK enum smg_status smg_format_parse_content_type(const char *content_type,
                                                             struct smg_format *fmt,
                                                             struct smg_error *err);

struct smg_row_reader;

/* The reader borrows s; the caller frees s after the reader. */
SMG_MUST_CHECK enum smg_status smg_row_reader_new(struct smg_stream *s,
                                                  const struct smg_format *fmt,
                                                  struct smg_row_reader **out,
                                                  struct smg_error *err);

/*
 * Decode up to max_rows rows into out (max_rows * feature_dim floats).
 * SMG_OK with *got == 0 means the stream ended cleanly. A stream that ends
 * inside a record is an SMG_EFORMAT error ("truncated record ..."), as are NaN
 * and infinite features, a wrong feature count, and a sparse key outside shape.
 */
SMG_MUST_CHECK enum smg_status smg_row_reader_next(struct smg_row_reader *r, float *out,
                                                   size_t max_rows, size_t *got,
                                                   struct smg_error *err);

/*
 * recordIO-protobuf: read the stream's next record without consuming it
 * (the next call of either next function decodes it first) and say whether
 * it holds a sparse tensor (record_decode.h, smg_record_is_sparse). *empty
 * when the stream has no more records. Other row kinds: *sparse false, SMG_OK.
 */
SMG_MUST_CHECK enum smg_status smg_row_reader_peek_sparse(struct smg_row_reader *r, bool *sparse,
                                                          bool *empty, struct smg_error *err);

/*
 * recordIO-protobuf only: append up to max_rows rows to out as CSR rows
 * (smg_record_decode_csr), with the same errors and locations as
 * smg_row_reader_next. SMG_OK with *got == 0 means the stream ended.
 */
SMG_MUST_CHECK enum smg_status smg_row_reader_next_csr(struct smg_row_reader *r,
                                                       struct smg_csr_buf *out, size_t max_rows,
                                                       size_t *got, struct smg_error *err);

/*
 * Framing without decoding, for decoding on several threads (row_spans.h):
 * append up to max_rows rows (where their raw bytes lie in the reader's
 * buffer, and their locations) to out, reading the stream exactly as
 * smg_row_reader_next would. It stops early, with *got > 0, rather than
 * refill a buffer that framed rows point into: those rows are valid until
 * the next call on this reader, so decode them first. SMG_OK with
 * *got == 0 means the stream ended. Framing errors (recordIO framing, a CSV
 * line over max_record_bytes, reading) are those of smg_row_reader_next and
 * come only from a call that framed no row; errors inside a row show when
 * the spans are decoded. Only for readers where smg_row_reader_can_frame
 * holds (recordIO-protobuf and plain CSV; CSV wrapped in RecordIO records
 * is decoded on one thread), else SMG_EINTERNAL.
 */
struct smg_row_spans;
bool smg_row_reader_can_frame(const struct smg_row_reader *r);
SMG_MUST_CHECK enum smg_status smg_row_reader_frame(struct smg_row_reader *r,
                                                    struct smg_row_spans *out, size_t max_rows,
                                                    size_t *got, struct smg_error *err);

uint64_t smg_row_reader_records(const struct smg_row_reader *r); /* rows delivered so far */
void smg_row_reader_free(struct smg_row_reader *r);              /* accepts NULL */

#endif

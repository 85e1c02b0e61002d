/*
 * The framed rows of part of a mini-batch, waiting to be decoded: what lets
 * one thread find row boundaries while several decode.
 *
 * A row reader's framing call (rows.h, smg_row_reader_frame) notes each row
 * it finds in its own read buffer, without copying it: where its raw bytes
 * are (a recordIO-protobuf payload, or a CSV line without its newline) and
 * where it came from: the stream's name, the record index and header byte
 * offset (recordIO) or the 1-based line number (CSV). smg_row_spans_decode
 * then turns any range of those rows into dense float32 rows at fixed
 * offsets of an output buffer, with exactly the bytes and the error messages
 * the row reader's own decoding gives ("<stream>: record N at byte B: ..."
 * and "<stream>: line L, column C: ..."), so ranges decoded on different
 * threads make the same batch.
 *
 * The rows point into the reader's buffer and at the stream's name: they are
 * valid until the next call on that reader (which may refill or move its
 * buffer) and while the stream lives, so the caller decodes and clears them
 * before framing again. Only the row table is allocated; it keeps its
 * capacity from call to call (at most one mini-batch of entries).
 * Decoding only reads the spans, so disjoint ranges may be decoded at once.
 */
#ifndef SMG_ROW_SPANS_H
#define SMG_ROW_SPANS_H

#include <stddef.h>
#include <stdint.h>

#include "io/base/status.h"
#include "io/rows.h"

struct smg_row_span {
    const uint8_t *data; /* the raw row: data[0, len), in the reader's buffer */
    size_t len;
    uint64_t where;   /* recordIO: record index; CSV: line number (1-based) */
    uint64_t byte;    /* recordIO: byte offset of the record's header */
    const char *name; /* the stream's name */
};

struct smg_row_spans {
    enum smg_row_kind kind; /* SMG_ROWS_RECORDIO_PROTOBUF or SMG_ROWS_CSV (unwrapped) */
    size_t feature_dim, label_size;
    struct smg_row_span *rows;
    size_t count, rows_cap;
};

/* An empty set for rows of fmt (its kind, feature_dim and label_size). Allocates nothing. */
void smg_row_spans_init(struct smg_row_spans *sp, const struct smg_format *fmt);

/* Note one raw row (not copied) of the stream named `name`. SMG_ENOMEM. */
SMG_MUST_CHECK enum smg_status smg_row_spans_push(struct smg_row_spans *sp, const void *data,
                                                  size_t len, const char *name, uint64_t where,
                                                  uint64_t byte, struct smg_error *err);

/* Room for `extra` more rows in sp->rows (written by the caller, as push does). SMG_ENOMEM. */
SMG_MUST_CHECK enum smg_status smg_row_spans_reserve(struct smg_row_spans *sp, size_t extra,
                                                     const char *name, struct smg_error *err);

/*
 * Decode rows [begin, end) into out + i * feature_dim for each row i. Stops
 * at the first bad row: *bad receives its index and err the message the row
 * reader would have given; SMG_EFORMAT (or SMG_ENOMEM from the protobuf
 * fallback). Safe to call from several threads at once on disjoint ranges.
 */
SMG_MUST_CHECK enum smg_status smg_row_spans_decode(const struct smg_row_spans *sp, size_t begin,
                                                    size_t end, float *out, size_t *bad,
                                                    struct smg_error *err);

/* Forget the rows; keep the capacity for the next call. */
void smg_row_spans_clear(struct smg_row_spans *sp);
void smg_row_spans_free(struct smg_row_spans *sp); /* releases the table; accepts NULL */

#endif

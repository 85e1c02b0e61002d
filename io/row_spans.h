/*
 * The framed rows of one mini-batch, waiting to be decoded: what lets one
 * thread find row boundaries while several decode.
 *
 * A row reader's framing call (rows.h, smg_row_reader_frame) copies each
 * row's raw bytes (a recordIO-protobuf payload, or a CSV line without its
 * newline) into one arena and notes where the row came from: the stream's
 * name, the record index and header byte offset (recordIO) or the 1-based
 * line number (CSV). smg_row_spans_decode then turns any range of those rows
 * into dense float32 rows at fixed offsets of the batch buffer, with exactly
 * the bytes and the error messages the row reader's own decoding gives
 * ("<stream>: record N at byte B: ..." and "<stream>: line L, column C: ..."),
 * so ranges decoded on different threads make the same batch.
 *
 * Memory: the arena holds one batch of raw rows and keeps its capacity from
 * batch to batch (clear does not free), so a channel holds one such buffer
 * whatever the data size. Names are copied once per source a batch touches.
 * Decoding only reads the spans, so disjoint ranges may be decoded at once.
 */
#ifndef SMG_ROW_SPANS_H
#define SMG_ROW_SPANS_H

#include <stddef.h>
#include <stdint.h>

#include "io/base/status.h"
#include "io/rows.h"

struct smg_row_span {
    size_t off, len; /* the raw row: arena[off, off + len) */
    uint64_t where;  /* recordIO: record index; CSV: line number (1-based) */
    uint64_t byte;   /* recordIO: byte offset of the record's header */
    uint32_t source; /* index into names */
};

struct smg_row_spans {
    enum smg_row_kind kind; /* SMG_ROWS_RECORDIO_PROTOBUF or SMG_ROWS_CSV (unwrapped) */
    size_t feature_dim, label_size;
    uint8_t *arena;
    size_t arena_len, arena_cap;
    struct smg_row_span *rows;
    size_t count, rows_cap;
    char **names;
    size_t nnames, names_cap;
};

/* An empty set for rows of fmt (its kind, feature_dim and label_size). Allocates nothing. */
void smg_row_spans_init(struct smg_row_spans *sp, const struct smg_format *fmt);

/*
 * Rows pushed from now on come from the stream named `name` (copied, unless
 * it is the current one already). SMG_ENOMEM.
 */
SMG_MUST_CHECK enum smg_status smg_row_spans_source(struct smg_row_spans *sp, const char *name,
                                                    struct smg_error *err);

/* Append one raw row (copied) from the current source. SMG_ENOMEM. */
SMG_MUST_CHECK enum smg_status smg_row_spans_push(struct smg_row_spans *sp, const void *data,
                                                  size_t len, uint64_t where, uint64_t byte,
                                                  struct smg_error *err);

/*
 * Decode rows [begin, end) into out + i * feature_dim for each row i (out is
 * the whole batch's buffer). Stops at the first bad row: *bad receives its
 * index and err the message the row reader would have given; SMG_EFORMAT (or
 * SMG_ENOMEM from the protobuf fallback). Safe to call from several threads
 * at once on disjoint ranges.
 */
SMG_MUST_CHECK enum smg_status smg_row_spans_decode(const struct smg_row_spans *sp, size_t begin,
                                                    size_t end, float *out, size_t *bad,
                                                    struct smg_error *err);

/* Forget the rows and names; keep the capacity for the next batch. */
void smg_row_spans_clear(struct smg_row_spans *sp);
void smg_row_spans_free(struct smg_row_spans *sp); /* releases everything; accepts NULL */

#endif

/*
 * What the codec files (codec.h) share, so each codec stays a short file:
 *
 *   - codec_rows.c: request bodies read with the training row readers
 *     (rows.h) over a memory stream, so CSV and recordIO requests are decoded
 *     by exactly the code that reads training data; codec_rows_csr.c the
 *     same for sparse recordIO bodies, into CSR rows;
 *   - codec_json_instance.c: one JSON instance ({"features": [...]}, the
 *     dense or sparse {"data": {"features": {...}}} form, or a bare row) into
 *     one row, shared by application/json and application/jsonlines;
 *   - codec_text.c: the number and JSON-object writers of the text responses.
 *
 * Only codec files include this header.
 */
#ifndef SMG_CODEC_UTIL_H
#define SMG_CODEC_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/buffer.h"
#include "io/base/status.h"
#include "io/csr_buf.h"
#include "io/infer_response.h"
#include "io/rows.h"

/*
 * Decode body with the row reader of kind, dropping label_size leading
 * columns (CSV). initial_rows is the first allocation's row count (the caller's
 * guess, at least 1); the matrix doubles from there up to max_rows. No rows is
 * SMG_EFORMAT "request body has no rows"; reader errors name "request body".
 */
SMG_MUST_CHECK enum smg_status smg_codec_decode_rows(enum smg_row_kind kind, size_t label_size,
                                                     size_t initial_rows, const void *body,
                                                     size_t len, size_t d, size_t max_rows,
                                                     float **rows_out, size_t *nrows,
                                                     struct smg_error *err);

/*
 * A recordIO-protobuf body whose first record is sparse, into CSR rows
 * (codec_rows_csr.c): the decode_csr contract of codec.h. A body that is not
 * sparse, is empty or does not frame is left alone (*sparse false, SMG_OK)
 * for the dense decoder to decode or report.
 */
SMG_MUST_CHECK enum smg_status smg_codec_decode_csr(const void *body, size_t len, size_t d,
                                                    size_t max_bytes, struct smg_csr_buf *out,
                                                    bool *sparse, struct smg_error *err);

/*
 * SMG_OK while out's decoded size (smg_csr_buf_bytes) is within max_bytes;
 * past it SMG_EFORMAT "<where> <last row>: the N sparse rows so far hold M
 * stored values, more than this server decodes from one request (...)".
 */
SMG_MUST_CHECK enum smg_status smg_codec_csr_check_cap(const struct smg_csr_buf *out,
                                                       size_t max_bytes, const char *where,
                                                       struct smg_error *err);

/* A new array of n * d floats (smg_free it), or NULL with SMG_ENOMEM set in err. */
float *smg_codec_alloc_rows(size_t n, size_t d, struct smg_error *err);

/*
 * One instance (a parsed cJSON node, passed as void * so that cJSON stays out
 * of the headers) into row[0..d). Errors name "<where> <index>", e.g.
 * "instance 3: ..." or "line 2: ...".
 */
/*
 * An application/json request body, one instance at a time
 * (codec_json_stream.c): rows of d floats into a new *rows_out.
 */
SMG_MUST_CHECK enum smg_status smg_codec_json_decode(const char *text, size_t len, size_t d,
                                                     size_t max_rows, float **rows_out,
                                                     size_t *nrows, struct smg_error *err);

SMG_MUST_CHECK enum smg_status smg_codec_json_instance(const void *inst, const char *where,
                                                       size_t index, size_t d, float *row,
                                                       struct smg_error *err);
/* Whether "keys" occurs in text[0..len): a body without it holds no sparse instance. */
bool smg_codec_json_mentions_keys(const char *text, size_t len);

/* Whether an instance is the sparse form {"data": {"features": {"keys": ...}}}. */
bool smg_codec_json_is_sparse(const void *inst);

/*
 * One instance appended to out as a CSR row (ended on success, dropped on
 * error): a sparse instance's entries sorted by key, a dense one's non-zeros
 * through *scratch (d floats, allocated on first use; caller smg_free's it).
 * Errors as smg_codec_json_instance's.
 */
SMG_MUST_CHECK enum smg_status smg_codec_json_instance_csr(const void *inst, const char *where,
                                                           size_t index, size_t d, float **scratch,
                                                           struct smg_csr_buf *out,
                                                           struct smg_error *err);

/*
 * application/json and application/jsonlines bodies whose first instance is
 * sparse, as CSR rows: the decode_csr contract of codec.h (a body without
 * "keys" anywhere is not looked at further).
 */
SMG_MUST_CHECK enum smg_status smg_codec_json_decode_csr(const char *text, size_t len, size_t d,
                                                         size_t max_bytes, struct smg_csr_buf *out,
                                                         bool *sparse, struct smg_error *err);
SMG_MUST_CHECK enum smg_status smg_codec_jsonlines_decode_csr(const char *text, size_t len,
                                                              size_t d, size_t max_bytes,
                                                              struct smg_csr_buf *out, bool *sparse,
                                                              struct smg_error *err);

/* A bare dense row: exactly d finite float32 numbers. Errors as above, naming what. */
SMG_MUST_CHECK enum smg_status smg_codec_json_dense(const void *arr, const char *what,
                                                    const char *where, size_t index, size_t d,
                                                    float *row, struct smg_error *err);

/*
 * Text writers. They write into room the caller made with smg_buf_reserve:
 * smg_codec_row_text_bound(res) bytes hold any one row in any text format.
 * The buffer stays NUL-terminated.
 */
size_t smg_codec_row_text_bound(const struct smg_infer_result *res);
void smg_codec_put(struct smg_buf *b, const void *s, size_t n);
/* A float32 as Python's json writes the double it promotes to (infer_response.h). */
void smg_codec_put_number(struct smg_buf *b, float f);
/* Row r of res as one JSON object: {"<f1>": v, "<f2>": [v, v]}. */
void smg_codec_put_json_row(struct smg_buf *b, const struct smg_infer_result *res, size_t r);

/* A writer of row r of res, within smg_codec_row_text_bound(res) bytes. */
typedef void (*smg_codec_row_writer)(struct smg_buf *b, const struct smg_infer_result *res,
                                     size_t r);

/*
 * Every row of res through put_row, with sep (may be "") between rows, making
 * the room each needs first. SMG_ENOMEM, with err set, past out's cap.
 */
SMG_MUST_CHECK enum smg_status smg_codec_put_rows(struct smg_buf *out,
                                                  const struct smg_infer_result *res,
                                                  const char *sep, smg_codec_row_writer put_row,
                                                  struct smg_error *err);

#endif

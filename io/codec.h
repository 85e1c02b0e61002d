/*
 * Codecs: what one content type means in each direction, as hooks the
 * media-type table (media_type.c) points at. A codec says
 *
 *   - how a training channel of this type is read: the row reader (rows.h);
 *   - how an inference request body of this type becomes dense float32 rows,
 *     and, for a type that can carry sparse rows, how a sparse body becomes
 *     CSR rows without being densified;
 *   - how an inference result is written in this type, and the Content-Type
 *     that answer is sent with;
 *   - whether the type takes the label_size parameter (leading label columns).
 *
 * A hook a codec has no use for is NULL (or SMG_ROWS_NONE); the table row's
 * direction bits say which ones callers may use, and the table's unit test
 * checks the two agree. Callers never ask which codec they hold: they call
 * through it, so a new content type is one table row plus one codec file
 * (io/codec_<name>.c) and its declaration below.
 *
 * Each codec lives in its own file: codec_recordio.c, codec_csv.c,
 * codec_json.c, codec_jsonlines.c. Pieces two codecs share are in
 * codec_util.h. Error messages are written for the client ("instance 3:
 * 'features' has 5 values, expected 7"); request decoders return SMG_EFORMAT
 * for a bad body and SMG_ENOMEM, encoders only SMG_ENOMEM.
 */
#ifndef SMG_CODEC_H
#define SMG_CODEC_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/buffer.h"
#include "io/base/status.h"
#include "io/csr_buf.h"
#include "io/infer_response.h"
#include "io/rows.h"

struct smg_codec {
    /* The canonical media type, sent as the Content-Type of encode's output. */
    const char *mime;
    /* Whether ";label_size=N" applies (training channels and requests). */
    bool label_size;
    /* Training: the row reader for a channel of this type; SMG_ROWS_NONE if none. */
    enum smg_row_kind rows;
    /*
     * Request: decode body[0..len) into rows of exactly feature_dim floats,
     * dropping label_size leading label columns where the codec has them. The
     * caller has checked that len > 0, feature_dim > 0 and max_rows > 0. On
     * success *rows_out is a new array of *nrows >= 1 rows (caller smg_free's
     * it); more than max_rows rows is SMG_EFORMAT. NULL: no requests.
     */
    enum smg_status (*decode)(const void *body, size_t len, size_t label_size, size_t feature_dim,
                              size_t max_rows, float **rows_out, size_t *nrows,
                              struct smg_error *err);
    /*
     * Request, sparse bodies: when the body is sparse (the codec decides from
     * its first row), decode every row into out (an empty buffer the caller
     * initialised) as CSR rows of feature_dim columns, never densified, and set
     * *sparse. Decoded rows may take at most max_bytes, counted as
     * smg_csr_buf_bytes counts them (stored values and rows, never
     * rows x feature_dim); more is SMG_EFORMAT. A body that is not sparse: SMG_OK, *sparse
     * false, out untouched (decode takes it). NULL: this type is never sparse.
     */
    enum smg_status (*decode_csr)(const void *body, size_t len, size_t feature_dim,
                                  size_t max_bytes, struct smg_csr_buf *out, bool *sparse,
                                  struct smg_error *err);
    /* Response: append the encoding of res to out. NULL: no responses. */
    enum smg_status (*encode)(const struct smg_infer_result *res, struct smg_buf *out,
                              struct smg_error *err);
};

extern const struct smg_codec smg_codec_recordio;  /* codec_recordio.c */
extern const struct smg_codec smg_codec_csv;       /* codec_csv.c */
extern const struct smg_codec smg_codec_json;      /* codec_json.c */
extern const struct smg_codec smg_codec_jsonlines; /* codec_jsonlines.c */

#endif

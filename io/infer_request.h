/*
 * Inference request bodies: decode what a client POSTs to /invocations into
 * dense float32 rows of exactly feature_dim features, whatever the format.
 *
 * SageMaker's built-in PCA and k-means accept four request content types
 * (reference: sagemaker-algorithms-spec.md section 7.1):
 *
 *   text/csv[;label_size=N]          one row per line, comma-separated; the first
 *                                    N columns are labels and are dropped
 *   application/json                 {"instances":[{"features":[1.5,16.0]}, ...]}
 *                                    {"instances":[{"data":{"features":{"values":[...]}}}]}
 *                                    {"instances":[{"data":{"features":{"keys":[26,182],
 *                                                   "shape":[2000],"values":[1,4]}}}]}
 *                                    [[1.5,16.0], ...] or [1.5,16.0]: bare rows, as the
 *                                    SDK's JSONSerializer writes a numpy array (an extension)
 *   application/jsonlines            one instance object (or bare row) per line
 *   application/x-recordio-protobuf  one aialgs.data.Record per row, features["values"]
 *
 * The Content-Type picks a codec from media_type.h's table and the codec
 * decodes (codec.h; one file per format, io/codec_<name>.c). CSV and recordIO
 * go through io/rows.h's row readers over a memory stream, so requests and
 * training data are decoded by the same code; JSON is parsed with cJSON.
 * A dense body becomes one row-major matrix, so the model can score it with
 * one GEMM. A sparse recordIO-protobuf body (keys + shape, as the SDK's
 * write_spmatrix_to_sparse_tensor and RecordSerializer write scipy matrices)
 * becomes CSR rows instead and is never densified (smg_infer_request_decode_rows):
 * a request of d = 100,000 features with a few stored values per row takes
 * memory for those values, not rows x d floats.
 *
 * A bad request is an SMG_EFORMAT (bad body) or SMG_ECONFIG (bad content type)
 * with a one-line message naming what was wrong and where ("instance 3:
 * 'features' has 5 values, expected 7"), fit to send back to the client;
 * SMG_ENOMEM and SMG_EINTERNAL are ours.
 */
#ifndef SMG_INFER_REQUEST_H
#define SMG_INFER_REQUEST_H

#include <stddef.h>

#include "io/base/batch.h"
#include "io/base/status.h"
#include "io/csr_buf.h"

struct smg_codec; /* codec.h */

struct smg_infer_format {
    const struct smg_codec *codec; /* decodes the body; never NULL once parsed */
    size_t label_size;             /* leading label columns, for codecs that have them */
};

/*
 * Parse a request Content-Type such as "text/csv; label_size=1" or
 * "application/json; charset=utf-8" through media_type.h's table
 * (SMG_MEDIA_REQUEST rows). Media types compare case-insensitively; unknown
 * parameters are ignored. NULL, empty or unknown types and a label_size that
 * is not a number are SMG_ECONFIG with a message naming what was wrong.
 */
SMG_MUST_CHECK enum smg_status smg_infer_format_parse(const char *content_type,
                                                      struct smg_infer_format *fmt,
                                                      struct smg_error *err);

/*
 * Decode body (len bytes, not NUL-terminated) into rows of feature_dim floats.
 * On success *rows_out is a new array of *nrows * feature_dim floats (caller
 * smg_free's it) and *nrows >= 1. A body with no rows, a row with the wrong
 * number of features, a non-finite or non-numeric feature, a sparse key outside
 * the shape or a malformed document is SMG_EFORMAT. At most max_rows rows are
 * accepted (0 means no limit beyond memory).
 */
SMG_MUST_CHECK enum smg_status smg_infer_request_decode(const void *body, size_t len,
                                                        const struct smg_infer_format *fmt,
                                                        size_t feature_dim, size_t max_rows,
                                                        float **rows_out, size_t *nrows,
                                                        struct smg_error *err);

/* A decoded request: dense rows (x != NULL) or, for a sparse body, CSR rows. */
struct smg_infer_rows {
    float *x;               /* n * d floats, row-major; NULL when the rows are in csr */
    struct smg_csr_buf csr; /* the rows of a sparse body (x == NULL) */
    size_t n, d;            /* rows, features per row */
};

/*
 * Decode body into *out, dense or CSR as the body is (the codec's decode_csr
 * decides; only recordIO-protobuf bodies are taken as CSR). max_bytes caps
 * the decoded rows: n * d * 4 bytes for dense rows, smg_csr_buf_bytes (stored
 * values and rows) for CSR ones; past it is SMG_EFORMAT naming the limit. 0
 * means no limit beyond memory. Errors as smg_infer_request_decode's; on
 * error *out is empty. Release with smg_infer_rows_free.
 */
SMG_MUST_CHECK enum smg_status smg_infer_request_decode_rows(const void *body, size_t len,
                                                             const struct smg_infer_format *fmt,
                                                             size_t feature_dim, size_t max_bytes,
                                                             struct smg_infer_rows *out,
                                                             struct smg_error *err);

/* The rows as a batch (io/base/batch.h; first_record 0); valid until freed. */
struct smg_batch smg_infer_rows_batch(const struct smg_infer_rows *r);

void smg_infer_rows_free(struct smg_infer_rows *r); /* accepts a zeroed struct; zeroes it */

#endif

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
 * Whatever the format, the whole body becomes one row-major matrix, so the
 * model can score it with one GEMM.
 *
 * A bad request is an SMG_EFORMAT (bad body) or SMG_ECONFIG (bad content type)
 * with a one-line message naming what was wrong and where ("instance 3:
 * 'features' has 5 values, expected 7"), fit to send back to the client;
 * SMG_ENOMEM and SMG_EINTERNAL are ours.
 */
#ifndef SMG_INFER_REQUEST_H
#define SMG_INFER_REQUEST_H

#include <stddef.h>

#include "io/base/status.h"

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

#endif

/*
 * Inference response bodies: encode per-row results the way SageMaker's
 * built-in PCA and k-means answer (sagemaker-algorithms-spec.md 7.2, 7.3).
 *
 * A result is `rows` rows of named float32 fields. A field is either a scalar
 * (k-means "closest_cluster", "distance_to_cluster") or a vector of `width`
 * values (PCA "projection"). The encodings:
 *
 *   application/json       {"<list_key>":[{"<f1>":v,"<f2>":[v,v]},...]}
 *   application/jsonlines  {"<f1>":v,"<f2>":[v,v]}\n per row
 *   text/csv               v,v,...\n per row, all fields flattened in order
 *   application/x-recordio-protobuf
 *                          one recordIO record per row holding an aialgs.data.Record
 *                          whose `label` map has one Float32Tensor per field:
 *     magic ce d7 23 0a (LE u32 0xced7230a) | u32 length | Record | zero pad to 4
 *     Record:        12 <len> Entry          (field 2 = label, once per result field)
 *     Entry:         0a <len> <name>         (key)
 *                    12 <len> Value          (value)
 *     Value:         12 <len> Float32Tensor  (field 2 = float32_tensor)
 *     Float32Tensor: 0a <len> <width x f32 LE> (field 1 = values, packed)
 *   `features` stays empty and no keys or shape are written, as the built-ins do.
 *
 * Numbers are written as the float32 value promoted to double with 17
 * significant digits, so a JSON client parses exactly the double SageMaker's
 * Python container sends (e.g. 0.23653684556484222); integral values keep a
 * ".0" ("closest_cluster": 2.0). Non-finite values are written NaN, Infinity
 * and -Infinity, as Python's json module does.
 *
 * The Accept header picks a codec from media_type.h's table, and the codec
 * writes (codec.h; one file per format, io/codec_<name>.c).
 */
#ifndef SMG_INFER_RESPONSE_H
#define SMG_INFER_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/buffer.h"
#include "io/base/status.h"

struct smg_codec; /* codec.h: its mime is the response's Content-Type */

/*
 * Pick the response codec from an Accept header: the first listed media type
 * we support wins (parameters and q-values are ignored); NULL, empty,
 * "*" + "/" + "*" and "application" + "/" + "*" mean JSON. Nothing supported is
 * SMG_ECONFIG with a message naming the header (*out is then JSON's codec).
 */
SMG_MUST_CHECK enum smg_status
smg_infer_accept_parse(const char *accept, const struct smg_codec **out, struct smg_error *err);

struct smg_infer_field {
    const char *name;
    const float *values; /* rows * width values, row-major */
    size_t width;        /* values per row */
    bool scalar;         /* width 1, written as a number rather than a list */
};

struct smg_infer_result {
    const char *list_key; /* "predictions" or "projections" (JSON only) */
    size_t rows;
    size_t nfields;
    const struct smg_infer_field *fields;
};

/*
 * Append the encoding of res by codec (from smg_infer_accept_parse) to out.
 * SMG_ENOMEM on allocation failure or past out's cap. A value that is not
 * finite (a distance or projection that overflows float32, from input values
 * near float32's limit) is SMG_EFORMAT naming the row and the field, in
 * every format: JSON has no Infinity or NaN,
 * and a client would rather be told than parse an invalid document or get a
 * silently clamped number.
 */
/*
 * Streaming a response in parts: part (len bytes) is the encoding by codec of
 * one slice of the rows; append to out what makes the concatenation of all
 * parts one valid document. For JSON that drops the '{"key": [' of every part
 * but the first and the ']}' of every part but the last, and puts ", "
 * between parts; every other format concatenates as it is (lines, records).
 * SMG_ENOMEM past out's cap.
 */
SMG_MUST_CHECK enum smg_status smg_infer_response_join(const struct smg_codec *codec,
                                                       const char *part, size_t len, bool first,
                                                       bool last, struct smg_buf *out);

SMG_MUST_CHECK enum smg_status smg_infer_response_encode(const struct smg_codec *codec,
                                                         const struct smg_infer_result *res,
                                                         struct smg_buf *out,
                                                         struct smg_error *err);

#endif

/*
 * Encode rows as aialgs.data.Record protobuf payloads, byte for byte as the
 * SageMaker Python SDK (protobuf upb) serialises them:
 *
 *   write_numpy_to_dense_tensor, one row:
 *     0a L  { 0a 06 "values"  12 L { T L { 0a L <packed values> } } }
 *     [12 L { 0a 06 "values"  12 L { T' L { 0a L <packed label> } } }]
 *   write_spmatrix_to_sparse_tensor, one row:
 *     0a L  { 0a 06 "values"  12 L { T L { [0a L values] [12 L keys] 1a L shape } } }
 *     [label as above]
 *
 * where T is 12 (Float32Tensor), 1a (Float64Tensor) or 3a (Int32Tensor), L
 * are varint lengths, float/double values are little-endian, int32 values and
 * uint64 keys/shape are varints (negative int32 sign-extended to 10 bytes),
 * and empty packed fields are omitted. The caller wraps each payload in a
 * RecordIO record (recordio.h).
 */
#ifndef SMG_RECORD_ENCODE_H
#define SMG_RECORD_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "io/base/status.h"

enum smg_tensor_type { SMG_TENSOR_FLOAT32 = 0, SMG_TENSOR_FLOAT64 = 1, SMG_TENSOR_INT32 = 2 };

/* A growable byte buffer; start zeroed, release with smg_bytes_free. */
struct smg_bytes {
    uint8_t *data;
    size_t len, cap;
};

void smg_bytes_free(struct smg_bytes *b);

/* An optional scalar label, of its own type (the SDK resolves it separately). */
struct smg_label {
    enum smg_tensor_type type;
    double value; /* for INT32, an integral value in int32 range */
};

/*
 * Replace out's contents with one dense Record: n values of `type` at values
 * (float, double or int32_t). label may be NULL.
 */
SMG_MUST_CHECK enum smg_status
smg_record_encode_dense(struct smg_bytes *out, enum smg_tensor_type type, const void *values,
                        size_t n, const struct smg_label *label, struct smg_error *err);

/* One sparse Record: nnz values with their column keys, shape [cols]. */
SMG_MUST_CHECK enum smg_status
smg_record_encode_sparse(struct smg_bytes *out, enum smg_tensor_type type, const void *values,
                         const uint64_t *keys, size_t nnz, uint64_t cols,
                         const struct smg_label *label, struct smg_error *err);

/*
 * Bytes of v as a protobuf base-128 varint (1 to 10). For writers of other
 * protobuf messages (io/codec_recordio.c) that size fields before writing.
 */
size_t smg_record_varint_size(uint64_t v);

#endif

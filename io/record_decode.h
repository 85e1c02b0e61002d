/*
 * Decode one recordIO-protobuf payload (an aialgs.data.Record) into a dense
 * row of feature_dim float32 features.
 *
 * Accepted: features["values"] as a Float32Tensor, Float64Tensor or
 * Int32Tensor, either
 *   dense:  values only (shape optional; if set, [n] or [1, n] with n == the
 *           number of values), exactly feature_dim values; or
 *   sparse: keys (column indices) + values of equal count + shape [cols] or
 *           [1, cols] with cols == feature_dim, every key < cols; missing
 *           columns are 0, a repeated key keeps its last value. A tensor with
 *           shape but neither keys nor values is an all-zero sparse row (the
 *           SDK writes empty CSR rows that way).
 * Labels and any other features or fields are accepted and ignored. NaN or
 * infinite features (also float64 values out of float range) are errors.
 *
 * Error messages carry no location; the caller prefixes stream, record index
 * and byte offset, e.g. "15 features, expected 16 (feature_dim)".
 *
 * Two decoders with the same contract:
 *   smg_record_decode_pb    the reference, through protobuf-c;
 *   smg_record_decode_fast  a zero-copy walker for the common shapes (dense
 *                           Float32Tensor "values", with or without a
 *                           Float32Tensor "values" label) that defers to the
 *                           reference for anything else, and for every error,
 *                           so messages are identical. tests/fuzz/
 *                           fuzz_record_decode.c checks that both agree.
 */
#ifndef SMG_RECORD_DECODE_H
#define SMG_RECORD_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "io/base/status.h"

SMG_MUST_CHECK enum smg_status smg_record_decode_pb(const uint8_t *buf, size_t len,
                                                    size_t feature_dim, float *row,
                                                    struct smg_error *err);

SMG_MUST_CHECK enum smg_status smg_record_decode_fast(const uint8_t *buf, size_t len,
                                                      size_t feature_dim, float *row,
                                                      struct smg_error *err);

/*
 * The feature count a Record declares, for callers that must size a decoder
 * before they know feature_dim (`smalgo records` without --feature-dim):
 * features["values"]'s shape columns when it has a shape ([cols] or
 * [1, cols]; sparse), else its number of values (dense). SMG_EFORMAT, with the
 * decoder's messages, when buf is no Record, has no such tensor, or counts 0.
 * The values themselves are not checked; the decoder does that row by row.
 */
SMG_MUST_CHECK enum smg_status smg_record_feature_count(const uint8_t *buf, size_t len, size_t *dim,
                                                        struct smg_error *err);

/* Test hook: how many smg_record_decode_fast calls deferred to protobuf-c. */
uint64_t smg_record_decode_fallbacks(void);

#endif

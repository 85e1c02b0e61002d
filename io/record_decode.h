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
 *           columns are 0. Keys may come in any order (scipy matrices with
 *           unsorted indices write them so); the same key twice is an error
 *           ("sparse key 7 appears twice (entries 2 and 5)"), since which
 *           value was meant cannot be known. A tensor with shape but neither
 *           keys nor values is an all-zero sparse row (the SDK writes empty
 *           CSR rows that way).
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/base/status.h"
#include "io/csr_buf.h"

SMG_MUST_CHECK enum smg_status smg_record_decode_pb(const uint8_t *buf, size_t len,
                                                    size_t feature_dim, float *row,
                                                    struct smg_error *err);

SMG_MUST_CHECK enum smg_status smg_record_decode_fast(const uint8_t *buf, size_t len,
                                                      size_t feature_dim, float *row,
                                                      struct smg_error *err);

/*
 * The same contract, appending the row to a CSR buffer instead of a dense row:
 * a sparse tensor's entries sorted by column (explicit zeros kept), a dense
 * tensor's non-zero values. On success the row is ended (out->rows + 1); on
 * error out is unchanged. Messages are those of the dense decoders, so a
 * sparse channel's errors read the same. feature_dim must fit in 32 bits
 * (CSR column indices are uint32), else SMG_ECONFIG.
 */
SMG_MUST_CHECK enum smg_status smg_record_decode_csr(const uint8_t *buf, size_t len,
                                                     size_t feature_dim, struct smg_csr_buf *out,
                                                     struct smg_error *err);

/*
 * Whether buf's features["values"] tensor is sparse (keys, or a shape with no
 * values): how a channel decides to deliver CSR batches. false for anything
 * that does not decode (the decoder reports those).
 */
bool smg_record_is_sparse(const uint8_t *buf, size_t len);

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

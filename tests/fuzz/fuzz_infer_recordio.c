/*
 * Fuzz target for application/x-recordio-protobuf inference request bodies
 * (io/codec_recordio.c over io/rows.h). Invariants in fuzz_infer_common.h.
 * First byte: bits 0-2 give feature_dim - 1. Corpus:
 * tests/fuzz/corpus/infer_recordio/.
 */
#include "fuzz_infer_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return smg_fuzz_infer(&smg_codec_recordio, data, size);
}

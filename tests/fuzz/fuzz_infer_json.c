/*
 * Fuzz target for application/json and application/jsonlines inference
 * request bodies (io/codec_json.c, io/codec_jsonlines.c, cJSON). Invariants in
 * fuzz_infer_common.h. First byte: bits 0-2 give feature_dim - 1; bit 7 set
 * selects JSON lines. Corpus: tests/fuzz/corpus/infer_json/.
 */
#include "fuzz_infer_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    return smg_fuzz_infer((data[0] & 0x80) ? &smg_codec_jsonlines : &smg_codec_json, data, size);
}

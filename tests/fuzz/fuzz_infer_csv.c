/*
 * Fuzz target for text/csv inference request bodies (io/codec_csv.c over
 * io/rows.h). Invariants in fuzz_infer_common.h. First byte: bits 0-2 give
 * feature_dim - 1, bits 3-4 the label_size. Corpus: tests/fuzz/corpus/infer_csv/.
 */
#include "fuzz_infer_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return smg_fuzz_infer(&smg_codec_csv, data, size);
}

/*
 * Fuzz target for the NDArray model file decoder (io/ndarray.c).
 *
 * Any input must decode cleanly or fail with SMG_EFORMAT (or SMG_ENOMEM),
 * never crash, hang or leak. Whatever decodes must re-encode to exactly the
 * input bytes (the codec keeps every field), and the encoded image must
 * decode again: a disagreement aborts, so the fuzzer reports it.
 * The seed corpus (tests/fuzz/corpus/ndarray/) holds small synthetic files
 * and truncated or mutated variants of them; it is replayed as a ctest case.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/ndarray.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smg_ndarray_file *f = NULL, *g = NULL;
    struct smg_error err;
    void *enc = NULL;
    size_t len = 0;
    int rc;

    smg_error_clear(&err);
    rc = smg_ndarray_decode(data, size, &f, &err);
    if (rc != SMG_OK) {
        if ((rc != SMG_EFORMAT && rc != SMG_ENOMEM) || f != NULL || err.msg[0] == '\0')
            abort();
        return 0;
    }
    for (size_t i = 0; i < f->count; i++)
        (void)smg_ndarray_find(f, f->arrays[i].name);
    if (smg_ndarray_encode(f, &enc, &len, &err) != SMG_OK || len != size ||
        memcmp(enc, data, size) != 0)
        abort();
    if (smg_ndarray_decode(enc, len, &g, &err) != SMG_OK || g->count != f->count)
        abort();
    smg_ndarray_file_free(g);
    smg_ndarray_file_free(f);
    smg_free(enc);
    return 0;
}

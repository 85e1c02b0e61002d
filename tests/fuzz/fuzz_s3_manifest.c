/*
 * Fuzz target for SageMaker manifests ([{"prefix": "s3://..."}, "key", ...]).
 * Checks: every listed object is an s3:// URI that parses, and a failure is
 * a format or configuration error, never anything else.
 */
#include <stdint.h>
#include <stdlib.h>

#include "io/s3/s3_manifest.h"
#include "io/s3/s3_uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smg_file_list l = {NULL, 0};
    struct smg_error err;
    struct smg_s3_uri u;
    int rc;

    smg_error_clear(&err);
    rc = smg_s3_manifest_parse((const char *)data, size, "fuzz.manifest", &l, &err);
    if (rc != SMG_OK && rc != SMG_EFORMAT && rc != SMG_ECONFIG && rc != SMG_ENOMEM)
        abort();
    for (size_t i = 0; rc == SMG_OK && i < l.count; i++) {
        smg_error_clear(&err);
        if (!smg_s3_is_uri(l.paths[i]) || smg_s3_uri_parse(l.paths[i], &u, &err) != SMG_OK)
            abort();
    }
    smg_file_list_clear(&l);
    return 0;
}

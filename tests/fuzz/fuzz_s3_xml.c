/*
 * Fuzz target for the S3 XML leaf reader: the input is one S3 answer; every
 * element name smalgo looks for is extracted in turn until none is left.
 * Checks: the position only moves forward and stays inside the input, and a
 * decoded value is NUL-terminated within its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/s3/s3_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"Key",  "Size",    "IsTruncated", "NextContinuationToken",
                                        "Code", "Message", "UploadId"};
    char *doc = malloc(size + 1), out[64], esc[256];

    if (doc == NULL)
        return 0;
    memcpy(doc, data, size); /* no NUL: the reader must stay inside size */
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        size_t pos = 0, last = 0;
        for (int guard = 0; guard < 100000; guard++) {
            int rc = smg_s3_xml_next(doc, size, &pos, names[k], out, sizeof(out));
            if (rc != SMG_OK)
                break;
            if (pos <= last || pos > size || memchr(out, '\0', sizeof(out)) == NULL)
                abort();
            last = pos;
            if (smg_s3_xml_escape(out, esc, sizeof(esc)) >= sizeof(esc))
                abort();
        }
    }
    free(doc);
    return 0;
}

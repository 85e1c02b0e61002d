/*
 * s3://bucket/key URIs: the one syntax every S3 entry point (channel sources,
 * manifests, --output, --model-data) accepts. Bucket names follow S3's rules
 * loosely (3 to 63 characters of a-z 0-9 . -); keys are any bytes but NUL,
 * at most 1024, possibly empty (a whole bucket as a prefix).
 */
#ifndef SMG_S3_URI_H
#define SMG_S3_URI_H

#include <stdbool.h>

#include "io/base/status.h"

#define SMG_S3_BUCKET_MAX 63
#define SMG_S3_KEY_MAX    1024

struct smg_s3_uri {
    char bucket[SMG_S3_BUCKET_MAX + 1];
    char key[SMG_S3_KEY_MAX + 1];
};

/* True when s starts with "s3://" (the only test the rest of io/ needs). */
bool smg_s3_is_uri(const char *s);

/* Split uri into out; a malformed URI is an SMG_ECONFIG client error naming it. */
SMG_MUST_CHECK enum smg_status smg_s3_uri_parse(const char *uri, struct smg_s3_uri *out,
                                                struct smg_error *err);

#endif

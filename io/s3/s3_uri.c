/* s3://bucket/key parsing (see s3_uri.h). */
#include "io/s3/s3_uri.h"

#include <string.h>

bool smg_s3_is_uri(const char *s)
{
    return s != NULL && strncmp(s, "s3://", 5) == 0;
}

static bool bucket_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
           (c >= 'A' && c <= 'Z');
}

enum smg_status smg_s3_uri_parse(const char *uri, struct smg_s3_uri *out, struct smg_error *err)
{
    const char *b, *slash;
    size_t blen, klen;

    if (!smg_s3_is_uri(uri))
        return smg_error_set(err, SMG_ECONFIG, "'%.200s' is not an s3://bucket/key URI",
                             uri ? uri : "(null)");
    b = uri + 5;
    slash = strchr(b, '/');
    blen = slash ? (size_t)(slash - b) : strlen(b);
    if (blen < 3 || blen > SMG_S3_BUCKET_MAX)
        return smg_error_set(err, SMG_ECONFIG, "'%.200s': an S3 bucket name has 3 to 63 characters",
                             uri);
    for (size_t i = 0; i < blen; i++)
        if (!bucket_char(b[i]))
            return smg_error_set(err, SMG_ECONFIG,
                                 "'%.200s': character %zu of the bucket name is not allowed", uri,
                                 i + 1);
    klen = slash ? strlen(slash + 1) : 0;
    if (klen > SMG_S3_KEY_MAX)
        return smg_error_set(err, SMG_ECONFIG, "'%.200s...': an S3 key has at most %d bytes", uri,
                             SMG_S3_KEY_MAX);
    memcpy(out->bucket, b, blen);
    out->bucket[blen] = '\0';
    memcpy(out->key, slash ? slash + 1 : "", klen + 1);
    return SMG_OK;
}

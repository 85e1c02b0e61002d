/*
 * AWS Signature Version 4 for S3, computed by hand with libcrypto's SHA-256
 * and HMAC (as libmarias3 does), so the request that libcurl sends is exactly
 * the request that was signed: no reliance on CURLOPT_AWS_SIGV4, which on
 * Debian 12's libcurl 7.88.1 neither sends x-amz-content-sha256 nor sorts
 * the query.
 *
 *   canonical request = METHOD \n URI \n QUERY \n (name:value\n)* \n names \n payload-hash
 *   string to sign    = AWS4-HMAC-SHA256 \n AMZDATE \n DATE/region/s3/aws4_request \n
 *                       hex(sha256(canonical request))
 *   signing key       = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, DATE), region), "s3"), "aws4_request")
 *
 * The caller passes the URI already percent-encoded (smg_s3_uri_encode), the
 * query already canonical (keys sorted, "key=value" with encoded values) and
 * the headers to sign with lower-case names, sorted by name, values trimmed.
 */
#ifndef SMG_S3_SIGV4_H
#define SMG_S3_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/status.h"

#define SMG_SHA256_HEX_LEN  64
#define SMG_S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct smg_s3_header {
    const char *name;  /* lower case */
    const char *value; /* trimmed */
};

struct smg_s3_sign_input {
    const char *method;                  /* "GET" */
    const char *uri;                     /* "/bucket/key%20x", encoded once */
    const char *query;                   /* canonical, "" if none */
    const struct smg_s3_header *headers; /* sorted by name, host and x-amz-* included */
    size_t n_headers;
    const char *payload_sha256; /* hex, or "UNSIGNED-PAYLOAD" */
    const char *amz_date;       /* "20130524T000000Z" */
    const char *region;         /* "us-east-1" */
    const char *access_key;
    const char *secret_key;
};

/* hex(sha256(data)) into out (SMG_SHA256_HEX_LEN + 1 bytes). */
void smg_sha256_hex(const void *data, size_t len, char *out);

/*
 * Percent-encode src into dst as SigV4 wants (unreserved A-Z a-z 0-9 - _ . ~
 * kept, everything else %XX upper case); '/' is kept when keep_slash (paths)
 * and encoded otherwise (query values). False when dst (cap bytes) is too small.
 */
bool smg_s3_uri_encode(const char *src, bool keep_slash, char *dst, size_t cap);

/*
 * Write the Authorization header value ("AWS4-HMAC-SHA256 Credential=...,
 * SignedHeaders=..., Signature=...") into out. SMG_ECONFIG when it does not
 * fit or the input is incomplete; SMG_EINTERNAL if libcrypto fails.
 */
SMG_MUST_CHECK enum smg_status smg_s3_sign(const struct smg_s3_sign_input *in, char *out,
                                           size_t cap, struct smg_error *err);

#endif

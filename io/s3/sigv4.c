/*
 * SigV4 signing (see sigv4.h). The canonical request is built in a growable
 * buffer (its size is bounded by the caller's URI, query and headers), hashed,
 * and signed with the derived key; no secret is ever logged or kept.
 */
#include "io/s3/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "io/base/buffer.h"

#define CANONICAL_MAX ((size_t)1 << 20)

static void to_hex(const unsigned char *md, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * n] = '\0';
}

void smg_sha256_hex(const void *data, size_t len, char *out)
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256(data, len, md);
    to_hex(md, sizeof(md), out);
}

bool smg_s3_uri_encode(const char *src, bool keep_slash, char *dst, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)src; *p != '\0'; p++) {
        unsigned char c = *p;
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/');
        if (n + (plain ? 1 : 3) >= cap)
            return false;
        if (plain) {
            dst[n++] = (char)c;
        } else {
            dst[n++] = '%';
            dst[n++] = hex[c >> 4];
            dst[n++] = hex[c & 15];
        }
    }
    if (n >= cap)
        return false;
    dst[n] = '\0';
    return true;
}

static bool hmac(const void *key, size_t key_len, const char *msg, unsigned char out[32])
{
    unsigned int len = 32;

    return HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out,
                &len) != NULL &&
           len == 32;
}

/* The canonical request of in (sigv4.h), plus the SignedHeaders list. */
static int canonical_request(const struct smg_s3_sign_input *in, struct smg_buf *req,
                             struct smg_buf *names)
{
    int rc = smg_buf_printf(req, "%s\n%s\n%s\n", in->method, in->uri, in->query);

    for (size_t i = 0; rc == SMG_OK && i < in->n_headers; i++) {
        rc = smg_buf_printf(req, "%s:%s\n", in->headers[i].name, in->headers[i].value);
        if (rc == SMG_OK)
            rc = smg_buf_printf(names, "%s%s", i ? ";" : "", in->headers[i].name);
    }
    if (rc == SMG_OK)
        rc = smg_buf_printf(req, "\n%s\n%s", names->data ? (char *)names->data : "",
                            in->payload_sha256);
    return rc;
}

/* The signature (64 hex digits) of string_to_sign. */
static bool signature(const struct smg_s3_sign_input *in, const char *date, const char *sts,
                      char *out)
{
    char first[256];
    unsigned char k[32];

    if (snprintf(first, sizeof(first), "AWS4%s", in->secret_key) >= (int)sizeof(first))
        return false;
    bool ok = hmac(first, strlen(first), date, k) && hmac(k, 32, in->region, k) &&
              hmac(k, 32, "s3", k) && hmac(k, 32, "aws4_request", k) && hmac(k, 32, sts, k);
    OPENSSL_cleanse(first, sizeof(first));
    if (ok)
        to_hex(k, 32, out);
    OPENSSL_cleanse(k, sizeof(k));
    return ok;
}

enum smg_status smg_s3_sign(const struct smg_s3_sign_input *in, char *out, size_t cap,
                            struct smg_error *err)
{
    struct smg_buf req, names;
    char date[9], hash[SMG_SHA256_HEX_LEN + 1], sig[SMG_SHA256_HEX_LEN + 1], sts[512];
    int rc, n;

    if (in->amz_date == NULL || strlen(in->amz_date) != 16 || in->access_key == NULL ||
        in->secret_key == NULL || in->region == NULL)
        return smg_error_set(err, SMG_ECONFIG, "S3 request signing: incomplete credentials");
    memcpy(date, in->amz_date, 8);
    date[8] = '\0';
    smg_buf_init(&req, CANONICAL_MAX);
    smg_buf_init(&names, CANONICAL_MAX);
    if ((rc = canonical_request(in, &req, &names)) != SMG_OK) {
        rc = smg_error_set(err, rc, "S3 request signing: canonical request too large");
        goto out;
    }
    smg_sha256_hex(req.data, req.len, hash);
    n = snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s/%s/s3/aws4_request\n%s", in->amz_date,
                 date, in->region, hash);
    if (n < 0 || (size_t)n >= sizeof(sts)) {
        rc = smg_error_set(err, SMG_ECONFIG, "S3 request signing: region name too long");
        goto out;
    }
    if (!signature(in, date, sts, sig)) {
        rc = smg_error_set(err, SMG_EINTERNAL, "S3 request signing: HMAC-SHA256 failed");
        goto out;
    }
    n = snprintf(out, cap,
                 "AWS4-HMAC-SHA256 Credential=%s/%s/%s/s3/aws4_request, SignedHeaders=%s, "
                 "Signature=%s",
                 in->access_key, date, in->region, (char *)names.data, sig);
    if (n < 0 || (size_t)n >= cap)
        rc = smg_error_set(err, SMG_ECONFIG, "S3 request signing: Authorization header too long");
out:
    smg_buf_free(&req);
    smg_buf_free(&names);
    return rc;
}

/*
 * One signed S3 request with retries, on a caller-owned libcurl easy handle
 * (reused from request to request, so its connection is kept alive).
 *
 * Each attempt is signed afresh (new x-amz-date). 500, 502, 503 (SlowDown),
 * 504, connection failures, resets, timeouts and stalls (less than 1 KiB/s
 * for SMALGO_S3_STALL_SECONDS) are retried up to max_attempts with
 * exponential backoff and jitter; a ranged GET resumes at the first byte not
 * yet received, so no byte is delivered twice. ExpiredToken reloads the
 * credentials once. Any other answer >= 300 fails at once with S3's own code
 * and message: "s3://b/k: NoSuchKey: The specified key does not exist. (HTTP
 * 404)", an SMG_EIO client error.
 */
#ifndef SMG_S3_REQUEST_H
#define SMG_S3_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/base/buffer.h"
#include "io/base/status.h"
#include "io/s3/s3_uri.h"

struct smg_s3_req {
    const char *method;           /* GET, PUT, POST, DELETE */
    const struct smg_s3_uri *uri; /* bucket and key ("" for the bucket itself) */
    const char *query;            /* canonical: sorted keys, encoded values; "" if none */
    bool ranged;                  /* send Range: bytes=range_first-range_last */
    uint64_t range_first, range_last;
    const void *body; /* request body (PUT/POST), body_len bytes; NULL for none */
    size_t body_len;
    const char *content_type; /* NULL: none */
    struct smg_buf *resp;     /* the 2xx answer's body is appended here */
    /* Filled in: */
    long status;
    uint64_t total; /* object size from Content-Range "/N", else UINT64_MAX */
    char etag[160]; /* ETag header, quotes kept */
    int retries;    /* attempts beyond the first */
};

/* Perform r on h (a curl easy handle). See above for errors. */
SMG_MUST_CHECK enum smg_status smg_s3_request(void *h, struct smg_s3_req *r, struct smg_error *err);

/* "s3://bucket/key" of r into buf. */
void smg_s3_req_name(const struct smg_s3_req *r, char *buf, size_t cap);

#endif

/*
 * Where S3 is and who we are, read once per process from the environment
 * and shared by every thread:
 *   region    AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1;
 *   endpoint  AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL: path-style requests
 *             (http://127.0.0.1:9000/bucket/key); else virtual-hosted
 *             https://bucket.s3.<region>.amazonaws.com/key;
 *   credentials  s3_credentials.h's chain, refreshed five minutes before they
 *             expire, or on demand after S3 answers ExpiredToken.
 * Tuning (tests shorten these): SMALGO_S3_MAX_ATTEMPTS (5), SMALGO_S3_BACKOFF_MS
 * (100, doubled per retry, capped at 5 s, with jitter), SMALGO_S3_STALL_SECONDS
 * (15: less than 1 KiB/s for that long is a stall, retried).
 */
#ifndef SMG_S3_ENV_H
#define SMG_S3_ENV_H

#include <stdbool.h>

#include "io/base/status.h"
#include "io/s3/s3_credentials.h"

struct smg_s3_env {
    char region[64];
    char endpoint[512]; /* "http://127.0.0.1:9000", no trailing '/'; "" for AWS */
    int max_attempts;
    long backoff_ms;
    long stall_seconds;
    struct smg_s3_creds creds;
};

/*
 * A snapshot of the environment with credentials valid for at least five
 * minutes (loading or refreshing them first). force_refresh reloads them
 * even when they look fresh (after ExpiredToken).
 */
SMG_MUST_CHECK enum smg_status smg_s3_env_get(struct smg_s3_env *out, bool force_refresh,
                                              struct smg_error *err);

#endif

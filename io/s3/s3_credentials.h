/*
 * AWS credentials, found in the order the AWS SDKs use:
 *   1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
 *   2. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
 *      ~/.aws/credentials), profile AWS_PROFILE (else "default");
 *   3. the container provider: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
 *      http://169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI, with the
 *      Authorization token from AWS_CONTAINER_AUTHORIZATION_TOKEN or the file
 *      named by AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;
 *   4. IMDSv2 on AWS_EC2_METADATA_SERVICE_ENDPOINT (else http://169.254.169.254),
 *      unless AWS_EC2_METADATA_DISABLED=true: PUT /latest/api/token, then the
 *      role under /latest/meta-data/iam/security-credentials/.
 * Temporary credentials (3 and 4) carry an expiry; callers refresh them five
 * minutes before it (smg_s3_credentials_stale). Every endpoint is
 * overridable, so tests point them at stubs on 127.0.0.1.
 */
#ifndef SMG_S3_CREDENTIALS_H
#define SMG_S3_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/status.h"

struct smg_s3_creds {
    char access_key[128];
    char secret_key[128];
    char token[4096];  /* session token, "" if none */
    long long expires; /* Unix seconds; 0 = does not expire */
    char source[64];   /* "environment", "shared credentials file", ... */
};

/*
 * Parse a shared credentials file (INI: [profile] sections, key = value,
 * '#' and ';' comments) for profile. SMG_EEOF when the profile is absent,
 * SMG_EFORMAT (naming the line) on a malformed line or a profile without
 * both keys.
 */
SMG_MUST_CHECK enum smg_status smg_s3_ini_credentials(const char *text, size_t len,
                                                      const char *profile, struct smg_s3_creds *out,
                                                      struct smg_error *err);

/*
 * Parse the container provider's / IMDS's JSON answer: AccessKeyId,
 * SecretAccessKey, Token, Expiration (ISO 8601, "2026-11-27T21:00:00Z").
 */
SMG_MUST_CHECK enum smg_status smg_s3_json_credentials(const char *text, size_t len,
                                                       struct smg_s3_creds *out,
                                                       struct smg_error *err);

/* Run the chain above. SMG_ECONFIG naming every place looked when none has credentials. */
SMG_MUST_CHECK enum smg_status smg_s3_credentials_load(struct smg_s3_creds *out,
                                                       struct smg_error *err);

/* True when creds expire within five minutes of now (Unix seconds). */
bool smg_s3_credentials_stale(const struct smg_s3_creds *creds, long long now);

#endif

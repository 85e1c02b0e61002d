/*
 * The credentials chain (see s3_credentials.h): environment, shared file,
 * container provider, IMDSv2. The HTTP providers use short timeouts (2 s) so
 * that a laptop without them fails in seconds, not minutes, and say which
 * places were tried.
 */
#include "io/s3/s3_credentials.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/base/buffer.h"
#include "io/s3/s3_http.h"

#define FILE_MAX_BYTES  ((size_t)1 << 20)
#define HTTP_TIMEOUT_MS 2000

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? v : NULL;
}

static bool from_env(struct smg_s3_creds *out)
{
    const char *ak = env("AWS_ACCESS_KEY_ID"), *sk = env("AWS_SECRET_ACCESS_KEY");
    const char *tok = env("AWS_SESSION_TOKEN");

    if (ak == NULL || sk == NULL || strlen(ak) >= sizeof(out->access_key) ||
        strlen(sk) >= sizeof(out->secret_key) || (tok && strlen(tok) >= sizeof(out->token)))
        return false;
    memset(out, 0, sizeof(*out));
    strcpy(out->access_key, ak);
    strcpy(out->secret_key, sk);
    if (tok != NULL)
        strcpy(out->token, tok);
    strcpy(out->source, "environment");
    return true;
}

/* SMG_OK: found; SMG_EEOF: no file or no such profile; else a broken file. */
static int from_file(struct smg_s3_creds *out, char *where, size_t cap, struct smg_error *err)
{
    const char *path = env("AWS_SHARED_CREDENTIALS_FILE"), *home = env("HOME");
    const char *profile = env("AWS_PROFILE") ? env("AWS_PROFILE") : "default";
    char buf[4096];
    struct smg_buf text;
    FILE *f;
    int rc;

    if (path == NULL && home != NULL) {
        snprintf(buf, sizeof(buf), "%s/.aws/credentials", home);
        path = buf;
    }
    if (path == NULL || (f = fopen(path, "rb")) == NULL)
        return SMG_EEOF;
    snprintf(where, cap, "%.400s [%.64s]", path, profile);
    smg_buf_init(&text, FILE_MAX_BYTES);
    for (;;) {
        char chunk[4096];
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n == 0)
            break;
        if ((rc = smg_buf_append(&text, chunk, n)) != SMG_OK) {
            fclose(f);
            smg_buf_free(&text);
            return smg_error_set(err, SMG_ECONFIG, "%s is larger than 1 MiB", path);
        }
    }
    fclose(f);
    rc = smg_s3_ini_credentials(text.data ? text.data : "", text.len, profile, out, err);
    smg_buf_free(&text);
    if (rc == SMG_OK)
        snprintf(out->source, sizeof(out->source), "shared credentials file");
    else if (rc != SMG_EEOF)
        smg_error_prefix(err, "%s: ", path);
    return rc;
}

static int token_header(char *hdr, size_t cap, struct smg_error *err)
{
    const char *tok = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    const char *file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    char buf[2048];

    hdr[0] = '\0';
    if (file != NULL) {
        FILE *f = fopen(file, "rb");
        size_t n;
        if (f == NULL)
            return smg_error_set(err, SMG_ECONFIG,
                                 "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s", file);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            n--;
        buf[n] = '\0';
        tok = buf;
    }
    if (tok != NULL && (strchr(tok, '\n') || strchr(tok, '\r')))
        return smg_error_set(err, SMG_ECONFIG, "the container authorization token has a newline");
    if (tok != NULL)
        snprintf(hdr, cap, "Authorization: %s", tok);
    return SMG_OK;
}

/* SMG_EEOF when no container provider is configured. */
static int from_container(struct smg_s3_creds *out, char *where, size_t cap, struct smg_error *err)
{
    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    char url[2048], hdr[2100];
    const char *headers[2] = {NULL, NULL};
    struct smg_buf body;
    long status = 0;
    int rc;

    if (rel == NULL && full == NULL)
        return SMG_EEOF;
    if (rel != NULL)
        snprintf(url, sizeof(url), "http://169.254.170.2%s", rel);
    else
        snprintf(url, sizeof(url), "%s", full);
    snprintf(where, cap, "container provider %.400s", url);
    if ((rc = token_header(hdr, sizeof(hdr), err)) != SMG_OK)
        return rc;
    headers[0] = hdr[0] ? hdr : NULL;
    smg_buf_init(&body, FILE_MAX_BYTES);
    rc = smg_s3_http_simple("GET", url, headers, HTTP_TIMEOUT_MS, &body, &status, err);
    if (rc == SMG_OK && status != 200)
        rc = smg_error_set(err, SMG_ECONFIG, "container credentials provider %s answered HTTP %ld",
                           url, status);
    if (rc == SMG_OK)
        rc = smg_s3_json_credentials(body.data ? body.data : "", body.len, out, err);
    smg_buf_free(&body);
    if (rc == SMG_OK)
        strcpy(out->source, "container credentials provider");
    return rc;
}

static int imds_get(const char *base, const char *path, const char *token_hdr, struct smg_buf *body,
                    struct smg_error *err)
{
    char url[2048];
    const char *headers[2] = {token_hdr, NULL};
    long status = 0;
    int rc;

    snprintf(url, sizeof(url), "%s%s", base, path);
    smg_buf_reset(body);
    rc = smg_s3_http_simple("GET", url, headers, HTTP_TIMEOUT_MS, body, &status, err);
    if (rc == SMG_OK && status != 200)
        rc = smg_error_set(err, SMG_ECONFIG, "instance metadata %s answered HTTP %ld", url, status);
    return rc;
}

static int from_imds(struct smg_s3_creds *out, char *where, size_t cap, struct smg_error *err)
{
    const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *off = env("AWS_EC2_METADATA_DISABLED");
    const char *ttl[2] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL};
    char url[2048], hdr[1200], role[256], path[400];
    struct smg_buf body;
    long status = 0;
    int rc;

    if (off != NULL && strcasecmp(off, "true") == 0)
        return SMG_EEOF;
    base = base ? base : "http://169.254.169.254";
    snprintf(where, cap, "instance metadata %.400s", base);
    snprintf(url, sizeof(url), "%s/latest/api/token", base);
    smg_buf_init(&body, FILE_MAX_BYTES);
    rc = smg_s3_http_simple("PUT", url, ttl, HTTP_TIMEOUT_MS, &body, &status, err);
    if (rc == SMG_OK && (status != 200 || body.len == 0 || body.len > 1000))
        rc = smg_error_set(err, SMG_ECONFIG, "instance metadata token request answered HTTP %ld",
                           status);
    if (rc == SMG_OK) {
        snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", body.data);
        rc = imds_get(base, "/latest/meta-data/iam/security-credentials/", hdr, &body, err);
    }
    if (rc == SMG_OK) {
        size_t n = strcspn(body.data ? body.data : "", "\r\n");
        if (n == 0 || n >= sizeof(role))
            rc = smg_error_set(err, SMG_ECONFIG, "instance metadata lists no IAM role");
        else
            snprintf(role, sizeof(role), "%.*s", (int)n, body.data);
    }
    if (rc == SMG_OK) {
        snprintf(path, sizeof(path), "/latest/meta-data/iam/security-credentials/%s", role);
        rc = imds_get(base, path, hdr, &body, err);
    }
    if (rc == SMG_OK)
        rc = smg_s3_json_credentials(body.data, body.len, out, err);
    smg_buf_free(&body);
    if (rc == SMG_OK)
        strcpy(out->source, "instance metadata (IMDSv2)");
    return rc;
}

enum smg_status smg_s3_credentials_load(struct smg_s3_creds *out, struct smg_error *err)
{
    char file_where[512] = "~/.aws/credentials", ctr[512] = "", imds[512] = "";
    int rc;

    if (from_env(out))
        return SMG_OK;
    if ((rc = from_file(out, file_where, sizeof(file_where), err)) != SMG_EEOF)
        return rc;
    if ((rc = from_container(out, ctr, sizeof(ctr), err)) != SMG_EEOF) {
        if (rc != SMG_OK)
            smg_error_prefix(err, "AWS credentials: ");
        return rc;
    }
    if ((rc = from_imds(out, imds, sizeof(imds), err)) != SMG_EEOF) {
        if (rc != SMG_OK)
            smg_error_prefix(err,
                             "no AWS credentials in the environment, %s or a container "
                             "provider, and ",
                             file_where);
        return rc;
    }
    return smg_error_set(err, SMG_ECONFIG,
                         "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                         "or a profile in %s (AWS_PROFILE), or run where a container or "
                         "instance provider serves them",
                         file_where);
}

/*
 * Signed S3 requests with retries (see s3_request.h). Per attempt: build the
 * URL (path-style on a custom endpoint, virtual-hosted on AWS), sign host,
 * x-amz-content-sha256, x-amz-date and x-amz-security-token, hand the same
 * header values to libcurl, and sort the answer into body (2xx) or error
 * text (anything else), so a failed attempt never pollutes the caller's bytes.
 */
#include "io/s3/s3_request.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/base/log.h"
#include "io/s3/s3_env.h"
#include "io/s3/s3_http.h"
#include "io/s3/s3_xml.h"
#include "io/s3/sigv4.h"

#define URL_MAX   4096
#define ERROR_MAX ((size_t)64 << 10)

struct attempt {
    struct smg_s3_req *r;
    struct smg_buf errbody;
    size_t written; /* body bytes appended by this attempt */
    long status;    /* from the status line */
};

void smg_s3_req_name(const struct smg_s3_req *r, char *buf, size_t cap)
{
    snprintf(buf, cap, "s3://%s/%s", r->uri->bucket, r->uri->key);
}

static size_t on_header(char *p, size_t size, size_t n, void *ctx)
{
    struct attempt *a = ctx;
    size_t len = size * n;
    char line[512];

    if (len >= sizeof(line))
        return len;
    memcpy(line, p, len);
    line[len] = '\0';
    if (strncmp(line, "HTTP/", 5) == 0) {
        const char *sp = strchr(line, ' ');
        a->status = sp ? strtol(sp + 1, NULL, 10) : 0;
    } else if (strncasecmp(line, "content-range:", 14) == 0) {
        const char *slash = strrchr(line, '/');
        if (slash && slash[1] >= '0' && slash[1] <= '9')
            a->r->total = strtoull(slash + 1, NULL, 10);
    } else if (strncasecmp(line, "etag:", 5) == 0) {
        const char *v = line + 5;
        while (*v == ' ')
            v++;
        snprintf(a->r->etag, sizeof(a->r->etag), "%.*s", (int)strcspn(v, "\r\n"), v);
    }
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
    struct attempt *a = ctx;
    size_t len = size * n;

    if (a->status >= 200 && a->status < 300) {
        if (a->r->resp == NULL)
            return len;
        if (smg_buf_append(a->r->resp, p, len) != SMG_OK)
            return 0; /* over the caller's cap: CURLE_WRITE_ERROR */
        a->written += len;
        return len;
    }
    if (smg_buf_append(&a->errbody, p, len) != SMG_OK)
        return len; /* a truncated error text is fine */
    return len;
}

/* URL and canonical URI of r. */
static bool build_url(const struct smg_s3_env *e, const struct smg_s3_req *r, char *url, char *curi,
                      char *host, size_t cap)
{
    char key[3 * SMG_S3_KEY_MAX + 1];
    int n;

    if (!smg_s3_uri_encode(r->uri->key, true, key, sizeof(key)))
        return false;
    if (e->endpoint[0] != '\0') {
        const char *h = strstr(e->endpoint, "://") + 3;
        snprintf(host, 256, "%.*s", (int)strcspn(h, "/"), h);
        n = snprintf(curi, cap, "%s/%s/%s", h + strcspn(h, "/"), r->uri->bucket, key);
        if (n < 0 || (size_t)n >= cap)
            return false;
        n = snprintf(url, cap, "%.*s%s%s%s", (int)(h - e->endpoint), e->endpoint, host, curi, "");
    } else {
        snprintf(host, 256, "%s.s3.%s.amazonaws.com", r->uri->bucket, e->region);
        n = snprintf(curi, cap, "/%s", key);
        if (n < 0 || (size_t)n >= cap)
            return false;
        n = snprintf(url, cap, "https://%s%s", host, curi);
    }
    if (n < 0 || (size_t)n >= cap)
        return false;
    if (r->query[0] != '\0' && strlen(url) + strlen(r->query) + 2 < cap) {
        strcat(url, "?");
        strcat(url, r->query);
    }
    return true;
}

static void amz_now(char *out)
{
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

/* The signed header list for libcurl. NULL on failure (err set). */
static struct curl_slist *sign_headers(const struct smg_s3_env *e, const struct smg_s3_req *r,
                                       const char *host, const char *curi, struct smg_error *err)
{
    char date[17], hash[SMG_SHA256_HEX_LEN + 1], auth[1024], line[4200];
    struct smg_s3_header hs[4] = {{"host", host},
                                  {"x-amz-content-sha256", hash},
                                  {"x-amz-date", date},
                                  {"x-amz-security-token", e->creds.token}};
    struct smg_s3_sign_input in = {r->method,
                                   curi,
                                   r->query,
                                   hs,
                                   e->creds.token[0] ? 4 : 3,
                                   hash,
                                   date,
                                   e->region,
                                   e->creds.access_key,
                                   e->creds.secret_key};
    struct curl_slist *l = NULL;

    amz_now(date);
    smg_sha256_hex(r->body ? r->body : "", r->body ? r->body_len : 0, hash);
    if (smg_s3_sign(&in, auth, sizeof(auth), err) != SMG_OK)
        return NULL;
    for (size_t i = 0; i < in.n_headers; i++) {
        snprintf(line, sizeof(line), "%s: %s", hs[i].name, hs[i].value);
        l = curl_slist_append(l, line);
    }
    snprintf(line, sizeof(line), "Authorization: %s", auth);
    l = curl_slist_append(l, line);
    l = curl_slist_append(l, "Expect:");
    if (r->content_type != NULL || r->body != NULL) {
        /* Never libcurl's default form type for a body: servers would parse it as a form. */
        snprintf(line, sizeof(line), "Content-Type: %s",
                 r->content_type ? r->content_type : "application/octet-stream");
        l = curl_slist_append(l, line);
    }
    if (r->ranged) {
        snprintf(line, sizeof(line), "Range: bytes=%" PRIu64 "-%" PRIu64, r->range_first,
                 r->range_last);
        l = curl_slist_append(l, line);
    }
    if (l == NULL)
        smg_error_set(err, SMG_ENOMEM, "out of memory building an S3 request");
    return l;
}

static void set_method(CURL *h, const struct smg_s3_req *r)
{
    if (strcmp(r->method, "GET") == 0)
        return;
    if (r->body != NULL || strcmp(r->method, "POST") == 0 || strcmp(r->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->body ? r->body_len : 0));
    }
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
}

/* One attempt: CURLE code, a->status and the bodies filled. */
static CURLcode attempt_once(CURL *h, const struct smg_s3_env *e, struct attempt *a,
                             struct smg_error *err, bool *sign_failed)
{
    char url[URL_MAX], curi[URL_MAX], host[256];
    struct smg_s3_req *r = a->r;
    struct curl_slist *hdrs;
    CURLcode cc;

    *sign_failed = false;
    if (!build_url(e, r, url, curi, host, sizeof(url))) {
        *sign_failed = true;
        smg_error_set(err, SMG_ECONFIG, "s3://%s/%.200s: key too long for a URL", r->uri->bucket,
                      r->uri->key);
        return CURLE_URL_MALFORMAT;
    }
    if ((hdrs = sign_headers(e, r, host, curi, err)) == NULL) {
        *sign_failed = true;
        return CURLE_OUT_OF_MEMORY;
    }
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, e->stall_seconds);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    set_method(h, r);
    cc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    return cc;
}

static bool retryable(CURLcode cc, long status)
{
    if (cc == CURLE_OK)
        return status == 500 || status == 502 || status == 503 || status == 504;
    return cc == CURLE_COULDNT_CONNECT || cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR ||
           cc == CURLE_PARTIAL_FILE || cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_GOT_NOTHING ||
           cc == CURLE_HTTP2 || cc == CURLE_HTTP2_STREAM;
}

/* A uniform draw in [0, 1) from a per-thread xorshift generator (rand() is not thread-safe). */
static double jitter(void)
{
    static _Thread_local uint64_t x;

    if (x == 0)
        x = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&x ^ 0x9E3779B97F4A7C15ULL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return (double)(x >> 11) / 9007199254740992.0;
}

static void backoff(const struct smg_s3_env *e, int attempt)
{
    double ms = (double)e->backoff_ms * (double)(1L << (attempt < 16 ? attempt : 16));
    struct timespec ts;

    if (ms > 5000)
        ms = 5000;
    ms = ms / 2 + ms / 2 * jitter(); /* equal jitter */
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000) * 1e6);
    nanosleep(&ts, NULL);
}

/* S3's <Code> and <Message> of an error answer, or the HTTP status alone. */
static int s3_error(const struct smg_s3_req *r, const struct attempt *a, struct smg_error *err)
{
    char name[SMG_S3_KEY_MAX + 80], code[128] = "", msg[512] = "";
    const char *doc = a->errbody.data ? a->errbody.data : "";
    size_t pos = 0;

    smg_s3_req_name(r, name, sizeof(name));
    if (smg_s3_xml_next(doc, a->errbody.len, &pos, "Code", code, sizeof(code)) != SMG_OK)
        snprintf(code, sizeof(code), "%s", a->status == 404 ? "NotFound" : "HTTP error");
    pos = 0;
    if (smg_s3_xml_next(doc, a->errbody.len, &pos, "Message", msg, sizeof(msg)) != SMG_OK)
        msg[0] = '\0';
    return smg_error_set(err, SMG_EIO, "%s: %s%s%s (HTTP %ld, %s)", name, code, msg[0] ? ": " : "",
                         msg, a->status, r->method);
}

/* Whether an endpoint URL's host is a loopback name or address. */
static bool loopback_endpoint(const char *url)
{
    const char *host = strstr(url, "://");

    host = host != NULL ? host + 3 : url;
    return strncmp(host, "127.", 4) == 0 || strncmp(host, "localhost", 9) == 0 ||
           strncmp(host, "[::1]", 5) == 0;
}

/*
 * No HTTP answer after the last attempt. When a custom endpoint cannot be
 * reached, the message names it; a loopback one also says why it fails inside
 * a container: SageMaker SDK local mode passes the endpoint it used on the host
 * (AWS_ENDPOINT_URL_S3) unchanged, and there 127.0.0.1 is the container.
 */
static int transport_error(const struct smg_s3_env *e, const struct smg_s3_req *r, const char *name,
                           CURLcode cc, int attempt, struct smg_error *err)
{
    const char *s = attempt > 1 ? "s" : "";

    if ((cc != CURLE_COULDNT_CONNECT && cc != CURLE_COULDNT_RESOLVE_HOST) || e->endpoint[0] == '\0')
        return smg_error_set(err, SMG_EIO, "%s: %s %s after %d attempt%s", name, r->method,
                             curl_easy_strerror(cc), attempt, s);
    return smg_error_set(
        err, SMG_EIO,
        "%s: %s %s after %d attempt%s: the S3 endpoint %s (AWS_ENDPOINT_URL_S3 or "
        "AWS_ENDPOINT_URL) is not reachable from here%s",
        name, r->method, curl_easy_strerror(cc), attempt, s, e->endpoint,
        loopback_endpoint(e->endpoint)
            ? "; a loopback address reaches only this host, or in a container only the "
              "container: in SageMaker SDK local mode give an address the containers reach "
              "(docker/local-s3.sh prints one)"
            : "");
}

static bool expired(const struct attempt *a)
{
    return a->errbody.data != NULL && (strstr(a->errbody.data, "<Code>ExpiredToken</Code>") ||
                                       strstr(a->errbody.data, "<Code>TokenRefreshRequired<"));
}

enum smg_status smg_s3_request(void *h, struct smg_s3_req *r, struct smg_error *err)
{
    struct smg_s3_env e;
    struct attempt a = {r, {0}, 0, 0};
    uint64_t first = r->range_first;
    bool refreshed = false, sign_failed;
    char name[SMG_S3_KEY_MAX + 80];
    int rc;

    smg_s3_curl_init();
    if ((rc = smg_s3_env_get(&e, false, err)) != SMG_OK)
        return rc;
    smg_s3_req_name(r, name, sizeof(name));
    smg_buf_init(&a.errbody, ERROR_MAX);
    r->total = UINT64_MAX;
    r->retries = 0;
    for (int attempt = 1;; attempt++) {
        CURLcode cc;
        smg_buf_reset(&a.errbody);
        a.status = 0;
        r->etag[0] = '\0';
        if (r->ranged)
            r->range_first = first + a.written; /* resume where the last attempt stopped */
        cc = attempt_once(h, &e, &a, err, &sign_failed);
        r->status = a.status;
        if (sign_failed) {
            rc = err != NULL && err->status ? err->status : SMG_EINTERNAL;
            break;
        }
        if (cc == CURLE_OK && a.status >= 200 && a.status < 300) {
            rc = SMG_OK;
            break;
        }
        if (cc == CURLE_WRITE_ERROR) {
            rc = smg_error_set(err, SMG_EFORMAT, "%s: answer larger than expected", name);
            break;
        }
        if (cc == CURLE_OK && expired(&a) && !refreshed) {
            refreshed = true;
            if ((rc = smg_s3_env_get(&e, true, err)) != SMG_OK)
                break;
            continue;
        }
        if (!retryable(cc, a.status) || attempt >= e.max_attempts) {
            if (cc != CURLE_OK)
                rc = transport_error(&e, r, name, cc, attempt, err);
            else
                rc = s3_error(r, &a, err);
            if (cc == CURLE_OK && attempt > 1)
                smg_error_prefix(err, "after %d attempts: ", attempt);
            break;
        }
        smg_log_warn("S3 %s %s: %s, retry %d of %d", r->method, name,
                     cc != CURLE_OK ? curl_easy_strerror(cc)
                                    : (a.status == 503 ? "HTTP 503 SlowDown" : "HTTP 5xx"),
                     attempt, e.max_attempts - 1);
        r->retries++;
        backoff(&e, attempt - 1);
    }
    r->range_first = first;
    smg_buf_free(&a.errbody);
    return rc;
}

/*
 * SageMaker hosting endpoints on libmicrohttpd (interface in serve_http.h).
 *
 * libmicrohttpd calls the access handler several times per request: once with
 * the headers (we route, check Content-Length against the payload limit and
 * allocate per-request state), then once per chunk of body (appended to a
 * buffer, or dropped once the limit is passed), then once more with no data,
 * when the request is answered. The /ping and /execution-parameters responses
 * never change, so they are built once and shared by every thread.
 *
 * Every answer to /invocations, good or bad, is produced by the same thread
 * that read the request; nothing is shared between requests but the read-only
 * model, so no locks are needed.
 */
#include "runtime/serve_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "io/base/alloc.h"
#include "io/base/buffer.h"
#include "io/base/log.h"
#include "io/codec.h"
#include "io/infer_request.h"
#include "io/infer_response.h"
#include "io/json_string.h"

#ifdef SMALGO_HAVE_MHD
#include <microhttpd.h>

struct request {
    struct smg_buf body; /* capped at the payload limit */
    bool too_big;
};

struct smg_serve_http {
    struct MHD_Daemon *daemon;
    const struct smg_serve_model *model;
    struct smg_serve_config cfg;
    size_t max_rows;
    struct MHD_Response *ping;
    struct MHD_Response *exec_params;
    unsigned port;
    struct request other; /* marks a request that is not an invocation */
};

static enum MHD_Result send_buffer(struct MHD_Connection *c, unsigned status, struct smg_buf *b,
                                   const char *mime)
{
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t len;
    char *data = smg_buf_take(b, &len);

    r = MHD_create_response_from_buffer_with_free_callback(len, data, smg_free);
    if (r == NULL) {
        smg_free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Answer status with {"error": "<message>"} and log it. */
static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
    struct smg_buf b;
    char msg[SMG_ERROR_MSG_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    smg_log_warn("HTTP %u: %s", status, msg);
    smg_buf_init(&b, (size_t)8 * SMG_ERROR_MSG_MAX);
    if (smg_buf_append_str(&b, "{\"error\": ") != SMG_OK ||
        smg_json_put_string(&b, msg) != SMG_OK || smg_buf_append_str(&b, "}\n") != SMG_OK) {
        smg_buf_free(&b);
        return MHD_NO;
    }
    return send_buffer(c, status, &b, "application/json");
}

static unsigned status_for(int rc)
{
    switch (rc) {
    case SMG_EFORMAT: return MHD_HTTP_BAD_REQUEST;
    case SMG_ENOMEM: return MHD_HTTP_SERVICE_UNAVAILABLE;
    default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
}

static enum MHD_Result invoke(struct smg_serve_http *h, struct MHD_Connection *c,
                              struct request *rq)
{
    const char *ctype, *accept_hdr;
    struct smg_infer_format fmt;
    const struct smg_codec *accept;
    struct smg_buf out;
    struct smg_error err;
    float *x = NULL;
    size_t n = 0;
    int rc;
    enum MHD_Result ret;

    smg_error_clear(&err);
    smg_buf_init(&out, SIZE_MAX);
    if (rq->too_big)
        return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
                          "request body is larger than the payload limit of %zu bytes "
                          "(SAGEMAKER_MAX_PAYLOAD_IN_MB=%u)",
                          h->cfg.max_payload_bytes, h->cfg.max_payload_mb);
    ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (smg_infer_format_parse(ctype, &fmt, &err) != SMG_OK)
        return send_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "%s", err.msg);
    accept_hdr = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    if (smg_infer_accept_parse(accept_hdr, &accept, &err) != SMG_OK ||
        smg_serve_model_check_accept(h->model, accept, &err) != SMG_OK)
        return send_error(c, MHD_HTTP_NOT_ACCEPTABLE, "%s", err.msg);
    if (rq->body.len == 0)
        return send_error(c, MHD_HTTP_BAD_REQUEST, "request body is empty");

    rc = smg_infer_request_decode(rq->body.data, rq->body.len, &fmt,
                                  smg_serve_model_feature_dim(h->model), h->max_rows, &x, &n, &err);
    if (rc == SMG_OK)
        rc = smg_serve_model_predict(h->model, x, n, accept, &out, &err);
    smg_free(x);
    if (rc != SMG_OK) {
        smg_buf_free(&out);
        return send_error(c, status_for(rc), "%s", err.msg);
    }
    ret = send_buffer(c, MHD_HTTP_OK, &out, accept->mime);
    return ret;
}

static bool is_get(const char *method)
{
    return strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
}

static bool expects_continue(struct MHD_Connection *c)
{
    const char *e = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);
    return e != NULL && strcasecmp(e, "100-continue") == 0;
}

/* First call for POST /invocations: check the announced size, set up state. */
static enum MHD_Result begin_invocation(struct smg_serve_http *h, struct MHD_Connection *c,
                                        void **con_cls)
{
    const char *cl;
    struct request *rq;
    unsigned long long announced = 0;
    bool known = false;

    cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL && *cl != '\0') {
        known = true;
        for (const char *p = cl; *p != '\0'; p++) {
            if (*p < '0' || *p > '9' || announced > (1ULL << 50)) {
                known = false;
                break;
            }
            announced = announced * 10 + (unsigned long long)(*p - '0');
        }
    }
    /*
     * Too big: a client waiting for "100 Continue" gets the 413 at once and
     * never sends the body. Any other client is already sending it; answering
     * now and closing could reset the connection before it reads the 413, so
     * the body is read and dropped and the 413 sent at the end.
     */
    if (known && announced > h->cfg.max_payload_bytes && expects_continue(c))
        return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
                          "request body of %llu bytes is larger than the payload limit of %zu "
                          "bytes (SAGEMAKER_MAX_PAYLOAD_IN_MB=%u)",
                          announced, h->cfg.max_payload_bytes, h->cfg.max_payload_mb);
    rq = smg_calloc(1, sizeof(*rq));
    if (rq == NULL)
        return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory for a new request");
    smg_buf_init(&rq->body, h->cfg.max_payload_bytes);
    if (known && announced > h->cfg.max_payload_bytes)
        rq->too_big = true;
    else if (known && announced > 0 && smg_buf_reserve(&rq->body, (size_t)announced) != SMG_OK)
        smg_log_debug("no room reserved for a %llu-byte body; it grows as it comes", announced);
    *con_cls = rq;
    return MHD_YES;
}

/*
 * Past the payload limit (the buffer's cap) the body is dropped and a 413
 * sent at the end. Out of memory is treated the same way: the client gets a
 * 413 rather than a hang.
 */
static void append_body(struct request *rq, const char *data, size_t n)
{
    if (rq->too_big)
        return;
    if (smg_buf_append(&rq->body, data, n) != SMG_OK) {
        rq->too_big = true;
        smg_buf_free(&rq->body);
    }
}

/* GET endpoints and errors, answered once the (normally empty) body is read. */
static enum MHD_Result route_other(struct smg_serve_http *h, struct MHD_Connection *c,
                                   const char *url, const char *method)
{
    if (strcmp(url, "/invocations") == 0)
        return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "/invocations takes POST, not %.20s",
                          method);
    if (strcmp(url, "/ping") == 0 || strcmp(url, "/execution-parameters") == 0) {
        if (!is_get(method))
            return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "%s takes GET, not %.20s", url,
                              method);
        return MHD_queue_response(c, MHD_HTTP_OK, url[1] == 'p' ? h->ping : h->exec_params);
    }
    return send_error(c, MHD_HTTP_NOT_FOUND,
                      "no such endpoint '%.100s'; this server answers GET /ping, POST "
                      "/invocations and GET /execution-parameters",
                      url);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    struct smg_serve_http *h = cls;
    struct request *rq = *con_cls;

    (void)version;
    if (rq == NULL) {
        if (strcmp(url, "/invocations") == 0 && strcmp(method, MHD_HTTP_METHOD_POST) == 0)
            return begin_invocation(h, c, con_cls);
        /*
         * Answer on the next call: libmicrohttpd closes the connection after a
         * response queued before the request was read, which would defeat
         * keep-alive for /ping.
         */
        *con_cls = &h->other;
        return MHD_YES;
    }
    if (rq == &h->other) {
        if (*upload_data_size > 0) {
            *upload_data_size = 0; /* a body on GET: ignored */
            return MHD_YES;
        }
        return route_other(h, c, url, method);
    }
    if (*upload_data_size > 0) {
        append_body(rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return invoke(h, c, rq);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct request *rq = *con_cls;

    (void)c;
    (void)toe;
    if (rq != NULL && rq != &((struct smg_serve_http *)cls)->other) {
        smg_buf_free(&rq->body);
        smg_free(rq);
        *con_cls = NULL;
    }
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    smg_log_warn("libmicrohttpd: %s", msg);
}

static struct MHD_Response *static_response(const char *body, const char *mime)
{
    struct MHD_Response *r;

    r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r != NULL && mime != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
    return r;
}

enum smg_status smg_serve_http_start(const struct smg_serve_config *cfg,
                                     const struct smg_serve_model *model,
                                     struct smg_serve_http **out, struct smg_error *err)
{
    struct smg_serve_http *h;
    struct sockaddr_in addr;
    char params[256];
    size_t d = smg_serve_model_feature_dim(model), budget;
    const union MHD_DaemonInfo *info;

    *out = NULL;
    h = smg_calloc(1, sizeof(*h));
    if (h == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory starting the server");
    h->cfg = *cfg;
    h->model = model;
    /* Decoded rows may not take more than max(64 MiB, 4 x payload limit). */
    budget = cfg->max_payload_bytes * 4 > ((size_t)64 << 20) ? cfg->max_payload_bytes * 4
                                                             : ((size_t)64 << 20);
    h->max_rows = budget / (d * sizeof(float));
    if (h->max_rows == 0)
        h->max_rows = 1;

    snprintf(params, sizeof(params),
             "{\"MaxConcurrentTransforms\": %u, \"BatchStrategy\": \"%s\", "
             "\"MaxPayloadInMB\": %u}",
             cfg->max_concurrent, cfg->batch_strategy, cfg->max_payload_mb);
    h->ping = static_response("", NULL);
    h->exec_params = static_response(params, "application/json");
    if (h->ping == NULL || h->exec_params == NULL) {
        smg_serve_http_stop(h);
        return smg_error_set(err, SMG_ENOMEM, "out of memory starting the server");
    }

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)cfg->port);
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    if (cfg->bind_addr != NULL && inet_pton(AF_INET, cfg->bind_addr, &addr.sin_addr) != 1) {
        smg_serve_http_stop(h);
        return smg_error_set(err, SMG_ECONFIG, "--bind '%s' is not an IPv4 address",
                             cfg->bind_addr);
    }

    h->daemon = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_TURBO, (uint16_t)cfg->port, NULL,
        NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned int)(cfg->threads ? cfg->threads : 1), MHD_OPTION_NOTIFY_COMPLETED, completed, h,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120, MHD_OPTION_END);
    if (h->daemon == NULL) {
        smg_serve_http_stop(h);
        return smg_error_set(err, SMG_EIO,
                             "cannot listen on %s:%u (port in use, or not permitted?)",
                             cfg->bind_addr ? cfg->bind_addr : "0.0.0.0", cfg->port);
    }
    info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info != NULL ? info->port : cfg->port;
    *out = h;
    return SMG_OK;
}

unsigned smg_serve_http_port(const struct smg_serve_http *h)
{
    return h->port;
}

void smg_serve_http_stop(struct smg_serve_http *h)
{
    if (h == NULL)
        return;
    if (h->daemon != NULL)
        MHD_stop_daemon(h->daemon);
    if (h->ping != NULL)
        MHD_destroy_response(h->ping);
    if (h->exec_params != NULL)
        MHD_destroy_response(h->exec_params);
    smg_free(h);
}

#else /* !SMALGO_HAVE_MHD */

struct smg_serve_http {
    unsigned port;
};

enum smg_status smg_serve_http_start(const struct smg_serve_config *cfg,
                                     const struct smg_serve_model *model,
                                     struct smg_serve_http **out, struct smg_error *err)
{
    (void)cfg;
    (void)model;
    *out = NULL;
    return smg_error_set(err, SMG_ECONFIG,
                         "this smalgo was built without libmicrohttpd; `serve` is unavailable");
}

unsigned smg_serve_http_port(const struct smg_serve_http *h)
{
    return h->port;
}

void smg_serve_http_stop(struct smg_serve_http *h)
{
    (void)h;
}

#endif

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
 * An invocation whose body has arrived is suspended and queued to the
 * scoring pool (serve_pool.h), so libmicrohttpd's threads stay free for /ping
 * however busy scoring is. A pool thread decodes the body (then frees it),
 * scores every row once without writing text, to find an error before the
 * status line is sent (a value beyond float32 is a 400 naming the row), and
 * resumes the connection. A sparse recordIO body is decoded to CSR rows and
 * scored as such (infer_request.h): never densified. libmicrohttpd's thread then streams the
 * answer: each call of the content reader scores and encodes the next slice of STREAM_ROWS rows
 * (smg_infer_response_join stitches JSON slices into one document). So a request's memory is its
 * body, then its decoded rows (at most 2x the payload limit, max_rows_bytes: rows x d floats when
 * dense, the stored values when sparse) and one slice of text, whatever the size of the response.
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
#include "runtime/serve_pool.h"

#ifdef SMALGO_HAVE_MHD
#include <microhttpd.h>

#define STREAM_ROWS 1024

enum request_state { RQ_READING, RQ_QUEUED, RQ_READY };

struct smg_serve_http;

struct request {
    struct smg_serve_job job; /* first: the pool hands it back */
    struct smg_serve_http *h;
    struct MHD_Connection *conn;
    enum request_state state;
    struct smg_buf body; /* capped at the payload limit */
    bool too_big;
    /* Set before queueing: */
    struct smg_infer_format fmt;
    const struct smg_codec *accept;
    /* Set by the pool thread: an error to answer, or the rows to stream. */
    unsigned status; /* 0: stream */
    char errmsg[SMG_ERROR_MSG_MAX];
    struct smg_infer_rows rows; /* dense or CSR (infer_request.h) */
    size_t n, next_row;
    struct smg_buf chunk;
    size_t chunk_pos;
};

struct smg_serve_http {
    struct MHD_Daemon *daemon;
    struct smg_serve_pool *pool;
    const struct smg_serve_model *model;
    struct smg_serve_config cfg;
    size_t max_rows_bytes; /* the most one request's decoded rows may take */
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

/* Encodes nothing: scoring through it only checks the values (infer_response.h). */
static enum smg_status encode_nothing(const struct smg_infer_result *res, struct smg_buf *out,
                                      struct smg_error *err)
{
    (void)res;
    (void)out;
    (void)err;
    return SMG_OK;
}

static const struct smg_codec check_only = {.mime = "", .encode = encode_nothing};

/* Score rows [from, from + rows) with codec, appending to out. */
static int score_slice(const struct request *rq, const struct smg_codec *codec, size_t from,
                       size_t rows, struct smg_buf *out, struct smg_error *err)
{
    struct smg_batch all = smg_infer_rows_batch(&rq->rows);
    struct smg_batch slice = smg_batch_slice(&all, from, rows);

    return smg_serve_model_predict(rq->h->model, &slice, codec, out, err);
}

/* On a pool thread: decode, free the body, check every row scores, resume. */
static void run_request(struct smg_serve_job *job)
{
    struct request *rq = (struct request *)job;
    struct smg_serve_http *h = rq->h;
    struct smg_error err;
    struct smg_buf none;
    int rc;

    smg_error_clear(&err);
    smg_buf_init(&none, 0);
    rc = smg_infer_request_decode_rows(rq->body.data, rq->body.len, &rq->fmt,
                                       smg_serve_model_feature_dim(h->model), h->max_rows_bytes,
                                       &rq->rows, &err);
    rq->n = rq->rows.n;
    smg_buf_free(&rq->body);
    for (size_t i = 0; rc == SMG_OK && i < rq->n; i += STREAM_ROWS)
        rc = score_slice(rq, &check_only, i, rq->n - i < STREAM_ROWS ? rq->n - i : STREAM_ROWS,
                         &none, &err);
    if (rc != SMG_OK) {
        rq->status = status_for(rc);
        snprintf(rq->errmsg, sizeof(rq->errmsg), "%s", err.msg);
    }
    rq->state = RQ_READY;
    MHD_resume_connection(rq->conn);
}

/* libmicrohttpd's content reader: the next bytes of the answer, a slice at a time. */
static ssize_t stream_answer(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct request *rq = cls;
    struct smg_buf part;
    struct smg_error err;
    size_t avail;

    (void)pos;
    while (rq->chunk_pos == rq->chunk.len) {
        size_t from = rq->next_row, rows = rq->n - from < STREAM_ROWS ? rq->n - from : STREAM_ROWS;
        int rc;
        if (from >= rq->n)
            return MHD_CONTENT_READER_END_OF_STREAM;
        smg_error_clear(&err);
        smg_buf_init(&part, SIZE_MAX);
        rq->chunk.len = rq->chunk_pos = 0;
        rc = score_slice(rq, rq->accept, from, rows, &part, &err);
        if (rc == SMG_OK)
            rc = smg_infer_response_join(rq->accept, part.data, part.len, from == 0,
                                         from + rows == rq->n, &rq->chunk);
        smg_buf_free(&part);
        if (rc != SMG_OK) {
            smg_log_warn("response cut at row %zu of %zu: %s", from, rq->n,
                         err.msg[0] ? err.msg : smg_status_str(rc));
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        rq->next_row = from + rows;
    }
    avail = rq->chunk.len - rq->chunk_pos;
    if (avail > max)
        avail = max;
    memcpy(buf, rq->chunk.data + rq->chunk_pos, avail);
    rq->chunk_pos += avail;
    return (ssize_t)avail;
}

/* Back on libmicrohttpd's thread after run_request: the error, or the streamed answer. */
static enum MHD_Result answer(struct MHD_Connection *c, struct request *rq)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (rq->status != 0)
        return send_error(c, rq->status, "%s", rq->errmsg);
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_answer, rq, NULL);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rq->accept->mime);
    ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* The body has arrived: answer what the headers alone decide, else queue for scoring. */
static enum MHD_Result invoke(struct smg_serve_http *h, struct MHD_Connection *c,
                              struct request *rq)
{
    const char *ctype, *accept_hdr;
    struct smg_error err;

    smg_error_clear(&err);
    if (rq->too_big)
        return send_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
                          "request body is larger than the payload limit of %zu bytes "
                          "(SAGEMAKER_MAX_PAYLOAD_IN_MB=%u)",
                          h->cfg.max_payload_bytes, h->cfg.max_payload_mb);
    ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (smg_infer_format_parse(ctype, &rq->fmt, &err) != SMG_OK)
        return send_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "%s", err.msg);
    accept_hdr = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    if (smg_infer_accept_parse(accept_hdr, &rq->accept, &err) != SMG_OK ||
        smg_serve_model_check_accept(h->model, rq->accept, &err) != SMG_OK)
        return send_error(c, MHD_HTTP_NOT_ACCEPTABLE, "%s", err.msg);
    if (rq->body.len == 0)
        return send_error(c, MHD_HTTP_BAD_REQUEST, "request body is empty");
    rq->h = h;
    rq->conn = c;
    rq->state = RQ_QUEUED;
    rq->job.run = run_request;
    MHD_suspend_connection(c);
    smg_serve_pool_submit(h->pool, &rq->job);
    return MHD_YES;
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
    smg_buf_init(&rq->chunk, SIZE_MAX);
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
    if (rq->state == RQ_READY)
        return answer(c, rq);
    if (rq->state == RQ_QUEUED)
        return MHD_YES; /* not called while suspended; nothing to do if it were */
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
        smg_buf_free(&rq->chunk);
        smg_infer_rows_free(&rq->rows);
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
    size_t d = smg_serve_model_feature_dim(model);
    const union MHD_DaemonInfo *info;

    *out = NULL;
    h = smg_calloc(1, sizeof(*h));
    if (h == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory starting the server");
    h->cfg = *cfg;
    h->model = model;
    /*
     * Decoded rows may not take more than 2 x the payload limit (a CSV value
     * takes at least 2 bytes of text, "1,", and 4 as a float), so body plus
     * rows stay within 3 x, and the answer streams in slices. Dense rows count
     * rows x d floats (at least one row is always accepted); sparse rows their
     * stored values and rows only (smg_csr_buf_bytes), never rows x d.
     */
    h->max_rows_bytes = cfg->max_payload_bytes * 2;
    if (h->max_rows_bytes < d * sizeof(float))
        h->max_rows_bytes = d * sizeof(float);

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

    if (smg_serve_pool_new(cfg->threads ? cfg->threads : 1, &h->pool, err) != SMG_OK) {
        smg_serve_http_stop(h);
        return err->status;
    }
    h->daemon = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME,
        (uint16_t)cfg->port, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned int)(cfg->threads > 2 ? cfg->threads : 2), MHD_OPTION_NOTIFY_COMPLETED, completed,
        h, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120, MHD_OPTION_END);
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
        MHD_quiesce_daemon(h->daemon); /* no new connections */
    smg_serve_pool_free(h->pool);      /* queued requests finish and resume */
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

/*
 * The SageMaker hosting HTTP interface over libmicrohttpd:
 *
 *   GET  /ping                  200, empty body (the model is loaded before we listen)
 *   POST /invocations           decode the body by Content-Type, score it as one
 *                               batch, answer in the format Accept asks for
 *   GET  /execution-parameters  {"MaxConcurrentTransforms": n, "BatchStrategy":
 *                               "MultiRecord", "MaxPayloadInMB": 6}
 *
 * Bad requests get a 4xx and a one-line JSON body {"error": "..."} saying what
 * was wrong: 400 unparsable body or wrong feature count, 404 unknown path, 405
 * wrong method, 406 unsupported Accept, 413 body over the payload limit, 415
 * unsupported Content-Type. The server keeps serving after any of them.
 *
 * libmicrohttpd runs a pool of `threads` threads, each with its own epoll loop;
 * a request is handled start to finish on the thread that read it.
 */
#ifndef SMG_SERVE_HTTP_H
#define SMG_SERVE_HTTP_H

#include <stddef.h>

#include "io/base/status.h"
#include "runtime/serve_model.h"

struct smg_serve_config {
    const char *bind_addr;      /* IPv4 address to listen on; NULL = all interfaces */
    unsigned port;              /* 0 picks a free port (see smg_serve_http_port) */
    unsigned threads;           /* worker threads, >= 1 */
    size_t max_payload_bytes;   /* larger request bodies get 413 */
    unsigned max_payload_mb;    /* as reported by /execution-parameters */
    unsigned max_concurrent;    /* MaxConcurrentTransforms */
    const char *batch_strategy; /* "MultiRecord" or "SingleRecord" */
};

struct smg_serve_http;

/* Start listening; requests are served on background threads until _stop. */
SMG_MUST_CHECK enum smg_status smg_serve_http_start(const struct smg_serve_config *cfg,
                                                    const struct smg_serve_model *model,
                                                    struct smg_serve_http **out,
                                                    struct smg_error *err);

unsigned smg_serve_http_port(const struct smg_serve_http *h); /* the bound port */

/* Stop listening, finish with open connections and free h. Accepts NULL. */
void smg_serve_http_stop(struct smg_serve_http *h);

#endif

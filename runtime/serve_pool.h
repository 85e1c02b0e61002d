/*
 * The server's scoring threads: a fixed pool that runs queued jobs in order.
 *
 * Why a pool of its own: libmicrohttpd's threads read requests and answer
 * /ping; if they also decoded and scored bodies, a few large requests would
 * hold every one of them for seconds and SageMaker's 2 s health check would
 * fail on a busy but healthy endpoint. So an invocation whose body has
 * arrived is suspended in libmicrohttpd and queued here; a pool thread
 * decodes and checks it, then resumes the connection, and libmicrohttpd's
 * thread streams the answer (serve_http.c).
 */
#ifndef SMG_SERVE_POOL_H
#define SMG_SERVE_POOL_H

#include "io/base/status.h"

/* How much nicer the pool's threads are than the rest of the server. */
#define SMG_SERVE_POOL_NICE 10

struct smg_serve_job {
    void (*run)(struct smg_serve_job *job); /* called once, on a pool thread */
    struct smg_serve_job *next;             /* the pool's queue link */
};

struct smg_serve_pool;

SMG_MUST_CHECK enum smg_status smg_serve_pool_new(unsigned threads, struct smg_serve_pool **out,
                                                  struct smg_error *err);

/* Queue job; it runs on the first free thread, in submission order. */
void smg_serve_pool_submit(struct smg_serve_pool *p, struct smg_serve_job *job);

/* Run every queued job, then join the threads and free p. Accepts NULL. */
void smg_serve_pool_free(struct smg_serve_pool *p);

#endif

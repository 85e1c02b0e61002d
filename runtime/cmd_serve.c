/*
 * `smalgo serve`: the SageMaker hosting entry point (`docker run IMAGE serve`).
 *
 * Order matters: the model is loaded and checked first, so a missing or corrupt
 * model_algo-1 ends the process with a clear message and a non-zero status
 * before anything listens (SageMaker then reports the container as failed
 * instead of sending traffic to it). Then the HTTP server starts on port 8080,
 * or SAGEMAKER_BIND_TO_PORT, or --port, and the main thread waits for SIGTERM
 * or SIGINT, on which it stops accepting, lets the pool finish and exits 0.
 *
 * Batch-transform settings come from SAGEMAKER_MAX_PAYLOAD_IN_MB (default 6),
 * SAGEMAKER_BATCH_STRATEGY (SINGLE_RECORD or MULTI_RECORD, any case) and
 * SAGEMAKER_MAX_CONCURRENT_TRANSFORMS (default: the number of worker threads).
 * An invalid value is a startup error, not a silent default.
 *
 * OpenBLAS is limited to one thread: concurrency comes from the HTTP worker
 * pool, and a BLAS pool per request on top of it would only oversubscribe.
 */
#include <ctype.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "algorithms/blas_threads.h"

#include "io/base/log.h"
#include "runtime/algorithm.h"
#include "runtime/commands.h"
#include "runtime/serve_http.h"
#include "runtime/serve_model.h"
#include "runtime/serve_model_data.h"

#define DEFAULT_MODEL_DIR  "/opt/ml/model"
#define DEFAULT_PORT       8080
#define DEFAULT_PAYLOAD_MB 6
#define MAX_PAYLOAD_MB     1024

static void usage(FILE *out)
{
    fprintf(out, "usage: smalgo serve [--model-dir DIR] [--port N] [--bind ADDR] [--threads N]\n"
                 "\n"
                 "Serve a SageMaker model_algo-1 over HTTP: GET /ping, POST /invocations, GET\n"
                 "/execution-parameters. Models of:");
    for (size_t i = 0; smg_algorithms[i] != NULL; i++)
        fprintf(out, "%s %s", i ? "," : "", smg_algorithms[i]->title);
    fprintf(out, ".\n"
                 "\n"
                 "  --model-dir DIR  folder holding model_algo-1 (default " DEFAULT_MODEL_DIR ")\n"
                 "  --model-data SRC first unpack SRC, a model.tar.gz (s3:// or local), there\n"
                 "  --port N         port (default $SAGEMAKER_BIND_TO_PORT, else 8080)\n"
                 "  --bind ADDR      IPv4 address to listen on (default all)\n"
                 "  --threads N      worker threads (default $SAGEMAKER_MODEL_SERVER_WORKERS,\n"
                 "                   else the number of CPUs)\n"
                 "\n"
                 "environment: SAGEMAKER_BIND_TO_PORT, SAGEMAKER_MAX_PAYLOAD_IN_MB (default 6),\n"
                 "SAGEMAKER_BATCH_STRATEGY, SAGEMAKER_MAX_CONCURRENT_TRANSFORMS,\n"
                 "SAGEMAKER_MODEL_SERVER_WORKERS\n");
}

/* Strict decimal in [lo, hi], surrounding whitespace allowed. */
static bool parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    unsigned long v = 0;
    bool digits = false;

    while (isspace((unsigned char)*s))
        s++;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (unsigned long)(*s - '0');
        digits = true;
        if (v > hi)
            return false;
    }
    while (isspace((unsigned char)*s))
        s++;
    if (!digits || *s != '\0' || v < lo)
        return false;
    *out = v;
    return true;
}

static int env_uint(const char *name, unsigned long lo, unsigned long hi, unsigned long *out)
{
    const char *v = getenv(name);

    if (v == NULL || *v == '\0')
        return 0;
    if (!parse_uint(v, lo, hi, out)) {
        fprintf(stderr, "smalgo serve: %s='%s' is not an integer in [%lu, %lu]\n", name, v, lo, hi);
        return -1;
    }
    return 1;
}

/* SINGLE_RECORD / SingleRecord / single_record ... -> the API spelling. */
static const char *batch_strategy(const char *v)
{
    char norm[32];
    size_t n = 0;

    if (v == NULL || *v == '\0')
        return "MultiRecord";
    for (; *v != '\0' && n + 1 < sizeof(norm); v++)
        if (*v != '_' && *v != '-' && !isspace((unsigned char)*v))
            norm[n++] = (char)tolower((unsigned char)*v);
    norm[n] = '\0';
    if (strcmp(norm, "multirecord") == 0)
        return "MultiRecord";
    if (strcmp(norm, "singlerecord") == 0)
        return "SingleRecord";
    return NULL;
}

struct serve_opts {
    const char *model_dir, *bind_addr, *strategy, *model_data;
    unsigned long port, threads, mb, conc;
    bool port_set, threads_set;
};

/* Parse argv into o: -1 to go on, else the exit status (0 after --help, 2 on misuse). */
static int parse_args(int argc, char **argv, struct serve_opts *o)
{
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (val == NULL) {
            fprintf(stderr, "smalgo serve: unknown option or missing value: %s\n\n", a);
            usage(stderr);
            return 2;
        }
        if (strcmp(a, "--model-dir") == 0) {
            o->model_dir = val;
        } else if (strcmp(a, "--model-data") == 0) {
            o->model_data = val;
        } else if (strcmp(a, "--bind") == 0) {
            o->bind_addr = val;
        } else if (strcmp(a, "--port") == 0) {
            if (!parse_uint(val, 0, 65535, &o->port)) {
                fprintf(stderr, "smalgo serve: --port '%s' is not a port number\n", val);
                return 2;
            }
            o->port_set = true;
        } else if (strcmp(a, "--threads") == 0) {
            if (!parse_uint(val, 1, 1024, &o->threads)) {
                fprintf(stderr, "smalgo serve: --threads '%s' is not in [1, 1024]\n", val);
                return 2;
            }
            o->threads_set = true;
        } else {
            fprintf(stderr, "smalgo serve: unknown option %s\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    return -1;
}

/* The SAGEMAKER_* settings options did not override: -1 to go on, 2 on a bad value. */
static int read_env(struct serve_opts *o)
{
    unsigned long v;

    if (!o->port_set && env_uint("SAGEMAKER_BIND_TO_PORT", 1, 65535, &o->port) < 0)
        return 2;
    if (!o->threads_set && env_uint("SAGEMAKER_MODEL_SERVER_WORKERS", 1, 1024, &o->threads) < 0)
        return 2;
    if (env_uint("SAGEMAKER_MAX_PAYLOAD_IN_MB", 1, MAX_PAYLOAD_MB, &o->mb) < 0)
        return 2;
    o->conc = o->threads;
    switch (env_uint("SAGEMAKER_MAX_CONCURRENT_TRANSFORMS", 1, 100000, &v)) {
    case -1: return 2;
    case 1: o->conc = v; break;
    default: break;
    }
    o->strategy = batch_strategy(getenv("SAGEMAKER_BATCH_STRATEGY"));
    if (o->strategy == NULL) {
        fprintf(stderr,
                "smalgo serve: SAGEMAKER_BATCH_STRATEGY='%s' is neither SINGLE_RECORD nor "
                "MULTI_RECORD\n",
                getenv("SAGEMAKER_BATCH_STRATEGY"));
        return 2;
    }
    return -1;
}

/*
 * Block SIGTERM and SIGINT in every thread (the pool inherits the mask) so
 * that the main thread can sigwait for them; ignore SIGPIPE from clients
 * that hang up.
 */
static void block_stop_signals(sigset_t *stop)
{
    sigemptyset(stop);
    sigaddset(stop, SIGTERM);
    sigaddset(stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, stop, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Start the HTTP server on model and wait for a stop signal: the exit status. */
static int serve_until_stopped(const struct serve_opts *o, struct smg_serve_model *model,
                               struct smg_error *err)
{
    struct smg_serve_config cfg = {0};
    struct smg_serve_http *http = NULL;
    sigset_t stop;
    int sig = 0;

    block_stop_signals(&stop);
    cfg.bind_addr = o->bind_addr;
    cfg.port = (unsigned)o->port;
    cfg.threads = (unsigned)o->threads;
    cfg.max_payload_mb = (unsigned)o->mb;
    cfg.max_payload_bytes = (size_t)o->mb << 20;
    cfg.max_concurrent = (unsigned)o->conc;
    cfg.batch_strategy = o->strategy;
    if (smg_serve_http_start(&cfg, model, &http, err) != SMG_OK) {
        smg_log_error("cannot serve: %s", err->msg);
        fprintf(stderr, "smalgo serve: %s\n", err->msg);
        smg_serve_http_stop(http);
        return 1;
    }
    smg_log_info("serving on port %u with %u threads (max payload %lu MB, %s, "
                 "MaxConcurrentTransforms %lu)",
                 smg_serve_http_port(http), cfg.threads, o->mb, o->strategy, o->conc);
    while (sigwait(&stop, &sig) != 0)
        ;
    smg_log_info("signal %d: stopping", sig);
    smg_serve_http_stop(http);
    return 0;
}

int smg_cmd_serve(int argc, char **argv)
{
    struct serve_opts o = {
        .model_dir = DEFAULT_MODEL_DIR, .port = DEFAULT_PORT, .mb = DEFAULT_PAYLOAD_MB};
    struct smg_serve_model *model = NULL;
    struct smg_error err;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int rc;

    o.threads = ncpu > 0 ? (unsigned long)ncpu : 1;
    if ((rc = parse_args(argc, argv, &o)) >= 0 || (rc = read_env(&o)) >= 0)
        return rc;
    smg_error_clear(&err);
    if ((o.model_data != NULL && smg_serve_model_data(o.model_data, o.model_dir, &err) != SMG_OK) ||
        smg_serve_model_load(o.model_dir, &model, &err) != SMG_OK) {
        smg_log_error("cannot serve: %s", err.msg);
        fprintf(stderr, "smalgo serve: %s\n", err.msg);
        return 1;
    }
    smg_log_info("loaded %s from %s", smg_serve_model_describe(model), o.model_dir);
    smg_blas_one_thread();
    rc = serve_until_stopped(&o, model, &err);
    smg_serve_model_free(model);
    return rc;
}

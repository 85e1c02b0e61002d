/*
 * `smalgo pipe`: SageMaker's Pipe-mode agent for local runs and tests.
 *
 *   smalgo pipe --dir <input/data> --channel train=<folder-or-file>[,test=<...>]
 *               [--epochs N] [--shuffle-seed S] [--gunzip] [--recordio-wrap]
 *               [--host-index i --host-count n] [--open-timeout SECONDS] [--quiet]
 *
 * Parses the options and runs the agent (io/pipe_feeder.h). SIGTERM and SIGINT set
 * a flag the channel threads poll; SIGPIPE is ignored so a reader closing early
 * is an EPIPE. Exit status: 0 when every channel finished (or a signal asked
 * us to stop), 1 on a channel error, 2 on bad usage.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/pipe_feeder.h"
#include "runtime/cli_number.h"
#include "runtime/commands.h"
#include "runtime/signals.h"

#define MAX_CHANNELS 16

static volatile sig_atomic_t pipe_stop;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: smalgo pipe --dir DIR --channel NAME=SRC[,NAME=SRC...] [options]\n"
            "  Creates DIR/NAME_0, DIR/NAME_1, ... FIFOs one epoch at a time and streams\n"
            "  every file under SRC into each, as SageMaker Pipe mode does.\n"
            "  --epochs N           serve N epochs (default: until a reader stops opening them)\n"
            "  --shuffle-seed S     shuffle the file order every epoch, seeded\n"
            "  --gunzip             inflate gzip files (CompressionType=Gzip)\n"
            "  --recordio-wrap      wrap each file in one RecordIO record (RecordWrapperType)\n"
            "  --host-index I --host-count N   ShardedByS3Key: this host's share of the files\n"
            "  --open-timeout SEC   how long a reader may take to open a FIFO (default 60)\n"
            "  --quiet              no per-epoch lines on stderr\n");
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    uint64_t v;

    if (!smg_cli_parse_u64(s, (uint64_t)lo, (uint64_t)hi, &v))
        return false;
    *out = (long)v;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    return smg_cli_parse_u64(s, 0, UINT64_MAX, out);
}

/* Split "a=x,b=y" in place into specs. */
static bool add_channels(char *arg, struct smg_pipe_channel_spec *specs, size_t *n)
{
    char *p = arg;

    while (p != NULL && *p != '\0') {
        char *comma = strchr(p, ',');
        char *eq;
        if (comma != NULL)
            *comma = '\0';
        eq = strchr(p, '=');
        if (eq == NULL || eq == p || eq[1] == '\0' || *n == MAX_CHANNELS)
            return false;
        *eq = '\0';
        specs[*n].name = p;
        specs[*n].source = eq + 1;
        (*n)++;
        p = comma != NULL ? comma + 1 : NULL;
    }
    return true;
}

/* A flag without a value: true if a is one (and set it in o). */
static bool parse_flag(struct smg_pipe_options *o, const char *a)
{
    if (strcmp(a, "--gunzip") == 0)
        o->gunzip = true;
    else if (strcmp(a, "--recordio-wrap") == 0)
        o->recordio_wrap = true;
    else if (strcmp(a, "--quiet") == 0)
        o->quiet = true;
    else
        return false;
    return true;
}

/* An option with a value val (not NULL, split in place by --channel): false if bad. */
static bool parse_valued(struct smg_pipe_options *o, struct smg_pipe_channel_spec *specs,
                         const char *a, char *val)
{
    long v = 0;
    bool ok;

    if (strcmp(a, "--dir") == 0) {
        o->dir = val;
        return true;
    }
    if (strcmp(a, "--channel") == 0)
        return add_channels(val, specs, &o->n_channels);
    if (strcmp(a, "--epochs") == 0)
        return parse_long(val, 0, 1L << 30, &o->epochs);
    if (strcmp(a, "--shuffle-seed") == 0) {
        o->shuffle = true;
        return parse_u64(val, &o->seed);
    }
    if (strcmp(a, "--host-index") == 0) {
        ok = parse_long(val, 0, 1 << 20, &v);
        o->host_index = (int)v;
    } else if (strcmp(a, "--host-count") == 0) {
        ok = parse_long(val, 1, 1 << 20, &v);
        o->host_count = (int)v;
    } else if (strcmp(a, "--open-timeout") == 0) {
        ok = parse_long(val, 0, 1L << 20, &v);
        o->open_timeout_ms = (int)(v * 1000);
    } else {
        ok = false;
    }
    return ok;
}

/* Parse argv into o: -1 to go on, else the exit status (0 after --help, 2 on misuse). */
static int parse_args(int argc, char **argv, struct smg_pipe_options *o,
                      struct smg_pipe_channel_spec *specs)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (parse_flag(o, a))
            continue;
        if (val == NULL || !parse_valued(o, specs, a, val)) {
            fprintf(stderr, "smalgo pipe: bad or incomplete option %s%s%s\n", a, val ? " " : "",
                    val ? val : "");
            usage(stderr);
            return 2;
        }
        i++;
    }
    if (o->dir == NULL || o->n_channels == 0 || o->host_index >= o->host_count) {
        fprintf(stderr, "smalgo pipe: --dir and at least one --channel are required, and "
                        "--host-index must be below --host-count\n");
        usage(stderr);
        return 2;
    }
    return -1;
}

int smg_cmd_pipe(int argc, char **argv)
{
    struct smg_pipe_channel_spec specs[MAX_CHANNELS];
    struct smg_pipe_options o = {0};
    struct smg_error err;
    int rc;

    o.channels = specs;
    o.epochs = -1;
    o.host_count = 1;
    o.open_timeout_ms = 60 * 1000;
    o.stop = &pipe_stop;
    if ((rc = parse_args(argc, argv, &o, specs)) >= 0)
        return rc;
    /* SIGTERM and SIGINT set pipe_stop; SIGPIPE is ignored so an early close is an EPIPE. */
    smg_signals_catch_stop(&pipe_stop);
    signal(SIGPIPE, SIG_IGN);
    smg_error_clear(&err);
    if (smg_pipe_feeder_run(&o, &err) != SMG_OK) {
        fprintf(stderr, "smalgo pipe: %s\n", err.msg);
        return 1;
    }
    return 0;
}

/*
 * The Pipe feeder: a local stand-in for SageMaker's Pipe-mode agent, what
 * `smalgo pipe` runs (runtime/cmd_pipe.c parses the options and calls it).
 * It lives in io/ because it is made of io's parts: FIFOs, file lists, gzip
 * and recordIO framing.
 *
 * For each channel, in its own thread, epoch after epoch:
 *   1. create the FIFO <dir>/<channel>_<epoch> (mkfifo, after removing any stale one);
 *   2. open its write end, polling O_WRONLY|O_NONBLOCK until a reader has opened
 *      the read end (ENXIO until then), for at most open_timeout_ms;
 *   3. enlarge the pipe to 1 MiB and stream the channel's files into that one
 *      write end, in path order or shuffled per epoch (seed + epoch), keeping
 *      only this host's share (ShardedByS3Key: file j of the epoch's order goes
 *      to host j % host_count);
 *   4. close the write end (the reader sees EOF) and remove the FIFO.
 * A reader that closes early shows up as EPIPE (SIGPIPE must be ignored) and
 * simply ends that epoch. With epochs < 0 the agent serves epochs until a
 * reader fails to open the next FIFO within open_timeout_ms, which is how it
 * learns that training is over; with epochs >= 0, that is an error.
 *
 * S3 sources (io/s3/s3_manifest.h) list their objects once, in key or
 * manifest order, and stream each through ranged GETs with retries.
 * Plain files go through splice() (page cache to pipe, no copy to user
 * space); gunzip inflates gzip files (detected by magic, others pass as they
 * are); recordio_wrap wraps each whole file in one RecordIO record the way
 * dmlc's RecordIOWriter does (4-byte-aligned occurrences of the magic in the
 * data split it into parts with flags 1/2/3, the magic itself dropped), which
 * buffers one file in memory (files must be under 2^29 bytes).
 *
 * The write end is O_NONBLOCK and waits in poll() with 100 ms ticks, checking
 * the stop flag, so SIGTERM/SIGINT ends every thread promptly; every FIFO the
 * feeder created is removed before smg_pipe_feeder_run returns.
 */
#ifndef SMG_PIPE_FEEDER_H
#define SMG_PIPE_FEEDER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/base/status.h"

struct smg_pipe_channel_spec {
    const char *name;   /* "train" */
    const char *source; /* a folder (all regular files, recursively, or the objects of the
                           manifests in it), one file, an s3:// prefix or an s3://....manifest */
};

struct smg_pipe_options {
    const char *dir; /* where the FIFOs go: input/data */
    const struct smg_pipe_channel_spec *channels;
    size_t n_channels;
    long epochs; /* < 0: until the reader stops opening FIFOs */
    bool shuffle;
    uint64_t seed;
    bool gunzip;
    bool recordio_wrap;
    int host_index, host_count;
    int open_timeout_ms;         /* how long a reader may take to open a FIFO; <= 0: forever */
    bool quiet;                  /* no per-epoch lines on stderr */
    volatile sig_atomic_t *stop; /* set by SIGTERM/SIGINT */
};

/* Run until every channel is done (or stop). The first channel error is returned. */
SMG_MUST_CHECK enum smg_status smg_pipe_feeder_run(const struct smg_pipe_options *opts,
                                                   struct smg_error *err);

#endif

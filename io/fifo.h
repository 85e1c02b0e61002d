/*
 * Reading one SageMaker Pipe-mode FIFO: wait for it to appear, open it
 * without hanging on an absent writer, enlarge it, read it to EOF.
 *
 * smg_fifo_open polls for the path with a growing back-off (1 ms doubling up
 * to 100 ms) until timeout_ms has passed, then opens it O_RDONLY|O_NONBLOCK
 * (which never blocks) and waits, within the same deadline, until the writer
 * has written something or has come and gone. Only then is the FIFO known to
 * have a writer, so a read of 0 bytes is a real end of epoch and not "no
 * writer yet". On expiry:
 *   SMG_ETIMEOUT "timed out after 5 s waiting for FIFO <path> (channel train, epoch 2)"
 * with ": it exists but no writer opened it" when the FIFO exists and nobody
 * opened its write end, or ": a writer opened it but wrote nothing" when one
 * did. (Linux tells a non-blocking reader nothing about a writer that is
 * there but silent, so a helper thread makes a blocking open, which returns
 * when a writer opens; it is released by a write-open of our own at the end.)
 *
 * Stall timeout: once open, a writer that sends nothing for stall_ms
 * (counted from the last byte received) ends the read with SMG_ETIMEOUT
 * "FIFO <path>: the writer stalled: no data for 300 s after 1048576 bytes".
 *
 * The pipe is enlarged to 1 MiB with F_SETPIPE_SZ (silently kept as it is if
 * the kernel refuses), which roughly triples throughput over the 64 KiB
 * default here. Reads are at least 1 MiB: a caller asking for less is served
 * from an internal buffer.
 *
 * The returned stream never blocks forever: when no data is ready it polls in
 * 50 ms ticks and checks the stop flag (SIGTERM) and the cancel flag (a reader
 * that wants to close early from another thread), returning SMG_ESTOPPED when
 * either is set. A writer that disappears ends the stream (EOF); the format
 * layer reports the truncated record. Freeing the stream closes the FIFO,
 * which is how a reader closes an epoch early (the writer gets EPIPE).
 */
#ifndef SMG_FIFO_H
#define SMG_FIFO_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "io/base/status.h"
#include "io/stream.h"

#define SMG_FIFO_PIPE_SIZE ((int)1 << 20)

struct smg_fifo_opts {
    int timeout_ms;              /* wait for the FIFO and its writer; <= 0: wait forever */
    volatile sig_atomic_t *stop; /* optional: SIGTERM flag */
    atomic_bool *cancel;         /* optional: set by another thread to abandon the read */
    const char *context;         /* optional, for messages: "channel train, epoch 2" */
    int stall_ms;                /* no data for this long after the last byte: ETIMEOUT; <= 0 off */
};

/*
 * Wait for `path`, open it and return a stream named "FIFO <path>" that owns
 * the descriptor. A regular file at `path` is read as is (handy in tests).
 */
SMG_MUST_CHECK enum smg_status smg_fifo_open(const char *path, const struct smg_fifo_opts *opts,
                                             struct smg_stream **out, struct smg_error *err);

/* Milliseconds on CLOCK_MONOTONIC, for deadlines. */
long long smg_fifo_now_ms(void);

#endif

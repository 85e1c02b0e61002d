/*
 * A training channel: where its bytes come from (File, FastFile or Pipe mode),
 * how it is split between MPI ranks, and how rows become mini-batches.
 *
 * File/FastFile: every regular file under <data_dir>/<name>/, recursively,
 * sorted by path, hidden files and folders skipped (file_list.h); with several
 * ranks on one host the files are split between them by stride (rank r of n
 * takes files i with i % n == r). Each file is its own stream and row reader;
 * batches run across file boundaries.
 * Pipe: epoch N reads the FIFO <data_dir>/<name>_<N> (fifo.h), waiting up to
 * pipe_timeout_ms for it to appear and for its writer; on expiry SMG_ETIMEOUT
 * "timed out after 300 s waiting for FIFO <path> (channel train, epoch 2)".
 * A FIFO may be read by one process only, so Pipe mode needs ranks_on_host 1.
 * Gzip is recognised by its magic bytes in every mode and inflated (gzip.h);
 * `compression` is informational (SageMaker inflates Gzip channels in Pipe
 * mode before they reach the FIFO).
 *
 * A background thread reads and decodes ahead into a ring of 3 batch buffers
 * (batch_rows x feature_dim floats each), so memory is bounded by 3 batches,
 * never by the size of the data set. Every batch has exactly batch_rows rows
 * except the epoch's last. The thread's errors reach next_batch with their
 * message (file or FIFO, record or line, byte offset, prefixed "channel <name>: ")
 * after the good batches decoded before them.
 *
 * All calls on one channel come from one thread. Distinct channels (train and
 * test) are independent and may be read at the same time.
 *
 * Use:
 *     smg_channel_open(&cfg, &ch, &err);
 *     for each epoch e:
 *         smg_channel_begin_epoch(ch, e, &err);
 *         while ((rc = smg_channel_next_batch(ch, &batch, &err)) == SMG_OK)
 *             consume(batch);
 *         if (rc != SMG_EEOF) fail;
 *         smg_channel_end_epoch(ch);   // also valid before EOF: closes early
 *     smg_channel_free(ch);
 *
 * end_epoch before EOF joins the thread and closes the files or FIFO within
 * about 50 ms, even when the FIFO's writer is blocked on a full pipe (it gets
 * EPIPE): that is how a reader closes a Pipe-mode epoch early.
 */
#ifndef SMG_CHANNEL_H
#define SMG_CHANNEL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/base/batch.h"
#include "io/base/pool.h"
#include "io/base/status.h"
#include "io/rows.h"

enum smg_input_mode { SMG_MODE_FILE = 0, SMG_MODE_FASTFILE = 1, SMG_MODE_PIPE = 2 };
enum smg_compression { SMG_COMPRESSION_NONE = 0, SMG_COMPRESSION_GZIP = 1 };

#define SMG_DEFAULT_PIPE_TIMEOUT_MS (5 * 60 * 1000)
/* A Pipe-mode writer that sends nothing for this long after its last byte has stalled. */
#define SMG_DEFAULT_PIPE_STALL_MS (5 * 60 * 1000)

struct smg_channel_config {
    const char *name;     /* "train" */
    const char *data_dir; /* <ml-root>/input/data */
    enum smg_input_mode mode;
    struct smg_format format; /* content type, feature_dim, label_size, wrapping */
    enum smg_compression compression;
    size_t batch_rows;           /* mini_batch_size */
    int pipe_timeout_ms;         /* <= 0: SMG_DEFAULT_PIPE_TIMEOUT_MS */
    int pipe_stall_ms;           /* <= 0: SMG_DEFAULT_PIPE_STALL_MS */
    int rank_on_host;            /* File mode: this rank's share of the files ... */
    int ranks_on_host;           /* ... out of this many (1 = all files) */
    bool allow_empty;            /* an epoch with no records is not an error */
    volatile sig_atomic_t *stop; /* optional: when non-zero, next_batch gives SMG_ESTOPPED */
    /*
     * The caller takes CSR batches (batch.h): when the channel's first record
     * is a sparse recordIO-protobuf tensor, every batch is delivered as CSR
     * (dense records in it keep their non-zeros) and no batch_rows x
     * feature_dim buffer is ever allocated. Otherwise, or when false, batches
     * are dense as always.
     */
    bool accept_csr;
    /*
     * The most bytes the dense batch ring (3 x batch_rows x feature_dim floats)
     * may take; 0: no limit. When the channel settles on dense batches and
     * they would take more, reading fails with SMG_ECONFIG giving both
     * figures. The caller's memory budget, for a layout it could not know in
     * advance (Pipe mode: the first record has not arrived).
     */
    double max_dense_bytes;
    /*
     * Threads that decode a dense batch (the producer counts as one); 0 or 1:
     * the producer alone. With more, the producer frames each batch (record
     * or line boundaries, batch_decode.h) and the rows are decoded on that
     * many threads at once, into the same bytes and with the same errors.
     * CSR batches and CSV wrapped in RecordIO records stay on one thread.
     */
    unsigned decode_threads;
    /*
     * Optional: the job's worker pool (io/base/pool.h), borrowed. The reader
     * thread counts itself busy on it while it reads and decodes, and neither
     * it nor the consumer counts while it waits for the other (a free buffer,
     * a batch), so the pool's workers take the idle CPUs and the threads of
     * the process stay within the pool's size. When decode_threads equals the
     * pool's size, dense batches decode on this pool instead of one of their
     * own.
     */
    struct smg_pool *pool;
    /* smg_channel_open copies name and data_dir; the stop flag and pool must outlive the channel.
     */
};

struct smg_channel;

/*
 * Checks the configuration and, in File/FastFile mode, lists the channel's
 * files (a missing folder is an error naming it; an empty one is not, until an
 * epoch finds no records). Pipe mode touches nothing until begin_epoch.
 */
SMG_MUST_CHECK enum smg_status smg_channel_open(const struct smg_channel_config *cfg,
                                                struct smg_channel **out, struct smg_error *err);

/* Start reading epoch `epoch` (Pipe: FIFO <name>_<epoch>); ends a current one first. */
SMG_MUST_CHECK enum smg_status smg_channel_begin_epoch(struct smg_channel *ch, uint64_t epoch,
                                                       struct smg_error *err);

/*
 * The next batch of the current epoch. SMG_OK: batch is filled and valid until
 * the next call. SMG_EEOF: the epoch is over (an epoch with no records at all is
 * instead an SMG_EFORMAT error "no records in channel <name>" unless allow_empty).
 */
SMG_MUST_CHECK enum smg_status
smg_channel_next_batch(struct smg_channel *ch, struct smg_batch *batch, struct smg_error *err);

/* Stop reading the current epoch (early or at EOF) and release its FIFO/files. */
void smg_channel_end_epoch(struct smg_channel *ch);

/* Rows delivered by next_batch in this epoch, on this rank. */
uint64_t smg_channel_records(const struct smg_channel *ch);
/* Bytes decoded so far in this epoch (after inflation; includes read-ahead). */
uint64_t smg_channel_bytes(const struct smg_channel *ch);

/* Where the time went, summed over the epochs so far (smg_channel_stats). */
struct smg_channel_stats {
    double read_s;       /* producer wall seconds inside file/FIFO reads (I/O wait) */
    double decode_cpu_s; /* CPU seconds of the producer and decode threads */
    double wait_s;       /* consumer wall seconds blocked in next_batch: what it could not hide */
    unsigned decode_threads; /* threads decoding dense batches (1: the producer alone) */
};

/*
 * Fills *out. The producer's CPU and read time are added when each epoch's
 * producer ends; the decode threads' CPU as they go.
 */
void smg_channel_stats(struct smg_channel *ch, struct smg_channel_stats *out);
const char *smg_channel_name(const struct smg_channel *ch);
void smg_channel_free(struct smg_channel *ch); /* accepts NULL */

#endif

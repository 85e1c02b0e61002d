/*
 * A training channel: where its bytes come from (File, FastFile or Pipe mode),
 * how it is split between MPI ranks, and how rows become mini-batches.
 *
 * File/FastFile: every regular file under <data_dir>/<name>/, recursively,
 * sorted by path, hidden files skipped; with several ranks on one host the files
 * are split between them. Pipe: epoch N reads the FIFO <data_dir>/<name>_<N>,
 * waiting for it to appear up to pipe_timeout_ms.
 *
 * A background thread reads and decodes ahead into a small bounded queue, so
 * memory is bounded by the queue depth, batch_rows and feature_dim, never by the
 * size of the data set.
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
 */
#ifndef SMG_CHANNEL_H
#define SMG_CHANNEL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "rows.h"
#include "status.h"

enum smg_input_mode { SMG_MODE_FILE = 0, SMG_MODE_FASTFILE = 1, SMG_MODE_PIPE = 2 };
enum smg_compression { SMG_COMPRESSION_NONE = 0, SMG_COMPRESSION_GZIP = 1 };

#define SMG_DEFAULT_PIPE_TIMEOUT_MS (5 * 60 * 1000)

struct smg_channel_config {
    const char *name;     /* "train" */
    const char *data_dir; /* <ml-root>/input/data */
    enum smg_input_mode mode;
    struct smg_format format; /* content type, feature_dim, label_size, wrapping */
    enum smg_compression compression;
    size_t batch_rows;           /* mini_batch_size */
    int pipe_timeout_ms;         /* <= 0: SMG_DEFAULT_PIPE_TIMEOUT_MS */
    int rank_on_host;            /* File mode: this rank's share of the files ... */
    int ranks_on_host;           /* ... out of this many (1 = all files) */
    bool allow_empty;            /* an epoch with no records is not an error */
    volatile sig_atomic_t *stop; /* optional: when non-zero, next_batch gives SMG_ESTOPPED */
};

struct smg_channel;

/* Checks the channel exists (folder, or for Pipe mode nothing yet). */
int smg_channel_open(const struct smg_channel_config *cfg, struct smg_channel **out,
                     struct smg_error *err);

int smg_channel_begin_epoch(struct smg_channel *ch, unsigned epoch, struct smg_error *err);

/*
 * The next batch of the current epoch. SMG_OK: batch is filled and valid until
 * the next call. SMG_EEOF: the epoch is over (an epoch with no records at all is
 * instead an SMG_EFORMAT error "no records in channel <name>" unless allow_empty).
 */
int smg_channel_next_batch(struct smg_channel *ch, struct smg_batch *batch, struct smg_error *err);

/* Stop reading the current epoch (early or at EOF) and release its FIFO/files. */
void smg_channel_end_epoch(struct smg_channel *ch);

uint64_t smg_channel_records(const struct smg_channel *ch); /* this epoch, this rank */
uint64_t smg_channel_bytes(const struct smg_channel *ch);   /* this epoch, this rank */
const char *smg_channel_name(const struct smg_channel *ch);
void smg_channel_free(struct smg_channel *ch); /* accepts NULL */

#endif

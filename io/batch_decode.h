/*
 * Decoding framed rows (row_spans.h) on several threads.
 *
 * The framing thread calls smg_batch_decode_run with the rows it framed and
 * where their rows of the batch buffer start; the rows are cut into
 * contiguous ranges, one per thread (the caller's thread is one of them),
 * and each range is decoded straight into its rows of the buffer. Every row
 * lands at the same offset whatever the number of threads, so the batch is
 * byte-identical to a one-thread decode. Each range stops at its first bad row; the error returned
 * is the one of the lowest range that failed, which is the first bad row in stream order (no
 * thread's timing decides which message the user sees).
 *
 * The decoder runs on a worker pool (io/base/pool.h): its own of `threads`
 * (the caller counts as one), started once and idle between runs, or one it
 * shares, such as the training job's, whose workers then decode while no
 * training job is out and a CPU is free (pool.h). A run gives each
 * thread at least SMG_BATCH_DECODE_MIN_FLOATS features to decode (256 rows
 * at d=16, 1 row at d=4096), so small runs use fewer threads or only the
 * caller's.
 */
#ifndef SMG_BATCH_DECODE_H
#define SMG_BATCH_DECODE_H

#include "io/base/pool.h"
#include "io/base/status.h"
#include "io/row_spans.h"

/* Fewest features worth handing to another thread. */
#define SMG_BATCH_DECODE_MIN_FLOATS 4096

struct smg_batch_decoder;

/*
 * A decoder on `threads` threads (1 .. SMG_POOL_MAX_WORKERS), or, when shared is
 * not NULL, on that pool (borrowed: it must outlive the decoder; threads is
 * then its size). SMG_ENOMEM, SMG_EINTERNAL.
 */
SMG_MUST_CHECK enum smg_status smg_batch_decoder_new(unsigned threads, struct smg_pool *shared,
                                                     struct smg_batch_decoder **out,
                                                     struct smg_error *err);

/*
 * Decode all rows of sp into out (sp->count x feature_dim floats). SMG_OK, or
 * the first bad row's error (row_spans.h). Not reentrant: one caller.
 */
SMG_MUST_CHECK enum smg_status smg_batch_decode_run(struct smg_batch_decoder *d,
                                                    const struct smg_row_spans *sp, float *out,
                                                    struct smg_error *err);

/* Threads the decoder uses (the caller included). */
unsigned smg_batch_decoder_threads(const struct smg_batch_decoder *d);

/*
 * CPU seconds the decoder's own threads spent decoding so far (not the
 * caller's: the caller measures its thread as a whole).
 */
double smg_batch_decoder_helper_cpu_s(const struct smg_batch_decoder *d);

void smg_batch_decoder_free(struct smg_batch_decoder *d); /* accepts NULL; joins the threads */

#endif

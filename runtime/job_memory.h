/*
 * The memory a job's settings imply, checked before anything is allocated.
 *
 * Why: mini_batch_size x feature_dim, k x d or PCA's d x d matrix can ask for
 * more memory than the machine has; allocating first ends as an out-of-memory
 * AlgorithmError (or the kernel's OOM killer) after the job has started, when
 * it is the user's setting that cannot work. Each train driver lists the big
 * buffers its hyperparameters imply (a lower bound, so a job that fits is
 * never refused) and smg_job_check_memory refuses the job as a ClientError
 * with the figures when their sum exceeds the machine's memory: the smaller
 * of MemTotal and the cgroup's limit (v2 memory.max, v1 limit_in_bytes).
 * SMALGO_MEMORY_LIMIT_BYTES, when set, replaces that figure (for tests).
 *
 * The mini-batch ring (3 batches in flight, io/channel.h) is counted here, as
 * the train channel will hold it: dense, mini_batch_size x feature_dim floats
 * per batch, unless the channel may be read as CSR (recordIO-protobuf, the
 * algorithm takes CSR batches) and its first record, probed by the check
 * before training (File mode, runtime/channel_records.h), is sparse: then only
 * the mini_batch_size row offsets per batch, as the CSR entries grow with the
 * data. In Pipe mode (and for S3 manifests) the first record cannot be read in
 * advance: the CSR figure is counted, and what the check leaves over (the
 * limit minus the other terms) becomes job->dense_budget, which the channel
 * enforces when its first record turns out dense (io/channel.h,
 * max_dense_bytes): a dense Pipe-mode job whose batches do not fit is refused
 * with the figures at its first record rather than before training.
 *
 * A feature_dim far larger than the data's is the usual cause, so before
 * refusing, the first record of the train channel (File mode) is probed: if
 * its feature count differs from feature_dim, that mismatch is the error.
 */
#ifndef SMG_JOB_MEMORY_H
#define SMG_JOB_MEMORY_H

#include <stdint.h>

#include "io/base/status.h"
#include "runtime/job.h"

/* One buffer a setting implies: "k x extra_center_factor x feature_dim centers" and its size. */
struct smg_mem_term {
    const char *what;
    double bytes; /* double: the product of two 64-bit settings may not fit a size_t */
};

#define SMG_MEM_MAX_TERMS 8 /* model terms a driver may pass */

/* The bytes this process may use (see above); UINT64_MAX when nothing says. */
uint64_t smg_memory_limit(void);

/*
 * SMG_OK when the batch ring (counted here from batch_rows and feature_dim, see
 * above) and the driver's n model terms fit; else SMG_ECONFIG naming every
 * term, the total and the limit, or the train channel's feature-count
 * mismatch. Sets job->dense_budget. Call after setting job->accept_csr.
 */
SMG_MUST_CHECK enum smg_status smg_job_check_memory(struct smg_job *job,
                                                    const struct smg_mem_term *model, size_t n,
                                                    uint64_t feature_dim, size_t batch_rows,
                                                    struct smg_error *err);

#endif

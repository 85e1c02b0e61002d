/*
 * How many worker threads a training process uses, and the pool that runs
 * them. One MPI rank per host trains on every CPU the process may use
 * (io/cpu_limit.h: affinity and cgroup quota), shared evenly when several
 * ranks run on one host. SMALGO_THREADS=N (1 to 1024) overrides the count;
 * anything else in it is a configuration error that names the variable.
 *
 * OpenBLAS is set to one thread for the whole job, its own idle threads
 * stopped (algorithms/blas_threads.h): the pool is the only
 * source of parallelism, so BLAS calls made from several workers never
 * oversubscribe the cores, and the models do not depend on BLAS's own
 * thread count (they are bit-identical whatever the pool size).
 */
#ifndef SMG_THREADS_H
#define SMG_THREADS_H

#include <stdbool.h>

#include "io/base/pool.h"
#include "io/base/status.h"

/*
 * Worker count for a process that is one of ranks_on_host ranks on its host:
 * SMALGO_THREADS if set, else max(1, detected CPUs / ranks_on_host).
 * SMG_ECONFIG when SMALGO_THREADS is not a whole number from 1 to 1024.
 */
SMG_MUST_CHECK enum smg_status smg_threads_count(int ranks_on_host, unsigned *out,
                                                 struct smg_error *err);

/*
 * Threads a training channel decodes dense batches on (channel.h,
 * decode_threads): SMALGO_DECODE_THREADS if set, else `workers` (the pool's
 * size). At the pool's size the channel decodes on the job's pool itself:
 * one set of threads, sized to the CPUs, whose workers go to decoding while
 * the trainer waits for a batch and to training while the reader waits for a
 * free buffer, never beyond the pool's size (io/base/pool.h); with 1 CPU
 * that is the reader and the trainer alone. 1 keeps decoding on the
 * channel's reader thread; another count gives the channel a decode pool of
 * its own (the layout before the shared pool, for comparisons). The batches
 * are the same bytes whatever the count. SMG_ECONFIG as for SMALGO_THREADS.
 */
SMG_MUST_CHECK enum smg_status smg_threads_decode_count(unsigned workers, unsigned *out,
                                                        struct smg_error *err);

/*
 * smg_threads_count, then a pool of that many workers in *out and OpenBLAS
 * set to one thread. Logs the choice when `log` is set.
 */
SMG_MUST_CHECK enum smg_status smg_threads_pool(int ranks_on_host, bool log, struct smg_pool **out,
                                                struct smg_error *err);

#endif

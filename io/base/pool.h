/*
 * A small pool of worker threads and a parallel-for over index ranges: the
 * one way smalgo's algorithms use the cores of a host.
 *
 * A pool of `workers` runs a job on the calling thread plus workers - 1
 * threads it starts once and keeps. smg_pool_run splits [0, n) into `parts`
 * contiguous ranges (range i is [n*i/parts, n*(i+1)/parts), whatever the pool
 * size) and calls fn once per range, on whichever thread is free; it returns
 * when every range is done. Which thread runs a range is not fixed, but the
 * ranges are: callers that keep one result slot per range and reduce the slots
 * in range order get the same bits whatever the number of workers. A NULL
 * pool, or a pool of one, runs the ranges in order on the calling thread.
 *
 * Jobs must not call smg_pool_run on the pool running them. Two threads may
 * call smg_pool_run at once (a trainer and a reader): both jobs are out and
 * the workers take ranges of either; a third concurrent caller runs all its
 * ranges itself. The pool reads no environment: how many workers is its
 * owner's choice.
 *
 * The pool keeps its threads within its size: it counts the threads that run
 * work, its maker from the start, and a worker takes part in a job only while
 * fewer than `workers` are busy (the caller runs the ranges no worker took).
 * Threads that run work beside the maker and may share its CPUs, such as a
 * reader decoding the next batches, count themselves with smg_pool_enter when
 * they start and smg_pool_leave when they end; every counted thread leaves
 * around the waits it blocks in (for a batch, for a free buffer), so an idle
 * CPU goes to a worker. The count only keeps the workers back: no call waits
 * for it.
 */
#ifndef SMG_POOL_H
#define SMG_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/status.h"

/* Most workers a pool accepts (a sanity bound, not a tuning knob). */
#define SMG_POOL_MAX_WORKERS 1024

struct smg_pool;

/* Called once per range: ctx as given, the range's index and [begin, end). */
typedef void (*smg_pool_fn)(void *ctx, size_t part, size_t begin, size_t end);

/*
 * A pool of `workers` (1 .. SMG_POOL_MAX_WORKERS; the caller counts as one).
 * SMG_ECONFIG on a bad count, SMG_ENOMEM or SMG_EINTERNAL when memory or a
 * thread cannot be had (the threads already started are stopped).
 */
SMG_MUST_CHECK enum smg_status smg_pool_new(unsigned workers, struct smg_pool **out,
                                            struct smg_error *err);
void smg_pool_free(struct smg_pool *p); /* accepts NULL; joins the threads */

/* Workers of the pool (1 for NULL). */
unsigned smg_pool_size(const struct smg_pool *p);

/* The calling thread starts running work (counts as busy), or is about to block (NULL: no-op). */
void smg_pool_enter(struct smg_pool *p);
void smg_pool_leave(struct smg_pool *p);

/*
 * For a counted thread that runs ahead of the others (a reader): if more
 * threads than the pool's size are busy, stop counting and wait until fewer
 * than its size are, then count again. With a pool of one (1 CPU) the
 * reader and the trainer so take turns, one batch each, instead of sharing
 * the CPU. Wakes on smg_pool_free too. NULL: no-op.
 */
void smg_pool_wait_cpu(struct smg_pool *p);

/* Range i of [0, n) split into `parts` ranges (parts >= 1). */
void smg_pool_range(size_t n, size_t parts, size_t i, size_t *begin, size_t *end);

/* Run fn over the `parts` ranges of [0, n) and wait for all (parts 0 = none). */
void smg_pool_run(struct smg_pool *p, size_t n, size_t parts, smg_pool_fn fn, void *ctx);

#endif

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
 * Jobs must not call smg_pool_run on the pool running them. The pool reads
 * no environment: how many workers is its owner's choice.
 */
#ifndef SMG_POOL_H
#define SMG_POOL_H

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

/* Range i of [0, n) split into `parts` ranges (parts >= 1). */
void smg_pool_range(size_t n, size_t parts, size_t i, size_t *begin, size_t *end);

/* Run fn over the `parts` ranges of [0, n) and wait for all (parts 0 = none). */
void smg_pool_run(struct smg_pool *p, size_t n, size_t parts, smg_pool_fn fn, void *ctx);

#endif

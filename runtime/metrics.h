/*
 * Internals of the metric lines (metrics.c) that other runtime files use:
 * freeing the job's timers, and printing a double the way Python's repr does
 * (the shortest text that reads back to the same double), which is what the
 * built-ins' metric lines show.
 */
#ifndef SMG_METRICS_H
#define SMG_METRICS_H

#include <stddef.h>

struct smg_timings;

void smg_timings_free(struct smg_timings *t); /* accepts NULL */

/* The shortest %.{15,16,17}g form of v that strtod reads back exactly. */
void smg_format_double(double v, char *buf, size_t size);

#endif

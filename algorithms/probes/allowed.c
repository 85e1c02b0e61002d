/*
 * Layering probe, never part of a library: the control for the other probes
 * here. What algorithms may include (the foundation and their own headers)
 * compiles, so the failures of the other probes come from the walls, not from
 * a broken probe setup.
 */
#include "algorithms/kmeans.h"
#include "io/base/alloc.h"
#include "io/base/batch.h"
#include "io/base/buffer.h"
#include "io/base/log.h"
#include "io/base/status.h"

int smg_probe_allowed(void);
int smg_probe_allowed(void)
{
    return SMG_OK;
}

/*
 * Layering probe, never part of a library: the control for the other probes
 * here. io may include the foundation and its own headers.
 */
#include "io/base/status.h"
#include "io/channel.h"

int smg_probe_allowed(void);
int smg_probe_allowed(void)
{
    return SMG_OK;
}

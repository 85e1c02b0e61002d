/*
 * Counting failed host checks for `smalgo launch`: a host is lost after a
 * number of failed checks in a row; one answer resets its count. The
 * leader keeps one counter per worker.
 */
#include "runtime/launch.h"

void smg_launch_watch_init(struct smg_launch_watch *w, unsigned lost_after)
{
    for (size_t i = 0; i < SMG_MAX_HOSTS; i++)
        w->misses[i] = 0;
    w->lost_after = lost_after ? lost_after : 1;
}

bool smg_launch_watch_record(struct smg_launch_watch *w, size_t i, bool answered)
{
    if (i >= SMG_MAX_HOSTS)
        return false;
    if (answered) {
        w->misses[i] = 0;
        return false;
    }
    if (w->misses[i] < w->lost_after)
        w->misses[i]++;
    return w->misses[i] >= w->lost_after;
}

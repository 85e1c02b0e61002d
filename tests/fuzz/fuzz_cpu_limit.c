/*
 * Fuzz target for the cgroup text parsers of io/cpu_limit: the first byte
 * picks the parser (cpu.max, cfs quota/period split at the first '|', or the
 * /proc/self/cgroup reader for the v2 or v1 controller); the rest is the
 * text. Checks: an accepted limit is finite and >= 0, a found path starts
 * with '/' and fits its buffer, and the combined CPU count is >= 1.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/cpu_limit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *t = (const char *)data + 1;
    size_t n = size > 0 ? size - 1 : 0;
    double v = -1.0;
    char path[32];

    if (size < 1)
        return 0;
    switch (data[0] % 4) {
    case 0:
        if (smg_cpu_limit_parse_max(t, n, &v) && (!isfinite(v) || v < 0.0))
            abort();
        break;
    case 1: {
        const char *bar = memchr(t, '|', n);
        size_t qn = bar != NULL ? (size_t)(bar - t) : n;
        const char *p = bar != NULL ? bar + 1 : t + n;
        if (smg_cpu_limit_parse_cfs(t, qn, p, n - qn - (bar != NULL), &v) &&
            (!isfinite(v) || v < 0.0))
            abort();
        break;
    }
    default:
        if (smg_cpu_limit_cgroup_path(t, n, data[0] % 4 == 2 ? "" : "cpu", path, sizeof(path)) &&
            (path[0] != '/' || strlen(path) >= sizeof(path)))
            abort();
        break;
    }
    if (v >= 0.0 && smg_cpu_limit_combine((unsigned)data[0], v) < 1)
        abort();
    return 0;
}

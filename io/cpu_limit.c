/*
 * CPUs this process may use (cpu_limit.h): small parsers for the kernel's
 * cgroup files, each advancing a pointer within bounds, and the readers that
 * find those files for the calling process.
 */
#include "io/cpu_limit.h"

#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TEXT_MAX 4096

/* A decimal integer in [1, 2^53) at *p (advanced); false if none. */
static bool parse_positive(const char **p, const char *end, double *v)
{
    uint64_t acc = 0;
    const char *s = *p;
    while (s < end && *s >= '0' && *s <= '9') {
        acc = acc * 10 + (uint64_t)(*s - '0');
        if (acc >= (UINT64_C(1) << 53))
            return false;
        s++;
    }
    if (s == *p || acc == 0)
        return false;
    *v = (double)acc;
    *p = s;
    return true;
}

/* Only a trailing newline may follow. */
static bool at_end(const char *p, const char *end)
{
    return p == end || (p + 1 == end && *p == '\n');
}

bool smg_cpu_limit_parse_max(const char *text, size_t n, double *cpus)
{
    const char *p = text, *end = text + n;
    double quota = 0.0, period;
    bool unlimited = false;

    if (n >= 3 && memcmp(p, "max", 3) == 0) {
        unlimited = true;
        p += 3;
    } else if (!parse_positive(&p, end, &quota))
        return false;
    if (p == end || *p != ' ')
        return false;
    p++;
    if (!parse_positive(&p, end, &period) || !at_end(p, end))
        return false;
    *cpus = unlimited ? 0.0 : quota / period;
    return true;
}

bool smg_cpu_limit_parse_cfs(const char *quota, size_t qn, const char *period, size_t pn,
                             double *cpus)
{
    const char *q = quota, *qend = quota + qn, *p = period, *pend = period + pn;
    double qv, pv;

    if (qn >= 2 && memcmp(q, "-1", 2) == 0 && at_end(q + 2, qend)) {
        *cpus = 0.0;
        return true;
    }
    if (!parse_positive(&q, qend, &qv) || !at_end(q, qend))
        return false;
    if (!parse_positive(&p, pend, &pv) || !at_end(p, pend))
        return false;
    *cpus = qv / pv;
    return true;
}

/* Does the comma-separated list [s, e) name `want` ("" matches only an empty list)? */
static bool names_controller(const char *s, const char *e, const char *want)
{
    size_t wn = strlen(want);
    if (wn == 0)
        return s == e;
    while (s < e) {
        const char *c = memchr(s, ',', (size_t)(e - s));
        const char *ce = c != NULL ? c : e;
        if ((size_t)(ce - s) == wn && memcmp(s, want, wn) == 0)
            return true;
        s = ce + (c != NULL);
    }
    return false;
}

bool smg_cpu_limit_cgroup_path(const char *text, size_t n, const char *controller, char *out,
                               size_t cap)
{
    const char *p = text, *end = text + n;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end;
        const char *c1 = memchr(p, ':', (size_t)(le - p));
        const char *c2 = c1 != NULL ? memchr(c1 + 1, ':', (size_t)(le - c1 - 1)) : NULL;
        if (c2 != NULL && names_controller(c1 + 1, c2, controller)) {
            size_t len = (size_t)(le - c2 - 1);
            if (len == 0 || len >= cap || c2[1] != '/' || memchr(c2 + 1, '\0', len) != NULL)
                return false;
            memcpy(out, c2 + 1, len);
            out[len] = '\0';
            return true;
        }
        p = le + 1;
    }
    return false;
}

unsigned smg_cpu_limit_combine(unsigned affinity, double quota)
{
    unsigned n = affinity > 0 ? affinity : 1;
    if (quota > 0.0 && quota < (double)n) {
        double c = ceil(quota);
        n = c < 1.0 ? 1 : (unsigned)c;
    }
    return n;
}

/* Read a small file into buf (NUL-terminated); its length, or -1. */
static long read_small(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    if (fd < 0)
        return -1;
    while (len + 1 < cap) {
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r < 0) {
            close(fd);
            return -1;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    close(fd);
    buf[len] = '\0';
    return (long)len;
}

/* The smallest v2 limit on the path from the cgroup up to the mount (0 = none). */
static double quota_v2(const char *root, const char *cg)
{
    char dir[TEXT_MAX], path[TEXT_MAX + 16], buf[256];
    double best = 0.0;
    int base = snprintf(dir, sizeof(dir), "%s/sys/fs/cgroup", root);

    if (base < 0 ||
        (size_t)snprintf(dir, sizeof(dir), "%s/sys/fs/cgroup%s", root, cg) >= sizeof(dir))
        return 0.0;
    for (;;) {
        long n;
        double v;
        char *slash;
        snprintf(path, sizeof(path), "%s/cpu.max", dir);
        n = read_small(path, buf, sizeof(buf));
        if (n > 0 && smg_cpu_limit_parse_max(buf, (size_t)n, &v) && v > 0.0 &&
            (best == 0.0 || v < best))
            best = v;
        slash = strrchr(dir, '/');
        if (strlen(dir) <= (size_t)base || slash == NULL || slash < dir + base)
            break;
        *slash = '\0';
    }
    return best;
}

static double quota_v1(const char *root, const char *cg)
{
    static const char *const mounts[] = {"cpu", "cpu,cpuacct", "cpuacct,cpu"};
    char path[TEXT_MAX + 64], q[64], per[64];

    for (size_t m = 0; m < sizeof(mounts) / sizeof(mounts[0]); m++) {
        /* Inside a container the controller's root is the cgroup itself. */
        for (int own = 1; own >= 0; own--) {
            long qn, pn;
            double v;
            snprintf(path, sizeof(path), "%s/sys/fs/cgroup/%s%s/cpu.cfs_quota_us", root, mounts[m],
                     own ? cg : "");
            if ((qn = read_small(path, q, sizeof(q))) <= 0)
                continue;
            snprintf(path, sizeof(path), "%s/sys/fs/cgroup/%s%s/cpu.cfs_period_us", root, mounts[m],
                     own ? cg : "");
            if ((pn = read_small(path, per, sizeof(per))) <= 0)
                continue;
            if (smg_cpu_limit_parse_cfs(q, (size_t)qn, per, (size_t)pn, &v))
                return v;
        }
    }
    return 0.0;
}

double smg_cpu_limit_quota(const char *root)
{
    char text[TEXT_MAX], path[TEXT_MAX + 32], cg[TEXT_MAX];
    long n;
    double v = 0.0;

    snprintf(path, sizeof(path), "%s/proc/self/cgroup", root);
    n = read_small(path, text, sizeof(text));
    if (n <= 0)
        return 0.0;
    if (smg_cpu_limit_cgroup_path(text, (size_t)n, "", cg, sizeof(cg)))
        v = quota_v2(root, strcmp(cg, "/") == 0 ? "" : cg);
    if (v == 0.0 && smg_cpu_limit_cgroup_path(text, (size_t)n, "cpu", cg, sizeof(cg)))
        v = quota_v1(root, strcmp(cg, "/") == 0 ? "" : cg);
    return v;
}

unsigned smg_cpu_limit_affinity(void)
{
    for (int ncpu = 1024; ncpu <= 1 << 16; ncpu *= 2) {
        cpu_set_t *set = CPU_ALLOC((size_t)ncpu);
        size_t sz = CPU_ALLOC_SIZE((size_t)ncpu);
        int count;
        if (set == NULL)
            return 1;
        CPU_ZERO_S(sz, set);
        if (sched_getaffinity(0, sz, set) == 0) {
            count = CPU_COUNT_S(sz, set);
            CPU_FREE(set);
            return count > 0 ? (unsigned)count : 1;
        }
        CPU_FREE(set);
    }
    return 1;
}

unsigned smg_cpu_limit_detect(const char *root)
{
    return smg_cpu_limit_combine(smg_cpu_limit_affinity(), smg_cpu_limit_quota(root));
}

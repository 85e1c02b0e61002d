/*
 * How many CPUs this process may use: the smaller of its scheduler affinity
 * (sched_getaffinity, what taskset and Docker's --cpuset-cpus give) and its
 * cgroup CPU quota rounded up (Docker's --cpus, Kubernetes limits, a
 * SageMaker container), at least 1.
 *
 * The quota is read from the process's own cgroup: cgroup v2 `cpu.max` under
 * the path /proc/self/cgroup names for hierarchy 0 (and each parent up to the
 * mount, the smallest limit winning), else cgroup v1 `cpu.cfs_quota_us` /
 * `cpu.cfs_period_us` under the `cpu` controller's path. Files are read below
 * a root directory the caller gives ("/" in production, a temporary tree in
 * tests). Files that are absent or unreadable mean "no limit"; text that is
 * present but malformed is reported by the parsers and also ignored by
 * smg_cpu_limit_detect, which must never stop a job.
 *
 * The parsers take text as read from the kernel's files:
 *   cpu.max:            "max 100000\n" (no limit) or "<quota> <period>\n"
 *   cpu.cfs_quota_us:   "-1\n" (no limit) or "<quota>\n"
 *   cpu.cfs_period_us:  "<period>\n"
 *   /proc/self/cgroup:  lines "<id>:<controllers>:<path>\n"
 */
#ifndef SMG_CPU_LIMIT_H
#define SMG_CPU_LIMIT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Parse cpu.max text (n bytes, not NUL-terminated). true with *cpus = quota /
 * period (0 for "max": no limit); false when malformed (a quota or period
 * that is not a positive decimal integer, extra fields).
 */
bool smg_cpu_limit_parse_max(const char *text, size_t n, double *cpus);

/* Parse cgroup v1 quota and period texts: *cpus as above (0 for quota -1). */
bool smg_cpu_limit_parse_cfs(const char *quota, size_t qn, const char *period, size_t pn,
                             double *cpus);

/*
 * The path of `controller` ("" = the v2 unified hierarchy, "cpu" = v1) in
 * /proc/self/cgroup text, copied NUL-terminated into out (cap bytes). false
 * when absent, malformed or too long.
 */
bool smg_cpu_limit_cgroup_path(const char *text, size_t n, const char *controller, char *out,
                               size_t cap);

/* CPUs from an affinity count and a quota (0 = none): min(affinity, ceil(quota)), >= 1. */
unsigned smg_cpu_limit_combine(unsigned affinity, double quota);

/*
 * The CPU quota of this process read below `root` ("/" normally): 0 when
 * there is none or it cannot be read.
 */
double smg_cpu_limit_quota(const char *root);

/* CPUs in this process's affinity mask (1 if it cannot be read). */
unsigned smg_cpu_limit_affinity(void);

/* smg_cpu_limit_combine(smg_cpu_limit_affinity(), smg_cpu_limit_quota(root)). */
unsigned smg_cpu_limit_detect(const char *root);

#endif

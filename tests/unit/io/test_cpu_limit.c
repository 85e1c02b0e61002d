/*
 * Tests for io/cpu_limit: the cpu.max and cfs parsers on the kernel's real
 * spellings and on malformed text, the /proc/self/cgroup reader for v2 and v1
 * lines, min(affinity, ceil(quota)), and the whole detection on fake cgroup
 * trees written into a temporary root (v2 limit at the cgroup, a tighter one
 * on a parent, v1 quota, no limit, garbage), plus the live affinity count
 * against sysconf.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/cpu_limit.h"

static bool pmax(const char *s, double *v)
{
    return smg_cpu_limit_parse_max(s, strlen(s), v);
}

static void test_parse_max(void **state)
{
    double v = -1.0;
    (void)state;
    assert_true(pmax("max 100000\n", &v));
    assert_true(v == 0.0);
    assert_true(pmax("150000 100000\n", &v));
    assert_true(v == 1.5);
    assert_true(pmax("200000 100000", &v));
    assert_true(v == 2.0);
    assert_true(pmax("50000 100000\n", &v));
    assert_true(v == 0.5);
    static const char *const bad[] = {"",
                                      "\n",
                                      "max",
                                      "max\n",
                                      "max 0\n",
                                      "0 100000\n",
                                      "-1 100000\n",
                                      "10 x\n",
                                      "10  10\n",
                                      "10 10 10\n",
                                      "10 10\n\n",
                                      " 10 10\n",
                                      "1e5 1e5\n",
                                      "99999999999999999999 1\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(pmax(bad[i], &v));
}

static void test_parse_cfs(void **state)
{
    double v = -1.0;
    (void)state;
    assert_true(smg_cpu_limit_parse_cfs("-1\n", 3, "100000\n", 7, &v));
    assert_true(v == 0.0);
    assert_true(smg_cpu_limit_parse_cfs("250000\n", 7, "100000\n", 7, &v));
    assert_true(v == 2.5);
    assert_false(smg_cpu_limit_parse_cfs("-2\n", 3, "100000\n", 7, &v));
    assert_false(smg_cpu_limit_parse_cfs("100\n", 4, "0\n", 2, &v));
    assert_false(smg_cpu_limit_parse_cfs("", 0, "100000\n", 7, &v));
    assert_false(smg_cpu_limit_parse_cfs("100 1\n", 6, "100000\n", 7, &v));
}

static void test_cgroup_path(void **state)
{
    char out[64];
    const char *v2 = "0::/user.slice/job.scope\n";
    const char *v1 = "12:cpuset:/a\n11:cpu,cpuacct:/docker/abc\n1:name=systemd:/x\n";
    (void)state;
    assert_true(smg_cpu_limit_cgroup_path(v2, strlen(v2), "", out, sizeof(out)));
    assert_string_equal(out, "/user.slice/job.scope");
    assert_false(smg_cpu_limit_cgroup_path(v2, strlen(v2), "cpu", out, sizeof(out)));
    assert_true(smg_cpu_limit_cgroup_path(v1, strlen(v1), "cpu", out, sizeof(out)));
    assert_string_equal(out, "/docker/abc");
    assert_false(smg_cpu_limit_cgroup_path(v1, strlen(v1), "", out, sizeof(out)));
    assert_false(smg_cpu_limit_cgroup_path("0::\n", 4, "", out, sizeof(out)));
    assert_false(smg_cpu_limit_cgroup_path("0::relative\n", 12, "", out, sizeof(out)));
    assert_false(smg_cpu_limit_cgroup_path("garbage", 7, "", out, sizeof(out)));
    assert_false(smg_cpu_limit_cgroup_path(v2, strlen(v2), "", out, 8)); /* too long */
}

static void test_combine(void **state)
{
    (void)state;
    assert_int_equal(smg_cpu_limit_combine(8, 0.0), 8);
    assert_int_equal(smg_cpu_limit_combine(8, 1.5), 2);
    assert_int_equal(smg_cpu_limit_combine(8, 0.2), 1);
    assert_int_equal(smg_cpu_limit_combine(2, 16.0), 2);
    assert_int_equal(smg_cpu_limit_combine(0, 0.0), 1);
}

/* Write text to root/rel, making folders on the way. */
static void put(const char *root, const char *rel, const char *text)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_detect_trees(void **state)
{
    char root[] = "/tmp/smg_cpu_limitXXXXXX", cmd[600];
    (void)state;
    assert_non_null(mkdtemp(root));
    /* No /proc/self/cgroup at all: no quota. */
    assert_true(smg_cpu_limit_quota(root) == 0.0);
    /* v2, limit on the job's own cgroup. */
    put(root, "proc/self/cgroup", "0::/jobs/one\n");
    put(root, "sys/fs/cgroup/jobs/one/cpu.max", "300000 100000\n");
    assert_true(smg_cpu_limit_quota(root) == 3.0);
    /* A tighter limit on the parent wins. */
    put(root, "sys/fs/cgroup/jobs/cpu.max", "150000 100000\n");
    assert_true(smg_cpu_limit_quota(root) == 1.5);
    /* Inside a container namespace: "0::/" and the limit at the mount root. */
    put(root, "proc/self/cgroup", "0::/\n");
    put(root, "sys/fs/cgroup/cpu.max", "max 100000\n");
    assert_true(smg_cpu_limit_quota(root) == 0.0);
    put(root, "sys/fs/cgroup/cpu.max", "garbage\n");
    assert_true(smg_cpu_limit_quota(root) == 0.0);
    put(root, "sys/fs/cgroup/cpu.max", "100000 100000\n");
    assert_true(smg_cpu_limit_quota(root) == 1.0);
    assert_int_equal(smg_cpu_limit_combine(4, smg_cpu_limit_quota(root)), 1);
    /* v1: the cpu controller's own path, then its root. */
    put(root, "proc/self/cgroup", "4:cpu,cpuacct:/docker/abc\n");
    put(root, "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
    put(root, "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    assert_true(smg_cpu_limit_quota(root) == 0.0);
    put(root, "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "200000\n");
    put(root, "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
    assert_true(smg_cpu_limit_quota(root) == 2.0);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void test_live_affinity(void **state)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned a = smg_cpu_limit_affinity(), d = smg_cpu_limit_detect("/");
    (void)state;
    assert_true(a >= 1);
    assert_true(online < 1 || a <= (unsigned)online);
    assert_true(d >= 1 && d <= a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_max),    cmocka_unit_test(test_parse_cfs),
        cmocka_unit_test(test_cgroup_path),  cmocka_unit_test(test_combine),
        cmocka_unit_test(test_detect_trees), cmocka_unit_test(test_live_affinity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The pure parts of `smalgo launch`: the mpirun argument vector built from a
 * job (one rank per host, the interface for MPI and out-of-band traffic, the
 * forwarded variables sorted and each once, then smalgo and its arguments),
 * the names we accept for ssh and mpirun, the default-route interface from
 * /proc/net/route text (including malformed text), the tunables from the
 * environment, the argument vector under injected out-of-memory, the one ssh
 * command line, and the ML root found in train's arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/base/alloc.h"
#include "runtime/launch_plan.h"

static char *env_sample[] = {"PATH=/usr/bin",
                             "SMALGO_ALGORITHM=pca",
                             "AWS_REGION=us-east-1",
                             "HOME=/root",
                             "OMP_NUM_THREADS=2",
                             "SMALGO_ALGORITHM=kmeans",
                             "SMX=1",
                             "SM_HOSTS=[]",
                             "LD_LIBRARY_PATH=/x",
                             "OPENBLAS_NUM_THREADS=1",
                             "TRAINING_JOB_NAME=j",
                             "BROKEN",
                             NULL};

static const char *expected_argv[] = {"mpirun",
                                      "--allow-run-as-root",
                                      "-np",
                                      "3",
                                      "--host",
                                      "algo-1:1,algo-2:1,algo-3:1",
                                      "--bind-to",
                                      "none",
                                      "--mca",
                                      "plm_rsh_no_tree_spawn",
                                      "1",
                                      "--mca",
                                      "orte_abort_on_non_zero_status",
                                      "1",
                                      "--mca",
                                      "pml",
                                      "ob1",
                                      "--mca",
                                      "btl",
                                      "tcp,self",
                                      "--mca",
                                      "btl_tcp_if_include",
                                      "eth0",
                                      "--mca",
                                      "oob_tcp_if_include",
                                      "eth0",
                                      "-x",
                                      "PATH",
                                      "-x",
                                      "AWS_REGION",
                                      "-x",
                                      "LD_LIBRARY_PATH",
                                      "-x",
                                      "OMP_NUM_THREADS",
                                      "-x",
                                      "OPENBLAS_NUM_THREADS",
                                      "-x",
                                      "SMALGO_ALGORITHM",
                                      "-x",
                                      "SM_HOSTS",
                                      "-x",
                                      "TRAINING_JOB_NAME",
                                      "/usr/local/bin/smalgo",
                                      "train",
                                      "--algorithm",
                                      "pca",
                                      NULL};

static void sample_job(struct smg_launch_job *job)
{
    static const char *hosts[] = {"algo-1", "algo-2", "algo-3"};
    static char a0[] = "train", a1[] = "--algorithm", a2[] = "pca";
    static char *args[] = {a0, a1, a2};

    job->hosts = hosts;
    job->n_hosts = 3;
    job->iface = "eth0";
    job->smalgo = "/usr/local/bin/smalgo";
    job->args = args;
    job->n_args = 3;
    job->environ = env_sample;
}

static void test_mpirun_argv(void **state)
{
    struct smg_launch_job job;
    struct smg_argv a;
    struct smg_error err;
    size_t n = 0;

    (void)state;
    sample_job(&job);
    smg_argv_init(&a);
    smg_error_clear(&err);
    assert_int_equal(smg_launch_mpirun_argv(&job, &a, &err), SMG_OK);
    while (expected_argv[n] != NULL)
        n++;
    assert_int_equal(a.n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(a.v[i], expected_argv[i]);
    assert_null(a.v[a.n]);
    smg_argv_free(&a);
}

static void test_mpirun_argv_out_of_memory(void **state)
{
    struct smg_launch_job job;
    struct smg_argv a;
    struct smg_error err;
    int failures = 0;

    (void)state;
    sample_job(&job);
    /* Fail each allocation in turn: every failure is a clean SMG_ENOMEM, no leak. */
    for (long k = 0; k < 200; k++) {
        smg_argv_init(&a);
        smg_error_clear(&err);
        smg_alloc_fail_after(k);
        int rc = smg_launch_mpirun_argv(&job, &a, &err);
        smg_alloc_reset();
        smg_argv_free(&a);
        if (rc == SMG_OK)
            break;
        assert_int_equal(rc, SMG_ENOMEM);
        assert_non_null(strstr(err.msg, "out of memory"));
        failures++;
    }
    assert_true(failures > 10);
}

static void test_names(void **state)
{
    (void)state;
    assert_true(smg_launch_name_ok("algo-1"));
    assert_true(smg_launch_name_ok("algo-1-ab3x9"));
    assert_true(smg_launch_name_ok("ip-10-0-0-1.ec2.internal"));
    assert_true(smg_launch_name_ok("eth_0"));
    assert_false(smg_launch_name_ok(NULL));
    assert_false(smg_launch_name_ok(""));
    assert_false(smg_launch_name_ok("-oProxyCommand=x"));
    assert_false(smg_launch_name_ok("a b"));
    assert_false(smg_launch_name_ok("a;rm"));
    assert_false(smg_launch_name_ok("a/b"));
    assert_false(smg_launch_name_ok("h\xc3\xa9"));
}

static void test_forwarded(void **state)
{
    (void)state;
    assert_true(smg_launch_forwarded("SMALGO_X=1"));
    assert_true(smg_launch_forwarded("SM_HOSTS"));
    assert_true(smg_launch_forwarded("LD_LIBRARY_PATH=/a"));
    assert_false(smg_launch_forwarded("SMX=1"));
    assert_false(smg_launch_forwarded("SM=1"));
    assert_false(smg_launch_forwarded("LD_PRELOAD=/evil.so"));
    assert_false(smg_launch_forwarded("SMALGO-X=1"));
    assert_false(smg_launch_forwarded("PATH=/bin"));
}

static void test_default_route(void **state)
{
    const char *route = "Iface\tDestination\tGateway \tFlags\n"
                        "eth1\t0011A8C0\t00000000\t0001\n"
                        "eth0\t00000000\t0100A8C0\t0003\n";
    char out[16];

    (void)state;
    assert_true(smg_launch_default_route_iface(route, out, sizeof(out)));
    assert_string_equal(out, "eth0");
    /* No default route, header only, empty, truncated and junk lines. */
    assert_false(smg_launch_default_route_iface("Iface\tDestination\n", out, sizeof(out)));
    assert_false(smg_launch_default_route_iface("", out, sizeof(out)));
    assert_false(smg_launch_default_route_iface("eth0\t0000000", out, sizeof(out)));
    assert_false(smg_launch_default_route_iface("eth0\t000000001\t0\n", out, sizeof(out)));
    assert_false(smg_launch_default_route_iface("\t00000000\t0\n", out, sizeof(out)));
    assert_false(smg_launch_default_route_iface("no tabs at all\n\n\n", out, sizeof(out)));
    /* A name that does not fit the buffer is refused, not cut. */
    assert_false(
        smg_launch_default_route_iface("averyveryverylongname0\t00000000\t0\n", out, sizeof(out)));
    /* The last line need not end with a newline. */
    assert_true(
        smg_launch_default_route_iface("Iface\tDestination\nens5\t00000000", out, sizeof(out)));
    assert_string_equal(out, "ens5");
}

static void test_env_uint(void **state)
{
    (void)state;
    unsetenv("SMG_TEST_SECONDS");
    assert_int_equal(smg_launch_env_uint("SMG_TEST_SECONDS", 300, 0, 1000), 300);
    setenv("SMG_TEST_SECONDS", "8", 1);
    assert_int_equal(smg_launch_env_uint("SMG_TEST_SECONDS", 300, 0, 1000), 8);
    setenv("SMG_TEST_SECONDS", "0", 1);
    assert_int_equal(smg_launch_env_uint("SMG_TEST_SECONDS", 5, 1, 1000), 5);
    setenv("SMG_TEST_SECONDS", "5s", 1);
    assert_int_equal(smg_launch_env_uint("SMG_TEST_SECONDS", 5, 1, 1000), 5);
    setenv("SMG_TEST_SECONDS", "-3", 1);
    assert_int_equal(smg_launch_env_uint("SMG_TEST_SECONDS", 5, 1, 1000), 5);
    setenv("SMG_TEST_SECONDS", "99999999999999999999", 1);
    assert_int_equal(smg_launch_env_uint("SMG_TEST_SECONDS", 5, 1, 1000), 5);
    unsetenv("SMG_TEST_SECONDS");
}

static void test_ssh_argv(void **state)
{
    static const char *want[] = {"ssh",    "-o",  "ConnectTimeout=5", "-o", "BatchMode=yes",
                                 "algo-2", "true"};
    char *argv[SMG_SSH_ARGV_LEN];
    char **got;

    (void)state;
    got = smg_launch_ssh_argv(argv, "algo-2", "true");
    assert_ptr_equal(got, argv);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_string_equal(argv[i], want[i]);
    assert_null(argv[SMG_SSH_ARGV_LEN - 1]);
}

static void test_ml_root(void **state)
{
    char *bare[] = {"train"};
    char *flag[] = {"train", "--ml-root", "/x"};
    char *eq[] = {"train", "--ml-root=/y"};
    char *last[] = {"train", "--ml-root", "/x", "--algorithm", "pca", "--ml-root=/y"};
    char *algo_value[] = {"train", "--algorithm", "--ml-root", "pca"};
    char *no_value[] = {"train", "--algorithm", "kmeans", "--ml-root"};
    char *empty[] = {"train", "--ml-root="};

    (void)state;
    assert_string_equal(smg_launch_ml_root(bare, 1, NULL), "/opt/ml");
    assert_string_equal(smg_launch_ml_root(bare, 1, ""), "/opt/ml");
    assert_string_equal(smg_launch_ml_root(bare, 1, "/env"), "/env");
    /* The flag wins over SMALGO_ML_ROOT, in both spellings; the last one counts. */
    assert_string_equal(smg_launch_ml_root(flag, 3, "/env"), "/x");
    assert_string_equal(smg_launch_ml_root(eq, 2, "/env"), "/y");
    assert_string_equal(smg_launch_ml_root(last, 6, NULL), "/y");
    /* --algorithm's value is a value, as train reads it, even when it looks like --ml-root. */
    assert_string_equal(smg_launch_ml_root(algo_value, 4, "/env"), "/env");
    /* A trailing --ml-root has no value: train rejects it; launch falls back. */
    assert_string_equal(smg_launch_ml_root(no_value, 4, NULL), "/opt/ml");
    /* An empty value is passed on for train to report. */
    assert_string_equal(smg_launch_ml_root(empty, 2, "/env"), "");
    /* Only args[1..n_args) are read. */
    assert_string_equal(smg_launch_ml_root(flag, 2, NULL), "/opt/ml");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mpirun_argv),   cmocka_unit_test(test_mpirun_argv_out_of_memory),
        cmocka_unit_test(test_names),         cmocka_unit_test(test_forwarded),
        cmocka_unit_test(test_default_route), cmocka_unit_test(test_env_uint),
        cmocka_unit_test(test_ssh_argv),      cmocka_unit_test(test_ml_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

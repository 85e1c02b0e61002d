/*
 * The leader-to-worker status hand-back of `smalgo launch`: the done file's
 * text for a status and a failure, its parsing (including malformed first
 * lines, which read as status 1), the failure text a worker writes (the job's
 * cause first, then its own rank's), and the lost-host counter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/launch.h"
#include "runtime/launch_done.h"

static int parse(const char *text, char *reason, size_t size)
{
    const char *r;
    size_t len;
    int status = smg_launch_done_parse(text, strlen(text), &r, &len);

    assert_true(len < size);
    memcpy(reason, r, len);
    reason[len] = '\0';
    return status;
}

static void test_format_and_parse(void **state)
{
    char buf[2048], reason[2048];

    (void)state;
    assert_int_equal(smg_launch_done_format(0, "ignored on success", buf, sizeof(buf)), 2);
    assert_string_equal(buf, "0\n");
    assert_int_equal(parse(buf, reason, sizeof(reason)), 0);
    assert_string_equal(reason, "");

    smg_launch_done_format(1, "AlgorithmError: lost host(s) algo-2", buf, sizeof(buf));
    assert_string_equal(buf, "1\nAlgorithmError: lost host(s) algo-2");
    assert_int_equal(parse(buf, reason, sizeof(reason)), 1);
    assert_string_equal(reason, "AlgorithmError: lost host(s) algo-2");

    smg_launch_done_format(143, NULL, buf, sizeof(buf));
    assert_string_equal(buf, "143\n");
    assert_int_equal(parse(buf, reason, sizeof(reason)), 143);
}

static void test_format_cuts_reason(void **state)
{
    char failure[3000], buf[SMG_LAUNCH_DONE_REASON_MAX + 64], small[8];

    (void)state;
    memset(failure, 'x', sizeof(failure) - 1);
    failure[sizeof(failure) - 1] = '\0';
    assert_int_equal(smg_launch_done_format(1, failure, buf, sizeof(buf)),
                     2 + SMG_LAUNCH_DONE_REASON_MAX);
    /* A buffer too small still ends terminated, and the length says what is there. */
    assert_int_equal(smg_launch_done_format(1, failure, small, sizeof(small)), sizeof(small) - 1);
    assert_int_equal(strlen(small), sizeof(small) - 1);
}

static void test_parse_malformed(void **state)
{
    char reason[64];
    const char *r;
    size_t len;

    (void)state;
    assert_int_equal(parse("", reason, sizeof(reason)), 1);
    assert_int_equal(parse("\n", reason, sizeof(reason)), 1);
    assert_int_equal(parse("abc\nwhy", reason, sizeof(reason)), 1);
    assert_string_equal(reason, "why");
    assert_int_equal(parse("-1\n", reason, sizeof(reason)), 1);
    assert_int_equal(parse(" 0\n", reason, sizeof(reason)), 1);
    assert_int_equal(parse("256\n", reason, sizeof(reason)), 1);
    assert_int_equal(parse("99999999999\n", reason, sizeof(reason)), 1);
    assert_int_equal(parse("2", reason, sizeof(reason)), 2); /* no newline at all */
    assert_string_equal(reason, "");
    /* Not NUL-terminated: only len bytes are read. */
    assert_int_equal(smg_launch_done_parse("7\nab!!!", 4, &r, &len), 7);
    assert_int_equal(len, 2);
    assert_memory_equal(r, "ab", 2);
}

static void test_worker_failure(void **state)
{
    char out[512];

    (void)state;
    smg_launch_worker_failure("AlgorithmError: lost host(s) algo-2", "MPI_Allreduce failed",
                              "algo-3", "algo-1", 1, out, sizeof(out));
    assert_string_equal(out,
                        "AlgorithmError: lost host(s) algo-2 (on algo-3: MPI_Allreduce failed)");
    smg_launch_worker_failure("AlgorithmError: lost host(s) algo-2", "", "algo-3", "algo-1", 1, out,
                              sizeof(out));
    assert_string_equal(out, "AlgorithmError: lost host(s) algo-2");
    smg_launch_worker_failure("", NULL, "algo-2", "algo-1", 3, out, sizeof(out));
    assert_string_equal(out, "AlgorithmError: the job failed (status 3 on the leader algo-1)");
    /* The leader quotes this host's own failure: write it as this host wrote it. */
    smg_launch_worker_failure("host algo-2 failed: ClientError: bad data", "ClientError: bad data",
                              "algo-2", "algo-1", 1, out, sizeof(out));
    assert_string_equal(out, "ClientError: bad data");
    smg_launch_worker_failure("host algo-2 failed: ClientError: bad data", "", "algo-2", "algo-1",
                              1, out, sizeof(out));
    assert_string_equal(out, "host algo-2 failed: ClientError: bad data");
    /* Another host's failure is the cause; this host's text follows. */
    smg_launch_worker_failure("host algo-2 failed: ClientError: bad data", "teardown", "algo-3",
                              "algo-1", 1, out, sizeof(out));
    assert_string_equal(out, "host algo-2 failed: ClientError: bad data (on algo-3: teardown)");
}

static void test_watch(void **state)
{
    struct smg_launch_watch w;

    (void)state;
    smg_launch_watch_init(&w, 2);
    assert_false(smg_launch_watch_record(&w, 1, false));
    assert_false(smg_launch_watch_record(&w, 1, true)); /* an answer resets the count */
    assert_false(smg_launch_watch_record(&w, 1, false));
    assert_false(smg_launch_watch_record(&w, 2, false)); /* hosts count apart */
    assert_true(smg_launch_watch_record(&w, 1, false));
    assert_true(smg_launch_watch_record(&w, 2, false));
    assert_false(smg_launch_watch_record(&w, SMG_MAX_HOSTS, false)); /* out of range: ignored */
    smg_launch_watch_init(&w, 0);                                    /* 0 means the first miss */
    assert_true(smg_launch_watch_record(&w, 1, false));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_and_parse),
        cmocka_unit_test(test_format_cuts_reason),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_worker_failure),
        cmocka_unit_test(test_watch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

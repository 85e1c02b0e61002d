/*
 * Tests for runtime/threads: SMALGO_THREADS overrides the worker count (1 and
 * 1024 accepted), anything else in it is SMG_ECONFIG naming the variable;
 * unset, the count is the detected CPUs shared between the ranks of a host
 * (never below 1); the pool made has that many workers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "io/cpu_limit.h"
#include "runtime/threads.h"

static void test_override(void **state)
{
    unsigned n = 0;
    (void)state;
    setenv("SMALGO_THREADS", "3", 1);
    assert_int_equal(smg_threads_count(1, &n, NULL), SMG_OK);
    assert_int_equal(n, 3);
    assert_int_equal(smg_threads_count(4, &n, NULL), SMG_OK); /* explicit: not divided */
    assert_int_equal(n, 3);
    setenv("SMALGO_THREADS", "1024", 1);
    assert_int_equal(smg_threads_count(1, &n, NULL), SMG_OK);
    assert_int_equal(n, 1024);
    unsetenv("SMALGO_THREADS");
}

static void test_bad_values(void **state)
{
    static const char *const bad[] = {"0", "-1", "1025", "2x", " 2", "abc", "99999999999999"};
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct smg_error err;
        unsigned n = 0;
        smg_error_clear(&err);
        setenv("SMALGO_THREADS", bad[i], 1);
        assert_int_equal(smg_threads_count(1, &n, &err), SMG_ECONFIG);
        assert_non_null(strstr(err.msg, "SMALGO_THREADS"));
        assert_int_equal(err.klass, SMG_CLIENT_ERROR);
    }
    unsetenv("SMALGO_THREADS");
}

static void test_detected_and_shared(void **state)
{
    unsigned cpus = smg_cpu_limit_detect("/"), n = 0;
    struct smg_pool *p = NULL;
    (void)state;
    unsetenv("SMALGO_THREADS");
    setenv("SMALGO_THREADS", "", 1); /* empty counts as unset */
    assert_int_equal(smg_threads_count(1, &n, NULL), SMG_OK);
    assert_int_equal(n, cpus);
    assert_int_equal(smg_threads_count(2, &n, NULL), SMG_OK);
    assert_int_equal(n, cpus / 2 >= 1 ? cpus / 2 : 1);
    assert_int_equal(smg_threads_count(1000, &n, NULL), SMG_OK);
    assert_int_equal(n, 1);
    setenv("SMALGO_THREADS", "2", 1);
    assert_int_equal(smg_threads_pool(1, false, &p, NULL), SMG_OK);
    assert_int_equal(smg_pool_size(p), 2);
    smg_pool_free(p);
    unsetenv("SMALGO_THREADS");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_override),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_detected_and_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

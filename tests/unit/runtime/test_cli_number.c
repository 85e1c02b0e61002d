/*
 * Tests for smg_cli_parse_u64 (runtime/cli_number.h): the one rule every
 * subcommand option follows, and the malformed values it must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "runtime/cli_number.h"

static void test_accepts_plain_decimal(void **state)
{
    uint64_t v = 0;
    (void)state;
    assert_true(smg_cli_parse_u64("0", 0, 10, &v));
    assert_int_equal(v, 0);
    assert_true(smg_cli_parse_u64("0007", 0, 10, &v));
    assert_int_equal(v, 7);
    assert_true(smg_cli_parse_u64("18446744073709551615", 0, UINT64_MAX, &v));
    assert_true(v == UINT64_MAX);
}

static void test_refuses_malformed(void **state)
{
    static const char *const bad[] = {NULL, "",   "-1",   "-0",  "+5",  " 5",
                                      "5 ", "5x", "0x10", "1e3", "1.0", "18446744073709551616"};
    uint64_t v = 42;
    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(smg_cli_parse_u64(bad[i], 0, UINT64_MAX, &v));
        assert_int_equal(v, 42); /* untouched on refusal */
    }
}

static void test_enforces_range(void **state)
{
    uint64_t v = 42;
    (void)state;
    assert_false(smg_cli_parse_u64("0", 1, 10, &v));
    assert_false(smg_cli_parse_u64("11", 1, 10, &v));
    assert_int_equal(v, 42);
    assert_true(smg_cli_parse_u64("10", 1, 10, &v));
    assert_int_equal(v, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepts_plain_decimal),
        cmocka_unit_test(test_refuses_malformed),
        cmocka_unit_test(test_enforces_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Tests for io/json_string: plain text, quotes and backslashes, control bytes,
 * well-formed UTF-8 (2, 3 and 4 bytes) kept, malformed UTF-8 (a lone
 * continuation byte, a truncated sequence, an overlong form, a surrogate)
 * replaced by \ufffd, the body-only form, and the buffer's cap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "io/json_string.h"

static void expect(const char *in, const char *out)
{
    struct smg_buf b;

    smg_buf_init(&b, 4096);
    assert_int_equal(smg_json_put_string(&b, in), SMG_OK);
    assert_string_equal(b.data, out);
    smg_buf_free(&b);
}

static void test_escapes(void **state)
{
    (void)state;
    expect("", "\"\"");
    expect("algo-1", "\"algo-1\"");
    expect("a\"b\\c", "\"a\\\"b\\\\c\"");
    expect("tab\there\nnl\x01", "\"tab\\u0009here\\u000anl\\u0001\"");
    expect("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
           "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

static void test_malformed_utf8(void **state)
{
    (void)state;
    expect("a\x80z", "\"a\\ufffdz\"");
    expect("a\xc3", "\"a\\ufffd\"");
    expect("\xc0\xaf", "\"\\ufffd\\ufffd\"");
    expect("\xed\xa0\x80x", "\"\\ufffd\\ufffd\\ufffdx\"");
    expect("\xff", "\"\\ufffd\"");
}

static void test_body_and_cap(void **state)
{
    struct smg_buf b;

    (void)state;
    smg_buf_init(&b, 8);
    assert_int_equal(smg_json_put_string_body(&b, "q\"q"), SMG_OK);
    assert_string_equal(b.data, "q\\\"q");
    assert_int_equal(smg_json_put_string(&b, "toolong"), SMG_ENOMEM);
    smg_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_malformed_utf8),
        cmocka_unit_test(test_body_and_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Tests for io/base/buffer: appends that cross the doubling steps keep every
 * byte and the NUL, the cap is exact (max bytes fit, max + 1 do not, and a
 * refused append changes nothing), printf appends, take hands over the memory,
 * and an injected allocation failure is SMG_ENOMEM with the buffer intact.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "io/base/alloc.h"
#include "io/base/buffer.h"

static void test_append_grows(void **state)
{
    struct smg_buf b;
    char piece[37];

    (void)state;
    smg_buf_init(&b, 1 << 20);
    for (size_t i = 0; i < sizeof(piece); i++)
        piece[i] = (char)('a' + i % 26);
    for (int i = 0; i < 100; i++)
        assert_int_equal(smg_buf_append(&b, piece, sizeof(piece)), SMG_OK);
    assert_int_equal(b.len, 100 * sizeof(piece));
    for (size_t i = 0; i < b.len; i++)
        assert_int_equal(b.data[i], piece[i % sizeof(piece)]);
    assert_int_equal(b.data[b.len], '\0');
    smg_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(smg_buf_append_str(&b, "xy"), SMG_OK);
    assert_string_equal(b.data, "xy");
    smg_buf_free(&b);
    assert_null(b.data);
}

static void test_cap_is_exact(void **state)
{
    struct smg_buf b;

    (void)state;
    smg_buf_init(&b, 1000);
    assert_int_equal(smg_buf_append(&b, NULL, 0), SMG_OK);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(smg_buf_append(&b, "z", 1), SMG_OK);
    assert_int_equal(b.len, 1000);
    assert_true(b.cap <= 1001);
    assert_int_equal(smg_buf_append(&b, "z", 1), SMG_ENOMEM);
    assert_int_equal(b.len, 1000);
    assert_int_equal(b.data[999], 'z');
    assert_int_equal(smg_buf_reserve(&b, SIZE_MAX), SMG_ENOMEM);
    smg_buf_free(&b);
}

static void test_printf_and_take(void **state)
{
    struct smg_buf b;
    size_t len;
    char *s;

    (void)state;
    smg_buf_init(&b, 64);
    assert_int_equal(smg_buf_printf(&b, "%s=%d", "k", 42), SMG_OK);
    assert_int_equal(smg_buf_printf(&b, ",%.1f", 2.5), SMG_OK);
    assert_string_equal(b.data, "k=42,2.5");
    assert_int_equal(smg_buf_printf(&b, "%100s", ""), SMG_ENOMEM);
    assert_string_equal(b.data, "k=42,2.5");
    s = smg_buf_take(&b, &len);
    assert_int_equal(len, 8);
    assert_string_equal(s, "k=42,2.5");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    smg_free(s);
    s = smg_buf_take(&b, &len); /* an empty buffer gives an empty string */
    assert_non_null(s);
    assert_int_equal(len, 0);
    assert_string_equal(s, "");
    smg_free(s);
}

/* An unbounded buffer (max SIZE_MAX) grows like any other; max + 1 must not wrap. */
static void test_unbounded(void **state)
{
    struct smg_buf b;

    (void)state;
    smg_buf_init(&b, SIZE_MAX);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(smg_buf_append_str(&b, "0123456789"), SMG_OK);
    assert_int_equal(b.len, 10000);
    assert_true(b.cap > b.len);
    assert_int_equal(b.data[9999], '9');
    assert_int_equal(smg_buf_reserve(&b, SIZE_MAX - b.len), SMG_ENOMEM);
    assert_int_equal(smg_buf_reserve(&b, SIZE_MAX), SMG_ENOMEM);
    smg_buf_free(&b);
}

static void test_alloc_failure(void **state)
{
    struct smg_buf b;

    (void)state;
    smg_buf_init(&b, 1 << 20);
    assert_int_equal(smg_buf_append_str(&b, "kept"), SMG_OK);
    smg_alloc_fail_after(0);
    assert_int_equal(smg_buf_reserve(&b, 4096), SMG_ENOMEM);
    smg_alloc_reset();
    assert_string_equal(b.data, "kept");
    smg_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_grows),    cmocka_unit_test(test_cap_is_exact),
        cmocka_unit_test(test_printf_and_take), cmocka_unit_test(test_unbounded),
        cmocka_unit_test(test_alloc_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

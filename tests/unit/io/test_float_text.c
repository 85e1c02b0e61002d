/*
 * Tests for io/float_text: smg_float_text17 must write exactly what
 * snprintf("%.17g", (double)f) writes, for every kind of float32: random bit
 * patterns over the whole range (fixed seed), every power of two and of ten
 * near the fast path's edges, values that round up to a new digit
 * (9.99999...), integers, subnormals, zeros, infinities and NaN.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/float_text.h"

static void check(float f)
{
    char want[64], got[SMG_FLOAT_TEXT_MAX];
    size_t n;

    snprintf(want, sizeof(want), "%.17g", (double)f);
    n = smg_float_text17(f, got);
    if (strcmp(want, got) != 0 || n != strlen(want)) {
        uint32_t bits;
        memcpy(&bits, &f, 4);
        fail_msg("bits 0x%08x: got '%s' (%zu), want '%s'", bits, got, n, want);
    }
}

static void test_special(void **state)
{
    static const float v[] = {0.0f,        -0.0f,         1.0f,
                              -1.0f,       2.0f,          0.5f,
                              0.25f,       0.1f,          3.0f,
                              7.0f,        1e-5f,         1e-4f,
                              9.99999e-5f, 1e16f,         1e17f,
                              1.5e17f,     123456789.0f,  0.23653684556484222f,
                              16777216.0f, 3.4028235e38f, 1.17549435e-38f,
                              1e-45f,      1e-40f,        9.9999999e-15f,
                              1e-14f,      1.0000001e-14f};
    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        check(v[i]);
        check(-v[i]);
    }
    check(INFINITY);
    check(-INFINITY);
    check(NAN);
}

static void test_powers(void **state)
{
    (void)state;
    for (int e = -149; e <= 127; e++) {
        float p = ldexpf(1.0f, e);
        check(p);
        check(nextafterf(p, 0.0f));
        check(nextafterf(p, INFINITY));
    }
    for (int e = -45; e <= 38; e++) {
        float p = (float)pow(10.0, e);
        check(p);
        check(nextafterf(p, 0.0f));
        check(nextafterf(p, INFINITY));
    }
}

static void test_random_bits(void **state)
{
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    (void)state;
    for (int i = 0; i < 2000000; i++) {
        uint32_t bits;
        float f;
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        bits = (uint32_t)(s >> 16);
        memcpy(&f, &bits, 4);
        check(f);
    }
}

static void test_typical_outputs(void **state)
{
    (void)state;
    /* Distances and projections: moderate magnitudes, every mantissa near 1. */
    for (uint32_t m = 0; m < (1u << 23); m += 7) {
        uint32_t bits = (126u << 23) | m;
        float f;
        memcpy(&f, &bits, 4);
        check(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_special),
        cmocka_unit_test(test_powers),
        cmocka_unit_test(test_random_bits),
        cmocka_unit_test(test_typical_outputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

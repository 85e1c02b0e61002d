/*
 * "%.17g" of a float32 without printf (see float_text.h).
 *
 * A finite float32 is exactly m * 2^e with m < 2^24. For 17 significant digits
 * we need N = round(|v| * 10^s) with s = 16 - X and X = floor(log10 |v|), so
 * that 10^16 <= N < 10^17. When 0 <= s <= 30 and -e < 128, m * 10^s fits in
 * 128 bits and the division by 2^-e is a shift whose remainder decides the
 * rounding exactly (half to even, as glibc rounds). X starts from a binary
 * estimate and is corrected when N comes out with 16 or 18 digits. Outside
 * that range (|v| < 1e-14 or |v| >= 1e17, zero, NaN, infinity) snprintf
 * does the work. The layout then follows %g: trailing zeros dropped,
 * exponent form when X < -4 or X >= 17 ("e-05": sign, at least two digits).
 */
#include "io/float_text.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

__extension__ typedef unsigned __int128 smg_u128;

static const uint64_t pow10_u64[20] = {1ULL,
                                       10ULL,
                                       100ULL,
                                       1000ULL,
                                       10000ULL,
                                       100000ULL,
                                       1000000ULL,
                                       10000000ULL,
                                       100000000ULL,
                                       1000000000ULL,
                                       10000000000ULL,
                                       100000000000ULL,
                                       1000000000000ULL,
                                       10000000000000ULL,
                                       100000000000000ULL,
                                       1000000000000000ULL,
                                       10000000000000000ULL,
                                       100000000000000000ULL,
                                       1000000000000000000ULL,
                                       10000000000000000000ULL};

static smg_u128 pow10_u128(int s)
{
    smg_u128 p = 1;
    if (s >= 19) {
        p = pow10_u64[19];
        s -= 19;
    }
    return p * pow10_u64[s];
}

/* N = round(m * 2^e * 10^s), or false when it does not fit the fast path. */
static int scaled(uint32_t m, int e, int s, uint64_t *n)
{
    smg_u128 num, q, r, half;
    int sh;

    if (s < 0 || s > 30)
        return 0;
    num = (smg_u128)m * pow10_u128(s);
    if (e >= 0) {
        if (e > 40 || (num >> (127 - e)) != 0)
            return 0;
        q = num << e;
        if (q >> 64)
            return 0;
        *n = (uint64_t)q;
        return 1;
    }
    sh = -e;
    if (sh >= 127)
        return 0;
    q = num >> sh;
    r = num & (((smg_u128)1 << sh) - 1);
    half = (smg_u128)1 << (sh - 1);
    if (r > half || (r == half && (q & 1)))
        q++;
    if (q >> 64)
        return 0;
    *n = (uint64_t)q;
    return 1;
}

static size_t fallback(float f, char *dst)
{
    int n = snprintf(dst, SMG_FLOAT_TEXT_MAX, "%.17g", (double)f);
    return n > 0 && n < SMG_FLOAT_TEXT_MAX ? (size_t)n : 0;
}

size_t smg_float_text17(float f, char *dst)
{
    uint32_t bits, m;
    int e, x, tries;
    uint64_t n = 0;
    char digits[17];
    size_t len = 0, nd;

    memcpy(&bits, &f, 4);
    if (((bits >> 23) & 0xff) == 0xff || (bits & 0x7fffffff) == 0)
        return fallback(f, dst);
    if ((bits >> 23 & 0xff) == 0) { /* subnormal: far below the fast range */
        return fallback(f, dst);
    }
    m = (bits & 0x7fffff) | 0x800000;
    e = (int)((bits >> 23) & 0xff) - 127 - 23;
    /* log10(v) ~ (e + 23) * log10(2), within one of the truth. */
    x = (int)floor((double)(e + 23) * 0.30102999566398120);
    for (tries = 0;; tries++) {
        if (tries > 3 || !scaled(m, e, 16 - x, &n))
            return fallback(f, dst);
        if (n < pow10_u64[16])
            x--;
        else if (n >= pow10_u64[17])
            x++;
        else
            break;
    }
    /* Rounding may carry into an 18th digit only through the loop above. */
    for (int i = 16; i >= 0; i--) {
        digits[i] = (char)('0' + n % 10);
        n /= 10;
    }
    nd = 17;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (bits >> 31)
        dst[len++] = '-';
    if (x < -4 || x >= 17) {
        int ax = x < 0 ? -x : x;
        dst[len++] = digits[0];
        if (nd > 1) {
            dst[len++] = '.';
            memcpy(dst + len, digits + 1, nd - 1);
            len += nd - 1;
        }
        dst[len++] = 'e';
        dst[len++] = x < 0 ? '-' : '+';
        if (ax >= 100)
            dst[len++] = (char)('0' + ax / 100);
        dst[len++] = (char)('0' + ax / 10 % 10);
        dst[len++] = (char)('0' + ax % 10);
    } else if (x < 0) {
        dst[len++] = '0';
        dst[len++] = '.';
        for (int i = 0; i < -x - 1; i++)
            dst[len++] = '0';
        memcpy(dst + len, digits, nd);
        len += nd;
    } else {
        size_t ip = (size_t)x + 1; /* digits before the point */
        for (size_t i = 0; i < ip; i++)
            dst[len++] = i < nd ? digits[i] : '0';
        if (nd > ip) {
            dst[len++] = '.';
            memcpy(dst + len, digits + ip, nd - ip);
            len += nd - ip;
        }
    }
    dst[len] = '\0';
    return len;
}

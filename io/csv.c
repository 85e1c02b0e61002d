/*
 * CSV rows to float32 (contract: csv.h).
 *
 * Numbers: the fast path reads [sign] digits [. digits] [e|E [sign] digits]
 * into a 64-bit integer mantissa w and a decimal exponent q. When w <= 2^53
 * and |q| <= 22, both w and 10^|q| are exact doubles, so w * 10^q (or
 * w / 10^-q) is the correctly rounded double, i.e. exactly what strtod
 * returns (Clinger's fast path); casting that double to float then equals
 * (float)strtod. Anything else (more than 15-16 significant digits, large
 * exponents, inf/nan) goes to strtod on a NUL-terminated copy of the field.
 * Both paths are compared in tests/unit/test_csv.c. strtod reads more than
 * SageMaker's reader (Python's float()) does: hex ("0x10" is 16, "0x1p3" is
 * 8) and "nan(...)"; those are refused before strtod sees them, so a field
 * is a number here exactly when it is one there (inf/nan are then refused
 * with their own message, as before).
 *
 * Lines are found with memchr and parsed in place; a field is parsed while
 * scanning, so the common row is read once.
 */
#include "io/csv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_MAX 1024

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static bool is_digit(char c)
{
    return (unsigned)(c - '0') < 10;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * Append the digits at p to the mantissa *w, counting significant ones (not
 * leading zeros) in *digits. Returns the end of the digits, or NULL past 18
 * significant digits, where w could overflow 64 bits.
 */
static const char *take_digits(const char *p, const char *end, uint64_t *w, int *digits)
{
    while (p < end && is_digit(*p)) {
        if (*w != 0 || *p != '0')
            (*digits)++;
        *w = *w * 10 + (uint64_t)(*p - '0');
        p++;
        if (*digits > 18)
            return NULL;
    }
    return p;
}

/*
 * Fast path. On success returns the end of the number and *out; NULL when the
 * text is not in the simple form (the caller then tries strtod).
 */
static const char *fast_number(const char *p, const char *end, double *out)
{
    bool neg = false;
    uint64_t w = 0;
    int digits = 0, q = 0;
    const char *start;

    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    start = p;
    if ((p = take_digits(p, end, &w, &digits)) == NULL)
        return NULL;
    bool any = p != start;
    if (p < end && *p == '.') {
        const char *f = p + 1;
        if ((p = take_digits(f, end, &w, &digits)) == NULL)
            return NULL;
        q -= (int)(p - f);
        any = any || p != f;
    }
    if (!any)
        return NULL;
    if (p < end && (*p == 'e' || *p == 'E')) {
        const char *e = p + 1;
        bool eneg = false;
        int ev = 0, n = 0;
        if (e < end && (*e == '-' || *e == '+')) {
            eneg = *e == '-';
            e++;
        }
        while (e < end && is_digit(*e) && n < 6) {
            ev = ev * 10 + (*e - '0');
            e++;
            n++;
        }
        if (n == 0 || (e < end && is_digit(*e)))
            return NULL; /* "1e" or a huge exponent: let strtod decide */
        q += eneg ? -ev : ev;
        p = e;
    }
    if (w > ((uint64_t)1 << 53))
        return NULL;
    double d = (double)w;
    if (w != 0) {
        if (q < -22 || q > 22)
            return NULL;
        d = q < 0 ? d / pow10_exact[-q] : d * pow10_exact[q];
    }
    *out = neg ? -d : d;
    return p;
}

static bool equals_nocase(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    for (; i < n && word[i] != '\0'; i++)
        if ((s[i] | 0x20) != word[i])
            return false;
    return i == n && word[i] == '\0';
}

/* Decimal digits, sign, point and exponent only; or [sign] inf, infinity or nan. */
static bool decimal_spelling(const char *s, size_t n)
{
    if (strspn(s, "0123456789+-.eE") == n)
        return true;
    if (*s == '+' || *s == '-') {
        s++;
        n--;
    }
    return equals_nocase(s, n, "inf") || equals_nocase(s, n, "infinity") ||
           equals_nocase(s, n, "nan");
}

/* strtod on [p, end) exactly (after trimming blanks); false if not a number. */
static bool slow_number(const char *p, const char *end, double *out)
{
    char tmp[FIELD_MAX];
    char *stop;

    while (p < end && is_blank(*p))
        p++;
    while (end > p && is_blank(end[-1]))
        end--;
    size_t n = (size_t)(end - p);
    if (n == 0 || n >= sizeof(tmp) || is_blank(*p))
        return false;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    if (memchr(tmp, '\0', n) != NULL || !decimal_spelling(tmp, n))
        return false;
    errno = 0;
    *out = strtod(tmp, &stop);
    return stop == tmp + n && stop != tmp;
}

bool smg_csv_parse_float(const char *p, const char *end, float *out)
{
    double d;
    const char *q = fast_number(p, end, &d);

    if (q == NULL || q != end) {
        if (!slow_number(p, end, &d))
            return false;
    }
    *out = (float)d;
    return true;
}

static size_t count_fields(const char *p, const char *end)
{
    size_t n = 1;
    while ((p = memchr(p, ',', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

static bool all_blank(const char *p, const char *end)
{
    while (p < end && is_blank(*p))
        p++;
    return p == end;
}

/* One line [p, end), without its newline or CR. */
static int parse_line(const struct smg_csv_state *st, const char *p, const char *end, float *row,
                      struct smg_error *err)
{
    size_t ncols = st->label_size + st->feature_dim;
    uintmax_t line = (uintmax_t)st->lines + 1;
    const char *start = p;

    for (size_t col = 0; col < ncols; col++) {
        const char *fend;
        double d;
        if (col < st->label_size) {
            /* labels are dropped unread: any text, even empty, will do */
            fend = memchr(p, ',', (size_t)(end - p));
            if (fend == NULL)
                goto wrong_count;
            p = fend + 1;
            continue;
        }
        const char *q = fast_number(p, end, &d);
        if (q != NULL && (q == end || *q == ',')) {
            fend = q;
        } else {
            fend = memchr(p, ',', (size_t)(end - p));
            if (fend == NULL)
                fend = end;
            if (all_blank(p, fend))
                return smg_error_set(err, SMG_EFORMAT, "line %ju, column %zu: empty field", line,
                                     col + 1);
            if (!slow_number(p, fend, &d)) {
                int n = (int)(fend - p > 40 ? 40 : fend - p);
                return smg_error_set(err, SMG_EFORMAT,
                                     "line %ju, column %zu: not a number: \"%.*s%s\"", line,
                                     col + 1, n, p, fend - p > 40 ? "..." : "");
            }
        }
        {
            float f = (float)d;
            if (isnan(d))
                return smg_error_set(err, SMG_EFORMAT, "line %ju, column %zu: NaN feature", line,
                                     col + 1);
            if (isinf(d))
                return smg_error_set(err, SMG_EFORMAT, "line %ju, column %zu: infinite feature",
                                     line, col + 1);
            if (isinf(f))
                return smg_error_set(err, SMG_EFORMAT,
                                     "line %ju, column %zu: %g is out of float32 range", line,
                                     col + 1, d);
            row[col - st->label_size] = f;
        }
        if (fend == end) {
            if (col + 1 != ncols)
                goto wrong_count;
            return SMG_OK;
        }
        p = fend + 1;
    }
wrong_count:
    return smg_error_set(err, SMG_EFORMAT,
                         "line %ju: %zu columns, expected %zu (label_size %zu + feature_dim %zu)",
                         line, count_fields(start, end), ncols, st->label_size, st->feature_dim);
}

enum smg_status smg_csv_parse(struct smg_csv_state *st, const char *buf, size_t len, bool final,
                              float *out, size_t max_rows, size_t *rows, size_t *consumed,
                              struct smg_error *err)
{
    const char *p = buf, *end = buf + len;
    size_t n = 0;
    int rc = SMG_OK;

    while (n < max_rows && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *next, *le;
        if (nl == NULL) {
            if (!final)
                break;
            le = end;
            next = end;
        } else {
            le = nl;
            next = nl + 1;
        }
        if (le > p && le[-1] == '\r')
            le--;
        if (le > p) {
            rc = parse_line(st, p, le, out + n * st->feature_dim, err);
            if (rc != SMG_OK)
                break;
            n++;
        }
        st->lines++;
        p = next;
    }
    *rows = n;
    *consumed = (size_t)(p - buf);
    return rc;
}

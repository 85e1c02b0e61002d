/*
 * CSV column selection (csv_select.h): one pass over a line's fields with a
 * pointer that never leaves [line, line + len), numbers through io/csv.h's
 * parser so that converted values equal what training would read.
 */
#include "io/csv_select.h"

#include <math.h>
#include <string.h>

#include "io/csv.h"

/* [*b, *e) without surrounding spaces and tabs. */
static void trim(const char **b, const char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

static size_t strip_cr(const char *line, size_t len)
{
    return len > 0 && line[len - 1] == '\r' ? len - 1 : len;
}

/* Split a line into up to max fields: starts and ends. Returns the count (max + 1 if more). */
static size_t split(const char *line, size_t len, const char **fb, const char **fe, size_t max)
{
    const char *p = line, *end = line + len;
    size_t n = 0;
    for (;;) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        const char *q = c != NULL ? c : end;
        if (n == max)
            return max + 1;
        fb[n] = p;
        fe[n] = q;
        n++;
        if (c == NULL)
            return n;
        p = c + 1;
    }
}

static bool same_name(const char *a, const char *ae, const char *b, const char *be)
{
    if (ae - a != be - b)
        return false;
    for (; a < ae; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return false;
    }
    return true;
}

static bool all_digits(const char *b, const char *e)
{
    if (b == e)
        return false;
    for (; b < e; b++)
        if (*b < '0' || *b > '9')
            return false;
    return true;
}

/* The value of a digit string, saturated just above the column limit. */
static size_t column_number(const char *b, const char *e)
{
    size_t v = 0;
    for (; b < e && v <= SMG_CSV_SELECT_MAX_COLS; b++)
        v = v * 10 + (size_t)(*b - '0');
    return v;
}

static void set_name(struct smg_csv_select *s, size_t out, const char *b, const char *e)
{
    size_t n = (size_t)(e - b) < sizeof(s->names[0]) ? (size_t)(e - b) : sizeof(s->names[0]) - 1;
    memcpy(s->names[out], b, n);
    s->names[out][n] = '\0';
}

/* One selection item [b, e) against the first line's fields. */
static int resolve_item(struct smg_csv_select *s, const char *b, const char *e, bool header,
                        struct smg_error *err)
{
    const char *const *fb = s->fb, *const *fe = s->fe;
    size_t out = s->nsel;

    if (b == e)
        return smg_error_set(err, SMG_ECONFIG, "--columns: empty item in the selection");
    if (out == SMG_CSV_SELECT_MAX_COLS)
        return smg_error_set(err, SMG_ECONFIG, "--columns: more than %d items",
                             SMG_CSV_SELECT_MAX_COLS);
    if (all_digits(b, e)) {
        size_t num = column_number(b, e);
        if (num == 0 || num > s->ncols)
            return smg_error_set(err, SMG_ECONFIG,
                                 "--columns: column %.*s does not exist: lines have %zu columns "
                                 "(numbered from 1)",
                                 (int)(e - b), b, s->ncols);
        s->idx[out] = num - 1;
        if (header) {
            const char *hb = fb[num - 1], *he = fe[num - 1];
            trim(&hb, &he);
            set_name(s, out, hb, he);
        }
        s->nsel++;
        return SMG_OK;
    }
    if (!header)
        return smg_error_set(err, SMG_ECONFIG,
                             "--columns: '%.*s' is a name, but the file has no header row "
                             "(give --header, or column numbers)",
                             (int)(e - b), b);
    for (size_t c = 0; c < s->ncols; c++) {
        const char *hb = fb[c], *he = fe[c];
        trim(&hb, &he);
        if (same_name(b, e, hb, he)) {
            s->idx[out] = c;
            set_name(s, out, hb, he);
            s->nsel++;
            return SMG_OK;
        }
    }
    return smg_error_set(err, SMG_ECONFIG, "--columns: no column named '%.*s' in the header",
                         (int)(e - b), b);
}

enum smg_status smg_csv_select_init(struct smg_csv_select *s, const char *spec, const char *first,
                                    size_t len, bool header, struct smg_error *err)
{
    const char *p = spec, *end = spec != NULL ? spec + strlen(spec) : NULL;
    int rc;

    memset(s, 0, sizeof(*s));
    len = strip_cr(first, len);
    if (len == 0)
        return smg_error_set(err, SMG_EFORMAT, "the first line is empty");
    s->ncols = split(first, len, s->fb, s->fe, SMG_CSV_SELECT_MAX_COLS);
    if (s->ncols > SMG_CSV_SELECT_MAX_COLS)
        return smg_error_set(err, SMG_EFORMAT, "the first line has more than %d columns",
                             SMG_CSV_SELECT_MAX_COLS);
    if (spec == NULL || *spec == '\0') {
        for (size_t c = 0; c < s->ncols; c++) {
            const char *hb = s->fb[c], *he = s->fe[c];
            s->idx[c] = c;
            trim(&hb, &he);
            if (header)
                set_name(s, c, hb, he);
        }
        s->nsel = s->ncols;
        return SMG_OK;
    }
    while (p <= end) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        const char *b = p, *e = c != NULL ? c : end;
        trim(&b, &e);
        if ((rc = resolve_item(s, b, e, header, err)) != SMG_OK)
            return rc;
        if (c == NULL)
            break;
        p = c + 1;
    }
    return SMG_OK;
}

enum smg_status smg_csv_select_pick(struct smg_csv_select *s, const char *line, size_t len,
                                    float *out, struct smg_error *err)
{
    size_t n = split(line, strip_cr(line, len), s->fb, s->fe, s->ncols);

    if (n != s->ncols)
        return n > s->ncols
                   ? smg_error_set(err, SMG_EFORMAT, "more than %zu fields", s->ncols)
                   : smg_error_set(err, SMG_EFORMAT, "%zu fields, expected %zu", n, s->ncols);
    for (size_t k = 0; k < s->nsel; k++) {
        const char *b = s->fb[s->idx[k]], *e = s->fe[s->idx[k]], *nm = s->names[k];
        const char *open = nm[0] ? " (" : "", *close = nm[0] ? ")" : "";
        float v;
        trim(&b, &e);
        if (b == e)
            return smg_error_set(err, SMG_EFORMAT, "column %zu%s%s%s: empty cell", s->idx[k] + 1,
                                 open, nm, close);
        if (!smg_csv_parse_float(b, e, &v))
            return smg_error_set(err, SMG_EFORMAT, "column %zu%s%s%s: '%.*s' is not a number",
                                 s->idx[k] + 1, open, nm, close, (int)(e - b < 40 ? e - b : 40), b);
        if (!isfinite(v))
            return smg_error_set(err, SMG_EFORMAT,
                                 "column %zu%s%s%s: '%.*s' is not a finite float32 number",
                                 s->idx[k] + 1, open, nm, close, (int)(e - b < 40 ? e - b : 40), b);
        out[k] = v;
    }
    return SMG_OK;
}

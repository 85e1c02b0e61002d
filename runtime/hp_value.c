/*
 * The grammar of hyperparameter values, strictly: an integer is an optional
 * sign and digits, nothing else, and must fit a long long; a real is what
 * strtod reads in full, written with digits, sign, point and exponent only,
 * and finite; a boolean is true or false in any case (SageMaker's SDK sends
 * True/False); a metric list is a JSON list of names (single quotes are
 * accepted too, as Python's str(list) writes them), or one bare name.
 * Surrounding blanks are ignored. Messages quote at most 100 characters of the
 * value so a huge value cannot push the key out of the failure reason.
 */
#include "runtime/hp_value.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/alloc.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool equals_nocase(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++)
        if (lower(*a) != lower(*b))
            return false;
    return *a == *b;
}

int smg_hp_choice_index(const char *choices, const char *word, size_t len)
{
    int idx = 0;
    const char *p = choices;

    while (p != NULL && *p != '\0') {
        const char *bar = strchr(p, '|');
        size_t n = bar != NULL ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, word, len) == 0)
            return idx;
        idx++;
        p = bar != NULL ? bar + 1 : NULL;
    }
    return -1;
}

/* choices "a|b" as "a, b". */
static void choices_words(const char *choices, char *buf, size_t size)
{
    size_t j = 0;
    for (const char *p = choices; *p != '\0' && j + 3 < size; p++) {
        if (*p == '|') {
            buf[j++] = ',';
            buf[j++] = ' ';
        } else {
            buf[j++] = *p;
        }
    }
    buf[j] = '\0';
}

void smg_hp_value_describe(const struct smg_hp_spec *spec, char *buf, size_t size)
{
    char words[128];

    if (spec->allowed != NULL) {
        snprintf(buf, size, "%s", spec->allowed);
        return;
    }
    switch (spec->type) {
    case SMG_HP_INT:
    case SMG_HP_INT_OR_AUTO:
        if (spec->max >= SMG_HP_NO_MAX)
            snprintf(buf, size, "%san integer >= %.0f",
                     spec->type == SMG_HP_INT_OR_AUTO ? "auto or " : "", spec->min);
        else
            snprintf(buf, size, "%san integer from %.0f to %.0f",
                     spec->type == SMG_HP_INT_OR_AUTO ? "auto or " : "", spec->min, spec->max);
        break;
    case SMG_HP_FLOAT: snprintf(buf, size, "a number from %g to %g", spec->min, spec->max); break;
    case SMG_HP_BOOL: snprintf(buf, size, "true or false"); break;
    case SMG_HP_CHOICE:
        choices_words(spec->choices, words, sizeof(words));
        snprintf(buf, size, "one of %s", words);
        break;
    case SMG_HP_METRIC_LIST:
        choices_words(spec->choices, words, sizeof(words));
        snprintf(buf, size, "a JSON list drawn from %s, such as [\"msd\"]", words);
        break;
    }
}

static int bad_value(const struct smg_hp_spec *spec, const char *text, const char *why,
                     struct smg_error *err)
{
    char allowed[200];
    smg_hp_value_describe(spec, allowed, sizeof(allowed));
    return smg_error_set(err, SMG_ECONFIG, "hyperparameter '%s' = '%.100s%s' %s; allowed: %s",
                         spec->name, text, strlen(text) > 100 ? "..." : "", why, allowed);
}

/* Optional sign, then digits only; false on anything else or on overflow. */
static bool parse_int(const char *s, long long *out)
{
    bool neg = false;
    unsigned long long v = 0;
    unsigned long long limit = (unsigned long long)LLONG_MAX;

    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (*s == '\0')
        return false;
    if (neg)
        limit += 1; /* |LLONG_MIN| */
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (limit - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (neg)
        *out = v == limit ? LLONG_MIN : -(long long)v;
    else
        *out = (long long)v;
    return true;
}

static bool parse_real(const char *s, double *out)
{
    char *end = NULL;

    if (*s == '\0')
        return false;
    for (const char *p = s; *p != '\0'; p++)
        if (strchr("0123456789+-.eE", *p) == NULL)
            return false;
    errno = 0;
    *out = strtod(s, &end);
    return end != NULL && *end == '\0' && errno != ERANGE && isfinite(*out);
}

static int parse_int_value(const struct smg_hp_spec *spec, const char *s, struct smg_hp_value *v,
                           struct smg_error *err)
{
    if (!parse_int(s, &v->i))
        return bad_value(spec, s, "is not an integer", err);
    v->f = (double)v->i;
    /* Compared as integers: above 2^53 a double cannot tell max from max + 1. */
    if (v->i < (long long)spec->min || v->i > (long long)spec->max)
        return bad_value(spec, s, "is out of range", err);
    return SMG_OK;
}

/* One list item starting at *p (after blanks): 'name' or "name". */
static int list_item(const struct smg_hp_spec *spec, const char *s, const char **p,
                     struct smg_hp_value *v, struct smg_error *err)
{
    char quote = **p;
    const char *start, *end;
    int idx;

    if (quote != '"' && quote != '\'')
        return bad_value(spec, s, "is not a list of quoted names", err);
    start = *p + 1;
    end = strchr(start, quote);
    if (end == NULL)
        return bad_value(spec, s, "has an unterminated name", err);
    idx = smg_hp_choice_index(spec->choices, start, (size_t)(end - start));
    if (idx < 0 || idx >= 32) {
        char why[160];
        snprintf(why, sizeof(why), "names an unknown metric '%.*s'",
                 (int)((end - start) > 40 ? 40 : (end - start)), start);
        return bad_value(spec, s, why, err);
    }
    v->list_mask |= 1u << idx;
    *p = end + 1;
    return SMG_OK;
}

static int parse_list(const struct smg_hp_spec *spec, const char *s, struct smg_hp_value *v,
                      struct smg_error *err)
{
    const char *p = s;
    int rc;

    if (*p != '[') {
        int idx = smg_hp_choice_index(spec->choices, s, strlen(s));
        if (idx < 0 || idx >= 32)
            return bad_value(spec, s, "is not a JSON list", err);
        v->list_mask = 1u << idx;
        return SMG_OK;
    }
    p++;
    while (is_blank(*p))
        p++;
    if (*p == ']')
        return bad_value(spec, s, "is an empty list", err);
    for (;;) {
        if ((rc = list_item(spec, s, &p, v, err)) != SMG_OK)
            return rc;
        while (is_blank(*p))
            p++;
        if (*p == ']')
            break;
        if (*p != ',')
            return bad_value(spec, s, "is not a well-formed list", err);
        p++;
        while (is_blank(*p))
            p++;
    }
    if (p[1] != '\0')
        return bad_value(spec, s, "has text after the list", err);
    return SMG_OK;
}

static int parse_typed(const struct smg_hp_spec *spec, const char *s, struct smg_hp_value *v,
                       struct smg_error *err)
{
    switch (spec->type) {
    case SMG_HP_INT: return parse_int_value(spec, s, v, err);
    case SMG_HP_INT_OR_AUTO:
        if (equals_nocase(s, "auto")) {
            v->is_auto = true;
            return SMG_OK;
        }
        return parse_int_value(spec, s, v, err);
    case SMG_HP_FLOAT:
        if (!parse_real(s, &v->f))
            return bad_value(spec, s, "is not a number", err);
        if (v->f < spec->min || v->f > spec->max)
            return bad_value(spec, s, "is out of range", err);
        return SMG_OK;
    case SMG_HP_BOOL:
        if (equals_nocase(s, "true"))
            v->b = true;
        else if (equals_nocase(s, "false"))
            v->b = false;
        else
            return bad_value(spec, s, "is not a boolean", err);
        return SMG_OK;
    case SMG_HP_CHOICE:
        if (smg_hp_choice_index(spec->choices, s, strlen(s)) < 0)
            return bad_value(spec, s, "is not a valid choice", err);
        return SMG_OK;
    case SMG_HP_METRIC_LIST: return parse_list(spec, s, v, err);
    }
    return smg_error_set(err, SMG_EINTERNAL, "hyperparameter '%s' has an unknown type", spec->name);
}

enum smg_status smg_hp_value_parse(const struct smg_hp_spec *spec, const char *text,
                                   struct smg_hp_value *out, struct smg_error *err)
{
    size_t len;
    int rc;

    smg_hp_value_clear(out);
    while (is_blank(*text))
        text++;
    len = strlen(text);
    while (len > 0 && is_blank(text[len - 1]))
        len--;
    out->text = smg_malloc(len + 1);
    if (out->text == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory parsing hyperparameter '%s'",
                             spec->name);
    memcpy(out->text, text, len);
    out->text[len] = '\0';
    rc = parse_typed(spec, out->text, out, err);
    if (rc != SMG_OK)
        smg_hp_value_clear(out);
    return rc;
}

void smg_hp_value_clear(struct smg_hp_value *v)
{
    smg_free(v->text);
    memset(v, 0, sizeof(*v));
}

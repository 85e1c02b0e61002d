/*
 * The media-type table and parser (see media_type.h).
 *
 * The table is the one place a content type is named; its rows point at the
 * codecs (codec.h). The parser walks the text with two pointers and never
 * reads past len, so it takes spans as well as NUL-terminated strings. The supported-type lists for
 * messages are built once from the table, under a pthread_once, so a new row
 * shows up in every error message without another edit.
 */
#include "io/media_type.h"

#include <ctype.h>
#include <pthread.h>
#include <string.h>

#include "io/codec.h"

#define ALL   (SMG_MEDIA_TRAIN | SMG_MEDIA_REQUEST | SMG_MEDIA_RESPONSE)
#define SERVE (SMG_MEDIA_REQUEST | SMG_MEDIA_RESPONSE)

/* Order matters: messages list canonical rows in this order. */
static const struct smg_media_entry table[] = {
    /* spelling                          directions         alias  codec */
    {"application/x-recordio-protobuf", ALL, false, &smg_codec_recordio},
    {"text/csv", ALL, false, &smg_codec_csv},
    {"application/json", SERVE, false, &smg_codec_json},
    {"application/jsonlines", SERVE, false, &smg_codec_jsonlines},
    {"application/x-jsonlines", SERVE, true, &smg_codec_jsonlines},
    {"*/*", SMG_MEDIA_RESPONSE, true, &smg_codec_json},
    {"application/*", SMG_MEDIA_RESPONSE, true, &smg_codec_json},
};
#define TABLE_ROWS (sizeof(table) / sizeof(table[0]))

const struct smg_media_entry *smg_media_row(size_t i)
{
    return i < TABLE_ROWS ? &table[i] : NULL;
}

/* Case-insensitive compare of s[0..n) with the NUL-terminated lit. */
static bool span_eq(const char *s, size_t n, const char *lit)
{
    if (strlen(lit) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)s[i]) != tolower((unsigned char)lit[i]))
            return false;
    return true;
}

/* Shrink [*p, *e) past leading and trailing white space. */
static void trim(const char **p, const char **e)
{
    while (*p < *e && isspace((unsigned char)**p))
        (*p)++;
    while (*e > *p && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

const struct smg_media_entry *smg_media_lookup(const char *type, size_t len, unsigned use)
{
    for (size_t i = 0; i < TABLE_ROWS; i++)
        if ((table[i].uses & use) != 0 && span_eq(type, len, table[i].name))
            return &table[i];
    return NULL;
}

/* A decimal label column count in [p, e), at most SMG_MEDIA_MAX_LABEL_SIZE. */
static bool parse_label_size(const char *p, const char *e, size_t *out)
{
    size_t v = 0;

    if (p == e)
        return false;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (size_t)(*p - '0');
        if (v > SMG_MEDIA_MAX_LABEL_SIZE)
            return false;
    }
    *out = v;
    return true;
}

/* One parameter [k, e): label_size is checked and kept, others ignored. */
static enum smg_status parse_param(const char *k, const char *e, struct smg_media_type *out,
                                   struct smg_error *err)
{
    const char *eq = memchr(k, '=', (size_t)(e - k)), *ke, *v;

    if (eq == NULL) {
        trim(&k, &e);
        if (k != e && out->bad_param == NULL) {
            out->bad_param = k;
            out->bad_param_len = (size_t)(e - k);
        }
        return SMG_OK;
    }
    ke = eq;
    v = eq + 1;
    trim(&k, &ke);
    trim(&v, &e);
    if (!span_eq(k, (size_t)(ke - k), "label_size"))
        return SMG_OK;
    if (!parse_label_size(v, e, &out->label_size)) {
        size_t n = (size_t)(e - v);
        return smg_error_set(err, SMG_ECONFIG,
                             "label_size='%.*s' is not a number of label columns (0 to %zu)",
                             (int)(n > 40 ? 40 : n), v, SMG_MEDIA_MAX_LABEL_SIZE);
    }
    out->has_label_size = true;
    return SMG_OK;
}

enum smg_status smg_media_type_parse(const char *text, size_t len, unsigned use,
                                     struct smg_media_type *out, struct smg_error *err)
{
    const char *end = text + len, *p = text, *semi = memchr(text, ';', len);
    const char *te = semi != NULL ? semi : end;

    memset(out, 0, sizeof(*out));
    trim(&p, &te);
    out->type = p;
    out->type_len = (size_t)(te - p);
    out->entry = smg_media_lookup(p, out->type_len, use);
    while (semi != NULL) {
        const char *k = semi + 1;
        enum smg_status rc;

        semi = memchr(k, ';', (size_t)(end - k));
        if ((rc = parse_param(k, semi != NULL ? semi : end, out, err)) != SMG_OK)
            return rc;
    }
    return SMG_OK;
}

void smg_media_accept_pick(const char *accept, unsigned use, const struct smg_media_entry **out,
                           bool *any)
{
    const char *p = accept;

    *out = NULL;
    *any = false;
    while (p != NULL && *p != '\0') {
        const char *comma = strchr(p, ','), *e = comma != NULL ? comma : p + strlen(p);
        const char *semi = memchr(p, ';', (size_t)(e - p)), *te = semi != NULL ? semi : e;
        const char *item = p;

        p = comma != NULL ? comma + 1 : e;
        trim(&item, &te);
        if (item == te)
            continue;
        *any = true;
        if ((*out = smg_media_lookup(item, (size_t)(te - item), use)) != NULL)
            return;
    }
}

/* One list per use bit, built on first need. */
static char supported[3][256];
static pthread_once_t supported_once = PTHREAD_ONCE_INIT;

static void build_supported(void)
{
    for (unsigned b = 0; b < 3; b++) {
        size_t used = 0;
        for (size_t i = 0; i < TABLE_ROWS; i++) {
            size_t n = strlen(table[i].name);
            if ((table[i].uses & (1U << b)) == 0 || table[i].alias ||
                used + n + 3 > sizeof(supported[b]))
                continue;
            if (used > 0) {
                memcpy(supported[b] + used, ", ", 2);
                used += 2;
            }
            memcpy(supported[b] + used, table[i].name, n);
            used += n;
        }
        supported[b][used] = '\0';
    }
}

const char *smg_media_supported(unsigned use)
{
    (void)pthread_once(&supported_once, build_supported);
    for (unsigned b = 0; b < 3; b++)
        if (use & (1U << b))
            return supported[b];
    return "";
}

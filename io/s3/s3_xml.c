/* Leaf-element extraction for S3's XML answers (see s3_xml.h). */
#include "io/s3/s3_xml.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char *find(const char *hay, size_t len, const char *needle, size_t nlen)
{
    if (nlen == 0 || len < nlen)
        return NULL;
    for (size_t i = 0; i + nlen <= len; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
            return hay + i;
    return NULL;
}

/* Encode code point cp as UTF-8 at out[*n]; false if it does not fit or is invalid. */
static bool put_utf8(uint32_t cp, char *out, size_t cap, size_t *n)
{
    unsigned char b[4];
    size_t k;

    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return false;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        k = 4;
    }
    if (*n + k >= cap)
        return false;
    memcpy(out + *n, b, k);
    *n += k;
    return true;
}

/* Decode the entity in e[0, elen) (without '&' and ';') into out. */
static bool entity(const char *e, size_t elen, char *out, size_t cap, size_t *n)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    uint32_t cp = 0;
    size_t i = 1;
    bool hex;

    for (size_t k = 0; k < sizeof(named) / sizeof(named[0]); k++)
        if (strlen(named[k].name) == elen && memcmp(e, named[k].name, elen) == 0)
            return put_utf8((unsigned char)named[k].c, out, cap, n);
    if (elen < 2 || e[0] != '#')
        return false;
    hex = e[1] == 'x';
    if (hex && elen < 3)
        return false;
    for (i = hex ? 2 : 1; i < elen; i++) {
        char c = e[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (hex && c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (hex && c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return false;
        cp = cp * (hex ? 16 : 10) + d;
        if (cp > 0x10FFFF)
            return false;
    }
    return put_utf8(cp, out, cap, n);
}

static enum smg_status decode(const char *t, size_t tlen, char *out, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < tlen; i++) {
        if (t[i] == '<' || t[i] == '\0')
            return SMG_EFORMAT;
        if (t[i] == '&') {
            const char *semi = memchr(t + i, ';', tlen - i);
            if (semi == NULL || semi - (t + i) > 12 ||
                !entity(t + i + 1, (size_t)(semi - (t + i) - 1), out, cap, &n))
                return SMG_EFORMAT;
            i = (size_t)(semi - t);
            continue;
        }
        if (n + 1 >= cap)
            return SMG_EFORMAT;
        out[n++] = t[i];
    }
    if (cap == 0)
        return SMG_EFORMAT;
    out[n] = '\0';
    return SMG_OK;
}

enum smg_status smg_s3_xml_next(const char *doc, size_t len, size_t *pos, const char *name,
                                char *out, size_t cap)
{
    char open[72], close[72];
    size_t nlen = strlen(name);
    const char *a, *b;
    int rc;

    if (nlen == 0 || nlen > 64 || *pos > len)
        return SMG_EFORMAT;
    open[0] = '<';
    memcpy(open + 1, name, nlen);
    open[nlen + 1] = '>';
    close[0] = '<';
    close[1] = '/';
    memcpy(close + 2, name, nlen);
    close[nlen + 2] = '>';
    a = find(doc + *pos, len - *pos, open, nlen + 2);
    if (a == NULL)
        return SMG_EEOF;
    a += nlen + 2;
    b = find(a, (size_t)(doc + len - a), close, nlen + 3);
    if (b == NULL)
        return SMG_EFORMAT;
    if ((rc = decode(a, (size_t)(b - a), out, cap)) != SMG_OK)
        return rc;
    *pos = (size_t)(b - doc) + nlen + 3;
    return SMG_OK;
}

size_t smg_s3_xml_escape(const char *text, char *out, size_t cap)
{
    size_t n = 0;

    for (const char *p = text; *p != '\0'; p++) {
        const char *r = NULL;
        char one[2] = {*p, '\0'};
        switch (*p) {
        case '&': r = "&amp;"; break;
        case '<': r = "&lt;"; break;
        case '>': r = "&gt;"; break;
        case '"': r = "&quot;"; break;
        case '\'': r = "&apos;"; break;
        default: r = one; break;
        }
        size_t k = strlen(r);
        if (n + k >= cap)
            return 0;
        memcpy(out + n, r, k);
        n += k;
    }
    if (cap > 0)
        out[n] = '\0';
    return n;
}

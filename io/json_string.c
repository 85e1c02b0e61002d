/*
 * JSON string escaping (contract: json_string.h). Walks the input once; a
 * run of bytes that needs no escape is appended in one piece.
 */
#include "io/json_string.h"

#include <stdint.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at p (1..4), or 0 if it is not one. */
static size_t utf8_length(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

enum smg_status smg_json_put_string_body(struct smg_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *run = p;
    enum smg_status rc = SMG_OK;

    while (*p != '\0' && rc == SMG_OK) {
        size_t n = utf8_length(p);
        char esc[7];
        size_t esc_len = 0;

        if (n > 1 || (n == 1 && *p >= 0x20 && *p != '"' && *p != '\\')) {
            p += n;
            continue;
        }
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            esc_len = 2;
        } else if (n == 1) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[*p >> 4];
            esc[5] = hex[*p & 15];
            esc_len = 6;
        } else {
            memcpy(esc, "\\ufffd", 6);
            esc_len = 6;
        }
        rc = smg_buf_append(b, run, (size_t)(p - run));
        if (rc == SMG_OK)
            rc = smg_buf_append(b, esc, esc_len);
        run = ++p;
    }
    if (rc == SMG_OK)
        rc = smg_buf_append(b, run, (size_t)(p - run));
    return rc;
}

enum smg_status smg_json_put_string(struct smg_buf *b, const char *s)
{
    enum smg_status rc = smg_buf_append(b, "\"", 1);

    if (rc == SMG_OK)
        rc = smg_json_put_string_body(b, s);
    if (rc == SMG_OK)
        rc = smg_buf_append(b, "\"", 1);
    return rc;
}

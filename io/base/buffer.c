/*
 * The capped growable buffer (contract: buffer.h). Capacity doubles from 256
 * bytes up to max + 1 (the spare byte holds the NUL), so appends are amortised
 * O(1) and the cap is exact.
 */
#include "io/base/buffer.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "io/base/alloc.h"

void smg_buf_init(struct smg_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void smg_buf_free(struct smg_buf *b)
{
    if (b == NULL)
        return;
    smg_free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void smg_buf_reset(struct smg_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

enum smg_status smg_buf_reserve(struct smg_buf *b, size_t more)
{
    size_t need, ncap, limit;
    char *nd;

    if (!smg_add_size(b->len, more, &need) || need > b->max || need == SIZE_MAX)
        return SMG_ENOMEM;
    need += 1; /* the NUL */
    if (need <= b->cap)
        return SMG_OK;
    limit = b->max == SIZE_MAX ? SIZE_MAX : b->max + 1; /* max + 1 must not wrap */
    ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap = ncap > limit / 2 ? limit : ncap * 2;
    if (ncap > limit)
        ncap = limit;
    nd = smg_realloc(b->data, ncap);
    if (nd == NULL)
        return SMG_ENOMEM;
    b->data = nd;
    b->cap = ncap;
    return SMG_OK;
}

enum smg_status smg_buf_append(struct smg_buf *b, const void *p, size_t n)
{
    enum smg_status rc = smg_buf_reserve(b, n);

    if (rc != SMG_OK)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return SMG_OK;
}

enum smg_status smg_buf_append_str(struct smg_buf *b, const char *s)
{
    return smg_buf_append(b, s, strlen(s));
}

enum smg_status smg_buf_printf(struct smg_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    enum smg_status rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return SMG_EINTERNAL;
    rc = smg_buf_reserve(b, (size_t)n);
    if (rc != SMG_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return SMG_OK;
}

char *smg_buf_take(struct smg_buf *b, size_t *len)
{
    char *d = b->data;

    if (len != NULL)
        *len = b->len;
    if (d == NULL && (d = smg_malloc(1)) != NULL)
        d[0] = '\0';
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return d;
}

/*
 * The bounds-checked byte cursor of bytes.h.
 */
#include "io/base/bytes.h"

#include <string.h>

void smg_bytes_init(struct smg_bytes *r, const void *data, size_t len)
{
    r->p = data;
    r->len = data != NULL ? len : 0;
    r->off = 0;
    r->bad = false;
}

bool smg_bytes_get(struct smg_bytes *r, void *dst, size_t n)
{
    if (r->bad || n > r->len - r->off) {
        r->bad = true;
        if (n > 0)
            memset(dst, 0, n);
        return false;
    }
    if (n > 0)
        memcpy(dst, r->p + r->off, n);
    r->off += n;
    return true;
}

uint64_t smg_bytes_u64(struct smg_bytes *r)
{
    uint64_t v;
    smg_bytes_get(r, &v, sizeof(v));
    return v;
}

double smg_bytes_f64(struct smg_bytes *r)
{
    double v;
    smg_bytes_get(r, &v, sizeof(v));
    return v;
}

bool smg_bytes_get_array(struct smg_bytes *r, void *dst, size_t n, size_t size)
{
    if (size != 0 && n > (SIZE_MAX / size)) {
        r->bad = true;
        return false;
    }
    return smg_bytes_get(r, dst, n * size);
}

bool smg_bytes_done(const struct smg_bytes *r)
{
    return !r->bad && r->off == r->len;
}

/*
 * .npy header reader (format: npy.h). The dict is parsed by looking up its
 * three keys and reading each value with a small pointer-advancing scanner;
 * no general Python literal parser is needed for the headers numpy writes.
 */
#include "npy.h"

#include <stdbool.h>
#include <string.h>

#define NPY_HEADER_MAX 65536

static const char *find_key(const char *h, const char *key)
{
    const char *p = strstr(h, key);
    if (p == NULL)
        return NULL;
    p += strlen(key);
    while (*p == ' ')
        p++;
    if (*p != ':')
        return NULL;
    p++;
    while (*p == ' ')
        p++;
    return p;
}

static bool read_dim(const char **pp, size_t *out)
{
    const char *p = *pp;
    size_t v = 0;
    if (*p < '0' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9') {
        if (v > (SIZE_MAX - 9) / 10)
            return false;
        v = v * 10 + (size_t)(*p++ - '0');
    }
    while (*p == ' ' || *p == 'L')
        p++;
    *pp = p;
    *out = v;
    return true;
}

int smg_npy_read_header(FILE *f, const char *name, struct smg_npy *out, struct smg_error *err)
{
    unsigned char pre[12];
    char h[NPY_HEADER_MAX + 1];
    size_t hlen;
    const char *p;

    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
        return smg_error_set(err, SMG_EFORMAT, "%s: not a .npy file (no \\x93NUMPY magic)", name);
    if (pre[6] == 1) {
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else if (pre[6] == 2 || pre[6] == 3) {
        if (fread(pre + 10, 1, 2, f) != 2)
            return smg_error_set(err, SMG_EFORMAT, "%s: truncated .npy header", name);
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    } else {
        return smg_error_set(err, SMG_EFORMAT, "%s: unsupported .npy version %u.%u", name, pre[6],
                             pre[7]);
    }
    if (hlen > NPY_HEADER_MAX)
        return smg_error_set(err, SMG_EFORMAT, "%s: .npy header of %zu bytes is too long", name,
                             hlen);
    if (fread(h, 1, hlen, f) != hlen)
        return smg_error_set(err, SMG_EFORMAT, "%s: truncated .npy header", name);
    h[hlen] = '\0';
    if (memchr(h, '\0', hlen) != NULL)
        return smg_error_set(err, SMG_EFORMAT, "%s: malformed .npy header", name);

    p = find_key(h, "'descr'");
    if (p == NULL)
        return smg_error_set(err, SMG_EFORMAT, "%s: .npy header has no 'descr'", name);
    static const struct {
        const char *descr;
        enum smg_npy_dtype dtype;
        size_t item;
    } types[] = {{"'<f4'", SMG_NPY_F4, 4},
                 {"'<f8'", SMG_NPY_F8, 8},
                 {"'<i4'", SMG_NPY_I4, 4},
                 {"'<i8'", SMG_NPY_I8, 8}};
    size_t t;
    for (t = 0; t < sizeof(types) / sizeof(types[0]); t++)
        if (strncmp(p, types[t].descr, 5) == 0)
            break;
    if (t == sizeof(types) / sizeof(types[0])) {
        const char *e = strchr(p, ',');
        return smg_error_set(err, SMG_EFORMAT,
                             "%s: unsupported .npy dtype %.*s (supported: <f4, <f8, <i4, <i8)",
                             name, (int)(e != NULL && e - p < 40 ? e - p : 10), p);
    }
    out->dtype = types[t].dtype;
    out->item = types[t].item;

    p = find_key(h, "'fortran_order'");
    if (p == NULL || strncmp(p, "False", 5) != 0)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s: only C-order .npy arrays are supported (fortran_order must be "
                             "False)",
                             name);
    p = find_key(h, "'shape'");
    if (p == NULL || *p != '(')
        return smg_error_set(err, SMG_EFORMAT, "%s: .npy header has no 'shape'", name);
    p++;
    while (*p == ' ')
        p++;
    if (!read_dim(&p, &out->rows) || *p != ',')
        goto bad_shape;
    p++;
    while (*p == ' ')
        p++;
    if (!read_dim(&p, &out->cols))
        goto bad_shape;
    if (*p == ',')
        p++;
    while (*p == ' ')
        p++;
    if (*p != ')')
        goto bad_shape;
    return SMG_OK;
bad_shape:
    return smg_error_set(err, SMG_EFORMAT, "%s: .npy array must be 2-D (rows, cols)", name);
}

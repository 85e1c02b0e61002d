/*
 * .npy header reader (format: npy.h). The dict is parsed by looking up its
 * three keys and reading each value with a small pointer-advancing scanner;
 * no general Python literal parser is needed for the headers numpy writes.
 */
#include "io/npy.h"

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

static void skip_spaces(const char **pp)
{
    while (**pp == ' ')
        (*pp)++;
}

/*
 * Read the magic, version and header length, then the header dict itself
 * into h (NPY_HEADER_MAX + 1 bytes), NUL-terminated.
 */
static int read_dict(FILE *f, const char *name, char *h, struct smg_error *err)
{
    unsigned char pre[12];
    size_t hlen;

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
    return SMG_OK;
}

/* 'descr': one of the four little-endian types we read, into dtype and item. */
static int read_descr(const char *h, const char *name, struct smg_npy *out, struct smg_error *err)
{
    static const struct {
        const char *descr;
        enum smg_npy_dtype dtype;
        size_t item;
    } types[] = {{"'<f4'", SMG_NPY_F4, 4},
                 {"'<f8'", SMG_NPY_F8, 8},
                 {"'<i4'", SMG_NPY_I4, 4},
                 {"'<i8'", SMG_NPY_I8, 8}};
    const char *p = find_key(h, "'descr'");

    if (p == NULL)
        return smg_error_set(err, SMG_EFORMAT, "%s: .npy header has no 'descr'", name);
    for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
        if (strncmp(p, types[t].descr, 5) == 0) {
            out->dtype = types[t].dtype;
            out->item = types[t].item;
            return SMG_OK;
        }
    }
    const char *e = strchr(p, ',');
    return smg_error_set(err, SMG_EFORMAT,
                         "%s: unsupported .npy dtype %.*s (supported: <f4, <f8, <i4, <i8)", name,
                         (int)(e != NULL && e - p < 40 ? e - p : 10), p);
}

/* 'shape': exactly two dimensions, "(rows, cols)" with an optional trailing comma. */
static int read_shape(const char *h, const char *name, struct smg_npy *out, struct smg_error *err)
{
    const char *p = find_key(h, "'shape'");

    if (p == NULL || *p != '(')
        return smg_error_set(err, SMG_EFORMAT, "%s: .npy header has no 'shape'", name);
    p++;
    skip_spaces(&p);
    if (!read_dim(&p, &out->rows) || *p != ',')
        goto bad_shape;
    p++;
    skip_spaces(&p);
    if (!read_dim(&p, &out->cols))
        goto bad_shape;
    if (*p == ',')
        p++;
    skip_spaces(&p);
    if (*p != ')')
        goto bad_shape;
    return SMG_OK;
bad_shape:
    return smg_error_set(err, SMG_EFORMAT, "%s: .npy array must be 2-D (rows, cols)", name);
}

enum smg_status smg_npy_read_header(FILE *f, const char *name, struct smg_npy *out,
                                    struct smg_error *err)
{
    char h[NPY_HEADER_MAX + 1];
    const char *p;
    int rc;

    if ((rc = read_dict(f, name, h, err)) != SMG_OK ||
        (rc = read_descr(h, name, out, err)) != SMG_OK)
        return rc;
    p = find_key(h, "'fortran_order'");
    if (p == NULL || strncmp(p, "False", 5) != 0)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s: only C-order .npy arrays are supported (fortran_order must be "
                             "False)",
                             name);
    return read_shape(h, name, out, err);
}

/*
 * The MXNet NDArray file codec (layout in ndarray.h): decode a file image into
 * struct smg_ndarray_file, encode it back, and the small helpers around it.
 * Reading and writing files (with the atomic save) lives in ndarray_io.c.
 *
 * Decoding is a cursor over the buffer: every read goes through cur_take,
 * which checks the bytes that remain and reports the byte offset of the field
 * that did not fit. Lengths read from the file are checked against both the
 * remaining bytes and a fixed limit before anything is allocated, and all size
 * arithmetic uses the overflow-checked helpers of alloc.h, so a hostile file
 * can cost at most about its own size in memory.
 *
 * Encoding first computes the exact size (overflow-checked), allocates once
 * and then writes; it reproduces each array's magic (V2, V1 or legacy),
 * dev_type and dev_id, and the header's reserved word, so that a decoded file
 * re-encodes byte for byte.
 */
#include "io/ndarray.h"

#include <string.h>

#include "io/base/alloc.h"

size_t smg_ndarray_dtype_size(int32_t dtype)
{
    switch (dtype) {
    case SMG_DTYPE_FLOAT32: return 4;
    case SMG_DTYPE_FLOAT64: return 8;
    case SMG_DTYPE_FLOAT16: return 2;
    case SMG_DTYPE_UINT8: return 1;
    case SMG_DTYPE_INT32: return 4;
    case SMG_DTYPE_INT8: return 1;
    case SMG_DTYPE_INT64: return 8;
    case SMG_DTYPE_BOOL: return 1;
    default: return 0;
    }
}

const char *smg_ndarray_dtype_name(int32_t dtype)
{
    switch (dtype) {
    case SMG_DTYPE_FLOAT32: return "float32";
    case SMG_DTYPE_FLOAT64: return "float64";
    case SMG_DTYPE_FLOAT16: return "float16";
    case SMG_DTYPE_UINT8: return "uint8";
    case SMG_DTYPE_INT32: return "int32";
    case SMG_DTYPE_INT8: return "int8";
    case SMG_DTYPE_INT64: return "int64";
    case SMG_DTYPE_BOOL: return "bool";
    default: return "unknown";
    }
}

size_t smg_ndarray_elements(const struct smg_ndarray *a)
{
    size_t n = 1;

    if (a->ndim == 0 || a->ndim > SMG_NDARRAY_MAX_DIMS)
        return 0;
    for (uint32_t i = 0; i < a->ndim; i++) {
        if (a->shape[i] < 0 || !smg_mul_size(n, (size_t)a->shape[i], &n))
            return 0;
    }
    return n;
}

/* Bytes of data for a shape and dtype; false on overflow, bad dims or dtype. */
static bool data_bytes(const struct smg_ndarray *a, size_t *out)
{
    size_t n = 1, width = smg_ndarray_dtype_size(a->dtype);

    if (a->ndim == 0) {
        *out = 0;
        return true;
    }
    if (a->ndim > SMG_NDARRAY_MAX_DIMS || width == 0)
        return false;
    for (uint32_t i = 0; i < a->ndim; i++)
        if (a->shape[i] < 0 || (uint64_t)a->shape[i] != (uint64_t)(size_t)a->shape[i] ||
            !smg_mul_size(n, (size_t)a->shape[i], &n))
            return false;
    return smg_mul_size(n, width, out);
}

const struct smg_ndarray *smg_ndarray_find(const struct smg_ndarray_file *f, const char *name)
{
    if (f == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < f->count; i++)
        if (f->arrays[i].name != NULL && strcmp(f->arrays[i].name, name) == 0)
            return &f->arrays[i];
    return NULL;
}

static void array_init(struct smg_ndarray *a)
{
    memset(a, 0, sizeof(*a));
    a->dtype = SMG_DTYPE_FLOAT32;
    a->dev_type = 1;
    a->dev_id = 0;
    a->magic = SMG_NDARRAY_V2_MAGIC;
}

struct smg_ndarray_file *smg_ndarray_file_new(size_t count, bool named)
{
    struct smg_ndarray_file *f = smg_calloc(1, sizeof(*f));

    if (f == NULL)
        return NULL;
    f->arrays = smg_calloc(count, sizeof(*f->arrays));
    if (f->arrays == NULL) {
        smg_free(f);
        return NULL;
    }
    for (size_t i = 0; i < count; i++)
        array_init(&f->arrays[i]);
    f->count = count;
    f->named = named;
    return f;
}

void smg_ndarray_file_free(struct smg_ndarray_file *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->count; i++) {
        smg_free(f->arrays[i].name);
        smg_free(f->arrays[i].data);
    }
    smg_free(f->arrays);
    smg_free(f);
}

enum smg_status smg_ndarray_set(struct smg_ndarray_file *f, size_t i, const char *name,
                                int32_t dtype, uint32_t ndim, const int64_t *shape,
                                const void *data, struct smg_error *err)
{
    struct smg_ndarray tmp;
    size_t nbytes;
    char *name_copy = NULL;
    void *data_copy = NULL;

    if (f == NULL || i >= f->count || ndim > SMG_NDARRAY_MAX_DIMS || (ndim > 0 && shape == NULL))
        return smg_error_set(err, SMG_EINTERNAL, "smg_ndarray_set: bad index %zu or ndim %u", i,
                             ndim);
    array_init(&tmp);
    tmp.dtype = dtype;
    tmp.ndim = ndim;
    for (uint32_t j = 0; j < ndim; j++)
        tmp.shape[j] = shape[j];
    if (!data_bytes(&tmp, &nbytes))
        return smg_error_set(err, SMG_EINTERNAL,
                             "smg_ndarray_set: array %zu has a bad dtype %d or shape", i, dtype);
    if (nbytes > 0 && data == NULL)
        return smg_error_set(err, SMG_EINTERNAL, "smg_ndarray_set: array %zu has no data", i);
    if (name != NULL && (name_copy = smg_strdup(name)) == NULL)
        goto nomem;
    if (nbytes > 0) {
        data_copy = smg_malloc(nbytes);
        if (data_copy == NULL)
            goto nomem;
        memcpy(data_copy, data, nbytes);
    }
    smg_free(f->arrays[i].name);
    smg_free(f->arrays[i].data);
    tmp.name = name_copy;
    tmp.data = data_copy;
    tmp.nbytes = nbytes;
    f->arrays[i] = tmp;
    return SMG_OK;
nomem:
    smg_free(name_copy);
    return smg_error_set(err, SMG_ENOMEM, "out of memory copying NDArray %zu (%zu bytes)", i,
                         nbytes);
}

enum smg_status smg_ndarray_set_f32_from_f64(struct smg_ndarray_file *f, size_t i, const char *name,
                                             uint32_t ndim, const int64_t *shape, const double *src,
                                             struct smg_error *err)
{
    struct smg_ndarray tmp;
    size_t nbytes;
    float *conv = NULL;
    int rc;

    if (ndim > SMG_NDARRAY_MAX_DIMS || (ndim > 0 && shape == NULL))
        return smg_error_set(err, SMG_EINTERNAL, "smg_ndarray_set_f32_from_f64: bad ndim %u", ndim);
    array_init(&tmp);
    tmp.ndim = ndim;
    for (uint32_t j = 0; j < ndim; j++)
        tmp.shape[j] = shape[j];
    if (!data_bytes(&tmp, &nbytes))
        return smg_error_set(err, SMG_EINTERNAL,
                             "smg_ndarray_set_f32_from_f64: array %zu has a bad shape", i);
    if (nbytes > 0) {
        if (src == NULL)
            return smg_error_set(err, SMG_EINTERNAL,
                                 "smg_ndarray_set_f32_from_f64: array %zu has no data", i);
        if ((conv = smg_malloc(nbytes)) == NULL)
            return smg_error_set(err, SMG_ENOMEM,
                                 "out of memory converting NDArray %zu (%zu bytes)", i, nbytes);
        for (size_t j = 0; j < nbytes / sizeof(float); j++)
            conv[j] = (float)src[j];
    }
    rc = smg_ndarray_set(f, i, name, SMG_DTYPE_FLOAT32, ndim, shape, conv, err);
    smg_free(conv);
    return rc;
}

/* ---- decoding ---------------------------------------------------------- */

struct cursor {
    const unsigned char *buf;
    size_t len, pos;
    struct smg_error *err;
};

/* Take n bytes for `what`, or fail with the offset where they were expected. */
static int cur_take(struct cursor *c, size_t n, const char *what, const unsigned char **out)
{
    if (n > c->len - c->pos)
        return smg_error_set(c->err, SMG_EFORMAT,
                             "NDArray file truncated at byte %zu: %s needs %zu bytes, %zu remain",
                             c->pos, what, n, c->len - c->pos);
    *out = c->buf + c->pos;
    c->pos += n;
    return SMG_OK;
}

static uint64_t get_le(const unsigned char *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static int cur_u32(struct cursor *c, const char *what, uint32_t *out)
{
    const unsigned char *p = NULL;
    int rc = cur_take(c, 4, what, &p);
    if (rc == SMG_OK)
        *out = (uint32_t)get_le(p, 4);
    return rc;
}

static int cur_u64(struct cursor *c, const char *what, uint64_t *out)
{
    const unsigned char *p = NULL;
    int rc = cur_take(c, 8, what, &p);
    if (rc == SMG_OK)
        *out = get_le(p, 8);
    return rc;
}

static int cur_i32(struct cursor *c, const char *what, int32_t *out)
{
    uint32_t u;
    int rc = cur_u32(c, what, &u);
    if (rc == SMG_OK)
        memcpy(out, &u, sizeof(u)); /* two's complement reinterpretation */
    return rc;
}

/* The shape: u32 or i64 dims (legacy or V1/V2); ndim already read. */
static int decode_dims(struct cursor *c, struct smg_ndarray *a, size_t idx, bool wide)
{
    for (uint32_t d = 0; d < a->ndim; d++) {
        size_t at = c->pos;
        int rc;
        if (wide) {
            uint64_t u;
            if ((rc = cur_u64(c, "a dimension", &u)) != SMG_OK)
                return rc;
            memcpy(&a->shape[d], &u, sizeof(u));
        } else {
            uint32_t u;
            if ((rc = cur_u32(c, "a dimension", &u)) != SMG_OK)
                return rc;
            a->shape[d] = u;
        }
        if (a->shape[d] < 0)
            return smg_error_set(c->err, SMG_EFORMAT,
                                 "NDArray %zu: negative dimension %lld at byte %zu", idx,
                                 (long long)a->shape[d], at);
    }
    return SMG_OK;
}

/* One NDArray::Save record, from its magic to the end of its data. */
static int decode_array(struct cursor *c, struct smg_ndarray *a, size_t idx)
{
    size_t at = c->pos, nbytes;
    const unsigned char *p = NULL;
    bool wide = true;
    int rc;

    if ((rc = cur_u32(c, "an array magic", &a->magic)) != SMG_OK)
        return rc;
    if (a->magic == SMG_NDARRAY_V3_MAGIC)
        return smg_error_set(c->err, SMG_EFORMAT,
                             "NDArray %zu at byte %zu: V3 arrays (numpy shape semantics) are not "
                             "supported",
                             idx, at);
    if (a->magic == SMG_NDARRAY_V2_MAGIC) {
        int32_t stype;
        size_t sat = c->pos;
        if ((rc = cur_i32(c, "the storage type", &stype)) != SMG_OK)
            return rc;
        if (stype != 0)
            return smg_error_set(c->err, SMG_EFORMAT,
                                 "NDArray %zu: storage type %d at byte %zu is not dense (sparse "
                                 "row_sparse/csr arrays are not supported)",
                                 idx, stype, sat);
    }
    if (a->magic == SMG_NDARRAY_V1_MAGIC || a->magic == SMG_NDARRAY_V2_MAGIC) {
        size_t nat = c->pos;
        if ((rc = cur_u32(c, "ndim", &a->ndim)) != SMG_OK)
            return rc;
        if (a->ndim > SMG_NDARRAY_MAX_DIMS)
            return smg_error_set(c->err, SMG_EFORMAT,
                                 "NDArray %zu: ndim %u at byte %zu exceeds the maximum %d", idx,
                                 a->ndim, nat, SMG_NDARRAY_MAX_DIMS);
    } else if (a->magic <= SMG_NDARRAY_MAX_DIMS) {
        a->ndim = a->magic; /* legacy: the magic is ndim, dims are u32 */
        wide = false;
    } else {
        return smg_error_set(c->err, SMG_EFORMAT,
                             "NDArray %zu: bad magic 0x%08X at byte %zu (expected 0x%08X)", idx,
                             a->magic, at, SMG_NDARRAY_V2_MAGIC);
    }
    if ((rc = decode_dims(c, a, idx, wide)) != SMG_OK)
        return rc;
    if (a->ndim == 0)
        return SMG_OK; /* a "none" array: nothing follows */
    if ((rc = cur_i32(c, "dev_type", &a->dev_type)) != SMG_OK ||
        (rc = cur_i32(c, "dev_id", &a->dev_id)) != SMG_OK)
        return rc;
    at = c->pos;
    if ((rc = cur_i32(c, "the type flag", &a->dtype)) != SMG_OK)
        return rc;
    if (smg_ndarray_dtype_size(a->dtype) == 0)
        return smg_error_set(c->err, SMG_EFORMAT, "NDArray %zu: unknown type flag %d at byte %zu",
                             idx, a->dtype, at);
    at = c->pos;
    if (!data_bytes(a, &nbytes))
        return smg_error_set(c->err, SMG_EFORMAT,
                             "NDArray %zu: the data size of its shape overflows (data at byte %zu)",
                             idx, at);
    if ((rc = cur_take(c, nbytes, "the array data", &p)) != SMG_OK)
        return rc;
    a->data = smg_malloc(nbytes);
    if (a->data == NULL)
        return smg_error_set(c->err, SMG_ENOMEM, "out of memory for NDArray %zu (%zu bytes)", idx,
                             nbytes);
    if (nbytes > 0)
        memcpy(a->data, p, nbytes);
    a->nbytes = nbytes;
    return SMG_OK;
}

static int decode_names(struct cursor *c, struct smg_ndarray_file *f)
{
    uint64_t num_names, len;
    size_t at = c->pos;
    const unsigned char *p = NULL;
    int rc;

    if ((rc = cur_u64(c, "the name count", &num_names)) != SMG_OK)
        return rc;
    if (num_names != 0 && num_names != f->count)
        return smg_error_set(c->err, SMG_EFORMAT,
                             "NDArray file: %llu names at byte %zu for %zu arrays (expected 0 or "
                             "%zu)",
                             (unsigned long long)num_names, at, f->count, f->count);
    f->named = num_names != 0;
    for (size_t i = 0; i < num_names; i++) {
        at = c->pos;
        if ((rc = cur_u64(c, "a name length", &len)) != SMG_OK)
            return rc;
        if (len > SMG_NDARRAY_MAX_NAME)
            return smg_error_set(c->err, SMG_EFORMAT,
                                 "NDArray file: name %zu at byte %zu is %llu bytes long (maximum "
                                 "%u)",
                                 i, at, (unsigned long long)len, SMG_NDARRAY_MAX_NAME);
        if ((rc = cur_take(c, (size_t)len, "a name", &p)) != SMG_OK)
            return rc;
        if (memchr(p, '\0', (size_t)len) != NULL)
            return smg_error_set(c->err, SMG_EFORMAT,
                                 "NDArray file: name %zu at byte %zu contains a NUL byte", i,
                                 at + 8);
        f->arrays[i].name = smg_malloc((size_t)len + 1);
        if (f->arrays[i].name == NULL)
            return smg_error_set(c->err, SMG_ENOMEM, "out of memory for NDArray name %zu", i);
        memcpy(f->arrays[i].name, p, (size_t)len);
        f->arrays[i].name[len] = '\0';
    }
    return SMG_OK;
}

enum smg_status smg_ndarray_decode(const void *buf, size_t len, struct smg_ndarray_file **out,
                                   struct smg_error *err)
{
    struct cursor c = {buf, len, 0, err};
    struct smg_ndarray_file *f = NULL;
    uint64_t magic, reserved, count;
    int rc;

    *out = NULL;
    if (buf == NULL && len > 0)
        return smg_error_set(err, SMG_EINTERNAL, "smg_ndarray_decode: NULL buffer");
    if ((rc = cur_u64(&c, "the file magic", &magic)) != SMG_OK)
        return rc;
    if (magic != SMG_NDARRAY_LIST_MAGIC)
        return smg_error_set(err, SMG_EFORMAT,
                             "not an MXNet NDArray file: magic 0x%llX at byte 0 (expected 0x112)",
                             (unsigned long long)magic);
    if ((rc = cur_u64(&c, "the reserved word", &reserved)) != SMG_OK ||
        (rc = cur_u64(&c, "the array count", &count)) != SMG_OK)
        return rc;
    /* Every array takes at least its 4-byte magic. */
    if (count > SMG_NDARRAY_MAX_ARRAYS || count > (len - c.pos) / 4)
        return smg_error_set(err, SMG_EFORMAT,
                             "NDArray file: array count %llu at byte 16 is impossible for %zu "
                             "remaining bytes (maximum %u arrays)",
                             (unsigned long long)count, len - c.pos, SMG_NDARRAY_MAX_ARRAYS);
    f = smg_ndarray_file_new((size_t)count, false);
    if (f == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory for %llu NDArrays",
                             (unsigned long long)count);
    f->reserved = reserved;
    for (size_t i = 0; i < f->count; i++)
        if ((rc = decode_array(&c, &f->arrays[i], i)) != SMG_OK)
            goto out;
    if ((rc = decode_names(&c, f)) != SMG_OK)
        goto out;
    if (c.pos != len) {
        rc = smg_error_set(err, SMG_EFORMAT,
                           "NDArray file: %zu unexpected bytes after the last name, at byte %zu",
                           len - c.pos, c.pos);
        goto out;
    }
    *out = f;
    f = NULL;
out:
    smg_ndarray_file_free(f);
    return rc;
}

/* ---- encoding ---------------------------------------------------------- */

static unsigned char *put_le(unsigned char *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + n;
}

static unsigned char *put_i32(unsigned char *p, int32_t v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof(u));
    return put_le(p, u, 4);
}

/* Check one array and add its encoded size to *total. */
static int array_size(const struct smg_ndarray *a, size_t idx, bool named, size_t *total,
                      struct smg_error *err)
{
    size_t nbytes, dims_width = 8, head = 4, sz;
    bool legacy = a->magic != SMG_NDARRAY_V1_MAGIC && a->magic != SMG_NDARRAY_V2_MAGIC;

    if (a->ndim > SMG_NDARRAY_MAX_DIMS || (legacy && a->magic != a->ndim))
        return smg_error_set(err, SMG_EINTERNAL,
                             "cannot encode NDArray %zu: ndim %u with magic 0x%08X", idx, a->ndim,
                             a->magic);
    if (!data_bytes(a, &nbytes))
        return smg_error_set(err, SMG_EINTERNAL, "cannot encode NDArray %zu: bad dtype %d or shape",
                             idx, a->dtype);
    if ((a->nbytes != 0 && a->nbytes != nbytes) || (nbytes > 0 && a->data == NULL))
        return smg_error_set(err, SMG_EINTERNAL,
                             "cannot encode NDArray %zu: %zu data bytes for a shape needing %zu",
                             idx, a->data == NULL ? 0 : a->nbytes, nbytes);
    if (named && a->name == NULL)
        return smg_error_set(err, SMG_EINTERNAL, "cannot encode NDArray %zu: no name in a dict",
                             idx);
    if (legacy) {
        dims_width = 4;
        for (uint32_t d = 0; d < a->ndim; d++)
            if (a->shape[d] > (int64_t)UINT32_MAX)
                return smg_error_set(err, SMG_EINTERNAL,
                                     "cannot encode NDArray %zu: legacy dim too large", idx);
    } else {
        head += 4 + (a->magic == SMG_NDARRAY_V2_MAGIC ? 4 : 0); /* ndim, stype */
    }
    sz = head + dims_width * a->ndim;
    if (a->ndim > 0 && !smg_add_size(sz, 12, &sz)) /* dev_type, dev_id, type flag */
        return SMG_EINTERNAL;
    if (!smg_add_size(sz, nbytes, &sz) || !smg_add_size(*total, sz, total))
        return smg_error_set(err, SMG_EINTERNAL, "cannot encode NDArray %zu: size overflows", idx);
    if (named && (!smg_add_size(*total, 8, total) || !smg_add_size(*total, strlen(a->name), total)))
        return smg_error_set(err, SMG_EINTERNAL, "cannot encode NDArray %zu: size overflows", idx);
    return SMG_OK;
}

static unsigned char *put_array(unsigned char *p, const struct smg_ndarray *a)
{
    bool legacy = a->magic != SMG_NDARRAY_V1_MAGIC && a->magic != SMG_NDARRAY_V2_MAGIC;
    size_t nbytes = 0;

    p = put_le(p, a->magic, 4);
    if (a->magic == SMG_NDARRAY_V2_MAGIC)
        p = put_i32(p, 0); /* dense */
    if (!legacy)
        p = put_le(p, a->ndim, 4);
    for (uint32_t d = 0; d < a->ndim; d++)
        p = put_le(p, (uint64_t)a->shape[d], legacy ? 4 : 8);
    if (a->ndim == 0)
        return p;
    p = put_i32(p, a->dev_type);
    p = put_i32(p, a->dev_id);
    p = put_i32(p, a->dtype);
    (void)data_bytes(a, &nbytes); /* checked by array_size */
    if (nbytes > 0)
        memcpy(p, a->data, nbytes);
    return p + nbytes;
}

enum smg_status smg_ndarray_encode(const struct smg_ndarray_file *f, void **buf, size_t *len,
                                   struct smg_error *err)
{
    size_t total = 32; /* magic, reserved, count, name count */
    unsigned char *out, *p;
    int rc;

    *buf = NULL;
    *len = 0;
    if (f == NULL || (f->count > 0 && f->arrays == NULL))
        return smg_error_set(err, SMG_EINTERNAL, "smg_ndarray_encode: no file");
    for (size_t i = 0; i < f->count; i++)
        if ((rc = array_size(&f->arrays[i], i, f->named, &total, err)) != SMG_OK)
            return smg_error_set(err, rc, "cannot encode NDArray %zu", i);
    out = smg_malloc(total);
    if (out == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory encoding an NDArray file (%zu bytes)",
                             total);
    p = put_le(out, SMG_NDARRAY_LIST_MAGIC, 8);
    p = put_le(p, f->reserved, 8);
    p = put_le(p, f->count, 8);
    for (size_t i = 0; i < f->count; i++)
        p = put_array(p, &f->arrays[i]);
    p = put_le(p, f->named ? f->count : 0, 8);
    for (size_t i = 0; f->named && i < f->count; i++) {
        size_t n = strlen(f->arrays[i].name);
        p = put_le(p, n, 8);
        memcpy(p, f->arrays[i].name, n);
        p += n;
    }
    *buf = out;
    *len = (size_t)(p - out);
    return SMG_OK;
}

/*
 * Record encoder (layout: record_encode.h). Sizes of the nested messages are
 * computed first, from the innermost tensor outwards, so the payload is
 * written in one forward pass into a buffer of exactly the right size.
 */
#include "io/record_encode.h"

#include <string.h>

#include "io/base/alloc.h"

void smg_bytes_free(struct smg_bytes *b)
{
    smg_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

size_t smg_record_varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static uint8_t tensor_tag(enum smg_tensor_type t)
{
    return t == SMG_TENSOR_FLOAT32 ? 0x12 : t == SMG_TENSOR_FLOAT64 ? 0x1a : 0x3a;
}

/* A tensor's fields, as they will be written. */
struct tensor {
    enum smg_tensor_type type;
    const void *values;
    size_t n;
    const uint64_t *keys;
    size_t nkeys;
    uint64_t shape;
    int has_shape;
};

static uint64_t int32_wire(int32_t v)
{
    return (uint64_t)(int64_t)v; /* negative: sign-extended, 10 bytes */
}

static size_t values_bytes(const struct tensor *t)
{
    size_t b = 0;
    if (t->type == SMG_TENSOR_FLOAT32)
        return t->n * 4;
    if (t->type == SMG_TENSOR_FLOAT64)
        return t->n * 8;
    for (size_t i = 0; i < t->n; i++)
        b += smg_record_varint_size(int32_wire(((const int32_t *)t->values)[i]));
    return b;
}

static size_t keys_bytes(const struct tensor *t)
{
    size_t b = 0;
    for (size_t i = 0; i < t->nkeys; i++)
        b += smg_record_varint_size(t->keys[i]);
    return b;
}

static size_t field_size(size_t body)
{
    return 1 + smg_record_varint_size(body) + body;
}

static size_t tensor_size(const struct tensor *t)
{
    size_t s = 0;
    if (t->n > 0)
        s += field_size(values_bytes(t));
    if (t->nkeys > 0)
        s += field_size(keys_bytes(t));
    if (t->has_shape)
        s += field_size(smg_record_varint_size(t->shape));
    return s;
}

/* Size of the whole map entry body: key "values" + Value. */
static size_t entry_size(const struct tensor *t)
{
    return 8 + field_size(field_size(tensor_size(t)));
}

static uint8_t *put_entry(uint8_t *p, uint8_t map_tag, const struct tensor *t)
{
    size_t ts = tensor_size(t), vs = field_size(ts), es = 8 + field_size(vs);

    *p++ = map_tag;
    p = put_varint(p, es);
    memcpy(p, "\x0a\x06values", 8);
    p += 8;
    *p++ = 0x12;
    p = put_varint(p, vs);
    *p++ = tensor_tag(t->type);
    p = put_varint(p, ts);
    if (t->n > 0) {
        size_t vb = values_bytes(t);
        *p++ = 0x0a;
        p = put_varint(p, vb);
        if (t->type == SMG_TENSOR_INT32) {
            for (size_t i = 0; i < t->n; i++)
                p = put_varint(p, int32_wire(((const int32_t *)t->values)[i]));
        } else {
            /* little-endian host: floats and doubles go out as they are */
            memcpy(p, t->values, vb);
            p += vb;
        }
    }
    if (t->nkeys > 0) {
        *p++ = 0x12;
        p = put_varint(p, keys_bytes(t));
        for (size_t i = 0; i < t->nkeys; i++)
            p = put_varint(p, t->keys[i]);
    }
    if (t->has_shape) {
        *p++ = 0x1a;
        p = put_varint(p, smg_record_varint_size(t->shape));
        p = put_varint(p, t->shape);
    }
    return p;
}

static int encode(struct smg_bytes *out, const struct tensor *feat, const struct smg_label *label,
                  struct smg_error *err)
{
    struct tensor lt;
    float lf;
    double ld;
    int32_t li;
    size_t total;

    memset(&lt, 0, sizeof(lt));
    if (label != NULL) {
        lt.type = label->type;
        lt.n = 1;
        if (label->type == SMG_TENSOR_FLOAT32) {
            lf = (float)label->value;
            lt.values = &lf;
        } else if (label->type == SMG_TENSOR_FLOAT64) {
            ld = label->value;
            lt.values = &ld;
        } else {
            li = (int32_t)label->value;
            lt.values = &li;
        }
    }
    total = field_size(entry_size(feat)) + (label != NULL ? field_size(entry_size(&lt)) : 0);
    if (total > out->cap) {
        uint8_t *nb = smg_realloc(out->data, total);
        if (nb == NULL)
            return smg_error_set(err, SMG_ENOMEM, "out of memory encoding a %zu-byte Record",
                                 total);
        out->data = nb;
        out->cap = total;
    }
    uint8_t *p = put_entry(out->data, 0x0a, feat);
    if (label != NULL)
        p = put_entry(p, 0x12, &lt);
    out->len = (size_t)(p - out->data);
    return SMG_OK;
}

enum smg_status smg_record_encode_dense(struct smg_bytes *out, enum smg_tensor_type type,
                                        const void *values, size_t n, const struct smg_label *label,
                                        struct smg_error *err)
{
    struct tensor t;

    memset(&t, 0, sizeof(t));
    t.type = type;
    t.values = values;
    t.n = n;
    return encode(out, &t, label, err);
}

enum smg_status smg_record_encode_sparse(struct smg_bytes *out, enum smg_tensor_type type,
                                         const void *values, const uint64_t *keys, size_t nnz,
                                         uint64_t cols, const struct smg_label *label,
                                         struct smg_error *err)
{
    struct tensor t;

    memset(&t, 0, sizeof(t));
    t.type = type;
    t.values = values;
    t.n = nnz;
    t.keys = keys;
    t.nkeys = nnz;
    t.shape = cols;
    t.has_shape = 1;
    return encode(out, &t, label, err);
}

/*
 * recordIO-protobuf Record -> dense float32 row (contract: record_decode.h).
 *
 * The reference path unpacks the whole Record with protobuf-c (allocations go
 * through smg_malloc so out-of-memory injection reaches them), picks the last
 * features entry named "values" (protobuf map semantics: the last key wins)
 * and densifies its tensor.
 *
 * The fast path walks the wire format by hand for the one layout SageMaker
 * writers produce for dense float32 data:
 *
 *   Record  { 0a L1 FeaturesEntry }  [ 12 L2 LabelEntry ]
 *   Entry   { 0a 06 "values"  12 L3 Value }
 *   Value   { 12 L4 Float32Tensor }
 *   Tensor  { 0a L5 <L5/4 little-endian floats> }
 *
 * with lengths as varints. It accepts a Record only if every byte is
 * accounted for by that grammar (one features entry, at most one label
 * entry of the same shape, nothing else), the value count is feature_dim
 * and every value is finite; for such input protobuf-c yields exactly the
 * same floats. Anything else, including every error, is handed to the
 * reference decoder, so errors and unusual-but-valid input behave
 * identically on both paths. Before the walk, a record that is byte for byte
 * the writers' own header (minimal varints, features first, no label or a
 * one-float label) is recognised by comparing it with that header.
 */
#include "io/record_decode.h"

#include <math.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include "io/base/alloc.h"
#include "record.pb-c.h"

static _Atomic uint64_t fallbacks;

uint64_t smg_record_decode_fallbacks(void)
{
    return atomic_load_explicit(&fallbacks, memory_order_relaxed);
}

/* data, when not NULL, is a bool set when an allocation fails (unpack_values). */
static void *pb_alloc(void *data, size_t size)
{
    void *p = smg_malloc(size);

    if (p == NULL && data != NULL)
        *(bool *)data = true;
    return p;
}

static void pb_free(void *data, void *ptr)
{
    (void)data;
    smg_free(ptr);
}

static ProtobufCAllocator pb_allocator = {pb_alloc, pb_free, NULL};

enum tensor_kind { KIND_F32, KIND_F64, KIND_I32 };

struct tensor_view {
    enum tensor_kind kind;
    const void *values;
    size_t n_values;
    const uint64_t *keys;
    size_t n_keys;
    const uint64_t *shape;
    size_t n_shape;
};

static double value_at(const struct tensor_view *t, size_t i)
{
    switch (t->kind) {
    case KIND_F32: return ((const float *)t->values)[i];
    case KIND_F64: return ((const double *)t->values)[i];
    case KIND_I32: return ((const int32_t *)t->values)[i];
    }
    return 0;
}

/* Value i as a float32 for feature j, rejecting NaN, infinity and float overflow. */
static int to_float(const struct tensor_view *t, size_t i, size_t j, float *out,
                    struct smg_error *err)
{
    double v = value_at(t, i);
    float f = (float)v;

    if (isnan(v))
        return smg_error_set(err, SMG_EFORMAT, "feature %zu is NaN", j);
    if (isinf(v))
        return smg_error_set(err, SMG_EFORMAT, "feature %zu is infinite", j);
    if (isinf(f))
        return smg_error_set(err, SMG_EFORMAT, "feature %zu (%g) is out of float32 range", j, v);
    *out = f;
    return SMG_OK;
}

/* Store value i as feature j. */
static int put(const struct tensor_view *t, size_t i, float *row, size_t j, struct smg_error *err)
{
    return to_float(t, i, j, &row[j], err);
}

static int shape_cols(const struct tensor_view *t, uint64_t *cols, struct smg_error *err)
{
    if (t->n_shape == 1) {
        *cols = t->shape[0];
        return SMG_OK;
    }
    if (t->n_shape == 2 && t->shape[0] == 1) {
        *cols = t->shape[1];
        return SMG_OK;
    }
    if (t->n_shape == 2)
        return smg_error_set(err, SMG_EFORMAT,
                             "tensor shape [%ju, %ju] holds several rows; expected [cols] or "
                             "[1, cols]",
                             (uintmax_t)t->shape[0], (uintmax_t)t->shape[1]);
    return smg_error_set(err, SMG_EFORMAT,
                         "tensor shape has %zu dimensions; expected [cols] or [1, cols]",
                         t->n_shape);
}

/* Sparse (keys), or an empty row given by its shape alone (the SDK's empty CSR rows). */
static bool is_sparse(const struct tensor_view *t)
{
    return t->n_keys > 0 || (t->n_values == 0 && t->n_shape > 0);
}

static int check_dense(const struct tensor_view *t, size_t dim, struct smg_error *err)
{
    uint64_t cols = 0;
    int rc;

    if (t->n_values != dim)
        return smg_error_set(err, SMG_EFORMAT, "%zu features, expected %zu (feature_dim)",
                             t->n_values, dim);
    if (t->n_shape > 0) {
        if ((rc = shape_cols(t, &cols, err)) != SMG_OK)
            return rc;
        if (cols != t->n_values)
            return smg_error_set(err, SMG_EFORMAT,
                                 "dense tensor shape says %ju columns but it holds %zu values",
                                 (uintmax_t)cols, t->n_values);
    }
    return SMG_OK;
}

struct key_pos {
    uint64_t key;
    size_t pos;
};

static int cmp_key_pos(const void *a, const void *b)
{
    const struct key_pos *x = a, *y = b;

    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * The entries of a sparse tensor in ascending key order: *order is NULL when
 * the keys already ascend strictly (the common case), else a smg_malloc'd
 * permutation (caller frees). Two entries with the same key are an error.
 */
static int sort_keys(const struct tensor_view *t, size_t **order, struct smg_error *err)
{
    size_t n = t->n_keys, i = 1;
    struct key_pos *kp;
    int rc = SMG_OK;

    *order = NULL;
    while (i < n && t->keys[i - 1] < t->keys[i])
        i++;
    if (i >= n)
        return SMG_OK;
    kp = smg_malloc(n * sizeof(*kp));
    *order = smg_malloc(n * sizeof(size_t));
    if (kp == NULL || *order == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "out of memory sorting %zu sparse keys", n);
        goto out;
    }
    for (i = 0; i < n; i++)
        kp[i] = (struct key_pos){t->keys[i], i};
    qsort(kp, n, sizeof(*kp), cmp_key_pos);
    for (i = 0; i < n; i++) {
        if (i > 0 && kp[i].key == kp[i - 1].key) {
            rc = smg_error_set(err, SMG_EFORMAT,
                               "sparse key %ju appears twice (entries %zu and %zu); keys must be "
                               "distinct",
                               (uintmax_t)kp[i].key, kp[i - 1].pos, kp[i].pos);
            goto out;
        }
        (*order)[i] = kp[i].pos;
    }
out:
    smg_free(kp);
    if (rc != SMG_OK) {
        smg_free(*order);
        *order = NULL;
    }
    return rc;
}

/*
 * Check a sparse tensor: shape, counts, every key inside the shape and every
 * value finite (in entry order, so both decoders report the same first
 * problem), then distinct keys. *order as sort_keys gives it.
 */
static int check_sparse(const struct tensor_view *t, size_t dim, size_t **order,
                        struct smg_error *err)
{
    uint64_t cols = 0;
    float f;
    int rc;

    *order = NULL;
    if (t->n_shape == 0)
        return smg_error_set(err, SMG_EFORMAT, "sparse tensor (%zu keys) has no shape", t->n_keys);
    if ((rc = shape_cols(t, &cols, err)) != SMG_OK)
        return rc;
    if (cols != dim)
        return smg_error_set(err, SMG_EFORMAT, "%ju features, expected %zu (feature_dim)",
                             (uintmax_t)cols, dim);
    if (t->n_keys != t->n_values)
        return smg_error_set(err, SMG_EFORMAT, "sparse tensor has %zu keys but %zu values",
                             t->n_keys, t->n_values);
    for (size_t i = 0; i < t->n_keys; i++) {
        if (t->keys[i] >= cols)
            return smg_error_set(err, SMG_EFORMAT, "sparse key %ju (entry %zu) outside shape [%ju]",
                                 (uintmax_t)t->keys[i], i, (uintmax_t)cols);
        if ((rc = to_float(t, i, (size_t)t->keys[i], &f, err)) != SMG_OK)
            return rc;
    }
    return sort_keys(t, order, err);
}

static int densify(const struct tensor_view *t, size_t dim, float *row, struct smg_error *err)
{
    size_t *order = NULL;
    int rc;

    if (!is_sparse(t)) {
        if ((rc = check_dense(t, dim, err)) != SMG_OK)
            return rc;
        for (size_t i = 0; i < dim; i++)
            if ((rc = put(t, i, row, i, err)) != SMG_OK)
                return rc;
        return SMG_OK;
    }
    if ((rc = check_sparse(t, dim, &order, err)) != SMG_OK)
        return rc;
    smg_free(order);
    memset(row, 0, dim * sizeof(float));
    for (size_t i = 0; i < t->n_keys; i++)
        (void)put(t, i, row, (size_t)t->keys[i], err); /* checked above */
    return SMG_OK;
}

/* Append the tensor as one CSR row of out (sorted columns; a dense row keeps its non-zeros). */
static int to_csr(const struct tensor_view *t, size_t dim, struct smg_csr_buf *out,
                  struct smg_error *err)
{
    size_t *order = NULL, n = 0;
    int rc;

    if (!is_sparse(t)) {
        if ((rc = check_dense(t, dim, err)) != SMG_OK ||
            (rc = smg_csr_buf_reserve(out, dim, err)) != SMG_OK)
            return rc;
        for (size_t i = 0; i < dim; i++) {
            float f;
            if ((rc = to_float(t, i, i, &f, err)) != SMG_OK)
                return rc;
            if (f != 0.0f) {
                out->indices[out->nnz + n] = (uint32_t)i;
                out->values[out->nnz + n++] = f;
            }
        }
    } else {
        if ((rc = check_sparse(t, dim, &order, err)) != SMG_OK)
            return rc;
        if ((rc = smg_csr_buf_reserve(out, t->n_keys, err)) != SMG_OK) {
            smg_free(order);
            return rc;
        }
        for (size_t i = 0; i < t->n_keys; i++, n++) {
            size_t e = order != NULL ? order[i] : i;
            out->indices[out->nnz + n] = (uint32_t)t->keys[e];
            (void)to_float(t, e, (size_t)t->keys[e], &out->values[out->nnz + n], err);
        }
        smg_free(order);
    }
    out->nnz += n;
    smg_csr_buf_end_row(out);
    return SMG_OK;
}

#define VIEW_OF(tv, k, p)                                                                          \
    do {                                                                                           \
        (tv).kind = (k);                                                                           \
        (tv).values = (p)->values;                                                                 \
        (tv).n_values = (p)->n_values;                                                             \
        (tv).keys = (p)->keys;                                                                     \
        (tv).n_keys = (p)->n_keys;                                                                 \
        (tv).shape = (p)->shape;                                                                   \
        (tv).n_shape = (p)->n_shape;                                                               \
    } while (0)

/*
 * Unpack buf and view its features["values"] tensor in *tv. SMG_OK leaves the
 * unpacked Record in *out (the caller frees it with free_unpacked, whatever
 * the status, when *out is not NULL).
 */
static int unpack_values(const uint8_t *buf, size_t len, Aialgs__Data__Record **out,
                         struct tensor_view *tv, struct smg_error *err)
{
    bool oom = false;
    ProtobufCAllocator counted = {pb_alloc, pb_free, &oom};
    Aialgs__Data__Record *rec = aialgs__data__record__unpack(&counted, len, buf);
    const Aialgs__Data__Value *v = NULL;

    *out = rec;
    if (rec == NULL && oom) /* protobuf-c returns NULL for both */
        return smg_error_set(err, SMG_ENOMEM, "out of memory unpacking a %zu-byte Record", len);
    if (rec == NULL)
        return smg_error_set(err, SMG_EFORMAT,
                             "not a valid protobuf Record (%zu bytes could not be decoded)", len);
    for (size_t i = 0; i < rec->n_features; i++) {
        const Aialgs__Data__Record__FeaturesEntry *e = rec->features[i];
        if (e->key != NULL && strcmp(e->key, "values") == 0)
            v = e->value;
    }
    if (v == NULL)
        return smg_error_set(err, SMG_EFORMAT, "Record has no features[\"values\"] tensor");
    switch (v->value_case) {
    case AIALGS__DATA__VALUE__VALUE_FLOAT32_TENSOR:
        VIEW_OF(*tv, KIND_F32, v->float32_tensor);
        break;
    case AIALGS__DATA__VALUE__VALUE_FLOAT64_TENSOR:
        VIEW_OF(*tv, KIND_F64, v->float64_tensor);
        break;
    case AIALGS__DATA__VALUE__VALUE_INT32_TENSOR: VIEW_OF(*tv, KIND_I32, v->int32_tensor); break;
    case AIALGS__DATA__VALUE__VALUE_BYTES:
        return smg_error_set(err, SMG_EFORMAT,
                             "features[\"values\"] is a Bytes value; expected a Float32Tensor, "
                             "Float64Tensor or Int32Tensor");
    default: return smg_error_set(err, SMG_EFORMAT, "features[\"values\"] holds no tensor");
    }
    return SMG_OK;
}

enum smg_status smg_record_decode_pb(const uint8_t *buf, size_t len, size_t feature_dim, float *row,
                                     struct smg_error *err)
{
    Aialgs__Data__Record *rec;
    struct tensor_view tv;
    int rc = unpack_values(buf, len, &rec, &tv, err);

    if (rc == SMG_OK)
        rc = densify(&tv, feature_dim, row, err);
    if (rec != NULL)
        aialgs__data__record__free_unpacked(rec, &pb_allocator);
    return rc;
}

enum smg_status smg_record_decode_csr(const uint8_t *buf, size_t len, size_t feature_dim,
                                      struct smg_csr_buf *out, struct smg_error *err)
{
    Aialgs__Data__Record *rec;
    struct tensor_view tv;
    int rc = SMG_OK;

    if (feature_dim > UINT32_MAX)
        return smg_error_set(err, SMG_ECONFIG,
                             "feature_dim %zu is too large for sparse batches (at most %u)",
                             feature_dim, (unsigned)UINT32_MAX);
    rc = unpack_values(buf, len, &rec, &tv, err);
    if (rc == SMG_OK)
        rc = to_csr(&tv, feature_dim, out, err);
    if (rec != NULL)
        aialgs__data__record__free_unpacked(rec, &pb_allocator);
    return (enum smg_status)rc;
}

bool smg_record_is_sparse(const uint8_t *buf, size_t len)
{
    Aialgs__Data__Record *rec;
    struct tensor_view tv;
    struct smg_error ignored;
    bool sparse = false;

    if (unpack_values(buf, len, &rec, &tv, &ignored) == SMG_OK)
        sparse = is_sparse(&tv);
    if (rec != NULL)
        aialgs__data__record__free_unpacked(rec, &pb_allocator);
    return sparse;
}

enum smg_status smg_record_feature_count(const uint8_t *buf, size_t len, size_t *dim,
                                         struct smg_error *err)
{
    Aialgs__Data__Record *rec;
    struct tensor_view tv;
    uint64_t cols = 0;
    int rc = unpack_values(buf, len, &rec, &tv, err);

    if (rc == SMG_OK && tv.n_shape > 0)
        rc = shape_cols(&tv, &cols, err);
    else if (rc == SMG_OK)
        cols = tv.n_values;
    if (rc == SMG_OK && (cols == 0 || cols > SIZE_MAX))
        rc = smg_error_set(err, SMG_EFORMAT,
                           "features[\"values\"] tensor has %ju columns; expected at least 1",
                           (uintmax_t)cols);
    if (rc == SMG_OK)
        *dim = (size_t)cols;
    if (rec != NULL)
        aialgs__data__record__free_unpacked(rec, &pb_allocator);
    return (enum smg_status)rc;
}

/* ---- fast path ---- */

/* A length varint of at most 4 bytes, fitting in what is left. */
static bool read_len(const uint8_t **p, const uint8_t *end, size_t *out)
{
    const uint8_t *q = *p;
    size_t v = 0;

    for (int i = 0; i < 4; i++) {
        if (q >= end)
            return false;
        uint8_t b = *q++;
        v |= (size_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (v > (size_t)(end - q))
                return false;
            *p = q;
            *out = v;
            return true;
        }
    }
    return false;
}

/*
 * Parse one map entry { 0a 06 "values" 12 L Value{ 12 L Float32Tensor{ 0a L
 * floats } } } spanning exactly [p, end). On success *vals and *n point at the
 * packed floats.
 */
static bool fast_entry(const uint8_t *p, const uint8_t *end, const uint8_t **vals, size_t *n)
{
    size_t l;

    if (end - p < 9 || memcmp(p, "\x0a\x06values\x12", 9) != 0)
        return false;
    p += 9;
    if (!read_len(&p, end, &l) || p + l != end || p == end || *p++ != 0x12)
        return false;
    if (!read_len(&p, end, &l) || p + l != end || p == end || *p++ != 0x0a)
        return false;
    if (!read_len(&p, end, &l) || p + l != end || (l & 3) != 0)
        return false;
    *vals = p;
    *n = l / 4;
    return true;
}

/*
 * The exact bytes the grammar above gives a features entry of d floats and a
 * label entry of one float, with minimal varints: the header before the
 * floats of each. A record made of these, with nothing else, is what
 * SageMaker's writers produce; it is recognised by two comparisons instead of
 * the walk (same acceptance, same floats). Built once per thread and d.
 */
struct layout {
    size_t d;
    size_t feat_len, label_len;
    uint8_t feat[32], label[32];
};

static size_t put_varint(uint8_t *p, size_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static size_t varint_len(size_t v)
{
    uint8_t tmp[10];
    return put_varint(tmp, v);
}

/* Header of `tag { 0a 06 "values" 12 L Value{ 12 L Tensor{ 0a L <count floats> } } }`. */
static size_t entry_header(uint8_t *h, uint8_t tag, size_t count)
{
    size_t l4 = 4 * count, l3 = 1 + varint_len(l4) + l4, l2 = 1 + varint_len(l3) + l3;
    size_t l1 = 8 + 1 + varint_len(l2) + l2, n = 0;

    h[n++] = tag;
    n += put_varint(h + n, l1);
    memcpy(h + n, "\x0a\x06values\x12", 9);
    n += 9;
    n += put_varint(h + n, l2);
    h[n++] = 0x12;
    n += put_varint(h + n, l3);
    h[n++] = 0x0a;
    n += put_varint(h + n, l4);
    return n;
}

/*
 * This thread's layout for d (rebuilt when d changes); NULL when d is too
 * large for it. Both headers are at least 16 bytes (same_bytes needs 8).
 */
static const struct layout *layout_for(size_t d)
{
    static _Thread_local struct layout lay;

    if (d > ((size_t)1 << 24))
        return NULL;
    if (lay.d != d || lay.feat_len == 0) {
        lay.d = d;
        lay.feat_len = entry_header(lay.feat, 0x0a, d);
        lay.label_len = entry_header(lay.label, 0x12, 1);
    }
    return &lay;
}

/* a[0, n) == b[0, n) for n >= 8, in 8-byte words (the last one overlapping): no call. */
static bool same_bytes(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint64_t x, y, diff = 0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        diff |= x ^ y;
    }
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, b + n - 8, 8);
    return (diff | (x ^ y)) == 0;
}

/* Copy n floats, whether any is NaN or infinite. */
static bool copy_finite(const uint8_t *vals, size_t n, float *row)
{
    uint32_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, vals + 4 * i, 4);
        bad |= (uint32_t)((u & 0x7f800000u) == 0x7f800000u);
        memcpy(row + i, &u, 4);
    }
    return bad == 0;
}

enum smg_status smg_record_decode_fast(const uint8_t *buf, size_t len, size_t feature_dim,
                                       float *row, struct smg_error *err)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint8_t *p = buf, *end = buf + len, *vals = NULL, *lvals;
    const struct layout *lay = layout_for(feature_dim);
    bool have_label = false;
    size_t n = 0, ln;

    if (lay != NULL) {
        size_t body = lay->feat_len + 4 * feature_dim;
        if ((len == body || (len == body + lay->label_len + 4 &&
                             same_bytes(buf + body, lay->label, lay->label_len))) &&
            same_bytes(buf, lay->feat, lay->feat_len)) {
            if (copy_finite(buf + lay->feat_len, feature_dim, row))
                return SMG_OK;
            goto fallback;
        }
    }
    while (p < end) {
        uint8_t tag = *p++;
        size_t l;
        if ((tag != 0x0a && tag != 0x12) || !read_len(&p, end, &l))
            goto fallback;
        if (tag == 0x0a) {
            if (vals != NULL || !fast_entry(p, p + l, &vals, &n))
                goto fallback;
        } else {
            if (have_label || !fast_entry(p, p + l, &lvals, &ln))
                goto fallback;
            have_label = true;
        }
        p += l;
    }
    if (vals == NULL || n != feature_dim)
        goto fallback;
    if (copy_finite(vals, n, row))
        return SMG_OK;
fallback:
#endif
    atomic_fetch_add_explicit(&fallbacks, 1, memory_order_relaxed);
    return smg_record_decode_pb(buf, len, feature_dim, row, err);
}

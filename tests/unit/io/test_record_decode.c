/*
 * recordIO-protobuf Record decoding: both decoders (protobuf-c reference and
 * fast path) on dense Float32/Float64/Int32 tensors, sparse tensors, labels,
 * and every malformed case with its message; the encoder against bytes the
 * SageMaker SDK wrote; and the row reader's location prefix.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/record_decode.h"
#include "io/record_encode.h"
#include "io/recordio.h"
#include "rows_helpers.h"

typedef int (*decode_fn)(const uint8_t *, size_t, size_t, float *, struct smg_error *);
static const decode_fn decoders[2] = {smg_record_decode_pb, smg_record_decode_fast};

/*
 * The CSR decoder must agree with the dense ones: same status and message, an
 * unchanged buffer on error, and on success one row with ascending distinct
 * columns that densifies to the same values.
 */
static void csr_agrees(const struct smg_bytes *b, size_t dim, int want_rc, const char *want_msg,
                       const float *want_row)
{
    struct smg_csr_buf csr;
    struct smg_error e;
    float dense[64] = {0};

    smg_error_clear(&e);
    assert_int_equal(smg_csr_buf_init(&csr, 1, NULL), SMG_OK);
    int rc = smg_record_decode_csr(b->data, b->len, dim, &csr, &e);
    assert_int_equal(rc, want_rc);
    assert_string_equal(e.msg, want_msg);
    if (rc != SMG_OK) {
        assert_int_equal(csr.rows, 0);
        assert_int_equal(csr.nnz, 0);
    } else {
        assert_int_equal(csr.rows, 1);
        assert_int_equal(csr.indptr[1], csr.nnz);
        for (size_t p = 0; p < csr.nnz; p++) {
            assert_true(csr.indices[p] < dim);
            if (p > 0)
                assert_true(csr.indices[p - 1] < csr.indices[p]);
            dense[csr.indices[p]] = csr.values[p];
        }
        for (size_t j = 0; j < dim; j++)
            assert_true(dense[j] == want_row[j]);
    }
    smg_csr_buf_free(&csr);
}

/* Decode with both decoders (and the CSR one); all must agree; returns the status. */
static int decode_both(const struct smg_bytes *b, size_t dim, float *row, char *msg)
{
    float r2[64];
    struct smg_error e1, e2;
    smg_error_clear(&e1);
    smg_error_clear(&e2);
    int rc1 = decoders[0](b->data, b->len, dim, row, &e1);
    int rc2 = decoders[1](b->data, b->len, dim, r2, &e2);
    assert_int_equal(rc1, rc2);
    assert_string_equal(e1.msg, e2.msg);
    if (rc1 == SMG_OK)
        assert_memory_equal(row, r2, dim * sizeof(float));
    csr_agrees(b, dim, rc1, e1.msg, row);
    if (msg)
        strcpy(msg, e1.msg);
    return rc1;
}

static void expect_error(const struct smg_bytes *b, size_t dim, const char *want)
{
    float row[64];
    char msg[SMG_ERROR_MSG_MAX];
    assert_int_equal(decode_both(b, dim, row, msg), SMG_EFORMAT);
    if (strcmp(msg, want) != 0)
        fail_msg("got \"%s\"\nwant \"%s\"", msg, want);
}

static void test_sdk_bytes(void **state)
{
    /* write_numpy_to_dense_tensor(f, np.array([[1,2]], float32), np.array([3], float32)) */
    static const uint8_t sdk[] = {0x0a, 0x16, 0x0a, 0x06, 'v',  'a',  'l',  'u',  'e',  's',  0x12,
                                  0x0c, 0x12, 0x0a, 0x0a, 0x08, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00,
                                  0x00, 0x40, 0x12, 0x12, 0x0a, 0x06, 'v',  'a',  'l',  'u',  'e',
                                  's',  0x12, 0x08, 0x12, 0x06, 0x0a, 0x04, 0x00, 0x00, 0x40, 0x40};
    /* write_spmatrix_to_sparse_tensor, row [0, 1] of a 2-column float32 CSR, label 3 */
    static const uint8_t sdk_sparse[] = {0x0a, 0x18, 0x0a, 0x06, 'v',  'a',  'l',  'u',  'e',  's',
                                         0x12, 0x0e, 0x12, 0x0c, 0x0a, 0x04, 0x00, 0x00, 0x80, 0x3f,
                                         0x12, 0x01, 0x01, 0x1a, 0x01, 0x02, 0x12, 0x12, 0x0a, 0x06,
                                         'v',  'a',  'l',  'u',  'e',  's',  0x12, 0x08, 0x12, 0x06,
                                         0x0a, 0x04, 0x00, 0x00, 0x40, 0x40};
    /* int64 row [-1, 2], no label */
    static const uint8_t sdk_int[] = {0x0a, 0x19, 0x0a, 0x06, 'v',  'a',  'l',  'u',  'e',
                                      's',  0x12, 0x0f, 0x3a, 0x0d, 0x0a, 0x0b, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02};
    struct smg_bytes b = {0};
    struct smg_label label = {SMG_TENSOR_FLOAT32, 3.0};
    const float v[2] = {1, 2}, sv[1] = {1};
    const uint64_t keys[1] = {1};
    const int32_t iv[2] = {-1, 2};
    float row[2];
    (void)state;

    assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_FLOAT32, v, 2, &label, NULL), 0);
    assert_int_equal(b.len, sizeof(sdk));
    assert_memory_equal(b.data, sdk, sizeof(sdk));
    assert_int_equal(decode_both(&b, 2, row, NULL), 0);
    assert_true(row[0] == 1.0f && row[1] == 2.0f);

    assert_int_equal(smg_record_encode_sparse(&b, SMG_TENSOR_FLOAT32, sv, keys, 1, 2, &label, NULL),
                     0);
    assert_int_equal(b.len, sizeof(sdk_sparse));
    assert_memory_equal(b.data, sdk_sparse, sizeof(sdk_sparse));
    assert_int_equal(decode_both(&b, 2, row, NULL), 0);
    assert_true(row[0] == 0.0f && row[1] == 1.0f);

    assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_INT32, iv, 2, NULL, NULL), 0);
    assert_int_equal(b.len, sizeof(sdk_int));
    assert_memory_equal(b.data, sdk_int, sizeof(sdk_int));
    assert_int_equal(decode_both(&b, 2, row, NULL), 0);
    assert_true(row[0] == -1.0f && row[1] == 2.0f);
    smg_bytes_free(&b);
}

static void test_dense_types(void **state)
{
    struct smg_bytes b = {0};
    float f[16], row[16];
    double d[16];
    int32_t iv[16];
    struct smg_label labels[3] = {
        {SMG_TENSOR_FLOAT32, 1}, {SMG_TENSOR_FLOAT64, -2.5}, {SMG_TENSOR_INT32, 7}};
    (void)state;
    for (int i = 0; i < 16; i++) {
        f[i] = (float)i * 0.1f - 0.7f;
        d[i] = 1e30 * i - 3.25;
        iv[i] = (i - 8) * 100003;
    }
    for (int l = -1; l < 3; l++) {
        const struct smg_label *lab = l < 0 ? NULL : &labels[l];
        uint64_t fb = smg_record_decode_fallbacks();
        assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_FLOAT32, f, 16, lab, NULL), 0);
        assert_int_equal(decode_both(&b, 16, row, NULL), 0);
        assert_memory_equal(row, f, sizeof(f));
        /* The SDK's common shape (float32 label or none) takes the fast path. */
        if (l <= 0)
            assert_int_equal(smg_record_decode_fallbacks(), fb);

        assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_FLOAT64, d, 16, lab, NULL), 0);
        assert_int_equal(decode_both(&b, 16, row, NULL), 0);
        for (int i = 0; i < 16; i++)
            assert_true(row[i] == (float)d[i]);

        assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_INT32, iv, 16, lab, NULL), 0);
        assert_int_equal(decode_both(&b, 16, row, NULL), 0);
        for (int i = 0; i < 16; i++)
            assert_true(row[i] == (float)iv[i]);
    }
    smg_bytes_free(&b);
}

static void test_sparse(void **state)
{
    struct smg_bytes b = {0};
    const double v[3] = {1.5, -2, 4};
    const uint64_t keys[3] = {4, 0, 2};
    const uint64_t bad_keys[3] = {4, 0, 5};
    float row[5];
    (void)state;
    assert_int_equal(smg_record_encode_sparse(&b, SMG_TENSOR_FLOAT64, v, keys, 3, 5, NULL, NULL),
                     0);
    assert_int_equal(decode_both(&b, 5, row, NULL), 0);
    assert_true(row[0] == -2 && row[1] == 0 && row[2] == 4 && row[3] == 0 && row[4] == 1.5f);
    /* an empty CSR row: shape only */
    assert_int_equal(smg_record_encode_sparse(&b, SMG_TENSOR_FLOAT32, NULL, NULL, 0, 5, NULL, NULL),
                     0);
    row[2] = 9;
    assert_int_equal(decode_both(&b, 5, row, NULL), 0);
    for (int i = 0; i < 5; i++)
        assert_true(row[i] == 0);
    assert_int_equal(
        smg_record_encode_sparse(&b, SMG_TENSOR_FLOAT64, v, bad_keys, 3, 5, NULL, NULL), 0);
    expect_error(&b, 5, "sparse key 5 (entry 2) outside shape [5]");
    assert_int_equal(smg_record_encode_sparse(&b, SMG_TENSOR_FLOAT64, v, keys, 3, 6, NULL, NULL),
                     0);
    expect_error(&b, 5, "6 features, expected 5 (feature_dim)");
    smg_bytes_free(&b);
}

/* Keys in any order are sorted; a key twice is an error on every decoder. */
static void test_sparse_key_order(void **state)
{
    struct smg_bytes b = {0};
    struct smg_csr_buf csr;
    const float v[4] = {1, 2, 3, 4}, zeros[3] = {0, 5, 0};
    const uint64_t keys[4] = {7, 2, 9, 0}, dup[4] = {7, 2, 9, 2};
    float row[10];
    (void)state;
    assert_int_equal(smg_record_encode_sparse(&b, SMG_TENSOR_FLOAT32, v, keys, 4, 10, NULL, NULL),
                     0);
    assert_int_equal(decode_both(&b, 10, row, NULL), 0);
    assert_int_equal(smg_csr_buf_init(&csr, 1, NULL), SMG_OK);
    assert_int_equal(smg_record_decode_csr(b.data, b.len, 10, &csr, NULL), SMG_OK);
    assert_int_equal(csr.nnz, 4);
    assert_true(csr.indices[0] == 0 && csr.indices[1] == 2 && csr.indices[2] == 7 &&
                csr.indices[3] == 9);
    assert_true(csr.values[0] == 4 && csr.values[1] == 2 && csr.values[2] == 1 &&
                csr.values[3] == 3);
    assert_true(smg_record_is_sparse(b.data, b.len));

    assert_int_equal(smg_record_encode_sparse(&b, SMG_TENSOR_FLOAT32, v, dup, 4, 10, NULL, NULL),
                     0);
    expect_error(&b, 10, "sparse key 2 appears twice (entries 1 and 3); keys must be distinct");

    /* A dense record decoded as CSR keeps its non-zeros only. */
    assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_FLOAT32, zeros, 3, NULL, NULL), 0);
    assert_false(smg_record_is_sparse(b.data, b.len));
    smg_csr_buf_clear(&csr);
    assert_int_equal(smg_record_decode_csr(b.data, b.len, 3, &csr, NULL), SMG_OK);
    assert_true(csr.nnz == 1 && csr.indices[0] == 1 && csr.values[0] == 5);
    /* Many rows grow the buffer past its first capacity. */
    assert_int_equal(smg_record_encode_sparse(&b, SMG_TENSOR_FLOAT32, v, keys, 4, 10, NULL, NULL),
                     0);
    for (int i = 0; i < 3000; i++)
        assert_int_equal(smg_record_decode_csr(b.data, b.len, 10, &csr, NULL), SMG_OK);
    assert_int_equal(csr.rows, 3001);
    assert_int_equal(csr.nnz, 1 + 3000 * 4);
    assert_int_equal(csr.indptr[3001], csr.nnz);
    smg_csr_buf_free(&csr);
    smg_bytes_free(&b);
}

/* Hand-built tensors for the shapes the encoder does not produce. */
static void raw(struct smg_bytes *b, const uint8_t *p, size_t n)
{
    b->data = realloc(b->data, n ? n : 1);
    if (n > 0)
        memcpy(b->data, p, n);
    b->len = b->cap = n;
}

static void test_malformed(void **state)
{
    struct smg_bytes b = {0};
    float f[16];
    (void)state;
    for (int i = 0; i < 16; i++)
        f[i] = (float)i;

    assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_FLOAT32, f, 15, NULL, NULL), 0);
    expect_error(&b, 16, "15 features, expected 16 (feature_dim)");

    f[3] = NAN;
    assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_FLOAT32, f, 16, NULL, NULL), 0);
    expect_error(&b, 16, "feature 3 is NaN");
    f[3] = -INFINITY;
    assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_FLOAT32, f, 16, NULL, NULL), 0);
    expect_error(&b, 16, "feature 3 is infinite");
    double big[2] = {1, 1e300};
    assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_FLOAT64, big, 2, NULL, NULL), 0);
    expect_error(&b, 2, "feature 1 (1e+300) is out of float32 range");

    static const uint8_t garbage[] = {0x0a, 0x7f, 0x01, 0x02};
    raw(&b, garbage, sizeof(garbage));
    expect_error(&b, 2, "not a valid protobuf Record (4 bytes could not be decoded)");

    /* features["other"] only */
    static const uint8_t other[] = {0x0a, 0x11, 0x0a, 0x05, 'o',  't',  'h',  'e',  'r', 0x12,
                                    0x08, 0x12, 0x06, 0x0a, 0x04, 0x00, 0x00, 0x80, 0x3f};
    raw(&b, other, sizeof(other));
    expect_error(&b, 2, "Record has no features[\"values\"] tensor");
    raw(&b, NULL, 0);
    expect_error(&b, 2, "Record has no features[\"values\"] tensor");

    /* Bytes value */
    static const uint8_t bytes[] = {0x0a, 0x0e, 0x0a, 0x06, 'v',  'a',  'l',  'u',
                                    'e',  's',  0x12, 0x04, 0x4a, 0x02, 0x0a, 0x00};
    raw(&b, bytes, sizeof(bytes));
    expect_error(&b, 2,
                 "features[\"values\"] is a Bytes value; expected a Float32Tensor, Float64Tensor "
                 "or Int32Tensor");

    /* empty Value */
    static const uint8_t empty_value[] = {0x0a, 0x0a, 0x0a, 0x06, 'v',  'a',
                                          'l',  'u',  'e',  's',  0x12, 0x00};
    raw(&b, empty_value, sizeof(empty_value));
    expect_error(&b, 2, "features[\"values\"] holds no tensor");

    /* sparse without shape: keys [0], values [1.0] */
    static const uint8_t no_shape[] = {0x0a, 0x15, 0x0a, 0x06, 'v',  'a',  'l',  'u',
                                       'e',  's',  0x12, 0x0b, 0x12, 0x09, 0x0a, 0x04,
                                       0x00, 0x00, 0x80, 0x3f, 0x12, 0x01, 0x00};
    raw(&b, no_shape, sizeof(no_shape));
    expect_error(&b, 2, "sparse tensor (1 keys) has no shape");

    /* keys [0, 1], one value, shape [2] */
    static const uint8_t mismatch[] = {0x0a, 0x19, 0x0a, 0x06, 'v',  'a',  'l',  'u',  'e',
                                       's',  0x12, 0x0f, 0x12, 0x0d, 0x0a, 0x04, 0x00, 0x00,
                                       0x80, 0x3f, 0x12, 0x02, 0x00, 0x01, 0x1a, 0x01, 0x02};
    raw(&b, mismatch, sizeof(mismatch));
    expect_error(&b, 2, "sparse tensor has 2 keys but 1 values");

    /* dense with shape [3] but 2 values */
    static const uint8_t bad_shape[] = {0x0a, 0x19, 0x0a, 0x06, 'v',  'a',  'l',  'u',  'e',
                                        's',  0x12, 0x0f, 0x12, 0x0d, 0x0a, 0x08, 0x00, 0x00,
                                        0x80, 0x3f, 0x00, 0x00, 0x80, 0x3f, 0x1a, 0x01, 0x03};
    raw(&b, bad_shape, sizeof(bad_shape));
    expect_error(&b, 2, "dense tensor shape says 3 columns but it holds 2 values");
    /* the same with shape [2, 1]: several rows */
    static const uint8_t rows2[] = {0x0a, 0x1a, 0x0a, 0x06, 'v',  'a',  'l',  'u',  'e',  's',
                                    0x12, 0x10, 0x12, 0x0e, 0x0a, 0x08, 0x00, 0x00, 0x80, 0x3f,
                                    0x00, 0x00, 0x80, 0x3f, 0x1a, 0x02, 0x02, 0x01};
    raw(&b, rows2, sizeof(rows2));
    expect_error(&b, 2, "tensor shape [2, 1] holds several rows; expected [cols] or [1, cols]");
    smg_bytes_free(&b);
}

/*
 * The writers' exact layout (recognised by comparing headers, record_decode.c)
 * at every varint width the lengths take for these d (one byte up to d = 27,
 * two from there), with no label and a float32 label: the floats of both
 * decoders, no fallback; the same record with a byte appended, with a
 * non-minimal varint, or with a NaN keeps the reference decoder's answer.
 */
static void test_writer_layout(void **state)
{
    static const size_t dims[] = {1, 2, 16, 27, 28, 31, 32, 33, 40, 64};
    struct smg_bytes b = {0};
    struct smg_label label = {SMG_TENSOR_FLOAT32, 4.5};
    float f[64], row[64];
    (void)state;
    for (int i = 0; i < 64; i++)
        f[i] = (float)i * 0.37f - 5.0f;
    for (size_t a = 0; a < sizeof(dims) / sizeof(dims[0]); a++)
        for (int l = 0; l < 2; l++) {
            size_t d = dims[a];
            uint64_t fb = smg_record_decode_fallbacks();
            assert_int_equal(
                smg_record_encode_dense(&b, SMG_TENSOR_FLOAT32, f, d, l ? &label : NULL, NULL), 0);
            assert_int_equal(decode_both(&b, d, row, NULL), 0);
            assert_memory_equal(row, f, d * sizeof(float));
            assert_int_equal(smg_record_decode_fallbacks(), fb);
            /* One extra byte (an unknown field's tag with nothing after it): rejected alike. */
            uint8_t extra[400];
            memcpy(extra, b.data, b.len);
            extra[b.len] = 0x18;
            size_t n = b.len + 1;
            raw(&b, extra, n);
            float r1[64], r2[64];
            struct smg_error e1, e2;
            smg_error_clear(&e1);
            smg_error_clear(&e2);
            assert_int_equal(smg_record_decode_pb(b.data, b.len, d, r1, &e1),
                             smg_record_decode_fast(b.data, b.len, d, r2, &e2));
            assert_string_equal(e1.msg, e2.msg);
        }
    /* d = 2, no label, the outer length as a two-byte varint (0x96 0x00 for 22). */
    static const uint8_t wide[] = {0x0a, 0x96, 0x00, 0x0a, 0x06, 'v',  'a',  'l',  'u',
                                   'e',  's',  0x12, 0x0c, 0x12, 0x0a, 0x0a, 0x08, 0x00,
                                   0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40};
    raw(&b, wide, sizeof(wide));
    assert_int_equal(decode_both(&b, 2, row, NULL), 0);
    assert_true(row[0] == 1.0f && row[1] == 2.0f);
    f[5] = NAN;
    assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_FLOAT32, f, 16, &label, NULL), 0);
    expect_error(&b, 16, "feature 5 is NaN");
    smg_bytes_free(&b);
}

/* Through the row reader: the message gets stream, record and byte offset. */
static void test_row_reader_prefix(void **state)
{
    struct smg_bytes b = {0};
    unsigned char file[4096];
    size_t len = 0, n;
    float f[16] = {0}, *rows;
    struct smg_format fmt = {SMG_ROWS_RECORDIO_PROTOBUF, 16, 0, false, 0};
    struct smg_error err;
    uint8_t hdr[8];
    (void)state;
    for (int r = 0; r < 3; r++) {
        assert_int_equal(
            smg_record_encode_dense(&b, SMG_TENSOR_FLOAT32, f, r == 2 ? 15 : 16, NULL, NULL), 0);
        smg_recordio_header(hdr, (uint32_t)b.len, 0);
        memcpy(file + len, hdr, 8);
        memcpy(file + len + 8, b.data, b.len);
        memset(file + len + 8 + b.len, 0, 4);
        len += 8 + b.len + smg_recordio_pad(b.len);
    }
    assert_int_equal(decode_all(file, len, &fmt, 0, &rows, &n, &err), SMG_EFORMAT);
    assert_int_equal(n, 2);
    assert_string_equal(err.msg,
                        "test.bin: record 2 at byte 176: 15 features, expected 16 (feature_dim)");
    free(rows);
    smg_bytes_free(&b);
}

static void test_out_of_memory(void **state)
{
    struct smg_bytes b = {0};
    const double v[2] = {1, 2};
    float row[2];
    (void)state;
    assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_FLOAT64, v, 2, NULL, NULL), 0);
    for (long n = 0; n < 10; n++) {
        struct smg_error err;
        smg_error_clear(&err);
        smg_alloc_fail_after(n);
        int rc = smg_record_decode_pb(b.data, b.len, 2, row, &err);
        smg_alloc_reset();
        /* protobuf-c's NULL for a failed allocation is not taken for a bad Record. */
        assert_true(rc == SMG_OK || rc == SMG_ENOMEM);
    }
    smg_bytes_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sdk_bytes),     cmocka_unit_test(test_dense_types),
        cmocka_unit_test(test_sparse),        cmocka_unit_test(test_sparse_key_order),
        cmocka_unit_test(test_malformed),     cmocka_unit_test(test_row_reader_prefix),
        cmocka_unit_test(test_out_of_memory), cmocka_unit_test(test_writer_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

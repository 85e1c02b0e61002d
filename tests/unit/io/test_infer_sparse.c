/*
 * Tests for sparse inference requests (io/infer_request.h,
 * smg_infer_request_decode_rows; io/codec_rows_csr.c): recordIO-protobuf
 * bodies whose first record is sparse decode to CSR rows, never to dense ones.
 *
 * - CSR rows hold exactly the stored values, columns ascending (keys may come
 *   in any order), explicit zeros kept, empty rows and dense records after a
 *   sparse first one included; framed and bare bodies alike.
 * - Dense bodies and other content types still decode to dense rows.
 * - The decoded-size cap counts stored values and rows: a d = 100,000 body of
 *   a few values per row fits a cap that its dense form exceeds 2,000 times;
 *   one stored value too many is SMG_EFORMAT naming the record and the limit.
 * - Malformed bodies (duplicate key, key outside the shape, wrong shape,
 *   non-finite value, truncated record) are SMG_EFORMAT naming the record and,
 *   where there is one, the entry; nothing is left allocated.
 * - The documented sparse JSON form ({"data": {"features": {"keys": ...}}}), in
 *   application/json and application/jsonlines, decodes to CSR rows the same
 *   way when the first instance is sparse, with the same checks (duplicate
 *   keys, keys outside [0, d), shape) and cap.
 * - Every allocation failure is a clean SMG_ENOMEM.
 * Values are compared exactly: every input is exactly representable in float32.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/infer_request.h"
#include "io/record_encode.h"
#include "io/recordio.h"

#define CT "application/x-recordio-protobuf"

/* A request body: framed records appended one by one. */
struct body {
    uint8_t data[1 << 16];
    size_t len;
};

static void put_record(struct body *b, const struct smg_bytes *rec)
{
    size_t pad = smg_recordio_pad(rec->len);

    assert_true(b->len + SMG_RECORDIO_HEADER_BYTES + rec->len + pad <= sizeof(b->data));
    smg_recordio_header(b->data + b->len, (uint32_t)rec->len, SMG_RECORDIO_CFLAG_WHOLE);
    memcpy(b->data + b->len + SMG_RECORDIO_HEADER_BYTES, rec->data, rec->len);
    memset(b->data + b->len + SMG_RECORDIO_HEADER_BYTES + rec->len, 0, pad);
    b->len += SMG_RECORDIO_HEADER_BYTES + rec->len + pad;
}

static void put_sparse(struct body *b, const float *v, const uint64_t *keys, size_t nnz,
                       uint64_t cols)
{
    struct smg_bytes rec = {0};
    struct smg_error err;

    smg_error_clear(&err);
    assert_int_equal(
        smg_record_encode_sparse(&rec, SMG_TENSOR_FLOAT32, v, keys, nnz, cols, NULL, &err), SMG_OK);
    put_record(b, &rec);
    smg_bytes_free(&rec);
}

static void put_dense(struct body *b, const float *v, size_t n)
{
    struct smg_bytes rec = {0};
    struct smg_error err;

    smg_error_clear(&err);
    assert_int_equal(smg_record_encode_dense(&rec, SMG_TENSOR_FLOAT32, v, n, NULL, &err), SMG_OK);
    put_record(b, &rec);
    smg_bytes_free(&rec);
}

static int decode_rows(const char *ctype, const void *body, size_t len, size_t d, size_t max_bytes,
                       struct smg_infer_rows *out, struct smg_error *err)
{
    struct smg_infer_format fmt;
    int rc;

    smg_error_clear(err);
    rc = smg_infer_format_parse(ctype, &fmt, err);
    assert_int_equal(rc, SMG_OK);
    return smg_infer_request_decode_rows(body, len, &fmt, d, max_bytes, out, err);
}

static void expect_error(const struct body *b, size_t d, size_t max_bytes, const char *needle)
{
    struct smg_infer_rows rows;
    struct smg_error err;
    int rc = decode_rows(CT, b->data, b->len, d, max_bytes, &rows, &err);

    assert_int_equal(rc, SMG_EFORMAT);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
    assert_int_equal(rows.n, 0);
    assert_null(rows.x);
    assert_null(rows.csr.indptr);
    assert_null(rows.csr.values);
}

/* Row i of a CSR result holds exactly (cols[j], vals[j]) for j < nnz. */
static void expect_row(const struct smg_infer_rows *r, size_t i, const uint32_t *cols,
                       const float *vals, size_t nnz)
{
    struct smg_batch b = smg_infer_rows_batch(r);
    uint64_t p0 = b.indptr[i];

    assert_int_equal(b.indptr[i + 1] - p0, nnz);
    for (size_t j = 0; j < nnz; j++) {
        assert_int_equal(b.indices[p0 + j], cols[j]);
        assert_true(b.values[p0 + j] == vals[j]);
    }
}

static void test_sparse_body_is_csr(void **state)
{
    static struct body b;
    const float v0[3] = {2.0f, 3.0f, 0.0f}, dense[6] = {0, 1.5f, 0, 0, -4.0f, 0};
    const uint64_t k0[3] = {4, 1, 5}; /* unsorted, an explicit zero at 5 */
    const uint32_t c0[3] = {1, 4, 5}, c2[2] = {1, 4};
    const float s0[3] = {3.0f, 2.0f, 0.0f}, s2[2] = {1.5f, -4.0f};
    struct smg_infer_rows rows;
    struct smg_batch batch;
    struct smg_error err;
    (void)state;

    b.len = 0;
    put_sparse(&b, v0, k0, 3, 6);
    put_sparse(&b, NULL, NULL, 0, 6); /* an empty row, as the SDK writes it */
    put_dense(&b, dense, 6);          /* a dense record after a sparse one */
    assert_int_equal(decode_rows(CT, b.data, b.len, 6, 0, &rows, &err), SMG_OK);
    assert_null(rows.x);
    assert_int_equal(rows.n, 3);
    assert_int_equal(rows.d, 6);
    batch = smg_infer_rows_batch(&rows);
    assert_true(smg_batch_is_csr(&batch));
    assert_int_equal(batch.rows, 3);
    assert_int_equal(batch.cols, 6);
    expect_row(&rows, 0, c0, s0, 3);
    expect_row(&rows, 1, NULL, NULL, 0);
    expect_row(&rows, 2, c2, s2, 2);
    smg_infer_rows_free(&rows);
    assert_null(rows.csr.indptr);
}

/* A bare sparse Record (no recordIO header), as local-mode Batch Transform sends one. */
static void test_sparse_bare_record(void **state)
{
    static struct body b;
    const float v[2] = {7.0f, 8.0f};
    const uint64_t k[2] = {3, 0};
    const uint32_t c[2] = {0, 3};
    const float s[2] = {8.0f, 7.0f};
    size_t rec_len;
    struct smg_infer_rows rows;
    struct smg_error err;
    (void)state;

    b.len = 0;
    put_sparse(&b, v, k, 2, 4);
    rec_len = (size_t)b.data[4] | (size_t)b.data[5] << 8; /* the header's length, < 2^16 */
    assert_int_equal(
        decode_rows(CT, b.data + SMG_RECORDIO_HEADER_BYTES, rec_len, 4, 0, &rows, &err), SMG_OK);
    assert_null(rows.x);
    assert_int_equal(rows.n, 1);
    expect_row(&rows, 0, c, s, 2);
    smg_infer_rows_free(&rows);
}

static void test_dense_bodies_stay_dense(void **state)
{
    static struct body b;
    const float dense[3] = {1.0f, 0.0f, 2.0f};
    const float v[1] = {5.0f};
    const uint64_t k[1] = {2};
    struct smg_infer_rows rows;
    struct smg_error err;
    (void)state;

    b.len = 0;
    put_dense(&b, dense, 3);
    put_sparse(&b, v, k, 1, 3); /* a sparse record after a dense first one: densified */
    assert_int_equal(decode_rows(CT, b.data, b.len, 3, 0, &rows, &err), SMG_OK);
    assert_non_null(rows.x);
    assert_int_equal(rows.n, 2);
    assert_true(rows.x[0] == 1.0f && rows.x[2] == 2.0f && rows.x[5] == 5.0f && rows.x[3] == 0.0f);
    smg_infer_rows_free(&rows);
    assert_int_equal(decode_rows("text/csv", "1,2,3\n", 6, 3, 0, &rows, &err), SMG_OK);
    assert_non_null(rows.x);
    assert_int_equal(rows.n, 1);
    smg_infer_rows_free(&rows);
    /* Dense rows still count rows x d: 2 rows of 3 floats do not fit 20 bytes. */
    b.len = 0;
    put_dense(&b, dense, 3);
    put_dense(&b, dense, 3);
    expect_error(&b, 3, 20, "more than 1 rows");
}

/*
 * The cap counts stored values (8 bytes each) and rows (8 bytes each): 50 rows
 * of 4 values at d = 100,000 take 50 x 40 = 2,000 bytes, where dense rows
 * would take 20 MB.
 */
static void test_cap_counts_stored_values(void **state)
{
    static struct body b;
    const float v[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    struct smg_infer_rows rows;
    struct smg_error err;
    (void)state;

    b.len = 0;
    for (uint64_t i = 0; i < 50; i++) {
        const uint64_t k[4] = {i, 1000 + i, 50000 + i, 99999 - i};
        put_sparse(&b, v, k, 4, 100000);
    }
    assert_int_equal(decode_rows(CT, b.data, b.len, 100000, 2000, &rows, &err), SMG_OK);
    assert_null(rows.x);
    assert_int_equal(rows.n, 50);
    assert_int_equal(rows.csr.nnz, 200);
    assert_int_equal(smg_csr_buf_bytes(rows.n, rows.csr.nnz), 2000);
    smg_infer_rows_free(&rows);
    expect_error(&b, 100000, 1999,
                 "request body: record 49: the 50 sparse rows so far hold 200 stored values, "
                 "more than this server decodes from one request (1999 bytes");
}

static void test_malformed_sparse_bodies(void **state)
{
    static struct body b;
    const float v[3] = {1.0f, 2.0f, 3.0f}, bad[2] = {1.0f, INFINITY};
    const uint64_t ok[3] = {0, 2, 4}, dup[3] = {4, 1, 4}, out[3] = {1, 6, 2};
    (void)state;

    b.len = 0;
    put_sparse(&b, v, ok, 3, 6);
    put_sparse(&b, v, dup, 3, 6);
    expect_error(&b, 6, 0,
                 "request body: record 1 at byte 44: sparse key 4 appears twice "
                 "(entries 0 and 2)");
    b.len = 0;
    put_sparse(&b, v, out, 3, 6);
    expect_error(&b, 6, 0,
                 "request body: record 0 at byte 0: sparse key 6 (entry 1) outside "
                 "shape [6]");
    b.len = 0;
    put_sparse(&b, v, ok, 3, 6);
    put_sparse(&b, v, ok, 3, 5);
    expect_error(&b, 6, 0, "record 1 at byte 44: 5 features, expected 6 (feature_dim)");
    b.len = 0;
    put_sparse(&b, v, ok, 3, 7);
    expect_error(&b, 6, 0, "record 0 at byte 0: 7 features, expected 6 (feature_dim)");
    b.len = 0;
    put_sparse(&b, v, ok, 3, 6);
    put_sparse(&b, bad, ok, 2, 6);
    expect_error(&b, 6, 0, "record 1 at byte 44: ");
    b.len = 0;
    put_sparse(&b, v, ok, 3, 6);
    put_sparse(&b, v, ok, 3, 6);
    b.len -= 5;
    expect_error(&b, 6, 0, "record 1 at byte 44: truncated");
    /* A dense record where the sparse body has the wrong width. */
    b.len = 0;
    put_sparse(&b, v, ok, 3, 6);
    put_dense(&b, v, 3);
    expect_error(&b, 6, 0, "record 1 at byte 44: 3 features, expected 6");
}

/* Allocation failure anywhere in a sparse decode is a clean SMG_ENOMEM. */
static void test_out_of_memory(void **state)
{
    static struct body b;
    const float v[3] = {1.0f, 2.0f, 3.0f};
    const uint64_t k[3] = {5, 0, 2};
    (void)state;

    const char *json = "[{\"data\": {\"features\": {\"keys\": [5, 0], \"values\": [1, 2]}}}, "
                       "{\"data\": {\"features\": {\"keys\": [2], \"values\": [3]}}}, "
                       "[1, 0, 0, 0, 0, 2], {\"features\": [0, 0, 0, 0, 0, 7]}]";

    b.len = 0;
    for (int i = 0; i < 4; i++)
        put_sparse(&b, v, k, 3, 6);
    for (long n = 0; n < 40; n++) {
        struct smg_infer_rows rows;
        struct smg_error err;
        int rc;

        smg_alloc_fail_after(n);
        rc = decode_rows(CT, b.data, b.len, 6, 0, &rows, &err);
        smg_alloc_reset();
        if (rc != SMG_OK && rc != SMG_ENOMEM)
            fail_msg("allocation %ld failing: %d %s", n, rc, err.msg);
        if (rc == SMG_OK)
            assert_int_equal(rows.n, 4);
        smg_infer_rows_free(&rows);
        smg_alloc_fail_after(n);
        rc = decode_rows("application/json", json, strlen(json), 6, 0, &rows, &err);
        smg_alloc_reset();
        if (rc != SMG_OK && rc != SMG_ENOMEM)
            fail_msg("allocation %ld failing: %d %s", n, rc, err.msg);
        if (rc == SMG_OK)
            assert_int_equal(rows.n, 4);
        else
            assert_true(rows.n == 0 && rows.x == NULL && rows.csr.indptr == NULL);
        smg_infer_rows_free(&rows);
    }
}

/* Sparse JSON and JSON lines (the documented {"data": {"features": {"keys": ...}}} form). */
static void test_json_sparse_is_csr(void **state)
{
    const char *json = "{\"instances\": [{\"data\": {\"features\": {\"keys\": [4, 1], "
                       "\"shape\": [6], \"values\": [2, 3]}}}, {\"data\": {\"features\": "
                       "{\"keys\": [], \"values\": []}}}, {\"features\": [0, 1.5, 0, 0, -4, 0]}]}";
    const char *lines = "{\"data\": {\"features\": {\"keys\": [4, 1], \"values\": [2, 3]}}}\n"
                        "\n[0, 1.5, 0, 0, -4, 0]\n";
    const uint32_t c0[2] = {1, 4}, c2[2] = {1, 4};
    const float s0[2] = {3.0f, 2.0f}, s2[2] = {1.5f, -4.0f};
    struct smg_infer_rows rows;
    struct smg_error err;
    (void)state;

    assert_int_equal(decode_rows("application/json", json, strlen(json), 6, 0, &rows, &err),
                     SMG_OK);
    assert_null(rows.x);
    assert_int_equal(rows.n, 3);
    expect_row(&rows, 0, c0, s0, 2);
    expect_row(&rows, 1, NULL, NULL, 0);
    expect_row(&rows, 2, c2, s2, 2);
    smg_infer_rows_free(&rows);
    assert_int_equal(decode_rows("application/jsonlines", lines, strlen(lines), 6, 0, &rows, &err),
                     SMG_OK);
    assert_null(rows.x);
    assert_int_equal(rows.n, 2);
    expect_row(&rows, 0, c0, s0, 2);
    expect_row(&rows, 1, c2, s2, 2);
    smg_infer_rows_free(&rows);
    /* A dense first instance: dense rows, as before, even with sparse ones after it. */
    json = "{\"instances\": [[1, 0], {\"data\": {\"features\": {\"keys\": [1], "
           "\"values\": [5]}}}]}";
    assert_int_equal(decode_rows("application/json", json, strlen(json), 2, 0, &rows, &err),
                     SMG_OK);
    assert_non_null(rows.x);
    assert_true(rows.n == 2 && rows.x[0] == 1.0f && rows.x[2] == 0.0f && rows.x[3] == 5.0f);
    smg_infer_rows_free(&rows);
}

static void expect_text_error(const char *ctype, const char *body, size_t d, size_t max_bytes,
                              const char *needle)
{
    struct smg_infer_rows rows;
    struct smg_error err;
    int rc = decode_rows(ctype, body, strlen(body), d, max_bytes, &rows, &err);

    assert_int_equal(rc, SMG_EFORMAT);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
    assert_true(rows.n == 0 && rows.x == NULL && rows.csr.indptr == NULL);
}

static void test_json_sparse_errors(void **state)
{
    const char *ct = "application/json", *jl = "application/jsonlines";
    (void)state;

    expect_text_error(ct,
                      "{\"instances\": [{\"data\": {\"features\": {\"keys\": [0], \"values\": "
                      "[1]}}}, {\"data\": {\"features\": {\"keys\": [4, 1, 4], \"values\": [1, "
                      "2, 3]}}}]}",
                      6, 0, "instance 1: key 4 appears twice (entries 0 and 2)");
    expect_text_error(ct,
                      "{\"instances\": [{\"data\": {\"features\": {\"keys\": [1, 6], "
                      "\"values\": [1, 2]}}}]}",
                      6, 0, "instance 0: key is not an integer in [0, 6) (feature_dim): entry 1");
    expect_text_error(ct,
                      "{\"instances\": [{\"data\": {\"features\": {\"keys\": [1], \"shape\": "
                      "[7], \"values\": [1]}}}]}",
                      6, 0, "instance 0: 'shape' describes 7 features, expected 6");
    expect_text_error(ct,
                      "{\"instances\": [{\"data\": {\"features\": {\"keys\": [1], \"values\": "
                      "[1]}}}, [1, 2]]}",
                      6, 0, "instance 1: 'row' has 2 values, expected 6");
    expect_text_error(jl,
                      "{\"data\": {\"features\": {\"keys\": [1], \"values\": [1]}}}\n"
                      "{\"data\": {\"features\": {\"keys\": [2, 2], \"values\": [1, 1]}}}\n",
                      6, 0, "line 2: key 2 appears twice (entries 0 and 1)");
    expect_text_error(jl, "{\"data\": {\"features\": {\"keys\": [1], \"values\": [1]}}}\n{oops\n",
                      6, 0, "line 2: not valid JSON");
    /* The cap: two rows of 2 values are 2 x 8 + 2 x 16 = 48 bytes. */
    expect_text_error(ct,
                      "{\"instances\": [{\"data\": {\"features\": {\"keys\": [0, 1], "
                      "\"values\": [1, 1]}}}, {\"data\": {\"features\": {\"keys\": [0, 1], "
                      "\"values\": [1, 1]}}}]}",
                      6, 47, "instance 1: the 2 sparse rows so far hold 4 stored values");
    /* The dense reading refuses the same key twice too (a dense first instance). */
    expect_text_error(ct,
                      "{\"instances\": [[0, 0, 0, 0, 0, 0], {\"data\": {\"features\": {\"keys\": "
                      "[3, 3], \"values\": [1, 2]}}}]}",
                      6, 0, "instance 1: key 3 appears twice (entries 0 and 1)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sparse_body_is_csr),
        cmocka_unit_test(test_sparse_bare_record),
        cmocka_unit_test(test_dense_bodies_stay_dense),
        cmocka_unit_test(test_cap_counts_stored_values),
        cmocka_unit_test(test_malformed_sparse_bodies),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_json_sparse_is_csr),
        cmocka_unit_test(test_json_sparse_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

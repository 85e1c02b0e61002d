/*
 * The feature-count probe behind `smalgo records` without --feature-dim: CSV,
 * wrapped CSV (multi-part too) and recordIO-protobuf (dense, sparse), and every
 * malformed first record, each failing with SMG_EFORMAT and a message that
 * says what was wrong and that --feature-dim is the way out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/record_encode.h"
#include "io/recordio.h"
#include "io/records_probe.h"

/* A memory file of recordIO records built up by put_rec. */
struct file {
    uint8_t p[4096];
    size_t len;
};

static void put_rec(struct file *f, unsigned cflag, const void *payload, size_t n)
{
    assert_true(f->len + 8 + n + 4 <= sizeof(f->p));
    smg_recordio_header(f->p + f->len, (uint32_t)n, cflag);
    memcpy(f->p + f->len + 8, payload, n);
    memset(f->p + f->len + 8 + n, 0, smg_recordio_pad(n));
    f->len += 8 + n + smg_recordio_pad(n);
}

static int probe(const void *data, size_t len, enum smg_row_kind ct, size_t label_size,
                 bool wrapped, size_t *dim, struct smg_error *err)
{
    struct smg_format fmt = {ct, 0, label_size, wrapped, 0};
    struct smg_stream *s;
    int rc;

    smg_error_clear(err);
    *dim = 0;
    assert_int_equal(smg_stream_open_memory(data, len, "part-0", &s, err), SMG_OK);
    rc = smg_records_probe_stream(s, &fmt, dim, err);
    smg_stream_free(s);
    return rc;
}

static void expect_pb_error(const void *data, size_t len, const char *want)
{
    struct smg_error err;
    size_t dim;

    assert_int_equal(probe(data, len, SMG_ROWS_RECORDIO_PROTOBUF, 0, false, &dim, &err),
                     SMG_EFORMAT);
    if (strstr(err.msg, want) == NULL || strstr(err.msg, "--feature-dim") == NULL)
        fail_msg("got '%s', want '%s' and --feature-dim", err.msg, want);
}

static void test_csv(void **state)
{
    static const char text[] = "9,1,2,3\n4,5,6,7\n";
    struct smg_error err;
    struct file f = {{0}, 0};
    size_t dim;
    (void)state;

    assert_int_equal(probe(text, strlen(text), SMG_ROWS_CSV, 1, false, &dim, &err), SMG_OK);
    assert_int_equal(dim, 3);
    put_rec(&f, 0, text, strlen(text));
    assert_int_equal(probe(f.p, f.len, SMG_ROWS_CSV, 0, true, &dim, &err), SMG_OK);
    assert_int_equal(dim, 4);
    /* a multi-part record is joined with the magic (0a 23 d7 ce: a newline first) put back */
    f.len = 0;
    put_rec(&f, SMG_RECORDIO_CFLAG_FIRST, "1,2,3", 5);
    put_rec(&f, SMG_RECORDIO_CFLAG_LAST, "4,5\n", 4);
    assert_int_equal(probe(f.p, f.len, SMG_ROWS_CSV, 0, true, &dim, &err), SMG_OK);
    assert_int_equal(dim, 3);
    assert_int_equal(probe(text, strlen(text), SMG_ROWS_CSV, 4, false, &dim, &err), SMG_EFORMAT);
    assert_string_equal(err.msg, "part-0: first line has 4 fields, not more than label_size 4");
    assert_int_equal(probe("", 0, SMG_ROWS_CSV, 0, false, &dim, &err), SMG_EFORMAT);
}

static void test_protobuf(void **state)
{
    static const float v[5] = {1, 2, 3, 4, 5};
    static const uint64_t keys[2] = {3, 90};
    struct smg_bytes b = {0};
    struct smg_error err;
    struct file f = {{0}, 0};
    size_t dim;
    (void)state;

    assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_FLOAT32, v, 5, NULL, &err), SMG_OK);
    put_rec(&f, 0, b.data, b.len);
    assert_int_equal(probe(f.p, f.len, SMG_ROWS_RECORDIO_PROTOBUF, 0, false, &dim, &err), SMG_OK);
    assert_int_equal(dim, 5);

    /* sparse: the shape counts, not the values */
    f.len = 0;
    assert_int_equal(smg_record_encode_sparse(&b, SMG_TENSOR_FLOAT32, v, keys, 2, 100, NULL, &err),
                     SMG_OK);
    put_rec(&f, 0, b.data, b.len);
    assert_int_equal(probe(f.p, f.len, SMG_ROWS_RECORDIO_PROTOBUF, 0, false, &dim, &err), SMG_OK);
    assert_int_equal(dim, 100);

    smg_bytes_free(&b);
}

static void test_malformed(void **state)
{
    static const uint8_t not_rio[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    static const uint8_t no_values[] = {0x0a, 0x09, 0x0a, 0x03, 'a', 'b',
                                        'c',  0x12, 0x02, 0x12, 0x00};
    static const uint8_t empty_tensor[] = {0x0a, 0x0c, 0x0a, 0x06, 'v',  'a',  'l',
                                           'u',  'e',  's',  0x12, 0x02, 0x12, 0x00};
    struct file f = {{0}, 0};
    uint8_t hdr[8];
    (void)state;

    expect_pb_error(NULL, 0, "part-0: no complete RecordIO record to infer the feature count");
    expect_pb_error(not_rio, sizeof(not_rio), "bad magic 0x04030201 (expected 0xced7230a)");
    expect_pb_error(not_rio, 5, "truncated header");
    smg_recordio_header(hdr, 100, 0);
    expect_pb_error(hdr, sizeof(hdr), "truncated payload");
    smg_recordio_header(hdr, SMG_RECORDIO_MAX_LENGTH, 0);
    expect_pb_error(hdr, sizeof(hdr), "exceeds the maximum");
    put_rec(&f, 0, junk, sizeof(junk));
    expect_pb_error(f.p, f.len, "record 0 at byte 0: not a valid protobuf Record");
    f.len = 0;
    put_rec(&f, 0, no_values, sizeof(no_values));
    expect_pb_error(f.p, f.len, "Record has no features[\"values\"] tensor");
    f.len = 0;
    put_rec(&f, 0, empty_tensor, sizeof(empty_tensor));
    expect_pb_error(f.p, f.len, "tensor has 0 columns; expected at least 1");
    f.len = 0;
    put_rec(&f, SMG_RECORDIO_CFLAG_FIRST, junk, sizeof(junk));
    expect_pb_error(f.p, f.len, "broken multi-part record");
}

static void test_probe_path(void **state)
{
    struct smg_format fmt = {SMG_ROWS_CSV, 0, 0, false, 0};
    struct smg_error err;
    size_t dim = 0;
    (void)state;

    smg_error_clear(&err);
    assert_int_not_equal(smg_records_probe_dim("/nonexistent/smalgo-probe", &fmt, &dim, &err),
                         SMG_OK);
    assert_non_null(strstr(err.msg, "/nonexistent/smalgo-probe"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_protobuf),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_probe_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

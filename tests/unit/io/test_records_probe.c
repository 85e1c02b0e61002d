/*
 * The feature-count probe behind `smalgo records` without --feature-dim: CSV,
 * wrapped CSV (multi-part too) and recordIO-protobuf (dense, sparse), and every
 * malformed first record, each failing with SMG_EFORMAT and a message that
 * says what was wrong and that --feature-dim is the way out.
 *
 * And smg_records_probe_first, the job's look at a file before training: empty
 * lines are no record (LF, CRLF, a CR split from its LF across reads, a last
 * line of one CR), the first non-empty line is parsed as the reader would, a
 * RecordIO file of no records or only empty CSV objects holds none, and sparse
 * is told from dense.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Write len bytes to a new temporary file, whose name goes to path. */
static void temp_file(char path[64], const void *data, size_t len)
{
    int fd;

    snprintf(path, 64, "/tmp/smg-probe-first-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static int first(const void *data, size_t len, enum smg_row_kind kind, size_t label_size,
                 bool wrapped, struct smg_records_first *out, struct smg_error *err)
{
    struct smg_format fmt = {kind, 0, label_size, wrapped, 0};
    char path[64];
    int rc;

    smg_error_clear(err);
    temp_file(path, data, len);
    rc = smg_records_probe_first(path, &fmt, out, err);
    unlink(path);
    return rc;
}

static void expect_csv_found(const char *text, size_t label_size, bool found, size_t dim)
{
    struct smg_records_first r;
    struct smg_error err;

    if (first(text, strlen(text), SMG_ROWS_CSV, label_size, false, &r, &err) != SMG_OK)
        fail_msg("'%s': %s", text, err.msg);
    assert_int_equal(r.found, found);
    assert_false(r.sparse);
    if (found)
        assert_int_equal(r.dim, dim);
}

static void expect_csv_error(const char *text, size_t len, const char *want)
{
    struct smg_records_first r;
    struct smg_error err;

    assert_int_equal(first(text, len, SMG_ROWS_CSV, 0, false, &r, &err), SMG_EFORMAT);
    if (strstr(err.msg, want) == NULL || strstr(err.msg, "/tmp/smg-probe-first-") == NULL)
        fail_msg("got '%s', want '%s' and the path", err.msg, want);
    assert_true(r.found);
}

static void test_first_csv(void **state)
{
    enum { CHUNK = 64 << 10 };
    char *big = malloc(CHUNK + 16);
    (void)state;

    expect_csv_found("", 0, false, 0);
    expect_csv_found("\n\r\n\n", 0, false, 0);
    expect_csv_found("\n\r", 0, false, 0); /* a last line of one CR is empty too */
    expect_csv_found("\n\n1,2,3\n", 0, true, 3);
    expect_csv_found("1,2", 0, true, 2);
    expect_csv_found("\r\nlabel,1.5, 2\r\n", 1, true, 2);
    expect_csv_error("\n x,1\n", 7, "line 2, column 1: not a number: \" x\"");
    expect_csv_error("\r\r\n", 3, "line 1");
    expect_csv_error("1,,2\n", 5, "line 1, column 2: empty field");

    /* Empty lines across the probe's 64 KiB reads: a CR at the end of one read, its LF next. */
    assert_non_null(big);
    memset(big, '\n', CHUNK + 16);
    big[CHUNK - 1] = '\r';
    {
        struct smg_records_first r;
        struct smg_error err;
        assert_int_equal(first(big, CHUNK + 16, SMG_ROWS_CSV, 0, false, &r, &err), SMG_OK);
        assert_false(r.found);
        char want[64];
        memcpy(big + CHUNK + 10, "x\n", 2);
        assert_int_equal(first(big, CHUNK + 16, SMG_ROWS_CSV, 0, false, &r, &err), SMG_EFORMAT);
        /* CHUNK - 1 LFs, one CRLF, 9 LFs: x is on line CHUNK + 10 */
        snprintf(want, sizeof(want), "line %d, column 1: not a number", CHUNK + 10);
        if (strstr(err.msg, want) == NULL)
            fail_msg("got '%s', want '%s'", err.msg, want);
    }
    free(big);
}

static void test_first_recordio(void **state)
{
    static const float v[5] = {1, 2, 3, 4, 5};
    static const uint64_t keys[2] = {3, 90};
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    struct smg_bytes b = {0};
    struct smg_records_first r;
    struct smg_error err;
    struct file f = {{0}, 0};
    (void)state;

    assert_int_equal(first("", 0, SMG_ROWS_RECORDIO_PROTOBUF, 0, false, &r, &err), SMG_OK);
    assert_false(r.found);
    assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_FLOAT32, v, 5, NULL, &err), SMG_OK);
    put_rec(&f, 0, b.data, b.len);
    assert_int_equal(first(f.p, f.len, SMG_ROWS_RECORDIO_PROTOBUF, 0, false, &r, &err), SMG_OK);
    assert_true(r.found && !r.sparse && r.dim == 5);
    f.len = 0;
    assert_int_equal(smg_record_encode_sparse(&b, SMG_TENSOR_FLOAT32, v, keys, 2, 100, NULL, &err),
                     SMG_OK);
    put_rec(&f, 0, b.data, b.len);
    assert_int_equal(first(f.p, f.len, SMG_ROWS_RECORDIO_PROTOBUF, 0, false, &r, &err), SMG_OK);
    assert_true(r.found && r.sparse && r.dim == 100);
    f.len = 0;
    put_rec(&f, 0, junk, sizeof(junk));
    assert_int_equal(first(f.p, f.len, SMG_ROWS_RECORDIO_PROTOBUF, 0, false, &r, &err),
                     SMG_EFORMAT);
    assert_non_null(strstr(err.msg, ": record 0 at byte 0: not a valid protobuf Record"));
    assert_int_equal(first(junk, sizeof(junk), SMG_ROWS_RECORDIO_PROTOBUF, 0, false, &r, &err),
                     SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "truncated header"));
    smg_bytes_free(&b);
}

static void test_first_wrapped_csv(void **state)
{
    struct smg_records_first r;
    struct smg_error err;
    struct file f = {{0}, 0};
    (void)state;

    put_rec(&f, 0, "", 0);
    put_rec(&f, 0, "\n\r\n", 3);
    assert_int_equal(first(f.p, f.len, SMG_ROWS_CSV, 0, true, &r, &err), SMG_OK);
    assert_false(r.found);
    put_rec(&f, 0, "\n7,8,9\n", 7);
    assert_int_equal(first(f.p, f.len, SMG_ROWS_CSV, 0, true, &r, &err), SMG_OK);
    assert_true(r.found && r.dim == 3);
    f.len = 0;
    put_rec(&f, 0, "\nx,8\n", 5);
    assert_int_equal(first(f.p, f.len, SMG_ROWS_CSV, 0, true, &r, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, ": record 0 at byte 0: line 2, column 1: not a number"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_protobuf),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_probe_path),
        cmocka_unit_test(test_first_csv),
        cmocka_unit_test(test_first_recordio),
        cmocka_unit_test(test_first_wrapped_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

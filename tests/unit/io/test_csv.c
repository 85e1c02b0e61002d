/*
 * CSV rows and content types: line endings, label_size, blank lines, every
 * malformed line with its message, lines across read boundaries, CSV inside
 * RecordIO records, and the fast float parser against (float)strtod.
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

#include "io/csv.h"
#include "io/recordio.h"
#include "rows_helpers.h"

static struct smg_format csv_format(size_t dim, size_t label_size)
{
    struct smg_format f = {SMG_ROWS_CSV, dim, label_size, false, 0};
    return f;
}

/* Decode text with every read size in a few; all must agree. */
static int decode_text(const char *text, const struct smg_format *fmt, float **rows, size_t *n,
                       struct smg_error *err)
{
    static const size_t steps[] = {1, 2, 7, 0};
    int rc0 = -1;
    char msg0[SMG_ERROR_MSG_MAX] = "";
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        int rc = decode_all(text, strlen(text), fmt, steps[i], rows, n, err);
        if (i == 0) {
            rc0 = rc;
            strcpy(msg0, err->msg);
        } else {
            assert_int_equal(rc, rc0);
            assert_string_equal(err->msg, msg0);
        }
        if (i + 1 < sizeof(steps) / sizeof(steps[0]))
            free(*rows);
    }
    return rc0;
}

static void expect_rows(const char *text, size_t dim, size_t label_size, const float *want,
                        size_t nwant)
{
    struct smg_format fmt = csv_format(dim, label_size);
    struct smg_error err;
    float *rows;
    size_t n;
    int rc = decode_text(text, &fmt, &rows, &n, &err);
    if (rc != SMG_OK)
        fail_msg("unexpected error: %s", err.msg);
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n * dim; i++)
        assert_true(rows[i] == want[i]);
    free(rows);
}

static void expect_error(const char *text, size_t dim, size_t label_size, const char *want)
{
    struct smg_format fmt = csv_format(dim, label_size);
    struct smg_error err;
    float *rows;
    size_t n;
    assert_int_equal(decode_text(text, &fmt, &rows, &n, &err), SMG_EFORMAT);
    free(rows);
    if (strcmp(err.msg, want) != 0)
        fail_msg("got \"%s\"\nwant \"%s\"", err.msg, want);
}

static void test_line_endings(void **state)
{
    const float want[] = {1, 2.5f, -3, 4e-3f, 0.5f, 6};
    (void)state;
    expect_rows("1,2.5\n-3,4e-3\n.5,6\n", 2, 0, want, 3);
    expect_rows("1,2.5\r\n-3,4e-3\r\n.5,6\r\n", 2, 0, want, 3);
    expect_rows("1,2.5\n-3,4e-3\n.5,6", 2, 0, want, 3);
    expect_rows("1,2.5\r\n-3,4e-3\r\n.5,6\r", 2, 0, want, 3);
    expect_rows("1, 2.5 \n\t-3 ,4E-03\n\n+0.5,6.0\n\n", 2, 0, want, 3);
    expect_rows("", 2, 0, want, 0);
    expect_rows("\n\r\n", 2, 0, want, 0);
}

static void test_label_size(void **state)
{
    const float want[] = {2.5f, 3, 5, 6};
    (void)state;
    expect_rows("1,2.5,3\n4,5,6\n", 2, 1, want, 2);
    expect_rows("x,y,2.5,3\n1,2,5,6\n", 2, 2, want, 2); /* labels are not parsed */
}

static void test_strtod_forms(void **state)
{
    (void)state;
    const float w2[] = {1e-40f, 100, 1.25f, 12345678.9f};
    expect_rows("1e-40,1E2,00001.2500,12345678.9\n", 4, 0, w2, 1);
    /* What strtod reads but SageMaker's reader (Python's float) does not (issue 13). */
    expect_error("1,0x10\n", 2, 0, "test.bin: line 1, column 2: not a number: \"0x10\"");
    expect_error("0x1p-1,1\n", 2, 0, "test.bin: line 1, column 1: not a number: \"0x1p-1\"");
    expect_error("1,-0X1.8P1\n", 2, 0, "test.bin: line 1, column 2: not a number: \"-0X1.8P1\"");
    expect_error("1,nan(123)\n", 2, 0, "test.bin: line 1, column 2: not a number: \"nan(123)\"");
    expect_error("1,infinit\n", 2, 0, "test.bin: line 1, column 2: not a number: \"infinit\"");
    expect_error("1,+INF\n", 2, 0, "test.bin: line 1, column 2: infinite feature");
    expect_error("1,NaN\n", 2, 0, "test.bin: line 1, column 2: NaN feature");
}

static void test_malformed(void **state)
{
    (void)state;
    expect_error("1,2\n3,4,5\n", 2, 0,
                 "test.bin: line 2: 3 columns, expected 2 (label_size 0 + feature_dim 2)");
    expect_error("1,2\n3\n", 2, 0,
                 "test.bin: line 2: 1 columns, expected 2 (label_size 0 + feature_dim 2)");
    expect_error("9,1,2\n\n3,4\n", 2, 1,
                 "test.bin: line 3: 2 columns, expected 3 (label_size 1 + feature_dim 2)");
    expect_error("1,2\n3,\n", 2, 0, "test.bin: line 2, column 2: empty field");
    expect_error("1,2\r\n ,4\r\n", 2, 0, "test.bin: line 2, column 1: empty field");
    expect_error("1,2\n3,abc\n", 2, 0, "test.bin: line 2, column 2: not a number: \"abc\"");
    expect_error("1,2\n3,4x\n", 2, 0, "test.bin: line 2, column 2: not a number: \"4x\"");
    expect_error("1,2\n\"3\",4\n", 2, 0, "test.bin: line 2, column 1: not a number: \"\"3\"\"");
    expect_error("1,1 2\n", 2, 0, "test.bin: line 1, column 2: not a number: \"1 2\"");
    expect_error("1,nan\n", 2, 0, "test.bin: line 1, column 2: NaN feature");
    expect_error("1,-Infinity\n", 2, 0, "test.bin: line 1, column 2: infinite feature");
    expect_error("1e39,1\n", 2, 0, "test.bin: line 1, column 1: 1e+39 is out of float32 range");
    expect_error("1,1e999\n", 2, 0, "test.bin: line 1, column 2: infinite feature");
}

static void test_long_lines(void **state)
{
    size_t dim = 70000, len = 0;
    char *text = malloc(dim * 8 * 2 + 10);
    float *want = malloc(2 * dim * sizeof(float));
    (void)state;
    for (size_t r = 0; r < 2; r++)
        for (size_t i = 0; i < dim; i++) {
            len += (size_t)snprintf(text + len, 16, "%zu%c", (i * 7 + r) % 1000,
                                    i + 1 == dim ? '\n' : ',');
            want[r * dim + i] = (float)((i * 7 + r) % 1000);
        }
    struct smg_format fmt = csv_format(dim, 0);
    struct smg_error err;
    float *rows;
    size_t n;
    assert_int_equal(decode_all(text, len, &fmt, 0, &rows, &n, &err), SMG_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(rows, want, 2 * dim * sizeof(float));
    free(rows);
    fmt.max_record_bytes = 100000;
    assert_int_equal(decode_all(text, len, &fmt, 0, &rows, &n, &err), SMG_EFORMAT);
    assert_string_equal(err.msg, "test.bin: line 1 is longer than the maximum of 100000 bytes");
    free(rows);
    free(text);
    free(want);
}

static void test_recordio_wrapped(void **state)
{
    const char *objs[] = {"1,2\n3,4\n", "5,6", "", "7,8\n9,x\n"};
    unsigned char file[256];
    size_t len = 0, n;
    uint8_t hdr[8];
    struct smg_format fmt = csv_format(2, 0);
    struct smg_error err;
    float *rows;
    (void)state;
    fmt.recordio_wrapped = true;
    for (int i = 0; i < 4; i++) {
        size_t l = strlen(objs[i]);
        smg_recordio_header(hdr, (uint32_t)l, 0);
        memcpy(file + len, hdr, 8);
        memcpy(file + len + 8, objs[i], l);
        memset(file + len + 8 + l, 0, 3);
        len += 8 + l + smg_recordio_pad(l);
    }
    /* the first three objects alone end cleanly */
    assert_int_equal(decode_all(file, 36, &fmt, 0, &rows, &n, &err), SMG_OK);
    assert_int_equal(n, 3);
    free(rows);
    assert_int_equal(decode_all(file, 36, &fmt, 1, &rows, &n, &err), SMG_OK);
    assert_int_equal(n, 3);
    free(rows);
    assert_int_equal(decode_all(file, len, &fmt, 0, &rows, &n, &err), SMG_EFORMAT);
    assert_int_equal(n, 4);
    for (size_t i = 0; i < 8; i++)
        assert_true(rows[i] == (float)(i + 1));
    assert_string_equal(err.msg,
                        "test.bin: record 3 at byte 36: line 2, column 2: not a number: \"x\"");
    free(rows);
}

/* The fast parser must give exactly (float)strtod on every form. */
static void check_float(const char *s)
{
    float got;
    char *end;
    double d = strtod(s, &end);
    bool ok = smg_csv_parse_float(s, s + strlen(s), &got);
    bool hex = strpbrk(s, "xX(") != NULL; /* strtod's extras, refused (see test_strtod_forms) */
    if (*end != '\0' || end == s || hex) {
        assert_false(ok);
        return;
    }
    assert_true(ok);
    float want = (float)d;
    if (isnan(want)) {
        assert_true(isnan(got));
        return;
    }
    if (memcmp(&got, &want, sizeof(float)) != 0)
        fail_msg("%s: got %.9g want %.9g", s, got, want);
}

static void test_float_exactness(void **state)
{
    static const char *fixed[] = {"0",
                                  "-0",
                                  "+0.0",
                                  "1",
                                  "-1.5",
                                  "3.4028235e38",
                                  "3.4028236e38",
                                  "1.17549435e-38",
                                  "1e-45",
                                  "1e-46",
                                  "0.1",
                                  "0.30000000000000004",
                                  "9007199254740993",
                                  "9007199254740992",
                                  "123456789012345678901234567890",
                                  "1e22",
                                  "1e23",
                                  "4.9e-324",
                                  ".5",
                                  "5.",
                                  "-.5e-3",
                                  "1e",
                                  "1e+",
                                  "e5",
                                  ".",
                                  "-",
                                  "0x1.8p1",
                                  "inf",
                                  "nan",
                                  "1.000000059604644775390625",
                                  "1.00000005960464477539062499",
                                  "0.000000000000000000000000000001",
                                  "00000000000000000000000000001.5",
                                  "1.5e0000000000001"};
    char buf[64];
    uint64_t x = 88172645463325252ull;
    (void)state;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        check_float(fixed[i]);
    for (int i = 0; i < 300000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double mant = (double)(x >> 11) / 9007199254740992.0;
        int e = (int)((x >> 3) % 60) - 30;
        double v = (x & 1 ? -mant : mant) * pow(10, e);
        int digits = 1 + (int)((x >> 20) % 19);
        switch ((x >> 40) % 4) {
        case 0: snprintf(buf, sizeof(buf), "%.*g", digits, v); break;
        case 1: snprintf(buf, sizeof(buf), "%.*e", digits, v); break;
        case 2: snprintf(buf, sizeof(buf), "%.*f", digits % 12, v); break;
        default: snprintf(buf, sizeof(buf), "%.*g", digits, (double)(float)v); break;
        }
        check_float(buf);
    }
}

static void test_content_types(void **state)
{
    struct smg_format f;
    struct smg_error err;
    (void)state;
    memset(&f, 0, sizeof(f));
    f.label_size = 9;
    assert_int_equal(smg_format_parse_content_type("text/csv;label_size=0", &f, &err), 0);
    assert_int_equal(f.rows, SMG_ROWS_CSV);
    assert_int_equal(f.label_size, 0);
    assert_int_equal(smg_format_parse_content_type(" Text/CSV ; Label_Size = 2 ", &f, &err), 0);
    assert_int_equal(f.rows, SMG_ROWS_CSV);
    assert_int_equal(f.label_size, 2);
    assert_int_equal(smg_format_parse_content_type("text/csv", &f, &err), 0);
    assert_int_equal(f.label_size, 0);
    assert_int_equal(smg_format_parse_content_type("text/csv; charset=utf-8", &f, &err), 0);
    assert_int_equal(smg_format_parse_content_type("application/x-recordio-protobuf", &f, &err), 0);
    assert_int_equal(f.rows, SMG_ROWS_RECORDIO_PROTOBUF);
    f.rows = SMG_ROWS_CSV;
    assert_int_equal(smg_format_parse_content_type("APPLICATION/X-RECORDIO-PROTOBUF ", &f, &err),
                     0);
    assert_int_equal(f.rows, SMG_ROWS_RECORDIO_PROTOBUF);
    f.rows = SMG_ROWS_CSV;
    assert_int_equal(smg_format_parse_content_type(NULL, &f, &err), 0);
    assert_int_equal(f.rows, SMG_ROWS_RECORDIO_PROTOBUF);
    f.rows = SMG_ROWS_CSV;
    assert_int_equal(smg_format_parse_content_type("", &f, &err), 0);
    assert_int_equal(f.rows, SMG_ROWS_RECORDIO_PROTOBUF);

    smg_error_clear(&err);
    assert_int_equal(smg_format_parse_content_type("application/json", &f, &err), SMG_ECONFIG);
    assert_string_equal(err.msg, "unsupported content type 'application/json'; supported: "
                                 "application/x-recordio-protobuf, text/csv (optionally "
                                 "text/csv;label_size=N)");
    smg_error_clear(&err);
    assert_int_equal(smg_format_parse_content_type("text/csv;label_size=-1", &f, &err),
                     SMG_ECONFIG);
    assert_string_equal(err.msg, "invalid label_size in content type 'text/csv;label_size=-1': "
                                 "expected a number of label columns such as "
                                 "text/csv;label_size=0");
    smg_error_clear(&err);
    assert_int_equal(
        smg_format_parse_content_type("text/csv;label_size=99999999999999999999", &f, &err),
        SMG_ECONFIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_endings),    cmocka_unit_test(test_label_size),
        cmocka_unit_test(test_strtod_forms),    cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_long_lines),      cmocka_unit_test(test_recordio_wrapped),
        cmocka_unit_test(test_float_exactness), cmocka_unit_test(test_content_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

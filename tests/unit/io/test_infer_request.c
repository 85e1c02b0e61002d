/*
 * Tests for io/infer_request (request bodies) and io/infer_response (response
 * bodies) of `smalgo serve`.
 *
 * - Content-Type and Accept parsing: every supported type, parameters,
 *   case, and each unsupported or malformed header with its own message.
 * - Every request format decodes to the expected dense rows: CSV (with and
 *   without label_size, CRLF, blank lines), JSON dense and sparse in both
 *   documented forms, JSON lines, recordIO-protobuf dense and sparse (the byte
 *   examples of the reference spec, section 5.4).
 * - Every malformed body is SMG_EFORMAT with a message naming what was wrong.
 * - Responses: exact JSON, JSON lines and CSV text for k-means and PCA
 *   results, and recordIO-protobuf responses decoded back with the generated
 *   protobuf-c code (label map, Float32Tensor values, padding).
 * Values are compared exactly: every input here is exactly representable in
 * float32, and decoding must not change it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/codec.h"
#include "io/infer_request.h"
#include "io/infer_response.h"
#include "record.pb-c.h"

/* ---- helpers ----------------------------------------------------------- */

static int decode(const char *ctype, const void *body, size_t len, size_t d, size_t max_rows,
                  float **x, size_t *n, struct smg_error *err)
{
    struct smg_infer_format fmt;
    int rc;

    smg_error_clear(err);
    rc = smg_infer_format_parse(ctype, &fmt, err);
    if (rc != SMG_OK)
        return rc;
    return smg_infer_request_decode(body, len, &fmt, d, max_rows, x, n, err);
}

static void expect_rows(const char *ctype, const void *body, size_t len, size_t d,
                        const float *want, size_t want_rows)
{
    struct smg_error err;
    float *x = NULL;
    size_t n = 0;
    int rc = decode(ctype, body, len, d, 0, &x, &n, &err);

    if (rc != SMG_OK)
        fail_msg("%s: unexpected error: %s", ctype, err.msg);
    assert_int_equal(n, want_rows);
    for (size_t i = 0; i < n * d; i++)
        if (x[i] != want[i])
            fail_msg("%s: value %zu is %.9g, expected %.9g", ctype, i, (double)x[i],
                     (double)want[i]);
    smg_free(x);
}

static void expect_text_rows(const char *ctype, const char *body, size_t d, const float *want,
                             size_t want_rows)
{
    expect_rows(ctype, body, strlen(body), d, want, want_rows);
}

/* The body must fail with status and a message containing `needle`. */
static void expect_error(const char *ctype, const void *body, size_t len, size_t d, int status,
                         const char *needle)
{
    struct smg_error err;
    float *x = NULL;
    size_t n = 0;
    int rc = decode(ctype, body, len, d, 0, &x, &n, &err);

    if (rc == SMG_OK)
        fail_msg("%s body %.60s: decoded %zu rows, expected an error with '%s'", ctype,
                 (const char *)body, n, needle);
    assert_int_equal(rc, status);
    assert_null(x);
    if (strstr(err.msg, needle) == NULL)
        fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void expect_text_error(const char *ctype, const char *body, size_t d, const char *needle)
{
    expect_error(ctype, body, strlen(body), d, SMG_EFORMAT, needle);
}

/* ---- Content-Type and Accept ------------------------------------------ */

static void test_content_type(void **state)
{
    struct smg_infer_format f;
    struct smg_error err;
    (void)state;

    smg_error_clear(&err);
    assert_int_equal(smg_infer_format_parse("text/csv", &f, &err), SMG_OK);
    assert_ptr_equal(f.codec, &smg_codec_csv);
    assert_int_equal(f.label_size, 0);
    assert_int_equal(smg_infer_format_parse("Text/CSV; label_size=2", &f, &err), SMG_OK);
    assert_ptr_equal(f.codec, &smg_codec_csv);
    assert_int_equal(f.label_size, 2);
    assert_int_equal(smg_infer_format_parse("text/csv;charset=utf-8;label_size=1", &f, &err),
                     SMG_OK);
    assert_int_equal(f.label_size, 1);
    assert_int_equal(smg_infer_format_parse("application/json; charset=utf-8", &f, &err), SMG_OK);
    assert_ptr_equal(f.codec, &smg_codec_json);
    assert_int_equal(smg_infer_format_parse("application/jsonlines", &f, &err), SMG_OK);
    assert_ptr_equal(f.codec, &smg_codec_jsonlines);
    assert_int_equal(smg_infer_format_parse(" application/x-recordio-protobuf ", &f, &err), SMG_OK);
    assert_ptr_equal(f.codec, &smg_codec_recordio);

    assert_int_equal(smg_infer_format_parse("image/png", &f, &err), SMG_ECONFIG);
    assert_non_null(strstr(err.msg, "unsupported Content-Type 'image/png'"));
    smg_error_clear(&err);
    assert_int_equal(smg_infer_format_parse(NULL, &f, &err), SMG_ECONFIG);
    assert_non_null(strstr(err.msg, "missing Content-Type"));
    smg_error_clear(&err);
    assert_int_equal(smg_infer_format_parse("text/csv; label_size=-1", &f, &err), SMG_ECONFIG);
    assert_non_null(strstr(err.msg, "label_size='-1'"));
}

static void test_accept(void **state)
{
    const struct smg_codec *a;
    struct smg_error err;
    (void)state;

    smg_error_clear(&err);
    assert_int_equal(smg_infer_accept_parse(NULL, &a, &err), SMG_OK);
    assert_ptr_equal(a, &smg_codec_json);
    assert_int_equal(smg_infer_accept_parse("", &a, &err), SMG_OK);
    assert_ptr_equal(a, &smg_codec_json);
    assert_int_equal(smg_infer_accept_parse("*/*", &a, &err), SMG_OK);
    assert_ptr_equal(a, &smg_codec_json);
    assert_int_equal(smg_infer_accept_parse("application/x-recordio-protobuf", &a, &err), SMG_OK);
    assert_ptr_equal(a, &smg_codec_recordio);
    assert_int_equal(smg_infer_accept_parse("application/JSONLINES", &a, &err), SMG_OK);
    assert_ptr_equal(a, &smg_codec_jsonlines);
    assert_int_equal(smg_infer_accept_parse("text/html, text/csv;q=0.9", &a, &err), SMG_OK);
    assert_ptr_equal(a, &smg_codec_csv);
    assert_string_equal(a->mime, "text/csv");
    /* an alias answers with its canonical Content-Type */
    assert_int_equal(smg_infer_accept_parse("application/x-jsonlines", &a, &err), SMG_OK);
    assert_string_equal(a->mime, "application/jsonlines");
    assert_int_equal(smg_infer_accept_parse("application/*", &a, &err), SMG_OK);
    assert_string_equal(a->mime, "application/json");
    assert_int_equal(smg_infer_accept_parse("text/html", &a, &err), SMG_ECONFIG);
    assert_non_null(strstr(err.msg, "unsupported Accept 'text/html'"));
}

/* ---- CSV ---------------------------------------------------------------- */

static void test_csv(void **state)
{
    static const float rows[] = {1.5f, 16.0f, 14.0f, -2.25f, 0.0f, 3e-3f};
    static const float one[] = {7.0f, 8.0f};
    (void)state;

    expect_text_rows("text/csv", "1.5,16.0,14\n-2.25,0,3e-3\n", 3, rows, 2);
    expect_text_rows("text/csv", "1.5,16.0,14\r\n\r\n-2.25,0,3e-3", 3, rows, 2);
    expect_text_rows("text/csv; label_size=1", "9,1.5,16.0,14\n9,-2.25,0,3e-3\n", 3, rows, 2);
    expect_text_rows("text/csv", "7,8", 2, one, 1);
}

static void test_csv_errors(void **state)
{
    (void)state;
    expect_text_error("text/csv", "1,2\n3,4\n", 3, "line 1: 2 columns, expected 3");
    expect_text_error("text/csv", "1,2,3\n3,4\n", 3, "line 2: 2 columns, expected 3");
    expect_text_error("text/csv", "1,x,3\n", 3, "line 1, column 2: not a number");
    expect_text_error("text/csv", "1,,3\n", 3, "line 1, column 2: empty field");
    expect_text_error("text/csv", "1,nan,3\n", 3, "line 1, column 2: NaN");
    expect_text_error("text/csv", "\n\n\n", 3, "no rows");
    expect_error("text/csv", "", 0, 3, SMG_EFORMAT, "empty");
    expect_text_error("text/csv; label_size=2", "1,2,3\n", 3, "3 columns, expected 5");
}

/* ---- JSON ----------------------------------------------------------------- */

static void test_json(void **state)
{
    static const float rows[] = {1.5f, 16.0f, 14.0f, 23.0f, 0.0f, 1.0f, 0.0f, 4.0f};
    (void)state;

    expect_text_rows("application/json",
                     "{\"instances\": [{\"features\": [1.5, 16.0, 14.0, 23.0]},"
                     " {\"features\": [0, 1, 0, 4]}]}",
                     4, rows, 2);
    expect_text_rows("application/json",
                     "{\"instances\": [{\"data\": {\"features\": {\"values\": [1.5, 16, 14, 23]}}},"
                     " {\"data\": {\"features\": {\"keys\": [1, 3], \"shape\": [4],"
                     " \"values\": [1, 4]}}}]}",
                     4, rows, 2);
    /* Sparse without shape, keys unordered; dense values with a matching shape. */
    expect_text_rows("application/json",
                     "{\"instances\": [{\"data\": {\"features\": {\"values\": [1.5,16,14,23],"
                     " \"shape\": [1, 4]}}}, {\"data\": {\"features\": {\"keys\": [3, 1],"
                     " \"values\": [4, 1]}}}]}",
                     4, rows, 2);
    /* Bare rows, as the SDK's JSONSerializer writes numpy arrays. */
    expect_text_rows("application/json", "[[1.5, 16, 14, 23], [0, 1, 0, 4]]", 4, rows, 2);
    expect_text_rows("application/json", "[1.5, 16, 14, 23]", 4, rows, 1);
    /* Other fields (configuration, label) are ignored. */
    expect_text_rows("application/json",
                     "{\"instances\": [{\"configuration\": {}, \"features\": [1.5,16,14,23],"
                     " \"label\": 3}, {\"features\": [0,1,0,4]}], \"extra\": true}",
                     4, rows, 2);
}

static void test_json_errors(void **state)
{
    const char *ct = "application/json";
    (void)state;

    expect_text_error(ct, "{\"instances\": [{\"features\": [1, 2, 3]}", 3, "not valid JSON");
    expect_text_error(ct, "\"text\"", 3, "'instances' array");
    expect_text_error(ct, "[1, 2]", 3, "instance 0: 'row' has 2 values, expected 3");
    expect_text_error(ct, "[[1, 2, 3], [1, 2]]", 3, "instance 1: 'row' has 2 values, expected 3");
    expect_text_error(ct, "[]", 3, "is empty");
    expect_text_error(ct, "{\"instances\": {}}", 3, "'instances' array");
    expect_text_error(ct, "{\"instances\": []}", 3, "'instances' is empty");
    expect_text_error(ct, "{\"instances\": [{\"features\": [1, 2]}]}", 3,
                      "instance 0: 'features' has 2 values, expected 3");
    expect_text_error(ct, "{\"instances\": [{\"features\": [1,2,3]}, {\"features\": [1,2,3,4]}]}",
                      3, "instance 1: 'features' has 4 values, expected 3");
    expect_text_error(ct, "{\"instances\": [{\"features\": [1, \"2\", 3]}]}", 3,
                      "'features' value 1 is not a finite float32 number");
    expect_text_error(ct, "{\"instances\": [{\"features\": [1, 1e999, 3]}]}", 3,
                      "value 1 is not a finite float32 number");
    expect_text_error(ct, "{\"instances\": [{\"features\": [1, 1e39, 3]}]}", 3,
                      "value 1 is not a finite float32 number");
    expect_text_error(ct, "{\"instances\": [{\"features\": 5}]}", 3, "'features' is not an array");
    expect_text_error(ct, "{\"instances\": [3]}", 3, "instance 0: not a JSON object or array");
    expect_text_error(ct, "{\"instances\": [{\"x\": 1}]}", 3, "neither 'features' nor 'data'");
    expect_text_error(ct, "{\"instances\": [{\"data\": 1}]}", 3, "'data' is not an object");
    expect_text_error(ct, "{\"instances\": [{\"data\": {}}]}", 3, "'data' has no 'features'");
    expect_text_error(ct, "{\"instances\": [{\"data\": {\"features\": []}}]}", 3,
                      "'data.features' is not an object");
    expect_text_error(ct, "{\"instances\": [{\"data\": {\"features\": {\"keys\": [1]}}}]}", 3,
                      "has no 'values'");
    expect_text_error(ct,
                      "{\"instances\": [{\"data\": {\"features\": {\"keys\": [1, 2],"
                      " \"values\": [1]}}}]}",
                      3, "2 keys but 1 values");
    expect_text_error(ct,
                      "{\"instances\": [{\"data\": {\"features\": {\"keys\": [3],"
                      " \"values\": [1]}}}]}",
                      3, "key is not an integer in [0, 3)");
    expect_text_error(ct,
                      "{\"instances\": [{\"data\": {\"features\": {\"keys\": [-1],"
                      " \"values\": [1]}}}]}",
                      3, "key is not an integer");
    expect_text_error(ct,
                      "{\"instances\": [{\"data\": {\"features\": {\"keys\": [1.5],"
                      " \"values\": [1]}}}]}",
                      3, "key is not an integer");
    expect_text_error(
        ct,
        "{\"instances\": [{\"data\": {\"features\": {\"keys\": [1], \"shape\": [2000],"
        " \"values\": [1]}}}]}",
        3, "'shape' describes 2000 features, expected 3");
    expect_text_error(ct,
                      "{\"instances\": [{\"data\": {\"features\": {\"shape\": [0],"
                      " \"values\": [1]}}}]}",
                      3, "positive integer");
    expect_text_error(ct,
                      "{\"instances\": [{\"data\": {\"features\": {\"keys\": [0],"
                      " \"values\": [true]}}}]}",
                      3, "value for key 0 is not a finite float32 number");
    expect_text_error(ct, "{\"instances\": [{\"data\": {\"features\": {\"values\": [1, 2]}}}]}", 3,
                      "'values' has 2 values, expected 3");
    /* The one-instance-at-a-time walk (codec_json_stream.c): malformed anywhere is found. */
    expect_text_error(ct, "{\"instances\": [[1, 2, 3],]}", 3, "not valid JSON (error at byte 25)");
    expect_text_error(ct, "{\"instances\": [[1, 2, 3] [1, 2, 3]]}", 3,
                      "not valid JSON (error at byte 25)");
    expect_text_error(ct, "{\"instances\" [[1, 2, 3]]}", 3, "not valid JSON (error at byte 13)");
    expect_text_error(ct, "{\"instances\": [[1, 2, 3]], \"x\": [1,}", 3, "not valid JSON");
    expect_text_error(ct, "{\"instances\": [[1, 2, 3]] \"x\": 1}", 3, "not valid JSON");
    expect_text_error(ct, "{7: [[1, 2, 3]]}", 3, "not valid JSON");
    expect_text_error(ct, "{\"instances\": [[1, 2, 3]", 3, "not valid JSON");
    expect_text_error(ct, "{\"other\": [[1, 2, 3]]}", 3, "'instances' array");
    expect_text_error(ct, "[[1, 2, 3], [1, 2, \"x\"]]", 3, "instance 1:");
    expect_text_error(ct, "   ", 3, "not valid JSON");
}

static void test_json_row_limit(void **state)
{
    struct smg_error err;
    float *x = NULL;
    size_t n;
    const char *body = "{\"instances\": [{\"features\": [1]}, {\"features\": [2]},"
                       " {\"features\": [3]}]}";
    const char *csv = "1\n2\n3\n";
    (void)state;

    assert_int_equal(decode("application/json", body, strlen(body), 1, 2, &x, &n, &err),
                     SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "3 instances, more than the 2"));
    assert_int_equal(decode("text/csv", csv, strlen(csv), 1, 2, &x, &n, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "more than 2 rows"));
    assert_int_equal(decode("text/csv", csv, strlen(csv), 1, 3, &x, &n, &err), SMG_OK);
    assert_int_equal(n, 3);
    smg_free(x);
}

/* ---- JSON lines --------------------------------------------------------- */

static void test_jsonlines(void **state)
{
    static const float rows[] = {1.5f, 16.0f, 14.0f, 0.0f, 2.0f, 0.0f, 5.0f, 6.0f, 7.0f};
    (void)state;

    expect_text_rows(
        "application/jsonlines",
        "{\"features\": [1.5, 16.0, 14.0]}\n"
        "\n"
        "{\"data\": {\"features\": {\"keys\": [1], \"shape\": [3], \"values\": [2]}}}\r\n"
        "{\"data\": {\"features\": {\"values\": [5, 6, 7]}}}",
        3, rows, 3);
}

static void test_jsonlines_errors(void **state)
{
    const char *ct = "application/jsonlines";
    (void)state;

    expect_text_error(ct, "{\"features\": [1, 2, 3]}\n{\"features\": [1, 2]}\n", 3,
                      "line 2: 'features' has 2 values, expected 3");
    expect_text_error(ct, "{\"features\": [1, 2, 3]}\n{\"features\": [1, 2, 3]\n", 3,
                      "line 2: not valid JSON");
    expect_text_error(ct, "{\"features\": [1, 2, 3]} {\"features\": [1, 2, 3]}\n", 3,
                      "line 1: unexpected text after the JSON object");
    expect_text_error(ct, "\n  \n", 3, "no JSON lines");
    expect_text_error(ct, "{\"features\": [1, 2, 3]}\n7\n", 3, "line 2: not a JSON object");
}

/* ---- recordIO-protobuf -------------------------------------------------- */

/* Reference spec 5.4: dense [1.0, 2.0] and sparse keys [1,3] values [1,2] shape [4]. */
static const unsigned char rio_dense[] = {
    0x0a, 0x23, 0xd7, 0xce, 0x18, 0x00, 0x00, 0x00, 0x0a, 0x16, 0x0a, 0x06, 0x76, 0x61, 0x6c, 0x75,
    0x65, 0x73, 0x12, 0x0c, 0x12, 0x0a, 0x0a, 0x08, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0x40};
static const unsigned char rio_sparse[] = {
    0x0a, 0x23, 0xd7, 0xce, 0x1f, 0x00, 0x00, 0x00, 0x0a, 0x1d, 0x0a, 0x06, 0x76, 0x61,
    0x6c, 0x75, 0x65, 0x73, 0x12, 0x13, 0x12, 0x11, 0x0a, 0x08, 0x00, 0x00, 0x80, 0x3f,
    0x00, 0x00, 0x00, 0x40, 0x12, 0x02, 0x01, 0x03, 0x1a, 0x01, 0x04, 0x00};

static void test_recordio(void **state)
{
    static const float dense[] = {1.0f, 2.0f, 1.0f, 2.0f};
    static const float sparse[] = {0.0f, 1.0f, 0.0f, 2.0f};
    unsigned char two[sizeof(rio_dense) * 2];
    (void)state;

    expect_rows("application/x-recordio-protobuf", rio_dense, sizeof(rio_dense), 2, dense, 1);
    memcpy(two, rio_dense, sizeof(rio_dense));
    memcpy(two + sizeof(rio_dense), rio_dense, sizeof(rio_dense));
    expect_rows("application/x-recordio-protobuf", two, sizeof(two), 2, dense, 2);
    expect_rows("application/x-recordio-protobuf", rio_sparse, sizeof(rio_sparse), 4, sparse, 1);
}

static void test_recordio_errors(void **state)
{
    const char *ct = "application/x-recordio-protobuf";
    unsigned char bad[sizeof(rio_dense)];
    (void)state;

    /* Truncated, wrong feature count, bad magic, text where records belong. */
    expect_error(ct, rio_dense, sizeof(rio_dense) - 3, 2, SMG_EFORMAT,
                 "request body: record 0 at byte 0: truncated");
    expect_error(ct, rio_dense, sizeof(rio_dense), 3, SMG_EFORMAT,
                 "record 0 at byte 0: 2 features, expected 3");
    memcpy(bad, rio_dense, sizeof(bad));
    bad[0] = 0x0b;
    expect_error(ct, bad, sizeof(bad), 2, SMG_EFORMAT,
                 "request body is neither recordIO (no magic 0xced7230a at byte 0) nor one bare "
                 "protobuf Record (");
    expect_error(ct, "1,2\n", 4, 2, SMG_EFORMAT, "neither recordIO");
    expect_error(ct, "1,2", 3, 2, SMG_EFORMAT, "truncated header");
    expect_error(ct, rio_sparse, sizeof(rio_sparse), 3, SMG_EFORMAT, "record 0");
}

/*
 * One Record without its recordIO header, as the SageMaker SDK's local-mode
 * Batch Transform sends with SplitType=RecordIO: decoded like the framed one;
 * a bad one names both readings.
 */
static void test_recordio_bare_record(void **state)
{
    static const float dense[] = {1.0f, 2.0f};
    static const float sparse[] = {0.0f, 1.0f, 0.0f, 2.0f};
    const char *ct = "application/x-recordio-protobuf";
    const size_t dense_len = 0x18, sparse_len = 0x1f; /* from the headers */
    (void)state;

    expect_rows(ct, rio_dense + 8, dense_len, 2, dense, 1);
    expect_rows(ct, rio_sparse + 8, sparse_len, 4, sparse, 1);
    expect_error(ct, rio_dense + 8, dense_len, 3, SMG_EFORMAT, "2 features, expected 3");
    expect_error(ct, rio_dense + 8, dense_len - 5, 2, SMG_EFORMAT,
                 "nor one bare protobuf Record (");
}

/* ---- responses -------------------------------------------------------------- */

static void encode(const struct smg_codec *a, const struct smg_infer_result *r, struct smg_buf *b)
{
    struct smg_error err;

    smg_error_clear(&err);
    smg_buf_reset(b);
    if (smg_infer_response_encode(a, r, b, &err) != SMG_OK)
        fail_msg("encode: %s", err.msg);
}

static void assert_body(const struct smg_buf *b, const char *want)
{
    if (b->len != strlen(want) || memcmp(b->data, want, b->len) != 0)
        fail_msg("got '%.*s'\nwant '%s'", (int)b->len, b->data, want);
}

static void test_response_kmeans(void **state)
{
    static const float cluster[] = {2.0f, 0.0f};
    static const float dist[] = {0.23653684556484222f, 3.0f};
    struct smg_infer_field f[2] = {{"closest_cluster", cluster, 1, true},
                                   {"distance_to_cluster", dist, 1, true}};
    struct smg_infer_result r = {"predictions", 2, 2, f};
    struct smg_buf b;
    (void)state;

    smg_buf_init(&b, SIZE_MAX);

    encode(&smg_codec_json, &r, &b);
    assert_body(&b, "{\"predictions\": [{\"closest_cluster\": 2.0, \"distance_to_cluster\": "
                    "0.23653684556484222}, {\"closest_cluster\": 0.0, "
                    "\"distance_to_cluster\": 3.0}]}");
    encode(&smg_codec_jsonlines, &r, &b);
    assert_body(&b, "{\"closest_cluster\": 2.0, \"distance_to_cluster\": 0.23653684556484222}\n"
                    "{\"closest_cluster\": 0.0, \"distance_to_cluster\": 3.0}\n");
    encode(&smg_codec_csv, &r, &b);
    assert_body(&b, "2.0,0.23653684556484222\n0.0,3.0\n");
    smg_buf_free(&b);
}

static void test_response_pca(void **state)
{
    static const float proj[] = {1.0f, -0.5f, 1e-20f, 6.0f, 7.0f, 8.0f};
    struct smg_infer_field f = {"projection", proj, 3, false};
    struct smg_infer_result r = {"projections", 2, 1, &f};
    struct smg_buf b;
    (void)state;

    smg_buf_init(&b, SIZE_MAX);

    encode(&smg_codec_json, &r, &b);
    assert_body(&b, "{\"projections\": [{\"projection\": [1.0, -0.5, 9.9999996826552254e-21]}, "
                    "{\"projection\": [6.0, 7.0, 8.0]}]}");
    encode(&smg_codec_jsonlines, &r, &b);
    assert_body(&b, "{\"projection\": [1.0, -0.5, 9.9999996826552254e-21]}\n"
                    "{\"projection\": [6.0, 7.0, 8.0]}\n");
    smg_buf_free(&b);
}

/* Decode a recordIO response with protobuf-c: rows Records, label fields as given. */
static void test_response_recordio(void **state)
{
    static const float cluster[] = {2.0f, 1.0f, 7.0f};
    static const float dist[] = {0.25f, 1.5f, 100.0f};
    static const float proj[] = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f};
    struct smg_infer_field kf[2] = {{"closest_cluster", cluster, 1, true},
                                    {"distance_to_cluster", dist, 1, true}};
    struct smg_infer_field pf = {"projection", proj, 2, false};
    struct smg_infer_result kr = {"predictions", 3, 2, kf};
    struct smg_infer_result pr = {"projections", 3, 1, &pf};
    struct smg_buf b;
    const struct smg_infer_result *results[2] = {&kr, &pr};
    (void)state;

    smg_buf_init(&b, SIZE_MAX);

    for (int t = 0; t < 2; t++) {
        const struct smg_infer_result *r = results[t];
        size_t off = 0, row = 0;

        encode(&smg_codec_recordio, r, &b);
        while (off < b.len) {
            uint32_t magic, len;
            Aialgs__Data__Record *rec;

            assert_true(off + 8 <= b.len);
            memcpy(&magic, b.data + off, 4);
            memcpy(&len, b.data + off + 4, 4);
            assert_int_equal(magic, 0xced7230aU);
            assert_true(off + 8 + len <= b.len);
            rec = aialgs__data__record__unpack(NULL, len, (const uint8_t *)b.data + off + 8);
            assert_non_null(rec);
            assert_int_equal(rec->n_features, 0);
            assert_int_equal(rec->n_label, r->nfields);
            for (size_t f = 0; f < r->nfields; f++) {
                const Aialgs__Data__Value *v = rec->label[f]->value;
                assert_string_equal(rec->label[f]->key, r->fields[f].name);
                assert_int_equal(v->value_case, AIALGS__DATA__VALUE__VALUE_FLOAT32_TENSOR);
                assert_int_equal(v->float32_tensor->n_values, r->fields[f].width);
                assert_int_equal(v->float32_tensor->n_keys, 0);
                assert_int_equal(v->float32_tensor->n_shape, 0);
                for (size_t i = 0; i < r->fields[f].width; i++)
                    assert_true(v->float32_tensor->values[i] ==
                                r->fields[f].values[row * r->fields[f].width + i]);
            }
            aialgs__data__record__free_unpacked(rec, NULL);
            off += 8 + ((len + 3u) & ~3u);
            row++;
        }
        assert_int_equal(off, b.len);
        assert_int_equal(row, r->rows);
    }
    smg_buf_free(&b);
}

/* Allocation failure anywhere in a decode or an encode is a clean SMG_ENOMEM. */
static void test_out_of_memory(void **state)
{
    const char *json = "{\"instances\": [{\"features\": [1, 2]}, {\"data\": {\"features\": "
                       "{\"keys\": [1], \"values\": [3]}}}]}";
    const char *csv = "1,2\n3,4\n";
    static const float v[] = {1.0f, 2.0f};
    struct smg_infer_field f = {"projection", v, 2, false};
    struct smg_infer_result r = {"projections", 1, 1, &f};
    (void)state;

    for (long k = 0; k < 40; k++) {
        struct smg_error err;
        struct smg_buf b;
        float *x = NULL;
        size_t n;
        int rc;

        smg_buf_init(&b, SIZE_MAX);
        smg_alloc_fail_after(k);
        rc = decode("text/csv", csv, strlen(csv), 2, 0, &x, &n, &err);
        assert_true(rc == SMG_OK || rc == SMG_ENOMEM);
        smg_free(x);
        x = NULL;
        smg_alloc_fail_after(k);
        rc = decode("application/json", json, strlen(json), 2, 0, &x, &n, &err);
        assert_true(rc == SMG_OK || rc == SMG_ENOMEM);
        smg_free(x);
        smg_alloc_fail_after(k);
        smg_error_clear(&err);
        rc = smg_infer_response_encode(&smg_codec_json, &r, &b, &err);
        assert_true(rc == SMG_OK || rc == SMG_ENOMEM);
        smg_alloc_reset();
        smg_buf_free(&b);
    }
}

/* A response larger than the buffer's cap is a clean SMG_ENOMEM in every codec. */
static void test_response_cap(void **state)
{
    static const float v[] = {1.0f, 2.0f, 3.0f, 4.0f};
    struct smg_infer_field f = {"projection", v, 2, false};
    struct smg_infer_result r = {"projections", 2, 1, &f};
    const struct smg_codec *codecs[] = {&smg_codec_json, &smg_codec_jsonlines, &smg_codec_csv,
                                        &smg_codec_recordio};
    (void)state;

    for (size_t i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++) {
        struct smg_buf b;
        struct smg_error err;

        smg_buf_init(&b, 8);
        smg_error_clear(&err);
        assert_int_equal(smg_infer_response_encode(codecs[i], &r, &b, &err), SMG_ENOMEM);
        assert_string_equal(err.msg, "out of memory encoding the response");
        assert_true(b.len <= 8);
        smg_buf_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_response_cap),
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_errors),
        cmocka_unit_test(test_json_row_limit),
        cmocka_unit_test(test_jsonlines),
        cmocka_unit_test(test_jsonlines_errors),
        cmocka_unit_test(test_recordio),
        cmocka_unit_test(test_recordio_errors),
        cmocka_unit_test(test_recordio_bare_record),
        cmocka_unit_test(test_response_kmeans),
        cmocka_unit_test(test_response_pca),
        cmocka_unit_test(test_response_recordio),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

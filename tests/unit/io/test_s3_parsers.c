/*
 * The S3 client's offline parts: SigV4 against AWS's published example
 * (GET /test.txt with Range, from the S3 SigV4 documentation), URI encoding,
 * s3:// URIs, and the four parsers fed by the outside world (S3's XML,
 * the shared credentials file, the providers' JSON, SageMaker manifests),
 * each with well-formed and malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "io/s3/s3_credentials.h"
#include "io/s3/s3_manifest.h"
#include "io/s3/s3_uri.h"
#include "io/s3/s3_xml.h"
#include "io/s3/sigv4.h"

static void test_aws_example_signature(void **state)
{
    const struct smg_s3_header hs[] = {{"host", "examplebucket.s3.amazonaws.com"},
                                       {"range", "bytes=0-9"},
                                       {"x-amz-content-sha256", SMG_S3_EMPTY_SHA256},
                                       {"x-amz-date", "20130524T000000Z"}};
    struct smg_s3_sign_input in = {"GET",
                                   "/test.txt",
                                   "",
                                   hs,
                                   4,
                                   SMG_S3_EMPTY_SHA256,
                                   "20130524T000000Z",
                                   "us-east-1",
                                   "AKIAIOSFODNN7EXAMPLE",
                                   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
    char auth[1024];
    struct smg_error err;

    (void)state;
    smg_error_clear(&err);
    assert_int_equal(smg_s3_sign(&in, auth, sizeof(auth), &err), SMG_OK);
    assert_string_equal(
        auth,
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    /* One byte of the secret changed: another signature. */
    in.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ";
    assert_int_equal(smg_s3_sign(&in, auth, sizeof(auth), &err), SMG_OK);
    assert_null(strstr(auth, "f0e8bdb87c96"));
    /* Too small an output, and a malformed date, are errors, not overflows. */
    assert_int_equal(smg_s3_sign(&in, auth, 40, &err), SMG_ECONFIG);
    in.amz_date = "2013";
    assert_int_equal(smg_s3_sign(&in, auth, sizeof(auth), &err), SMG_ECONFIG);
}

static void test_uri_encode(void **state)
{
    char out[64];

    (void)state;
    assert_true(smg_s3_uri_encode("a b/c~d_e.f-g+h", true, out, sizeof(out)));
    assert_string_equal(out, "a%20b/c~d_e.f-g%2Bh");
    assert_true(smg_s3_uri_encode("dir/x=1", false, out, sizeof(out)));
    assert_string_equal(out, "dir%2Fx%3D1");
    assert_false(smg_s3_uri_encode("abcdef", true, out, 6));
    assert_false(smg_s3_uri_encode("ab ", true, out, 5));
}

static void test_s3_uri(void **state)
{
    struct smg_s3_uri u;
    struct smg_error err;

    (void)state;
    smg_error_clear(&err);
    assert_int_equal(smg_s3_uri_parse("s3://bucket/a/b.csv", &u, &err), SMG_OK);
    assert_string_equal(u.bucket, "bucket");
    assert_string_equal(u.key, "a/b.csv");
    assert_int_equal(smg_s3_uri_parse("s3://bucket", &u, &err), SMG_OK);
    assert_string_equal(u.key, "");
    assert_int_equal(smg_s3_uri_parse("http://bucket/x", &u, &err), SMG_ECONFIG);
    assert_non_null(strstr(err.msg, "http://bucket/x"));
    smg_error_clear(&err);
    assert_int_equal(smg_s3_uri_parse("s3://ab/x", &u, &err), SMG_ECONFIG);
    assert_int_equal(smg_s3_uri_parse("s3://a b c/x", &u, &err), SMG_ECONFIG);
    assert_int_equal(smg_s3_uri_parse("s3:///x", &u, &err), SMG_ECONFIG);
}

static void test_xml(void **state)
{
    const char *doc = "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a&amp;b"
                      "&#x41;&#66;&lt;</Key></Contents><Contents><Key>c</Key></Contents>"
                      "<NextContinuationToken>t+1=</NextContinuationToken></ListBucketResult>";
    char out[64];
    size_t pos = 0;

    (void)state;
    assert_int_equal(smg_s3_xml_next(doc, strlen(doc), &pos, "Key", out, sizeof(out)), SMG_OK);
    assert_string_equal(out, "a&bAB<");
    assert_int_equal(smg_s3_xml_next(doc, strlen(doc), &pos, "Key", out, sizeof(out)), SMG_OK);
    assert_string_equal(out, "c");
    assert_int_equal(smg_s3_xml_next(doc, strlen(doc), &pos, "Key", out, sizeof(out)), SMG_EEOF);
    pos = 0;
    assert_int_equal(
        smg_s3_xml_next(doc, strlen(doc), &pos, "NextContinuationToken", out, sizeof(out)), SMG_OK);
    assert_string_equal(out, "t+1=");
    /* Malformed: unclosed, markup inside, bad entities, too long, cut short. */
    const char *bad[] = {"<Key>abc",
                         "<Key>a<b>c</b></Key>",
                         "<Key>&bogus;</Key>",
                         "<Key>&#0;</Key>",
                         "<Key>&#x110000;</Key>",
                         "<Key>&amp</Key>",
                         "<Key>&#xD800;</Key>",
                         "<Key>&#x;</Key>"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pos = 0;
        assert_int_equal(smg_s3_xml_next(bad[i], strlen(bad[i]), &pos, "Key", out, sizeof(out)),
                         SMG_EFORMAT);
    }
    pos = 0;
    assert_int_equal(smg_s3_xml_next("<Key>abcdef</Key>", 17, &pos, "Key", out, 4), SMG_EFORMAT);
    pos = 0; /* the closing tag lies past len: not seen */
    assert_int_equal(smg_s3_xml_next("<Key>ab</Key>", 9, &pos, "Key", out, sizeof(out)),
                     SMG_EFORMAT);
    assert_int_equal(smg_s3_xml_escape("<a&'\">", out, sizeof(out)), 26);
    assert_string_equal(out, "&lt;a&amp;&apos;&quot;&gt;");
}

static void test_ini(void **state)
{
    const char *text = "# comment\n[default]\naws_access_key_id = AK1\naws_secret_access_key=SK1\n"
                       "\n[ other ]\r\n ; c\naws_access_key_id=AK2\naws_secret_access_key = SK2\n"
                       "aws_session_token = TOK\nregion = x\n";
    struct smg_s3_creds c;
    struct smg_error err;

    (void)state;
    smg_error_clear(&err);
    assert_int_equal(smg_s3_ini_credentials(text, strlen(text), "default", &c, &err), SMG_OK);
    assert_string_equal(c.access_key, "AK1");
    assert_string_equal(c.secret_key, "SK1");
    assert_string_equal(c.token, "");
    assert_int_equal(smg_s3_ini_credentials(text, strlen(text), "other", &c, &err), SMG_OK);
    assert_string_equal(c.access_key, "AK2");
    assert_string_equal(c.token, "TOK");
    assert_int_equal(smg_s3_ini_credentials(text, strlen(text), "nope", &c, &err), SMG_EEOF);
    assert_int_equal(smg_s3_ini_credentials("[default\nx=1\n", 13, "default", &c, &err),
                     SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "line 1"));
    smg_error_clear(&err);
    assert_int_equal(smg_s3_ini_credentials("[default]\njunk\n", 15, "default", &c, &err),
                     SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "line 2"));
    smg_error_clear(&err);
    text = "[default]\naws_access_key_id=A\n";
    assert_int_equal(smg_s3_ini_credentials(text, strlen(text), "default", &c, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "lacks"));
}

static void test_json_credentials(void **state)
{
    const char *ok = "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"SK\",\"Token\":\"T\","
                     "\"Expiration\":\"2026-11-27T21:00:00Z\"}";
    const char *bad[] = {
        "[]",
        "{\"AccessKeyId\":\"AK\"}",
        "{\"AccessKeyId\":1,\"SecretAccessKey\":\"S\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"2026-13-01T00:00:00Z\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Expiration\":\"soon\"}",
        "{\"AccessKeyId\":\"A\",",
        ""};
    struct smg_s3_creds c;
    struct smg_error err;

    (void)state;
    smg_error_clear(&err);
    assert_int_equal(smg_s3_json_credentials(ok, strlen(ok), &c, &err), SMG_OK);
    assert_string_equal(c.token, "T");
    assert_int_equal(c.expires, 1795813200LL); /* date -u -d 2026-11-27T21:00:00Z +%s */
    assert_true(smg_s3_credentials_stale(&c, 1795813200LL - 299));
    assert_false(smg_s3_credentials_stale(&c, 1795813200LL - 301));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        smg_error_clear(&err);
        assert_int_equal(smg_s3_json_credentials(bad[i], strlen(bad[i]), &c, &err), SMG_EFORMAT);
        assert_null(strstr(err.msg, "SK"));
    }
}

static void test_manifest(void **state)
{
    const char *ok = "[{\"prefix\": \"s3://bkt/data/\"}, \"b.csv\", \"a/x.csv\"]";
    const char *bad[] = {"{}", "[]", "[\"x\"]", "[{\"prefix\": 3}]",
                         "[{\"prefix\": \"http://x/\"}]", "[{\"prefix\": \"s3://bkt/\"}, 5]",
                         "[{\"prefix\": \"s3://bkt/\"}, \"a\"",
                         /* without a slash, prefix + key would name another bucket */
                         "[{\"prefix\": \"s3://bkt\"}, \":x/y\"]"};
    struct smg_file_list l = {NULL, 0};
    struct smg_error err;

    (void)state;
    smg_error_clear(&err);
    assert_int_equal(smg_s3_manifest_parse(ok, strlen(ok), "m", &l, &err), SMG_OK);
    assert_int_equal(l.count, 2);
    assert_string_equal(l.paths[0], "s3://bkt/data/b.csv"); /* manifest order kept */
    assert_string_equal(l.paths[1], "s3://bkt/data/a/x.csv");
    smg_file_list_clear(&l);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        smg_error_clear(&err);
        assert_int_not_equal(smg_s3_manifest_parse(bad[i], strlen(bad[i]), "m.manifest", &l, &err),
                             SMG_OK);
        assert_non_null(strstr(err.msg, "m.manifest"));
        smg_file_list_clear(&l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aws_example_signature),
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_s3_uri),
        cmocka_unit_test(test_xml),
        cmocka_unit_test(test_ini),
        cmocka_unit_test(test_json_credentials),
        cmocka_unit_test(test_manifest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The media-type table and parser: every accepted spelling and alias in each
 * direction, parameters (label_size, ignored ones, spaces, case), and the
 * malformed inputs: bad label_size values, parameters without '=', empty and
 * blank types, Accept lists with nothing supported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "io/codec.h"
#include "io/media_type.h"

static enum smg_status parse(const char *text, unsigned use, struct smg_media_type *mt,
                             struct smg_error *err)
{
    smg_error_clear(err);
    return smg_media_type_parse(text, strlen(text), use, mt, err);
}

static void expect_codec(const char *text, unsigned use, const struct smg_codec *want)
{
    struct smg_media_type mt;
    struct smg_error err;

    assert_int_equal(parse(text, use, &mt, &err), SMG_OK);
    if (mt.entry == NULL)
        fail_msg("'%s' not accepted for use %u", text, use);
    assert_ptr_equal(mt.entry->codec, want);
}

static void expect_unknown(const char *text, unsigned use)
{
    struct smg_media_type mt;
    struct smg_error err;

    assert_int_equal(parse(text, use, &mt, &err), SMG_OK);
    if (mt.entry != NULL)
        fail_msg("'%s' accepted for use %u", text, use);
}

static void test_table(void **state)
{
    (void)state;
    expect_codec("text/csv", SMG_MEDIA_TRAIN, &smg_codec_csv);
    expect_codec("TEXT/Csv", SMG_MEDIA_REQUEST, &smg_codec_csv);
    expect_codec("text/csv", SMG_MEDIA_RESPONSE, &smg_codec_csv);
    expect_codec("application/x-recordio-protobuf", SMG_MEDIA_TRAIN, &smg_codec_recordio);
    expect_codec(" application/x-recordio-protobuf ", SMG_MEDIA_REQUEST, &smg_codec_recordio);
    expect_codec("application/json", SMG_MEDIA_REQUEST, &smg_codec_json);
    expect_codec("application/jsonlines", SMG_MEDIA_REQUEST, &smg_codec_jsonlines);
    expect_codec("application/x-jsonlines", SMG_MEDIA_RESPONSE, &smg_codec_jsonlines);
    expect_codec("*/*", SMG_MEDIA_RESPONSE, &smg_codec_json);
    expect_codec("application/*", SMG_MEDIA_RESPONSE, &smg_codec_json);
    /* directions: JSON is not a training format; wildcards only answer Accept */
    expect_unknown("application/json", SMG_MEDIA_TRAIN);
    expect_unknown("application/jsonlines", SMG_MEDIA_TRAIN);
    expect_unknown("*/*", SMG_MEDIA_REQUEST);
    expect_unknown("image/png", SMG_MEDIA_REQUEST);
    expect_unknown("text/csvx", SMG_MEDIA_TRAIN);
    expect_unknown("text/cs", SMG_MEDIA_TRAIN);
    expect_unknown("", SMG_MEDIA_TRAIN);
    assert_string_equal(smg_media_supported(SMG_MEDIA_TRAIN),
                        "application/x-recordio-protobuf, text/csv");
    assert_string_equal(smg_media_supported(SMG_MEDIA_REQUEST),
                        "application/x-recordio-protobuf, text/csv, application/json, "
                        "application/jsonlines");
}

static void test_parameters(void **state)
{
    struct smg_media_type mt;
    struct smg_error err;
    (void)state;

    assert_int_equal(parse(" Text/CSV ; Label_Size = 2 ", SMG_MEDIA_TRAIN, &mt, &err), SMG_OK);
    assert_true(mt.has_label_size);
    assert_int_equal(mt.label_size, 2);
    assert_int_equal(mt.type_len, 8);
    assert_memory_equal(mt.type, "Text/CSV", 8);
    assert_int_equal(
        parse("text/csv;charset=utf-8;label_size=1;q=0.5", SMG_MEDIA_REQUEST, &mt, &err), SMG_OK);
    assert_int_equal(mt.label_size, 1);
    assert_null(mt.bad_param);
    assert_int_equal(parse("text/csv;label_size=1000000", SMG_MEDIA_TRAIN, &mt, &err), SMG_OK);
    assert_int_equal(mt.label_size, 1000000);
    assert_int_equal(parse("text/csv;label_size=3;label_size=0", SMG_MEDIA_TRAIN, &mt, &err),
                     SMG_OK);
    assert_int_equal(mt.label_size, 0); /* the last one wins */
    assert_int_equal(parse("text/csv", SMG_MEDIA_TRAIN, &mt, &err), SMG_OK);
    assert_false(mt.has_label_size);
    assert_int_equal(parse("text/csv;;", SMG_MEDIA_TRAIN, &mt, &err), SMG_OK);
    assert_null(mt.bad_param);
}

static void expect_bad_label_size(const char *text, const char *quoted)
{
    struct smg_media_type mt;
    struct smg_error err;

    assert_int_equal(parse(text, SMG_MEDIA_TRAIN, &mt, &err), SMG_ECONFIG);
    if (strstr(err.msg, quoted) == NULL)
        fail_msg("'%s': got '%s', want %s", text, err.msg, quoted);
    assert_non_null(mt.entry); /* the type was parsed before the parameters */
}

static void test_malformed(void **state)
{
    struct smg_media_type mt;
    struct smg_error err;
    char big[300];
    (void)state;

    expect_bad_label_size("text/csv;label_size=-1", "label_size='-1' is not a number of label "
                                                    "columns (0 to 1000000)");
    expect_bad_label_size("text/csv;label_size=", "label_size=''");
    expect_bad_label_size("text/csv;label_size= ", "label_size=''");
    expect_bad_label_size("text/csv;label_size=1.5", "label_size='1.5'");
    expect_bad_label_size("text/csv;label_size=0x1", "label_size='0x1'");
    expect_bad_label_size("text/csv;label_size=1000001", "label_size='1000001'");
    expect_bad_label_size("text/csv;label_size=99999999999999999999", "label_size='9999");
    expect_bad_label_size("text/csv;label_size=1 2", "label_size='1 2'");

    assert_int_equal(parse("text/csv; charset ;label_size=1", SMG_MEDIA_TRAIN, &mt, &err), SMG_OK);
    assert_non_null(mt.bad_param);
    assert_int_equal(mt.bad_param_len, 7);
    assert_memory_equal(mt.bad_param, "charset", 7);
    assert_int_equal(mt.label_size, 1);

    assert_int_equal(parse(";label_size=1", SMG_MEDIA_TRAIN, &mt, &err), SMG_OK);
    assert_null(mt.entry);
    assert_int_equal(mt.type_len, 0);

    /* a span: nothing past len is read */
    assert_int_equal(smg_media_type_parse("text/csv;label_size=7", 8, SMG_MEDIA_TRAIN, &mt, &err),
                     SMG_OK);
    assert_false(mt.has_label_size);

    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "text/csv;label_size=", 20);
    smg_error_clear(&err);
    assert_int_equal(parse(big, SMG_MEDIA_TRAIN, &mt, &err), SMG_ECONFIG);
    assert_true(strlen(err.msg) < 120); /* the value is quoted cut short */
}

static void test_accept(void **state)
{
    const struct smg_media_entry *e;
    bool any;
    (void)state;

    smg_media_accept_pick(NULL, SMG_MEDIA_RESPONSE, &e, &any);
    assert_null(e);
    assert_false(any);
    smg_media_accept_pick(" , ,", SMG_MEDIA_RESPONSE, &e, &any);
    assert_null(e);
    assert_false(any);
    smg_media_accept_pick("text/html, text/csv;q=0.9, application/json", SMG_MEDIA_RESPONSE, &e,
                          &any);
    assert_non_null(e);
    assert_ptr_equal(e->codec, &smg_codec_csv);
    smg_media_accept_pick("text/csv;label_size=x", SMG_MEDIA_RESPONSE, &e, &any);
    assert_non_null(e); /* Accept's parameters are ignored */
    smg_media_accept_pick("text/html;a=b,image/png", SMG_MEDIA_RESPONSE, &e, &any);
    assert_null(e);
    assert_true(any);
    smg_media_accept_pick("application/*", SMG_MEDIA_RESPONSE, &e, &any);
    assert_ptr_equal(e->codec, &smg_codec_json);
}

/*
 * Every row's codec has the hooks its directions need, an alias follows a
 * canonical row of the same codec, and each codec's mime is a canonical
 * spelling of itself: what a new row must get right.
 */
static void test_rows_have_codecs(void **state)
{
    const struct smg_media_entry *e;
    size_t i;
    (void)state;

    assert_null(smg_media_row(SIZE_MAX));
    for (i = 0; (e = smg_media_row(i)) != NULL; i++) {
        const struct smg_codec *c = e->codec;
        bool canonical_seen = false;

        assert_non_null(c);
        assert_non_null(c->mime);
        if ((e->uses & SMG_MEDIA_TRAIN) != 0)
            assert_true(c->rows == SMG_ROWS_CSV || c->rows == SMG_ROWS_RECORDIO_PROTOBUF);
        if ((e->uses & SMG_MEDIA_REQUEST) != 0)
            assert_non_null(c->decode);
        if ((e->uses & SMG_MEDIA_RESPONSE) != 0)
            assert_non_null(c->encode);
        for (size_t j = 0; j < i; j++)
            canonical_seen =
                canonical_seen || (!smg_media_row(j)->alias && smg_media_row(j)->codec == c);
        assert_true(e->alias == canonical_seen);
        if (!e->alias)
            assert_string_equal(e->name, c->mime);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_accept),
        cmocka_unit_test(test_rows_have_codecs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

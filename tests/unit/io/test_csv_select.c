/*
 * Tests for io/csv_select: selections by name (case-insensitive, trimmed) and
 * by 1-based number, in any order and with repeats, against a TLC header;
 * every column when the selection is empty; clear errors for unknown names,
 * numbers out of range, names without a header, empty items; and malformed
 * lines: empty cells, text, quoted numbers, NaN/inf and out-of-float-range
 * values, too few or too many fields, CRLF ends, unselected text left alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "io/csv_select.h"

static const char *header =
    "VendorID,tpep_pickup_datetime,tpep_dropoff_datetime,passenger_count,trip_distance,"
    "pickup_longitude,pickup_latitude,RateCodeID,store_and_fwd_flag,dropoff_longitude,"
    "dropoff_latitude,payment_type,fare_amount,extra,mta_tax,tip_amount,tolls_amount,"
    "improvement_surcharge,total_amount";
static const char *row = "2,2015-01-17 19:38:37,2015-01-17 19:43:23,1,.82,-73.990371704101563,"
                         "40.734695434570313,1,N,-73.99,40.73,1,5.5,0,0.5,1.3,0,0.3,7.6\r";

static struct smg_csv_select *sel(const char *spec, const char *first, bool hdr, int want,
                                  const char *msg)
{
    struct smg_csv_select *s = malloc(sizeof(*s));
    struct smg_error err;
    smg_error_clear(&err);
    assert_int_equal(smg_csv_select_init(s, spec, first, strlen(first), hdr, &err), want);
    if (msg != NULL)
        assert_non_null(strstr(err.msg, msg));
    return s;
}

static void pick_fails(struct smg_csv_select *s, const char *line, const char *msg)
{
    struct smg_error err;
    float out[32];
    smg_error_clear(&err);
    assert_int_equal(smg_csv_select_pick(s, line, strlen(line), out, &err), SMG_EFORMAT);
    if (strstr(err.msg, msg) == NULL)
        fail_msg("'%s' lacks '%s'", err.msg, msg);
}

static void test_names_and_numbers(void **state)
{
    struct smg_csv_select *s =
        sel(" ratecodeid , pickup_longitude,13,PICKUP_LONGITUDE,5", header, true, SMG_OK, NULL);
    float out[5];
    (void)state;
    assert_int_equal(s->ncols, 19);
    assert_int_equal(s->nsel, 5);
    assert_int_equal(s->idx[0], 7);
    assert_string_equal(s->names[0], "RateCodeID");
    assert_string_equal(s->names[2], "fare_amount");
    assert_int_equal(smg_csv_select_pick(s, row, strlen(row), out, NULL), SMG_OK);
    assert_true(out[0] == 1.0f);
    assert_true(out[1] == -73.990371704101563f);
    assert_true(out[2] == 5.5f);
    assert_true(out[3] == out[1]);
    assert_true(out[4] == 0.82f);
    free(s);
}

static void test_all_columns(void **state)
{
    struct smg_csv_select *s = sel(NULL, "1,2.5,3", false, SMG_OK, NULL);
    float out[3];
    (void)state;
    assert_int_equal(s->nsel, 3);
    assert_int_equal(smg_csv_select_pick(s, "4, 5 ,6e1", 9, out, NULL), SMG_OK);
    assert_true(out[0] == 4.0f && out[1] == 5.0f && out[2] == 60.0f);
    free(s);
}

static void test_bad_selections(void **state)
{
    (void)state;
    free(sel("fare,tip", header, true, SMG_ECONFIG, "no column named 'fare'"));
    free(sel("0", header, true, SMG_ECONFIG, "column 0 does not exist"));
    free(sel("20", header, true, SMG_ECONFIG, "lines have 19 columns"));
    free(sel("99999999999999999999", header, true, SMG_ECONFIG, "does not exist"));
    free(sel("1,,2", header, true, SMG_ECONFIG, "empty item"));
    free(sel("fare_amount", "1,2,3", false, SMG_ECONFIG, "no header row"));
    free(sel("1", "", false, SMG_EFORMAT, "empty"));
    free(sel("1", "\r", true, SMG_EFORMAT, "empty"));
}

static void test_bad_lines(void **state)
{
    struct smg_csv_select *s = sel("passenger_count,fare_amount", header, true, SMG_OK, NULL);
    (void)state;
    pick_fails(s, "2,a,b,,.8,1,2,1,N,3,4,1,5.5,0,0,0,0,0,7", "column 4 (passenger_count): empty");
    pick_fails(s, "2,a,b,1,.8,1,2,1,N,3,4,1,abc,0,0,0,0,0,7", "column 13 (fare_amount): 'abc'");
    pick_fails(s, "2,a,b,\"1\",.8,1,2,1,N,3,4,1,5,0,0,0,0,0,7", "'\"1\"' is not a number");
    pick_fails(s, "2,a,b,nan,.8,1,2,1,N,3,4,1,5,0,0,0,0,0,7", "not a finite");
    pick_fails(s, "2,a,b,1,.8,1,2,1,N,3,4,1,1e39,0,0,0,0,0,7", "not a finite");
    pick_fails(s, "2,a,b,1,.8,1,2,1,N,3,4,1,5", "13 fields, expected 19");
    pick_fails(s, "2,a,b,1,.8,1,2,1,N,3,4,1,5,0,0,0,0,0,7,8", "more than 19 fields");
    pick_fails(s, "", "1 fields, expected 19");
    free(s);
    s = sel("2", "1,2", false, SMG_OK, NULL);
    pick_fails(s, "1,", "column 2: empty cell");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_numbers),
        cmocka_unit_test(test_all_columns),
        cmocka_unit_test(test_bad_selections),
        cmocka_unit_test(test_bad_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

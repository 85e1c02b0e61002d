/*
 * RecordIO framing: well-formed streams (single and multi-part records, large
 * records, tiny reads across chunk boundaries) and every malformed case, each
 * with its own message naming stream, record index and byte offset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/recordio.h"
#include "rows_helpers.h"

struct buf {
    unsigned char *p;
    size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    if (n > 0)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* A raw record: header with the given cflag and length, payload, padding. */
static void put_rec(struct buf *b, unsigned cflag, const void *payload, size_t n)
{
    uint8_t hdr[8];
    static const uint8_t zero[4] = {0};
    smg_recordio_header(hdr, (uint32_t)n, cflag);
    put(b, hdr, 8);
    put(b, payload, n);
    put(b, zero, smg_recordio_pad(n));
}

/* Read all records; return status, count and the concatenated payloads. */
static int read_all(const struct buf *b, size_t max, size_t step, struct buf *payloads,
                    size_t *count, struct smg_error *err)
{
    struct smg_stream *s;
    struct smg_recordio_reader *r;
    struct drip d = {b->p, b->len, 0, step};
    int rc;

    smg_error_clear(err);
    *count = 0;
    if (step)
        assert_int_equal(smg_stream_open_custom(&d, drip_read, NULL, "part-0.pbr", &s, err), 0);
    else
        assert_int_equal(smg_stream_open_memory(b->p, b->len, "part-0.pbr", &s, err), 0);
    assert_int_equal(smg_recordio_reader_new(s, max, &r, err), 0);
    for (;;) {
        const uint8_t *data;
        size_t len;
        rc = smg_recordio_next(r, &data, &len, err);
        if (rc != SMG_OK)
            break;
        if (payloads)
            put(payloads, data, len);
        (*count)++;
    }
    smg_recordio_reader_free(r);
    smg_stream_free(s);
    return rc == SMG_EEOF ? SMG_OK : rc;
}

static void expect_error(const struct buf *b, size_t max, const char *msg)
{
    struct smg_error err;
    size_t count;
    int rc = read_all(b, max, 0, NULL, &count, &err);
    assert_int_equal(rc, SMG_EFORMAT);
    if (strcmp(err.msg, msg) != 0)
        fail_msg("got \"%s\"\nwant \"%s\"", err.msg, msg);
    /* Tiny reads must report the very same error. */
    rc = read_all(b, max, 3, NULL, &count, &err);
    assert_int_equal(rc, SMG_EFORMAT);
    assert_string_equal(err.msg, msg);
}

static void test_roundtrip(void **state)
{
    struct buf b = {0}, got = {0}, want = {0};
    struct smg_error err;
    size_t count;
    (void)state;
    for (size_t n = 0; n < 40; n++) {
        unsigned char p[40];
        for (size_t i = 0; i < n; i++)
            p[i] = (unsigned char)(n * 7 + i);
        put_rec(&b, 0, p, n);
        put(&want, p, n);
    }
    for (size_t step = 0; step < 12; step += 5) {
        got.len = 0;
        assert_int_equal(read_all(&b, 0, step, &got, &count, &err), 0);
        assert_int_equal(count, 40);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.p, want.p, want.len);
    }
    free(b.p);
    free(got.p);
    free(want.p);
}

static void test_large_records(void **state)
{
    struct buf b = {0}, got = {0};
    struct smg_error err;
    size_t count, n = (3u << 20) + 5;
    unsigned char *p = malloc(n);
    (void)state;
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 31);
    put_rec(&b, 0, "ab", 2);
    put_rec(&b, 0, p, n);
    put_rec(&b, 0, "xyz", 3);
    assert_int_equal(read_all(&b, 0, 0, &got, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_int_equal(got.len, n + 5);
    assert_memory_equal(got.p + 2, p, n);
    assert_memory_equal(got.p + 2 + n, "xyz", 3);
    free(p);
    free(b.p);
    free(got.p);
}

static void test_multipart_joined(void **state)
{
    struct buf b = {0}, got = {0};
    struct smg_error err;
    size_t count;
    const unsigned char want[] = {'a', 'b', 'c',  'd',  0x0a, 0x23, 0xd7, 0xce,
                                  'e', 'f', 0x0a, 0x23, 0xd7, 0xce, 'g'};
    (void)state;
    put_rec(&b, 0, "first", 5);
    put_rec(&b, 1, "abcd", 4);
    put_rec(&b, 2, "ef", 2);
    put_rec(&b, 3, "g", 1);
    put_rec(&b, 0, "last", 4);
    assert_int_equal(read_all(&b, 0, 0, &got, &count, &err), 0);
    assert_int_equal(count, 3);
    assert_int_equal(got.len, 5 + sizeof(want) + 4);
    assert_memory_equal(got.p + 5, want, sizeof(want));
    free(b.p);
    free(got.p);
}

static void test_bad_magic(void **state)
{
    struct buf b = {0};
    (void)state;
    put_rec(&b, 0, "abcd", 4);
    put(&b, "\x01\x02\x03\x04\x05\x00\x00\x00", 8);
    expect_error(&b, 0,
                 "part-0.pbr: record 1 at byte 12: bad magic 0x04030201 (expected 0xced7230a): "
                 "not RecordIO");
    free(b.p);
}

static void test_truncated_header(void **state)
{
    struct buf b = {0};
    (void)state;
    put_rec(&b, 0, "abcd", 4);
    put(&b, "\x0a\x23\xd7", 3);
    expect_error(&b, 0,
                 "part-0.pbr: record 1 at byte 12: truncated header: stream ends after 3 of 8 "
                 "bytes");
    free(b.p);
}

static void test_truncated_payload(void **state)
{
    struct buf b = {0};
    (void)state;
    put_rec(&b, 0, "abcdefgh", 8);
    b.len -= 3;
    expect_error(&b, 0,
                 "part-0.pbr: record 0 at byte 0: truncated payload: stream ends after 5 of 8 "
                 "bytes");
    free(b.p);
}

static void test_truncated_padding(void **state)
{
    struct buf b = {0};
    (void)state;
    put_rec(&b, 0, "abcde", 5);
    b.len -= 2;
    expect_error(&b, 0,
                 "part-0.pbr: record 0 at byte 0: truncated padding: stream ends after 1 of 3 "
                 "padding bytes");
    free(b.p);
}

static void test_length_over_maximum(void **state)
{
    struct buf b = {0};
    uint8_t hdr[8];
    (void)state;
    put_rec(&b, 0, "abcd", 4);
    smg_recordio_header(hdr, 100000, 0); /* only 8 bytes follow: must not allocate */
    put(&b, hdr, 8);
    put(&b, "12345678", 8);
    expect_error(&b, 4096,
                 "part-0.pbr: record 1 at byte 12: record length 100000 bytes exceeds the "
                 "maximum of 4096 bytes");
    free(b.p);
}

static void test_multipart_over_maximum(void **state)
{
    struct buf b = {0};
    char p[60] = {0};
    (void)state;
    put_rec(&b, 1, p, 60);
    put_rec(&b, 2, p, 60);
    put_rec(&b, 3, p, 60);
    expect_error(&b, 100,
                 "part-0.pbr: record 0 at byte 0: multi-part record exceeds the maximum of 100 "
                 "bytes after 1 parts");
    free(b.p);
}

static void test_broken_multipart(void **state)
{
    struct buf b = {0};
    (void)state;
    put_rec(&b, 0, "ok", 2);
    put_rec(&b, 2, "mid", 3);
    expect_error(&b, 0,
                 "part-0.pbr: record 1 at byte 12: broken multi-part record: cflag 2 (middle) "
                 "without a start (cflag 1)");
    b.len = 0;
    put_rec(&b, 3, "end", 3);
    expect_error(&b, 0,
                 "part-0.pbr: record 0 at byte 0: broken multi-part record: cflag 3 (end) "
                 "without a start (cflag 1)");
    b.len = 0;
    put_rec(&b, 1, "start", 5);
    put_rec(&b, 0, "whole", 5);
    expect_error(&b, 0,
                 "part-0.pbr: record 0 at byte 16: broken multi-part record: part 1 has cflag 0, "
                 "expected 2 (middle) or 3 (end)");
    b.len = 0;
    put_rec(&b, 1, "start", 5);
    put_rec(&b, 2, "mid", 3);
    expect_error(&b, 0,
                 "part-0.pbr: record 0 at byte 0: broken multi-part record: stream ends after "
                 "part 2, before its end (cflag 3)");
    b.len = 0;
    put(&b, "\x0a\x23\xd7\xce\x02\x00\x00\xa0xx\x00\x00", 12);
    expect_error(&b, 0,
                 "part-0.pbr: record 0 at byte 0: invalid continuation flag 5 (expected 0 to 3)");
    free(b.p);
}

static void test_error_is_sticky(void **state)
{
    struct buf b = {0};
    struct smg_stream *s;
    struct smg_recordio_reader *r;
    struct smg_error err;
    const uint8_t *data;
    size_t len;
    (void)state;
    put(&b, "garbage!", 8);
    smg_error_clear(&err);
    assert_int_equal(smg_stream_open_memory(b.p, b.len, "x", &s, &err), 0);
    assert_int_equal(smg_recordio_reader_new(s, 0, &r, &err), 0);
    assert_int_equal(smg_recordio_next(r, &data, &len, &err), SMG_EFORMAT);
    smg_error_clear(&err);
    assert_int_equal(smg_recordio_next(r, &data, &len, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "bad magic"));
    smg_recordio_reader_free(r);
    smg_stream_free(s);
    free(b.p);
}

static void test_empty_stream(void **state)
{
    struct buf b = {0};
    struct smg_error err;
    size_t count;
    (void)state;
    assert_int_equal(read_all(&b, 0, 0, NULL, &count, &err), 0);
    assert_int_equal(count, 0);
}

static void test_out_of_memory(void **state)
{
    struct buf b = {0};
    unsigned char big[5000] = {0};
    (void)state;
    put_rec(&b, 1, big, sizeof(big));
    put_rec(&b, 3, big, sizeof(big));
    for (long n = 0; n < 6; n++) {
        struct smg_stream *s;
        struct smg_recordio_reader *r = NULL;
        struct smg_error err;
        const uint8_t *data;
        size_t len;
        int rc;
        smg_error_clear(&err);
        assert_int_equal(smg_stream_open_memory(b.p, b.len, "x", &s, &err), 0);
        smg_alloc_fail_after(n);
        rc = smg_recordio_reader_new(s, 0, &r, &err);
        if (rc == SMG_OK)
            rc = smg_recordio_next(r, &data, &len, &err);
        smg_alloc_reset();
        assert_true(rc == SMG_OK || rc == SMG_ENOMEM);
        smg_recordio_reader_free(r);
        smg_stream_free(s);
    }
    free(b.p);
}

/* Every record of b as (payload, index, offset), through runs of take_buffered or one by one. */
static int frame_all(const struct buf *b, size_t step, size_t run, struct buf *log,
                     struct smg_error *err)
{
    struct smg_stream *s;
    struct smg_recordio_reader *r;
    struct drip d = {b->p, b->len, 0, step};
    struct smg_recordio_rec recs[4];
    int rc = SMG_OK;

    smg_error_clear(err);
    assert_int_equal(smg_stream_open_custom(&d, drip_read, NULL, "part-0.pbr", &s, err), 0);
    assert_int_equal(smg_recordio_reader_new(s, 40, &r, err), 0);
    for (;;) {
        size_t n = run > 0 ? smg_recordio_take_buffered(r, recs, run) : 0;
        if (n == 0) {
            if ((rc = smg_recordio_next(r, &recs[0].data, &recs[0].len, err)) != SMG_OK)
                break;
            recs[0].index = smg_recordio_index(r);
            recs[0].offset = smg_recordio_offset(r);
            n = 1;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t where[2] = {recs[i].index, recs[i].offset};
            put(log, where, sizeof(where));
            put(log, &recs[i].len, sizeof(recs[i].len));
            put(log, recs[i].data, recs[i].len);
        }
        /* The last record's index and offset are the reader's, as after next. */
        assert_int_equal(smg_recordio_index(r), recs[n - 1].index);
        assert_int_equal(smg_recordio_offset(r), recs[n - 1].offset);
    }
    smg_recordio_reader_free(r);
    smg_stream_free(s);
    return rc;
}

/*
 * smg_recordio_take_buffered hands out exactly what smg_recordio_next would,
 * record by record (payloads, indices, header offsets), around multi-part
 * records, refills at every read size, and up to the same error.
 */
static void test_take_buffered(void **state)
{
    struct buf b = {0};
    uint8_t payload[64];
    (void)state;
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < 40; i++)
        put_rec(&b, SMG_RECORDIO_CFLAG_WHOLE, payload, i % 13);
    put_rec(&b, SMG_RECORDIO_CFLAG_FIRST, payload, 5);
    put_rec(&b, SMG_RECORDIO_CFLAG_LAST, payload + 5, 6);
    for (size_t i = 0; i < 9; i++)
        put_rec(&b, SMG_RECORDIO_CFLAG_WHOLE, payload, 30 - i);
    put_rec(&b, SMG_RECORDIO_CFLAG_WHOLE, payload, 41); /* over the maximum of 40 */
    for (size_t step = 1; step < 90; step += 11)
        for (size_t run = 1; run <= 4; run++) {
            struct buf one = {0}, many = {0};
            struct smg_error e1, e2;
            int rc1 = frame_all(&b, step, 0, &one, &e1), rc2 = frame_all(&b, step, run, &many, &e2);
            assert_int_equal(rc1, SMG_EFORMAT);
            assert_int_equal(rc2, rc1);
            assert_string_equal(e2.msg, e1.msg);
            assert_int_equal(many.len, one.len);
            assert_memory_equal(many.p, one.p, one.len);
            free(one.p);
            free(many.p);
        }
    free(b.p);
}

/* The one header helper: what it writes it reads back; bad magic and flags are named. */
static void test_header_helper(void **state)
{
    static const uint8_t on_disk[4] = {0x0a, 0x23, 0xd7, 0xce};
    struct smg_error err;
    uint8_t hdr[SMG_RECORDIO_HEADER_BYTES];
    size_t len;
    unsigned cflag;
    (void)state;

    for (unsigned c = 0; c <= SMG_RECORDIO_CFLAG_LAST; c++) {
        smg_recordio_header(hdr, 12345, c);
        assert_memory_equal(hdr, on_disk, 4);
        assert_true(smg_recordio_is_magic(hdr));
        smg_error_clear(&err);
        assert_int_equal(smg_recordio_header_parse(hdr, &len, &cflag, &err), SMG_OK);
        assert_int_equal(len, 12345);
        assert_int_equal(cflag, c);
    }
    smg_recordio_header(hdr, (uint32_t)SMG_RECORDIO_MAX_LENGTH, 0);
    assert_int_equal(smg_recordio_header_parse(hdr, &len, &cflag, &err), SMG_OK);
    assert_int_equal(len, SMG_RECORDIO_MAX_LENGTH);
    hdr[7] |= 0x80; /* cflag 4 */
    smg_error_clear(&err);
    assert_int_equal(smg_recordio_header_parse(hdr, &len, &cflag, &err), SMG_EFORMAT);
    assert_string_equal(err.msg, "invalid continuation flag 4 (expected 0 to 3)");
    hdr[0] ^= 1;
    assert_false(smg_recordio_is_magic(hdr));
    smg_error_clear(&err);
    assert_int_equal(smg_recordio_header_parse(hdr, &len, &cflag, &err), SMG_EFORMAT);
    assert_string_equal(err.msg, "bad magic 0xced7230b (expected 0xced7230a): not RecordIO");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_large_records),
        cmocka_unit_test(test_multipart_joined),
        cmocka_unit_test(test_bad_magic),
        cmocka_unit_test(test_truncated_header),
        cmocka_unit_test(test_truncated_payload),
        cmocka_unit_test(test_truncated_padding),
        cmocka_unit_test(test_length_over_maximum),
        cmocka_unit_test(test_multipart_over_maximum),
        cmocka_unit_test(test_broken_multipart),
        cmocka_unit_test(test_error_is_sticky),
        cmocka_unit_test(test_empty_stream),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_header_helper),
        cmocka_unit_test(test_take_buffered),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

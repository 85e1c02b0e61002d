/*
 * The checkpoint framing: a file round-trips header and sections exactly;
 * the CRC32C matches the standard check value; every malformed input (wrong
 * magic, other version, truncation at every length, a flipped bit anywhere,
 * extra bytes, a section length past the end) is SMG_EFORMAT with a message
 * that says what is wrong, and never a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/base/alloc.h"
#include "io/checkpoint_file.h"
#include "io/crc32c.h"

static void make_file(struct smg_buf *out, struct smg_ckpt_header *h)
{
    static const char state[] = "0123456789abcdefXYZ"; /* 19 bytes: exercises padding */
    static const char hp[] = "{\"k\": \"3\"}";
    struct smg_ckpt_section s[2] = {{"STAT", state, 19}, {"HPJS", hp, sizeof(hp) - 1}};
    struct smg_error err;

    memset(h, 0, sizeof(*h));
    strcpy(h->algorithm, "kmeans");
    h->hp_hash = smg_ckpt_hash(0, hp, sizeof(hp) - 1);
    h->rank = 1;
    h->n_ranks = 2;
    h->generation = 7;
    h->epoch = 2;
    h->epoch_records = 1234567;
    h->total_records = 9876543210ull;
    h->mode = 2;
    h->data_hash = 42;
    h->created_ms = 1700000000000ull;
    smg_buf_init(out, (size_t)1 << 20);
    smg_error_clear(&err);
    assert_int_equal(smg_ckpt_encode(h, s, 2, out, &err), SMG_OK);
}

static void test_crc32c_check_value(void **state)
{
    (void)state;
    assert_int_equal(smg_crc32c(0, "123456789", 9), 0xE3069283u);
    /* Incremental equals one shot, across the 8-byte hardware stride. */
    assert_int_equal(smg_crc32c(smg_crc32c(0, "12345", 5), "6789", 4), 0xE3069283u);
}

static void test_round_trip(void **state)
{
    struct smg_buf b;
    struct smg_ckpt_header h, g;
    struct smg_ckpt_section s[4];
    const struct smg_ckpt_section *st;
    struct smg_error err;
    size_t n = 0;

    (void)state;
    make_file(&b, &h);
    assert_int_equal(b.len % 8, 0);
    smg_error_clear(&err);
    assert_int_equal(smg_ckpt_parse(b.data, b.len, "c", &g, s, 4, &n, &err), SMG_OK);
    assert_int_equal(n, 2);
    assert_string_equal(g.algorithm, "kmeans");
    assert_true(g.hp_hash == h.hp_hash && g.generation == 7 && g.epoch == 2);
    assert_true(g.epoch_records == 1234567 && g.total_records == 9876543210ull);
    assert_true(g.rank == 1 && g.n_ranks == 2 && g.mode == 2 && g.data_hash == 42);
    assert_true(g.byte_order == SMG_CKPT_BYTE_ORDER);
    st = smg_ckpt_find(s, n, "STAT");
    assert_non_null(st);
    assert_int_equal(st->len, 19);
    assert_memory_equal(st->data, "0123456789abcdefXYZ", 19);
    assert_null(smg_ckpt_find(s, n, "NOPE"));
    smg_buf_free(&b);
}

static int parse(const void *p, size_t len, struct smg_error *err)
{
    struct smg_ckpt_header h;
    struct smg_ckpt_section s[4];
    size_t n = 99;

    smg_error_clear(err);
    int rc = smg_ckpt_parse(p, len, "ckpt", &h, s, 4, &n, err);
    if (rc != SMG_OK)
        assert_int_equal(n, 99); /* untouched */
    return rc;
}

static void test_every_truncation_is_reported(void **state)
{
    struct smg_buf b;
    struct smg_ckpt_header h;
    struct smg_error err;

    (void)state;
    make_file(&b, &h);
    for (size_t len = 0; len < b.len; len++) {
        assert_int_equal(parse(b.data, len, &err), SMG_EFORMAT);
        if (len >= 8)
            assert_non_null(strstr(err.msg, "ckpt"));
    }
    smg_buf_free(&b);
}

static void test_every_bit_flip_is_reported(void **state)
{
    struct smg_buf b;
    struct smg_ckpt_header h;
    struct smg_error err;

    (void)state;
    make_file(&b, &h);
    for (size_t i = 0; i < b.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            b.data[i] ^= (char)(1 << bit);
            assert_int_equal(parse(b.data, b.len, &err), SMG_EFORMAT);
            b.data[i] ^= (char)(1 << bit);
        }
    }
    assert_int_equal(parse(b.data, b.len, &err), SMG_OK);
    smg_buf_free(&b);
}

static void test_messages(void **state)
{
    struct smg_buf b;
    struct smg_ckpt_header h;
    struct smg_error err;

    (void)state;
    make_file(&b, &h);
    assert_int_equal(parse("hello world, not a checkpoint", 29, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "not a smalgo checkpoint"));
    assert_int_equal(parse(b.data, b.len - 8, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "truncated"));
    b.data[200] ^= 1;
    assert_int_equal(parse(b.data, b.len, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "CRC32C"));
    b.data[200] ^= 1;
    b.data[8] = 9; /* version */
    assert_int_equal(parse(b.data, b.len, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "version 9"));
    b.data[8] = 1;
    assert_int_equal(smg_buf_append(&b, "xxxxxxxx", 8), SMG_OK);
    assert_int_equal(parse(b.data, b.len, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "extra bytes"));
    smg_buf_free(&b);
}

/* A section length that overruns, under a valid CRC (as a buggy writer would produce). */
static void test_section_overrun_under_valid_crc(void **state)
{
    struct smg_buf b;
    struct smg_ckpt_header h;
    struct smg_error err;
    uint32_t crc;

    (void)state;
    make_file(&b, &h);
    b.data[144 + 8] = (char)0xF0; /* first section's length: huge */
    b.data[144 + 14] = 0x7F;
    crc = smg_crc32c(0, b.data, b.len - 8);
    for (int i = 0; i < 4; i++)
        b.data[b.len - 8 + i] = (char)(crc >> (8 * i));
    assert_int_equal(parse(b.data, b.len, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "claims"));
    smg_buf_free(&b);
}

static void test_too_many_sections(void **state)
{
    struct smg_ckpt_section s[SMG_CKPT_MAX_SECTIONS + 1];
    struct smg_ckpt_header h;
    struct smg_buf b;
    struct smg_error err;

    (void)state;
    memset(&h, 0, sizeof(h));
    for (size_t i = 0; i <= SMG_CKPT_MAX_SECTIONS; i++)
        s[i] = (struct smg_ckpt_section){"ABCD", "", 0};
    smg_buf_init(&b, 1 << 20);
    smg_error_clear(&err);
    assert_int_equal(smg_ckpt_encode(&h, s, SMG_CKPT_MAX_SECTIONS + 1, &b, &err), SMG_EINTERNAL);
    smg_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_check_value),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_every_truncation_is_reported),
        cmocka_unit_test(test_every_bit_flip_is_reported),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_section_overrun_under_valid_crc),
        cmocka_unit_test(test_too_many_sections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

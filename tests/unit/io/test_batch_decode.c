/*
 * Framing on one thread, decoding on several (rows.h smg_row_reader_frame,
 * row_spans.h, batch_decode.h) against the one-thread row reader.
 *
 * Same bytes: CSV (blank lines, CRLF, a label column) and recordIO-protobuf
 * streams, read through tiny reads so rows straddle buffer refills, framed in
 * batches of several sizes (ragged last batch included) and decoded on 1 to 4
 * threads, must give exactly the rows the row reader gives (memcmp).
 *
 * First bad row: malformed rows at various positions (first row, part
 * boundaries, last row, two bad rows in different parts) must give exactly
 * the row reader's message, naming the earliest bad line or record, whatever
 * thread finished first; a bad row followed by a framing error (truncated
 * recordIO, an over-long CSV line) reports the bad row, as one thread would.
 * Out of memory at every allocation is a clean SMG_ENOMEM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "io/batch_decode.h"
#include "io/record_encode.h"
#include "io/recordio.h"
#include "rows_helpers.h"

#define DIM 5

/* Growable text/bytes for building inputs. */
struct text {
    char *p;
    size_t len, cap;
};

static void put(struct text *t, const void *data, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
    }
    memcpy(t->p + t->len, data, n);
    t->len += n;
    t->p[t->len] = '\0';
}

/* Is i in bad[0..nbad)? */
static bool listed(size_t i, const size_t *bad, size_t nbad)
{
    for (size_t k = 0; k < nbad; k++)
        if (bad[k] == i)
            return true;
    return false;
}

/*
 * n CSV rows of a label and DIM features (values exact in float32), with a
 * blank line every 17 rows, CRLF every 5th row and no newline after the last;
 * rows listed in bad get "oops" in their third feature.
 */
static struct text csv_rows(size_t n, const size_t *bad, size_t nbad)
{
    struct text t = {0};
    char line[256];

    for (size_t i = 0; i < n; i++) {
        int k = snprintf(line, sizeof(line), "lbl%zu", i);
        for (size_t j = 0; j < DIM; j++) {
            if (j == 2 && listed(i, bad, nbad))
                k += snprintf(line + k, sizeof(line) - (size_t)k, ",oops");
            else
                k += snprintf(line + k, sizeof(line) - (size_t)k, ",%zu.5", i * DIM + j);
        }
        put(&t, line, (size_t)k);
        if (i + 1 < n)
            put(&t, i % 5 == 4 ? "\r\n" : "\n", i % 5 == 4 ? 2 : 1);
        if (i % 17 == 16)
            put(&t, "\n", 1);
    }
    return t;
}

/* n recordIO-protobuf rows; rows listed in bad have DIM - 1 features. */
static struct text recordio_rows(size_t n, const size_t *bad, size_t nbad)
{
    struct text t = {0};
    struct smg_bytes b = {0};
    struct smg_error err;
    float v[DIM];
    uint8_t hdr[8], pad[4] = {0};

    smg_error_clear(&err);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < DIM; j++)
            v[j] = (float)(i * DIM + j) + 0.25f;
        size_t dim = listed(i, bad, nbad) ? DIM - 1 : DIM;
        assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_FLOAT32, v, dim, NULL, &err),
                         SMG_OK);
        smg_recordio_header(hdr, (uint32_t)b.len, 0);
        put(&t, hdr, 8);
        put(&t, b.data, b.len);
        put(&t, pad, smg_recordio_pad(b.len));
    }
    smg_bytes_free(&b);
    return t;
}

static struct smg_format fmt_of(enum smg_row_kind kind)
{
    struct smg_format f;
    memset(&f, 0, sizeof(f));
    f.rows = kind;
    f.feature_dim = DIM;
    f.label_size = kind == SMG_ROWS_CSV ? 1 : 0;
    return f;
}

/*
 * What the channel does with decode threads: frame `batch` rows, decode them
 * on the decoder, repeat; on a framing error decode the rows framed before it
 * first (a bad one among them wins). Rows to *out, count to *nrows.
 */
static int frame_decode_all(const struct text *in, const struct smg_format *fmt, size_t batch,
                            unsigned threads, size_t step, float **out, size_t *nrows,
                            struct smg_error *err)
{
    struct drip d = {(const unsigned char *)in->p, in->len, 0, step};
    struct smg_stream *s = NULL;
    struct smg_row_reader *r = NULL;
    struct smg_batch_decoder *dec = NULL;
    struct smg_pool *shared = NULL; /* 4 threads: a pool the decoder borrows, as the job's */
    struct smg_row_spans sp;
    float *rows = NULL;
    size_t n = 0;
    int rc;

    smg_error_clear(err);
    assert_int_equal(threads < 4 || smg_pool_new(threads, &shared, NULL) == SMG_OK, 1);
    smg_row_spans_init(&sp, fmt);
    rc = smg_stream_open_custom(&d, drip_read, NULL, "test.bin", &s, err);
    if (rc == SMG_OK)
        rc = smg_row_reader_new(s, fmt, &r, err);
    if (rc == SMG_OK)
        rc = smg_batch_decoder_new(threads, shared, &dec, err);
    assert_true(rc != SMG_OK || smg_row_reader_can_frame(r));
    while (rc == SMG_OK) {
        size_t got = 0;
        rc = smg_row_reader_frame(r, &sp, batch, &got, err);
        rows = realloc(rows, (n + sp.count + 1) * DIM * sizeof(float));
        if (sp.count > 0) {
            struct smg_error bad;
            smg_error_clear(&bad);
            int brc = smg_batch_decode_run(dec, &sp, rows + n * DIM, &bad);
            if (brc != SMG_OK) {
                *err = bad;
                rc = brc;
                break;
            }
        }
        n += sp.count;
        smg_row_spans_clear(&sp);
        if (rc != SMG_OK || got == 0)
            break;
    }
    smg_row_spans_free(&sp);
    smg_batch_decoder_free(dec);
    smg_pool_free(shared);
    smg_row_reader_free(r);
    smg_stream_free(s);
    *out = rows;
    *nrows = n;
    return rc;
}

/* Parallel and serial agree on every row, or on the error message. */
static void check_same(const struct text *in, enum smg_row_kind kind, size_t want_rows)
{
    static const size_t batches[] = {1, 7, 64, 100, 1000, 5000};
    static const size_t steps[] = {0, 13};
    struct smg_format fmt = fmt_of(kind);
    struct smg_error serr, perr;
    float *ref = NULL;
    size_t nref = 0;
    int src = decode_all(in->p, in->len, &fmt, 0, &ref, &nref, &serr);

    if (src == SMG_OK)
        assert_int_equal(nref, want_rows);
    for (size_t b = 0; b < sizeof(batches) / sizeof(batches[0]); b++) {
        for (unsigned threads = 1; threads <= 4; threads++) {
            size_t step = steps[(b + threads) % 2] == 0 ? in->len + 1 : 13;
            float *got = NULL;
            size_t n = 0;
            int prc = frame_decode_all(in, &fmt, batches[b], threads, step, &got, &n, &perr);
            assert_int_equal(prc, src);
            if (src == SMG_OK) {
                assert_int_equal(n, nref);
                assert_memory_equal(got, ref, n * DIM * sizeof(float));
            } else {
                assert_string_equal(perr.msg, serr.msg);
            }
            free(got);
        }
    }
    free(ref);
}

static void test_csv_same_bytes(void **state)
{
    static const size_t sizes[] = {1, 63, 64, 65, 1001, 4099};
    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct text t = csv_rows(sizes[i], NULL, 0);
        check_same(&t, SMG_ROWS_CSV, sizes[i]);
        free(t.p);
    }
}

static void test_recordio_same_bytes(void **state)
{
    static const size_t sizes[] = {1, 63, 64, 65, 1001, 4099};
    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct text t = recordio_rows(sizes[i], NULL, 0);
        check_same(&t, SMG_ROWS_RECORDIO_PROTOBUF, sizes[i]);
        free(t.p);
    }
}

/* Bad rows at the first row, part boundaries, the end, and two in different parts. */
static const size_t bad_sets[][2] = {{0, 0},       {63, 63},     {64, 64},
                                     {999, 999},   {1000, 1000}, {1500, 1500},
                                     {1999, 1999}, {1900, 250},  {260, 1200}};

static void test_csv_first_bad_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_sets) / sizeof(bad_sets[0]); i++) {
        struct text t = csv_rows(2000, bad_sets[i], 2);
        check_same(&t, SMG_ROWS_CSV, 0);
        free(t.p);
    }
    /* And the message is the earliest line's: row 250 is line 251 + 14 blank lines. */
    struct text t = csv_rows(2000, bad_sets[7], 2);
    struct smg_format fmt = fmt_of(SMG_ROWS_CSV);
    struct smg_error err;
    float *rows = NULL;
    size_t n;
    assert_int_equal(frame_decode_all(&t, &fmt, 2000, 4, t.len + 1, &rows, &n, &err), SMG_EFORMAT);
    assert_string_equal(err.msg, "test.bin: line 265, column 4: not a number: \"oops\"");
    free(rows);
    free(t.p);
}

static void test_recordio_first_bad_record(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_sets) / sizeof(bad_sets[0]); i++) {
        struct text t = recordio_rows(2000, bad_sets[i], 2);
        check_same(&t, SMG_ROWS_RECORDIO_PROTOBUF, 0);
        free(t.p);
    }
    struct text t = recordio_rows(2000, bad_sets[7], 2);
    struct smg_format fmt = fmt_of(SMG_ROWS_RECORDIO_PROTOBUF);
    struct smg_error err;
    float *rows = NULL;
    size_t n;
    assert_int_equal(frame_decode_all(&t, &fmt, 2000, 4, t.len + 1, &rows, &n, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "test.bin: record 250 at byte "));
    assert_non_null(strstr(err.msg, "4 features, expected 5"));
    free(rows);
    free(t.p);
}

/* A bad record and then a truncated one: the bad record is reported, as on one thread. */
static void test_recordio_bad_record_before_truncation(void **state)
{
    static const size_t bad[] = {700};
    (void)state;
    struct text t = recordio_rows(1500, bad, 1);
    t.len -= 3; /* cut into the last record */
    check_same(&t, SMG_ROWS_RECORDIO_PROTOBUF, 0);
    free(t.p);
    t = recordio_rows(1500, NULL, 0);
    t.len -= 3; /* no bad record: the framing error itself */
    check_same(&t, SMG_ROWS_RECORDIO_PROTOBUF, 0);
    free(t.p);
}

/* A bad line and then one over max_record_bytes: the bad line is reported. */
static void test_csv_bad_line_before_long_line(void **state)
{
    static const size_t bad[] = {300};
    struct smg_format fmt = fmt_of(SMG_ROWS_CSV);
    struct smg_error serr, perr;
    float *a = NULL, *b = NULL;
    size_t na, nb;
    (void)state;

    fmt.max_record_bytes = 4096;
    for (int with_bad = 0; with_bad < 2; with_bad++) {
        struct text t = csv_rows(800, bad, (size_t)with_bad);
        put(&t, "\n1", 2);
        for (int i = 0; i < 5000; i++)
            put(&t, "0", 1);
        put(&t, ",2,3,4,5,6\n", 11);
        int src = decode_all(t.p, t.len, &fmt, 0, &a, &na, &serr);
        int prc = frame_decode_all(&t, &fmt, 1000, 3, 97, &b, &nb, &perr);
        assert_int_equal(src, SMG_EFORMAT);
        assert_int_equal(prc, src);
        assert_string_equal(perr.msg, serr.msg);
        assert_non_null(strstr(perr.msg, with_bad ? "not a number" : "longer than the maximum"));
        free(a);
        free(b);
        free(t.p);
    }
}

/* Every allocation the split makes, failed in turn: a clean SMG_ENOMEM, nothing leaked. */
static void test_out_of_memory_is_clean(void **state)
{
    struct text t = csv_rows(3000, NULL, 0);
    struct smg_format fmt = fmt_of(SMG_ROWS_CSV);
    struct smg_error err;
    bool succeeded = false;
    (void)state;

    for (long n = 0; n < 40 && !succeeded; n++) {
        float *rows = NULL;
        size_t nrows = 0;
        smg_alloc_fail_after(n);
        int rc = frame_decode_all(&t, &fmt, 3000, 2, t.len + 1, &rows, &nrows, &err);
        smg_alloc_reset();
        if (rc == SMG_OK) {
            succeeded = true;
            assert_int_equal(nrows, 3000);
        } else {
            assert_int_equal(rc, SMG_ENOMEM);
            assert_true(err.msg[0] != '\0');
        }
        free(rows);
    }
    assert_true(succeeded);
    free(t.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_same_bytes),
        cmocka_unit_test(test_recordio_same_bytes),
        cmocka_unit_test(test_csv_first_bad_line),
        cmocka_unit_test(test_recordio_first_bad_record),
        cmocka_unit_test(test_recordio_bad_record_before_truncation),
        cmocka_unit_test(test_csv_bad_line_before_long_line),
        cmocka_unit_test(test_out_of_memory_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Fuzz target for decoding on several threads: the input is read twice, by
 * the row reader on one thread and by framing plus the batch decoder
 * (rows.h smg_row_reader_frame, batch_decode.h) filling batches as the
 * channel does, and both must agree exactly:
 * the same rows (bytes) in every batch delivered, the same status and the
 * same message at the end. The first byte picks the format (CSV or
 * recordIO-protobuf), feature_dim (1..4), label_size (CSV, 0..1) and the
 * decode threads (1..3); the second the batch size (1..256).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/batch_decode.h"
#include "io/rows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ROWS 4096

struct result {
    float rows[MAX_ROWS * 4];
    size_t n;
    int rc;
    struct smg_error err;
};

static struct result one, many;

static void read_serial(const uint8_t *p, size_t len, const struct smg_format *fmt, size_t batch,
                        struct result *res)
{
    struct smg_stream *s = NULL;
    struct smg_row_reader *r = NULL;
    static float buf[256 * 4];

    memset(res, 0, sizeof(*res));
    smg_error_clear(&res->err);
    if ((res->rc = smg_stream_open_memory(p, len, "fuzz", &s, &res->err)) == SMG_OK)
        res->rc = smg_row_reader_new(s, fmt, &r, &res->err);
    while (res->rc == SMG_OK && res->n + batch <= MAX_ROWS) {
        size_t got = 0;
        res->rc = smg_row_reader_next(r, buf, batch, &got, &res->err);
        if (res->rc != SMG_OK || got == 0)
            break;
        memcpy(res->rows + res->n * fmt->feature_dim, buf, got * fmt->feature_dim * sizeof(float));
        res->n += got;
    }
    smg_row_reader_free(r);
    smg_stream_free(s);
}

static void read_framed(const uint8_t *p, size_t len, const struct smg_format *fmt, size_t batch,
                        unsigned threads, struct result *res)
{
    struct smg_stream *s = NULL;
    struct smg_row_reader *r = NULL;
    struct smg_batch_decoder *d = NULL;
    struct smg_row_spans sp;
    static float buf[256 * 4];

    memset(res, 0, sizeof(*res));
    smg_error_clear(&res->err);
    smg_row_spans_init(&sp, fmt);
    if ((res->rc = smg_stream_open_memory(p, len, "fuzz", &s, &res->err)) == SMG_OK)
        res->rc = smg_row_reader_new(s, fmt, &r, &res->err);
    if (res->rc == SMG_OK && smg_batch_decoder_new(threads, NULL, &d, &res->err) != SMG_OK)
        abort();
    /* As the channel does: frame and decode into the batch until it is full or the data ends. */
    size_t filled = 0;
    while (res->rc == SMG_OK && res->n + batch <= MAX_ROWS) {
        size_t got = 0;
        res->rc = smg_row_reader_frame(r, &sp, batch - filled, &got, &res->err);
        if (res->rc == SMG_OK && sp.count > 0)
            res->rc = smg_batch_decode_run(d, &sp, buf + filled * fmt->feature_dim, &res->err);
        smg_row_spans_clear(&sp);
        filled += got;
        if (res->rc != SMG_OK || (got == 0 && filled == 0))
            break;
        if (filled == batch || got == 0) {
            memcpy(res->rows + res->n * fmt->feature_dim, buf,
                   filled * fmt->feature_dim * sizeof(float));
            res->n += filled;
            filled = 0;
        }
    }
    smg_row_spans_free(&sp);
    smg_batch_decoder_free(d);
    smg_row_reader_free(r);
    smg_stream_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smg_format fmt;

    if (size < 2)
        return 0;
    memset(&fmt, 0, sizeof(fmt));
    fmt.rows = (data[0] & 1) ? SMG_ROWS_CSV : SMG_ROWS_RECORDIO_PROTOBUF;
    fmt.feature_dim = (size_t)((data[0] >> 1) & 3) + 1;
    fmt.label_size = fmt.rows == SMG_ROWS_CSV ? (size_t)((data[0] >> 3) & 1) : 0;
    fmt.max_record_bytes = 1 << 16;
    unsigned threads = (unsigned)((data[0] >> 4) % 3) + 1;
    size_t batch = (size_t)data[1] + 1;
    read_serial(data + 2, size - 2, &fmt, batch, &one);
    read_framed(data + 2, size - 2, &fmt, batch, threads, &many);
    if (one.rc != many.rc || strcmp(one.err.msg, many.err.msg) != 0 || one.n != many.n ||
        memcmp(one.rows, many.rows, one.n * fmt.feature_dim * sizeof(float)) != 0)
        abort();
    return 0;
}

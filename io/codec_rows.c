/*
 * Request bodies through the training row readers (contract: codec_util.h).
 *
 * The body is wrapped in a memory stream and read with rows.h, growing the
 * output matrix by doubling from the codec's first guess. Invariant: nothing
 * is written past the allocated rows, and the matrix never grows past
 * max_rows; one row more than max_rows is an error, not a truncation.
 */
#include "io/codec_util.h"

#include "io/base/alloc.h"
#include "io/stream.h"

/* The output matrix as it grows: n rows of d floats filled, room for cap. */
struct row_buf {
    float *x;
    size_t n, cap, d;
};

/* Resize b to ncap rows (b->x may be NULL). */
static enum smg_status resize_rows(struct row_buf *b, size_t ncap, struct smg_error *err)
{
    size_t bytes;
    float *nx;

    if (!smg_mul_size(ncap, b->d * sizeof(float), &bytes) ||
        (nx = smg_realloc(b->x, bytes)) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory for %zu request rows", ncap);
    b->x = nx;
    b->cap = ncap;
    return SMG_OK;
}

/* At max_rows: one more row means the request is too big. */
static enum smg_status expect_no_more_rows(struct smg_row_reader *r, size_t d, size_t max_rows,
                                           struct smg_error *err)
{
    float *extra = smg_malloc(d * sizeof(float));
    size_t got;
    int rc;

    if (extra == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory decoding request");
    rc = smg_row_reader_next(r, extra, 1, &got, err);
    if (rc == SMG_OK && got != 0)
        rc = smg_error_set(err, SMG_EFORMAT,
                           "request has more than %zu rows, the most this server accepts for "
                           "%zu features",
                           max_rows, d);
    smg_free(extra);
    return (enum smg_status)rc;
}

/* Read every row of r into b, doubling it up to max_rows. */
static enum smg_status read_rows(struct smg_row_reader *r, size_t max_rows, struct row_buf *b,
                                 struct smg_error *err)
{
    for (;;) {
        size_t got;
        int rc;
        if (b->n == b->cap) {
            if (b->cap == max_rows)
                return expect_no_more_rows(r, b->d, max_rows, err);
            rc = resize_rows(b, b->cap * 2 > max_rows ? max_rows : b->cap * 2, err);
            if (rc != SMG_OK)
                return (enum smg_status)rc;
        }
        rc = smg_row_reader_next(r, b->x + b->n * b->d, b->cap - b->n, &got, err);
        if (rc != SMG_OK || got == 0)
            return (enum smg_status)rc;
        b->n += got;
    }
}

enum smg_status smg_codec_decode_rows(enum smg_row_kind kind, size_t label_size,
                                      size_t initial_rows, const void *body, size_t len, size_t d,
                                      size_t max_rows, float **rows_out, size_t *nrows,
                                      struct smg_error *err)
{
    struct smg_format rf = {0};
    struct smg_stream *s = NULL;
    struct smg_row_reader *r = NULL;
    struct row_buf b = {NULL, 0, 0, d};
    int rc;

    rf.rows = kind;
    rf.feature_dim = d;
    rf.label_size = label_size;
    rf.max_record_bytes = len + 1;
    if (initial_rows > max_rows)
        initial_rows = max_rows;
    if ((rc = smg_stream_open_memory(body, len, "request body", &s, err)) != SMG_OK ||
        (rc = smg_row_reader_new(s, &rf, &r, err)) != SMG_OK ||
        (rc = resize_rows(&b, initial_rows, err)) != SMG_OK ||
        (rc = read_rows(r, max_rows, &b, err)) != SMG_OK)
        goto out;
    if (b.n == 0) {
        rc = smg_error_set(err, SMG_EFORMAT, "request body has no rows");
        goto out;
    }
    *rows_out = b.x;
    *nrows = b.n;
    b.x = NULL;
out:
    smg_free(b.x);
    smg_row_reader_free(r);
    smg_stream_free(s);
    return (enum smg_status)rc;
}

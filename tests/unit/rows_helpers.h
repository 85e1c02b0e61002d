/*
 * Helpers shared by the io format tests: run a struct smg_row_reader over a
 * memory buffer (optionally through a stream that hands out tiny reads, to
 * exercise buffer boundaries) and collect every row or the first error.
 */
#ifndef SMG_TEST_ROWS_HELPERS_H
#define SMG_TEST_ROWS_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/rows.h"
#include "io/stream.h"

struct drip {
    const unsigned char *p;
    size_t len, pos, step;
};

static inline int drip_read(void *ctx, void *dst, size_t cap, size_t *got, struct smg_error *err)
{
    struct drip *d = ctx;
    size_t n = d->len - d->pos;
    (void)err;
    if (n > cap)
        n = cap;
    if (n > d->step)
        n = d->step;
    memcpy(dst, d->p + d->pos, n);
    d->pos += n;
    *got = n;
    return SMG_OK;
}

/*
 * Decode all of buf. Returns the status; rows go to *out (malloc'd, caller
 * frees), their count to *nrows; err holds the message. step > 0 delivers at
 * most step bytes per read.
 */
static inline int decode_all(const void *buf, size_t len, const struct smg_format *fmt, size_t step,
                             float **out, size_t *nrows, struct smg_error *err)
{
    struct smg_stream *s = NULL;
    struct smg_row_reader *r = NULL;
    struct drip d = {buf, len, 0, step};
    size_t cap = 16, n = 0, dim = fmt->feature_dim;
    float *rows = malloc(cap * dim * sizeof(float));
    int rc;

    smg_error_clear(err);
    if (step > 0)
        rc = smg_stream_open_custom(&d, drip_read, NULL, "test.bin", &s, err);
    else
        rc = smg_stream_open_memory(buf, len, "test.bin", &s, err);
    if (rc == SMG_OK)
        rc = smg_row_reader_new(s, fmt, &r, err);
    while (rc == SMG_OK) {
        size_t got;
        if (n + 7 > cap) {
            cap *= 2;
            rows = realloc(rows, cap * dim * sizeof(float));
        }
        rc = smg_row_reader_next(r, rows + n * dim, 7, &got, err);
        n += got;
        if (rc == SMG_OK && got == 0)
            break;
    }
    if (r != NULL && rc == SMG_OK && smg_row_reader_records(r) != n)
        rc = -100;
    smg_row_reader_free(r);
    smg_stream_free(s);
    *out = rows;
    *nrows = n;
    return rc;
}

#endif

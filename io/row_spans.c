/*
 * Framed rows and their decoding (contract: row_spans.h).
 *
 * Each row is decoded by the same function the row reader uses, on the same
 * bytes: smg_record_decode_fast for a recordIO-protobuf payload, smg_csv_parse
 * (final, one row) for a CSV line, with the line counter set to the line
 * before it, so values, NaN/range checks and every message are those of the
 * single-threaded path. The row table grows by doubling, size arithmetic
 * checked, and keeps its capacity.
 */
#include "io/row_spans.h"

#include <string.h>

#include "io/base/alloc.h"
#include "io/csv.h"
#include "io/record_decode.h"

void smg_row_spans_init(struct smg_row_spans *sp, const struct smg_format *fmt)
{
    memset(sp, 0, sizeof(*sp));
    sp->kind = fmt->rows;
    sp->feature_dim = fmt->feature_dim;
    sp->label_size = fmt->rows == SMG_ROWS_CSV ? fmt->label_size : 0;
}

static bool grow_rows(struct smg_row_spans *sp)
{
    size_t n = sp->rows_cap > 0 ? sp->rows_cap : 256, bytes;
    struct smg_row_span *nb;

    if (!smg_mul_size(n, 2, &n) || !smg_mul_size(n, sizeof(*sp->rows), &bytes))
        return false;
    if ((nb = smg_realloc(sp->rows, bytes)) == NULL)
        return false;
    sp->rows = nb;
    sp->rows_cap = n;
    return true;
}

enum smg_status smg_row_spans_reserve(struct smg_row_spans *sp, size_t extra, const char *name,
                                      struct smg_error *err)
{
    while (sp->rows_cap - sp->count < extra)
        if (!grow_rows(sp))
            return smg_error_set(err, SMG_ENOMEM,
                                 "%s: out of memory framing a mini-batch (%zu rows)", name,
                                 sp->count + extra);
    return SMG_OK;
}

enum smg_status smg_row_spans_push(struct smg_row_spans *sp, const void *data, size_t len,
                                   const char *name, uint64_t where, uint64_t byte,
                                   struct smg_error *err)
{
    struct smg_row_span *row;

    if (sp->count == sp->rows_cap && !grow_rows(sp))
        return smg_error_set(err, SMG_ENOMEM, "%s: out of memory framing a mini-batch (%zu rows)",
                             name, sp->count + 1);
    row = &sp->rows[sp->count++];
    row->data = data;
    row->len = len;
    row->where = where;
    row->byte = byte;
    row->name = name;
    return SMG_OK;
}

/* One row, as the row reader decodes it, with its location prefixed on error. */
static int decode_row(const struct smg_row_spans *sp, const struct smg_row_span *row, float *out,
                      struct smg_error *err)
{
    int rc;

    if (sp->kind == SMG_ROWS_RECORDIO_PROTOBUF) {
        rc = smg_record_decode_fast(row->data, row->len, sp->feature_dim, out, err);
        if (rc != SMG_OK)
            smg_error_prefix(err, "%s: record %ju at byte %ju: ", row->name, (uintmax_t)row->where,
                             (uintmax_t)row->byte);
        return rc;
    }
    struct smg_csv_state st = {sp->label_size, sp->feature_dim, row->where - 1};
    size_t rows = 0, used = 0;
    rc = smg_csv_parse(&st, (const char *)row->data, row->len, true, out, 1, &rows, &used, err);
    if (rc != SMG_OK)
        smg_error_prefix(err, "%s: ", row->name);
    else if (rows != 1)
        rc = smg_error_set(err, SMG_EINTERNAL, "%s: line %ju framed as a row holds none", row->name,
                           (uintmax_t)row->where);
    return rc;
}

enum smg_status smg_row_spans_decode(const struct smg_row_spans *sp, size_t begin, size_t end,
                                     float *out, size_t *bad, struct smg_error *err)
{
    for (size_t i = begin; i < end; i++) {
        int rc = decode_row(sp, &sp->rows[i], out + i * sp->feature_dim, err);
        if (rc != SMG_OK) {
            *bad = i;
            return (enum smg_status)rc;
        }
    }
    return SMG_OK;
}

void smg_row_spans_clear(struct smg_row_spans *sp)
{
    sp->count = 0;
}

void smg_row_spans_free(struct smg_row_spans *sp)
{
    if (sp == NULL)
        return;
    smg_free(sp->rows);
    memset(sp, 0, sizeof(*sp));
}

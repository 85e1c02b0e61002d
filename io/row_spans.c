/*
 * Framed rows of one mini-batch and their decoding (contract: row_spans.h).
 *
 * Each row is decoded by the same function the row reader uses, on the same
 * bytes: smg_record_decode_fast for a recordIO-protobuf payload, smg_csv_parse
 * (final, one row) for a CSV line, with the line counter set to the line
 * before it, so values, NaN/range checks and every message are those of the
 * single-threaded path. The arena and row table grow by doubling and keep
 * their capacity across batches; all size arithmetic is checked.
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

/* Grow *buf (of *cap elements of size esize) to hold at least need elements. */
static bool grow(void **buf, size_t *cap, size_t need, size_t esize)
{
    size_t n = *cap > 0 ? *cap : 64, bytes;

    if (need <= *cap)
        return true;
    while (n < need)
        if (!smg_mul_size(n, 2, &n))
            return false;
    if (!smg_mul_size(n, esize, &bytes))
        return false;
    void *nb = smg_realloc(*buf, bytes);
    if (nb == NULL)
        return false;
    *buf = nb;
    *cap = n;
    return true;
}

enum smg_status smg_row_spans_source(struct smg_row_spans *sp, const char *name,
                                     struct smg_error *err)
{
    char *copy;

    if (sp->nnames > 0 && strcmp(sp->names[sp->nnames - 1], name) == 0)
        return SMG_OK;
    if (sp->nnames >= UINT32_MAX ||
        !grow((void **)&sp->names, &sp->names_cap, sp->nnames + 1, sizeof(char *)) ||
        (copy = smg_strdup(name)) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "%s: out of memory framing a mini-batch", name);
    sp->names[sp->nnames++] = copy;
    return SMG_OK;
}

enum smg_status smg_row_spans_push(struct smg_row_spans *sp, const void *data, size_t len,
                                   uint64_t where, uint64_t byte, struct smg_error *err)
{
    size_t need;
    struct smg_row_span *row;

    if (sp->nnames == 0)
        return smg_error_set(err, SMG_EINTERNAL, "row spans: a row pushed before its source");
    if (len < sp->arena_cap - sp->arena_len && sp->count < sp->rows_cap)
        need = sp->arena_len + len; /* fits: the common case, no growth */
    else if (!smg_add_size(sp->arena_len, len, &need) ||
             !grow((void **)&sp->arena, &sp->arena_cap, need + 1, 1) || /* never NULL: empty rows */
             !grow((void **)&sp->rows, &sp->rows_cap, sp->count + 1, sizeof(*sp->rows)))
        return smg_error_set(err, SMG_ENOMEM, "%s: out of memory framing a mini-batch (%zu rows)",
                             sp->names[sp->nnames - 1], sp->count + 1);
    if (len > 0)
        memcpy(sp->arena + sp->arena_len, data, len);
    row = &sp->rows[sp->count++];
    row->off = sp->arena_len;
    row->len = len;
    row->where = where;
    row->byte = byte;
    row->source = (uint32_t)(sp->nnames - 1);
    sp->arena_len = need;
    return SMG_OK;
}

/* One row, as the row reader decodes it, with its location prefixed on error. */
static int decode_row(const struct smg_row_spans *sp, const struct smg_row_span *row, float *out,
                      struct smg_error *err)
{
    const uint8_t *data = sp->arena + row->off;
    const char *name = sp->names[row->source];
    int rc;

    if (sp->kind == SMG_ROWS_RECORDIO_PROTOBUF) {
        rc = smg_record_decode_fast(data, row->len, sp->feature_dim, out, err);
        if (rc != SMG_OK)
            smg_error_prefix(err, "%s: record %ju at byte %ju: ", name, (uintmax_t)row->where,
                             (uintmax_t)row->byte);
        return rc;
    }
    struct smg_csv_state st = {sp->label_size, sp->feature_dim, row->where - 1};
    size_t rows = 0, used = 0;
    rc = smg_csv_parse(&st, (const char *)data, row->len, true, out, 1, &rows, &used, err);
    if (rc != SMG_OK)
        smg_error_prefix(err, "%s: ", name);
    else if (rows != 1)
        rc = smg_error_set(err, SMG_EINTERNAL, "%s: line %ju framed as a row holds none", name,
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
    for (size_t i = 0; i < sp->nnames; i++)
        smg_free(sp->names[i]);
    sp->nnames = 0;
    sp->count = 0;
    sp->arena_len = 0;
}

void smg_row_spans_free(struct smg_row_spans *sp)
{
    if (sp == NULL)
        return;
    smg_row_spans_clear(sp);
    smg_free(sp->names);
    smg_free(sp->arena);
    smg_free(sp->rows);
    memset(sp, 0, sizeof(*sp));
}

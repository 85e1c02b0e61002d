/*
 * Row readers (contract: rows.h): content types through the one media-type
 * parser (media_type.h), whose table row's codec (codec.h) names the row
 * reader, and dispatch to the readers.
 *
 * recordIO-protobuf: recordio.c frames the stream, record_decode.c turns each
 * payload into one row (fast path, protobuf-c fallback).
 * CSV: csv.c parses lines out of a 1 MiB buffer; an unfinished last line is
 * moved to the front and completed by the next read, and a line that does not
 * fit in max_record_bytes is an error.
 * CSV under RecordWrapperType=RecordIO: each RecordIO payload is a whole CSV
 * object (line numbers restart at 1 in every record).
 *
 * Decoding errors get the location prefixed here: "<stream>: record N at byte
 * B: ..." for recordIO, "<stream>: line L, column C: ..." for CSV.
 */
#include "io/rows.h"

#include <string.h>

#include "io/base/alloc.h"
#include "io/codec.h"
#include "io/csv.h"
#include "io/media_type.h"
#include "io/record_decode.h"
#include "io/recordio.h"
#include "io/row_spans.h"

#define CSV_CHUNK ((size_t)1 << 20)

struct smg_row_reader {
    struct smg_stream *s;
    struct smg_format fmt;
    uint64_t rows;
    struct smg_recordio_reader *rio; /* recordIO-protobuf and wrapped CSV */
    /* recordIO-protobuf: a record read by peek_sparse, not yet decoded */
    const uint8_t *peeked;
    size_t peeked_len;
    bool have_peeked;
    struct smg_csv_state csv;
    /* wrapped CSV: the record being parsed */
    const uint8_t *rec;
    size_t rec_len, rec_pos;
    bool have_rec;
    /* plain CSV */
    char *buf;
    size_t cap, pos, end;
    bool eof;
};

/* "application/x-recordio-protobuf, text/csv (optionally text/csv;label_size=N)" */
static int unsupported(const char *ct, struct smg_error *err)
{
    return smg_error_set(err, SMG_ECONFIG,
                         "unsupported content type '%s'; supported: %s (optionally "
                         "text/csv;label_size=N)",
                         ct, smg_media_supported(SMG_MEDIA_TRAIN));
}

enum smg_status smg_format_parse_content_type(const char *content_type, struct smg_format *fmt,
                                              struct smg_error *err)
{
    struct smg_media_type mt;
    struct smg_error why;
    enum smg_status rc;

    if (content_type == NULL) {
        fmt->rows = SMG_ROWS_RECORDIO_PROTOBUF;
        return SMG_OK;
    }
    smg_error_clear(&why);
    rc = smg_media_type_parse(content_type, strlen(content_type), SMG_MEDIA_TRAIN, &mt, &why);
    if (mt.type_len == 0 && strchr(content_type, ';') == NULL) {
        fmt->rows = SMG_ROWS_RECORDIO_PROTOBUF; /* "" or blank: the default */
        return SMG_OK;
    }
    if (mt.entry == NULL)
        return unsupported(content_type, err);
    if ((rc != SMG_OK || mt.has_label_size) && !mt.entry->codec->label_size)
        return smg_error_set(err, SMG_ECONFIG,
                             "content type '%s': label_size applies to text/csv only",
                             content_type);
    if (rc != SMG_OK)
        return smg_error_set(err, SMG_ECONFIG,
                             "invalid label_size in content type '%s': expected a number of label "
                             "columns such as text/csv;label_size=0",
                             content_type);
    if (mt.bad_param != NULL)
        return smg_error_set(err, SMG_ECONFIG,
                             "malformed parameter '%.*s' in content type '%s'; supported: %s "
                             "(optionally text/csv;label_size=N)",
                             (int)(mt.bad_param_len > 40 ? 40 : mt.bad_param_len), mt.bad_param,
                             content_type, smg_media_supported(SMG_MEDIA_TRAIN));
    fmt->rows = mt.entry->codec->rows;
    fmt->label_size = mt.has_label_size ? mt.label_size : 0;
    return SMG_OK;
}

enum smg_status smg_row_reader_new(struct smg_stream *s, const struct smg_format *fmt,
                                   struct smg_row_reader **out, struct smg_error *err)
{
    struct smg_row_reader *r;
    int rc = SMG_OK;

    *out = NULL;
    if (fmt->feature_dim == 0)
        return smg_error_set(err, SMG_ECONFIG, "feature_dim must be at least 1");
    if (fmt->rows != SMG_ROWS_RECORDIO_PROTOBUF && fmt->rows != SMG_ROWS_CSV)
        return smg_error_set(err, SMG_ECONFIG, "no row reader for row kind %d", (int)fmt->rows);
    r = smg_calloc(1, sizeof(*r));
    if (r == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory creating a row reader");
    r->s = s;
    r->fmt = *fmt;
    if (r->fmt.max_record_bytes == 0)
        r->fmt.max_record_bytes = SMG_DEFAULT_MAX_RECORD_BYTES;
    r->csv.label_size = fmt->rows == SMG_ROWS_CSV ? fmt->label_size : 0;
    r->csv.feature_dim = fmt->feature_dim;
    if (fmt->rows == SMG_ROWS_RECORDIO_PROTOBUF || fmt->recordio_wrapped) {
        rc = smg_recordio_reader_new(s, r->fmt.max_record_bytes, &r->rio, err);
    } else {
        r->cap = CSV_CHUNK < r->fmt.max_record_bytes ? CSV_CHUNK : r->fmt.max_record_bytes;
        r->buf = smg_malloc(r->cap);
        if (r->buf == NULL)
            rc = smg_error_set(err, SMG_ENOMEM, "out of memory creating a CSV reader");
    }
    if (rc != SMG_OK) {
        smg_row_reader_free(r);
        return rc;
    }
    *out = r;
    return SMG_OK;
}

/* The next recordIO payload: the peeked one first. SMG_EEOF at the end. */
static int next_record(struct smg_row_reader *r, const uint8_t **data, size_t *len,
                       struct smg_error *err)
{
    if (r->have_peeked) {
        r->have_peeked = false;
        *data = r->peeked;
        *len = r->peeked_len;
        return SMG_OK;
    }
    return smg_recordio_next(r->rio, data, len, err);
}

static int record_error(struct smg_row_reader *r, int rc, struct smg_error *err)
{
    smg_error_prefix(err, "%s: record %ju at byte %ju: ", smg_stream_name(r->s),
                     (uintmax_t)smg_recordio_index(r->rio), (uintmax_t)smg_recordio_offset(r->rio));
    return rc;
}

static int next_protobuf(struct smg_row_reader *r, float *out, size_t max_rows, size_t *got,
                         struct smg_error *err)
{
    size_t dim = r->fmt.feature_dim;

    for (size_t n = 0; n < max_rows; n++) {
        const uint8_t *data;
        size_t len;
        int rc = next_record(r, &data, &len, err);
        if (rc == SMG_EEOF)
            return SMG_OK;
        if (rc != SMG_OK)
            return rc;
        rc = smg_record_decode_fast(data, len, dim, out + n * dim, err);
        if (rc != SMG_OK)
            return record_error(r, rc, err);
        (*got)++;
    }
    return SMG_OK;
}

enum smg_status smg_row_reader_peek_sparse(struct smg_row_reader *r, bool *sparse, bool *empty,
                                           struct smg_error *err)
{
    int rc;

    *sparse = false;
    *empty = false;
    if (r->fmt.rows != SMG_ROWS_RECORDIO_PROTOBUF)
        return SMG_OK;
    if (!r->have_peeked) {
        rc = smg_recordio_next(r->rio, &r->peeked, &r->peeked_len, err);
        if (rc == SMG_EEOF) {
            *empty = true;
            return SMG_OK;
        }
        if (rc != SMG_OK)
            return (enum smg_status)rc;
        r->have_peeked = true;
    }
    *sparse = smg_record_is_sparse(r->peeked, r->peeked_len);
    return SMG_OK;
}

enum smg_status smg_row_reader_next_csr(struct smg_row_reader *r, struct smg_csr_buf *out,
                                        size_t max_rows, size_t *got, struct smg_error *err)
{
    *got = 0;
    if (r->fmt.rows != SMG_ROWS_RECORDIO_PROTOBUF)
        return smg_error_set(err, SMG_EINTERNAL, "%s: sparse batches need recordIO-protobuf",
                             smg_stream_name(r->s));
    while (*got < max_rows) {
        const uint8_t *data;
        size_t len;
        int rc = next_record(r, &data, &len, err);
        if (rc == SMG_EEOF)
            break;
        if (rc != SMG_OK)
            return (enum smg_status)rc;
        rc = smg_record_decode_csr(data, len, r->fmt.feature_dim, out, err);
        if (rc != SMG_OK)
            return (enum smg_status)record_error(r, rc, err);
        (*got)++;
    }
    r->rows += *got;
    return SMG_OK;
}

static int next_wrapped_csv(struct smg_row_reader *r, float *out, size_t max_rows, size_t *got,
                            struct smg_error *err)
{
    while (*got < max_rows) {
        size_t rows, used;
        int rc;
        if (!r->have_rec || r->rec_pos == r->rec_len) {
            const uint8_t *data;
            size_t len;
            r->have_rec = false;
            rc = smg_recordio_next(r->rio, &data, &len, err);
            if (rc == SMG_EEOF)
                return SMG_OK;
            if (rc != SMG_OK)
                return rc;
            r->rec = data;
            r->rec_len = len;
            r->have_rec = true;
            r->rec_pos = 0;
            r->csv.lines = 0;
            if (r->rec_len == 0)
                continue;
        }
        rc =
            smg_csv_parse(&r->csv, (const char *)r->rec + r->rec_pos, r->rec_len - r->rec_pos, true,
                          out + *got * r->fmt.feature_dim, max_rows - *got, &rows, &used, err);
        r->rec_pos += used;
        *got += rows;
        if (rc != SMG_OK) {
            smg_error_prefix(err, "%s: record %ju at byte %ju: ", smg_stream_name(r->s),
                             (uintmax_t)smg_recordio_index(r->rio),
                             (uintmax_t)smg_recordio_offset(r->rio));
            return rc;
        }
    }
    return SMG_OK;
}

/*
 * Plain CSV: move the unfinished line down to the front of the buffer, grow
 * the buffer when that line fills it (up to max_record_bytes), and read more.
 */
static int refill_csv(struct smg_row_reader *r, struct smg_error *err)
{
    size_t n;
    int rc;

    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        r->end -= r->pos;
        r->pos = 0;
    }
    if (r->end == r->cap) {
        size_t max = r->fmt.max_record_bytes;
        if (r->cap >= max)
            return smg_error_set(err, SMG_EFORMAT,
                                 "%s: line %ju is longer than the maximum of %zu bytes",
                                 smg_stream_name(r->s), (uintmax_t)r->csv.lines + 1, max);
        size_t cap = r->cap > max / 2 ? max : r->cap * 2;
        char *nb = smg_realloc(r->buf, cap);
        if (nb == NULL)
            return smg_error_set(err, SMG_ENOMEM, "%s: out of memory for a %zu-byte line",
                                 smg_stream_name(r->s), cap);
        r->buf = nb;
        r->cap = cap;
    }
    rc = smg_stream_read(r->s, r->buf + r->end, r->cap - r->end, &n, err);
    if (rc != SMG_OK)
        return rc;
    if (n == 0)
        r->eof = true;
    r->end += n;
    return SMG_OK;
}

/* Plain CSV: parse what is buffered, then read more. */
static int next_csv(struct smg_row_reader *r, float *out, size_t max_rows, size_t *got,
                    struct smg_error *err)
{
    while (*got < max_rows) {
        size_t rows, used;
        int rc = smg_csv_parse(&r->csv, r->buf + r->pos, r->end - r->pos, r->eof,
                               out + *got * r->fmt.feature_dim, max_rows - *got, &rows, &used, err);
        r->pos += used;
        *got += rows;
        if (rc != SMG_OK) {
            smg_error_prefix(err, "%s: ", smg_stream_name(r->s));
            return rc;
        }
        if (*got == max_rows || (r->eof && r->pos == r->end))
            return SMG_OK;
        if ((rc = refill_csv(r, err)) != SMG_OK)
            return rc;
    }
    return SMG_OK;
}

/*
 * Plain CSV framing: the buffered complete lines (and the last one at EOF) as
 * spans into the buffer, each without its newline but with any CR
 * (smg_csv_parse strips it, as it does here); blank lines are counted and
 * skipped as smg_csv_parse does.
 */
static int frame_csv_lines(struct smg_row_reader *r, struct smg_row_spans *out, size_t max_rows,
                           size_t *got, struct smg_error *err)
{
    const char *name = smg_stream_name(r->s);

    while (*got < max_rows && r->pos < r->end) {
        const char *p = r->buf + r->pos, *end = r->buf + r->end;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl != NULL ? nl : end;
        if (nl == NULL && !r->eof)
            break;
        bool blank = le == p || (le - p == 1 && *p == '\r');
        if (!blank) {
            int rc = smg_row_spans_push(out, p, (size_t)(le - p), name, r->csv.lines + 1, 0, err);
            if (rc != SMG_OK)
                return rc;
            (*got)++;
        }
        r->csv.lines++;
        r->pos = (size_t)(le - r->buf) + (nl != NULL ? 1 : 0);
    }
    return SMG_OK;
}

/* Refill only when no framed row points into the buffer (got == 0). */
static int frame_csv(struct smg_row_reader *r, struct smg_row_spans *out, size_t max_rows,
                     size_t *got, struct smg_error *err)
{
    for (;;) {
        int rc = frame_csv_lines(r, out, max_rows, got, err);
        if (rc != SMG_OK || *got > 0 || (r->eof && r->pos == r->end))
            return rc;
        if ((rc = refill_csv(r, err)) != SMG_OK)
            return rc;
    }
}

/* Records framed per call into the recordIO reader's buffer. */
#define FRAME_RUN 64

/*
 * Whole records already buffered are taken as they are, FRAME_RUN at a time;
 * the general read (which may refill or move the buffer) only when no framed
 * row points into it yet (got == 0). A peeked record comes first.
 */

static int frame_protobuf(struct smg_row_reader *r, struct smg_row_spans *out, size_t max_rows,
                          size_t *got, struct smg_error *err)
{
    const char *name = smg_stream_name(r->s);

    while (*got < max_rows) {
        const uint8_t *data;
        size_t len;
        int rc = SMG_OK;
        if (!r->have_peeked) {
            /* The buffered records in runs: one call and one table check per run. */
            struct smg_recordio_rec recs[FRAME_RUN];
            size_t want = max_rows - *got < FRAME_RUN ? max_rows - *got : FRAME_RUN, n;
            if ((rc = smg_row_spans_reserve(out, want, name, err)) != SMG_OK)
                return rc;
            if ((n = smg_recordio_take_buffered(r->rio, recs, want)) > 0) {
                for (size_t i = 0; i < n; i++)
                    out->rows[out->count++] = (struct smg_row_span){
                        recs[i].data, recs[i].len, recs[i].index, recs[i].offset, name};
                *got += n;
                continue;
            }
            if (*got > 0)
                return SMG_OK;
        }
        rc = next_record(r, &data, &len, err);
        if (rc == SMG_EEOF)
            return SMG_OK;
        if (rc == SMG_OK)
            rc = smg_row_spans_push(out, data, len, name, smg_recordio_index(r->rio),
                                    smg_recordio_offset(r->rio), err);
        if (rc != SMG_OK)
            return rc;
        (*got)++;
    }
    return SMG_OK;
}

bool smg_row_reader_can_frame(const struct smg_row_reader *r)
{
    return r->fmt.rows == SMG_ROWS_RECORDIO_PROTOBUF ||
           (r->fmt.rows == SMG_ROWS_CSV && !r->fmt.recordio_wrapped);
}

enum smg_status smg_row_reader_frame(struct smg_row_reader *r, struct smg_row_spans *out,
                                     size_t max_rows, size_t *got, struct smg_error *err)
{
    int rc;

    *got = 0;
    if (!smg_row_reader_can_frame(r))
        return smg_error_set(err, SMG_EINTERNAL, "%s: this format is decoded on one thread",
                             smg_stream_name(r->s));
    if (r->fmt.rows == SMG_ROWS_RECORDIO_PROTOBUF)
        rc = frame_protobuf(r, out, max_rows, got, err);
    else
        rc = frame_csv(r, out, max_rows, got, err);
    r->rows += *got;
    return (enum smg_status)rc;
}

enum smg_status smg_row_reader_next(struct smg_row_reader *r, float *out, size_t max_rows,
                                    size_t *got, struct smg_error *err)
{
    int rc;

    *got = 0;
    if (r->fmt.rows == SMG_ROWS_RECORDIO_PROTOBUF)
        rc = next_protobuf(r, out, max_rows, got, err);
    else if (r->fmt.recordio_wrapped)
        rc = next_wrapped_csv(r, out, max_rows, got, err);
    else
        rc = next_csv(r, out, max_rows, got, err);
    r->rows += *got;
    return rc;
}

uint64_t smg_row_reader_records(const struct smg_row_reader *r)
{
    return r->rows;
}

void smg_row_reader_free(struct smg_row_reader *r)
{
    if (r == NULL)
        return;
    smg_recordio_reader_free(r->rio);
    smg_free(r->buf);
    smg_free(r);
}

/*
 * First-record probes (see records_probe.h): feature counting for `smalgo
 * records`, and the job's pre-training look at each File-mode file (is there a
 * record, is it well-formed, is it sparse). Reads at most one logical record
 * through the recordIO reader (bounded by max_record_bytes), or plain CSV up
 * to the end of its first non-empty line (at most 1 MiB of it is parsed).
 * Nothing here is on a hot path.
 */
#include "io/records_probe.h"

#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "io/base/alloc.h"
#include "io/csv.h"
#include "io/file_list.h"
#include "io/gzip.h"
#include "io/record_decode.h"
#include "io/recordio.h"

#define CSV_PROBE_BYTES ((size_t)1 << 20)
#define CSV_CHUNK_BYTES ((size_t)64 << 10)

static size_t csv_fields(const uint8_t *p, size_t len)
{
    size_t n = 1;

    for (size_t i = 0; i < len && p[i] != '\n' && p[i] != '\r'; i++)
        n += p[i] == ',';
    return n;
}

static enum smg_status csv_dim(const char *name, const uint8_t *p, size_t len,
                               const struct smg_format *fmt, size_t *dim, struct smg_error *err)
{
    size_t n = csv_fields(p, len);

    if (len == 0 || n <= fmt->label_size)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s: first line has %zu fields, not more than label_size %zu", name,
                             len ? n : 0, fmt->label_size);
    *dim = n - fmt->label_size;
    return SMG_OK;
}

/* Plain CSV: the first line of the first 1 MiB. */
static enum smg_status probe_csv(struct smg_stream *s, const struct smg_format *fmt, size_t *dim,
                                 struct smg_error *err)
{
    uint8_t *buf = smg_malloc(CSV_PROBE_BYTES);
    size_t len = 0;
    int rc;

    if (buf == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory probing %s", smg_stream_name(s));
    rc = smg_stream_read_full(s, buf, CSV_PROBE_BYTES, &len, err);
    if (rc == SMG_OK)
        rc = csv_dim(smg_stream_name(s), buf, len, fmt, dim, err);
    smg_free(buf);
    return (enum smg_status)rc;
}

/* recordIO-protobuf or wrapped CSV: the first logical record. */
static enum smg_status probe_record(struct smg_stream *s, const struct smg_format *fmt, size_t *dim,
                                    struct smg_error *err)
{
    size_t max = fmt->max_record_bytes ? fmt->max_record_bytes : SMG_DEFAULT_MAX_RECORD_BYTES;
    struct smg_recordio_reader *r = NULL;
    const uint8_t *data;
    size_t len;
    int rc = smg_recordio_reader_new(s, max, &r, err);

    if (rc == SMG_OK)
        rc = smg_recordio_next(r, &data, &len, err);
    if (rc == SMG_EEOF)
        rc = smg_error_set(err, SMG_EFORMAT,
                           "%s: no complete RecordIO record to infer the feature count from",
                           smg_stream_name(s));
    else if (rc == SMG_OK && fmt->rows == SMG_ROWS_CSV)
        rc = csv_dim(smg_stream_name(s), data, len, fmt, dim, err);
    else if (rc == SMG_OK && (rc = smg_record_feature_count(data, len, dim, err)) != SMG_OK)
        smg_error_prefix(err, "%s: record 0 at byte 0: ", smg_stream_name(s));
    if (rc == SMG_EFORMAT)
        smg_error_prefix(err, "cannot infer the feature count (pass --feature-dim): ");
    smg_recordio_reader_free(r);
    return (enum smg_status)rc;
}

enum smg_status smg_records_probe_stream(struct smg_stream *s, const struct smg_format *fmt,
                                         size_t *dim, struct smg_error *err)
{
    if (fmt->rows == SMG_ROWS_CSV && !fmt->recordio_wrapped)
        return probe_csv(s, fmt, dim, err);
    return probe_record(s, fmt, dim, err);
}

enum smg_status smg_records_probe_dim(const char *path, const struct smg_format *fmt, size_t *dim,
                                      struct smg_error *err)
{
    struct smg_file_list files = {NULL, 0};
    struct smg_stream *raw = NULL, *s = NULL;
    struct stat st;
    int rc;

    if (stat(path, &st) == 0 && S_ISFIFO(st.st_mode))
        return smg_error_set(err, SMG_ECONFIG,
                             "%s is a FIFO: pass --feature-dim (probing would consume it)", path);
    if ((rc = smg_file_list_scan(path, &files, err)) != SMG_OK)
        return (enum smg_status)rc;
    if (files.count == 0)
        rc = smg_error_set(err, SMG_EFORMAT, "no files under %s", path);
    if (rc == SMG_OK)
        rc = smg_file_open_sequential(files.paths[0], &raw, err);
    if (rc == SMG_OK && (rc = smg_gzip_detect(raw, &s, NULL, err)) == SMG_OK)
        rc = smg_records_probe_stream(s, fmt, dim, err);
    smg_stream_free(s);
    smg_file_list_clear(&files);
    return (enum smg_status)rc;
}

/* ---- smg_records_probe_first ------------------------------------------------ */

/*
 * Empty lines as csv.c skips them: nothing on the line but its LF, or one CR
 * and the LF. Scans p[0, len) from a line start, *cr carrying "the line so far
 * is one CR" across calls; returns the offset of the first byte that makes a
 * line non-empty (the line itself starts one byte earlier when *cr), or len.
 * *lines counts the empty lines passed.
 */
static size_t skip_empty_lines(const uint8_t *p, size_t len, bool *cr, uint64_t *lines)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '\n') {
            (*lines)++;
            *cr = false;
        } else if (p[i] == '\r' && !*cr) {
            *cr = true;
        } else {
            return i;
        }
    }
    return len;
}

/*
 * Parse one non-empty line (no LF; a final CR is dropped by the parser) as
 * line lines + 1 with every field past label_size a feature: the checks the
 * reader makes that need no feature_dim. Messages are csv.c's, unprefixed.
 */
static enum smg_status parse_line(const char *line, size_t len, uint64_t lines, size_t label_size,
                                  size_t *dim, struct smg_error *err)
{
    size_t fields = 1, rows = 0, used = 0;
    struct smg_csv_state st;
    float *row;
    int rc;

    for (size_t i = 0; i < len; i++)
        fields += line[i] == ',';
    if (fields <= label_size)
        return smg_error_set(err, SMG_EFORMAT,
                             "line %ju: %zu columns, no more than label_size %zu: no features",
                             (uintmax_t)lines + 1, fields, label_size);
    st = (struct smg_csv_state){label_size, fields - label_size, lines};
    if ((row = smg_malloc(st.feature_dim * sizeof(float))) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory for a %zu-field line", fields);
    rc = smg_csv_parse(&st, line, len, true, row, 1, &rows, &used, err);
    smg_free(row);
    *dim = st.feature_dim;
    return (enum smg_status)rc;
}

/* Copy the line that starts at buf[off] (a CR before it when cr) into line, up to its LF. */
static enum smg_status gather_line(struct smg_stream *s, uint8_t *buf, size_t n, size_t off,
                                   bool cr, char *line, size_t *used, struct smg_error *err)
{
    *used = 0;
    if (cr)
        line[(*used)++] = '\r';
    for (;;) {
        const uint8_t *nl = memchr(buf + off, '\n', n - off);
        size_t take = (nl != NULL ? (size_t)(nl - buf) : n) - off;
        int rc;
        if (take > CSV_PROBE_BYTES - *used) {
            *used = SIZE_MAX; /* too long to check here; the reader will */
            return SMG_OK;
        }
        memcpy(line + *used, buf + off, take);
        *used += take;
        if (nl != NULL)
            return SMG_OK;
        if ((rc = smg_stream_read(s, buf, CSV_CHUNK_BYTES, &n, err)) != SMG_OK || n == 0)
            return (enum smg_status)rc;
        off = 0;
    }
}

/* Plain CSV: skip empty lines, then parse the first non-empty one. */
static enum smg_status first_csv(struct smg_stream *s, const struct smg_format *fmt,
                                 struct smg_records_first *out, struct smg_error *err)
{
    uint8_t *buf = smg_malloc(CSV_CHUNK_BYTES);
    char *line = smg_malloc(CSV_PROBE_BYTES);
    size_t n = 0, off = 0, used = 0;
    uint64_t lines = 0;
    bool cr = false;
    int rc = SMG_OK;

    if (buf == NULL || line == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "out of memory probing %s", smg_stream_name(s));
        goto out;
    }
    do {
        if ((rc = smg_stream_read(s, buf, CSV_CHUNK_BYTES, &n, err)) != SMG_OK || n == 0)
            goto out; /* the file ended: no record */
        off = skip_empty_lines(buf, n, &cr, &lines);
    } while (off == n);
    out->found = true;
    rc = gather_line(s, buf, n, off, cr, line, &used, err);
    if (rc == SMG_OK && used != SIZE_MAX &&
        (rc = parse_line(line, used, lines, fmt->label_size, &out->dim, err)) != SMG_OK)
        smg_error_prefix(err, "%s: ", smg_stream_name(s));
out:
    smg_free(line);
    smg_free(buf);
    return (enum smg_status)rc;
}

/* One RecordIO record's first record: a non-empty CSV line (wrapped) or a Record. */
static enum smg_status first_in_record(const uint8_t *data, size_t len,
                                       const struct smg_format *fmt, struct smg_records_first *out,
                                       struct smg_error *err)
{
    uint64_t lines = 0;
    bool cr = false;
    size_t off, end;
    const uint8_t *nl;

    if (!fmt->recordio_wrapped) {
        out->found = true;
        out->sparse = smg_record_is_sparse(data, len);
        return smg_record_feature_count(data, len, &out->dim, err);
    }
    off = skip_empty_lines(data, len, &cr, &lines);
    if (off == len)
        return SMG_OK; /* an empty CSV object: read on */
    out->found = true;
    nl = memchr(data + off, '\n', len - off);
    end = nl != NULL ? (size_t)(nl - data) : len;
    off -= cr ? 1 : 0;
    return parse_line((const char *)data + off, end - off, lines, fmt->label_size, &out->dim, err);
}

/* recordIO-protobuf or wrapped CSV: the first record that holds one. */
static enum smg_status first_record(struct smg_stream *s, const struct smg_format *fmt,
                                    struct smg_records_first *out, struct smg_error *err)
{
    size_t max = fmt->max_record_bytes ? fmt->max_record_bytes : SMG_DEFAULT_MAX_RECORD_BYTES;
    struct smg_recordio_reader *r = NULL;
    const uint8_t *data;
    size_t len;
    int rc = smg_recordio_reader_new(s, max, &r, err);

    while (rc == SMG_OK && !out->found && (rc = smg_recordio_next(r, &data, &len, err)) == SMG_OK)
        if ((rc = first_in_record(data, len, fmt, out, err)) != SMG_OK)
            smg_error_prefix(err, "%s: record %ju at byte %ju: ", smg_stream_name(s),
                             (uintmax_t)smg_recordio_index(r), (uintmax_t)smg_recordio_offset(r));
    if (rc == SMG_EEOF)
        rc = SMG_OK;
    smg_recordio_reader_free(r);
    return (enum smg_status)rc;
}

enum smg_status smg_records_probe_first_stream(struct smg_stream *s, const struct smg_format *fmt,
                                               struct smg_records_first *out, struct smg_error *err)
{
    memset(out, 0, sizeof(*out));
    if (fmt->rows == SMG_ROWS_CSV && !fmt->recordio_wrapped)
        return first_csv(s, fmt, out, err);
    return first_record(s, fmt, out, err);
}

enum smg_status smg_records_probe_first(const char *path, const struct smg_format *fmt,
                                        struct smg_records_first *out, struct smg_error *err)
{
    struct smg_stream *raw = NULL, *s = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if ((rc = smg_file_open_sequential(path, &raw, err)) == SMG_OK &&
        (rc = smg_gzip_detect(raw, &s, NULL, err)) == SMG_OK)
        rc = smg_records_probe_first_stream(s, fmt, out, err);
    smg_stream_free(s);
    return (enum smg_status)rc;
}

/*
 * First-record feature counting for `smalgo records` (see records_probe.h).
 * Reads at most one logical record through the recordIO reader (bounded by
 * max_record_bytes) or the first 1 MiB of plain CSV, and counts. Nothing here
 * is on a hot path.
 */
#include "io/records_probe.h"

#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "io/base/alloc.h"
#include "io/file_list.h"
#include "io/gzip.h"
#include "io/record_decode.h"
#include "io/recordio.h"

#define CSV_PROBE_BYTES ((size_t)1 << 20)

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

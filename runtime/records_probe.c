/*
 * First-record feature counting for `smalgo records` (see records_probe.h).
 * Reads at most one record (bounded by max_record_bytes) and decodes it with
 * protobuf-c, the reference decoder; nothing here is on a hot path.
 */
#include "runtime/records_probe.h"

#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "io/base/alloc.h"
#include "io/file_list.h"
#include "io/gzip.h"
#include "record.pb-c.h"

#define PROBE_MAGIC 0xced7230aU

/* Read one RecordIO record's first part into *buf (caller frees). */
static int read_record(struct smg_stream *s, size_t max, unsigned char **buf, size_t *len,
                       struct smg_error *err)
{
    unsigned char h[8];
    uint32_t magic, lrec;
    size_t got;
    int rc = smg_stream_read_full(s, h, sizeof(h), &got, err);

    if (rc != SMG_OK)
        return rc;
    if (got < sizeof(h))
        return smg_error_set(err, SMG_EFORMAT,
                             "%s: no complete RecordIO record to infer the "
                             "feature count from",
                             smg_stream_name(s));
    memcpy(&magic, h, 4);
    memcpy(&lrec, h + 4, 4);
    *len = lrec & ((1U << 29) - 1);
    if (magic != PROBE_MAGIC || *len > max)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s: not RecordIO at byte 0 (or record over %zu bytes); cannot infer "
                             "the feature count, pass --feature-dim",
                             smg_stream_name(s), max);
    if ((*buf = smg_malloc(*len + 1)) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory");
    rc = smg_stream_read_full(s, *buf, *len, &got, err);
    if (rc == SMG_OK && got < *len)
        rc = smg_error_set(err, SMG_EFORMAT, "%s: truncated first record", smg_stream_name(s));
    return rc;
}

static int protobuf_dim(const char *name, const unsigned char *buf, size_t len, size_t *dim,
                        struct smg_error *err)
{
    Aialgs__Data__Record *rec = aialgs__data__record__unpack(NULL, len, buf);
    int rc = SMG_EFORMAT;

    if (rec == NULL)
        return smg_error_set(err, SMG_EFORMAT, "%s: first record is not a protobuf Record", name);
    for (size_t i = 0; i < rec->n_features; i++) {
        const Aialgs__Data__Value *v = rec->features[i]->value;
        size_t n_values = 0, n_shape = 0;
        const uint64_t *shape = NULL;
        if (strcmp(rec->features[i]->key, "values") != 0 || v == NULL)
            continue;
        switch (v->value_case) {
        case AIALGS__DATA__VALUE__VALUE_FLOAT32_TENSOR:
            n_values = v->float32_tensor->n_values;
            n_shape = v->float32_tensor->n_shape;
            shape = v->float32_tensor->shape;
            break;
        case AIALGS__DATA__VALUE__VALUE_FLOAT64_TENSOR:
            n_values = v->float64_tensor->n_values;
            n_shape = v->float64_tensor->n_shape;
            shape = v->float64_tensor->shape;
            break;
        case AIALGS__DATA__VALUE__VALUE_INT32_TENSOR:
            n_values = v->int32_tensor->n_values;
            n_shape = v->int32_tensor->n_shape;
            shape = v->int32_tensor->shape;
            break;
        default: continue;
        }
        *dim = n_shape > 0 ? (size_t)shape[0] : n_values;
        rc = SMG_OK;
        break;
    }
    aialgs__data__record__free_unpacked(rec, NULL);
    if (rc != SMG_OK || *dim == 0)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s: first record has no features[\"values\"] tensor to count", name);
    return SMG_OK;
}

static size_t csv_fields(const unsigned char *p, size_t len)
{
    size_t n = 1;

    for (size_t i = 0; i < len && p[i] != '\n' && p[i] != '\r'; i++)
        n += p[i] == ',';
    return n;
}

static int probe_stream(struct smg_stream *s, const struct smg_format *fmt, size_t *dim,
                        struct smg_error *err)
{
    size_t max = fmt->max_record_bytes ? fmt->max_record_bytes : SMG_DEFAULT_MAX_RECORD_BYTES;
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc;

    if (fmt->content_type == SMG_CONTENT_CSV && !fmt->recordio_wrapped) {
        len = 1 << 20;
        if ((buf = smg_malloc(len)) == NULL)
            return smg_error_set(err, SMG_ENOMEM, "out of memory");
        rc = smg_stream_read_full(s, buf, len, &len, err);
    } else {
        rc = read_record(s, max, &buf, &len, err);
    }
    if (rc == SMG_OK && fmt->content_type == SMG_CONTENT_RECORDIO_PROTOBUF) {
        rc = protobuf_dim(smg_stream_name(s), buf, len, dim, err);
    } else if (rc == SMG_OK) {
        size_t n = csv_fields(buf, len);
        if (len == 0 || n <= fmt->label_size)
            rc = smg_error_set(err, SMG_EFORMAT,
                               "%s: first line has %zu fields, not more than label_size %zu",
                               smg_stream_name(s), len ? n : 0, fmt->label_size);
        else
            *dim = n - fmt->label_size;
    }
    smg_free(buf);
    return rc;
}

int smg_records_probe_dim(const char *path, const struct smg_format *fmt, size_t *dim,
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
        return rc;
    if (files.count == 0)
        rc = smg_error_set(err, SMG_EFORMAT, "no files under %s", path);
    if (rc == SMG_OK)
        rc = smg_file_open_sequential(files.paths[0], &raw, err);
    if (rc == SMG_OK && (rc = smg_gzip_detect(raw, &s, NULL, err)) == SMG_OK)
        rc = probe_stream(s, fmt, dim, err);
    smg_stream_free(s);
    smg_file_list_clear(&files);
    return rc;
}

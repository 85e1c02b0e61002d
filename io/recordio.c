/*
 * RecordIO reader and writer (format: see recordio.h).
 *
 * The reader keeps one buffer of at least SMG_RECORDIO_CHUNK bytes. Bytes in
 * [pos, end) are read but not yet consumed. To look at a record we make sure
 * its header, then its payload and padding, are all in [pos, end), moving the
 * unconsumed tail to the front and reading more when needed, and growing the
 * buffer only for a record larger than it (never beyond the configured
 * maximum). A complete record is returned in place; the pointer stays valid
 * until the next call, which may move the buffer contents.
 *
 * Multi-part records are copied into a join buffer, with the magic word put
 * back between parts, exactly as dmlc::RecordIOReader::NextRecord does.
 */
#include "recordio.h"

#include <string.h>

#include "alloc.h"

#define SMG_RECORDIO_CHUNK ((size_t)1 << 20)

struct smg_recordio_reader {
    struct smg_stream *s;
    size_t max;
    uint8_t *buf;
    size_t cap, pos, end;
    bool eof;
    uint8_t *join;
    size_t join_len, join_cap;
    uint64_t index;       /* index of the next logical record */
    uint64_t last_index;  /* of the record last returned */
    uint64_t last_offset; /* header offset of the record last returned */
    int failed;           /* sticky status after an error */
    char failed_msg[SMG_ERROR_MSG_MAX];
};

static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

int smg_recordio_reader_new(struct smg_stream *s, size_t max_record_bytes,
                            struct smg_recordio_reader **out, struct smg_error *err)
{
    struct smg_recordio_reader *r = smg_calloc(1, sizeof(*r));

    *out = NULL;
    if (r == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory creating a RecordIO reader");
    r->s = s;
    r->max = (max_record_bytes == 0 || max_record_bytes > SMG_RECORDIO_MAX_LENGTH)
                 ? SMG_RECORDIO_MAX_LENGTH
                 : max_record_bytes;
    r->cap = SMG_RECORDIO_CHUNK;
    r->buf = smg_malloc(r->cap);
    if (r->buf == NULL) {
        smg_free(r);
        return smg_error_set(err, SMG_ENOMEM, "out of memory creating a RecordIO reader");
    }
    *out = r;
    return SMG_OK;
}

void smg_recordio_reader_free(struct smg_recordio_reader *r)
{
    if (r == NULL)
        return;
    smg_free(r->buf);
    smg_free(r->join);
    smg_free(r);
}

uint64_t smg_recordio_index(const struct smg_recordio_reader *r)
{
    return r->last_index;
}

uint64_t smg_recordio_offset(const struct smg_recordio_reader *r)
{
    return r->last_offset;
}

const char *smg_recordio_name(const struct smg_recordio_reader *r)
{
    return smg_stream_name(r->s);
}

/* Stream offset of buf[pos]. */
static uint64_t pos_offset(const struct smg_recordio_reader *r)
{
    return smg_stream_offset(r->s) - (uint64_t)(r->end - r->pos);
}

/*
 * Make `need` bytes available at buf[pos] unless the stream ends first.
 * *avail receives how many are available (>= need unless at EOF).
 */
static int ensure(struct smg_recordio_reader *r, size_t need, size_t *avail, struct smg_error *err)
{
    if (r->end - r->pos < need && !r->eof) {
        if (need > r->cap - r->pos) {
            size_t have = r->end - r->pos;
            if (need > r->cap) {
                size_t cap = need > 2 * r->cap ? need : 2 * r->cap;
                uint8_t *nb = smg_malloc(cap);
                if (nb == NULL)
                    return smg_error_set(err, SMG_ENOMEM,
                                         "%s: out of memory for a %zu-byte record buffer",
                                         smg_stream_name(r->s), cap);
                memcpy(nb, r->buf + r->pos, have);
                smg_free(r->buf);
                r->buf = nb;
                r->cap = cap;
            } else if (have > 0) {
                memmove(r->buf, r->buf + r->pos, have);
            }
            r->pos = 0;
            r->end = have;
        }
        while (r->end - r->pos < need) {
            size_t got;
            int rc = smg_stream_read(r->s, r->buf + r->end, r->cap - r->end, &got, err);
            if (rc != SMG_OK)
                return rc;
            if (got == 0) {
                r->eof = true;
                break;
            }
            r->end += got;
        }
    }
    *avail = r->end - r->pos;
    return SMG_OK;
}

static int join_append(struct smg_recordio_reader *r, const uint8_t *p, size_t n)
{
    if (n > r->max - r->join_len)
        return SMG_EFORMAT;
    if (r->join_len + n > r->join_cap) {
        size_t cap = r->join_cap ? r->join_cap : 4096;
        while (cap < r->join_len + n)
            cap = cap > r->max / 2 ? r->max : cap * 2;
        uint8_t *nb = smg_realloc(r->join, cap);
        if (nb == NULL)
            return SMG_ENOMEM;
        r->join = nb;
        r->join_cap = cap;
    }
    memcpy(r->join + r->join_len, p, n);
    r->join_len += n;
    return SMG_OK;
}

/* Record a framing error: sticky, prefixed with stream, record and offset. */
static int fail(struct smg_recordio_reader *r, int status, uint64_t offset, const char *what,
                struct smg_error *err)
{
    struct smg_error tmp;

    smg_error_clear(&tmp);
    smg_error_set(&tmp, status, "%s: record %ju at byte %ju: %s", smg_stream_name(r->s),
                  (uintmax_t)r->index, (uintmax_t)offset, what);
    r->failed = status;
    memcpy(r->failed_msg, tmp.msg, sizeof(r->failed_msg));
    return smg_error_set(err, status, "%s", r->failed_msg);
}

int smg_recordio_next(struct smg_recordio_reader *r, const uint8_t **data, size_t *len,
                      struct smg_error *err)
{
    char what[200];
    bool joining = false;
    uint64_t first_offset = 0;
    unsigned parts = 0;

    *data = NULL;
    *len = 0;
    if (r->failed != SMG_OK)
        return smg_error_set(err, r->failed, "%s", r->failed_msg);
    r->join_len = 0;
    for (;;) {
        uint64_t off = pos_offset(r);
        size_t avail;
        int rc = ensure(r, 8, &avail, err);
        if (rc != SMG_OK)
            return rc == SMG_ENOMEM ? rc : fail(r, rc, off, err ? err->msg : "read failed", err);
        if (avail == 0) {
            if (!joining)
                return SMG_EEOF;
            snprintf(what, sizeof(what),
                     "broken multi-part record: stream ends after part %u, before its end "
                     "(cflag 3)",
                     parts);
            return fail(r, SMG_EFORMAT, first_offset, what, err);
        }
        if (avail < 8) {
            snprintf(what, sizeof(what), "truncated header: stream ends after %zu of 8 bytes",
                     avail);
            return fail(r, SMG_EFORMAT, off, what, err);
        }
        const uint8_t *h = r->buf + r->pos;
        uint32_t magic = load_le32(h), lrec = load_le32(h + 4);
        if (magic != SMG_RECORDIO_MAGIC) {
            snprintf(what, sizeof(what), "bad magic 0x%08x (expected 0xced7230a): not RecordIO",
                     magic);
            return fail(r, SMG_EFORMAT, off, what, err);
        }
        size_t plen = lrec & ((1U << 29) - 1);
        unsigned cflag = lrec >> 29;
        if (cflag > 3) {
            snprintf(what, sizeof(what), "invalid continuation flag %u (expected 0 to 3)", cflag);
            return fail(r, SMG_EFORMAT, off, what, err);
        }
        if (plen > r->max) {
            snprintf(what, sizeof(what), "record length %zu bytes exceeds the maximum of %zu bytes",
                     plen, r->max);
            return fail(r, SMG_EFORMAT, off, what, err);
        }
        size_t total = 8 + plen + smg_recordio_pad(plen);
        rc = ensure(r, total, &avail, err);
        if (rc != SMG_OK)
            return rc == SMG_ENOMEM ? rc : fail(r, rc, off, err ? err->msg : "read failed", err);
        if (avail < 8 + plen) {
            snprintf(what, sizeof(what), "truncated payload: stream ends after %zu of %zu bytes",
                     avail - 8, plen);
            return fail(r, SMG_EFORMAT, off, what, err);
        }
        if (avail < total) {
            snprintf(what, sizeof(what),
                     "truncated padding: stream ends after %zu of %zu padding bytes",
                     avail - 8 - plen, total - 8 - plen);
            return fail(r, SMG_EFORMAT, off, what, err);
        }
        const uint8_t *payload = r->buf + r->pos + 8;
        r->pos += total;
        if (cflag == 0 || cflag == 1) {
            if (joining) {
                snprintf(what, sizeof(what),
                         "broken multi-part record: part %u has cflag %u, expected 2 (middle) "
                         "or 3 (end)",
                         parts, cflag);
                return fail(r, SMG_EFORMAT, off, what, err);
            }
            if (cflag == 0) {
                r->last_index = r->index++;
                r->last_offset = off;
                *data = payload;
                *len = plen;
                return SMG_OK;
            }
            joining = true;
            first_offset = off;
        } else {
            if (!joining) {
                snprintf(what, sizeof(what),
                         "broken multi-part record: cflag %u (%s) without a start (cflag 1)", cflag,
                         cflag == 2 ? "middle" : "end");
                return fail(r, SMG_EFORMAT, off, what, err);
            }
            uint8_t m[4];
            store_le32(m, SMG_RECORDIO_MAGIC);
            rc = join_append(r, m, 4);
            if (rc != SMG_OK)
                goto join_failed;
        }
        rc = join_append(r, payload, plen);
        if (rc != SMG_OK)
            goto join_failed;
        parts++;
        if (cflag == 3) {
            r->last_index = r->index++;
            r->last_offset = first_offset;
            *data = r->join;
            *len = r->join_len;
            return SMG_OK;
        }
        continue;
    join_failed:
        if (rc == SMG_ENOMEM)
            return smg_error_set(err, rc, "%s: out of memory joining a multi-part record",
                                 smg_stream_name(r->s));
        snprintf(what, sizeof(what),
                 "multi-part record exceeds the maximum of %zu bytes after %u parts", r->max,
                 parts);
        return fail(r, SMG_EFORMAT, first_offset, what, err);
    }
}

void smg_recordio_header(uint8_t hdr[8], uint32_t len, unsigned cflag)
{
    store_le32(hdr, SMG_RECORDIO_MAGIC);
    store_le32(hdr + 4, (uint32_t)cflag << 29 | len);
}

int smg_recordio_write(FILE *f, const void *data, size_t len, struct smg_error *err)
{
    static const uint8_t zeros[4] = {0, 0, 0, 0};
    uint8_t hdr[8];
    size_t pad = smg_recordio_pad(len);

    if (len > SMG_RECORDIO_MAX_LENGTH)
        return smg_error_set(err, SMG_EFORMAT,
                             "record of %zu bytes is too long for RecordIO (max %zu)", len,
                             SMG_RECORDIO_MAX_LENGTH);
    smg_recordio_header(hdr, (uint32_t)len, 0);
    if (fwrite(hdr, 1, 8, f) != 8 || (len > 0 && fwrite(data, 1, len, f) != len) ||
        (pad > 0 && fwrite(zeros, 1, pad, f) != pad))
        return smg_error_set(err, SMG_EIO, "write failed");
    return SMG_OK;
}

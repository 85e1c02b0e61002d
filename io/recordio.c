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
 *
 * A whole record already in the buffer is handed out by a short path
 * (smg_recordio_next_buffered) that checks exactly what the general path checks; the
 * general path handles refills, multi-part records and every error.
 */
#include "io/recordio.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "io/base/alloc.h"

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

enum smg_status smg_recordio_reader_new(struct smg_stream *s, size_t max_record_bytes,
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
    if (n == 0)
        return SMG_OK; /* an empty part; join may still be NULL */
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

/*
 * Record a framing error: sticky, prefixed with stream, record and offset.
 * The detail (fmt) is cut at 200 bytes so the prefix always fits.
 */
static int fail(struct smg_recordio_reader *r, int status, uint64_t offset, struct smg_error *err,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int fail(struct smg_recordio_reader *r, int status, uint64_t offset, struct smg_error *err,
                const char *fmt, ...)
{
    struct smg_error tmp;
    char what[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    smg_error_clear(&tmp);
    smg_error_set(&tmp, status, "%s: record %ju at byte %ju: %s", smg_stream_name(r->s),
                  (uintmax_t)r->index, (uintmax_t)offset, what);
    r->failed = status;
    memcpy(r->failed_msg, tmp.msg, sizeof(r->failed_msg));
    return smg_error_set(err, status, "%s", r->failed_msg);
}

/* A read error from ensure(): out of memory passes through, the rest is sticky. */
static int read_failed(struct smg_recordio_reader *r, int rc, uint64_t off, struct smg_error *err)
{
    return rc == SMG_ENOMEM ? rc : fail(r, rc, off, err, "%s", err ? err->msg : "read failed");
}

/* One physical record (a part): where its header is, its payload, its cflag. */
struct part {
    uint64_t off;
    const uint8_t *payload;
    size_t len;
    unsigned cflag;
};

/*
 * Read and check the 8-byte header at buf[pos] into p->len and p->cflag.
 * SMG_EEOF, with err untouched, when the stream ends cleanly before it.
 */
static int read_header(struct smg_recordio_reader *r, struct part *p, struct smg_error *err)
{
    size_t avail = 0;
    int rc = ensure(r, 8, &avail, err);

    if (rc != SMG_OK)
        return read_failed(r, rc, p->off, err);
    if (avail == 0)
        return SMG_EEOF;
    if (avail < 8)
        return fail(r, SMG_EFORMAT, p->off, err,
                    "truncated header: stream ends after %zu of 8 bytes", avail);
    struct smg_error why;
    smg_error_clear(&why);
    if (smg_recordio_header_parse(r->buf + r->pos, &p->len, &p->cflag, &why) != SMG_OK)
        return fail(r, SMG_EFORMAT, p->off, err, "%s", why.msg);
    if (p->len > r->max)
        return fail(r, SMG_EFORMAT, p->off, err,
                    "record length %zu bytes exceeds the maximum of %zu bytes", p->len, r->max);
    return SMG_OK;
}

/*
 * Read the next part whole (header, payload, padding) and consume it; the
 * payload stays in the buffer until the next read. SMG_EEOF as read_header.
 */
static int read_part(struct smg_recordio_reader *r, struct part *p, struct smg_error *err)
{
    size_t avail = 0, total;
    int rc;

    p->off = pos_offset(r);
    if ((rc = read_header(r, p, err)) != SMG_OK)
        return rc;
    total = 8 + p->len + smg_recordio_pad(p->len);
    if ((rc = ensure(r, total, &avail, err)) != SMG_OK)
        return read_failed(r, rc, p->off, err);
    if (avail < 8 + p->len)
        return fail(r, SMG_EFORMAT, p->off, err,
                    "truncated payload: stream ends after %zu of %zu bytes", avail - 8, p->len);
    if (avail < total)
        return fail(r, SMG_EFORMAT, p->off, err,
                    "truncated padding: stream ends after %zu of %zu padding bytes",
                    avail - 8 - p->len, total - 8 - p->len);
    p->payload = r->buf + r->pos + 8;
    r->pos += total;
    return SMG_OK;
}

/* A join_append failure after `parts` parts of the record starting at first_offset. */
static int join_failed(struct smg_recordio_reader *r, int rc, unsigned parts, uint64_t first_offset,
                       struct smg_error *err)
{
    if (rc == SMG_ENOMEM)
        return smg_error_set(err, rc, "%s: out of memory joining a multi-part record",
                             smg_stream_name(r->s));
    return fail(r, SMG_EFORMAT, first_offset, err,
                "multi-part record exceeds the maximum of %zu bytes after %u parts", r->max, parts);
}

/*
 * Join the multi-part record whose first part (cflag 1) is `first`: append
 * each following part, with the magic word put back before it, up to the
 * end part (cflag 3). The result is r->join.
 */
static int read_multipart(struct smg_recordio_reader *r, const struct part *first,
                          struct smg_error *err)
{
    unsigned parts = 0;
    uint8_t magic[4];
    struct part p;
    int rc;

    store_le32(magic, SMG_RECORDIO_MAGIC);
    if ((rc = join_append(r, first->payload, first->len)) != SMG_OK)
        return join_failed(r, rc, parts, first->off, err);
    for (parts = 1;; parts++) {
        rc = read_part(r, &p, err);
        if (rc == SMG_EEOF)
            return fail(r, SMG_EFORMAT, first->off, err,
                        "broken multi-part record: stream ends after part %u, before its end "
                        "(cflag 3)",
                        parts);
        if (rc != SMG_OK)
            return rc;
        if (p.cflag == 0 || p.cflag == 1)
            return fail(r, SMG_EFORMAT, p.off, err,
                        "broken multi-part record: part %u has cflag %u, expected 2 (middle) "
                        "or 3 (end)",
                        parts, p.cflag);
        if ((rc = join_append(r, magic, 4)) != SMG_OK ||
            (rc = join_append(r, p.payload, p.len)) != SMG_OK)
            return join_failed(r, rc, parts, first->off, err);
        if (p.cflag == 3)
            return SMG_OK;
    }
}

/*
 * The common case without the general path's calls: a whole record (cflag 0,
 * good magic, length within the maximum) whose header, payload and padding
 * are all buffered already. Anything else (false) goes the general way,
 * which also gives every error its message.
 */
bool smg_recordio_next_buffered(struct smg_recordio_reader *r, const uint8_t **data, size_t *len)
{
    size_t have = r->end - r->pos, n, total;
    const uint8_t *h = r->buf + r->pos;
    uint32_t lrec;

    if (r->failed != SMG_OK || have < 8 || load_le32(h) != SMG_RECORDIO_MAGIC)
        return false;
    lrec = load_le32(h + 4);
    n = lrec & SMG_RECORDIO_MAX_LENGTH;
    total = 8 + n + smg_recordio_pad(n);
    if ((lrec >> 29) != SMG_RECORDIO_CFLAG_WHOLE || n > r->max || have < total)
        return false;
    r->last_offset = pos_offset(r);
    r->last_index = r->index++;
    r->pos += total;
    *data = h + 8;
    *len = n;
    return true;
}

size_t smg_recordio_take_buffered(struct smg_recordio_reader *r, struct smg_recordio_rec *out,
                                  size_t max)
{
    /* The stream offset of buf[0]: the buffer does not move while nothing is read. */
    const uint64_t base = smg_stream_offset(r->s) - (uint64_t)r->end;
    size_t got = 0, pos = r->pos;

    if (r->failed != SMG_OK)
        return 0;
    while (got < max && r->end - pos >= 8) {
        const uint8_t *h = r->buf + pos;
        uint32_t lrec = load_le32(h + 4);
        size_t n = lrec & SMG_RECORDIO_MAX_LENGTH, total = 8 + n + smg_recordio_pad(n);
        if (load_le32(h) != SMG_RECORDIO_MAGIC || (lrec >> 29) != SMG_RECORDIO_CFLAG_WHOLE ||
            n > r->max || r->end - pos < total)
            break;
        out[got].data = h + 8;
        out[got].len = n;
        out[got].index = r->index + got;
        out[got].offset = base + pos;
        got++;
        pos += total;
    }
    if (got > 0) {
        r->last_offset = out[got - 1].offset;
        r->last_index = out[got - 1].index;
        r->index += got;
        r->pos = pos;
    }
    return got;
}

enum smg_status smg_recordio_next(struct smg_recordio_reader *r, const uint8_t **data, size_t *len,
                                  struct smg_error *err)
{
    struct part p;
    int rc;

    *data = NULL;
    *len = 0;
    if (r->failed != SMG_OK)
        return smg_error_set(err, r->failed, "%s", r->failed_msg);
    r->join_len = 0;
    if (smg_recordio_next_buffered(r, data, len))
        return SMG_OK;
    if ((rc = read_part(r, &p, err)) != SMG_OK)
        return rc;
    if (p.cflag == 0) { /* the common case: a whole record, returned in place */
        r->last_index = r->index++;
        r->last_offset = p.off;
        *data = p.payload;
        *len = p.len;
        return SMG_OK;
    }
    if (p.cflag != 1)
        return fail(r, SMG_EFORMAT, p.off, err,
                    "broken multi-part record: cflag %u (%s) without a start (cflag 1)", p.cflag,
                    p.cflag == 2 ? "middle" : "end");
    if ((rc = read_multipart(r, &p, err)) != SMG_OK)
        return rc;
    r->last_index = r->index++;
    r->last_offset = p.off;
    *data = r->join;
    *len = r->join_len;
    return SMG_OK;
}

void smg_recordio_header(uint8_t hdr[8], uint32_t len, unsigned cflag)
{
    assert(len <= SMG_RECORDIO_MAX_LENGTH && cflag <= SMG_RECORDIO_CFLAG_LAST);
    store_le32(hdr, SMG_RECORDIO_MAGIC);
    store_le32(hdr + 4, (uint32_t)cflag << 29 | len);
}

enum smg_status smg_recordio_header_parse(const uint8_t hdr[8], size_t *len, unsigned *cflag,
                                          struct smg_error *err)
{
    uint32_t magic = load_le32(hdr), lrec = load_le32(hdr + 4);

    if (magic != SMG_RECORDIO_MAGIC)
        return smg_error_set(err, SMG_EFORMAT, "bad magic 0x%08x (expected 0x%08x): not RecordIO",
                             magic, SMG_RECORDIO_MAGIC);
    *len = lrec & SMG_RECORDIO_MAX_LENGTH;
    *cflag = lrec >> 29;
    if (*cflag > SMG_RECORDIO_CFLAG_LAST)
        return smg_error_set(err, SMG_EFORMAT, "invalid continuation flag %u (expected 0 to 3)",
                             *cflag);
    return SMG_OK;
}

enum smg_status smg_recordio_write(FILE *f, const void *data, size_t len, struct smg_error *err)
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

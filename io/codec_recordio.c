/*
 * The application/x-recordio-protobuf codec (codec.h).
 *
 * Training and requests: recordIO framing with one aialgs.data.Record per
 * row, read by rows.h's recordIO reader; a request may also be one bare
 * Record without framing (is_bare). A request whose first record is sparse
 * is decoded to CSR rows (decode_csr, codec_rows_csr.c), never densified. Responses: one record per
 * row whose `label` map holds one Float32Tensor per result field, byte layout in infer_response.h.
 * The Records are encoded by hand (tags and varint lengths, computed bottom-up): a few lines for
 * this fixed shape, and no protobuf-c object tree per row. The unit tests decode the output with
 * the generated protobuf-c code to keep the two in agreement.
 */
#include "io/codec.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/codec_util.h"
#include "io/record_encode.h"
#include "io/recordio.h"

/*
 * A body that does not start with the recordIO magic is taken as one bare
 * aialgs.data.Record: the SageMaker SDK's local-mode Batch Transform sends
 * that with SplitType=RecordIO and SingleRecord (its splitter strips the
 * framing, which SageMaker itself keeps). It is framed into a copy and decoded
 * as any other body; if that fails too, the message says both were tried.
 * The two cannot be confused: the magic's third byte (0xd7) would be the tag
 * of a Record's first map entry, and wire type 7 does not exist.
 */
static bool is_bare(const void *body, size_t len)
{
    return len >= 4 && !smg_recordio_is_magic(body);
}

/* body framed as one recordIO record, into a new *framed (smg_free it). */
static enum smg_status frame_bare(const void *body, size_t len, uint8_t **framed,
                                  size_t *framed_len, struct smg_error *err)
{
    *framed = NULL;
    if (len >= (1U << 29))
        return smg_error_set(err, SMG_EFORMAT,
                             "request body: %zu bytes without recordIO framing (no magic "
                             "0x%08x at byte 0)",
                             len, SMG_RECORDIO_MAGIC);
    *framed_len = SMG_RECORDIO_HEADER_BYTES + len + smg_recordio_pad(len);
    if ((*framed = smg_malloc(*framed_len)) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory for a %zu-byte request", len);
    smg_recordio_header(*framed, (uint32_t)len, SMG_RECORDIO_CFLAG_WHOLE);
    memcpy(*framed + SMG_RECORDIO_HEADER_BYTES, body, len);
    memset(*framed + SMG_RECORDIO_HEADER_BYTES + len, 0, smg_recordio_pad(len));
    return SMG_OK;
}

/* What a bare body's decoder said, as the client sees it. */
static enum smg_status bare_error(enum smg_status rc, const struct smg_error *inner,
                                  struct smg_error *err)
{
    if (rc == SMG_ENOMEM)
        return smg_error_set(err, rc, "%s", inner->msg);
    return smg_error_set(err, rc,
                         "request body is neither recordIO (no magic 0x%08x at byte 0) nor "
                         "one bare protobuf Record (%s)",
                         SMG_RECORDIO_MAGIC, inner->msg);
}

static enum smg_status decode(const void *body, size_t len, size_t label_size, size_t d,
                              size_t max_rows, float **rows_out, size_t *nrows,
                              struct smg_error *err)
{
    struct smg_error inner;
    uint8_t *framed;
    size_t framed_len = 0;
    enum smg_status rc;

    (void)label_size; /* recordIO rows carry no label columns */
    if (!is_bare(body, len))
        return smg_codec_decode_rows(SMG_ROWS_RECORDIO_PROTOBUF, 0, 64, body, len, d, max_rows,
                                     rows_out, nrows, err);
    if ((rc = frame_bare(body, len, &framed, &framed_len, err)) != SMG_OK)
        return rc;
    smg_error_clear(&inner);
    rc = smg_codec_decode_rows(SMG_ROWS_RECORDIO_PROTOBUF, 0, 1, framed, framed_len, d, max_rows,
                               rows_out, nrows, &inner);
    smg_free(framed);
    return rc == SMG_OK ? SMG_OK : bare_error(rc, &inner, err);
}

/* Sparse bodies (codec.h, decode_csr), framed or bare, as CSR rows. */
static enum smg_status decode_csr(const void *body, size_t len, size_t d, size_t max_bytes,
                                  struct smg_csr_buf *out, bool *sparse, struct smg_error *err)
{
    struct smg_error inner;
    uint8_t *framed;
    size_t framed_len = 0;
    enum smg_status rc;

    *sparse = false;
    if (!is_bare(body, len))
        return smg_codec_decode_csr(body, len, d, max_bytes, out, sparse, err);
    if (frame_bare(body, len, &framed, &framed_len, &inner) != SMG_OK)
        return SMG_OK; /* the dense decoder reports it */
    smg_error_clear(&inner);
    rc = smg_codec_decode_csr(framed, framed_len, d, max_bytes, out, sparse, &inner);
    smg_free(framed);
    return rc == SMG_OK ? SMG_OK : bare_error(rc, &inner, err);
}

static void put_byte(struct smg_buf *b, uint8_t v)
{
    b->data[b->len++] = (char)v;
}

static void put_varint(struct smg_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        put_byte(b, (uint8_t)((v & 0x7f) | 0x80));
        v >>= 7;
    }
    put_byte(b, (uint8_t)v);
}

static void put_u32le(struct smg_buf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        put_byte(b, (uint8_t)((v >> (8 * i)) & 0xff));
}

/* Length-delimited sizes of one field's Entry, bottom-up (see infer_response.h). */
struct entry_sizes {
    size_t tensor, value, entry;
};

static struct entry_sizes entry_size(const struct smg_infer_field *fd)
{
    struct entry_sizes s;
    size_t vals = 4 * fd->width, name = strlen(fd->name);

    s.tensor = vals ? 1 + smg_record_varint_size(vals) + vals : 0;
    s.value = 1 + smg_record_varint_size(s.tensor) + s.tensor;
    s.entry =
        1 + smg_record_varint_size(name) + name + 1 + smg_record_varint_size(s.value) + s.value;
    return s;
}

/* Record.label's entry for field fd of row r. */
static void put_entry(struct smg_buf *b, const struct smg_infer_field *fd, size_t r)
{
    struct entry_sizes s = entry_size(fd);
    size_t name = strlen(fd->name);

    put_byte(b, 0x12); /* Record.label */
    put_varint(b, s.entry);
    put_byte(b, 0x0a); /* entry key */
    put_varint(b, name);
    smg_codec_put(b, fd->name, name);
    put_byte(b, 0x12); /* entry value */
    put_varint(b, s.value);
    put_byte(b, 0x12); /* Value.float32_tensor */
    put_varint(b, s.tensor);
    if (fd->width == 0)
        return;
    put_byte(b, 0x0a); /* Float32Tensor.values, packed */
    put_varint(b, 4 * fd->width);
    for (size_t i = 0; i < fd->width; i++) {
        uint32_t bits;
        memcpy(&bits, &fd->values[r * fd->width + i], 4);
        put_u32le(b, bits);
    }
}

static enum smg_status encode(const struct smg_infer_result *res, struct smg_buf *out,
                              struct smg_error *err)
{
    size_t record = 0, pad;

    for (size_t f = 0; f < res->nfields; f++) {
        struct entry_sizes s = entry_size(&res->fields[f]);
        record += 1 + smg_record_varint_size(s.entry) + s.entry;
    }
    if (record > SMG_RECORDIO_MAX_LENGTH)
        goto nomem;
    pad = smg_recordio_pad(record);
    for (size_t r = 0; r < res->rows; r++) {
        uint8_t hdr[SMG_RECORDIO_HEADER_BYTES];

        if (smg_buf_reserve(out, sizeof(hdr) + record + pad) != SMG_OK)
            goto nomem;
        smg_recordio_header(hdr, (uint32_t)record, SMG_RECORDIO_CFLAG_WHOLE);
        smg_codec_put(out, hdr, sizeof(hdr));
        for (size_t f = 0; f < res->nfields; f++)
            put_entry(out, &res->fields[f], r);
        memset(out->data + out->len, 0, pad + 1); /* the padding, and the NUL */
        out->len += pad;
    }
    return SMG_OK;
nomem:
    return smg_error_set(err, SMG_ENOMEM, "out of memory encoding the response");
}

const struct smg_codec smg_codec_recordio = {
    .mime = "application/x-recordio-protobuf",
    .label_size = false,
    .rows = SMG_ROWS_RECORDIO_PROTOBUF,
    .decode = decode,
    .decode_csr = decode_csr,
    .encode = encode,
};

/*
 * Sparse request bodies into CSR rows (contract: codec_util.h,
 * smg_codec_decode_csr), so a recordIO-protobuf request of scipy rows with
 * d = 100,000 features takes memory for its stored values only.
 *
 * The body is read with the training row reader (rows.h) over a memory
 * stream: its first record says whether the body is sparse (keys, or a shape
 * without values), and then every record, sparse or dense, is appended to the
 * CSR buffer by the decoder training uses (record_decode.h), with the same
 * checks and messages: a key outside the shape or twice in a record, a shape
 * other than feature_dim, a non-finite value, each naming the record
 * ("request body: record 3 at byte 96: sparse key 7 appears twice (entries 2
 * and 5)"). Invariant: after each record the decoded size (smg_csr_buf_bytes)
 * is within max_bytes, else the request is refused; one record past it is the
 * most ever decoded.
 */
#include "io/codec_util.h"

#include "io/stream.h"

enum smg_status smg_codec_csr_check_cap(const struct smg_csr_buf *out, size_t max_bytes,
                                        const char *where, struct smg_error *err)
{
    if (smg_csr_buf_bytes(out->rows, out->nnz) <= max_bytes)
        return SMG_OK;
    return smg_error_set(err, SMG_EFORMAT,
                         "%s %zu: the %zu sparse rows so far hold %zu stored values, more than "
                         "this server decodes from one request (%zu bytes: 8 per stored value and "
                         "per row)",
                         where, out->rows - 1, out->rows, out->nnz, max_bytes);
}

/* Every record of r appended to out, checking the decoded size after each. */
static enum smg_status read_csr(struct smg_row_reader *r, size_t max_bytes, struct smg_csr_buf *out,
                                struct smg_error *err)
{
    for (;;) {
        size_t got;
        enum smg_status rc = smg_row_reader_next_csr(r, out, 1, &got, err);
        if (rc != SMG_OK || got == 0)
            return rc;
        if ((rc = smg_codec_csr_check_cap(out, max_bytes, "request body: record", err)) != SMG_OK)
            return rc;
    }
}

enum smg_status smg_codec_decode_csr(const void *body, size_t len, size_t d, size_t max_bytes,
                                     struct smg_csr_buf *out, bool *sparse, struct smg_error *err)
{
    struct smg_format rf = {0};
    struct smg_stream *s = NULL;
    struct smg_row_reader *r = NULL;
    bool empty = false;
    enum smg_status rc;

    *sparse = false;
    rf.rows = SMG_ROWS_RECORDIO_PROTOBUF;
    rf.feature_dim = d;
    rf.max_record_bytes = len + 1;
    if ((rc = smg_stream_open_memory(body, len, "request body", &s, err)) != SMG_OK ||
        (rc = smg_row_reader_new(s, &rf, &r, err)) != SMG_OK)
        goto out;
    /* A framing error is left to the dense decoder, which reports it the same way. */
    if (smg_row_reader_peek_sparse(r, sparse, &empty, err) != SMG_OK || empty || !*sparse) {
        smg_error_clear(err);
        *sparse = false;
        goto out;
    }
    if ((rc = smg_csr_buf_init(out, 64, err)) != SMG_OK ||
        (rc = read_csr(r, max_bytes, out, err)) != SMG_OK)
        smg_csr_buf_free(out);
out:
    smg_row_reader_free(r);
    smg_stream_free(s);
    return rc;
}

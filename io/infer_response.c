/*
 * Inference response encoding (formats in infer_response.h).
 *
 * Text formats are appended to a growable buffer with a small number writer;
 * recordIO-protobuf Records are encoded by hand (tags and varint lengths,
 * computed bottom-up), which is a few lines for this fixed shape and avoids a
 * protobuf-c object tree per row. The unit tests decode the output with the
 * generated protobuf-c code to keep the two in agreement.
 */
#include "io/infer_response.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/float_text.h"
#include "io/media_type.h"
#include "io/record_encode.h"
#include "io/recordio.h"

const char *smg_infer_accept_mime(enum smg_infer_accept a)
{
    switch (a) {
    case SMG_ACCEPT_JSONLINES: return "application/jsonlines";
    case SMG_ACCEPT_RECORDIO: return "application/x-recordio-protobuf";
    case SMG_ACCEPT_CSV: return "text/csv";
    case SMG_ACCEPT_JSON: break;
    }
    return "application/json";
}

/* The response kind for a table format (every SMG_MEDIA_RESPONSE row has one). */
static enum smg_infer_accept accept_of(enum smg_media_format f)
{
    switch (f) {
    case SMG_MEDIA_JSONLINES: return SMG_ACCEPT_JSONLINES;
    case SMG_MEDIA_RECORDIO_PROTOBUF: return SMG_ACCEPT_RECORDIO;
    case SMG_MEDIA_CSV: return SMG_ACCEPT_CSV;
    case SMG_MEDIA_JSON: break;
    }
    return SMG_ACCEPT_JSON;
}

int smg_infer_accept_parse(const char *accept, enum smg_infer_accept *out, struct smg_error *err)
{
    const struct smg_media_entry *e;
    bool any;

    smg_media_accept_pick(accept, SMG_MEDIA_RESPONSE, &e, &any);
    *out = e != NULL ? accept_of(e->format) : SMG_ACCEPT_JSON;
    if (e != NULL || !any)
        return SMG_OK;
    return smg_error_set(err, SMG_ECONFIG, "unsupported Accept '%.100s'; supported: %s", accept,
                         smg_media_supported(SMG_MEDIA_RESPONSE));
}

void smg_infer_buf_free(struct smg_infer_buf *b)
{
    if (b == NULL)
        return;
    smg_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Make room for `more` bytes (plus a NUL for snprintf). */
static int reserve(struct smg_infer_buf *b, size_t more)
{
    size_t need, ncap;
    char *nd;

    if (!smg_add_size(b->len, more, &need) || !smg_add_size(need, 1, &need))
        return SMG_ENOMEM;
    if (need <= b->cap)
        return SMG_OK;
    ncap = b->cap ? b->cap : 256;
    while (ncap < need) {
        if (!smg_mul_size(ncap, 2, &ncap))
            return SMG_ENOMEM;
    }
    nd = smg_realloc(b->data, ncap);
    if (nd == NULL)
        return SMG_ENOMEM;
    b->data = nd;
    b->cap = ncap;
    return SMG_OK;
}

static void put(struct smg_infer_buf *b, const void *s, size_t n)
{
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void puts_lit(struct smg_infer_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

#define NUM_MAX SMG_FLOAT_TEXT_MAX

static void put_number(struct smg_infer_buf *b, float f)
{
    char *dst = b->data + b->len;

    if (isnan(f)) {
        puts_lit(b, "NaN");
        return;
    }
    if (isinf(f)) {
        puts_lit(b, f > 0 ? "Infinity" : "-Infinity");
        return;
    }
    b->len += smg_float_text17(f, dst);
    if (strpbrk(dst, ".e") == NULL)
        puts_lit(b, ".0");
}

/* Worst-case text size of one row (JSON is the largest). */
static size_t row_text_bound(const struct smg_infer_result *res)
{
    size_t bound = 8;

    for (size_t f = 0; f < res->nfields; f++)
        bound += strlen(res->fields[f].name) + 8 + res->fields[f].width * (NUM_MAX + 4);
    return bound;
}

static void put_json_row(struct smg_infer_buf *b, const struct smg_infer_result *res, size_t r)
{
    put(b, "{", 1);
    for (size_t f = 0; f < res->nfields; f++) {
        const struct smg_infer_field *fd = &res->fields[f];
        const float *v = fd->values + r * fd->width;
        if (f > 0)
            put(b, ", ", 2);
        put(b, "\"", 1);
        puts_lit(b, fd->name);
        put(b, "\": ", 3);
        if (fd->scalar) {
            put_number(b, v[0]);
            continue;
        }
        put(b, "[", 1);
        for (size_t i = 0; i < fd->width; i++) {
            if (i > 0)
                put(b, ", ", 2);
            put_number(b, v[i]);
        }
        put(b, "]", 1);
    }
    put(b, "}", 1);
}

static void put_csv_row(struct smg_infer_buf *b, const struct smg_infer_result *res, size_t r)
{
    bool first = true;

    for (size_t f = 0; f < res->nfields; f++) {
        const struct smg_infer_field *fd = &res->fields[f];
        for (size_t i = 0; i < fd->width; i++) {
            if (!first)
                put(b, ",", 1);
            first = false;
            put_number(b, fd->values[r * fd->width + i]);
        }
    }
    put(b, "\n", 1);
}

static void put_varint(struct smg_infer_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        b->data[b->len++] = (char)((v & 0x7f) | 0x80);
        v >>= 7;
    }
    b->data[b->len++] = (char)v;
}

static void put_u32le(struct smg_infer_buf *b, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        b->data[b->len++] = (char)((v >> (8 * i)) & 0xff);
}

/* Length-delimited sizes of one field's Entry, bottom-up (see the header). */
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

static int put_recordio(struct smg_infer_buf *b, const struct smg_infer_result *res)
{
    size_t record = 0, pad;

    for (size_t f = 0; f < res->nfields; f++) {
        struct entry_sizes s = entry_size(&res->fields[f]);
        record += 1 + smg_record_varint_size(s.entry) + s.entry;
    }
    if (record > SMG_RECORDIO_MAX_LENGTH)
        return SMG_ENOMEM;
    pad = smg_recordio_pad(record);
    for (size_t r = 0; r < res->rows; r++) {
        uint8_t hdr[SMG_RECORDIO_HEADER_BYTES];

        if (reserve(b, sizeof(hdr) + record + pad) != SMG_OK)
            return SMG_ENOMEM;
        smg_recordio_header(hdr, (uint32_t)record, SMG_RECORDIO_CFLAG_WHOLE);
        put(b, hdr, sizeof(hdr));
        for (size_t f = 0; f < res->nfields; f++) {
            const struct smg_infer_field *fd = &res->fields[f];
            struct entry_sizes s = entry_size(fd);
            size_t name = strlen(fd->name);

            b->data[b->len++] = 0x12; /* Record.label */
            put_varint(b, s.entry);
            b->data[b->len++] = 0x0a; /* entry key */
            put_varint(b, name);
            put(b, fd->name, name);
            b->data[b->len++] = 0x12; /* entry value */
            put_varint(b, s.value);
            b->data[b->len++] = 0x12; /* Value.float32_tensor */
            put_varint(b, s.tensor);
            if (fd->width == 0)
                continue;
            b->data[b->len++] = 0x0a; /* Float32Tensor.values, packed */
            put_varint(b, 4 * fd->width);
            for (size_t i = 0; i < fd->width; i++) {
                uint32_t bits;
                memcpy(&bits, &fd->values[r * fd->width + i], 4);
                put_u32le(b, bits);
            }
        }
        memset(b->data + b->len, 0, pad);
        b->len += pad;
    }
    return SMG_OK;
}

int smg_infer_response_encode(enum smg_infer_accept accept, const struct smg_infer_result *res,
                              struct smg_infer_buf *out, struct smg_error *err)
{
    size_t row_bound = row_text_bound(res);

    if (accept == SMG_ACCEPT_RECORDIO) {
        if (put_recordio(out, res) != SMG_OK)
            return smg_error_set(err, SMG_ENOMEM, "out of memory encoding the response");
        return SMG_OK;
    }
    if (reserve(out, strlen(res->list_key) + 16) != SMG_OK)
        goto nomem;
    if (accept == SMG_ACCEPT_JSON) {
        put(out, "{\"", 2);
        puts_lit(out, res->list_key);
        put(out, "\": [", 4);
    }
    for (size_t r = 0; r < res->rows; r++) {
        if (reserve(out, row_bound) != SMG_OK)
            goto nomem;
        switch (accept) {
        case SMG_ACCEPT_JSON:
            if (r > 0)
                put(out, ", ", 2);
            put_json_row(out, res, r);
            break;
        case SMG_ACCEPT_JSONLINES:
            put_json_row(out, res, r);
            put(out, "\n", 1);
            break;
        case SMG_ACCEPT_CSV:
        case SMG_ACCEPT_RECORDIO: put_csv_row(out, res, r); break;
        }
    }
    if (accept == SMG_ACCEPT_JSON) {
        if (reserve(out, 2) != SMG_OK)
            goto nomem;
        put(out, "]}", 2);
    }
    return SMG_OK;
nomem:
    return smg_error_set(err, SMG_ENOMEM, "out of memory encoding the response");
}

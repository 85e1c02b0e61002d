/*
 * Encoder and parser of the checkpoint file format (layout in
 * checkpoint_file.h). Integers are written byte by byte in little-endian
 * order whatever the machine, so the framing reads the same everywhere; the
 * parser checks the length field and the CRC32C trailer before it reads any
 * header field or section, then walks the sections with bounds checks.
 */
#include "io/checkpoint_file.h"

#include <string.h>

#include "io/crc32c.h"

static const char MAGIC[8] = {'S', 'M', 'G', 'C', 'K', 'P', 'T', '\n'};
static const char END_MAGIC[4] = {'E', 'N', 'D', '\n'};

uint64_t smg_ckpt_hash(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;

    if (h == 0)
        h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static void put_le(unsigned char *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static size_t pad8(size_t n)
{
    return (8 - (n & 7)) & 7;
}

/* The 120 header bytes at p, in the order checkpoint_file.h lists them. */
static void header_put(unsigned char *p, const struct smg_ckpt_header *h)
{
    uint64_t order = SMG_CKPT_BYTE_ORDER;

    memset(p, 0, SMG_CKPT_HEADER_BYTES - 24);
    memcpy(p, h->algorithm, strnlen(h->algorithm, sizeof(h->algorithm)));
    put_le(p + 16, h->hp_hash, 8);
    put_le(p + 24, h->rank, 4);
    put_le(p + 28, h->n_ranks, 4);
    put_le(p + 32, h->generation, 8);
    put_le(p + 40, h->epoch, 4);
    put_le(p + 44, h->phase, 4);
    put_le(p + 48, h->epoch_records, 8);
    put_le(p + 56, h->total_records, 8);
    put_le(p + 64, h->mode, 4);
    put_le(p + 72, h->data_hash, 8);
    put_le(p + 80, h->data_files, 8);
    put_le(p + 88, h->data_bytes, 8);
    put_le(p + 96, h->created_ms, 8);
    memcpy(p + 104, &order, 8); /* native order on purpose: it is the probe */
}

static void header_get(const unsigned char *p, struct smg_ckpt_header *h)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->algorithm, p, 15);
    h->hp_hash = get_le(p + 16, 8);
    h->rank = (uint32_t)get_le(p + 24, 4);
    h->n_ranks = (uint32_t)get_le(p + 28, 4);
    h->generation = get_le(p + 32, 8);
    h->epoch = (uint32_t)get_le(p + 40, 4);
    h->phase = (uint32_t)get_le(p + 44, 4);
    h->epoch_records = get_le(p + 48, 8);
    h->total_records = get_le(p + 56, 8);
    h->mode = (uint32_t)get_le(p + 64, 4);
    h->reserved = (uint32_t)get_le(p + 68, 4);
    h->data_hash = get_le(p + 72, 8);
    h->data_files = get_le(p + 80, 8);
    h->data_bytes = get_le(p + 88, 8);
    h->created_ms = get_le(p + 96, 8);
    memcpy(&h->byte_order, p + 104, 8);
}

enum smg_status smg_ckpt_encode(const struct smg_ckpt_header *h,
                                const struct smg_ckpt_section *sections, size_t n,
                                struct smg_buf *out, struct smg_error *err)
{
    static const unsigned char zeros[8] = {0};
    unsigned char head[SMG_CKPT_HEADER_BYTES], sec[16], tail[SMG_CKPT_TRAILER];
    size_t start = out->len, total = SMG_CKPT_HEADER_BYTES + SMG_CKPT_TRAILER;
    int rc;

    if (n > SMG_CKPT_MAX_SECTIONS)
        return smg_error_set(err, SMG_EINTERNAL, "checkpoint: %zu sections, at most %d", n,
                             SMG_CKPT_MAX_SECTIONS);
    for (size_t i = 0; i < n; i++) {
        if (strlen(sections[i].tag) != 4)
            return smg_error_set(err, SMG_EINTERNAL, "checkpoint: section tag '%s' is not 4 bytes",
                                 sections[i].tag);
        total += 16 + sections[i].len + pad8(sections[i].len);
    }
    memcpy(head, MAGIC, 8);
    put_le(head + 8, SMG_CKPT_VERSION, 4);
    put_le(head + 12, n, 4);
    put_le(head + 16, total, 8);
    header_put(head + 24, h);
    if ((rc = smg_buf_reserve(out, total)) != SMG_OK || smg_buf_append(out, head, 144) != SMG_OK)
        return smg_error_set(err, SMG_ENOMEM, "out of memory for a %zu-byte checkpoint", total);
    for (size_t i = 0; i < n; i++) {
        memcpy(sec, sections[i].tag, 4);
        put_le(sec + 4, 0, 4);
        put_le(sec + 8, sections[i].len, 8);
        if (smg_buf_append(out, sec, 16) != SMG_OK ||
            smg_buf_append(out, sections[i].data, sections[i].len) != SMG_OK ||
            smg_buf_append(out, zeros, pad8(sections[i].len)) != SMG_OK)
            return smg_error_set(err, SMG_ENOMEM, "out of memory for a %zu-byte checkpoint", total);
    }
    put_le(tail, smg_crc32c(0, out->data + start, out->len - start), 4);
    memcpy(tail + 4, END_MAGIC, 4);
    if (smg_buf_append(out, tail, SMG_CKPT_TRAILER) != SMG_OK)
        return smg_error_set(err, SMG_ENOMEM, "out of memory for a %zu-byte checkpoint", total);
    return SMG_OK;
}

/* The framing around the sections: magic, version, length, trailer, CRC. */
static int check_frame(const unsigned char *p, size_t len, const char *what, struct smg_error *err)
{
    uint64_t declared;
    uint32_t crc, want;

    if (len < 8 || memcmp(p, MAGIC, 8) != 0)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s is not a smalgo checkpoint (no \"SMGCKPT\" magic at byte 0)",
                             what);
    if (len < SMG_CKPT_HEADER_BYTES + SMG_CKPT_TRAILER)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s is truncated: %zu bytes, shorter than a checkpoint header (%d)",
                             what, len, SMG_CKPT_HEADER_BYTES + SMG_CKPT_TRAILER);
    if (get_le(p + 8, 4) != SMG_CKPT_VERSION)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s has checkpoint format version %llu; this smalgo reads version %u",
                             what, (unsigned long long)get_le(p + 8, 4), SMG_CKPT_VERSION);
    declared = get_le(p + 16, 8);
    if (declared != len)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s is %s: its header says %llu bytes but it has %zu", what,
                             declared > len ? "truncated" : "followed by extra bytes",
                             (unsigned long long)declared, len);
    if (memcmp(p + len - 4, END_MAGIC, 4) != 0)
        return smg_error_set(err, SMG_EFORMAT, "%s has no end marker at byte %zu", what, len - 4);
    want = (uint32_t)get_le(p + len - 8, 4);
    crc = smg_crc32c(0, p, len - 8);
    if (crc != want)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s is corrupt: CRC32C 0x%08x over bytes 0..%zu does not match the "
                             "stored 0x%08x",
                             what, crc, len - 8, want);
    return SMG_OK;
}

enum smg_status smg_ckpt_parse(const void *data, size_t len, const char *what,
                               struct smg_ckpt_header *h, struct smg_ckpt_section *sections,
                               size_t max, size_t *n, struct smg_error *err)
{
    const unsigned char *p = data;
    size_t off = SMG_CKPT_HEADER_BYTES, end, count;
    int rc;

    if ((rc = check_frame(p, len, what, err)) != SMG_OK)
        return rc;
    end = len - SMG_CKPT_TRAILER;
    count = (size_t)get_le(p + 12, 4);
    if (count > max || count > SMG_CKPT_MAX_SECTIONS)
        return smg_error_set(err, SMG_EFORMAT, "%s has %zu sections, at most %zu are allowed", what,
                             count, max < SMG_CKPT_MAX_SECTIONS ? max : SMG_CKPT_MAX_SECTIONS);
    for (size_t i = 0; i < count; i++) {
        uint64_t l;
        if (end - off < 16)
            return smg_error_set(err, SMG_EFORMAT, "%s: section %zu header at byte %zu is cut off",
                                 what, i, off);
        l = get_le(p + off + 8, 8);
        if (l > end - off - 16 || pad8((size_t)l) > end - off - 16 - l)
            return smg_error_set(err, SMG_EFORMAT,
                                 "%s: section %zu at byte %zu claims %llu bytes, only %zu remain",
                                 what, i, off, (unsigned long long)l, end - off - 16);
        memcpy(sections[i].tag, p + off, 4);
        sections[i].tag[4] = '\0';
        sections[i].data = p + off + 16;
        sections[i].len = (size_t)l;
        off += 16 + (size_t)l + pad8((size_t)l);
    }
    if (off != end)
        return smg_error_set(err, SMG_EFORMAT, "%s: %zu unexplained bytes after the sections", what,
                             end - off);
    header_get(p + 24, h);
    *n = count;
    return SMG_OK;
}

const struct smg_ckpt_section *smg_ckpt_find(const struct smg_ckpt_section *sections, size_t n,
                                             const char *tag)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(sections[i].tag, tag) == 0)
            return &sections[i];
    return NULL;
}

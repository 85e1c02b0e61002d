/*
 * Gzip inflation filter and magic-byte detection over struct smg_stream.
 *
 * The filter keeps a 256 KiB input buffer filled from the inner stream and
 * inflates straight into the caller's buffer. At Z_STREAM_END it looks for
 * more input: if there is any, it is another gzip member (inflateReset and go
 * on), otherwise the stream is over. Input that ends inside a member is a
 * "truncated gzip stream" error, not a silent EOF, so a writer that dies
 * mid-transfer is noticed.
 *
 * Detection reads up to two bytes; since streams cannot un-read, the bytes
 * are handed back either as the first input of the filter or through a small
 * pass-through stream that replays them before delegating to inner.
 */
#include "io/gzip.h"

#include <string.h>
#include <zlib.h>

#include "io/base/alloc.h"

#define GZIP_IN_BUF ((size_t)256 << 10)

struct gzip_ctx {
    struct smg_stream *inner;
    bool owns_inner;
    z_stream z;
    bool z_ready;
    unsigned char *in;
    bool inner_eof;
    bool done;
};

struct replay_ctx {
    struct smg_stream *inner;
    unsigned char head[2];
    size_t head_len;
    size_t head_pos;
};

static uint64_t compressed_offset(const struct gzip_ctx *g)
{
    return smg_stream_offset(g->inner) - g->z.avail_in;
}

static int gzip_fill(struct gzip_ctx *g, struct smg_error *err)
{
    size_t got = 0;
    int rc;

    if (g->z.avail_in > 0 || g->inner_eof)
        return SMG_OK;
    rc = smg_stream_read(g->inner, g->in, GZIP_IN_BUF, &got, err);
    if (rc != SMG_OK)
        return rc;
    if (got == 0)
        g->inner_eof = true;
    g->z.next_in = g->in;
    g->z.avail_in = (uInt)got;
    return SMG_OK;
}

static int gzip_read(void *ctx, void *dst, size_t cap, size_t *got, struct smg_error *err)
{
    struct gzip_ctx *g = ctx;
    uInt want = cap > (size_t)UINT32_MAX ? UINT32_MAX : (uInt)cap;
    int rc;

    *got = 0;
    while (!g->done) {
        int zr;

        if ((rc = gzip_fill(g, err)) != SMG_OK)
            return rc;
        g->z.next_out = dst;
        g->z.avail_out = want;
        zr = inflate(&g->z, Z_NO_FLUSH);
        *got = want - g->z.avail_out;
        if (zr == Z_STREAM_END) {
            /* One member done; another may follow (concatenated gzip). */
            if ((rc = gzip_fill(g, err)) != SMG_OK)
                return rc;
            if (g->z.avail_in == 0 && g->inner_eof)
                g->done = true;
            else
                inflateReset(&g->z);
        } else if (zr == Z_OK || zr == Z_BUF_ERROR) {
            if (*got == 0 && g->z.avail_in == 0 && g->inner_eof)
                return smg_error_set(err, SMG_EFORMAT,
                                     "%s: truncated gzip stream (ends inside a member at "
                                     "compressed byte %ju)",
                                     smg_stream_name(g->inner), (uintmax_t)compressed_offset(g));
        } else {
            return smg_error_set(err, SMG_EFORMAT,
                                 "%s: corrupt gzip stream at compressed byte %ju: %s",
                                 smg_stream_name(g->inner), (uintmax_t)compressed_offset(g),
                                 g->z.msg != NULL ? g->z.msg : zError(zr));
        }
        if (*got > 0)
            return SMG_OK;
    }
    return SMG_OK;
}

static void gzip_free(void *ctx)
{
    struct gzip_ctx *g = ctx;

    if (g == NULL)
        return;
    if (g->z_ready)
        inflateEnd(&g->z);
    if (g->owns_inner)
        smg_stream_free(g->inner);
    smg_free(g->in);
    smg_free(g);
}

/* The filter, with `pre` (already read from inner) as its first input. */
static int gzip_open_with(struct smg_stream *inner, bool owns_inner, const unsigned char *pre,
                          size_t pre_len, struct smg_stream **out, struct smg_error *err)
{
    struct gzip_ctx *g = smg_calloc(1, sizeof(*g));
    int rc;

    if (g == NULL || (g->in = smg_malloc(GZIP_IN_BUF)) == NULL) {
        smg_free(g);
        if (owns_inner)
            smg_stream_free(inner);
        return smg_error_set(err, SMG_ENOMEM, "out of memory opening gzip stream");
    }
    g->inner = inner;
    g->owns_inner = owns_inner;
    if (inflateInit2(&g->z, MAX_WBITS + 32) != Z_OK) {
        gzip_free(g);
        return smg_error_set(err, SMG_ENOMEM, "zlib inflateInit2 failed");
    }
    g->z_ready = true;
    memcpy(g->in, pre, pre_len);
    g->z.next_in = g->in;
    g->z.avail_in = (uInt)pre_len;
    rc = smg_stream_open_custom(g, gzip_read, gzip_free, smg_stream_name(inner), out, err);
    if (rc != SMG_OK)
        gzip_free(g);
    return rc;
}

enum smg_status smg_gzip_open(struct smg_stream *inner, bool owns_inner, struct smg_stream **out,
                              struct smg_error *err)
{
    return gzip_open_with(inner, owns_inner, NULL, 0, out, err);
}

static int replay_read(void *ctx, void *dst, size_t cap, size_t *got, struct smg_error *err)
{
    struct replay_ctx *r = ctx;

    if (r->head_pos < r->head_len) {
        size_t n = r->head_len - r->head_pos;
        if (n > cap)
            n = cap;
        memcpy(dst, r->head + r->head_pos, n);
        r->head_pos += n;
        *got = n;
        return SMG_OK;
    }
    return smg_stream_read(r->inner, dst, cap, got, err);
}

static void replay_free(void *ctx)
{
    struct replay_ctx *r = ctx;

    if (r == NULL)
        return;
    smg_stream_free(r->inner);
    smg_free(r);
}

enum smg_status smg_gzip_detect(struct smg_stream *inner, struct smg_stream **out, bool *was_gzip,
                                struct smg_error *err)
{
    unsigned char head[2];
    size_t got = 0;
    struct replay_ctx *r;
    int rc;

    *out = NULL;
    if (was_gzip != NULL)
        *was_gzip = false;
    rc = smg_stream_read_full(inner, head, sizeof(head), &got, err);
    if (rc != SMG_OK) {
        smg_stream_free(inner);
        return rc;
    }
    if (got == 2 && head[0] == 0x1f && head[1] == 0x8b) {
        if (was_gzip != NULL)
            *was_gzip = true;
        return gzip_open_with(inner, true, head, got, out, err);
    }
    r = smg_calloc(1, sizeof(*r));
    if (r == NULL) {
        smg_stream_free(inner);
        return smg_error_set(err, SMG_ENOMEM, "out of memory opening stream");
    }
    r->inner = inner;
    memcpy(r->head, head, got);
    r->head_len = got;
    rc = smg_stream_open_custom(r, replay_read, replay_free, smg_stream_name(inner), out, err);
    if (rc != SMG_OK)
        replay_free(r);
    return rc;
}

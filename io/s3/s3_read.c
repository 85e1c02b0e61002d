/*
 * Reading S3 objects: a stream of ranged GETs (one part at a time, so memory
 * stays at one part whatever the object's size) and a whole-object fetch for
 * small things (manifests). The object's size comes from the first answer's
 * Content-Range; a part that a reset or stall cuts short is resumed by
 * smg_s3_request at the first byte not yet received, so every byte reaches
 * the reader exactly once.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/s3/s3_client.h"
#include "io/s3/s3_request.h"
#include "io/s3/s3_uri.h"

struct reader {
    CURL *h;
    struct smg_s3_uri u;
    uint64_t next;  /* first byte of the next part */
    uint64_t total; /* object size, UINT64_MAX until known */
    struct smg_buf part;
    size_t pos; /* bytes of part already delivered */
};

size_t smg_s3_part_bytes(void)
{
    const char *v = getenv("SMALGO_S3_PART_MB");
    long mb = v ? strtol(v, NULL, 10) : 8;

    if (mb < 5 || mb > 512)
        mb = 8;
    return (size_t)mb << 20;
}

/* Fetch the next part into rd->part. */
static int fetch(struct reader *rd, struct smg_error *err)
{
    struct smg_s3_req r = {0};
    size_t want = smg_s3_part_bytes();
    int rc;

    smg_buf_reset(&rd->part);
    rd->pos = 0;
    r.method = "GET";
    r.uri = &rd->u;
    r.query = "";
    r.ranged = true;
    r.range_first = rd->next;
    r.range_last = rd->next + want - 1;
    if (rd->total != UINT64_MAX && r.range_last >= rd->total)
        r.range_last = rd->total - 1;
    r.resp = &rd->part;
    rc = smg_s3_request(rd->h, &r, err);
    if (rc != SMG_OK && r.status == 416 && rd->next == 0) { /* an empty object */
        smg_error_clear(err);
        rd->total = 0;
        return SMG_OK;
    }
    if (rc != SMG_OK)
        return rc;
    if (r.total != UINT64_MAX)
        rd->total = r.total;
    else if (r.status == 200) /* no Range honoured: the whole object came */
        rd->total = rd->next + rd->part.len;
    rd->next += rd->part.len;
    if (rd->part.len == 0 && rd->next < rd->total && rd->total != UINT64_MAX)
        return smg_error_set(err, SMG_EIO, "s3://%s/%s: empty answer at byte %llu of %llu",
                             rd->u.bucket, rd->u.key, (unsigned long long)rd->next,
                             (unsigned long long)rd->total);
    return SMG_OK;
}

static int reader_read(void *ctx, void *dst, size_t cap, size_t *got, struct smg_error *err)
{
    struct reader *rd = ctx;
    int rc;

    *got = 0;
    if (rd->pos == rd->part.len) {
        if (rd->total != UINT64_MAX && rd->next >= rd->total)
            return SMG_OK;
        if ((rc = fetch(rd, err)) != SMG_OK)
            return rc;
        if (rd->part.len == 0)
            return SMG_OK;
    }
    *got = rd->part.len - rd->pos < cap ? rd->part.len - rd->pos : cap;
    memcpy(dst, rd->part.data + rd->pos, *got);
    rd->pos += *got;
    return SMG_OK;
}

static void reader_free(void *ctx)
{
    struct reader *rd = ctx;

    if (rd == NULL)
        return;
    if (rd->h != NULL)
        curl_easy_cleanup(rd->h);
    smg_buf_free(&rd->part);
    smg_free(rd);
}

enum smg_status smg_s3_open_read(const char *uri, struct smg_stream **out, struct smg_error *err)
{
    struct reader *rd = smg_calloc(1, sizeof(*rd));
    int rc;

    *out = NULL;
    if (rd == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory opening %s", uri);
    smg_buf_init(&rd->part, smg_s3_part_bytes());
    rd->total = UINT64_MAX;
    if ((rc = smg_s3_uri_parse(uri, &rd->u, err)) != SMG_OK)
        goto fail;
    if ((rd->h = curl_easy_init()) == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "cannot start an S3 request for %s", uri);
        goto fail;
    }
    /* The first part now, so that a missing object or bad credentials fail at open. */
    if ((rc = fetch(rd, err)) != SMG_OK)
        goto fail;
    if ((rc = smg_stream_open_custom(rd, reader_read, reader_free, uri, out, err)) != SMG_OK)
        goto fail;
    return SMG_OK;
fail:
    reader_free(rd);
    return rc;
}

enum smg_status smg_s3_get_all(const char *uri, size_t max, struct smg_buf *body,
                               struct smg_error *err)
{
    struct smg_s3_uri u;
    struct smg_s3_req r = {0};
    CURL *h;
    int rc;

    smg_buf_init(body, max);
    if ((rc = smg_s3_uri_parse(uri, &u, err)) != SMG_OK)
        return rc;
    if ((h = curl_easy_init()) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "cannot start an S3 request for %s", uri);
    r.method = "GET";
    r.uri = &u;
    r.query = "";
    r.resp = body;
    rc = smg_s3_request(h, &r, err);
    curl_easy_cleanup(h);
    return rc;
}

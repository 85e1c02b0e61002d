/*
 * Reading S3 objects: a stream of ranged GETs, two in flight (the part being
 * read and the next, fetched ahead in a thread with its own connection), so
 * memory stays at two parts whatever the object's size; and a whole-object
 * fetch for small things (manifests). The object's size comes from the first answer's
 * Content-Range; a part that a reset or stall cuts short is resumed by
 * smg_s3_request at the first byte not yet received, so every byte reaches
 * the reader exactly once.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/s3/s3_client.h"
#include "io/s3/s3_http.h"
#include "io/s3/s3_request.h"
#include "io/s3/s3_uri.h"

/* One part: fetched in the caller's thread, or ahead in a thread of its own. */
struct part {
    CURL *h;
    struct smg_buf buf;
    uint64_t first; /* the part's first byte in the object */
    uint64_t total; /* object size from the answer, UINT64_MAX if not told */
    long status;
    int rc;
    struct smg_error err;
    pthread_t thread;
    bool running;
    const struct smg_s3_uri *u;
};

struct reader {
    struct smg_s3_uri u;
    uint64_t next;  /* first byte not yet fetched (or being fetched ahead) */
    uint64_t total; /* object size, UINT64_MAX until known */
    struct part slots[2];
    struct part *cur, *ahead;
    size_t pos; /* bytes of cur already delivered */
};

size_t smg_s3_part_bytes(void)
{
    const char *v = getenv("SMALGO_S3_PART_MB");
    long mb = v ? strtol(v, NULL, 10) : 8;

    if (mb < 5 || mb > 512)
        mb = 8;
    return (size_t)mb << 20;
}

/* Fetch bytes [p->first, p->first + part size) (clipped to total) into p->buf. */
static void fetch_part(struct part *p, uint64_t total)
{
    struct smg_s3_req r = {0};

    smg_buf_reset(&p->buf);
    smg_error_clear(&p->err);
    r.method = "GET";
    r.uri = p->u;
    r.query = "";
    r.ranged = true;
    r.range_first = p->first;
    r.range_last = p->first + smg_s3_part_bytes() - 1;
    if (total != UINT64_MAX && r.range_last >= total)
        r.range_last = total - 1;
    r.resp = &p->buf;
    p->rc = smg_s3_request(p->h, &r, &p->err);
    p->status = r.status;
    p->total = r.total != UINT64_MAX ? r.total
               : r.status == 200     ? p->first + p->buf.len /* Range not honoured */
                                     : UINT64_MAX;
    if (p->rc != SMG_OK && r.status == 416 && p->first == 0) { /* an empty object */
        p->rc = SMG_OK;
        p->total = 0;
    }
}

static void *fetch_ahead(void *arg)
{
    struct part *p = arg;

    fetch_part(p, p->total);
    return NULL;
}

/* Start fetching the part after cur in the background, if there is one. */
static void start_ahead(struct reader *rd)
{
    struct part *p = rd->ahead;

    if (rd->total == UINT64_MAX || rd->next >= rd->total)
        return;
    p->first = rd->next;
    p->total = rd->total;
    p->running = pthread_create(&p->thread, NULL, fetch_ahead, p) == 0;
}

/* Make cur the next part: the one fetched ahead, else fetched now. */
static int next_part(struct reader *rd, struct smg_error *err)
{
    struct part *p = rd->ahead;

    if (p->running) {
        pthread_join(p->thread, NULL);
        p->running = false;
        rd->ahead = rd->cur;
        rd->cur = p;
    } else {
        rd->cur->first = rd->next;
        fetch_part(rd->cur, rd->total);
    }
    p = rd->cur;
    rd->pos = 0;
    if (p->rc != SMG_OK)
        return smg_error_set_class(err, p->rc, p->err.klass, "%s", p->err.msg);
    if (p->total != UINT64_MAX)
        rd->total = p->total;
    rd->next = p->first + p->buf.len;
    if (p->buf.len == 0 && rd->total != UINT64_MAX && rd->next < rd->total)
        return smg_error_set(err, SMG_EIO, "s3://%s/%s: empty answer at byte %llu of %llu",
                             rd->u.bucket, rd->u.key, (unsigned long long)rd->next,
                             (unsigned long long)rd->total);
    start_ahead(rd);
    return SMG_OK;
}

static int reader_read(void *ctx, void *dst, size_t cap, size_t *got, struct smg_error *err)
{
    struct reader *rd = ctx;
    int rc;

    *got = 0;
    if (rd->pos == rd->cur->buf.len) {
        if (rd->total != UINT64_MAX && rd->next >= rd->total)
            return SMG_OK;
        if ((rc = next_part(rd, err)) != SMG_OK)
            return rc;
        if (rd->cur->buf.len == 0)
            return SMG_OK;
    }
    *got = rd->cur->buf.len - rd->pos < cap ? rd->cur->buf.len - rd->pos : cap;
    memcpy(dst, rd->cur->buf.data + rd->pos, *got);
    rd->pos += *got;
    return SMG_OK;
}

static void reader_free(void *ctx)
{
    struct reader *rd = ctx;

    if (rd == NULL)
        return;
    for (int i = 0; i < 2; i++) {
        struct part *p = &rd->slots[i];
        if (p->running)
            pthread_join(p->thread, NULL);
        if (p->h != NULL)
            curl_easy_cleanup(p->h);
        smg_buf_free(&p->buf);
    }
    smg_free(rd);
}

enum smg_status smg_s3_open_read(const char *uri, struct smg_stream **out, struct smg_error *err)
{
    struct reader *rd = smg_calloc(1, sizeof(*rd));
    int rc;

    *out = NULL;
    if (rd == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory opening %s", uri);
    rd->total = UINT64_MAX;
    rd->cur = &rd->slots[0];
    rd->ahead = &rd->slots[1];
    for (int i = 0; i < 2; i++) {
        smg_buf_init(&rd->slots[i].buf, smg_s3_part_bytes());
        rd->slots[i].u = &rd->u;
    }
    if ((rc = smg_s3_uri_parse(uri, &rd->u, err)) != SMG_OK)
        goto fail;
    smg_s3_curl_init(); /* before the first easy handle: curl's global init is not thread-safe */
    if ((rd->slots[0].h = curl_easy_init()) == NULL ||
        (rd->slots[1].h = curl_easy_init()) == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "cannot start an S3 request for %s", uri);
        goto fail;
    }
    /* The first part now, so that a missing object or bad credentials fail at open. */
    if ((rc = next_part(rd, err)) != SMG_OK)
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
    smg_s3_curl_init();
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

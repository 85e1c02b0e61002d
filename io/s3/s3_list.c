/*
 * ListObjectsV2 with paging: GET /bucket?continuation-token=T&list-type=2
 * [&max-keys=N]&prefix=P (keys already in canonical order), repeated while
 * <IsTruncated>true</IsTruncated>. Keys are read from the <Key> leaves; a
 * page with a malformed <Key> or a truncated page without a token is an error.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/s3/s3_client.h"
#include "io/s3/s3_http.h"
#include "io/s3/s3_request.h"
#include "io/s3/s3_uri.h"
#include "io/s3/s3_xml.h"
#include "io/s3/sigv4.h"

#define PAGE_MAX ((size_t)16 << 20)

/* out += "s3://bucket/key". */
static int push(struct smg_file_list *out, const char *bucket, const char *key)
{
    char head[SMG_S3_BUCKET_MAX + 8]; /* the URI parser bounds the bucket name */

    snprintf(head, sizeof(head), "s3://%s/", bucket);
    return smg_file_list_push2(out, head, key);
}

/* The keys of one page; *token set to the next token ("" when done). */
static int read_page(const struct smg_buf *page, const struct smg_s3_uri *u,
                     struct smg_file_list *out, char *token, size_t cap, struct smg_error *err)
{
    char key[SMG_S3_KEY_MAX + 1], flag[16] = "false";
    size_t pos = 0;
    int rc;

    while ((rc = smg_s3_xml_next(page->data, page->len, &pos, "Key", key, sizeof(key))) == SMG_OK) {
        size_t n = strlen(key);
        if (n > 0 && key[n - 1] == '/')
            continue;
        if (push(out, u->bucket, key) != SMG_OK)
            return smg_error_set(err, SMG_ENOMEM, "out of memory listing s3://%s/%s", u->bucket,
                                 u->key);
    }
    if (rc != SMG_EEOF)
        return smg_error_set(err, SMG_EFORMAT, "listing s3://%s/%s: malformed <Key> in the answer",
                             u->bucket, u->key);
    pos = 0;
    if (smg_s3_xml_next(page->data, page->len, &pos, "IsTruncated", flag, sizeof(flag)) != SMG_OK)
        strcpy(flag, "false");
    token[0] = '\0';
    if (strcmp(flag, "true") != 0)
        return SMG_OK;
    pos = 0;
    if (smg_s3_xml_next(page->data, page->len, &pos, "NextContinuationToken", token, cap) !=
            SMG_OK ||
        token[0] == '\0')
        return smg_error_set(err, SMG_EFORMAT,
                             "listing s3://%s/%s: a truncated page without NextContinuationToken",
                             u->bucket, u->key);
    return SMG_OK;
}

static void page_query(const struct smg_s3_uri *u, const char *token, char *q, size_t cap)
{
    char etok[3 * 1024 + 1] = "", epre[3 * SMG_S3_KEY_MAX + 1] = "", maxk[40] = "";
    const char *page = getenv("SMALGO_S3_LIST_PAGE");

    (void)smg_s3_uri_encode(token, false, etok, sizeof(etok));
    (void)smg_s3_uri_encode(u->key, false, epre, sizeof(epre));
    if (page != NULL && atoi(page) > 0)
        snprintf(maxk, sizeof(maxk), "&max-keys=%d", atoi(page));
    snprintf(q, cap, "%s%s%slist-type=2%s&prefix=%s", token[0] ? "continuation-token=" : "", etok,
             token[0] ? "&" : "", maxk, epre);
}

enum smg_status smg_s3_list(const char *uri, struct smg_file_list *out, struct smg_error *err)
{
    struct smg_s3_uri u, bucket;
    struct smg_buf page;
    char token[1024] = "", q[8192];
    CURL *h;
    int rc;

    if ((rc = smg_s3_uri_parse(uri, &u, err)) != SMG_OK)
        return rc;
    smg_s3_curl_init(); /* before the first easy handle: curl's global init is not thread-safe */
    if ((h = curl_easy_init()) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "cannot start an S3 request");
    bucket = u;
    bucket.key[0] = '\0';
    smg_buf_init(&page, PAGE_MAX);
    do {
        struct smg_s3_req r = {0};
        page_query(&u, token, q, sizeof(q));
        r.method = "GET";
        r.uri = &bucket;
        r.query = q;
        r.resp = &page;
        smg_buf_reset(&page);
        if ((rc = smg_s3_request(h, &r, err)) != SMG_OK) {
            smg_error_prefix(err, "listing %s: ", uri);
            break;
        }
        rc = read_page(&page, &u, out, token, sizeof(token), err);
    } while (rc == SMG_OK && token[0] != '\0');
    smg_buf_free(&page);
    curl_easy_cleanup(h);
    return rc;
}

/*
 * Uploading a local file: one PUT when it fits in one part; otherwise
 * CreateMultipartUpload (POST ?uploads=), UploadPart (PUT ?partNumber=N
 * &uploadId=ID, each part read into memory so its SHA-256 can be signed, as
 * a strictly verifying server requires), CompleteMultipartUpload (POST
 * ?uploadId=ID with the part list in XML). Any failure after the upload was
 * created sends AbortMultipartUpload (DELETE ?uploadId=ID), so a half-uploaded
 * model never becomes a visible object. A 200 answer to Complete may still
 * carry an <Error>: that is a failure too.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/base/log.h"
#include "io/s3/s3_client.h"
#include "io/s3/s3_http.h"
#include "io/s3/s3_request.h"
#include "io/s3/s3_uri.h"
#include "io/s3/s3_xml.h"
#include "io/s3/sigv4.h"

#define ANSWER_MAX ((size_t)1 << 20)
#define MAX_PARTS  10000

struct upload {
    CURL *h;
    struct smg_s3_uri u;
    char id[1024], eid[3 * 1024 + 1];
    struct smg_buf answer, complete;
};

static int simple(struct upload *up, const char *method, const char *query, const void *body,
                  size_t len, const char *ctype, char *etag, struct smg_error *err)
{
    struct smg_s3_req r = {0};
    int rc;

    r.method = method;
    r.uri = &up->u;
    r.query = query;
    r.body = body;
    r.body_len = len;
    r.content_type = ctype;
    r.resp = &up->answer;
    smg_buf_reset(&up->answer);
    rc = smg_s3_request(up->h, &r, err);
    if (rc == SMG_OK && etag != NULL)
        snprintf(etag, 160, "%s", r.etag);
    return rc;
}

static int create(struct upload *up, struct smg_error *err)
{
    size_t pos = 0;
    int rc = simple(up, "POST", "uploads=", NULL, 0, NULL, NULL, err);

    if (rc != SMG_OK)
        return rc;
    if (smg_s3_xml_next(up->answer.data, up->answer.len, &pos, "UploadId", up->id,
                        sizeof(up->id)) != SMG_OK ||
        up->id[0] == '\0')
        return smg_error_set(err, SMG_EFORMAT,
                             "s3://%s/%s: CreateMultipartUpload answered without an UploadId",
                             up->u.bucket, up->u.key);
    (void)smg_s3_uri_encode(up->id, false, up->eid, sizeof(up->eid));
    return smg_buf_append_str(&up->complete, "<CompleteMultipartUpload>");
}

static int put_part(struct upload *up, int n, const void *data, size_t len, struct smg_error *err)
{
    char q[4096], etag[160], esc[400];
    int rc;

    snprintf(q, sizeof(q), "partNumber=%d&uploadId=%s", n, up->eid);
    if ((rc = simple(up, "PUT", q, data, len, NULL, etag, err)) != SMG_OK)
        return rc;
    if (etag[0] == '\0' || smg_s3_xml_escape(etag, esc, sizeof(esc)) == 0)
        return smg_error_set(err, SMG_EFORMAT, "s3://%s/%s: part %d answered without an ETag",
                             up->u.bucket, up->u.key, n);
    return smg_buf_printf(&up->complete, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>",
                          n, esc);
}

static int finish(struct upload *up, struct smg_error *err)
{
    char q[4096], code[128];
    size_t pos = 0;
    int rc;

    if ((rc = smg_buf_append_str(&up->complete, "</CompleteMultipartUpload>")) != SMG_OK)
        return smg_error_set(err, rc, "out of memory completing an upload");
    snprintf(q, sizeof(q), "uploadId=%s", up->eid);
    rc = simple(up, "POST", q, up->complete.data, up->complete.len, "application/xml", NULL, err);
    if (rc == SMG_OK && smg_s3_xml_next(up->answer.data, up->answer.len, &pos, "Code", code,
                                        sizeof(code)) == SMG_OK)
        rc = smg_error_set(err, SMG_EIO, "s3://%s/%s: CompleteMultipartUpload failed: %s",
                           up->u.bucket, up->u.key, code);
    return rc;
}

static void abort_upload(struct upload *up)
{
    char q[4096];
    struct smg_error ignored;

    smg_error_clear(&ignored);
    snprintf(q, sizeof(q), "uploadId=%s", up->eid);
    if (simple(up, "DELETE", q, NULL, 0, NULL, NULL, &ignored) != SMG_OK)
        smg_log_warn("could not abort the multipart upload of s3://%s/%s: %s", up->u.bucket,
                     up->u.key, ignored.msg);
}

/* Read up to cap bytes of f into buf; *n bytes read. */
static int read_part(FILE *f, const char *path, unsigned char *buf, size_t cap, size_t *n,
                     struct smg_error *err)
{
    *n = fread(buf, 1, cap, f);
    if (*n < cap && ferror(f))
        return smg_error_set(err, SMG_EIO, "reading %s failed", path);
    return SMG_OK;
}

static int multipart(struct upload *up, FILE *f, const char *path, unsigned char *buf, size_t part,
                     size_t first_len, struct smg_error *err)
{
    size_t n = first_len;
    int rc = create(up, err);

    for (int k = 1; rc == SMG_OK && n > 0; k++) {
        if (k > MAX_PARTS)
            rc = smg_error_set(err, SMG_ECONFIG, "%s: more than %d parts", path, MAX_PARTS);
        else if ((rc = put_part(up, k, buf, n, err)) == SMG_OK)
            rc = read_part(f, path, buf, part, &n, err);
    }
    if (rc == SMG_OK)
        rc = finish(up, err);
    if (rc != SMG_OK && up->id[0] != '\0')
        abort_upload(up);
    return rc;
}

enum smg_status smg_s3_upload_file(const char *path, const char *uri, struct smg_error *err)
{
    struct upload up;
    size_t part = smg_s3_part_bytes(), n = 0;
    unsigned char *buf = NULL;
    FILE *f = NULL;
    int rc;

    memset(&up, 0, sizeof(up));
    smg_buf_init(&up.answer, ANSWER_MAX);
    smg_buf_init(&up.complete, (size_t)MAX_PARTS * 512);
    if ((rc = smg_s3_uri_parse(uri, &up.u, err)) != SMG_OK)
        goto out;
    if ((f = fopen(path, "rb")) == NULL) {
        rc = smg_error_set(err, SMG_EIO, "cannot open %s to upload it", path);
        goto out;
    }
    smg_s3_curl_init();
    if ((buf = smg_malloc(part)) == NULL || (up.h = curl_easy_init()) == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "out of memory uploading %s", path);
        goto out;
    }
    if ((rc = read_part(f, path, buf, part, &n, err)) != SMG_OK)
        goto out;
    if (n < part)
        rc = simple(&up, "PUT", "", buf, n, NULL, NULL, err);
    else
        rc = multipart(&up, f, path, buf, part, n, err);
out:
    if (rc != SMG_OK)
        smg_error_prefix(err, "uploading %s: ", path);
    if (f != NULL)
        fclose(f);
    if (up.h != NULL)
        curl_easy_cleanup(up.h);
    smg_free(buf);
    smg_buf_free(&up.answer);
    smg_buf_free(&up.complete);
    return rc;
}

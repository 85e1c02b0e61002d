/* SageMaker manifests and s3:// channel sources (see s3_manifest.h). */
#include "io/s3/s3_manifest.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/base/buffer.h"
#include "io/s3/s3_client.h"
#include "io/s3/s3_uri.h"

static int bad(struct smg_error *err, const char *where, const char *what)
{
    return smg_error_set(err, SMG_EFORMAT,
                         "manifest %s: %s; expected [{\"prefix\": \"s3://bucket/prefix/\"}, "
                         "\"key1\", ...]",
                         where, what);
}

enum smg_status smg_s3_manifest_parse(const char *text, size_t len, const char *where,
                                      struct smg_file_list *out, struct smg_error *err)
{
    cJSON *doc = cJSON_ParseWithLength(text, len), *head, *item;
    struct smg_s3_uri u;
    const char *prefix;
    int rc = SMG_OK, i = 0;

    if (doc == NULL || !cJSON_IsArray(doc)) {
        rc = bad(err, where, "not a JSON array");
        goto out;
    }
    head = cJSON_GetArrayItem(doc, 0);
    item = head ? cJSON_GetObjectItemCaseSensitive(head, "prefix") : NULL;
    if (!cJSON_IsObject(head) || !cJSON_IsString(item)) {
        rc = bad(err, where, "the first element is not {\"prefix\": \"s3://...\"}");
        goto out;
    }
    prefix = item->valuestring;
    if ((rc = smg_s3_uri_parse(prefix, &u, err)) != SMG_OK) {
        smg_error_prefix(err, "manifest %s: ", where);
        goto out;
    }
    cJSON_ArrayForEach(item, doc)
    {
        if (i++ == 0)
            continue;
        if (!cJSON_IsString(item)) {
            rc = smg_error_set(err, SMG_EFORMAT, "manifest %s: element %d is not a string", where,
                               i - 1);
            goto out;
        }
        if (strlen(prefix) + strlen(item->valuestring) >
            5 + SMG_S3_BUCKET_MAX + 1 + SMG_S3_KEY_MAX) {
            rc = smg_error_set(err, SMG_EFORMAT, "manifest %s: element %d makes a key too long",
                               where, i - 1);
            goto out;
        }
        if (smg_file_list_push2(out, prefix, item->valuestring) != SMG_OK) {
            rc = smg_error_set(err, SMG_ENOMEM, "out of memory reading manifest %s", where);
            goto out;
        }
        if ((rc = smg_s3_uri_parse(out->paths[out->count - 1], &u, err)) != SMG_OK) {
            smg_error_prefix(err, "manifest %s, element %d: ", where, i - 1);
            goto out;
        }
    }
out:
    cJSON_Delete(doc);
    return rc;
}

static bool is_manifest_uri(const char *s)
{
    size_t n = strlen(s);
    return n >= 9 && strcmp(s + n - 9, ".manifest") == 0;
}

enum smg_status smg_s3_scan(const char *uri, struct smg_file_list *out, struct smg_error *err)
{
    struct smg_buf text;
    int rc;

    if (!is_manifest_uri(uri)) {
        if ((rc = smg_s3_list(uri, out, err)) == SMG_OK && out->count == 0)
            rc = smg_error_set(err, SMG_ECONFIG, "no S3 objects found under %s", uri);
        return rc;
    }
    if ((rc = smg_s3_get_all(uri, SMG_S3_MANIFEST_MAX_BYTES, &text, err)) == SMG_OK)
        rc = smg_s3_manifest_parse(text.data ? text.data : "", text.len, uri, out, err);
    smg_buf_free(&text);
    return rc;
}

static int read_file(const char *path, struct smg_buf *text, struct smg_error *err)
{
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;

    if (f == NULL)
        return smg_error_set(err, SMG_EIO, "cannot open manifest %s", path);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (smg_buf_append(text, chunk, n) != SMG_OK) {
            fclose(f);
            return smg_error_set(err, SMG_EFORMAT, "manifest %s is larger than %zu MiB", path,
                                 SMG_S3_MANIFEST_MAX_BYTES >> 20);
        }
    fclose(f);
    return SMG_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

enum smg_status smg_s3_manifest_scan_folder(const char *dir, struct smg_file_list *out, bool *found,
                                            struct smg_error *err)
{
    struct smg_file_list names = {NULL, 0};
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = SMG_OK;

    *found = false;
    if (d == NULL)
        return SMG_OK; /* the caller's walk reports an unreadable folder */
    while (rc == SMG_OK && (e = readdir(d)) != NULL)
        if (is_manifest_uri(e->d_name) && smg_file_list_push2(&names, "", e->d_name) != SMG_OK)
            rc = smg_error_set(err, SMG_ENOMEM, "out of memory listing %s", dir);
    closedir(d);
    if (names.count > 1)
        qsort(names.paths, names.count, sizeof(*names.paths), by_name);
    for (size_t i = 0; rc == SMG_OK && i < names.count; i++) {
        char path[4096];
        struct smg_buf text;
        snprintf(path, sizeof(path), "%s/%s", dir, names.paths[i]);
        smg_buf_init(&text, SMG_S3_MANIFEST_MAX_BYTES);
        if ((rc = read_file(path, &text, err)) == SMG_OK)
            rc = smg_s3_manifest_parse(text.data ? text.data : "", text.len, path, out, err);
        smg_buf_free(&text);
        *found = true;
    }
    smg_file_list_clear(&names);
    return rc;
}

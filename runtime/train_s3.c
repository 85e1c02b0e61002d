/*
 * S3 channels and S3 output for `smalgo train` (see train_s3.h). A channel
 * given as an S3 prefix becomes a manifest file, the same thing SageMaker's
 * SDK hands a container in local mode, so one code path reads both.
 */
#include "runtime/train_s3.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "io/atomic_file.h"
#include "io/base/log.h"
#include "io/file_list.h"
#include "io/s3/s3_client.h"
#include "io/s3/s3_uri.h"
#include "io/tar_gz.h"

bool smg_train_s3_add_channel(struct smg_train_s3 *s, char *arg)
{
    char *eq = strchr(arg, '=');

    if (eq == NULL || eq == arg || !smg_s3_is_uri(eq + 1) || s->n == SMG_TRAIN_S3_MAX_CHANNELS)
        return false;
    *eq = '\0';
    s->names[s->n] = arg;
    s->uris[s->n++] = eq + 1;
    return true;
}

/* The manifest text of list: [{"prefix": "s3://bucket/"}, "key", ...]. */
static char *manifest_text(const struct smg_s3_uri *u, const struct smg_file_list *list)
{
    cJSON *doc = cJSON_CreateArray(), *head = cJSON_CreateObject();
    char prefix[SMG_S3_BUCKET_MAX + 8];
    size_t skip;
    char *text;

    snprintf(prefix, sizeof(prefix), "s3://%s/", u->bucket);
    skip = strlen(prefix);
    cJSON_AddStringToObject(head, "prefix", prefix);
    cJSON_AddItemToArray(doc, head);
    for (size_t i = 0; i < list->count; i++)
        cJSON_AddItemToArray(doc, cJSON_CreateString(list->paths[i] + skip));
    text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return text;
}

static int one_channel(const char *name, const char *uri, const char *data_dir,
                       struct smg_error *err)
{
    struct smg_file_list list = {NULL, 0};
    struct smg_s3_uri u;
    char dir[4096], path[4200];
    char *text = NULL;
    int rc;

    if ((rc = smg_s3_uri_parse(uri, &u, err)) != SMG_OK ||
        (rc = smg_file_list_scan(uri, &list, err)) != SMG_OK)
        goto out;
    snprintf(dir, sizeof(dir), "%s/%s", data_dir, name);
    if (mkdir(data_dir, 0755) != 0 && errno != EEXIST) {
        rc = smg_error_set(err, SMG_EIO, "cannot create %s: %s", data_dir, strerror(errno));
        goto out;
    }
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        rc = smg_error_set(err, SMG_EIO, "cannot create %s: %s", dir, strerror(errno));
        goto out;
    }
    snprintf(path, sizeof(path), "%s/.smalgo-s3-channel.manifest", dir);
    if ((text = manifest_text(&u, &list)) == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "out of memory writing %s", path);
        goto out;
    }
    if ((rc = smg_atomic_write(path, text, strlen(text), 0644, err)) != SMG_OK)
        goto out;
    smg_log_info("The channel '%s' is %s: %zu S3 objects, listed in %s.", name, uri, list.count,
                 path);
out:
    if (rc != SMG_OK)
        smg_error_prefix(err, "channel '%s': ", name);
    cJSON_free(text);
    smg_file_list_clear(&list);
    return rc;
}

enum smg_status smg_train_s3_channels(const struct smg_train_s3 *s, const char *data_dir,
                                      struct smg_error *err)
{
    char input[4096];
    const char *slash = strrchr(data_dir, '/');
    int rc = SMG_OK;

    if (s->n > 0 && slash != NULL) { /* <root>/input must exist before <root>/input/data */
        snprintf(input, sizeof(input), "%.*s", (int)(slash - data_dir), data_dir);
        (void)mkdir(input, 0755);
    }
    for (size_t i = 0; i < s->n && rc == SMG_OK; i++)
        rc = one_channel(s->names[i], s->uris[i], data_dir, err);
    return rc;
}

enum smg_status smg_train_s3_upload(const struct smg_train_s3 *s, const char *model_dir,
                                    const char *output_dir, struct smg_error *err)
{
    char archive[4200], uri[2048], job[128];
    const char *env = getenv("TRAINING_JOB_NAME");
    size_t n = strlen(s->output);
    int rc;

    if (s->job_name != NULL)
        snprintf(job, sizeof(job), "%s", s->job_name);
    else if (env != NULL && *env != '\0')
        snprintf(job, sizeof(job), "%s", env);
    else {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(job, sizeof(job), "smalgo-%Y-%m-%d-%H-%M-%S", &tm);
    }
    (void)mkdir(output_dir, 0755);
    snprintf(archive, sizeof(archive), "%s/model.tar.gz", output_dir);
    if ((rc = smg_tar_gz_write_dir(model_dir, archive, err)) != SMG_OK)
        return rc;
    snprintf(uri, sizeof(uri), "%s%s%s/output/model.tar.gz", s->output,
             n > 0 && s->output[n - 1] == '/' ? "" : "/", job);
    if ((rc = smg_s3_upload_file(archive, uri, err)) != SMG_OK)
        return rc;
    smg_log_info("Uploaded the model to %s", uri);
    return SMG_OK;
}

/*
 * inputdataconfig.json and resourceconfig.json into struct smg_job.
 *
 * Both files are small JSON objects written by SageMaker (or by a local-mode
 * emulator, or by hand). We read what we use and tolerate any other key, as
 * SageMaker adds keys over time (current_group_name, instance_groups,
 * topology...). A key we use with a value we cannot honour is a client error
 * that names the file, the channel, the key, the value and the allowed values.
 *
 * When a file is absent the job is a local run and we say so in the log:
 * channels are the folders under input/data/ (File mode, content type from
 * the file names) and the only host is algo-1.
 */
#include "runtime/config.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/base/alloc.h"
#include "io/base/log.h"
#include "io/s3/s3_manifest.h"
#include "runtime/config_walk.h"
#include "runtime/jsonfile.h"

/* Copy src into a fixed buffer; false if it does not fit. */
static bool copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (n >= size)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* A name safe to use as one path component: non-empty, no '/', not . or .. */
static bool path_component_ok(const char *s)
{
    return s[0] != '\0' && strchr(s, '/') == NULL && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* The string value of obj[key], NULL when absent; an error when not a string. */
static int opt_string(const cJSON *obj, const char *key, const char *source, const char *channel,
                      const char **out, struct smg_error *err)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

    *out = NULL;
    if (item == NULL || cJSON_IsNull(item))
        return SMG_OK;
    if (!cJSON_IsString(item))
        return smg_error_set(err, SMG_ECONFIG, "%s: %s%s%s%s must be a string, not a %s", source,
                             channel ? "channel '" : "", channel ? channel : "",
                             channel ? "': " : "", key, smg_json_type_name(item));
    *out = item->valuestring;
    return SMG_OK;
}

/* Match value against "A|B|C" case-insensitively; the index, or -1. */
static int one_of(const char *value, const char *const *choices, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(value, choices[i]) == 0)
            return (int)i;
    return -1;
}

static int parse_channel(struct smg_channel_info *ch, const char *name, const cJSON *obj,
                         const char *source, struct smg_error *err)
{
    static const char *const modes[] = {"File", "FastFile", "Pipe"};
    static const enum smg_input_mode mode_values[] = {SMG_MODE_FILE, SMG_MODE_FASTFILE,
                                                      SMG_MODE_PIPE};
    static const char *const dists[] = {"FullyReplicated", "ShardedByS3Key"};
    static const char *const wrappers[] = {"None", "RecordIO"};
    static const char *const compressions[] = {"None", "Gzip"};
    const char *ct, *mode, *dist, *wrap, *comp;
    int rc, i;

    memset(ch, 0, sizeof(*ch));
    if (!path_component_ok(name) || !copy_str(ch->name, sizeof(ch->name), name))
        return smg_error_set(err, SMG_ECONFIG,
                             "%s: '%.100s' is not a valid channel name (it must be a folder name "
                             "under input/data, shorter than %zu characters)",
                             source, name, sizeof(ch->name));
    if (!cJSON_IsObject(obj))
        return smg_error_set(err, SMG_ECONFIG, "%s: channel '%s' must be a JSON object, not a %s",
                             source, name, smg_json_type_name(obj));
    if ((rc = opt_string(obj, "ContentType", source, name, &ct, err)) != SMG_OK ||
        (rc = opt_string(obj, "TrainingInputMode", source, name, &mode, err)) != SMG_OK ||
        (rc = opt_string(obj, "S3DistributionType", source, name, &dist, err)) != SMG_OK ||
        (rc = opt_string(obj, "RecordWrapperType", source, name, &wrap, err)) != SMG_OK ||
        (rc = opt_string(obj, "CompressionType", source, name, &comp, err)) != SMG_OK)
        return rc;
    if (ct != NULL && !copy_str(ch->content_type, sizeof(ch->content_type), ct))
        return smg_error_set(err, SMG_ECONFIG,
                             "%s: channel '%s': ContentType is longer than %zu "
                             "characters",
                             source, name, sizeof(ch->content_type) - 1);
    ch->mode = SMG_MODE_FILE;
    if (mode != NULL) {
        if ((i = one_of(mode, modes, 3)) < 0)
            return smg_error_set(err, SMG_ECONFIG,
                                 "%s: channel '%s': TrainingInputMode '%.60s' is not supported; "
                                 "allowed: File, FastFile, Pipe",
                                 source, name, mode);
        ch->mode = mode_values[i];
    }
    if (dist != NULL) {
        if ((i = one_of(dist, dists, 2)) < 0)
            return smg_error_set(err, SMG_ECONFIG,
                                 "%s: channel '%s': S3DistributionType '%.60s' is not supported; "
                                 "allowed: FullyReplicated, ShardedByS3Key",
                                 source, name, dist);
        ch->sharded = i == 1;
    }
    if (wrap != NULL) {
        if ((i = one_of(wrap, wrappers, 2)) < 0)
            return smg_error_set(err, SMG_ECONFIG,
                                 "%s: channel '%s': RecordWrapperType '%.60s' is not supported; "
                                 "allowed: None, RecordIO",
                                 source, name, wrap);
        ch->recordio_wrapped = i == 1;
    }
    if (comp != NULL) {
        if ((i = one_of(comp, compressions, 2)) < 0)
            return smg_error_set(err, SMG_ECONFIG,
                                 "%s: channel '%s': CompressionType '%.60s' is not supported; "
                                 "allowed: None, Gzip",
                                 source, name, comp);
        ch->compression = i == 1 ? SMG_COMPRESSION_GZIP : SMG_COMPRESSION_NONE;
    }
    return SMG_OK;
}

enum smg_status smg_config_parse_channels(struct smg_job *job, const char *text, const char *source,
                                          struct smg_error *err)
{
    cJSON *root = NULL;
    const cJSON *item;
    int rc;

    job->n_channels = 0;
    rc = smg_json_parse_object(text, text ? strlen(text) : 0, source, &root, err);
    if (rc != SMG_OK)
        return rc;
    cJSON_ArrayForEach(item, root)
    {
        if (job->n_channels == SMG_MAX_CHANNELS) {
            rc = smg_error_set(err, SMG_ECONFIG, "%s: more than %d channels", source,
                               SMG_MAX_CHANNELS);
            goto out;
        }
        for (size_t i = 0; i < job->n_channels; i++)
            if (strcmp(job->channels[i].name, item->string) == 0) {
                rc = smg_error_set(err, SMG_ECONFIG, "%s: channel '%.100s' is given twice", source,
                                   item->string);
                goto out;
            }
        rc = parse_channel(&job->channels[job->n_channels], item->string, item, source, err);
        if (rc != SMG_OK)
            goto out;
        job->n_channels++;
    }
    job->channels_inferred = false;
out:
    cJSON_Delete(root);
    return rc;
}

struct guess {
    size_t csv;
    size_t other;
};

static int count_kind(const char *path, void *ctx, struct smg_error *err)
{
    struct guess *g = ctx;
    size_t n = strlen(path);
    (void)err;
    if (n >= 4 && strcasecmp(path + n - 4, ".csv") == 0)
        g->csv++;
    else
        g->other++;
    return SMG_OK;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(((const struct smg_channel_info *)a)->name,
                  ((const struct smg_channel_info *)b)->name);
}

static int guess_content_type(struct smg_channel_info *ch, const char *dir, struct smg_error *err)
{
    struct guess g = {0, 0};
    struct smg_file_list listed = {NULL, 0};
    bool manifest;
    int rc = smg_s3_manifest_scan_folder(dir, &listed, &manifest, err);

    /* A folder holding a SageMaker manifest: the names are those of the S3 objects it lists. */
    for (size_t i = 0; rc == SMG_OK && i < listed.count; i++)
        rc = count_kind(listed.paths[i], &g, err);
    smg_file_list_clear(&listed);
    if (rc == SMG_OK && !manifest)
        rc = smg_config_walk(dir, count_kind, &g, err);
    if (rc != SMG_OK)
        return rc;
    if (g.csv > 0 && g.other > 0)
        return smg_error_set(err, SMG_ECONFIG,
                             "channel '%s' mixes .csv files (%zu) and other files (%zu) in %s; "
                             "with no inputdataconfig.json the content type comes from file names, "
                             "so keep one kind per channel or write an inputdataconfig.json with "
                             "its ContentType",
                             ch->name, g.csv, g.other, dir);
    copy_str(ch->content_type, sizeof(ch->content_type),
             g.csv > 0 ? "text/csv;label_size=0" : "application/x-recordio-protobuf");
    return SMG_OK;
}

enum smg_status smg_config_scan_channels(struct smg_job *job, struct smg_error *err)
{
    DIR *d;
    struct dirent *e;
    char path[8192];
    int rc = SMG_OK;

    job->n_channels = 0;
    job->channels_inferred = true;
    d = opendir(job->data_dir);
    if (d == NULL) {
        if (errno == ENOENT)
            return SMG_OK; /* no channels at all; cmd_train says which one is missing */
        return smg_error_set(err, SMG_EIO, "cannot list %s: %s", job->data_dir, strerror(errno));
    }
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        struct smg_channel_info *ch;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", job->data_dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue; /* Pipe FIFOs and stray files are not File-mode channels */
        if (job->n_channels == SMG_MAX_CHANNELS) {
            rc = smg_error_set(err, SMG_ECONFIG, "%s: more than %d channel folders", job->data_dir,
                               SMG_MAX_CHANNELS);
            goto out;
        }
        ch = &job->channels[job->n_channels];
        memset(ch, 0, sizeof(*ch));
        if (!copy_str(ch->name, sizeof(ch->name), e->d_name))
            continue;
        ch->mode = SMG_MODE_FILE;
        if ((rc = guess_content_type(ch, path, err)) != SMG_OK)
            goto out;
        job->n_channels++;
    }
    qsort(job->channels, job->n_channels, sizeof(job->channels[0]), compare_names);
out:
    closedir(d);
    return rc;
}

static void free_hosts(struct smg_job *job)
{
    for (size_t i = 0; i < job->n_hosts; i++)
        smg_free(job->hosts[i]);
    job->n_hosts = 0;
}

static int add_host(struct smg_job *job, const char *name, const char *source,
                    struct smg_error *err)
{
    if (job->n_hosts == SMG_MAX_HOSTS)
        return smg_error_set(err, SMG_ECONFIG, "%s: more than %d hosts", source, SMG_MAX_HOSTS);
    if (!path_component_ok(name) || strlen(name) >= sizeof(job->current_host))
        return smg_error_set(err, SMG_ECONFIG,
                             "%s: '%.100s' is not a valid host name (non-empty, no '/', shorter "
                             "than %zu characters)",
                             source, name, sizeof(job->current_host));
    for (size_t i = 0; i < job->n_hosts; i++)
        if (strcmp(job->hosts[i], name) == 0)
            return smg_error_set(err, SMG_ECONFIG, "%s: host '%s' is listed twice in hosts", source,
                                 name);
    job->hosts[job->n_hosts] = smg_strdup(name);
    if (job->hosts[job->n_hosts] == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory reading %s", source);
    job->n_hosts++;
    return SMG_OK;
}

static int read_resources(struct smg_job *job, const cJSON *root, const char *source,
                          struct smg_error *err)
{
    const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(root, "hosts");
    const cJSON *h;
    const char *current, *nic;
    bool found = false;
    int rc;

    if ((rc = opt_string(root, "current_host", source, NULL, &current, err)) != SMG_OK ||
        (rc = opt_string(root, "network_interface_name", source, NULL, &nic, err)) != SMG_OK)
        return rc;
    if (current == NULL)
        return smg_error_set(err, SMG_ECONFIG, "%s: current_host is missing", source);
    if (hosts == NULL)
        return smg_error_set(err, SMG_ECONFIG, "%s: hosts is missing", source);
    if (!cJSON_IsArray(hosts) || cJSON_GetArraySize(hosts) == 0)
        return smg_error_set(err, SMG_ECONFIG,
                             "%s: hosts must be a non-empty list of host names, not %s%s", source,
                             cJSON_IsArray(hosts) ? "an empty " : "a ", smg_json_type_name(hosts));
    cJSON_ArrayForEach(h, hosts)
    {
        if (!cJSON_IsString(h))
            return smg_error_set(err, SMG_ECONFIG, "%s: hosts must hold strings, not a %s", source,
                                 smg_json_type_name(h));
        if ((rc = add_host(job, h->valuestring, source, err)) != SMG_OK)
            return rc;
        found = found || strcmp(h->valuestring, current) == 0;
    }
    if (!found)
        return smg_error_set(err, SMG_ECONFIG, "%s: current_host '%.100s' is not in hosts", source,
                             current);
    copy_str(job->current_host, sizeof(job->current_host), current);
    job->network_interface[0] = '\0';
    if (nic != NULL && !copy_str(job->network_interface, sizeof(job->network_interface), nic))
        return smg_error_set(err, SMG_ECONFIG, "%s: network_interface_name is too long", source);
    return SMG_OK;
}

enum smg_status smg_config_parse_resources(struct smg_job *job, const char *text,
                                           const char *source, struct smg_error *err)
{
    cJSON *root = NULL;
    int rc;

    free_hosts(job);
    rc = smg_json_parse_object(text, text ? strlen(text) : 0, source, &root, err);
    if (rc != SMG_OK)
        return rc;
    rc = read_resources(job, root, source, err);
    if (rc != SMG_OK)
        free_hosts(job);
    cJSON_Delete(root);
    return rc;
}

enum smg_status smg_config_default_resources(struct smg_job *job, struct smg_error *err)
{
    free_hosts(job);
    copy_str(job->current_host, sizeof(job->current_host), "algo-1");
    job->network_interface[0] = '\0';
    return add_host(job, "algo-1", "default resource configuration", err);
}

/* Read <root>/input/config/<name>; *text NULL (and SMG_OK) when absent. */
static int read_config(const struct smg_job *job, const char *name, char *path, size_t size,
                       char **text, struct smg_error *err)
{
    bool missing = false;
    size_t len;
    int rc;
    struct smg_error probe;

    snprintf(path, size, "%s/input/config/%s", job->root, name);
    smg_error_clear(&probe);
    rc = smg_file_read_text(path, SMG_CONFIG_MAX_BYTES, text, &len, &missing, &probe);
    if (rc == SMG_OK || missing) {
        *text = rc == SMG_OK ? *text : NULL;
        return SMG_OK;
    }
    return smg_error_set(err, rc, "%s", probe.msg);
}

enum smg_status smg_config_load(struct smg_job *job, struct smg_error *err)
{
    char path[8192];
    char *text = NULL;
    int rc;

    if ((rc = read_config(job, "resourceconfig.json", path, sizeof(path), &text, err)) != SMG_OK)
        return rc;
    if (text == NULL) {
        if (job->rank_on_host == 0)
            smg_log_info("%s does not exist: running as a single host, algo-1", path);
        rc = smg_config_default_resources(job, err);
    } else {
        rc = smg_config_parse_resources(job, text, path, err);
    }
    smg_free(text);
    text = NULL;
    if (rc != SMG_OK)
        return rc;
    if ((rc = read_config(job, "inputdataconfig.json", path, sizeof(path), &text, err)) != SMG_OK)
        return rc;
    if (text == NULL) {
        rc = smg_config_scan_channels(job, err);
        /* One rank per host says so. */
        if (rc == SMG_OK && job->rank_on_host == 0)
            smg_log_info("%s does not exist: a local run; the channels are the folders under %s "
                         "(%zu found), in File mode, content type from the file names",
                         path, job->data_dir, job->n_channels);
        for (size_t i = 0; rc == SMG_OK && job->rank_on_host == 0 && i < job->n_channels; i++)
            smg_log_info("channel '%s': File mode, content type %s (inferred)",
                         job->channels[i].name, job->channels[i].content_type);
    } else {
        rc = smg_config_parse_channels(job, text, path, err);
    }
    smg_free(text);
    return rc;
}

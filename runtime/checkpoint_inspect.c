/*
 * `smalgo inspect` of a checkpoint file (runtime/checkpoint.h): its header
 * and progress as one JSON object, so an operator can see what a restarted
 * job would resume from. The whole file is checked (framing, CRC32C) first;
 * a damaged one is an error, as it is for a resuming job.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "io/base/alloc.h"
#include "io/base/buffer.h"
#include "io/json_string.h"
#include "runtime/checkpoint.h"

bool smg_checkpoint_sniff(const char *path)
{
    char magic[8] = {0};
    FILE *f = fopen(path, "rb");
    bool yes;

    if (f == NULL)
        return false;
    yes = fread(magic, 1, 8, f) == 8 && memcmp(magic, "SMGCKPT\n", 8) == 0;
    fclose(f);
    return yes;
}

static int read_all(const char *path, struct smg_buf *b, struct smg_error *err)
{
    char chunk[1 << 16];
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL)
        return smg_error_set(err, SMG_EIO, "cannot open %s", path);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (smg_buf_append(b, chunk, n) != SMG_OK) {
            fclose(f);
            return smg_error_set(err, SMG_ENOMEM, "out of memory reading %s", path);
        }
    fclose(f);
    return SMG_OK;
}

static int print_string(struct smg_buf *out, const char *key, const char *s, size_t len)
{
    char *copy = smg_malloc(len + 1);
    int rc;

    if (copy == NULL)
        return SMG_ENOMEM;
    memcpy(copy, s, len);
    copy[len] = '\0';
    rc = smg_buf_printf(out, ", \"%s\": ", key);
    if (rc == SMG_OK)
        rc = smg_json_put_string(out, copy);
    smg_free(copy);
    return rc;
}

static int print_header(struct smg_buf *out, const struct smg_ckpt_header *h, size_t bytes)
{
    static const char *const modes[] = {"File", "FastFile", "Pipe"};
    time_t secs = (time_t)(h->created_ms / 1000u);
    struct tm tm;
    char when[32] = "";

    if (gmtime_r(&secs, &tm) != NULL)
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return smg_buf_printf(
        out,
        ", \"format\": \"smalgo checkpoint\", \"version\": %u, \"bytes\": %zu, "
        "\"algorithm\": \"%s\", \"generation\": %llu, \"rank\": %u, \"ranks\": %u, "
        "\"phase\": \"%s\", \"epoch\": %u, \"epoch_records\": %llu, \"total_records\": %llu, "
        "\"input_mode\": \"%s\", \"data_files\": %llu, \"data_bytes\": %llu, "
        "\"hyperparameter_hash\": \"%016llx\", \"created\": \"%s\"",
        SMG_CKPT_VERSION, bytes, h->algorithm, (unsigned long long)h->generation, h->rank,
        h->n_ranks, h->phase == SMG_CKPT_PHASE_DONE ? "done (every epoch read)" : "streaming",
        h->epoch, (unsigned long long)h->epoch_records, (unsigned long long)h->total_records,
        h->mode < 3 ? modes[h->mode] : "unknown", (unsigned long long)h->data_files,
        (unsigned long long)h->data_bytes, (unsigned long long)h->hp_hash, when);
}

int smg_checkpoint_inspect(const char *path, FILE *stream, struct smg_error *err)
{
    struct smg_ckpt_section s[SMG_CKPT_MAX_SECTIONS];
    const struct smg_ckpt_section *conf;
    struct smg_ckpt_header h;
    struct smg_buf in, out;
    size_t n = 0;
    int rc;

    smg_buf_init(&in, SIZE_MAX / 2);
    smg_buf_init(&out, (size_t)1 << 24);
    if ((rc = read_all(path, &in, err)) != SMG_OK ||
        (rc = smg_ckpt_parse(in.data, in.len, path, &h, s, SMG_CKPT_MAX_SECTIONS, &n, err)) !=
            SMG_OK)
        goto out;
    rc = smg_buf_append_str(&out, "{\"file\": ");
    if (rc == SMG_OK)
        rc = smg_json_put_string(&out, path);
    if (rc == SMG_OK)
        rc = print_header(&out, &h, in.len);
    if (rc == SMG_OK && (conf = smg_ckpt_find(s, n, "CONF")) != NULL)
        rc = print_string(&out, "configuration", conf->data, conf->len);
    if (rc == SMG_OK)
        rc = smg_buf_append_str(&out, ", \"sections\": [");
    for (size_t i = 0; i < n && rc == SMG_OK; i++)
        rc = smg_buf_printf(&out, "%s{\"tag\": \"%s\", \"bytes\": %zu}", i ? ", " : "", s[i].tag,
                            s[i].len);
    if (rc == SMG_OK)
        rc = smg_buf_append_str(&out, "]}\n");
    if (rc != SMG_OK)
        rc = smg_error_set(err, SMG_ENOMEM, "out of memory printing %s", path);
    else
        fwrite(out.data, 1, out.len, stream);
out:
    smg_buf_free(&in);
    smg_buf_free(&out);
    return rc;
}

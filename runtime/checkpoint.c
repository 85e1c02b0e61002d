/*
 * Checkpoints while training (see checkpoint.h): where they go, when they
 * are due, writing one, and positioning a channel where a resumed job left
 * off. Finding and checking the checkpoint to resume from is
 * checkpoint_resume.c.
 */
#include "runtime/checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "io/atomic_file.h"
#include "io/base/alloc.h"
#include "io/base/log.h"
#include "io/file_list.h"
#include "runtime/checkpoint_private.h"

void smg_checkpoint_path(const struct smg_checkpoint *c, uint64_t generation, char *buf,
                         size_t size)
{
    snprintf(buf, size, "%s/smalgo-%s-rank%d.%c.ckpt", c->dir, c->job->algorithm->name,
             c->job->comm.rank, generation % 2 == 0 ? 'a' : 'b');
}

const char *smg_checkpoint_thousands(uint64_t v, char *buf, size_t size)
{
    char digits[32];
    size_t n = (size_t)snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v), o = 0;

    for (size_t i = 0; i < n && o + 1 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0 && o + 2 < size)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* The folder, or "" when checkpointing is off. */
static int choose_dir(struct smg_checkpoint *c, struct smg_error *err)
{
    const char *env = getenv("SMALGO_CHECKPOINT_DIR");
    struct stat st;
    int n;

    c->dir[0] = '\0';
    if (c->job->checkpoint_dir[0] != '\0') {
        n = snprintf(c->dir, sizeof(c->dir), "%s", c->job->checkpoint_dir);
        c->from = "--checkpoint-dir";
    } else if (env != NULL && *env != '\0') {
        n = snprintf(c->dir, sizeof(c->dir), "%s", env);
        c->from = "SMALGO_CHECKPOINT_DIR";
    } else {
        n = snprintf(c->dir, sizeof(c->dir), "%s/checkpoints", c->job->root);
        c->from = "the ML root's checkpoints folder";
        if (n > 0 && (size_t)n < sizeof(c->dir) && (stat(c->dir, &st) != 0 || !S_ISDIR(st.st_mode)))
            c->dir[0] = '\0';
    }
    if (n < 0 || (size_t)n >= sizeof(c->dir) - 64)
        return smg_error_set(err, SMG_ECONFIG, "the checkpoint folder path (from %s) is too long",
                             c->from);
    if (c->dir[0] != '\0' && mkdir(c->dir, 0755) != 0 && errno != EEXIST)
        return smg_error_set(err, SMG_ECONFIG,
                             "cannot create the checkpoint folder %s (from %s): %s", c->dir,
                             c->from, strerror(errno));
    return SMG_OK;
}

/* SMALGO_CHECKPOINT_INTERVAL_S: a decimal number of seconds > 0 (0 = adaptive default). */
static int choose_interval(struct smg_checkpoint *c, struct smg_error *err)
{
    const char *s = getenv("SMALGO_CHECKPOINT_INTERVAL_S");
    char *end = NULL;
    double v;

    c->interval = 0.0;
    if (s == NULL || *s == '\0')
        return SMG_OK;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v > 0.0) || v > 604800.0)
        return smg_error_set(err, SMG_ECONFIG,
                             "SMALGO_CHECKPOINT_INTERVAL_S='%.40s' is not a number of seconds "
                             "above 0 and at most 604800 (fractions such as 0.5 are allowed)",
                             s);
    c->interval = v;
    return SMG_OK;
}

/* File mode: hash of the channel's file names (relative) and sizes, their count and bytes. */
static int fingerprint(struct smg_checkpoint *c, struct smg_error *err)
{
    const struct smg_channel_info *info = smg_job_channel(c->job, c->channel);
    struct smg_file_list list = {NULL, 0};
    char dir[8192];
    size_t skip;
    int rc;

    c->mode = info != NULL ? info->mode : SMG_MODE_FILE;
    if (info == NULL || info->mode == SMG_MODE_PIPE)
        return SMG_OK;
    skip = (size_t)snprintf(dir, sizeof(dir), "%s/%s", c->job->data_dir, c->channel) + 1;
    if ((rc = smg_file_list_scan(dir, &list, err)) != SMG_OK)
        return rc;
    for (size_t i = 0; i < list.count; i++) {
        struct stat st;
        uint64_t size = stat(list.paths[i], &st) == 0 ? (uint64_t)st.st_size : 0;
        const char *rel = strlen(list.paths[i]) >= skip ? list.paths[i] + skip : list.paths[i];
        c->data_hash = smg_ckpt_hash(c->data_hash, rel, strlen(rel) + 1);
        c->data_hash = smg_ckpt_hash(c->data_hash, &size, sizeof(size));
        c->data_bytes += size;
    }
    c->data_files = list.count;
    smg_file_list_clear(&list);
    return SMG_OK;
}

enum smg_status smg_checkpoint_open(struct smg_job *job, const char *config, const char *channel,
                                    bool coordinated, struct smg_checkpoint **out,
                                    struct smg_error *err)
{
    struct smg_checkpoint *c = smg_calloc(1, sizeof(*c));
    int rc;

    *out = NULL;
    if (c == NULL || (c->config = smg_strdup(config)) == NULL) {
        smg_free(c);
        return smg_error_set(err, SMG_ENOMEM, "out of memory setting up checkpoints");
    }
    c->job = job;
    c->coordinated = coordinated;
    snprintf(c->channel, sizeof(c->channel), "%s", channel);
    c->hp_hash = smg_ckpt_hash(0, config, strlen(config));
    if ((rc = choose_dir(c, err)) != SMG_OK || c->dir[0] == '\0' ||
        (rc = choose_interval(c, err)) != SMG_OK || (rc = fingerprint(c, err)) != SMG_OK) {
        smg_checkpoint_free(c);
        return rc;
    }
    c->opened = smg_now();
    c->next_due = c->opened + (c->interval > 0.0 ? c->interval : SMG_CKPT_DEFAULT_MIN_INTERVAL);
    if (job->comm.rank == 0 && job->rank_on_host == 0)
        smg_log_info("Checkpoints: on, in %s (from %s), every %s", c->dir, c->from,
                     c->interval > 0.0 ? "SMALGO_CHECKPOINT_INTERVAL_S seconds"
                                       : "60 s or more (default; under 1% of training time)");
    *out = c;
    return SMG_OK;
}

void smg_checkpoint_free(struct smg_checkpoint *c)
{
    if (c == NULL)
        return;
    smg_free(c->config);
    smg_free(c->loaded);
    smg_free(c);
}

enum smg_status smg_checkpoint_poll(struct smg_checkpoint *c, bool stopped_here, bool *write,
                                    bool *stop, struct smg_error *err)
{
    int64_t flags[2];
    int rc;

    flags[0] = stopped_here || (c->job->stop != NULL && *c->job->stop != 0);
    flags[1] = (!c->coordinated || c->job->comm.rank == 0) && smg_now() >= c->next_due;
    if (c->coordinated && c->job->comm.size > 1 &&
        (rc = smg_comm_max_i64(&c->job->comm, flags, 2, err)) != SMG_OK)
        return rc;
    *stop = flags[0] != 0;
    *write = flags[0] != 0 || flags[1] != 0;
    return SMG_OK;
}

static void fill_header(const struct smg_checkpoint *c, const struct smg_ckpt_progress *at,
                        uint64_t generation, struct smg_ckpt_header *h)
{
    struct timespec ts;

    memset(h, 0, sizeof(*h));
    snprintf(h->algorithm, sizeof(h->algorithm), "%s", c->job->algorithm->name);
    h->hp_hash = c->hp_hash;
    h->rank = (uint32_t)c->job->comm.rank;
    h->n_ranks = (uint32_t)c->job->comm.size;
    h->generation = generation;
    h->epoch = at->epoch;
    h->phase = at->phase;
    h->epoch_records = at->epoch_records;
    h->total_records = at->total_records;
    h->mode = (uint32_t)c->mode;
    h->data_hash = c->data_hash;
    h->data_files = c->data_files;
    h->data_bytes = c->data_bytes;
    clock_gettime(CLOCK_REALTIME, &ts);
    h->created_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Encode and write this rank's file for generation g; *ok says whether it landed. */
static int write_one(struct smg_checkpoint *c, const struct smg_ckpt_progress *at, uint64_t g,
                     const struct smg_ckpt_section *sections, size_t n, bool *ok, size_t *bytes,
                     struct smg_error *err)
{
    struct smg_ckpt_section all[SMG_CKPT_MAX_SECTIONS];
    struct smg_ckpt_header h;
    struct smg_error werr;
    struct smg_buf buf;
    char path[8192];
    int rc;

    if (n + 1 > SMG_CKPT_MAX_SECTIONS)
        return smg_error_set(err, SMG_EINTERNAL, "checkpoint: too many sections");
    all[0] = (struct smg_ckpt_section){"CONF", c->config, strlen(c->config)};
    memcpy(all + 1, sections, n * sizeof(*sections));
    fill_header(c, at, g, &h);
    smg_buf_init(&buf, SIZE_MAX / 2);
    if ((rc = smg_ckpt_encode(&h, all, n + 1, &buf, err)) != SMG_OK) {
        smg_buf_free(&buf);
        return rc;
    }
    smg_checkpoint_path(c, g, path, sizeof(path));
    smg_error_clear(&werr);
    *ok = smg_atomic_write(path, buf.data, buf.len, 0644, &werr) == SMG_OK;
    *bytes = buf.len;
    if (!*ok)
        smg_log_warn("checkpoint %llu not written (training goes on; the previous one stays "
                     "valid): %s",
                     (unsigned long long)g, werr.msg);
    smg_buf_free(&buf);
    return SMG_OK;
}

enum smg_status smg_checkpoint_write(struct smg_checkpoint *c, const struct smg_ckpt_progress *at,
                                     const struct smg_ckpt_section *sections, size_t n,
                                     struct smg_error *err)
{
    double t0 = smg_now(), secs;
    uint64_t g = c->generation + 1;
    int64_t failed;
    size_t bytes = 0;
    bool ok = false;
    char recs[40];
    int rc;

    if ((rc = write_one(c, at, g, sections, n, &ok, &bytes, err)) != SMG_OK)
        return rc;
    failed = !ok;
    if (c->coordinated && c->job->comm.size > 1 &&
        (rc = smg_comm_max_i64(&c->job->comm, &failed, 1, err)) != SMG_OK)
        return rc;
    secs = smg_now() - t0;
    c->last_write = secs;
    if (failed == 0) {
        c->generation = g; /* every rank holds g: the next write may replace g - 1's slot */
        c->job->checkpoints++;
        if (c->job->comm.rank == 0)
            smg_log_info("checkpoint %llu written: epoch %u, %s records, %.1f MB in %.3f s",
                         (unsigned long long)g, at->epoch,
                         smg_checkpoint_thousands(at->epoch_records, recs, sizeof(recs)),
                         (double)bytes / 1e6, secs);
    }
    if (c->interval > 0.0)
        c->next_due = smg_now() + c->interval;
    else
        c->next_due = smg_now() + (SMG_CKPT_COST_FACTOR * secs > SMG_CKPT_DEFAULT_MIN_INTERVAL
                                       ? SMG_CKPT_COST_FACTOR * secs
                                       : SMG_CKPT_DEFAULT_MIN_INTERVAL);
    return SMG_OK;
}

enum smg_status smg_checkpoint_final(struct smg_checkpoint *c, bool *write, struct smg_error *err)
{
    double floor = SMG_CKPT_COST_FACTOR * c->last_write;
    int64_t flag;

    if (floor < SMG_CKPT_DEFAULT_MIN_INTERVAL)
        floor = SMG_CKPT_DEFAULT_MIN_INTERVAL;
    flag = (!c->coordinated || c->job->comm.rank == 0) &&
           (c->interval > 0.0 || smg_now() - c->opened >= floor);
    *write = flag != 0;
    if (c->coordinated && c->job->comm.size > 1) {
        int rc = smg_comm_max_i64(&c->job->comm, &flag, 1, err);
        if (rc != SMG_OK)
            return rc;
        *write = flag != 0;
    }
    return SMG_OK;
}

/* Read and discard `records` records of the current epoch, batch by batch. */
static int discard(struct smg_channel *ch, uint32_t epoch, uint64_t records, struct smg_error *err)
{
    struct smg_batch b;
    uint64_t seen = 0;
    int rc;

    while (seen < records) {
        rc = smg_channel_next_batch(ch, &b, err);
        if (rc == SMG_EEOF || (rc == SMG_EFORMAT && seen == 0 && records > 0))
            return smg_error_set(err, SMG_ECONFIG,
                                 "channel %s ended after %llu records of epoch %u, but the "
                                 "checkpoint had consumed %llu: the data differ from the "
                                 "checkpoint's; to start fresh, empty the checkpoint folder",
                                 smg_channel_name(ch), (unsigned long long)seen, epoch,
                                 (unsigned long long)records);
        if (rc != SMG_OK)
            return rc;
        seen += b.rows;
    }
    if (seen != records)
        return smg_error_set(err, SMG_ECONFIG,
                             "channel %s: the checkpoint had consumed %llu records of epoch %u, "
                             "which is not a mini-batch boundary of this data (%llu); the data "
                             "differ from the checkpoint's; to start fresh, empty the checkpoint "
                             "folder",
                             smg_channel_name(ch), (unsigned long long)records, epoch,
                             (unsigned long long)seen);
    return SMG_OK;
}

enum smg_status smg_checkpoint_seek(struct smg_checkpoint *c, struct smg_channel *ch,
                                    uint32_t epoch, uint64_t records, struct smg_error *err)
{
    int rc;

    /*
     * A skipped epoch's FIFO is opened and its first batch read before it is
     * closed: closing before the open reached the FIFO would leave the agent
     * waiting for a reader of that epoch instead of moving to the next.
     */
    if (c->mode == SMG_MODE_PIPE)
        for (uint32_t e = 0; e < epoch; e++) {
            struct smg_batch b;
            if ((rc = smg_channel_begin_epoch(ch, e, err)) != SMG_OK)
                return rc;
            rc = smg_channel_next_batch(ch, &b, err);
            smg_channel_end_epoch(ch);
            if (rc != SMG_OK && rc != SMG_EEOF)
                return rc;
        }
    if ((rc = smg_channel_begin_epoch(ch, epoch, err)) != SMG_OK)
        return rc;
    return discard(ch, epoch, records, err);
}

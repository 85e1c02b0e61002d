/*
 * Finding the checkpoint a restarted job resumes from (see checkpoint.h):
 * read this rank's two slot files, check each one's framing and checksum
 * (a damaged file is reported, never used), take the newest generation (or,
 * when ranks are coordinated, the newest every rank holds), and check that it
 * was made by the same job: algorithm, hyperparameters, rank count, input
 * mode and data. Any difference is a ClientError saying what differs and how
 * to start fresh.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "io/base/alloc.h"
#include "io/base/log.h"
#include "runtime/checkpoint_private.h"

#define FRESH_HINT                                                                                 \
    "to start fresh, delete the smalgo-*.ckpt files in %s (or point --checkpoint-dir / "           \
    "SMALGO_CHECKPOINT_DIR at an empty folder)"

/* The whole file; *missing when it does not exist. */
static int read_file(const char *path, unsigned char **out, size_t *len, bool *missing,
                     struct smg_error *err)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    size_t got;

    *out = NULL;
    *missing = f == NULL && errno == ENOENT;
    if (f == NULL)
        return *missing ? SMG_OK
                        : smg_error_set(err, SMG_EIO, "cannot open checkpoint %s: %s", path,
                                        strerror(errno));
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
        fclose(f);
        return smg_error_set(err, SMG_EIO, "cannot stat checkpoint %s", path);
    }
    *out = smg_malloc((size_t)st.st_size + 1);
    if (*out == NULL) {
        fclose(f);
        return smg_error_set(err, SMG_ENOMEM, "out of memory reading the %lld-byte checkpoint %s",
                             (long long)st.st_size, path);
    }
    got = fread(*out, 1, (size_t)st.st_size, f);
    fclose(f);
    *len = got;
    return SMG_OK;
}

struct slot {
    unsigned char *bytes;
    size_t len;
    struct smg_ckpt_header h;
    struct smg_ckpt_section s[SMG_CKPT_MAX_SECTIONS];
    size_t n;
};

/* Load slot i (0: a, 1: b); bytes NULL when the file is absent. Damage is a ClientError. */
static int load_slot(const struct smg_checkpoint *c, int i, struct slot *s, struct smg_error *err)
{
    char path[8192];
    bool missing;
    int rc;

    memset(s, 0, sizeof(*s));
    smg_checkpoint_path(c, (uint64_t)i, path, sizeof(path));
    if ((rc = read_file(path, &s->bytes, &s->len, &missing, err)) != SMG_OK || s->bytes == NULL)
        return rc;
    rc = smg_ckpt_parse(s->bytes, s->len, path, &s->h, s->s, SMG_CKPT_MAX_SECTIONS, &s->n, err);
    if (rc == SMG_OK && s->h.generation % 2 != (uint64_t)i)
        rc = smg_error_set(err, SMG_EFORMAT,
                           "%s holds generation %llu, which belongs in the "
                           "other slot",
                           path, (unsigned long long)s->h.generation);
    if (rc != SMG_OK) {
        char why[SMG_ERROR_MSG_MAX];
        snprintf(why, sizeof(why), "%s", err != NULL ? err->msg : "damaged");
        smg_free(s->bytes);
        s->bytes = NULL;
        smg_error_clear(err);
        return smg_error_set(err, SMG_ECONFIG,
                             "%.600s; the checkpoint is damaged and was not used; " FRESH_HINT, why,
                             c->dir);
    }
    return SMG_OK;
}

static const char *mode_name(uint32_t m)
{
    return m == SMG_MODE_PIPE ? "Pipe" : m == SMG_MODE_FASTFILE ? "FastFile" : "File";
}

/*
 * Whether h was made by this job; a ClientError saying what differs if not.
 * The rank count comes before the hyperparameters, whose hash holds settings
 * derived from it (k-means' allreduce grouping).
 */
static int check_match(const struct smg_checkpoint *c, const struct slot *s, const char *path,
                       struct smg_error *err)
{
    const struct smg_ckpt_header *h = &s->h;
    const struct smg_ckpt_section *conf = smg_ckpt_find(s->s, s->n, "CONF");
    char what[1024];

    what[0] = '\0';
    if (strcmp(h->algorithm, c->job->algorithm->name) != 0)
        snprintf(what, sizeof(what), "it is a %s checkpoint and this job trains %s", h->algorithm,
                 c->job->algorithm->name);
    else if (h->byte_order != SMG_CKPT_BYTE_ORDER)
        snprintf(what, sizeof(what), "it was written on a machine of another byte order");
    else if (h->n_ranks != (uint32_t)c->job->comm.size)
        snprintf(what, sizeof(what), "it was made by %u ranks and this job has %d", h->n_ranks,
                 c->job->comm.size);
    else if (h->hp_hash != c->hp_hash)
        snprintf(what, sizeof(what),
                 "the hyperparameters differ: the checkpoint's were %.*s; "
                 "this job's are %s",
                 conf ? (int)(conf->len < 400 ? conf->len : 400) : 4,
                 conf ? (const char *)conf->data : "(none)", c->config);
    else if (h->mode != (uint32_t)c->mode && (h->mode == SMG_MODE_PIPE || c->mode == SMG_MODE_PIPE))
        snprintf(what, sizeof(what), "channel %s was in %s mode and is now in %s mode", c->channel,
                 mode_name(h->mode), mode_name((uint32_t)c->mode));
    else if (h->data_hash != c->data_hash)
        snprintf(what, sizeof(what),
                 "the data differ: channel %s had %llu files, %llu bytes; it "
                 "now has %llu files, %llu bytes (or other names or sizes)",
                 c->channel, (unsigned long long)h->data_files, (unsigned long long)h->data_bytes,
                 (unsigned long long)c->data_files, (unsigned long long)c->data_bytes);
    if (what[0] == '\0')
        return SMG_OK;
    return smg_error_set(err, SMG_ECONFIG,
                         "the checkpoint %s does not match this job: %s; " FRESH_HINT, path, what,
                         c->dir);
}

/* Coordinated: the newest generation every rank holds. */
static int agree(struct smg_checkpoint *c, uint64_t newest, uint64_t *g, struct smg_error *err)
{
    int64_t v[2] = {-(int64_t)newest, (int64_t)newest}; /* max of -x is -min */
    int rc;

    *g = newest;
    if (!c->coordinated || c->job->comm.size <= 1)
        return SMG_OK;
    if ((rc = smg_comm_max_i64(&c->job->comm, v, 2, err)) != SMG_OK)
        return rc;
    *g = (uint64_t)(-v[0]);
    if (*g == 0 && v[1] > 0 && c->job->comm.rank == 0)
        smg_log_warn("some ranks have no checkpoint in their folder and others do: starting "
                     "fresh on every rank");
    return SMG_OK;
}

static void log_resume(const struct smg_checkpoint *c, const struct smg_ckpt_header *h)
{
    char a[40], b[40];

    if (c->job->comm.rank != 0)
        return;
    if (h->phase == SMG_CKPT_PHASE_DONE)
        smg_log_info("resuming from checkpoint: every epoch done (%u), %s records; finishing",
                     h->epoch, smg_checkpoint_thousands(h->total_records, b, sizeof(b)));
    else
        smg_log_info("resuming from checkpoint: epoch %u, %s records (%s in all; checkpoint %llu "
                     "in %s)",
                     h->epoch, smg_checkpoint_thousands(h->epoch_records, a, sizeof(a)),
                     smg_checkpoint_thousands(h->total_records, b, sizeof(b)),
                     (unsigned long long)h->generation, c->dir);
}

static void take(struct smg_checkpoint *c, struct slot *s, struct smg_ckpt_resume *r)
{
    r->found = true;
    r->at.epoch = s->h.epoch;
    r->at.phase = s->h.phase;
    r->at.epoch_records = s->h.epoch_records;
    r->at.total_records = s->h.total_records;
    r->n_sections = s->n;
    memcpy(r->sections, s->s, s->n * sizeof(s->s[0]));
    c->loaded = s->bytes;
    c->generation = s->h.generation;
    s->bytes = NULL;
}

enum smg_status smg_checkpoint_resume(struct smg_checkpoint *c, struct smg_ckpt_resume *r,
                                      struct smg_error *err)
{
    struct slot s[2];
    uint64_t newest = 0, g;
    char path[8192];
    int rc, pick = -1;

    memset(r, 0, sizeof(*r));
    memset(s, 0, sizeof(s));
    if ((rc = load_slot(c, 0, &s[0], err)) != SMG_OK ||
        (rc = load_slot(c, 1, &s[1], err)) != SMG_OK)
        goto out;
    /* Every checkpoint present must be this job's, before the ranks agree on one. */
    for (int i = 0; i < 2; i++) {
        if (s[i].bytes == NULL)
            continue;
        smg_checkpoint_path(c, (uint64_t)i, path, sizeof(path));
        if ((rc = check_match(c, &s[i], path, err)) != SMG_OK)
            goto out;
        if (s[i].h.generation > newest)
            newest = s[i].h.generation;
    }
    if ((rc = agree(c, newest, &g, err)) != SMG_OK || g == 0)
        goto out;
    for (int i = 0; i < 2; i++)
        if (s[i].bytes != NULL && s[i].h.generation == g)
            pick = i;
    smg_checkpoint_path(c, g, path, sizeof(path));
    if (pick < 0) {
        rc = smg_error_set(err, SMG_ECONFIG,
                           "the ranks' checkpoints disagree: generation %llu, "
                           "the newest every other rank holds, is not in %s; " FRESH_HINT,
                           (unsigned long long)g, path, c->dir);
        goto out;
    }
    log_resume(c, &s[pick].h);
    take(c, &s[pick], r);
out:
    smg_free(s[0].bytes);
    smg_free(s[1].bytes);
    return rc;
}

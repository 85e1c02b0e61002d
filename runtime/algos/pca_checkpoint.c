/*
 * PCA checkpoint glue (see pca_checkpoint.h): one section "PCAS", the
 * accumulator as smg_pca_state_save writes it. The records consumed are the
 * accumulator's own row count, so progress and state cannot disagree.
 */
#include "runtime/algos/pca_checkpoint.h"

#include <string.h>

#include "io/base/buffer.h"

bool smg_pca_ckpt_on(const struct smg_pca_ckpt *k)
{
    return k->c != NULL;
}

bool smg_pca_ckpt_stream_done(const struct smg_pca_ckpt *k)
{
    return k->resume.found && k->resume.at.phase == SMG_CKPT_PHASE_DONE;
}

enum smg_status smg_pca_ckpt_open(struct smg_pca_ckpt *k, struct smg_job *job, const char *config,
                                  struct smg_pca *p, struct smg_error *err)
{
    const struct smg_ckpt_section *s;
    int rc;

    memset(k, 0, sizeof(*k));
    k->p = p;
    if ((rc = smg_checkpoint_open(job, config, "train", false, &k->c, err)) != SMG_OK ||
        k->c == NULL || (rc = smg_checkpoint_resume(k->c, &k->resume, err)) != SMG_OK ||
        !k->resume.found)
        return rc;
    s = smg_ckpt_find(k->resume.sections, k->resume.n_sections, "PCAS");
    if (s == NULL)
        return smg_error_set(err, SMG_ECONFIG,
                             "the PCA checkpoint lacks its PCAS section; delete "
                             "the checkpoint files to start fresh");
    if ((rc = smg_pca_state_load(p, s->data, s->len, err)) != SMG_OK) {
        err->status = SMG_ECONFIG;
        return SMG_ECONFIG;
    }
    if (smg_pca_rows(p) != k->resume.at.total_records)
        return smg_error_set(err, SMG_ECONFIG,
                             "the PCA checkpoint's state holds %llu rows but "
                             "its header says %llu; delete the checkpoint files to start fresh",
                             (unsigned long long)smg_pca_rows(p),
                             (unsigned long long)k->resume.at.total_records);
    return SMG_OK;
}

void smg_pca_ckpt_close(struct smg_pca_ckpt *k)
{
    smg_checkpoint_free(k->c);
    k->c = NULL;
}

static int write_ckpt(struct smg_pca_ckpt *k, uint32_t phase, struct smg_error *err)
{
    uint64_t rows = smg_pca_rows(k->p);
    struct smg_ckpt_progress at = {phase == SMG_CKPT_PHASE_DONE ? 1 : 0, phase, rows, rows};
    struct smg_buf st;
    int rc;

    smg_buf_init(&st, SIZE_MAX / 2);
    if ((rc = smg_pca_state_save(k->p, &st, err)) == SMG_OK) {
        struct smg_ckpt_section s = {"PCAS", st.data, st.len};
        rc = smg_checkpoint_write(k->c, &at, &s, 1, err);
    }
    smg_buf_free(&st);
    return rc;
}

/* Checkpoint when due or stopped; SMG_ESTOPPED after the last one when stopped. */
static int poll(struct smg_pca_ckpt *k, bool stopped, struct smg_error *err)
{
    bool due, stop;
    int rc;

    if ((rc = smg_checkpoint_poll(k->c, stopped, &due, &stop, err)) != SMG_OK)
        return rc;
    if (due && (rc = write_ckpt(k, SMG_CKPT_PHASE_STREAM, err)) != SMG_OK)
        return rc;
    return stop ? smg_error_set(err, SMG_ESTOPPED,
                                "training stopped by a signal; checkpoint "
                                "written")
                : SMG_OK;
}

enum smg_status smg_pca_ckpt_read(struct smg_pca_ckpt *k, struct smg_job *job, size_t feature_dim,
                                  size_t batch_rows, struct smg_job_pass *pass,
                                  struct smg_error *err)
{
    struct smg_channel *ch = NULL;
    struct smg_batch b;
    double t0 = smg_now();
    int rc;

    rc = smg_job_open_channel(job, "train", feature_dim, batch_rows, job->comm.size > 1, &ch, err);
    if (rc != SMG_OK)
        return rc;
    rc = smg_checkpoint_seek(k->c, ch, 0, smg_pca_rows(k->p), err);
    while (rc == SMG_OK) {
        rc = smg_channel_next_batch(ch, &b, err);
        if (rc == SMG_OK || rc == SMG_ESTOPPED) {
            int prc = poll(k, rc == SMG_ESTOPPED, err);
            if (prc != SMG_OK) {
                rc = prc;
                break;
            }
        }
        if (rc == SMG_OK)
            rc = smg_pca_update(k->p, &b, err);
    }
    if (rc == SMG_EEOF) {
        bool write;
        rc = smg_checkpoint_final(k->c, &write, err);
        if (rc == SMG_OK && write)
            rc = write_ckpt(k, SMG_CKPT_PHASE_DONE, err);
    }
    pass->bytes = smg_channel_bytes(ch);
    smg_channel_end_epoch(ch);
    smg_channel_stats(ch, &pass->io);
    smg_channel_free(ch);
    pass->seconds = smg_now() - t0;
    return rc;
}

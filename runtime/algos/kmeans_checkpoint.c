/*
 * k-means checkpoint glue (see kmeans_checkpoint.h): sections "KMST" (the
 * streaming state), "SMPL" (this rank's polish sample) and, only while a
 * group of local mini-batches is open, "KMGR" (that group), built with the
 * algorithms' save functions and restored with their load functions. A
 * checkpoint without KMGR (every single-host one) resumes with no group open.
 */
#include "runtime/algos/kmeans_checkpoint.h"

#include <string.h>

#include "io/base/alloc.h"
#include "io/base/buffer.h"

bool smg_kmeans_ckpt_resumed(const struct smg_kmeans_ckpt *k)
{
    return k->resume.found;
}

uint32_t smg_kmeans_ckpt_first_epoch(const struct smg_kmeans_ckpt *k)
{
    return k->resume.found ? k->resume.at.epoch : 0;
}

bool smg_kmeans_ckpt_stream_done(const struct smg_kmeans_ckpt *k)
{
    return k->resume.found && k->resume.at.phase == SMG_CKPT_PHASE_DONE;
}

static int load(struct smg_kmeans_ckpt *k, int n_ranks, struct smg_error *err)
{
    const struct smg_ckpt_section *st =
        smg_ckpt_find(k->resume.sections, k->resume.n_sections, "KMST");
    const struct smg_ckpt_section *sm =
        smg_ckpt_find(k->resume.sections, k->resume.n_sections, "SMPL");
    const struct smg_ckpt_section *gr =
        smg_ckpt_find(k->resume.sections, k->resume.n_sections, "KMGR");
    int rc;

    if (st == NULL || sm == NULL)
        return smg_error_set(err, SMG_ECONFIG,
                             "the k-means checkpoint lacks its %s section; delete the checkpoint "
                             "files to start fresh",
                             st == NULL ? "KMST" : "SMPL");
    if ((rc = smg_kmeans_state_load(k->km, st->data, st->len, err)) != SMG_OK ||
        (rc = smg_kmeans_sample_state_load(k->smp, sm->data, sm->len, err)) != SMG_OK ||
        (gr != NULL &&
         (rc = smg_kmeans_group_load(k->grp, k->km, n_ranks, gr->data, gr->len, err)) != SMG_OK)) {
        err->status = SMG_ECONFIG;
        return SMG_ECONFIG;
    }
    k->epoch = k->resume.at.epoch;
    k->stepped = k->resume.at.epoch_records;
    k->total = k->resume.at.total_records;
    return SMG_OK;
}

enum smg_status smg_kmeans_ckpt_open(struct smg_kmeans_ckpt *k, struct smg_job *job,
                                     const char *config, struct smg_kmeans *km,
                                     struct smg_kmeans_group *grp, struct smg_kmeans_sample *smp,
                                     struct smg_error *err)
{
    int rc;

    memset(k, 0, sizeof(*k));
    k->km = km;
    k->grp = grp;
    k->smp = smp;
    if ((rc = smg_checkpoint_open(job, config, "train", true, &k->c, err)) != SMG_OK ||
        k->c == NULL)
        return rc;
    if ((rc = smg_checkpoint_resume(k->c, &k->resume, err)) != SMG_OK)
        return rc;
    return k->resume.found ? load(k, job->comm.size, err) : SMG_OK;
}

void smg_kmeans_ckpt_close(struct smg_kmeans_ckpt *k)
{
    smg_checkpoint_free(k->c);
    k->c = NULL;
}

enum smg_status smg_kmeans_ckpt_begin_epoch(struct smg_kmeans_ckpt *k, struct smg_channel *ch,
                                            uint32_t e, struct smg_error *err)
{
    if (k->c != NULL && k->resume.found && e == k->resume.at.epoch &&
        k->resume.at.phase == SMG_CKPT_PHASE_STREAM)
        return smg_checkpoint_seek(k->c, ch, e, k->resume.at.epoch_records, err);
    k->epoch = e;
    k->stepped = 0;
    return smg_channel_begin_epoch(ch, e, err);
}

void smg_kmeans_ckpt_stepped(struct smg_kmeans_ckpt *k, uint64_t rows)
{
    k->stepped += rows;
    k->total += rows;
}

static int write_ckpt(struct smg_kmeans_ckpt *k, uint32_t phase, struct smg_error *err)
{
    struct smg_ckpt_progress at = {k->epoch, phase, k->stepped, k->total};
    bool open = smg_kmeans_group_batches(k->grp) > 0;
    struct smg_buf st, sm, gr;
    int rc;

    smg_buf_init(&st, SIZE_MAX / 2);
    smg_buf_init(&sm, SIZE_MAX / 2);
    smg_buf_init(&gr, SIZE_MAX / 2);
    if ((rc = smg_kmeans_state_save(k->km, &st, err)) == SMG_OK &&
        (rc = smg_kmeans_sample_state_save(k->smp, &sm, err)) == SMG_OK &&
        (!open || (rc = smg_kmeans_group_save(k->grp, &gr, err)) == SMG_OK)) {
        struct smg_ckpt_section s[3] = {
            {"KMST", st.data, st.len}, {"SMPL", sm.data, sm.len}, {"KMGR", gr.data, gr.len}};
        rc = smg_checkpoint_write(k->c, &at, s, open ? 3 : 2, err);
    }
    smg_buf_free(&st);
    smg_buf_free(&sm);
    smg_buf_free(&gr);
    return rc;
}

enum smg_status smg_kmeans_ckpt_poll(struct smg_kmeans_ckpt *k, bool stopped_here,
                                     struct smg_error *err)
{
    bool due, stop;
    int rc;

    if (k->c == NULL)
        return stopped_here ? SMG_ESTOPPED : SMG_OK;
    if ((rc = smg_checkpoint_poll(k->c, stopped_here, &due, &stop, err)) != SMG_OK)
        return rc;
    if (due && (rc = write_ckpt(k, SMG_CKPT_PHASE_STREAM, err)) != SMG_OK)
        return rc;
    return stop ? smg_error_set(err, SMG_ESTOPPED,
                                "training stopped by a signal; checkpoint "
                                "written")
                : SMG_OK;
}

enum smg_status smg_kmeans_ckpt_done(struct smg_kmeans_ckpt *k, uint32_t epochs,
                                     struct smg_error *err)
{
    bool write;
    int rc;

    if (k->c == NULL || smg_kmeans_ckpt_stream_done(k))
        return SMG_OK;
    if ((rc = smg_checkpoint_final(k->c, &write, err)) != SMG_OK || !write)
        return rc;
    k->epoch = epochs;
    k->stepped = 0;
    return write_ckpt(k, SMG_CKPT_PHASE_DONE, err);
}

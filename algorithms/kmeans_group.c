/*
 * Groups of local mini-batches per allreduce, and the rule for their size
 * (see kmeans_group.h). The group owns one contribution buffer laid out as
 * kmeans.c's step contribution; it is sized and zeroed when the group opens
 * (its first add or a sync with no add), with the candidate count of the
 * state at that moment, which cannot change before the sync. One rank with
 * groups of one needs no contribution buffer: the add is a whole
 * smg_kmeans_step (the same arithmetic), which keeps CSR batches on the lazy
 * centers of kmeans_csr_lazy.h (no K x d sums), and the sync only reports it.
 */
#include "algorithms/kmeans_group.h"

#include <math.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/base/bytes.h"

struct smg_kmeans_group {
    size_t every; /* add calls per sync */
    double *stats;
    size_t cap;       /* doubles allocated */
    size_t len;       /* doubles of the open group; 0 = none open */
    int n_ranks;      /* the layout's rank count */
    uint64_t batches; /* add calls since the group opened */
    double comm_s;
    uint64_t syncs;
    /* One rank, groups of one: the add stepped already (smg_kmeans_step); its done. */
    bool stepped, step_done;
};

double smg_kmeans_allreduce_bytes(size_t K, size_t dim, int n_ranks, size_t candidates)
{
    double d = (double)dim;
    return 8.0 *
           (2.0 + (double)K + (double)K * d + (double)n_ranks * (double)candidates * (2.0 + d));
}

size_t smg_kmeans_allreduce_every(size_t K, size_t dim, size_t batch_rows, int n_ranks)
{
    size_t c = K < SMG_KMEANS_MIN_CANDIDATES ? K : SMG_KMEANS_MIN_CANDIDATES;
    double p = (double)n_ranks, wire, rows, m;

    if (n_ranks <= 1 || batch_rows == 0)
        return 1;
    wire = 2.0 * (p - 1.0) / p * smg_kmeans_allreduce_bytes(K, dim, n_ranks, c);
    rows = (double)batch_rows * (double)dim * 4.0;
    m = ceil(wire / (SMG_KMEANS_ALLREDUCE_SHARE * rows));
    if (!(m >= 1.0))
        return 1;
    return m > (double)SMG_KMEANS_ALLREDUCE_EVERY_MAX ? SMG_KMEANS_ALLREDUCE_EVERY_MAX : (size_t)m;
}

enum smg_status smg_kmeans_group_new(size_t every, struct smg_kmeans_group **out,
                                     struct smg_error *err)
{
    if (every < 1)
        return smg_error_set(err, SMG_ECONFIG, "k-means: a group takes at least one mini-batch");
    *out = smg_calloc(1, sizeof(**out));
    if (*out == NULL)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory");
    (*out)->every = every;
    return SMG_OK;
}

size_t smg_kmeans_group_every(const struct smg_kmeans_group *g)
{
    return g->every;
}

bool smg_kmeans_group_full(const struct smg_kmeans_group *g)
{
    return g->batches >= g->every;
}

void smg_kmeans_group_free(struct smg_kmeans_group *g)
{
    if (g == NULL)
        return;
    smg_free(g->stats);
    smg_free(g);
}

/* Open a group (if none is) for km's current state on n_ranks ranks: sized and zeroed. */
static int group_open(struct smg_kmeans_group *g, const struct smg_kmeans *km, int n_ranks,
                      struct smg_error *err)
{
    size_t len;
    int rc;

    if (g->len != 0)
        return SMG_OK;
    len = smg_kmeans_stats_len(km, n_ranks);
    if ((rc = smg_kmeans_stats_reserve(&g->stats, &g->cap, len, err)) != SMG_OK)
        return rc;
    memset(g->stats, 0, len * sizeof(double));
    g->len = len;
    g->n_ranks = n_ranks;
    g->batches = 0;
    return SMG_OK;
}

enum smg_status smg_kmeans_group_add(struct smg_kmeans_group *g, struct smg_kmeans *km,
                                     const struct smg_comm *comm, const struct smg_batch *b,
                                     struct smg_error *err)
{
    int n_ranks = comm != NULL ? comm->size : 1, rank = comm != NULL ? comm->rank : 0;
    int rc;

    if (n_ranks == 1 && g->every == 1 && g->len == 0) {
        g->batches++;
        g->stepped = true;
        return smg_kmeans_step(km, NULL, b, &g->step_done, err);
    }
    rc = group_open(g, km, n_ranks, err);
    if (rc != SMG_OK)
        return rc;
    g->batches++;
    return smg_kmeans_local_add(km, b, rank, n_ranks, g->stats, err);
}

enum smg_status smg_kmeans_group_sync(struct smg_kmeans_group *g, struct smg_kmeans *km,
                                      struct smg_comm *comm, bool *done, struct smg_error *err)
{
    int rc;

    if (g->stepped) {
        g->stepped = false;
        g->batches = 0;
        g->syncs++;
        *done = g->step_done;
        return SMG_OK;
    }
    rc = group_open(g, km, comm != NULL ? comm->size : 1, err);
    if (rc != SMG_OK)
        return rc;
    if (comm != NULL &&
        (rc = smg_comm_sum_f64_timed(comm, g->stats, g->len, &g->comm_s, err)) != SMG_OK)
        return rc;
    g->len = 0;
    g->batches = 0;
    g->syncs++;
    return smg_kmeans_apply_stats(km, g->stats, g->n_ranks, done, err);
}

uint64_t smg_kmeans_group_batches(const struct smg_kmeans_group *g)
{
    return g->batches;
}

double *smg_kmeans_group_stats(struct smg_kmeans_group *g, size_t *len)
{
    *len = g->len;
    return g->len > 0 ? g->stats : NULL;
}

double smg_kmeans_group_comm_seconds(const struct smg_kmeans_group *g)
{
    return g->comm_s;
}

uint64_t smg_kmeans_group_syncs(const struct smg_kmeans_group *g)
{
    return g->syncs;
}

enum smg_status smg_kmeans_group_save(const struct smg_kmeans_group *g, struct smg_buf *out,
                                      struct smg_error *err)
{
    const uint64_t head[3] = {(uint64_t)g->n_ranks, g->batches, g->len};
    int rc = smg_buf_append(out, head, sizeof(head));

    if (rc == SMG_OK && g->len > 0)
        rc = smg_buf_append(out, g->stats, g->len * sizeof(double));
    if (rc != SMG_OK)
        return smg_error_set(err, SMG_ENOMEM, "k-means: out of memory saving the open group");
    return SMG_OK;
}

enum smg_status smg_kmeans_group_load(struct smg_kmeans_group *g, const struct smg_kmeans *km,
                                      int n_ranks, const void *data, size_t len,
                                      struct smg_error *err)
{
    struct smg_bytes r;
    uint64_t head[3];
    size_t want = smg_kmeans_stats_len(km, n_ranks);
    int rc;

    smg_bytes_init(&r, data, len);
    smg_bytes_get(&r, head, sizeof(head));
    if (r.bad || head[0] != (uint64_t)n_ranks || head[2] != want || head[1] == 0 ||
        head[1] >= g->every)
        return smg_error_set(err, SMG_EFORMAT,
                             "k-means: the saved group is for %llu ranks and %llu doubles; this "
                             "job has %d ranks and needs %zu",
                             (unsigned long long)head[0], (unsigned long long)head[2], n_ranks,
                             want);
    g->len = 0;
    if ((rc = group_open(g, km, n_ranks, err)) != SMG_OK)
        return rc;
    smg_bytes_get_array(&r, g->stats, want, sizeof(double));
    g->batches = head[1];
    if (!smg_bytes_done(&r)) {
        g->len = 0;
        return smg_error_set(err, SMG_EFORMAT,
                             "k-means: the saved group has %zu bytes, not the %zu it needs", len,
                             24 + want * sizeof(double));
    }
    return SMG_OK;
}

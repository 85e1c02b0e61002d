/*
 * Several local mini-batches per allreduce ("groups") for k-means on several
 * ranks, and the rule that picks how many.
 *
 * Why: every step sums one contribution of S = 8 (2 + K + K d + p c (2 + d))
 * bytes over the p ranks (kmeans.c's layout, in doubles: rows, sse, K counts,
 * K x d sums, then c reseed candidates of 2 + d doubles per rank). A ring
 * allreduce sends about 2 (p - 1) / p x S bytes per host. For large K x d
 * that is more than the mini-batch it summarises: k = 500 (K = 5000), d = 784
 * sends 31.5 MB per step for 15.7 MB of float32 rows, so on a network the
 * allreduce, not the data, would bound throughput (README, "Several hosts").
 *
 * How: a group is `every` consecutive local mini-batches of each rank,
 * assigned against the centers as they stood when the group opened. Their
 * counts, sums, sse and farthest rows are added up locally
 * (smg_kmeans_local_add), summed over the ranks with ONE allreduce and
 * applied as one step under SageMaker's rule (kmeans.h) with n = the rows of
 * the whole group: a group is exactly one step on the union of its batches,
 * a mini-batch `every` times larger per rank. Every rank makes `every` add
 * calls per group, with or without data (NULL once its stream has ended), so
 * all ranks sync together; a group with no rows on any rank ends the epoch.
 * With every = 1 a group is a step, bit for bit.
 *
 * The rule (smg_kmeans_allreduce_every): one rank gives 1 (nothing to
 * reduce), so single-host models do not change. Otherwise the smallest m >= 1
 * for which the ring's bytes per host, 2 (p - 1) / p x S with the steady
 * state's c = min(SMG_KMEANS_MIN_CANDIDATES, K), are at most
 * SMG_KMEANS_ALLREDUCE_SHARE of the float32 row bytes a host consumes in the
 * group, m x batch_rows x d x 4; at most SMG_KMEANS_ALLREDUCE_EVERY_MAX. It
 * depends on K, d, mini_batch_size and p only, never on timing, so every rank
 * picks the same m and the model is reproducible.
 *
 * Checkpoints: an open group (its contribution so far and how many batches it
 * has taken) is saved and restored with smg_kmeans_group_save/load, so a job
 * stopped inside a group resumes into it and ends with the model of an
 * uninterrupted run.
 */
#ifndef SMG_KMEANS_GROUP_H
#define SMG_KMEANS_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "algorithms/comm.h"
#include "algorithms/kmeans.h"
#include "io/base/batch.h"
#include "io/base/buffer.h"
#include "io/base/status.h"

/* The allreduce may send at most this share of the row bytes of its group ... */
#define SMG_KMEANS_ALLREDUCE_SHARE 0.5
/* ... merging at most this many mini-batches per rank (a larger effective batch). */
#define SMG_KMEANS_ALLREDUCE_EVERY_MAX 16

/* Bytes of one step's contribution (S above) for K centers, dim features, p ranks, c candidates. */
double smg_kmeans_allreduce_bytes(size_t K, size_t dim, int n_ranks, size_t candidates);
/* The rule above: local mini-batches per allreduce. */
size_t smg_kmeans_allreduce_every(size_t K, size_t dim, size_t batch_rows, int n_ranks);

struct smg_kmeans_group;

/* A group of `every` (>= 1) local mini-batches per allreduce. */
SMG_MUST_CHECK enum smg_status smg_kmeans_group_new(size_t every, struct smg_kmeans_group **out,
                                                    struct smg_error *err);
void smg_kmeans_group_free(struct smg_kmeans_group *g); /* accepts NULL */
size_t smg_kmeans_group_every(const struct smg_kmeans_group *g);

/* Local: fold batch b (NULL = this rank has none this time) into the open group. */
SMG_MUST_CHECK enum smg_status
smg_kmeans_group_add(struct smg_kmeans_group *g, struct smg_kmeans *km, const struct smg_comm *comm,
                     const struct smg_batch *b, struct smg_error *err);
/*
 * Collective: one allreduce of the group (over comm; none when comm is NULL
 * or not attached to MPI), applied to km (smg_kmeans_apply_stats) with the
 * layout of the rank count the group was opened for; *done when it held no
 * rows on any rank. The group is then empty.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_group_sync(struct smg_kmeans_group *g,
                                                     struct smg_kmeans *km, struct smg_comm *comm,
                                                     bool *done, struct smg_error *err);
/* Add calls since the last sync (0 = no group open); full = every of them: time to sync. */
uint64_t smg_kmeans_group_batches(const struct smg_kmeans_group *g);
bool smg_kmeans_group_full(const struct smg_kmeans_group *g);
/*
 * The open group's contribution (*len doubles, kmeans.c's layout for the
 * group's rank count), for tests that play several ranks in one process; NULL
 * when no group is open.
 */
double *smg_kmeans_group_stats(struct smg_kmeans_group *g, size_t *len);
/* Wall seconds spent in the syncs' allreduce so far, and how many syncs ran. */
double smg_kmeans_group_comm_seconds(const struct smg_kmeans_group *g);
uint64_t smg_kmeans_group_syncs(const struct smg_kmeans_group *g);

/*
 * Checkpoints: append the open group (u64 ranks, batches, length; then its
 * doubles, machine byte order) to out; restore it into an empty group for km
 * (whose state must be loaded first) on a job of n_ranks ranks. SMG_ENOMEM;
 * SMG_EFORMAT when the bytes do not fit km's state and the rank count.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_group_save(const struct smg_kmeans_group *g,
                                                     struct smg_buf *out, struct smg_error *err);
SMG_MUST_CHECK enum smg_status smg_kmeans_group_load(struct smg_kmeans_group *g,
                                                     const struct smg_kmeans *km, int n_ranks,
                                                     const void *data, size_t len,
                                                     struct smg_error *err);

#endif

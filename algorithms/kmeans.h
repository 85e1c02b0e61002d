/*
 * SageMaker's streaming ("web-scale") k-means over mini-batches, on one or
 * more MPI ranks, and the final shrink from K = k * extra_center_factor
 * streaming centers to the k centers of the model.
 *
 * Streaming phase (kmeans.c):
 *   - Init: rank 0 picks K centers from its first mini-batch (init_method
 *     random: K distinct rows drawn uniformly; kmeans++: D^2 sampling), and
 *     broadcasts them with a shift vector (the mean of that batch). All
 *     distance arithmetic runs on shifted data x - shift, which keeps the
 *     float32 GEMM expansion accurate on data far from the origin (taxi
 *     coordinates near (-73.9, 40.7)). Each center starts with weight 0.
 *     The same broadcast carries the job's kernel: float32 while that batch's
 *     range keeps squared distances inside float32, double otherwise, so data
 *     scaled by anything from 1e-30 to 1e30 clusters as the rescaled data.
 *   - Step: every rank assigns its batch (or nothing, once its stream has
 *     ended) to the nearest center (smg_kmeans_nearest: a fused AVX2 kernel
 *     for feature_dim <= 64, blocked sgemm above), and fills a flat
 *     array of doubles: per-center sums and counts, the row count, the exact
 *     squared distance sum, and its `m` farthest rows (reseed candidates).
 *     The arrays of all ranks are summed with ONE allreduce; every rank then
 *     applies the same deterministic update, so centers stay identical. On
 *     several ranks a step may take several local mini-batches per rank
 *     (kmeans_group.h: fewer allreduce bytes per row). The
 *     summed row count doubles as the "anyone still has data" flag: a step
 *     with zero rows overall ends the epoch on every rank at once.
 *   - Update (SageMaker's documented rule): the previous weight w of a center
 *     decays by 2^(-n/h) (n = rows in the step over all ranks, h =
 *     half_life_time_size, no decay when h = 0), then with n_c new rows of
 *     mean d_c: p = n_c / (w + n_c), center = (1 - p) * center + p * d_c,
 *     w = w + n_c.
 *   - Reseeding: after the update, a center whose weight is 0 (never hit, a
 *     duplicate of an earlier center, or not filled at init) or below
 *     SMG_KMEANS_STARVE_RATIO of the mean weight is moved onto the farthest
 *     row of this step (largest distance to its nearest center, over all
 *     ranks, ties to the lower rank and row), which is removed from the sums
 *     of the center it had joined; the reseeded center gets weight 1. Rows
 *     at distance 0 and rows equal to an already chosen seed are skipped, so
 *     no two centers coincide and nothing is ever NaN.
 *
 * Shrink (kmeans_lloyd.c): weighted Lloyd on the K centers, see
 * smg_kmeans_shrink.
 *
 * Sparse data: every batch taken here (init, step, sample, score) may be
 * CSR (io/base/batch.h); kmeans_csr.h computes the same quantities from the
 * stored values without densifying, honouring the shift algebraically. On one
 * rank, CSR steps keep the centers in kmeans_csr_lazy.h's scaled, transposed
 * form (same rules, O(nnz x K) per step, one K x d table); the dense centers
 * are rebuilt when a dense batch, the end of the stream, smg_kmeans_centers
 * or the rank-combine API needs them.
 *
 * Everything is deterministic for a fixed seed, rank count and BLAS thread
 * count: the only randomness is a seeded xoshiro256** generator, and ranks
 * combine through a sum of doubles in a fixed layout. The number of workers
 * in cfg.pool does not change a bit (kmeans_split.h).
 */
#ifndef SMG_KMEANS_H
#define SMG_KMEANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "algorithms/comm.h"
#include "io/base/batch.h"
#include "io/base/buffer.h"
#include "io/base/pool.h"
#include "io/base/status.h"

/* extra_center_factor=auto and local_lloyd_num_trials=auto resolve to these. */
#define SMG_KMEANS_AUTO_EXTRA_CENTER_FACTOR 10
#define SMG_KMEANS_AUTO_LLOYD_TRIALS        10
/* A center whose weight falls below this fraction of the mean weight is reseeded. */
#define SMG_KMEANS_STARVE_RATIO 1e-3
/* Reseed candidates offered per rank per step: at least this many ... */
#define SMG_KMEANS_MIN_CANDIDATES 8
/* ... and at most this many even when many centers are empty. */
#define SMG_KMEANS_MAX_CANDIDATES 256

/* Seeded generator shared by the streaming and Lloyd code (xoshiro256**). */
struct smg_rng {
    uint64_t s[4];
};

enum smg_kmeans_init { SMG_KMEANS_INIT_RANDOM = 0, SMG_KMEANS_INIT_KMEANSPP = 1 };

/*
 * Which nearest-center kernel to run (kmeans_nearest.c): AUTO takes the AVX2
 * one when the CPU has AVX2+FMA; PORTABLE always takes the plain C loop (for
 * tests and comparisons; the runtime sets it from SMALGO_KMEANS_NO_AVX2=1).
 */
enum smg_kmeans_kernel {
    SMG_KMEANS_KERNEL_AUTO = 0,
    SMG_KMEANS_KERNEL_PORTABLE = 1,
    /* Every distance in double (no float32 expansion): data outside the safe range below. */
    SMG_KMEANS_KERNEL_EXACT = 2,
    /* The AVX2 kernel even where AVX-512 is present (same results; for tests and comparisons). */
    SMG_KMEANS_KERNEL_AVX2 = 3
};
/*
 * The float32 kernels are used while the largest |x - shift| of the first
 * mini-batch lies in [SMG_KMEANS_FLOAT_SAFE_MIN, SMG_KMEANS_FLOAT_SAFE_MAX /
 * sqrt(dim)] (or is 0): squared distances then stay normal float32 numbers with
 * a wide margin (2^-40 squared is 8e-25; 2^40 squared is 1.2e24, 1e14 below
 * FLT_MAX) for rows later in the stream; outside it smg_kmeans_init switches
 * the job to SMG_KMEANS_KERNEL_EXACT on every rank. Ordinary data (taxi
 * coordinates and fares, pixel values, ...) is far inside, so its models do
 * not change.
 */
#define SMG_KMEANS_FLOAT_SAFE_MIN 0x1p-40
#define SMG_KMEANS_FLOAT_SAFE_MAX 0x1p40

struct smg_kmeans_config {
    size_t k;                   /* final clusters, >= 1 */
    size_t extra_center_factor; /* resolved, >= 1 */
    size_t dim;                 /* feature_dim */
    enum smg_kmeans_init init_method;
    uint64_t half_life; /* half_life_time_size; 0 = no decay */
    uint64_t seed;
    /* Lloyd refinement of the initial K centers on the first mini-batch (0 = off). */
    unsigned init_lloyd_iters;
    /* Final shrink. */
    enum smg_kmeans_init lloyd_init_method;
    uint64_t lloyd_max_iter; /* 64-bit: hyperparameters are never cut to 32 bits */
    double lloyd_tol;
    uint64_t lloyd_trials;
    bool quiet; /* no log lines (ranks other than 0) */
    enum smg_kmeans_kernel kernel;
    /* Workers for the step's assignment and sums (kmeans_split.h); NULL = this
     * thread only. Borrowed: the owner frees it after the state. The model is
     * bit-identical whatever its size. */
    struct smg_pool *pool;
};

struct smg_kmeans;

SMG_MUST_CHECK enum smg_status smg_kmeans_new(const struct smg_kmeans_config *cfg,
                                              struct smg_kmeans **out, struct smg_error *err);
void smg_kmeans_free(struct smg_kmeans *km); /* accepts NULL */

/*
 * Collective. Rank 0 picks the initial centers from `first` (its first
 * mini-batch; NULL or 0 rows when it has none) and broadcasts them; other
 * ranks pass NULL. After this every rank holds the same state.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_init(struct smg_kmeans *km, struct smg_comm *comm,
                                               const struct smg_batch *first,
                                               struct smg_error *err);

/*
 * Local half of a step, for testing the rank-combine path without MPI:
 * the number of doubles in a step's contribution for n_ranks ranks (it depends
 * on the state, which all ranks share), and this rank's contribution for
 * `b` (NULL = an empty contribution). stats must hold smg_kmeans_stats_len
 * doubles; it is overwritten.
 */
size_t smg_kmeans_stats_len(const struct smg_kmeans *km, int n_ranks);
/* Grow *stats (capacity *cap doubles) to hold at least len; SMG_ENOMEM keeps the old buffer. */
SMG_MUST_CHECK enum smg_status smg_kmeans_stats_reserve(double **stats, size_t *cap, size_t len,
                                                        struct smg_error *err);
SMG_MUST_CHECK enum smg_status smg_kmeans_local_stats(struct smg_kmeans *km,
                                                      const struct smg_batch *b, int rank,
                                                      int n_ranks, double *stats,
                                                      struct smg_error *err);
/*
 * Add this rank's contribution for `b` (NULL or 0 rows: nothing) to stats,
 * which already holds the contributions of earlier batches assigned against
 * the same state (a group, kmeans_group.h; zeros for the first). The result
 * is local_stats of one batch holding all those rows in order: the same rows,
 * counts and reseed candidates (the farthest of all, earlier rows first on
 * ties); sums and sse differ only in the order of additions (each batch's
 * sums are formed from zero, as a step's are, then added).
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_local_add(struct smg_kmeans *km,
                                                    const struct smg_batch *b, int rank,
                                                    int n_ranks, double *stats,
                                                    struct smg_error *err);
/*
 * Apply the summed contributions of all ranks. *done is set when the step
 * held no rows at all (every rank's stream has ended): nothing changes then.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_apply_stats(struct smg_kmeans *km, const double *summed,
                                                      int n_ranks, bool *done,
                                                      struct smg_error *err);

/*
 * Collective: local stats, one allreduce, apply. Pass b = NULL once this
 * rank's stream has ended, and keep calling until *done.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_step(struct smg_kmeans *km, struct smg_comm *comm,
                                               const struct smg_batch *b, bool *done,
                                               struct smg_error *err);

/* The configuration the state was made with. */
const struct smg_kmeans_config *smg_kmeans_config(const struct smg_kmeans *km);
/*
 * The K streaming centers (K * dim doubles, row-major, stored minus
 * smg_kmeans_shift) and their weights (0 = empty).
 */
size_t smg_kmeans_num_centers(const struct smg_kmeans *km);
const double *smg_kmeans_centers(const struct smg_kmeans *km);
const double *smg_kmeans_weights(const struct smg_kmeans *km);
/* Rows seen, the sum of exact squared distances to the pre-update centers, reseeds. */
uint64_t smg_kmeans_rows_seen(const struct smg_kmeans *km);
double smg_kmeans_stream_sse(const struct smg_kmeans *km);
uint64_t smg_kmeans_reseeds(const struct smg_kmeans *km);
/* Wall seconds spent in the steps' allreduce so far (the benchmark's stage split). */
double smg_kmeans_comm_seconds(const struct smg_kmeans *km);

/*
 * Shrink K -> k (kmeans_lloyd.c): weighted Lloyd on the non-empty streaming
 * centers, best of lloyd_trials by weighted mean squared distance, logging
 * each attempt as SageMaker does. With extra_center_factor 1 the streaming
 * centers are the result. out gets k * dim floats; *loss the best weighted
 * mean squared distance (0 when no shrink ran).
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_shrink(const struct smg_kmeans *km, float *out,
                                                 double *loss, struct smg_error *err);

/* Weighted Lloyd on n points, for the shrink and for tests. */
struct smg_lloyd_config {
    size_t k;
    size_t dim;
    enum smg_kmeans_init init_method;
    uint64_t max_iter;
    double tol; /* stop when the relative loss decrease is <= tol */
    uint64_t trials;
    uint64_t seed;
    bool log_attempts; /* "local kmeans attempt #i. Current mean square distance ..." */
};
SMG_MUST_CHECK enum smg_status smg_kmeans_lloyd(const struct smg_lloyd_config *cfg,
                                                const double *points, const double *weights,
                                                size_t n, double *centers, double *loss,
                                                struct smg_error *err);

/*
 * Choose up to k seeds among n weighted points (n * dim doubles) into idx:
 * random draws k distinct indices with probability proportional to weight;
 * kmeans++ draws the first that way and each next one proportional to
 * weight * D^2 (D = distance to the nearest seed so far), keeping the best of
 * `local_trials` draws by total weighted potential (sklearn's greedy variant;
 * 0 = 2 + ln k, 1 = classic). kmeans++ stops early when every remaining point
 * coincides with a seed; *chosen says how many were picked.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_seed(enum smg_kmeans_init method, const double *points,
                                               const double *weights, size_t n, size_t dim,
                                               size_t k, unsigned local_trials, struct smg_rng *rng,
                                               size_t *idx, size_t *chosen, struct smg_error *err);

/*
 * smg_kmeans_seed with the points' pairwise squared distances (n x n,
 * smg_kmeans_pair_dists; NULL = computed as needed): the same draws and the
 * same result bit for bit, without recomputing distances that several
 * seedings of the same points share (the shrink's trials, the restarts).
 * smg_kmeans_pair_dists_pay says whether `seedings` seedings of k centers
 * among n points are worth the table (n <= SMG_KMEANS_PAIR_MAX_POINTS).
 */
#define SMG_KMEANS_PAIR_MAX_POINTS 1024
SMG_MUST_CHECK enum smg_status
smg_kmeans_seed_pairs(enum smg_kmeans_init method, const double *points, const double *pair,
                      const double *weights, size_t n, size_t dim, size_t k, unsigned local_trials,
                      struct smg_rng *rng, size_t *idx, size_t *chosen, struct smg_error *err);
void smg_kmeans_pair_dists(const double *points, size_t n, size_t dim, double *pair);
bool smg_kmeans_pair_dists_pay(size_t n, size_t k, uint64_t seedings);

/*
 * Plain Lloyd iterations (unit weights) on n points from the given k centers,
 * in place, until the relative loss decrease is <= tol or max_iter: the
 * refinement of the initial streaming centers on the first mini-batch.
 * Empty clusters keep their center.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_refine(const double *points, size_t n, size_t dim,
                                                 double *centers, size_t k, unsigned max_iter,
                                                 double tol, enum smg_kmeans_kernel kernel,
                                                 struct smg_error *err);

/*
 * Exact scoring of data against final centers: nearest center by the GEMM
 * expansion in float32 on data shifted by `shift` (NULL = none), then the
 * winner's squared distance recomputed exactly in double. Adds to *sse and
 * *rows. Labels (optional) get the 0-based center index per row.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_score(const float *centers, size_t k, size_t dim,
                                                const double *shift, const struct smg_batch *b,
                                                double *sse, uint64_t *rows, uint32_t *labels,
                                                enum smg_kmeans_kernel kernel,
                                                struct smg_error *err);

/*
 * Final polish (kmeans_sample.c): a per-rank uniform reservoir of at most
 * `capacity` rows of the training stream (seed: use seed + rank), and
 * collective Lloyd iterations of the k final centers on the union of all
 * ranks' samples (each rank's rows weighted rows seen / rows kept). centers
 * (k * dim floats) are updated in place; msd_before/after are the sample's
 * weighted mean squared distances to the shrink result and to the result.
 */
#define SMG_KMEANS_SAMPLE_BYTES ((size_t)32 << 20)
/*
 * Rows per rank kept for the polish: SMG_KMEANS_SAMPLE_ROWS_PER_CENTER per
 * final center, at least SMG_KMEANS_SAMPLE_MIN_ROWS, at most
 * SMG_KMEANS_SAMPLE_BYTES of float32 rows. A center estimated from n rows is
 * off by about 1/n of its cell's msd, so 4096 rows per center are plenty;
 * more only costs time in every polish iteration.
 */
#define SMG_KMEANS_SAMPLE_ROWS_PER_CENTER 4096
#define SMG_KMEANS_SAMPLE_MIN_ROWS        65536
size_t smg_kmeans_sample_capacity(size_t k, size_t dim);
struct smg_kmeans_sample;
SMG_MUST_CHECK enum smg_status smg_kmeans_sample_new(size_t dim, size_t capacity, uint64_t seed,
                                                     struct smg_kmeans_sample **out,
                                                     struct smg_error *err);
void smg_kmeans_sample_free(struct smg_kmeans_sample *s); /* accepts NULL */
void smg_kmeans_sample_add(struct smg_kmeans_sample *s, const struct smg_batch *b);
size_t smg_kmeans_sample_rows(const struct smg_kmeans_sample *s);
/* Lloyd updates the last smg_kmeans_polish applied (0 = the shrink result was kept). */
uint64_t smg_kmeans_polish_iters(const struct smg_kmeans_sample *s);
/*
 * pool (NULL = this thread) runs the nearest-center search of every Lloyd
 * iteration (smg_kmeans_nearest_pool): the same bits whatever its size.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_polish(struct smg_kmeans_sample *s, struct smg_comm *comm,
                                                 struct smg_pool *pool, float *centers, size_t k,
                                                 const double *shift, uint64_t max_iter, double tol,
                                                 double *msd_before, double *msd_after,
                                                 enum smg_kmeans_kernel kernel,
                                                 struct smg_error *err);
/*
 * smg_kmeans_polish in legs: a run started from centers (r->cd, the shifted
 * doubles Lloyd iterates on) runs with smg_kmeans_run_step until it stops
 * (r->done) or its iteration count r->it reaches pause, and resumes from
 * there bit for bit as one uninterrupted polish. centers gets the last
 * evaluated centers, r->before and r->after the first and last sample msd.
 */
struct smg_kmeans_run {
    double *cd;
    uint64_t it;
    double prev, before, after;
    bool done;
};
SMG_MUST_CHECK enum smg_status smg_kmeans_run_start(struct smg_kmeans_run *r, const float *centers,
                                                    size_t k, size_t dim, const double *shift,
                                                    struct smg_error *err);
SMG_MUST_CHECK enum smg_status
smg_kmeans_run_step(struct smg_kmeans_sample *s, struct smg_comm *comm, struct smg_pool *pool,
                    struct smg_kmeans_run *r, float *centers, size_t k, const double *shift,
                    uint64_t max_iter, double tol, uint64_t pause, enum smg_kmeans_kernel kernel,
                    struct smg_error *err);
/* smg_kmeans_run_step without recording the iteration count in s (s is only read). */
SMG_MUST_CHECK enum smg_status
smg_kmeans_run_iterate(const struct smg_kmeans_sample *s, struct smg_comm *comm,
                       struct smg_pool *pool, struct smg_kmeans_run *r, float *centers, size_t k,
                       const double *shift, uint64_t max_iter, double tol, uint64_t pause,
                       enum smg_kmeans_kernel kernel, struct smg_error *err);
void smg_kmeans_run_free(struct smg_kmeans_run *r);
/* The reservoir's rows (rows x dim floats) and the number of rows offered to it. */
const float *smg_kmeans_sample_data(const struct smg_kmeans_sample *s);
uint64_t smg_kmeans_sample_seen(const struct smg_kmeans_sample *s);
size_t smg_kmeans_sample_dim(const struct smg_kmeans_sample *s);
/* A sample holding exactly these rows (copied), each of weight 1. */
SMG_MUST_CHECK enum smg_status smg_kmeans_sample_of_rows(const float *x, size_t rows, size_t dim,
                                                         struct smg_kmeans_sample **out,
                                                         struct smg_error *err);

/*
 * The start of the polish (kmeans_reseed.c): a pool of at most
 * SMG_KMEANS_RESEED_ROWS_PER_CENTER * k rows (at least
 * SMG_KMEANS_RESEED_MIN_ROWS, at most SMG_KMEANS_RESEED_BYTES of doubles)
 * taken evenly from every rank's sample and shared by one allreduce; Lloyd on
 * the pool (to the looser of tol and SMG_KMEANS_RESEED_TOL) from centers (the
 * shrink result) and from up to `trials` greedy kmeans++ seedings of the pool
 * (on SEED_ROWS_PER_CENTER * k pool rows, at least MIN_SEED_ROWS; as many as
 * SMG_KMEANS_RESEED_BUDGET distance evaluations allow, at least 1; seeded
 * from seed and the trial number). Every restart pauses after
 * SMG_KMEANS_RESEED_PRUNE_ITERS Lloyd iterations; only those whose pool msd
 * is then within SMG_KMEANS_RESEED_PRUNE_MARGIN of the lowest run on (each
 * exactly as one uninterrupted Lloyd), the others cannot win. centers are
 * replaced by the restart with
 * the lowest pool msd only if that is lower than the shrink result's (then
 * rep->won = 1); the caller polishes whichever it gets. The restarts are
 * shared out over the ranks (collective: every rank must call it); every rank
 * gets the same pool and winner: deterministic for a fixed seed and rank
 * count, and independent of the rank count while all rows fit the pool.
 * pool (NULL = this thread) runs the nearest-center search of Lloyd on the
 * pool of rows: the same results whatever its size.
 */
#define SMG_KMEANS_RESEED_ROWS_PER_CENTER      500
#define SMG_KMEANS_RESEED_MIN_ROWS             10000
#define SMG_KMEANS_RESEED_BYTES                ((size_t)32 << 20)
#define SMG_KMEANS_RESEED_SEED_ROWS_PER_CENTER 500
#define SMG_KMEANS_RESEED_MIN_SEED_ROWS        10000
#define SMG_KMEANS_RESEED_BUDGET               8e8
#define SMG_KMEANS_RESEED_TOL                  1e-3
#define SMG_KMEANS_RESEED_PRUNE_ITERS          3
#define SMG_KMEANS_RESEED_PRUNE_MARGIN         0.02
struct smg_kmeans_reseed_report {
    size_t pool_rows;  /* rows in the pool (all ranks) */
    unsigned restarts; /* kmeans++ restarts run */
    unsigned won;      /* 1: centers now hold the best restart */
    double shrink_msd; /* pool msd after Lloyd on the pool from the given centers */
    double best_msd;   /* lowest pool msd of the restarts (INFINITY when none ran) */
};
SMG_MUST_CHECK enum smg_status
smg_kmeans_reseed(struct smg_kmeans_sample *s, struct smg_comm *comm, struct smg_pool *pool,
                  float *centers, size_t k, const double *shift, unsigned max_iter, double tol,
                  uint64_t seed, unsigned trials, struct smg_kmeans_reseed_report *rep,
                  enum smg_kmeans_kernel kernel, struct smg_error *err);

/*
 * Nearest center for `rows` rows of x (row-major float32, dim columns):
 * x - shift (shift NULL = 0) against cs (k * dim floats, already shifted) with
 * cnorm[j] = |cs_j|^2 (+INF marks an inactive center that never wins); argmin
 * of |c|^2 - 2 x.c (lowest index on ties) by a fused kernel for dim <= 64 or
 * one blocked sgemm per block of rows above (kmeans_nearest.c). The winner's
 * squared distance is then recomputed exactly in double against cd (k * dim
 * doubles, shifted) into dist[i]. With no active center, labels get
 * SMG_KMEANS_NO_LABEL and dist the squared norm of the shifted row.
 */
#define SMG_KMEANS_NO_LABEL UINT32_MAX
SMG_MUST_CHECK enum smg_status
smg_kmeans_nearest(const float *cs, const float *cnorm, const double *cd, size_t k, size_t dim,
                   const double *shift, const float *x, size_t rows, uint32_t *labels, double *dist,
                   enum smg_kmeans_kernel kernel, struct smg_error *err);

/*
 * The float32 copy of k double centers (cs = (float)cd) and their squared
 * norms, as smg_kmeans_nearest takes them; norms are summed in float, in
 * feature order, so every caller gets bit-identical inputs.
 */
void smg_kmeans_float_centers(const double *cd, size_t k, size_t dim, float *cs, float *cnorm);

/*
 * Checkpoints: append the streaming state (shift, centers, weights, which
 * centers are active, rows seen, reseeds, the stream sse) or the polish
 * sample (rows kept, stream position, Algorithm L's state, its generator) to
 * out; restore it into an object made with the same configuration, which then
 * continues bit for bit as the saved one would. SMG_ENOMEM; SMG_EFORMAT when
 * the bytes do not fit this configuration.
 */
SMG_MUST_CHECK enum smg_status smg_kmeans_state_save(const struct smg_kmeans *km,
                                                     struct smg_buf *out, struct smg_error *err);
SMG_MUST_CHECK enum smg_status smg_kmeans_state_load(struct smg_kmeans *km, const void *data,
                                                     size_t len, struct smg_error *err);
SMG_MUST_CHECK enum smg_status smg_kmeans_sample_state_save(const struct smg_kmeans_sample *s,
                                                            struct smg_buf *out,
                                                            struct smg_error *err);
SMG_MUST_CHECK enum smg_status smg_kmeans_sample_state_load(struct smg_kmeans_sample *s,
                                                            const void *data, size_t len,
                                                            struct smg_error *err);

/* The shift (dim doubles) every distance computation subtracts. */
const double *smg_kmeans_shift(const struct smg_kmeans *km);

void smg_rng_seed(struct smg_rng *r, uint64_t seed);
uint64_t smg_rng_next(struct smg_rng *r);
double smg_rng_uniform(struct smg_rng *r); /* [0, 1) */
/* Index i drawn with probability p_i / total (p >= 0, total > 0); rounding gives the last
 * positive entry. */
size_t smg_rng_draw(const double *p, size_t n, double total, struct smg_rng *r);

#endif

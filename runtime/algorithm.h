/*
 * One descriptor per algorithm: everything `smalgo train`, `serve` and
 * `inspect` need to know about an algorithm, so that the generic commands
 * iterate the one table (smg_algorithms) and name no algorithm themselves.
 *
 * A descriptor (runtime/algos/<name>.c) holds: the hyperparameter table bound
 * into the algorithm's config struct (runtime/hparams.h), the train driver,
 * the model schema (the trainer writes it; model_claims recognises it), the
 * serving side (open a model file, predict with its response fields) and the
 * note `smalgo inspect` prints. Adding an algorithm is its algorithms/ files,
 * one descriptor file and its name in SMG_ALGORITHM_LIST below.
 */
#ifndef SMG_ALGORITHM_H
#define SMG_ALGORITHM_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/batch.h"
#include "io/base/buffer.h"
#include "io/base/status.h"
#include "io/infer_response.h"
#include "io/ndarray.h"
#include "runtime/hparams.h"

struct smg_job;

/* A model file opened for serving, as a descriptor's serve_open fills it. */
struct smg_served {
    size_t feature_dim; /* columns every request row must have */
    char describe[128]; /* for the log: "k-means model: k=8, 7 features" */
    void *state;        /* the descriptor's own, released by serve_close */
};

struct smg_algorithm {
    const char *name;           /* "pca", "kmeans": --algorithm and SMALGO_ALGORITHM */
    const char *title;          /* "PCA", "k-means": usage texts */
    const char *metrics_name;   /* #metrics Dimensions.Algorithm: "PCA", "AWS/KMeansWebscale" */
    const char *identifying_hp; /* a hyperparameter only this algorithm has: "num_components" */
    const struct smg_hp_spec *hparams;
    size_t n_hparams;

    /* Train from job's channels and write the model. Returns a status; err says why. */
    enum smg_status (*train)(struct smg_job *job, struct smg_error *err);

    /* The model file, in words, for "neither ... nor ..." messages. */
    const char *model_schema;
    /* Whether f has this algorithm's layout (array names and count; shapes are checked later). */
    bool (*model_claims)(const struct smg_ndarray_file *f);
    /*
     * Check a claimed file fully (ndim, shapes, dtypes) and build what predict
     * needs; f outlives *out. SMG_EFORMAT naming `what` (the path); SMG_ENOMEM.
     */
    enum smg_status (*serve_open)(const struct smg_ndarray_file *f, const char *what,
                                  struct smg_served *out, struct smg_error *err);
    void (*serve_close)(struct smg_served *m);
    /* Whether this model answers in accept's format; NULL: in every format. */
    enum smg_status (*serve_check_accept)(const struct smg_codec *accept, struct smg_error *err);
    /*
     * Score the rows of b (feature_dim columns, dense or CSR: io/base/batch.h;
     * a CSR batch is scored without densifying it) and append the response.
     * Thread-safe.
     */
    enum smg_status (*predict)(const struct smg_served *m, const struct smg_batch *b,
                               const struct smg_codec *accept, struct smg_buf *out,
                               struct smg_error *err);
    /*
     * Append to out the JSON object `smalgo inspect` prints as "note" for f,
     * or nothing when f is not a usable model of this algorithm. SMG_ENOMEM.
     */
    enum smg_status (*inspect_note)(const struct smg_ndarray_file *f, struct smg_buf *out);
};

/*
 * Every algorithm, in table order (the order names are listed in messages):
 * adding one is one name here. Each name n is a descriptor
 * `const struct smg_algorithm smg_algorithm_<n>` in runtime/algos/<n>.c.
 */
#define SMG_ALGORITHM_LIST(X) X(pca) X(kmeans)

#define SMG_ALGORITHM_DECLARE(n) extern const struct smg_algorithm smg_algorithm_##n;
SMG_ALGORITHM_LIST(SMG_ALGORITHM_DECLARE)

/* NULL-terminated list of every algorithm. */
extern const struct smg_algorithm *const smg_algorithms[];

const struct smg_algorithm *smg_algorithm_find(const char *name);

/*
 * "neither X nor Y" (two algorithms) or "none of X, Y, Z" (more) into buf,
 * each X written by item (snprintf-like: returns what it would write) for
 * one algorithm, in table order or, with last_first, from the last entry.
 * Whole items only: one that does not fit is left out.
 */
void smg_algorithm_alternatives(char *buf, size_t size, bool last_first,
                                int (*item)(char *dst, size_t room, const struct smg_algorithm *a));

/*
 * The names of every algorithm joined by sep ("pca|kmeans" with "|"), for
 * usage texts and messages; when buf is too small, the names that fit whole.
 */
void smg_algorithm_names(const char *sep, char *buf, size_t size);

#endif

/*
 * The model `smalgo serve` answers with: a PCA or k-means model_algo-1,
 * recognised from its contents, and its batch prediction.
 *
 *   PCA:     a named NDArray dict with 's' (k,), 'v' (d, k) and optionally
 *            'mean' (1, d) or (d,): projection = (x - mean) . v, k values per row
 *            in the model's column order ('s' is never used: it may hold NaN).
 *   k-means: an unnamed list holding one (k, d) float32 array of centroids:
 *            closest_cluster = 0-based row of the nearest centroid (as a float),
 *            distance_to_cluster = its Euclidean distance.
 *
 * Anything else is rejected at load time with a message saying what was found,
 * so `serve` exits before it listens. A loaded model is read-only and may be
 * used by any number of threads at once.
 */
#ifndef SMG_SERVE_MODEL_H
#define SMG_SERVE_MODEL_H

#include <stddef.h>

#include "io/infer_response.h"
#include "io/base/status.h"

struct smg_serve_model;

/*
 * Load dir/model_algo-1 (or, failing that, the only dir/model_algo-* file).
 * SMG_EIO if there is no model file, SMG_EFORMAT if it is neither model kind.
 */
int smg_serve_model_load(const char *dir, struct smg_serve_model **out, struct smg_error *err);

void smg_serve_model_free(struct smg_serve_model *m); /* accepts NULL */

size_t smg_serve_model_feature_dim(const struct smg_serve_model *m);
const char *smg_serve_model_describe(const struct smg_serve_model *m); /* "k-means k=8, d=7" */

/* Whether the model can answer in this response format (CSV is k-means only). */
int smg_serve_model_check_accept(const struct smg_serve_model *m, enum smg_infer_accept accept,
                                 struct smg_error *err);

/*
 * Score n rows of x (n * feature_dim floats) as one batch and append the
 * response in the accepted format to out. Thread-safe.
 */
int smg_serve_model_predict(const struct smg_serve_model *m, const float *x, size_t n,
                            enum smg_infer_accept accept, struct smg_infer_buf *out,
                            struct smg_error *err);

#endif

/*
 * The model `smalgo serve` answers with: a model_algo-1 of one of the
 * algorithms in the table (runtime/algorithm.h), recognised from its contents
 * by the algorithm's model schema, and its batch prediction with the
 * algorithm's response fields (e.g. PCA's projection, k-means'
 * closest_cluster and distance_to_cluster; runtime/algos/<name>.c says).
 *
 * Anything else is rejected at load time with a message saying what was found,
 * so `serve` exits before it listens. A loaded model is read-only and may be
 * used by any number of threads at once.
 */
#ifndef SMG_SERVE_MODEL_H
#define SMG_SERVE_MODEL_H

#include <stddef.h>

#include "io/base/batch.h"
#include "io/base/status.h"
#include "io/infer_response.h"

struct smg_serve_model;

/*
 * Load dir/model_algo-1 (or, failing that, the only dir/model_algo-* file).
 * SMG_EIO if there is no model file, SMG_EFORMAT if it is no algorithm's model.
 */
SMG_MUST_CHECK enum smg_status smg_serve_model_load(const char *dir, struct smg_serve_model **out,
                                                    struct smg_error *err);

void smg_serve_model_free(struct smg_serve_model *m); /* accepts NULL */

size_t smg_serve_model_feature_dim(const struct smg_serve_model *m);
const char *smg_serve_model_describe(const struct smg_serve_model *m); /* for the log */

/* Whether the model can answer in this response codec (its algorithm decides). */
SMG_MUST_CHECK enum smg_status smg_serve_model_check_accept(const struct smg_serve_model *m,
                                                            const struct smg_codec *accept,
                                                            struct smg_error *err);

/*
 * Score the rows of b (feature_dim columns, dense or CSR) as one batch and
 * append the response written by the accepted codec to out. Thread-safe.
 */
SMG_MUST_CHECK enum smg_status smg_serve_model_predict(const struct smg_serve_model *m,
                                                       const struct smg_batch *b,
                                                       const struct smg_codec *accept,
                                                       struct smg_buf *out, struct smg_error *err);

#endif

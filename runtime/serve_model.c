/*
 * Loading and scoring the served model (contract in serve_model.h).
 *
 * Recognition looks only at the file's contents, never at its name or a
 * hyperparameter: a named dict holding 's' and 'v' is PCA, an unnamed list of
 * exactly one 2-D array is k-means. Shapes are cross-checked ('v' is (d, k),
 * 's' has k values, 'mean' has d) and every array must be float32, so the
 * request path never meets a model it cannot score.
 *
 * Scoring hands the whole request matrix to the algorithms library in one
 * call (one GEMM per request: algorithms/kmeans_assign.h and
 * algorithms/pca_project.h) and then encodes the per-row results.
 */
#include "runtime/serve_model.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "io/base/alloc.h"
#include "algorithms/kmeans_assign.h"
#include "io/ndarray.h"
#include "algorithms/pca_project.h"

enum smg_serve_model_kind { SMG_SERVE_PCA = 0, SMG_SERVE_KMEANS = 1 };

struct smg_serve_model {
    enum smg_serve_model_kind kind;
    struct smg_ndarray_file *file;
    size_t d, k;
    struct smg_kmeans_assigner *assigner; /* k-means: over the (k, d) centroids */
    const float *v;                       /* PCA: (d, k) */
    const float *mean;                    /* PCA: d values, or NULL */
    char describe[128];
};

static int check_f32(const struct smg_ndarray *a, const char *name, const char *what,
                     struct smg_error *err)
{
    if (a->dtype != SMG_DTYPE_FLOAT32)
        return smg_error_set(err, SMG_EFORMAT, "%s: array %s has dtype %d, expected float32 (0)",
                             what, name, (int)a->dtype);
    return SMG_OK;
}

static int recognise_pca(struct smg_serve_model *m, const char *what, struct smg_error *err)
{
    const struct smg_ndarray *s = smg_ndarray_find(m->file, "s");
    const struct smg_ndarray *v = smg_ndarray_find(m->file, "v");
    const struct smg_ndarray *mean = smg_ndarray_find(m->file, "mean");
    int rc;

    if (v->ndim != 2 || v->shape[0] < 1 || v->shape[1] < 1)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s: PCA array 'v' must be 2-D (feature_dim, num_components), has "
                             "%u dims",
                             what, v->ndim);
    if ((rc = check_f32(v, "'v'", what, err)) != SMG_OK ||
        (rc = check_f32(s, "'s'", what, err)) != SMG_OK)
        return rc;
    m->d = (size_t)v->shape[0];
    m->k = (size_t)v->shape[1];
    if (smg_ndarray_elements(s) != m->k)
        return smg_error_set(err, SMG_EFORMAT,
                             "%s: PCA array 's' has %zu values but 'v' has %zu components", what,
                             smg_ndarray_elements(s), m->k);
    m->v = v->data;
    if (mean != NULL) {
        if ((rc = check_f32(mean, "'mean'", what, err)) != SMG_OK)
            return rc;
        if (smg_ndarray_elements(mean) != m->d)
            return smg_error_set(err, SMG_EFORMAT,
                                 "%s: PCA array 'mean' has %zu values but 'v' has %zu features",
                                 what, smg_ndarray_elements(mean), m->d);
        m->mean = mean->data;
    }
    m->kind = SMG_SERVE_PCA;
    snprintf(m->describe, sizeof(m->describe), "PCA model: %zu features, %zu components%s", m->d,
             m->k, m->mean ? ", with mean" : ", no mean");
    return SMG_OK;
}

static int recognise(struct smg_serve_model *m, const char *what, struct smg_error *err)
{
    const struct smg_ndarray_file *f = m->file;

    if (f->named && smg_ndarray_find(f, "s") != NULL && smg_ndarray_find(f, "v") != NULL)
        return recognise_pca(m, what, err);
    if (!f->named && f->count == 1) {
        const struct smg_ndarray *c = &f->arrays[0];
        int rc;
        if (c->ndim != 2 || c->shape[0] < 1 || c->shape[1] < 1)
            return smg_error_set(err, SMG_EFORMAT,
                                 "%s: a k-means model holds one 2-D (k, feature_dim) array; this "
                                 "one has %u dims",
                                 what, c->ndim);
        if ((rc = check_f32(c, "0", what, err)) != SMG_OK)
            return rc;
        m->k = (size_t)c->shape[0];
        m->d = (size_t)c->shape[1];
        m->kind = SMG_SERVE_KMEANS;
        if ((rc = smg_kmeans_assigner_new(c->data, m->k, m->d, &m->assigner, err)) != SMG_OK)
            return rc;
        snprintf(m->describe, sizeof(m->describe), "k-means model: k=%zu, %zu features", m->k,
                 m->d);
        return SMG_OK;
    }
    return smg_error_set(err, SMG_EFORMAT,
                         "%s: neither a PCA model (named arrays 's', 'v' and optionally 'mean') "
                         "nor a k-means model (one unnamed (k, feature_dim) array): found %zu "
                         "%s array(s)",
                         what, f->count, f->named ? "named" : "unnamed");
}

/* Recognise f as a model and take ownership of it (freed on error too). */
static int from_file(struct smg_ndarray_file *f, const char *name, struct smg_serve_model **out,
                     struct smg_error *err)
{
    struct smg_serve_model *m;
    int rc;

    *out = NULL;
    m = smg_calloc(1, sizeof(*m));
    if (m == NULL) {
        smg_ndarray_file_free(f);
        return smg_error_set(err, SMG_ENOMEM, "out of memory loading the model");
    }
    m->file = f;
    rc = recognise(m, name, err);
    if (rc != SMG_OK) {
        smg_serve_model_free(m);
        return rc;
    }
    *out = m;
    return SMG_OK;
}

/* dir/model_algo-1, else the only dir/model_algo-* entry. */
static int find_model_file(const char *dir, char *path, size_t cap, struct smg_error *err)
{
    DIR *dh;
    struct dirent *e;
    int found = 0;

    if ((size_t)snprintf(path, cap, "%s/model_algo-1", dir) >= cap)
        return smg_error_set(err, SMG_ECONFIG, "model directory path is too long");
    dh = opendir(dir);
    if (dh == NULL)
        return smg_error_set(err, SMG_EIO, "model directory %s cannot be opened", dir);
    while ((e = readdir(dh)) != NULL) {
        if (strcmp(e->d_name, "model_algo-1") == 0) {
            found = 1;
            break;
        }
        if (strncmp(e->d_name, "model_algo-", 11) == 0 && strstr(e->d_name, ".json") == NULL) {
            if (found++ == 0 && (size_t)snprintf(path, cap, "%s/%s", dir, e->d_name) >= cap)
                found = 2; /* too long to use: reported as not found below */
        }
    }
    closedir(dh);
    if (found == 1)
        return SMG_OK;
    if (found > 1)
        return smg_error_set(err, SMG_EIO,
                             "no %s/model_algo-1, and several other model_algo-* files: which "
                             "one to serve is ambiguous",
                             dir);
    return smg_error_set(err, SMG_EIO,
                         "no model file: %s/model_algo-1 does not exist (SageMaker unpacks "
                         "model.tar.gz into /opt/ml/model; use --model-dir elsewhere)",
                         dir);
}

int smg_serve_model_load(const char *dir, struct smg_serve_model **out, struct smg_error *err)
{
    char path[4096];
    struct smg_ndarray_file *f = NULL;
    int rc;

    *out = NULL;
    rc = find_model_file(dir, path, sizeof(path), err);
    if (rc != SMG_OK)
        return rc;
    rc = smg_ndarray_load(path, &f, err);
    if (rc != SMG_OK) {
        smg_error_prefix(err, "model %s: ", path);
        return rc;
    }
    return from_file(f, path, out, err);
}

void smg_serve_model_free(struct smg_serve_model *m)
{
    if (m == NULL)
        return;
    smg_kmeans_assigner_free(m->assigner);
    smg_ndarray_file_free(m->file);
    smg_free(m);
}

size_t smg_serve_model_feature_dim(const struct smg_serve_model *m)
{
    return m->d;
}

const char *smg_serve_model_describe(const struct smg_serve_model *m)
{
    return m->describe;
}

int smg_serve_model_check_accept(const struct smg_serve_model *m, enum smg_infer_accept accept,
                                 struct smg_error *err)
{
    if (m->kind == SMG_SERVE_PCA && accept == SMG_ACCEPT_CSV)
        return smg_error_set(err, SMG_ECONFIG,
                             "Accept text/csv is for k-means models; a PCA model answers "
                             "application/json, application/jsonlines or "
                             "application/x-recordio-protobuf");
    return SMG_OK;
}

static int predict_kmeans(const struct smg_serve_model *m, const float *x, size_t n,
                          enum smg_infer_accept accept, struct smg_infer_buf *out,
                          struct smg_error *err)
{
    float *res = NULL;
    uint32_t *closest = NULL;
    struct smg_infer_field fields[2];
    struct smg_infer_result r;
    size_t bytes;
    int rc;

    /* res holds n labels (as floats, the wire type) then n distances. */
    if (!smg_mul_size(n, 2 * sizeof(float), &bytes) || (res = smg_malloc(bytes)) == NULL ||
        (closest = smg_malloc(n * sizeof(uint32_t))) == NULL) {
        smg_free(res);
        return smg_error_set(err, SMG_ENOMEM, "out of memory scoring %zu rows", n);
    }
    rc = smg_kmeans_assign(m->assigner, x, n, closest, res + n, err);
    if (rc == SMG_OK) {
        for (size_t i = 0; i < n; i++)
            res[i] = (float)closest[i];
        fields[0] = (struct smg_infer_field){"closest_cluster", res, 1, true};
        fields[1] = (struct smg_infer_field){"distance_to_cluster", res + n, 1, true};
        r = (struct smg_infer_result){"predictions", n, 2, fields};
        rc = smg_infer_response_encode(accept, &r, out, err);
    }
    smg_free(closest);
    smg_free(res);
    return rc;
}

static int predict_pca(const struct smg_serve_model *m, const float *x, size_t n,
                       enum smg_infer_accept accept, struct smg_infer_buf *out,
                       struct smg_error *err)
{
    float *proj = NULL;
    struct smg_infer_field field;
    struct smg_infer_result r;
    size_t bytes;
    int rc;

    if (!smg_mul_size(n, m->k, &bytes) || !smg_mul_size(bytes, sizeof(float), &bytes) ||
        (proj = smg_malloc(bytes)) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory scoring %zu rows", n);
    rc = smg_pca_project(m->v, m->d, m->k, m->mean, x, n, proj, err);
    if (rc == SMG_OK) {
        field = (struct smg_infer_field){"projection", proj, m->k, false};
        r = (struct smg_infer_result){"projections", n, 1, &field};
        rc = smg_infer_response_encode(accept, &r, out, err);
    }
    smg_free(proj);
    return rc;
}

int smg_serve_model_predict(const struct smg_serve_model *m, const float *x, size_t n,
                            enum smg_infer_accept accept, struct smg_infer_buf *out,
                            struct smg_error *err)
{
    if (m->kind == SMG_SERVE_KMEANS)
        return predict_kmeans(m, x, n, accept, out, err);
    return predict_pca(m, x, n, accept, out, err);
}

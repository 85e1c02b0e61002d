/*
 * Loading and scoring the served model (contract in serve_model.h).
 *
 * Recognition looks only at the file's contents, never at its name or a
 * hyperparameter: each algorithm in the table (runtime/algorithms.c) is asked
 * in turn whether the file has its layout (model_claims); the first that does
 * checks shapes and dtypes and builds its predictor (serve_open), so the
 * request path never meets a model it cannot score. This file names no
 * algorithm: scoring and the response fields are the descriptor's predict.
 */
#include "runtime/serve_model.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/ndarray.h"
#include "runtime/algorithm.h"

struct smg_serve_model {
    const struct smg_algorithm *algo;
    struct smg_ndarray_file *file;
    struct smg_served served;
};

static int schema_item(char *dst, size_t room, const struct smg_algorithm *a)
{
    return snprintf(dst, room, "%s", a->model_schema);
}

/* "neither A nor B" for two algorithms, "none of A, B, C" for more. */
static int unrecognised(const struct smg_ndarray_file *f, const char *what, struct smg_error *err)
{
    char kinds[512];

    smg_algorithm_alternatives(kinds, sizeof(kinds), false, schema_item);
    return smg_error_set(err, SMG_EFORMAT, "%s: %s: found %zu %s array(s)", what, kinds, f->count,
                         f->named ? "named" : "unnamed");
}

static int recognise(struct smg_serve_model *m, const char *what, struct smg_error *err)
{
    for (size_t i = 0; smg_algorithms[i] != NULL; i++) {
        if (!smg_algorithms[i]->model_claims(m->file))
            continue;
        int rc = smg_algorithms[i]->serve_open(m->file, what, &m->served, err);
        if (rc == SMG_OK)
            m->algo = smg_algorithms[i];
        return rc;
    }
    return unrecognised(m->file, what, err);
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

enum smg_status smg_serve_model_load(const char *dir, struct smg_serve_model **out,
                                     struct smg_error *err)
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
    if (m->algo != NULL)
        m->algo->serve_close(&m->served);
    smg_ndarray_file_free(m->file);
    smg_free(m);
}

size_t smg_serve_model_feature_dim(const struct smg_serve_model *m)
{
    return m->served.feature_dim;
}

const char *smg_serve_model_describe(const struct smg_serve_model *m)
{
    return m->served.describe;
}

enum smg_status smg_serve_model_check_accept(const struct smg_serve_model *m,
                                             const struct smg_codec *accept, struct smg_error *err)
{
    if (m->algo->serve_check_accept == NULL)
        return SMG_OK;
    return m->algo->serve_check_accept(accept, err);
}

enum smg_status smg_serve_model_predict(const struct smg_serve_model *m, const struct smg_batch *b,
                                        const struct smg_codec *accept, struct smg_buf *out,
                                        struct smg_error *err)
{
    if (b->cols != m->served.feature_dim)
        return smg_error_set(err, SMG_EINTERNAL, "rows of %zu features for a model of %zu", b->cols,
                             m->served.feature_dim);
    return m->algo->predict(&m->served, b, accept, out, err);
}

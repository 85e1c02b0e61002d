/*
 * SageMaker compatibility of the inference math, against what real SageMaker
 * endpoints returned (SMALGO_SHARED_DIR/fixtures/sagemaker, README there).
 *
 * k-means: every testcases/kmeans_census_*.json that is "verified" and names a
 * real model file is replayed with the model loaded by smg_ndarray_load and
 * scored by smg_kmeans_assign:
 *   - single_row_exact: the same closest_cluster, and distance_to_cluster
 *     within 1e-6 relative (the README's tolerance: a few float32 ulp; the
 *     float32 GEMM-style expansion reproduces most outputs to the bit);
 *   - printed_label_table: the printed label for both the 6-decimal printed
 *     input and the reconstructed float32 input;
 *   - cluster_counts_all_rows: the exact label histogram over all 3218 census
 *     rows (data/census/census_pca_projections_reconstructed.csv).
 * PCA: renejra's real model and CSV inputs, projection = (x - mean) · v:
 *   - pca_renejra_test_row0.json: all 25 components within 1e-5 absolute;
 *   - pca_renejra_all_rows_top6.json: the top-6 (reversed) components of all
 *     870 test and 1840 train rows within 1e-5 absolute (the README measured
 *     4.5e-7 / 5.4e-7 with numpy, so 1e-5 leaves room for float32 sgemm).
 * Everything is skipped, with a message, when the fixtures are absent.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "algorithms/kmeans_assign.h"
#include "algorithms/pca_project.h"
#include "files_helpers.h"
#include "io/ndarray.h"

#define FIXTURES SMALGO_SHARED_DIR "/fixtures/sagemaker"

static bool have_fixtures(void)
{
    if (files_is_dir(FIXTURES "/testcases"))
        return true;
    printf("SKIP: %s is absent; SageMaker inference checks skipped\n", FIXTURES);
    return false;
}

static cJSON *read_json(const char *path)
{
    char *text = files_read(path, NULL);
    cJSON *doc;

    if (text == NULL)
        fail_msg("cannot read %s", path);
    doc = cJSON_Parse(text);
    free(text);
    if (doc == NULL)
        fail_msg("bad JSON in %s", path);
    return doc;
}

static cJSON *get(const cJSON *o, const char *key)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (v == NULL)
        fail_msg("missing key '%s'", key);
    return v;
}

/* ---- a small CSV reader: a header, then numeric fields after column 0 ---- */

struct csv {
    size_t rows, cols; /* cols excludes column 0 (a label, date or index) */
    char **names;
    double *vals; /* rows × cols */
};

static size_t count_fields(const char *line, const char *end)
{
    size_t n = 1;
    for (const char *p = line; p < end; p++)
        n += *p == ',';
    return n;
}

static void csv_read(const char *path, struct csv *c)
{
    char *text = files_read(path, NULL), *line, *end, *p;
    size_t cap = 0;

    if (text == NULL)
        fail_msg("cannot read %s", path);
    memset(c, 0, sizeof(*c));
    end = strchr(text, '\n');
    assert_non_null(end);
    if (end > text && end[-1] == '\r')
        end[-1] = '\0';
    *end = '\0';
    c->cols = count_fields(text, end) - 1;
    c->names = calloc(c->cols, sizeof(char *));
    p = strchr(text, ',');
    for (size_t j = 0; j < c->cols; j++) {
        char *next = strchr(p + 1, ',');
        size_t len = next != NULL ? (size_t)(next - p - 1) : strlen(p + 1);
        c->names[j] = calloc(1, len + 1);
        memcpy(c->names[j], p + 1, len);
        p = next;
    }
    for (line = end + 1; *line != '\0'; line = end + 1) {
        end = strchr(line, '\n');
        if (end == NULL)
            end = line + strlen(line);
        if (end == line)
            break;
        if (c->rows == cap) {
            cap = cap == 0 ? 1024 : 2 * cap;
            c->vals = realloc(c->vals, cap * c->cols * sizeof(double));
            assert_non_null(c->vals);
        }
        p = strchr(line, ',');
        assert_true(p != NULL && p < end);
        for (size_t j = 0; j < c->cols; j++) {
            char *stop;
            c->vals[c->rows * c->cols + j] = strtod(p + 1, &stop);
            if (stop == p + 1 || (*stop != ',' && stop != end && *stop != '\r'))
                fail_msg("%s: bad number on data row %zu, column %zu", path, c->rows, j + 1);
            p = stop;
        }
        c->rows++;
        if (*end == '\0')
            break;
    }
    free(text);
}

static size_t csv_col(const struct csv *c, const char *name)
{
    for (size_t j = 0; j < c->cols; j++)
        if (strcmp(c->names[j], name) == 0)
            return j;
    fail_msg("no column '%s'", name);
    return 0;
}

static void csv_free(struct csv *c)
{
    for (size_t j = 0; j < c->cols; j++)
        free(c->names[j]);
    free(c->names);
    free(c->vals);
}

/* ---- k-means ----------------------------------------------------------- */

static void json_floats(const cJSON *arr, float *out, size_t n)
{
    const cJSON *e;
    size_t i = 0;
    assert_int_equal(cJSON_GetArraySize(arr), n);
    cJSON_ArrayForEach(e, arr) out[i++] = (float)e->valuedouble;
}

static uint32_t label_of(const struct smg_kmeans_assigner *a, const float *x, float *dist)
{
    uint32_t label;
    struct smg_error err;
    smg_error_clear(&err);
    assert_int_equal(smg_kmeans_assign(a, x, 1, &label, dist, &err), SMG_OK);
    return label;
}

static void kmeans_counts(const struct smg_kmeans_assigner *a, const cJSON *cs, const char *id)
{
    char path[1024];
    const cJSON *cols = get(cs, "input_columns"), *e;
    const cJSON *expected = get(cs, "expected_counts");
    size_t d = smg_kmeans_assigner_d(a), k = smg_kmeans_assigner_k(a), j = 0, *col;
    struct csv c;
    float *x;
    uint32_t *labels;
    size_t *counts;
    struct smg_error err;

    snprintf(path, sizeof(path), "%s/%s", FIXTURES, get(cs, "inputs_file")->valuestring);
    csv_read(path, &c);
    assert_int_equal(c.rows, (size_t)get(cs, "n_rows")->valuedouble);
    assert_int_equal(cJSON_GetArraySize(cols), d);
    col = calloc(d, sizeof(*col));
    cJSON_ArrayForEach(e, cols) col[j++] = csv_col(&c, e->valuestring);
    x = malloc(c.rows * d * sizeof(float));
    labels = malloc(c.rows * sizeof(uint32_t));
    counts = calloc(k, sizeof(size_t));
    for (size_t i = 0; i < c.rows; i++)
        for (j = 0; j < d; j++)
            x[i * d + j] = (float)c.vals[i * c.cols + col[j]];
    smg_error_clear(&err);
    assert_int_equal(smg_kmeans_assign(a, x, c.rows, labels, NULL, &err), SMG_OK);
    for (size_t i = 0; i < c.rows; i++)
        counts[labels[i]]++;
    assert_int_equal(cJSON_GetArraySize(expected), k);
    for (j = 0; j < k; j++) {
        char key[24];
        snprintf(key, sizeof(key), "%zu", j);
        if (counts[j] != (size_t)get(expected, key)->valuedouble)
            fail_msg("%s: cluster %zu has %zu rows, SageMaker %d", id, j, counts[j],
                     get(expected, key)->valueint);
    }
    free(col);
    free(x);
    free(labels);
    free(counts);
    csv_free(&c);
}

static void kmeans_case(const struct smg_kmeans_assigner *a, const cJSON *cs, const char *id)
{
    const char *kind = get(cs, "kind")->valuestring;
    size_t d = smg_kmeans_assigner_d(a);
    float *x = malloc(d * sizeof(float)), dist;

    if (strcmp(kind, "single_row_exact") == 0) {
        const cJSON *exp = get(cs, "expected");
        double want = get(exp, "distance_to_cluster")->valuedouble;
        json_floats(get(cs, "input"), x, d);
        assert_int_equal(label_of(a, x, &dist), get(exp, "closest_cluster")->valuedouble);
        /* 1e-6 relative: a few float32 ulp (README §4 suggested tolerance). */
        if (fabs((double)dist - want) > 1e-6 * want)
            fail_msg("%s: distance %.9g, SageMaker %.9g", id, (double)dist, want);
        printf("  %s: Autauga -> %u at %.9g (SageMaker %.9g, rel %.1e)\n", id, label_of(a, x, NULL),
               (double)dist, want, fabs((double)dist - want) / want);
    } else if (strcmp(kind, "printed_label_table") == 0) {
        const cJSON *row;
        assert_true(cJSON_IsTrue(get(cs, "all_match")));
        cJSON_ArrayForEach(row, get(cs, "rows"))
        {
            uint32_t want = (uint32_t)get(row, "expected_closest_cluster")->valuedouble;
            json_floats(get(row, "input_printed_6dp"), x, d);
            assert_int_equal(label_of(a, x, NULL), want);
            json_floats(get(row, "input_reconstructed"), x, d);
            assert_int_equal(label_of(a, x, NULL), want);
        }
    } else if (strcmp(kind, "cluster_counts_all_rows") == 0) {
        kmeans_counts(a, cs, id);
    } else {
        fail_msg("%s: unknown case kind '%s'", id, kind);
    }
    free(x);
}

static void kmeans_testcase(const char *path, unsigned *done)
{
    cJSON *doc = read_json(path), *model = get(doc, "model_file"), *cs;
    const char *id = get(doc, "id")->valuestring;
    char mpath[1024];
    struct smg_ndarray_file *f = NULL;
    struct smg_kmeans_assigner *a = NULL;
    struct smg_error err;
    const struct smg_ndarray *c;

    if (!cJSON_IsString(model) || strcmp(get(doc, "status")->valuestring, "verified") != 0) {
        printf("  %s: not a verified real model file, not replayed\n", id);
        cJSON_Delete(doc);
        return;
    }
    snprintf(mpath, sizeof(mpath), "%s/%s", FIXTURES, model->valuestring);
    smg_error_clear(&err);
    if (smg_ndarray_load(mpath, &f, &err) != SMG_OK)
        fail_msg("%s", err.msg);
    assert_false(f->named);
    assert_int_equal(f->count, 1);
    c = &f->arrays[0];
    assert_int_equal(c->ndim, 2);
    assert_int_equal(c->dtype, SMG_DTYPE_FLOAT32);
    assert_int_equal(
        smg_kmeans_assigner_new(c->data, (size_t)c->shape[0], (size_t)c->shape[1], &a, &err),
        SMG_OK);
    cJSON_ArrayForEach(cs, get(doc, "cases")) kmeans_case(a, cs, id);
    (*done)++;
    smg_kmeans_assigner_free(a);
    smg_ndarray_file_free(f);
    cJSON_Delete(doc);
}

static void test_kmeans_census(void **state)
{
    DIR *d;
    struct dirent *e;
    unsigned done = 0;
    char path[1024];
    (void)state;

    if (!have_fixtures())
        skip();
    d = opendir(FIXTURES "/testcases");
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "kmeans_census_", 14) != 0 ||
            strcmp(e->d_name + strlen(e->d_name) - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof(path), "%s/testcases/%s", FIXTURES, e->d_name);
        kmeans_testcase(path, &done);
    }
    closedir(d);
    printf("  replayed %u k-means testcases with real model files\n", done);
    /* jasonma, zomma2, drdraad, badawy, ugurklc, ahmedgaal, jesamkim. */
    assert_true(done >= 7);
}

/* ---- PCA --------------------------------------------------------------- */

struct pca_model {
    struct smg_ndarray_file *f;
    const float *v, *mean;
    size_t d, m;
};

static void pca_load(struct pca_model *p, const char *rel)
{
    char path[1024];
    struct smg_error err;
    const struct smg_ndarray *v, *mean;

    snprintf(path, sizeof(path), "%s/%s", FIXTURES, rel);
    smg_error_clear(&err);
    if (smg_ndarray_load(path, &p->f, &err) != SMG_OK)
        fail_msg("%s", err.msg);
    v = smg_ndarray_find(p->f, "v");
    mean = smg_ndarray_find(p->f, "mean");
    assert_non_null(v);
    assert_non_null(mean);
    assert_int_equal(v->ndim, 2);
    p->d = (size_t)v->shape[0];
    p->m = (size_t)v->shape[1];
    assert_int_equal(smg_ndarray_elements(mean), p->d);
    p->v = v->data;
    p->mean = mean->data;
}

static void test_pca_renejra_row0(void **state)
{
    cJSON *doc;
    struct pca_model p;
    struct smg_error err;
    float *x, *proj;
    const cJSON *e;
    double maxerr = 0;
    size_t j = 0;
    (void)state;

    if (!have_fixtures())
        skip();
    doc = read_json(FIXTURES "/testcases/pca_renejra_test_row0.json");
    pca_load(&p, get(doc, "model_file")->valuestring);
    x = malloc(p.d * sizeof(float));
    proj = malloc(p.m * sizeof(float));
    json_floats(get(doc, "input"), x, p.d);
    smg_error_clear(&err);
    assert_int_equal(smg_pca_project(p.v, p.d, p.m, p.mean, x, 1, proj, &err), SMG_OK);
    assert_int_equal(cJSON_GetArraySize(get(get(doc, "expected"), "projection")), p.m);
    cJSON_ArrayForEach(e, get(get(doc, "expected"), "projection"))
    {
        double diff = fabs((double)proj[j++] - e->valuedouble);
        maxerr = diff > maxerr ? diff : maxerr;
    }
    printf("  renejra row 0: max abs error %.2e over %zu components\n", maxerr, p.m);
    assert_true(maxerr <= 1e-5); /* README §4 suggested tolerance */
    free(x);
    free(proj);
    smg_ndarray_file_free(p.f);
    cJSON_Delete(doc);
}

static double pca_rows(const struct pca_model *p, const char *in_rel, const char *out_rel)
{
    char path[1024];
    struct csv in, out;
    float *x, *proj;
    double maxerr = 0;
    struct smg_error err;

    snprintf(path, sizeof(path), "%s/%s", FIXTURES, in_rel);
    csv_read(path, &in);
    snprintf(path, sizeof(path), "%s/%s", FIXTURES, out_rel);
    csv_read(path, &out);
    assert_int_equal(in.cols, p->d);
    assert_int_equal(in.rows, out.rows);
    x = malloc(in.rows * p->d * sizeof(float));
    proj = malloc(in.rows * p->m * sizeof(float));
    for (size_t i = 0; i < in.rows * p->d; i++)
        x[i] = (float)in.vals[i]; /* the notebook's astype("float32") */
    smg_error_clear(&err);
    assert_int_equal(smg_pca_project(p->v, p->d, p->m, p->mean, x, in.rows, proj, &err), SMG_OK);
    for (size_t c = 1; c <= 6; c++) {
        char name[32];
        size_t col;
        snprintf(name, sizeof(name), "component_%zu", c);
        col = csv_col(&out, name);
        for (size_t i = 0; i < in.rows; i++) {
            /* component_c = projection[m - c]: the top components, reversed. */
            double diff = fabs((double)proj[i * p->m + p->m - c] - out.vals[i * out.cols + col]);
            maxerr = diff > maxerr ? diff : maxerr;
        }
    }
    printf("  %s: %zu rows, top-6 max abs error %.2e\n", in_rel, in.rows, maxerr);
    free(x);
    free(proj);
    csv_free(&in);
    csv_free(&out);
    return maxerr;
}

static void test_pca_renejra_all_rows(void **state)
{
    cJSON *doc, *inputs, *expected;
    struct pca_model p;
    (void)state;

    if (!have_fixtures())
        skip();
    doc = read_json(FIXTURES "/testcases/pca_renejra_all_rows_top6.json");
    pca_load(&p, get(doc, "model_file")->valuestring);
    inputs = get(doc, "inputs");
    expected = get(doc, "expected");
    /* "artifacts/renejra-pca/data/test_nx.csv (870 rows)": the path is the first word. */
    for (int t = 0; t < 2; t++) {
        const char *key = t == 0 ? "test" : "train";
        char in_rel[512];
        const char *s = get(inputs, key)->valuestring, *sp = strchr(s, ' ');
        size_t n = sp != NULL ? (size_t)(sp - s) : strlen(s);
        assert_true(n < sizeof(in_rel));
        memcpy(in_rel, s, n);
        in_rel[n] = '\0';
        /* 1e-5 absolute, the README §4 suggested tolerance. */
        assert_true(pca_rows(&p, in_rel, get(expected, key)->valuestring) <= 1e-5);
    }
    smg_ndarray_file_free(p.f);
    cJSON_Delete(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kmeans_census),
        cmocka_unit_test(test_pca_renejra_row0),
        cmocka_unit_test(test_pca_renejra_all_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

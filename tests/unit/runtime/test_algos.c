/*
 * The algorithm descriptors (runtime/algos/) as serve and inspect use them:
 * every descriptor is complete; each model schema is claimed by exactly its
 * own algorithm; malformed model files (wrong ndim, dtype, mismatched 's'/'v'/
 * 'mean' sizes) are SMG_EFORMAT naming the file, never a crash; predict gives
 * the documented fields (a PCA projection and k-means' closest cluster,
 * checked against values worked by hand); PCA refuses a CSV response; the
 * inspect notes; and the table's name list for usage texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "io/base/alloc.h"
#include "io/codec.h"
#include "runtime/algorithm.h"

static struct smg_ndarray_file *pca_file(int64_t d, int64_t k, bool mean, int32_t v_dtype)
{
    double s[8] = {1, 2, 3, 4, 5, 6, 7, 8}, v[64], m[8];
    const int64_t s_shape[1] = {k}, v_shape[2] = {d, k}, m_shape[2] = {1, d};
    struct smg_ndarray_file *f = smg_ndarray_file_new(mean ? 3 : 2, true);
    struct smg_error err;

    for (int i = 0; i < 64; i++)
        v[i] = (i % (k + 1) == 0) ? 1.0 : 0.0; /* identity-like columns */
    for (int i = 0; i < 8; i++)
        m[i] = 1.0;
    assert_non_null(f);
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_set_f32_from_f64(f, 0, "s", 1, s_shape, s, &err), SMG_OK);
    if (v_dtype == SMG_DTYPE_FLOAT32)
        assert_int_equal(smg_ndarray_set_f32_from_f64(f, 1, "v", 2, v_shape, v, &err), SMG_OK);
    else
        assert_int_equal(smg_ndarray_set(f, 1, "v", SMG_DTYPE_FLOAT64, 2, v_shape, v, &err),
                         SMG_OK);
    if (mean)
        assert_int_equal(smg_ndarray_set_f32_from_f64(f, 2, "mean", 2, m_shape, m, &err), SMG_OK);
    return f;
}

static struct smg_ndarray_file *kmeans_file(uint32_t ndim, int32_t dtype)
{
    static const float c[4] = {0, 0, 10, 10}; /* two centers in 2-D */
    const int64_t shape[2] = {2, 2}, flat[1] = {4};
    struct smg_ndarray_file *f = smg_ndarray_file_new(1, false);
    struct smg_error err;

    assert_non_null(f);
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_set(f, 0, NULL, dtype, ndim, ndim == 2 ? shape : flat, c, &err),
                     SMG_OK);
    return f;
}

/* The one algorithm that claims f, or NULL. */
static const struct smg_algorithm *claimant(const struct smg_ndarray_file *f)
{
    const struct smg_algorithm *found = NULL;
    for (size_t i = 0; smg_algorithms[i] != NULL; i++)
        if (smg_algorithms[i]->model_claims(f)) {
            assert_null(found); /* schemas are disjoint */
            found = smg_algorithms[i];
        }
    return found;
}

static void test_descriptors_complete(void **state)
{
    (void)state;
    for (size_t i = 0; smg_algorithms[i] != NULL; i++) {
        const struct smg_algorithm *a = smg_algorithms[i];
        assert_non_null(a->name);
        assert_non_null(a->title);
        assert_non_null(a->metrics_name);
        assert_non_null(a->identifying_hp);
        assert_non_null(smg_hp_spec_find(a->hparams, a->n_hparams, a->identifying_hp));
        assert_non_null(a->train);
        assert_non_null(a->model_schema);
        assert_non_null(a->model_claims);
        assert_non_null(a->serve_open);
        assert_non_null(a->serve_close);
        assert_non_null(a->predict);
        assert_non_null(a->inspect_note);
        assert_ptr_equal(smg_algorithm_find(a->name), a);
    }
    assert_null(smg_algorithm_find("PCA"));
}

static void test_names(void **state)
{
    char buf[64], tiny[6];
    (void)state;
    smg_algorithm_names("|", buf, sizeof(buf));
    assert_string_equal(buf, "pca|kmeans");
    smg_algorithm_names(", ", tiny, sizeof(tiny)); /* cut short, still terminated */
    assert_string_equal(tiny, "pca");
}

static int name_item(char *dst, size_t room, const struct smg_algorithm *a)
{
    return snprintf(dst, room, "<%s>", a->name);
}

/* The "neither ... nor ..." list the train and serve messages share. */
static void test_alternatives(void **state)
{
    char buf[64];

    (void)state;
    smg_algorithm_alternatives(buf, sizeof(buf), false, name_item);
    assert_string_equal(buf, "neither <pca> nor <kmeans>");
    smg_algorithm_alternatives(buf, sizeof(buf), true, name_item);
    assert_string_equal(buf, "neither <kmeans> nor <pca>");
    smg_algorithm_alternatives(buf, 20, false, name_item); /* whole items only */
    assert_string_equal(buf, "neither <pca>");
    smg_algorithm_alternatives(buf, 1, false, name_item);
    assert_string_equal(buf, "");
}

static void test_claims(void **state)
{
    struct smg_ndarray_file *p = pca_file(3, 2, true, SMG_DTYPE_FLOAT32);
    struct smg_ndarray_file *k = kmeans_file(2, SMG_DTYPE_FLOAT32);
    struct smg_ndarray_file *two = smg_ndarray_file_new(2, false);
    (void)state;
    assert_ptr_equal(claimant(p), &smg_algorithm_pca);
    assert_ptr_equal(claimant(k), &smg_algorithm_kmeans);
    assert_null(claimant(two));
    smg_ndarray_file_free(p);
    smg_ndarray_file_free(k);
    smg_ndarray_file_free(two);
}

static void expect_open_error(const struct smg_algorithm *a, struct smg_ndarray_file *f,
                              const char *frag)
{
    struct smg_served m;
    struct smg_error err;

    memset(&m, 0, sizeof(m));
    smg_error_clear(&err);
    assert_true(a->model_claims(f));
    assert_int_equal(a->serve_open(f, "model_algo-1", &m, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "model_algo-1"));
    if (strstr(err.msg, frag) == NULL)
        print_error("message \"%s\" lacks \"%s\"\n", err.msg, frag);
    assert_non_null(strstr(err.msg, frag));
    assert_null(m.state);
    smg_ndarray_file_free(f);
}

static void test_malformed_models(void **state)
{
    struct smg_ndarray_file *f;
    const int64_t one[1] = {3};
    struct smg_error err;
    (void)state;

    smg_error_clear(&err);
    expect_open_error(&smg_algorithm_pca, pca_file(3, 2, false, SMG_DTYPE_FLOAT64),
                      "array 'v' has dtype 1");
    f = pca_file(3, 2, false, SMG_DTYPE_FLOAT32);
    assert_int_equal(smg_ndarray_set_f32_from_f64(f, 1, "v", 1, one, (double[]){1, 2, 3}, &err),
                     SMG_OK);
    expect_open_error(&smg_algorithm_pca, f, "must be 2-D");
    f = pca_file(3, 2, false, SMG_DTYPE_FLOAT32);
    assert_int_equal(smg_ndarray_set_f32_from_f64(f, 0, "s", 1, one, (double[]){1, 2, 3}, &err),
                     SMG_OK);
    expect_open_error(&smg_algorithm_pca, f, "'s' has 3 values but 'v' has 2 components");
    f = pca_file(3, 2, true, SMG_DTYPE_FLOAT32);
    assert_int_equal(
        smg_ndarray_set_f32_from_f64(f, 2, "mean", 1, (const int64_t[]){2}, (double[]){1, 2}, &err),
        SMG_OK);
    expect_open_error(&smg_algorithm_pca, f, "'mean' has 2 values but 'v' has 3 features");
    expect_open_error(&smg_algorithm_kmeans, kmeans_file(1, SMG_DTYPE_FLOAT32), "has 1 dims");
    expect_open_error(&smg_algorithm_kmeans, kmeans_file(2, SMG_DTYPE_INT32), "dtype 4");
}

static struct smg_batch dense_batch(const float *x, size_t n, size_t d)
{
    struct smg_batch b;

    memset(&b, 0, sizeof(b));
    b.x = x;
    b.rows = n;
    b.cols = d;
    return b;
}

static void test_predict(void **state)
{
    struct smg_ndarray_file *p = pca_file(3, 2, true, SMG_DTYPE_FLOAT32);
    struct smg_ndarray_file *k = kmeans_file(2, SMG_DTYPE_FLOAT32);
    const float xp[3] = {3, 5, 7}, xk[4] = {1, 1, 9, 8};
    struct smg_served mp, mk;
    struct smg_batch bp = dense_batch(xp, 1, 3), bk = dense_batch(xk, 2, 2);
    struct smg_buf out;
    struct smg_error err;
    (void)state;

    smg_error_clear(&err);
    smg_buf_init(&out, SIZE_MAX);
    assert_int_equal(smg_algorithm_pca.serve_open(p, "m", &mp, &err), SMG_OK);
    assert_int_equal(mp.feature_dim, 3);
    assert_non_null(strstr(mp.describe, "3 features, 2 components, with mean"));
    /* v's columns are e0 and e1 (see pca_file), mean 1: projection (2, 4) */
    assert_int_equal(smg_algorithm_pca.predict(&mp, &bp, &smg_codec_json, &out, &err), SMG_OK);
    assert_non_null(strstr(out.data, "\"projections\""));
    assert_non_null(strstr(out.data, "\"projection\": [2"));
    assert_int_equal(smg_algorithm_pca.serve_check_accept(&smg_codec_csv, &err), SMG_ECONFIG);
    assert_int_equal(smg_algorithm_pca.serve_check_accept(&smg_codec_json, &err), SMG_OK);
    smg_buf_free(&out);

    assert_int_equal(smg_algorithm_kmeans.serve_open(k, "m", &mk, &err), SMG_OK);
    assert_int_equal(mk.feature_dim, 2);
    assert_null(smg_algorithm_kmeans.serve_check_accept);
    assert_int_equal(smg_algorithm_kmeans.predict(&mk, &bk, &smg_codec_csv, &out, &err), SMG_OK);
    /* row 0 is nearest center 0 at sqrt(2), row 1 center 1 at sqrt(5) */
    assert_non_null(strstr(out.data, "0.0,1.41421"));
    assert_non_null(strstr(out.data, "1.0,2.23606"));
    smg_buf_free(&out);

    smg_algorithm_pca.serve_close(&mp);
    smg_algorithm_kmeans.serve_close(&mk);
    smg_ndarray_file_free(p);
    smg_ndarray_file_free(k);
}

/*
 * The same rows as CSR batches (x == NULL) score as the dense ones: the
 * sparse paths of predict (kmeans_assign_csr, pca_project_csr). Row 1 of the
 * k-means batch stores an explicit zero, row 0 of the PCA batch skips one.
 */
static void test_predict_csr(void **state)
{
    struct smg_ndarray_file *p = pca_file(3, 2, true, SMG_DTYPE_FLOAT32);
    struct smg_ndarray_file *k = kmeans_file(2, SMG_DTYPE_FLOAT32);
    const uint64_t pptr[2] = {0, 2}, kptr[3] = {0, 2, 4};
    const uint32_t pidx[2] = {0, 2}, kidx[4] = {0, 1, 0, 1};
    const float pval[2] = {3, 7}, kval[4] = {1, 1, 9, 8};
    struct smg_batch bp = {NULL, 1, 3, 0, pptr, pidx, pval};
    struct smg_batch bk = {NULL, 2, 2, 0, kptr, kidx, kval};
    struct smg_served mp, mk;
    struct smg_buf out;
    struct smg_error err;
    (void)state;

    smg_error_clear(&err);
    smg_buf_init(&out, SIZE_MAX);
    assert_int_equal(smg_algorithm_pca.serve_open(p, "m", &mp, &err), SMG_OK);
    /* x = (3, 0, 7), mean 1, v = e0, e1: projection (2, -1) */
    assert_int_equal(smg_algorithm_pca.predict(&mp, &bp, &smg_codec_json, &out, &err), SMG_OK);
    assert_non_null(strstr(out.data, "\"projection\": [2.0, -1.0]"));
    smg_buf_free(&out);
    assert_int_equal(smg_algorithm_kmeans.serve_open(k, "m", &mk, &err), SMG_OK);
    assert_int_equal(smg_algorithm_kmeans.predict(&mk, &bk, &smg_codec_csv, &out, &err), SMG_OK);
    assert_non_null(strstr(out.data, "0.0,1.41421"));
    assert_non_null(strstr(out.data, "1.0,2.23606"));
    smg_buf_free(&out);
    smg_algorithm_pca.serve_close(&mp);
    smg_algorithm_kmeans.serve_close(&mk);
    smg_ndarray_file_free(p);
    smg_ndarray_file_free(k);
}

static void test_inspect_notes(void **state)
{
    struct smg_ndarray_file *p = pca_file(3, 2, false, SMG_DTYPE_FLOAT32);
    struct smg_ndarray_file *k = kmeans_file(2, SMG_DTYPE_FLOAT32);
    struct smg_ndarray_file *bad = kmeans_file(2, SMG_DTYPE_INT32);
    struct smg_buf b;
    (void)state;

    smg_buf_init(&b, 1 << 16);
    assert_int_equal(smg_algorithm_pca.inspect_note(p, &b), SMG_OK);
    assert_non_null(strstr(b.data, "\"model\": \"pca\""));
    assert_non_null(strstr(b.data, "projection = x · v")); /* no mean */
    assert_non_null(strstr(b.data, "s ascending"));        /* s = 1, 2 */
    smg_buf_reset(&b);
    assert_int_equal(smg_algorithm_kmeans.inspect_note(p, &b), SMG_OK);
    assert_int_equal(b.len, 0); /* not its model */
    assert_int_equal(smg_algorithm_kmeans.inspect_note(k, &b), SMG_OK);
    assert_non_null(strstr(b.data, "\"model\": \"kmeans\", \"k\": 2, \"feature_dim\": 2"));
    smg_buf_reset(&b);
    assert_int_equal(smg_algorithm_kmeans.inspect_note(bad, &b), SMG_OK);
    assert_int_equal(b.len, 0); /* int32 centroids: no note */
    smg_buf_free(&b);
    smg_ndarray_file_free(p);
    smg_ndarray_file_free(k);
    smg_ndarray_file_free(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptors_complete), cmocka_unit_test(test_names),
        cmocka_unit_test(test_alternatives),         cmocka_unit_test(test_claims),
        cmocka_unit_test(test_malformed_models),     cmocka_unit_test(test_predict),
        cmocka_unit_test(test_predict_csr),          cmocka_unit_test(test_inspect_notes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * smg_ndarray_set_f32_from_f64, the setter model writers use: doubles become
 * float32 rounded to nearest, the array gets V2 magic, cpu(0) and its name,
 * the encoding is byte for byte what a hand-filled array gave before (the
 * layout SageMaker's PCA writes), bad shapes are SMG_EINTERNAL, and every
 * allocation failure is a clean SMG_ENOMEM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "io/base/alloc.h"
#include "io/ndarray.h"

static void test_converts_and_names(void **state)
{
    static const double src[6] = {1.0, -2.5, 1.0 / 3.0, 1e-50, 3.4e38, 0.0};
    const int64_t shape[2] = {2, 3};
    struct smg_ndarray_file *f = smg_ndarray_file_new(1, true);
    struct smg_error err;
    const float *v;
    (void)state;

    assert_non_null(f);
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_set_f32_from_f64(f, 0, "v", 2, shape, src, &err), SMG_OK);
    assert_string_equal(f->arrays[0].name, "v");
    assert_int_equal(f->arrays[0].dtype, SMG_DTYPE_FLOAT32);
    assert_int_equal(f->arrays[0].magic, SMG_NDARRAY_V2_MAGIC);
    assert_int_equal(f->arrays[0].dev_type, 1);
    assert_int_equal(f->arrays[0].dev_id, 0);
    assert_int_equal(f->arrays[0].ndim, 2);
    assert_int_equal(f->arrays[0].shape[0], 2);
    assert_int_equal(f->arrays[0].shape[1], 3);
    assert_int_equal(f->arrays[0].nbytes, 6 * sizeof(float));
    v = f->arrays[0].data;
    for (size_t i = 0; i < 6; i++) /* the cast is the rounding: == is exact */
        assert_true(v[i] == (float)src[i]);
    smg_ndarray_file_free(f);
}

/* The same bytes as an array filled by hand the way the trainers used to. */
static void test_encoding_matches_hand_filled(void **state)
{
    static const double s[2] = {0.5, 7.25};
    const int64_t shape[1] = {2};
    struct smg_ndarray_file *a = smg_ndarray_file_new(1, true);
    struct smg_ndarray_file *b = smg_ndarray_file_new(1, true);
    struct smg_error err;
    void *ea = NULL, *eb = NULL;
    size_t la, lb;
    float *data = smg_malloc(2 * sizeof(float));
    (void)state;

    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(data);
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_set_f32_from_f64(a, 0, "s", 1, shape, s, &err), SMG_OK);
    data[0] = 0.5f;
    data[1] = 7.25f;
    b->arrays[0].name = smg_strdup("s");
    b->arrays[0].ndim = 1;
    b->arrays[0].shape[0] = 2;
    b->arrays[0].data = data;
    b->arrays[0].nbytes = 2 * sizeof(float);
    assert_int_equal(smg_ndarray_encode(a, &ea, &la, &err), SMG_OK);
    assert_int_equal(smg_ndarray_encode(b, &eb, &lb, &err), SMG_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(ea, eb, la);
    smg_free(ea);
    smg_free(eb);
    smg_ndarray_file_free(a);
    smg_ndarray_file_free(b);
}

static void test_bad_arguments(void **state)
{
    static const double one = 1.0;
    const int64_t neg[1] = {-1}, two[1] = {2};
    struct smg_ndarray_file *f = smg_ndarray_file_new(1, false);
    struct smg_error err;
    (void)state;

    assert_non_null(f);
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_set_f32_from_f64(f, 0, NULL, 1, neg, &one, &err), SMG_EINTERNAL);
    assert_int_equal(smg_ndarray_set_f32_from_f64(f, 0, NULL, 1, two, NULL, &err), SMG_EINTERNAL);
    assert_int_equal(smg_ndarray_set_f32_from_f64(f, 0, NULL, 1, NULL, &one, &err), SMG_EINTERNAL);
    assert_int_equal(
        smg_ndarray_set_f32_from_f64(f, 0, NULL, SMG_NDARRAY_MAX_DIMS + 1, two, &one, &err),
        SMG_EINTERNAL);
    assert_int_equal(smg_ndarray_set_f32_from_f64(f, 1, NULL, 1, two, (const double[]){1, 2}, &err),
                     SMG_EINTERNAL);
    assert_null(f->arrays[0].data); /* nothing was replaced */
    smg_ndarray_file_free(f);
}

static void test_out_of_memory(void **state)
{
    static const double src[4] = {1, 2, 3, 4};
    const int64_t shape[1] = {4};
    int failures = 0;
    (void)state;

    for (long n = 0; n < 20; n++) {
        struct smg_ndarray_file *f = smg_ndarray_file_new(1, true);
        struct smg_error err;
        int rc;
        assert_non_null(f);
        smg_error_clear(&err);
        smg_alloc_fail_after(n);
        rc = smg_ndarray_set_f32_from_f64(f, 0, "x", 1, shape, src, &err);
        smg_alloc_reset();
        smg_ndarray_file_free(f);
        if (rc == SMG_OK)
            break;
        assert_int_equal(rc, SMG_ENOMEM);
        failures++;
    }
    assert_true(failures >= 2); /* the conversion buffer, then the copy */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_converts_and_names),
        cmocka_unit_test(test_encoding_matches_hand_filled),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

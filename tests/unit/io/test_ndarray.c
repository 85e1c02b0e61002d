/*
 * Tests for io/ndarray: the MXNet NDArray model file codec and its file I/O.
 *
 * - Every real SageMaker NDArray file under SMALGO_SHARED_DIR/fixtures/
 *   sagemaker/artifacts (model_algo-1, state_*, ...: each file with a
 *   <file>.json sidecar) decodes to exactly the sidecar's names, shapes,
 *   dtypes, contexts and values (NaN where the sidecar lists it), and
 *   re-encodes to the original bytes. Skipped (with a message) when the
 *   fixtures are absent.
 * - Every truncated prefix of small files, and of a sample of prefixes of the
 *   large ones, is a clean SMG_EFORMAT naming a byte offset.
 * - Hand-corrupted headers (magics, ndim, dims, overflowing dims, name
 *   lengths, counts, sparse storage, trailing bytes) are clean errors.
 * - Synthetic files in every encodable flavour (V2, V1, legacy, none arrays,
 *   several dtypes, dicts) round-trip byte for byte.
 * - Allocation failure at every point is SMG_ENOMEM (leaks are caught by the
 *   ASan build's LeakSanitizer).
 * - Saving is atomic: the destination is replaced whole, and a failed save
 *   leaves an existing file untouched and no temporary file behind.
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
#include <sys/stat.h>
#include <unistd.h>

#include "files_helpers.h"
#include "io/base/alloc.h"
#include "io/ndarray.h"

#define ARTIFACTS SMALGO_SHARED_DIR "/fixtures/sagemaker/artifacts"

/* ---- helpers ----------------------------------------------------------- */

static unsigned char *read_file(const char *path, size_t *len)
{
    return (unsigned char *)files_read(path, len);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Decode must fail cleanly: the status, no output, a message. */
static void expect_format_error(const void *buf, size_t len, const char *what)
{
    struct smg_ndarray_file *f = (struct smg_ndarray_file *)1;
    struct smg_error err;
    int rc;

    smg_error_clear(&err);
    rc = smg_ndarray_decode(buf, len, &f, &err);
    if (rc != SMG_EFORMAT)
        fail_msg("%s: expected SMG_EFORMAT, got %d (%s)", what, rc, err.msg);
    assert_null(f);
    assert_true(strlen(err.msg) > 10);
}

/* Little-endian writers for hand-made files. */
struct builder {
    unsigned char buf[4096];
    size_t len;
};

static void b_le(struct builder *b, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        b->buf[b->len++] = (unsigned char)(v >> (8 * i));
}

static void b_bytes(struct builder *b, const void *p, size_t n)
{
    memcpy(b->buf + b->len, p, n);
    b->len += n;
}

/* A valid one-array file: V2 float32 (2,3), as a list; offsets noted. */
static void b_small(struct builder *b)
{
    static const float vals[6] = {1, 2, 3, 4, 5, 6};
    b->len = 0;
    b_le(b, 0x112, 8);
    b_le(b, 0, 8);
    b_le(b, 1, 8);
    b_le(b, SMG_NDARRAY_V2_MAGIC, 4); /* byte 24 */
    b_le(b, 0, 4);                    /* 28: stype */
    b_le(b, 2, 4);                    /* 32: ndim */
    b_le(b, 2, 8);                    /* 36: dim 0 */
    b_le(b, 3, 8);                    /* 44: dim 1 */
    b_le(b, 1, 4);                    /* 52: dev_type */
    b_le(b, 0, 4);                    /* 56: dev_id */
    b_le(b, 0, 4);                    /* 60: dtype */
    b_bytes(b, vals, sizeof(vals));   /* 64..88 */
    b_le(b, 1, 8);                    /* 88: num_names */
    b_le(b, 4, 8);                    /* 96: name length */
    b_bytes(b, "name", 4);            /* 104..108 */
}

/* ---- fixtures ---------------------------------------------------------- */

static void flatten(const cJSON *v, double *out, size_t *n, size_t cap)
{
    if (cJSON_IsArray(v)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, v) flatten(e, out, n, cap);
        return;
    }
    assert_true(*n < cap);
    out[(*n)++] = cJSON_IsNull(v) ? NAN : v->valuedouble;
}

static void check_array(const struct smg_ndarray *a, const cJSON *ja, const char *path)
{
    const cJSON *name = cJSON_GetObjectItem(ja, "name");
    const cJSON *shape = cJSON_GetObjectItem(ja, "shape");
    const cJSON *ctx = cJSON_GetObjectItem(ja, "context");
    const cJSON *nonfinite = cJSON_GetObjectItem(ja, "non_finite_flat_indices");
    const cJSON *e;
    size_t n = smg_ndarray_elements(a), got = 0, i = 0;
    double *expect;
    const float *data = a->data;

    if (cJSON_IsString(name))
        assert_string_equal(a->name, name->valuestring);
    else
        assert_null(a->name);
    assert_int_equal(a->ndim, cJSON_GetArraySize(shape));
    cJSON_ArrayForEach(e, shape) assert_int_equal(a->shape[i++], (int64_t)e->valuedouble);
    assert_int_equal(a->dtype, cJSON_GetObjectItem(ja, "dtype_flag")->valueint);
    assert_int_equal(a->dtype, SMG_DTYPE_FLOAT32); /* every SageMaker file is float32 */
    assert_int_equal(a->dev_type, cJSON_GetObjectItem(ctx, "dev_type")->valueint);
    assert_int_equal(a->dev_id, cJSON_GetObjectItem(ctx, "dev_id")->valueint);
    assert_int_equal(a->nbytes, n * 4);

    expect = malloc((n + 1) * sizeof(*expect));
    assert_non_null(expect);
    flatten(cJSON_GetObjectItem(ja, "values"), expect, &got, n);
    assert_int_equal(got, n);
    for (i = 0; i < n; i++) {
        /* The sidecar holds each float32 exactly as a double: compare exactly. */
        if (isnan(expect[i])) {
            if (!isnan(data[i]))
                fail_msg("%s %s[%zu]: expected NaN, got %g", path, a->name ? a->name : "", i,
                         (double)data[i]);
        } else if ((double)data[i] != expect[i]) {
            fail_msg("%s %s[%zu]: %.9g != %.9g", path, a->name ? a->name : "", i, (double)data[i],
                     expect[i]);
        }
    }
    cJSON_ArrayForEach(e, nonfinite) assert_true(isnan(data[(size_t)e->valuedouble]));
    got = 0;
    for (i = 0; i < n; i++)
        got += !isfinite(data[i]);
    assert_int_equal(got, cJSON_GetArraySize(nonfinite));
    free(expect);
}

/* Every prefix (or a sample for big files) must be a clean error. */
static void check_truncations(const unsigned char *buf, size_t len)
{
    size_t step = len <= 8192 ? 1 : len / 997;

    for (size_t cut = 0; cut < len; cut += (cut < 512 || len - cut < 512) ? 1 : step)
        expect_format_error(buf, cut, "truncated fixture");
}

static void check_fixture(const char *path, unsigned *count)
{
    char sidecar[4200];
    unsigned char *buf, *side;
    size_t len, slen, elen = 0;
    struct smg_ndarray_file *f = NULL;
    struct smg_error err;
    cJSON *doc, *arrays, *ja, *names;
    void *enc = NULL;
    size_t i = 0;

    assert_true((size_t)snprintf(sidecar, sizeof(sidecar), "%s.json", path) < sizeof(sidecar));
    buf = read_file(path, &len);
    side = read_file(sidecar, &slen);
    assert_non_null(buf);
    assert_non_null(side);
    doc = cJSON_Parse((const char *)side);
    assert_non_null(doc);
    assert_int_equal(len, (size_t)cJSON_GetObjectItem(doc, "size_bytes")->valuedouble);

    smg_error_clear(&err);
    if (smg_ndarray_load(path, &f, &err) != SMG_OK)
        fail_msg("%s: %s", path, err.msg);
    arrays = cJSON_GetObjectItem(doc, "arrays");
    names = cJSON_GetObjectItem(doc, "names");
    assert_int_equal(f->count, cJSON_GetArraySize(arrays));
    assert_int_equal(f->count, (size_t)cJSON_GetObjectItem(doc, "num_arrays")->valuedouble);
    assert_int_equal(f->named, cJSON_GetArraySize(names) > 0);
    cJSON_ArrayForEach(ja, arrays) check_array(&f->arrays[i++], ja, path);

    /* Byte-for-byte re-encoding. */
    assert_int_equal(smg_ndarray_encode(f, &enc, &elen, &err), SMG_OK);
    assert_int_equal(elen, len);
    assert_memory_equal(enc, buf, len);
    check_truncations(buf, len);
    (*count)++;

    smg_free(enc);
    smg_ndarray_file_free(f);
    cJSON_Delete(doc);
    free(side);
    free(buf);
}

static void walk(const char *dir, unsigned *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096], sidecar[4200];

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (files_is_dir(path)) {
            walk(path, count);
            continue;
        }
        if (ends_with(e->d_name, ".json") || ends_with(e->d_name, ".gz") ||
            ends_with(e->d_name, ".csv"))
            continue;
        snprintf(sidecar, sizeof(sidecar), "%s.json", path);
        if (access(sidecar, R_OK) == 0)
            check_fixture(path, count);
    }
    closedir(d);
}

static void test_fixtures(void **state)
{
    unsigned count = 0;
    (void)state;
    if (!files_is_dir(ARTIFACTS)) {
        printf("SKIP: %s is absent; SageMaker fixture checks skipped\n", ARTIFACTS);
        skip();
    }
    walk(ARTIFACTS, &count);
    printf("decoded and re-encoded %u real SageMaker NDArray files\n", count);
    /* 20 artifact folders hold 40 NDArray files with sidecars. */
    assert_true(count >= 30);
}

/* ---- synthetic files --------------------------------------------------- */

static void test_small_decode(void **state)
{
    struct builder b;
    struct smg_ndarray_file *f = NULL;
    struct smg_error err;
    void *enc = NULL;
    size_t elen;
    (void)state;

    b_small(&b);
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_decode(b.buf, b.len, &f, &err), SMG_OK);
    assert_int_equal(f->count, 1);
    assert_true(f->named);
    assert_string_equal(f->arrays[0].name, "name");
    assert_int_equal(f->arrays[0].ndim, 2);
    assert_int_equal(f->arrays[0].shape[0], 2);
    assert_int_equal(f->arrays[0].shape[1], 3);
    assert_int_equal(smg_ndarray_elements(&f->arrays[0]), 6);
    assert_true(((float *)f->arrays[0].data)[5] == 6.0f);
    assert_ptr_equal(smg_ndarray_find(f, "name"), &f->arrays[0]);
    assert_null(smg_ndarray_find(f, "nope"));
    assert_int_equal(smg_ndarray_encode(f, &enc, &elen, &err), SMG_OK);
    assert_int_equal(elen, b.len);
    assert_memory_equal(enc, b.buf, b.len);
    smg_free(enc);
    smg_ndarray_file_free(f);
    smg_ndarray_file_free(NULL);
    for (size_t cut = 0; cut < b.len; cut++)
        expect_format_error(b.buf, cut, "truncated small file");
}

static void corrupt_u32(size_t at, uint32_t v, const char *what)
{
    struct builder b;
    b_small(&b);
    for (unsigned i = 0; i < 4; i++)
        b.buf[at + i] = (unsigned char)(v >> (8 * i));
    expect_format_error(b.buf, b.len, what);
}

static void corrupt_u64(size_t at, uint64_t v, const char *what)
{
    struct builder b;
    b_small(&b);
    for (unsigned i = 0; i < 8; i++)
        b.buf[at + i] = (unsigned char)(v >> (8 * i));
    expect_format_error(b.buf, b.len, what);
}

static void test_corrupt_headers(void **state)
{
    struct builder b;
    (void)state;

    corrupt_u64(0, 0x113, "bad file magic");
    corrupt_u64(0, 0x04034b50, "zip magic");
    corrupt_u64(16, 2, "array count too high");
    corrupt_u64(16, UINT64_MAX, "huge array count");
    corrupt_u32(24, 0xDEADBEEF, "bad array magic");
    corrupt_u32(24, SMG_NDARRAY_V3_MAGIC, "V3 magic");
    corrupt_u32(24, 9, "legacy ndim above the maximum");
    corrupt_u32(28, 1, "row_sparse storage");
    corrupt_u32(28, 2, "csr storage");
    corrupt_u32(28, 0xFFFFFFFF, "undefined storage");
    corrupt_u32(32, 9, "ndim 9");
    corrupt_u32(32, 0xFFFFFFFF, "huge ndim");
    corrupt_u64(36, (uint64_t)1 << 40, "huge dim");
    corrupt_u64(36, UINT64_MAX, "negative dim");
    corrupt_u64(36, (uint64_t)1 << 62, "dims whose byte count overflows");
    corrupt_u64(44, (uint64_t)1 << 62, "dims whose byte count overflows (2)");
    corrupt_u64(36, ((uint64_t)1 << 32) + 1, "dims overflowing a 32-bit product");
    corrupt_u32(60, 99, "unknown dtype");
    corrupt_u32(60, 1, "float64 needing more data than there is");
    corrupt_u64(88, 2, "name count not 0 or count");
    corrupt_u64(88, UINT64_MAX, "huge name count");
    corrupt_u64(96, UINT64_MAX, "huge name length");
    corrupt_u64(96, (uint64_t)SMG_NDARRAY_MAX_NAME + 1, "name length over the maximum");
    corrupt_u64(96, 5, "name length past the end");
    corrupt_u32(104, 0x00656d61, "name holding a NUL byte"); /* "am\0e" after 'n' */

    /* Trailing bytes after the names. */
    b_small(&b);
    b_le(&b, 0, 4);
    expect_format_error(b.buf, b.len, "trailing bytes");
    /* Two dims overflowing size_t in their product, each fitting in the file. */
    b.len = 0;
    b_le(&b, 0x112, 8);
    b_le(&b, 0, 8);
    b_le(&b, 1, 8);
    b_le(&b, SMG_NDARRAY_V1_MAGIC, 4);
    b_le(&b, 4, 4);
    for (int i = 0; i < 4; i++)
        b_le(&b, (uint64_t)1 << 20, 8);
    b_le(&b, 1, 4);
    b_le(&b, 0, 4);
    b_le(&b, 0, 4);
    expect_format_error(b.buf, b.len, "four 2^20 dims");
    expect_format_error(NULL, 0, "empty buffer");
}

/* V2, V1, legacy, a none array and assorted dtypes, in a dict. */
static struct smg_ndarray_file *make_mixed(void)
{
    static const double d64[3] = {1.5, -2.25, 1e300};
    static const int32_t i32[4] = {1, -2, 3, -4};
    static const uint8_t u8[5] = {0, 1, 2, 254, 255};
    static const float f32[6] = {0.5f, -0.25f, 3e38f, 1e-38f, 0, -1};
    const int64_t s3[1] = {3}, s22[2] = {2, 2}, s5[1] = {5}, s123[3] = {1, 2, 3};
    struct smg_ndarray_file *f = smg_ndarray_file_new(5, true);
    struct smg_error err;

    assert_non_null(f);
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_set(f, 0, "f64", SMG_DTYPE_FLOAT64, 1, s3, d64, &err), SMG_OK);
    assert_int_equal(smg_ndarray_set(f, 1, "i32", SMG_DTYPE_INT32, 2, s22, i32, &err), SMG_OK);
    assert_int_equal(smg_ndarray_set(f, 2, "u8", SMG_DTYPE_UINT8, 1, s5, u8, &err), SMG_OK);
    assert_int_equal(smg_ndarray_set(f, 3, "", SMG_DTYPE_FLOAT32, 3, s123, f32, &err), SMG_OK);
    assert_int_equal(smg_ndarray_set(f, 4, "none", SMG_DTYPE_FLOAT32, 0, NULL, NULL, &err), SMG_OK);
    f->arrays[1].magic = SMG_NDARRAY_V1_MAGIC;
    f->arrays[2].magic = 1; /* legacy: magic = ndim, u32 dims */
    f->arrays[2].dev_type = 3;
    f->arrays[2].dev_id = 7;
    f->reserved = 5;
    return f;
}

static void test_roundtrip_mixed(void **state)
{
    struct smg_ndarray_file *f = make_mixed(), *g = NULL;
    struct smg_error err;
    void *enc = NULL, *enc2 = NULL;
    size_t len, len2;
    (void)state;

    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_encode(f, &enc, &len, &err), SMG_OK);
    assert_int_equal(smg_ndarray_decode(enc, len, &g, &err), SMG_OK);
    assert_int_equal(g->count, 5);
    assert_true(g->named);
    assert_int_equal(g->reserved, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(g->arrays[i].name, f->arrays[i].name);
        assert_int_equal(g->arrays[i].magic, f->arrays[i].magic);
        assert_int_equal(g->arrays[i].ndim, f->arrays[i].ndim);
        assert_int_equal(g->arrays[i].nbytes, f->arrays[i].nbytes);
        if (f->arrays[i].nbytes > 0) {
            assert_int_equal(g->arrays[i].dtype, f->arrays[i].dtype);
            assert_int_equal(g->arrays[i].dev_type, f->arrays[i].dev_type);
            assert_int_equal(g->arrays[i].dev_id, f->arrays[i].dev_id);
            assert_memory_equal(g->arrays[i].data, f->arrays[i].data, f->arrays[i].nbytes);
        }
    }
    assert_int_equal(smg_ndarray_encode(g, &enc2, &len2, &err), SMG_OK);
    assert_int_equal(len2, len);
    assert_memory_equal(enc2, enc, len);
    for (size_t cut = 0; cut < len; cut++)
        expect_format_error(enc, cut, "truncated mixed file");

    /* A list: no names written, none read back. */
    g->named = false;
    smg_free(enc2);
    assert_int_equal(smg_ndarray_encode(g, &enc2, &len2, &err), SMG_OK);
    smg_ndarray_file_free(g);
    assert_int_equal(smg_ndarray_decode(enc2, len2, &g, &err), SMG_OK);
    assert_false(g->named);
    assert_null(g->arrays[0].name);

    smg_free(enc);
    smg_free(enc2);
    smg_ndarray_file_free(f);
    smg_ndarray_file_free(g);
}

static void test_encode_rejects_bad_files(void **state)
{
    struct smg_ndarray_file *f = smg_ndarray_file_new(1, true);
    struct smg_error err;
    void *enc = NULL;
    size_t len;
    const int64_t shape[1] = {2};
    const float v[2] = {1, 2};
    (void)state;

    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_set(f, 0, NULL, SMG_DTYPE_FLOAT32, 1, shape, v, &err), SMG_OK);
    /* A dict entry without a name. */
    assert_int_equal(smg_ndarray_encode(f, &enc, &len, &err), SMG_EINTERNAL);
    assert_null(enc);
    f->named = false;
    /* Legacy magic that disagrees with ndim. */
    f->arrays[0].magic = 3;
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_encode(f, &enc, &len, &err), SMG_EINTERNAL);
    f->arrays[0].magic = SMG_NDARRAY_V2_MAGIC;
    /* nbytes that disagrees with the shape. */
    f->arrays[0].nbytes = 4;
    assert_int_equal(smg_ndarray_encode(f, &enc, &len, &err), SMG_EINTERNAL);
    f->arrays[0].nbytes = 8;
    assert_int_equal(smg_ndarray_encode(f, &enc, &len, &err), SMG_OK);
    smg_free(enc);
    /* Bad arguments to set. */
    assert_int_equal(smg_ndarray_set(f, 1, NULL, SMG_DTYPE_FLOAT32, 1, shape, v, &err),
                     SMG_EINTERNAL);
    assert_int_equal(smg_ndarray_set(f, 0, NULL, 42, 1, shape, v, &err), SMG_EINTERNAL);
    assert_int_equal(smg_ndarray_set(f, 0, NULL, SMG_DTYPE_FLOAT32, 1, shape, NULL, &err),
                     SMG_EINTERNAL);
    smg_ndarray_file_free(f);
}

/* ---- allocation failure ------------------------------------------------ */

static void test_alloc_failures(void **state)
{
    struct smg_ndarray_file *src = make_mixed(), *f = NULL;
    struct smg_error err;
    void *enc = NULL, *enc2 = NULL;
    size_t len, len2;
    long n;
    int rc;
    (void)state;

    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_encode(src, &enc, &len, &err), SMG_OK);
    for (n = 0;; n++) {
        smg_error_clear(&err);
        smg_alloc_fail_after(n);
        rc = smg_ndarray_decode(enc, len, &f, &err);
        smg_alloc_reset();
        if (rc == SMG_OK)
            break;
        assert_int_equal(rc, SMG_ENOMEM);
        assert_null(f);
        assert_int_equal(err.klass, SMG_ALGORITHM_ERROR);
    }
    assert_true(n > 5); /* file, arrays, 4 data buffers, 5 names */
    smg_ndarray_file_free(f);

    smg_alloc_fail_after(0);
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_encode(src, &enc2, &len2, &err), SMG_ENOMEM);
    assert_null(enc2);
    assert_null(smg_ndarray_file_new(3, false));
    smg_alloc_reset();
    smg_alloc_fail_after(1);
    assert_null(smg_ndarray_file_new(3, false));
    smg_alloc_reset();

    for (n = 0;; n++) {
        const int64_t shape[1] = {2};
        const float v[2] = {1, 2};
        f = smg_ndarray_file_new(1, true);
        assert_non_null(f);
        smg_error_clear(&err);
        smg_alloc_fail_after(n);
        rc = smg_ndarray_set(f, 0, "x", SMG_DTYPE_FLOAT32, 1, shape, v, &err);
        smg_alloc_reset();
        smg_ndarray_file_free(f);
        if (rc == SMG_OK)
            break;
        assert_int_equal(rc, SMG_ENOMEM);
    }
    smg_free(enc);
    smg_ndarray_file_free(src);
}

/* ---- atomic save ------------------------------------------------------- */

static bool has_temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp-") != NULL)
            found = true;
    closedir(d);
    return found;
}

static void test_save_atomic(void **state)
{
    char dir[] = "/tmp/smg_ndarray_XXXXXX", path[256], sub[256], bad[256];
    struct smg_ndarray_file *f = make_mixed(), *g = NULL;
    struct smg_error err;
    unsigned char *before, *after;
    size_t blen, alen;
    void *enc;
    size_t elen;
    int rc;
    (void)state;

    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/model_algo-1", dir);
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_save(path, f, &err), SMG_OK);
    assert_int_equal(smg_ndarray_load(path, &g, &err), SMG_OK);
    assert_int_equal(smg_ndarray_encode(f, &enc, &elen, &err), SMG_OK);
    before = read_file(path, &blen);
    assert_int_equal(blen, elen);
    assert_memory_equal(before, enc, elen);
    smg_free(enc);
    smg_ndarray_file_free(g);
    assert_false(has_temp_files(dir));

    /* Failures must leave the existing file alone and no temporary file. */
    f->arrays[0].nbytes = 1; /* an encoding error */
    assert_int_equal(smg_ndarray_save(path, f, &err), SMG_EINTERNAL);
    f->arrays[0].nbytes = 0;
    for (long n = 0; n < 3; n++) {
        smg_error_clear(&err);
        smg_alloc_fail_after(n);
        rc = smg_ndarray_save(path, f, &err);
        smg_alloc_reset();
        assert_int_equal(rc, SMG_ENOMEM);
    }
    /* The destination is a non-empty folder: rename fails after the write. */
    snprintf(sub, sizeof(sub), "%s/taken", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(bad, sizeof(bad), "%s/taken/x", dir);
    {
        FILE *t = fopen(bad, "w");
        assert_non_null(t);
        fclose(t);
    }
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_save(sub, f, &err), SMG_EIO);
    assert_non_null(strstr(err.msg, "rename"));
    assert_true(files_is_dir(sub));
    /* A missing folder, and a folder that is a file. */
    snprintf(bad, sizeof(bad), "%s/missing/model_algo-1", dir);
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_save(bad, f, &err), SMG_EIO);
    snprintf(bad, sizeof(bad), "%s/model_algo-1/x", dir);
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_save(bad, f, &err), SMG_EIO);
    /* A read-only folder (root ignores permissions, so only checked as a user). */
    if (geteuid() != 0) {
        assert_int_equal(chmod(dir, 0555), 0);
        smg_error_clear(&err);
        assert_int_equal(smg_ndarray_save(path, f, &err), SMG_EIO);
        assert_int_equal(chmod(dir, 0755), 0);
    }
    after = read_file(path, &alen);
    assert_int_equal(alen, blen);
    assert_memory_equal(after, before, blen);
    assert_false(has_temp_files(dir));

    /* Loading errors name the file. */
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_load(bad, &g, &err), SMG_EIO);
    assert_null(g);
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_load(sub, &g, &err), SMG_EIO);
    {
        FILE *t = fopen(path, "wb");
        assert_non_null(t);
        fwrite(before, 1, blen - 1, t);
        fclose(t);
    }
    smg_error_clear(&err);
    assert_int_equal(smg_ndarray_load(path, &g, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "byte"));

    snprintf(bad, sizeof(bad), "%s/taken/x", dir);
    unlink(bad);
    rmdir(sub);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
    free(before);
    free(after);
    smg_ndarray_file_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_decode),    cmocka_unit_test(test_corrupt_headers),
        cmocka_unit_test(test_roundtrip_mixed), cmocka_unit_test(test_encode_rejects_bad_files),
        cmocka_unit_test(test_alloc_failures),  cmocka_unit_test(test_save_atomic),
        cmocka_unit_test(test_fixtures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Sparse channels: a channel that accepts CSR and reads sparse recordIO-
 * protobuf delivers CSR batches (batch.h) that densify to exactly the dense
 * batches the same files give without accept_csr, across file boundaries and
 * with a short last batch; dense data stays dense; a bad record in a sparse
 * channel reports file, record and byte offset after the good batches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "files_helpers.h"
#include "io/channel.h"
#include "io/record_encode.h"
#include "io/recordio.h"

#define DIM 50

static char root[256];
static char data_dir[300];

static int setup(void **state)
{
    char p[400];
    (void)state;
    if (files_temp_dir(root, sizeof(root), "channel_csr") != 0)
        return -1;
    snprintf(data_dir, sizeof(data_dir), "%s/data", root);
    snprintf(p, sizeof(p), "%s/train", data_dir);
    files_mkdirs(p);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return files_remove_tree(root);
}

static void put_record(FILE *f, const struct smg_bytes *b)
{
    uint8_t hdr[SMG_RECORDIO_HEADER_BYTES], pad[4] = {0};
    smg_recordio_header(hdr, (uint32_t)b->len, 0);
    assert_int_equal(fwrite(hdr, 1, sizeof(hdr), f), sizeof(hdr));
    assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
    size_t n = smg_recordio_pad(b->len);
    assert_int_equal(fwrite(pad, 1, n, f), n);
}

/* Row r: about r % 7 entries at pseudo-random unsorted columns (row 5k: empty). */
static void write_sparse(const char *name, int first, int n, int bad_row)
{
    char p[400];
    struct smg_bytes b = {0};
    snprintf(p, sizeof(p), "%s/train/%s", data_dir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    for (int r = first; r < first + n; r++) {
        uint64_t keys[8];
        float v[8];
        size_t nnz = (size_t)(r % 5 == 0 ? 0 : r % 7 + 1);
        for (size_t e = 0; e < nnz; e++) {
            keys[e] = (uint64_t)((r * 31 + (int)e * 17) % DIM);
            v[e] = (float)(r - 3 * (int)e) * 0.25f;
        }
        /* distinct keys: (e*17) % 50 differ for e < 8 */
        if (r == bad_row)
            keys[0] = DIM; /* outside the shape */
        assert_int_equal(
            smg_record_encode_sparse(&b, SMG_TENSOR_FLOAT32, v, keys, nnz, DIM, NULL, NULL), 0);
        put_record(f, &b);
    }
    fclose(f);
    smg_bytes_free(&b);
}

static struct smg_channel_config config(bool csr, size_t batch)
{
    struct smg_channel_config c;
    memset(&c, 0, sizeof(c));
    c.name = "train";
    c.data_dir = data_dir;
    c.mode = SMG_MODE_FILE;
    c.format.rows = SMG_ROWS_RECORDIO_PROTOBUF;
    c.format.feature_dim = DIM;
    c.batch_rows = batch;
    c.ranks_on_host = 1;
    c.accept_csr = csr;
    return c;
}

/* Read epoch 0 densified into out (cap rows); counts rows and CSR batches. */
static int read_all(bool csr, size_t batch, float *out, size_t cap, size_t *rows,
                    size_t *csr_batches, struct smg_error *err)
{
    struct smg_channel_config c = config(csr, batch);
    struct smg_channel *ch;
    struct smg_batch b;
    int rc;

    *rows = *csr_batches = 0;
    assert_int_equal(smg_channel_open(&c, &ch, err), SMG_OK);
    assert_int_equal(smg_channel_begin_epoch(ch, 0, err), SMG_OK);
    while ((rc = smg_channel_next_batch(ch, &b, err)) == SMG_OK) {
        assert_true(b.rows <= batch && *rows + b.rows <= cap);
        assert_int_equal(b.first_record, *rows);
        assert_int_equal(b.cols, DIM);
        if (smg_batch_is_csr(&b)) {
            (*csr_batches)++;
            memset(out + *rows * DIM, 0, b.rows * DIM * sizeof(float));
            for (size_t i = 0; i < b.rows; i++)
                for (uint64_t p = b.indptr[i]; p < b.indptr[i + 1]; p++) {
                    assert_true(b.indices[p] < DIM);
                    assert_true(p == b.indptr[i] || b.indices[p - 1] < b.indices[p]);
                    out[(*rows + i) * DIM + b.indices[p]] = b.values[p];
                }
        } else {
            memcpy(out + *rows * DIM, b.x, b.rows * DIM * sizeof(float));
        }
        *rows += b.rows;
    }
    smg_channel_free(ch);
    return rc;
}

static void test_csr_equals_dense(void **state)
{
    enum { N = 1000 };
    float *dense = calloc((size_t)N * DIM, sizeof(float)), *csr = calloc((size_t)N * DIM, 4);
    size_t rows, nb;
    struct smg_error err;
    (void)state;
    write_sparse("a.pbr", 0, 600, -1);
    write_sparse("b.pbr", 600, N - 600, -1);
    smg_error_clear(&err);
    assert_int_equal(read_all(false, 128, dense, N, &rows, &nb, &err), SMG_EEOF);
    assert_int_equal(rows, N);
    assert_int_equal(nb, 0);
    assert_int_equal(read_all(true, 128, csr, N, &rows, &nb, &err), SMG_EEOF);
    assert_int_equal(rows, N);
    assert_int_equal(nb, (N + 127) / 128);
    assert_memory_equal(dense, csr, (size_t)N * DIM * sizeof(float));
    free(dense);
    free(csr);
}

static void test_dense_data_stays_dense(void **state)
{
    char p[400];
    struct smg_bytes b = {0};
    float v[DIM], out[10 * DIM];
    size_t rows, nb;
    (void)state;
    snprintf(p, sizeof(p), "%s/train/d.pbr", data_dir);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    for (int r = 0; r < 10; r++) {
        for (int j = 0; j < DIM; j++)
            v[j] = (float)(r + j);
        assert_int_equal(smg_record_encode_dense(&b, SMG_TENSOR_FLOAT32, v, DIM, NULL, NULL), 0);
        put_record(f, &b);
    }
    fclose(f);
    smg_bytes_free(&b);
    assert_int_equal(read_all(true, 4, out, 10, &rows, &nb, NULL), SMG_EEOF);
    assert_int_equal(rows, 10);
    assert_int_equal(nb, 0);
    assert_true(out[9 * DIM + 3] == 12.0f);
}

static void test_bad_record_located(void **state)
{
    float *out = calloc((size_t)300 * DIM, sizeof(float));
    size_t rows, nb;
    struct smg_error err;
    (void)state;
    write_sparse("a.pbr", 0, 300, 211);
    smg_error_clear(&err);
    assert_int_equal(read_all(true, 100, out, 300, &rows, &nb, &err), SMG_EFORMAT);
    assert_int_equal(rows, 200); /* the good batches first */
    assert_non_null(strstr(err.msg, "channel train: "));
    assert_non_null(strstr(err.msg, "a.pbr: record 211 at byte "));
    assert_non_null(strstr(err.msg, "sparse key 50 (entry"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_csr_equals_dense, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dense_data_stays_dense, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_record_located, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

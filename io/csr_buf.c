/*
 * Growable CSR buffer (contract: csr_buf.h). Entry arrays double when full,
 * starting at 4096 entries; the row-pointer array is sized once for the
 * batch's maximum row count and grows only if a caller appends past it.
 */
#include "io/csr_buf.h"

#include <string.h>

#include "io/base/alloc.h"

#define MIN_ENTRIES ((size_t)4096)

static int nomem(struct smg_error *err, size_t n)
{
    return smg_error_set(err, SMG_ENOMEM, "out of memory for a sparse batch of %zu entries", n);
}

enum smg_status smg_csr_buf_init(struct smg_csr_buf *b, size_t max_rows, struct smg_error *err)
{
    size_t bytes;

    memset(b, 0, sizeof(*b));
    if (!smg_add_size(max_rows, 1, &bytes) || !smg_mul_size(bytes, sizeof(uint64_t), &bytes) ||
        (b->indptr = smg_malloc(bytes)) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory for a sparse batch of %zu rows",
                             max_rows);
    b->cap_rows = max_rows;
    b->indptr[0] = 0;
    return SMG_OK;
}

void smg_csr_buf_free(struct smg_csr_buf *b)
{
    smg_free(b->indptr);
    smg_free(b->indices);
    smg_free(b->values);
    memset(b, 0, sizeof(*b));
}

void smg_csr_buf_clear(struct smg_csr_buf *b)
{
    b->rows = 0;
    b->nnz = 0;
    if (b->indptr != NULL)
        b->indptr[0] = 0;
}

static int grow_rows(struct smg_csr_buf *b, struct smg_error *err)
{
    size_t cap = b->cap_rows ? b->cap_rows * 2 : 64, bytes;
    uint64_t *p;

    if (!smg_mul_size(cap + 1, sizeof(uint64_t), &bytes) ||
        (p = smg_realloc(b->indptr, bytes)) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory for a sparse batch of %zu rows", cap);
    if (b->indptr == NULL)
        p[0] = 0;
    b->indptr = p;
    b->cap_rows = cap;
    return SMG_OK;
}

enum smg_status smg_csr_buf_reserve(struct smg_csr_buf *b, size_t extra, struct smg_error *err)
{
    size_t need, cap, ibytes, vbytes;
    uint32_t *ni;
    float *nv;

    if (b->rows >= b->cap_rows && grow_rows(b, err) != SMG_OK)
        return SMG_ENOMEM;
    if (!smg_add_size(b->nnz, extra, &need))
        return nomem(err, SIZE_MAX);
    if (need <= b->cap_nnz)
        return SMG_OK;
    cap = b->cap_nnz < MIN_ENTRIES ? MIN_ENTRIES : b->cap_nnz;
    while (cap < need)
        if (!smg_mul_size(cap, 2, &cap))
            return nomem(err, need);
    if (!smg_mul_size(cap, sizeof(uint32_t), &ibytes) || !smg_mul_size(cap, sizeof(float), &vbytes))
        return nomem(err, cap);
    if ((ni = smg_realloc(b->indices, ibytes)) == NULL)
        return nomem(err, cap);
    b->indices = ni;
    if ((nv = smg_realloc(b->values, vbytes)) == NULL)
        return nomem(err, cap);
    b->values = nv;
    b->cap_nnz = cap;
    return SMG_OK;
}

struct smg_batch smg_csr_buf_batch(const struct smg_csr_buf *b, size_t cols, uint64_t first_record)
{
    struct smg_batch out;

    memset(&out, 0, sizeof(out));
    out.rows = b->rows;
    out.cols = cols;
    out.first_record = first_record;
    out.indptr = b->indptr;
    out.indices = b->indices;
    out.values = b->values;
    return out;
}

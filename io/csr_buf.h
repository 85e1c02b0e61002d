/*
 * A growable compressed-sparse-row buffer: what a sparse channel decodes a
 * mini-batch into, and what io/base/batch.h's CSR layout points at.
 *
 * Rows are appended one at a time: reserve room for a row's entries, write
 * them at indices/values + nnz, then end the row. Capacity doubles as needed,
 * so memory is O(rows + nnz) of the data actually seen, never rows x cols.
 * indptr[0] is 0 and indptr[rows] == nnz.
 */
#ifndef SMG_CSR_BUF_H
#define SMG_CSR_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "io/base/batch.h"
#include "io/base/status.h"

struct smg_csr_buf {
    uint64_t *indptr; /* rows + 1 used, cap_rows + 1 allocated */
    uint32_t *indices;
    float *values;
    size_t rows, nnz;
    size_t cap_rows, cap_nnz;
};

/* An empty buffer with room for max_rows rows (entries grow on demand). */
SMG_MUST_CHECK enum smg_status smg_csr_buf_init(struct smg_csr_buf *b, size_t max_rows,
                                                struct smg_error *err);
void smg_csr_buf_free(struct smg_csr_buf *b);  /* accepts a zeroed buffer; zeroes it */
void smg_csr_buf_clear(struct smg_csr_buf *b); /* 0 rows, capacity kept */

/* Room for `extra` more entries in the current row (and a row slot). */
SMG_MUST_CHECK enum smg_status smg_csr_buf_reserve(struct smg_csr_buf *b, size_t extra,
                                                   struct smg_error *err);

/* Close the current row: its entries are those written since the last end_row. */
static inline void smg_csr_buf_end_row(struct smg_csr_buf *b)
{
    b->rows++;
    b->indptr[b->rows] = b->nnz;
}

/* Drop the entries written since the last end_row (a row that failed to decode). */
static inline void smg_csr_buf_drop_row(struct smg_csr_buf *b)
{
    b->nnz = (size_t)b->indptr[b->rows];
}

/*
 * What rows and nnz stored values take in a CSR buffer: an index and a value
 * per stored value, a row pointer per row. How request decoding counts
 * sparse rows against its memory cap (never rows x cols).
 */
static inline size_t smg_csr_buf_bytes(size_t rows, size_t nnz)
{
    return nnz * (sizeof(uint32_t) + sizeof(float)) + rows * sizeof(uint64_t);
}

/* A batch view of the buffer (valid until it next grows or is cleared). */
struct smg_batch smg_csr_buf_batch(const struct smg_csr_buf *b, size_t cols, uint64_t first_record);

#endif

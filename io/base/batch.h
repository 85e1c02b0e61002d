/*
 * A mini-batch as algorithms see it: `rows` rows of `cols` features each, in
 * one of two layouts.
 *
 *   dense (x != NULL): row-major float32, rows * cols floats.
 *   CSR   (x == NULL): compressed sparse rows. Row i's stored entries are
 *         values[p] in column indices[p] for p in [indptr[i], indptr[i + 1]);
 *         columns are strictly ascending within a row and < cols; every
 *         unstored entry is 0. indptr[0] need not be 0: the rows [a, b) of a
 *         CSR batch are the same arrays with indptr + a and rows b - a, so a
 *         batch can be split into row ranges without copying.
 *
 * Channels deliver CSR only to callers that asked for it (channel.h,
 * accept_csr) and only when the channel's data is sparse; everyone else gets
 * dense rows. The memory belongs to whoever produced the batch and stays
 * valid only until that producer is asked for the next batch.
 */
#ifndef SMG_BATCH_H
#define SMG_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct smg_batch {
    const float *x;        /* rows * cols floats, row-major; NULL for a CSR batch */
    size_t rows;           /* >= 1 for a delivered batch; the last batch may be short */
    size_t cols;           /* == feature_dim */
    uint64_t first_record; /* index of row 0 within this rank's epoch */
    /* CSR layout (x == NULL): see above. */
    const uint64_t *indptr;  /* rows + 1 offsets into indices and values */
    const uint32_t *indices; /* column of each stored entry */
    const float *values;     /* value of each stored entry */
};

static inline bool smg_batch_is_csr(const struct smg_batch *b)
{
    return b->x == NULL;
}

/* Stored entries of a CSR batch. */
static inline uint64_t smg_batch_nnz(const struct smg_batch *b)
{
    return b->indptr[b->rows] - b->indptr[0];
}

/* Rows [a, a + n) of b as a batch of its own (no copy; a + n <= b->rows). */
static inline struct smg_batch smg_batch_slice(const struct smg_batch *b, size_t a, size_t n)
{
    struct smg_batch s = *b;

    s.rows = n;
    s.first_record = b->first_record + a;
    if (b->x != NULL)
        s.x = b->x + a * b->cols;
    else
        s.indptr = b->indptr + a;
    return s;
}

#endif

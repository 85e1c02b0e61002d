/*
 * A mini-batch as algorithms see it: dense, row-major float32, `rows` rows of
 * `cols` features each. Sparse input is densified by the io layer before it gets
 * here. The memory belongs to whoever produced the batch and stays valid only
 * until that producer is asked for the next batch.
 */
#ifndef SMG_BATCH_H
#define SMG_BATCH_H

#include <stddef.h>
#include <stdint.h>

struct smg_batch {
    const float *x;        /* rows * cols floats, row-major */
    size_t rows;           /* >= 1 for a delivered batch; the last batch may be short */
    size_t cols;           /* == feature_dim */
    uint64_t first_record; /* index of row 0 within this rank's epoch */
};

#endif

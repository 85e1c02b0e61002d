/*
 * A helper shared by the algorithm tests that check a CSR path against the
 * dense one: the non-zero entries of n dense rows as a CSR batch.
 */
#ifndef SMG_TEST_CSR_HELPERS_H
#define SMG_TEST_CSR_HELPERS_H

#include <stdint.h>
#include <stdlib.h>

#include "io/base/batch.h"

/* x's (n x d) non-zero entries as a CSR batch; test_free_csr releases its arrays. */
static inline struct smg_batch test_dense_to_csr(const float *x, size_t n, size_t d)
{
    struct smg_batch b = {0};
    uint64_t *ptr = malloc((n + 1) * sizeof(*ptr));
    uint32_t *idx = malloc((n * d + 1) * sizeof(*idx));
    float *val = malloc((n * d + 1) * sizeof(*val));
    size_t p = 0;

    if (ptr == NULL || idx == NULL || val == NULL)
        abort();
    ptr[0] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t f = 0; f < d; f++)
            if (x[i * d + f] != 0.0f) {
                idx[p] = (uint32_t)f;
                val[p++] = x[i * d + f];
            }
        ptr[i + 1] = p;
    }
    b.rows = n;
    b.cols = d;
    b.indptr = ptr;
    b.indices = idx;
    b.values = val;
    return b;
}

static inline void test_free_csr(struct smg_batch *b)
{
    free((void *)b->indptr);
    free((void *)b->indices);
    free((void *)b->values);
}

#endif

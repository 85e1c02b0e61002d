/*
 * Randomized PCA from CSR rows (contract: pca_csr.h). Gram sketch: handed to
 * the sketch (smg_pca_sketch_gram_csr). Sign sketch: H^T blocks of
 * BLOCK_ROWS rows from the sketch, B^T += X^T H^T by csr_ops.h, folded into
 * the sketch's row-major B on demand.
 */
#include "algorithms/pca_csr.h"

#include <stdbool.h>
#include <string.h>

#include "algorithms/csr_ops.h"
#include "io/base/alloc.h"

#define BLOCK_ROWS ((size_t)1024)

struct smg_pca_csr {
    size_t d, l;
    double *bt; /* d x l: B^T accumulated since the last fold */
    double *ht; /* BLOCK_ROWS x l */
    bool signs; /* the sign sketch (else the Gram sketch: no buffers here) */
    bool dirty;
};

enum smg_status smg_pca_csr_new(const struct smg_pca_sketch *sk, size_t d, struct smg_pca_csr **out,
                                struct smg_error *err)
{
    struct smg_pca_csr *pc = smg_calloc(1, sizeof(*pc));
    const size_t l = smg_pca_sketch_l(sk);
    size_t n;

    *out = NULL;
    if (pc == NULL)
        return smg_error_set(err, SMG_ENOMEM, "pca: out of memory");
    pc->d = d;
    pc->l = l;
    pc->signs = smg_pca_sketch_is_signs(sk);
    if (pc->signs && (!smg_mul_size(d, l, &n) || (pc->bt = smg_calloc(n, sizeof(double))) == NULL ||
                      (pc->ht = smg_calloc(BLOCK_ROWS * l, sizeof(double))) == NULL)) {
        smg_pca_csr_free(pc);
        return smg_error_set(err, SMG_ENOMEM,
                             "pca: out of memory for the %zu x %zu sparse sketch accumulator", d,
                             l);
    }
    *out = pc;
    return SMG_OK;
}

void smg_pca_csr_free(struct smg_pca_csr *pc)
{
    if (pc == NULL)
        return;
    smg_free(pc->bt);
    smg_free(pc->ht);
    smg_free(pc);
}

void smg_pca_csr_update(struct smg_pca_csr *pc, struct smg_pca_sketch *sk,
                        const struct smg_batch *b, uint64_t first_record)
{
    double *s, *n;

    if (!pc->signs) {
        smg_pca_sketch_gram_csr(sk, b);
        return;
    }
    s = smg_pca_sketch_state(sk) + pc->l * pc->d + pc->l; /* B (l x d), h (l), s (d), n */
    n = s + pc->d;
    for (size_t a = 0; a < b->rows; a += BLOCK_ROWS) {
        size_t m = b->rows - a < BLOCK_ROWS ? b->rows - a : BLOCK_ROWS;
        struct smg_batch blk = smg_batch_slice(b, a, m);

        smg_pca_sketch_signs(sk, first_record + a, m, pc->ht);
        smg_csr_xt_h(&blk, pc->ht, pc->l, pc->bt);
        smg_csr_col_sums(&blk, s);
        *n += (double)m;
    }
    pc->dirty = true;
}

bool smg_pca_csr_pending(const struct smg_pca_csr *pc)
{
    return pc != NULL && pc->dirty;
}

void smg_pca_csr_add_to(const struct smg_pca_csr *pc, double *state)
{
    const size_t d = pc->d, l = pc->l;

    if (!pc->dirty)
        return;
    for (size_t f = 0; f < d; f++)
        for (size_t j = 0; j < l; j++)
            state[j * d + f] += pc->bt[f * l + j];
}

void smg_pca_csr_fold(struct smg_pca_csr *pc, struct smg_pca_sketch *sk)
{
    if (!pc->dirty)
        return;
    smg_pca_csr_add_to(pc, smg_pca_sketch_state(sk));
    memset(pc->bt, 0, pc->d * pc->l * sizeof(double));
    pc->dirty = false;
}

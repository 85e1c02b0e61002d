/*
 * The checkpointer's state, shared by checkpoint.c (when and how to write,
 * seeking a channel) and checkpoint_resume.c (finding and checking the
 * checkpoint to resume from). Private to those two files.
 */
#ifndef SMG_CHECKPOINT_PRIVATE_H
#define SMG_CHECKPOINT_PRIVATE_H

#include "runtime/checkpoint.h"

struct smg_checkpoint {
    struct smg_job *job;
    char dir[4096];
    const char *from;  /* what named dir: "--checkpoint-dir", ... */
    char channel[128]; /* the channel whose progress is recorded */
    char *config;      /* owned: the text hp_hash hashes */
    uint64_t hp_hash;
    bool coordinated;
    double interval;     /* seconds; 0 = adaptive (the default) */
    double next_due;     /* smg_now() time */
    double opened;       /* smg_now() at open */
    double last_write;   /* seconds the last write took (0: none yet) */
    uint64_t generation; /* newest generation written (or resumed) by every rank */
    enum smg_input_mode mode;
    uint64_t data_hash, data_files, data_bytes;
    unsigned char *loaded; /* owned bytes of the resumed file (sections point into it) */
};

#define SMG_CKPT_DEFAULT_MIN_INTERVAL 60.0
#define SMG_CKPT_COST_FACTOR          100.0 /* interval >= 100 x write time: < 1% cost */

/* <dir>/smalgo-<algorithm>-rank<r>.<a|b>.ckpt for generation g's slot. */
void smg_checkpoint_path(const struct smg_checkpoint *c, uint64_t generation, char *buf,
                         size_t size);

#endif

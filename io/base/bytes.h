/*
 * Reading back what was appended to a struct smg_buf: a bounds-checked cursor
 * over a byte range with a sticky failure flag (like Redis's rio), so a
 * deserialiser reads field after field and checks once at the end whether
 * the input held them all. Used by the algorithms' state (de)serialisers
 * behind checkpoints; values are in the machine's byte order (a checkpoint is
 * resumed on the machine type that wrote it, which its header checks).
 */
#ifndef SMG_BYTES_H
#define SMG_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct smg_bytes {
    const unsigned char *p;
    size_t len, off;
    bool bad; /* a read ran past the end; every later read fails too */
};

void smg_bytes_init(struct smg_bytes *r, const void *data, size_t len);
/* Copy n bytes to dst; false (and dst zeroed, r->bad set) if fewer remain. */
bool smg_bytes_get(struct smg_bytes *r, void *dst, size_t n);
uint64_t smg_bytes_u64(struct smg_bytes *r); /* 0 on failure */
double smg_bytes_f64(struct smg_bytes *r);   /* 0 on failure */
/* n elements of size bytes each, overflow-checked. */
bool smg_bytes_get_array(struct smg_bytes *r, void *dst, size_t n, size_t size);
/* True when every read succeeded and nothing is left over. */
bool smg_bytes_done(const struct smg_bytes *r);

#endif

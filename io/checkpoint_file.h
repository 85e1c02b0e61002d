/*
 * The checkpoint file format: a header that says whose state this is and how
 * far training got, then tagged sections of opaque state, then a checksum
 * over everything. io knows the framing only; what the sections hold is the
 * algorithms' business (their *_state_save/_load functions) and when they are
 * written is the runtime's (runtime/checkpoint.h).
 *
 * Byte layout, version 1, every integer little-endian:
 *
 *   offset  size  field
 *   0       8     magic "SMGCKPT\n"
 *   8       4     format version (SMG_CKPT_VERSION)
 *   12      4     section count n (at most SMG_CKPT_MAX_SECTIONS)
 *   16      8     file length in bytes, trailer included
 *   24      120   header (struct smg_ckpt_header, in this order):
 *                   16  algorithm name, NUL-padded ("kmeans", "pca")
 *                    8  hyperparameter hash (FNV-1a 64 of the resolved configuration)
 *                    4  rank            4  rank count
 *                    8  generation (1, 2, ...: the how-many-th checkpoint of the job)
 *                    4  epoch           4  phase (SMG_CKPT_PHASE_*)
 *                    8  records consumed in the epoch, this rank
 *                    8  records consumed in all epochs, this rank
 *                    4  input mode (0 File, 1 FastFile, 2 Pipe)   4 reserved (0)
 *                    8  data fingerprint hash (File: names and sizes; Pipe: 0)
 *                    8  data files       8  data bytes (File mode; 0 in Pipe mode)
 *                    8  creation time, milliseconds since 1970
 *                    8  byte-order probe 0x0102030405060708 as the writer's machine
 *                       stores it (the sections are in the writer's byte order)
 *                    8  reserved (0)
 *   144     ...   n sections, each: 4-byte ASCII tag, 4 reserved (0), 8 length L,
 *                 L bytes, then zeros up to a multiple of 8
 *   end-8   4     CRC32C of every byte before it (crc32c.h)
 *   end-4   4     magic "END\n"
 *
 * Parsing trusts nothing before the checksum matched: sizes are checked
 * against what remains, the file length field against the real length, the
 * CRC over the whole, and only then are the sections walked (bounded again).
 */
#ifndef SMG_CHECKPOINT_FILE_H
#define SMG_CHECKPOINT_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "io/base/buffer.h"
#include "io/base/status.h"

#define SMG_CKPT_VERSION      1u
#define SMG_CKPT_MAX_SECTIONS 16
#define SMG_CKPT_HEADER_BYTES 144 /* magic, version, count, length and the header */
#define SMG_CKPT_TRAILER      8
#define SMG_CKPT_BYTE_ORDER   UINT64_C(0x0102030405060708)

/* Where training was when the state was taken. */
enum smg_ckpt_phase {
    SMG_CKPT_PHASE_STREAM = 0, /* inside or between epochs: resume the stream */
    SMG_CKPT_PHASE_DONE = 1 /* every epoch done: only the finish (solve, shrink, write) remains */
};

struct smg_ckpt_header {
    char algorithm[16];
    uint64_t hp_hash;
    uint32_t rank, n_ranks;
    uint64_t generation;
    uint32_t epoch, phase;
    uint64_t epoch_records, total_records;
    uint32_t mode, reserved;
    uint64_t data_hash, data_files, data_bytes;
    uint64_t created_ms;
    uint64_t byte_order; /* as read back: SMG_CKPT_BYTE_ORDER when written here */
};

struct smg_ckpt_section {
    char tag[5]; /* 4 ASCII characters and a NUL */
    const void *data;
    size_t len;
};

/*
 * Append the whole file (framing, header, sections, checksum) to out.
 * SMG_ENOMEM; SMG_EINTERNAL for more than SMG_CKPT_MAX_SECTIONS or a tag that
 * is not 4 characters.
 */
SMG_MUST_CHECK enum smg_status smg_ckpt_encode(const struct smg_ckpt_header *h,
                                               const struct smg_ckpt_section *sections, size_t n,
                                               struct smg_buf *out, struct smg_error *err);

/*
 * Parse len bytes of a checkpoint file named `what` (for messages). On SMG_OK
 * *h is filled and sections[0..*n) point into data. SMG_EFORMAT, saying what
 * is wrong and where (not a checkpoint, version, truncated at byte N, checksum
 * mismatch, bad section); *h and *n are then left as they were.
 */
SMG_MUST_CHECK enum smg_status smg_ckpt_parse(const void *data, size_t len, const char *what,
                                              struct smg_ckpt_header *h,
                                              struct smg_ckpt_section *sections, size_t max,
                                              size_t *n, struct smg_error *err);

/* The section tagged tag, or NULL. */
const struct smg_ckpt_section *smg_ckpt_find(const struct smg_ckpt_section *sections, size_t n,
                                             const char *tag);

/* FNV-1a 64, for the hyperparameter and data fingerprints; continue from h (0 starts). */
uint64_t smg_ckpt_hash(uint64_t h, const void *data, size_t len);

#endif

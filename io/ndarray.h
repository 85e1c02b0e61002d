/*
 * MXNet NDArray files (the legacy "NDArray list" format of MXNet 1.x
 * mx.nd.save), which SageMaker's PCA and k-means write as model_algo-1.
 *
 * Byte layout, all little-endian, no padding:
 *
 *   u64 magic = 0x112            u64 reserved = 0           u64 num_arrays
 *   num_arrays times, one NDArray:
 *     u32 magic = 0xF993FAC9 (V2)   i32 stype (0 = dense)
 *     u32 ndim, then ndim x i64 dims         (ndim 0: an empty array, stop here)
 *     i32 dev_type (1 = cpu)   i32 dev_id
 *     i32 type_flag (0 = float32, 1 = float64, 4 = int32, 6 = int64, ...)
 *     prod(dims) * sizeof(type) bytes of C-order data
 *   u64 num_names (0 for a list, num_arrays for a named dict)
 *   num_names times: u64 len, len bytes of name (no NUL)
 *
 * The reader also accepts V1 (0xF993FAC8: no stype) and the legacy form (first
 * u32 is ndim, u32 dims). Sparse storage types and V3 (0xF993FACA, numpy shape
 * semantics) are rejected with a clear error, as are unknown dtypes, negative
 * dims, a name count other than 0 or num_arrays, names holding a NUL byte, and
 * bytes after the last name. Every length is checked against the bytes that
 * remain and against the limits below before any allocation, and every size
 * is overflow-checked: a truncated or corrupt file is SMG_EFORMAT with the
 * byte offset, never a crash.
 *
 * Whatever was decoded re-encodes byte for byte: the per-array magic, dev_type,
 * dev_id and the header's reserved word are kept. Array data is copied as raw
 * little-endian bytes (the host is assumed little-endian, as x86-64 and arm64
 * are).
 */
#ifndef SMG_NDARRAY_H
#define SMG_NDARRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/base/status.h"

#define SMG_NDARRAY_MAX_DIMS   8
#define SMG_NDARRAY_MAX_ARRAYS (1u << 20) /* arrays in one file */
#define SMG_NDARRAY_MAX_NAME   (1u << 16) /* bytes in one name */

#define SMG_NDARRAY_LIST_MAGIC 0x112u
#define SMG_NDARRAY_V1_MAGIC   0xF993FAC8u
#define SMG_NDARRAY_V2_MAGIC   0xF993FAC9u
#define SMG_NDARRAY_V3_MAGIC   0xF993FACAu

enum smg_ndarray_dtype {
    SMG_DTYPE_FLOAT32 = 0,
    SMG_DTYPE_FLOAT64 = 1,
    SMG_DTYPE_FLOAT16 = 2,
    SMG_DTYPE_UINT8 = 3,
    SMG_DTYPE_INT32 = 4,
    SMG_DTYPE_INT8 = 5,
    SMG_DTYPE_INT64 = 6,
    SMG_DTYPE_BOOL = 7
};

struct smg_ndarray {
    char *name;    /* NULL in a list file */
    uint32_t ndim; /* 0: a "none" array (no context, dtype or data in the file) */
    int64_t shape[SMG_NDARRAY_MAX_DIMS];
    int32_t dtype;    /* enum smg_ndarray_dtype */
    int32_t dev_type; /* 1 = cpu; kept so files re-encode byte for byte */
    int32_t dev_id;
    uint32_t magic; /* as read (V1, V2, or ndim for legacy); new arrays get V2 */
    void *data;     /* prod(shape) elements of dtype, C order; owned (smg_malloc) */
    size_t nbytes;  /* bytes at data; the encoder recomputes it, 0 means unset */
};

struct smg_ndarray_file {
    size_t count;
    struct smg_ndarray *arrays;
    bool named;        /* dict (names present) rather than list */
    uint64_t reserved; /* the header's second word, as read; 0 when new */
};

/* Bytes per element of an MXNet type flag; 0 for an unknown flag. */
size_t smg_ndarray_dtype_size(int32_t dtype);

/* A short name for a type flag ("float32", ...); "unknown" when unknown. */
const char *smg_ndarray_dtype_name(int32_t dtype);

/* Number of elements (product of the shape); 0 for ndim 0. */
size_t smg_ndarray_elements(const struct smg_ndarray *a);

/* Find a named array; NULL if absent. */
const struct smg_ndarray *smg_ndarray_find(const struct smg_ndarray_file *f, const char *name);

/*
 * Decode a whole file image. On success *out is a new file (free with
 * smg_ndarray_file_free); on failure *out is NULL and the status is
 * SMG_EFORMAT (with "byte N" in the message) or SMG_ENOMEM.
 */
SMG_MUST_CHECK enum smg_status smg_ndarray_decode(const void *buf, size_t len,
                                                  struct smg_ndarray_file **out,
                                                  struct smg_error *err);
/* Read and decode a file; messages start with the path. SMG_EIO if unreadable. */
SMG_MUST_CHECK enum smg_status smg_ndarray_load(const char *path, struct smg_ndarray_file **out,
                                                struct smg_error *err);

/* Encode into a new buffer (caller smg_free's *buf). */
SMG_MUST_CHECK enum smg_status smg_ndarray_encode(const struct smg_ndarray_file *f, void **buf,
                                                  size_t *len, struct smg_error *err);

/*
 * Write atomically: a temporary file in the same folder, fsync, rename, fsync
 * of the folder. On failure nothing is left at path (an older file stays).
 */
SMG_MUST_CHECK enum smg_status smg_ndarray_save(const char *path, const struct smg_ndarray_file *f,
                                                struct smg_error *err);

/*
 * A file of `count` empty arrays, each set to float32, V2 magic, cpu(0), for
 * model writers. Returns NULL on out of memory. The caller fills arrays[i]
 * (name when named, shape, data from smg_malloc; or with smg_ndarray_set) and
 * frees with smg_ndarray_file_free, which frees names and data too.
 */
struct smg_ndarray_file *smg_ndarray_file_new(size_t count, bool named);
void smg_ndarray_file_free(struct smg_ndarray_file *f); /* accepts NULL */

/*
 * Fill arrays[i] of a file from smg_ndarray_file_new with copies of name (may
 * be NULL for a list) and of the data (elements of dtype, C order; may be
 * NULL when the shape has no elements). Replaces what arrays[i] held.
 * SMG_ENOMEM, or SMG_EINTERNAL for a bad index, dtype, ndim or shape.
 */
SMG_MUST_CHECK enum smg_status smg_ndarray_set(struct smg_ndarray_file *f, size_t i,
                                               const char *name, int32_t dtype, uint32_t ndim,
                                               const int64_t *shape, const void *data,
                                               struct smg_error *err);

/*
 * As smg_ndarray_set for a float32 array whose values come from doubles
 * (rounded to nearest float), as model writers hold their results. src holds
 * prod(shape) doubles in C order. SMG_ENOMEM, or SMG_EINTERNAL for a bad
 * index, ndim or shape.
 */
SMG_MUST_CHECK enum smg_status smg_ndarray_set_f32_from_f64(struct smg_ndarray_file *f, size_t i,
                                                            const char *name, uint32_t ndim,
                                                            const int64_t *shape, const double *src,
                                                            struct smg_error *err);

#endif

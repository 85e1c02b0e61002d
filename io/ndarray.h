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
 * u32 is ndim, u32 dims). Sparse storage types are rejected with a clear error.
 * Every length is checked against the bytes that remain before any allocation.
 */
#ifndef SMG_NDARRAY_H
#define SMG_NDARRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define SMG_NDARRAY_MAX_DIMS 8

enum smg_ndarray_dtype {
    SMG_DTYPE_FLOAT32 = 0,
    SMG_DTYPE_FLOAT64 = 1,
    SMG_DTYPE_FLOAT16 = 2,
    SMG_DTYPE_UINT8 = 3,
    SMG_DTYPE_INT32 = 4,
    SMG_DTYPE_INT8 = 5,
    SMG_DTYPE_INT64 = 6
};

struct smg_ndarray {
    char *name; /* NULL in a list file */
    uint32_t ndim;
    int64_t shape[SMG_NDARRAY_MAX_DIMS];
    int32_t dtype;    /* enum smg_ndarray_dtype */
    int32_t dev_type; /* 1 = cpu; kept so files re-encode byte for byte */
    int32_t dev_id;
    uint32_t magic; /* as read; writers use 0xF993FAC9 */
    void *data;     /* prod(shape) elements of dtype, C order */
    size_t nbytes;
};

struct smg_ndarray_file {
    size_t count;
    struct smg_ndarray *arrays;
    bool named; /* dict (names present) rather than list */
};

/* Number of elements (product of the shape); 0 for ndim 0. */
size_t smg_ndarray_elements(const struct smg_ndarray *a);

/* Find a named array; NULL if absent. */
const struct smg_ndarray *smg_ndarray_find(const struct smg_ndarray_file *f, const char *name);

int smg_ndarray_decode(const void *buf, size_t len, struct smg_ndarray_file **out,
                       struct smg_error *err);
int smg_ndarray_load(const char *path, struct smg_ndarray_file **out, struct smg_error *err);

/* Encode into a new buffer (caller smg_free's *buf). */
int smg_ndarray_encode(const struct smg_ndarray_file *f, void **buf, size_t *len,
                       struct smg_error *err);

/*
 * Write atomically: a temporary file in the same folder, fsync, rename, fsync
 * of the folder. On failure nothing is left at path (an older file stays).
 */
int smg_ndarray_save(const char *path, const struct smg_ndarray_file *f, struct smg_error *err);

/*
 * Build a file from float32 arrays without copying: convenience for model
 * writers. Names may be NULL for a list. Returns NULL on out of memory.
 * The caller fills arrays[i] (shape, data) and frees with smg_ndarray_file_free,
 * which frees names and data too.
 */
struct smg_ndarray_file *smg_ndarray_file_new(size_t count, bool named);
void smg_ndarray_file_free(struct smg_ndarray_file *f); /* accepts NULL */

#endif

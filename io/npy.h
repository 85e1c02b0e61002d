/*
 * Reading the header of a NumPy .npy file (format versions 1.0, 2.0, 3.0):
 *
 *     offset  size  field
 *     0       6     magic "\x93NUMPY"
 *     6       1     major version (1, 2 or 3)
 *     7       1     minor version
 *     8       2|4   header length H, little-endian (2 bytes in v1, 4 in v2/v3)
 *     10|12   H     Python dict literal, e.g.
 *                   {'descr': '<f4', 'fortran_order': False, 'shape': (100, 16), }
 *                   padded with spaces and a final '\n'
 *     ...           the array data, rows * cols items, C order
 *
 * Only what `smalgo convert` needs: 2-D, C-order, little-endian float32,
 * float64, int32 or int64 arrays ('<f4', '<f8', '<i4', '<i8'); anything else
 * is an SMG_EFORMAT error saying what was found.
 */
#ifndef SMG_NPY_H
#define SMG_NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "io/base/status.h"

enum smg_npy_dtype { SMG_NPY_F4, SMG_NPY_F8, SMG_NPY_I4, SMG_NPY_I8 };

struct smg_npy {
    enum smg_npy_dtype dtype;
    size_t item; /* bytes per item */
    size_t rows, cols;
};

/* Read the header from f (positioned at 0), leaving f at the first data byte. */
SMG_MUST_CHECK enum smg_status smg_npy_read_header(FILE *f, const char *name, struct smg_npy *out,
                                                   struct smg_error *err);

#endif

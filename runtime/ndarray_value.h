/*
 * One element of an NDArray as a double, whatever its dtype, for the runtime
 * code that reads model arrays as numbers (`smalgo inspect` and the inspect
 * notes of the algorithm descriptors).
 */
#ifndef SMG_NDARRAY_VALUE_H
#define SMG_NDARRAY_VALUE_H

#include <stddef.h>

#include "io/ndarray.h"

/* Element i (C order) of a; NaN for float16, which is not decoded. i < elements. */
double smg_ndarray_value(const struct smg_ndarray *a, size_t i);

#endif

/*
 * One NDArray element as a double (contract in ndarray_value.h). Elements are
 * read with memcpy, so the array's data needs no particular alignment.
 */
#include "runtime/ndarray_value.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

double smg_ndarray_value(const struct smg_ndarray *a, size_t i)
{
    const unsigned char *p = a->data;
    switch (a->dtype) {
    case SMG_DTYPE_FLOAT32: {
        float v;
        memcpy(&v, p + 4 * i, 4);
        return v;
    }
    case SMG_DTYPE_FLOAT64: {
        double v;
        memcpy(&v, p + 8 * i, 8);
        return v;
    }
    case SMG_DTYPE_UINT8: return p[i];
    case SMG_DTYPE_BOOL: return p[i] != 0;
    case SMG_DTYPE_INT8: return (signed char)p[i];
    case SMG_DTYPE_INT32: {
        int32_t v;
        memcpy(&v, p + 4 * i, 4);
        return v;
    }
    case SMG_DTYPE_INT64: {
        int64_t v;
        memcpy(&v, p + 8 * i, 8);
        return (double)v;
    }
    default: return NAN; /* float16: shown as null */
    }
}

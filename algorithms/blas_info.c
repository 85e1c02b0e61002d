/*
 * BLAS and LAPACK identification for `smalgo --version` (see blas_info.h).
 */
#include "algorithms/blas_info.h"

#include <cblas.h>
#include <lapacke.h>
#include <stdio.h>

const char *smg_blas_config(void)
{
    return openblas_get_config();
}

const char *smg_blas_corename(void)
{
    return openblas_get_corename();
}

void smg_lapack_version(char *buf, unsigned n)
{
    lapack_int major = 0, minor = 0, patch = 0;

    LAPACKE_ilaver(&major, &minor, &patch);
    snprintf(buf, n, "%d.%d.%d", (int)major, (int)minor, (int)patch);
}

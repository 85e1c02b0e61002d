/*
 * OpenBLAS kept on the calling thread (see blas_threads.h).
 */
#include "algorithms/blas_threads.h"

#include <cblas.h>

/* OpenBLAS's own shutdown of its server threads (blas_server.c); absent in serial builds. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

void smg_blas_one_thread(void)
{
    openblas_set_num_threads(1);
    if (blas_thread_shutdown_ != NULL)
        (void)blas_thread_shutdown_();
}

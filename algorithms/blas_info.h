/*
 * What BLAS and LAPACK smalgo runs on, for `smalgo --version`: OpenBLAS's build
 * configuration and the kernel it chose for this CPU (OPENBLAS_CORETYPE can
 * force one), and the LAPACK version behind LAPACKE. The algorithms are the
 * only layer that links BLAS, so the runtime asks here.
 */
#ifndef SMG_BLAS_INFO_H
#define SMG_BLAS_INFO_H

/* OpenBLAS's openblas_get_config(), e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY ...". */
const char *smg_blas_config(void);

/* OpenBLAS's openblas_get_corename(): the kernel in use, e.g. "Haswell". */
const char *smg_blas_corename(void);

/* The LAPACK version LAPACKE calls into, as "3.11.0", into buf of size n. */
void smg_lapack_version(char *buf, unsigned n);

#endif

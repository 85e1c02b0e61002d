/*
 * `smalgo --version`: the version, the git revision it was built from, and the
 * libraries it runs on with their versions, BLAS kernel included, so a bug
 * report or a benchmark says exactly what ran. Library versions are the ones
 * the library reports at run time where it can (OpenBLAS, LAPACK, cJSON,
 * libmicrohttpd, Open MPI), else the one pkg-config saw at build time.
 */
#include <cjson/cJSON.h>
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#ifdef SMALGO_HAVE_MHD
#include <microhttpd.h>
#endif

#include "algorithms/blas_info.h"
#include "build_info.h"
#include "runtime/commands.h"

/* Open MPI's library string up to its first comma: "Open MPI v4.1.4". */
static void mpi_version(char *buf, size_t n)
{
    char full[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;

    if (MPI_Get_library_version(full, &len) != MPI_SUCCESS || len <= 0) {
        snprintf(buf, n, "unknown (built with %s)", SMG_BUILT_MPI);
        return;
    }
    full[strcspn(full, ",\n")] = '\0';
    snprintf(buf, n, "%s", full);
}

int smg_cmd_version(int argc, char **argv)
{
    char lapack[32], mpi[MPI_MAX_LIBRARY_VERSION_STRING];
    const char *curl =
        SMG_BUILT_CURL[0] ? SMG_BUILT_CURL " at build time" : "not found at build time";
    (void)argc;
    (void)argv;

    smg_lapack_version(lapack, sizeof(lapack));
    mpi_version(mpi, sizeof(mpi));
    printf("smalgo %s (git %s)\n", SMALGO_VERSION, SMALGO_GIT_REVISION);
    printf("  OpenBLAS     %s\n", smg_blas_config());
    printf("  BLAS kernel  %s\n", smg_blas_corename());
    printf("  LAPACKE      %s at build time (LAPACK %s)\n", SMG_BUILT_LAPACKE, lapack);
    printf("  protobuf-c   %s at build time\n", SMG_BUILT_PROTOBUFC);
    printf("  libcurl      %s\n", curl);
    printf("  MPI          %s\n", mpi);
    printf("  cJSON        %s\n", cJSON_Version());
#ifdef SMALGO_HAVE_MHD
    printf("  microhttpd   %s\n", MHD_get_version());
#else
    printf("  microhttpd   not built in (smalgo serve unavailable)\n");
#endif
    return 0;
}

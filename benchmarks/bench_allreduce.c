/*
 * bench_allreduce: the time of one k-means step's allreduce, per size, on the
 * ranks mpirun starts (the README's "Several hosts" figures).
 *
 * Why: a k-means step sums one contribution of
 * smg_kmeans_allreduce_bytes(K, d, p, c) bytes of doubles over all ranks
 * (algorithms/kmeans_group.h), and the time of that allreduce is what a rank
 * waits each step beside its own work. This program times exactly that call
 * (smg_comm_sum_f64 over MPI_COMM_WORLD) and nothing else, so the figure is
 * not mixed with the wait for a slower rank as the job's _allreduce.time is.
 *
 * How: for each (k, d) on the command line (K = 10 k, the `auto`
 * extra_center_factor; c = 8 candidates per rank, the steady state), a
 * barrier, then REPS timed calls, each after a barrier, on a buffer of ones;
 * rank 0 prints bytes, the median and the minimum wall time per call, and the
 * process CPU time (user + system) of rank 0 per call, as one JSON line per size. The
 * sum is checked (every element must equal the rank count).
 *
 *   mpirun -np 2 bench_allreduce [--reps N] k:d [k:d ...]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "algorithms/comm.h"
#include "algorithms/kmeans_group.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Time reps allreduces of n doubles; 0 on success, else 1 (message printed). */
static int time_one(struct smg_comm *comm, size_t k, size_t d, int reps)
{
    size_t K = 10 * k, c = K < 8 ? K : 8;
    double bytes = smg_kmeans_allreduce_bytes(K, d, comm->size, c), cpu0, cpu, *t;
    size_t n = (size_t)(bytes / 8.0);
    double *buf = malloc(n * sizeof(double));
    struct smg_error err = {0};
    int bad = 0;

    t = malloc((size_t)reps * sizeof(double));
    if (buf == NULL || t == NULL) {
        fprintf(stderr, "bench_allreduce: out of memory for %zu doubles\n", n);
        free(buf);
        free(t);
        return 1;
    }
    cpu = 0.0;
    for (int r = 0; r < reps; r++) {
        for (size_t i = 0; i < n; i++)
            buf[i] = 1.0;
        MPI_Barrier(comm->handle);
        cpu0 = cpu_now();
        double t0 = now();
        if (smg_comm_sum_f64(comm, buf, n, &err) != SMG_OK) {
            fprintf(stderr, "bench_allreduce: %s\n", err.msg);
            bad = 1;
            break;
        }
        t[r] = now() - t0;
        cpu += cpu_now() - cpu0;
        bad |= buf[0] != (double)comm->size || buf[n - 1] != (double)comm->size;
    }
    if (!bad && comm->rank == 0) {
        qsort(t, (size_t)reps, sizeof(double), cmp_double);
        printf("{\"k\": %zu, \"d\": %zu, \"K\": %zu, \"ranks\": %d, \"bytes\": %.0f, \"reps\": %d, "
               "\"median_ms\": %.4f, \"min_ms\": %.4f, \"cpu_ms_per_call\": %.4f}\n",
               k, d, K, comm->size, bytes, reps, t[reps / 2] * 1e3, t[0] * 1e3, cpu / reps * 1e3);
        fflush(stdout);
    }
    free(buf);
    free(t);
    return bad;
}

int main(int argc, char **argv)
{
    struct smg_comm comm;
    struct smg_error err = {0};
    int reps = 50, rc = 0, a = 1;

    MPI_Init(&argc, &argv);
    if (smg_comm_attach(&comm, MPI_COMM_WORLD, &err) != SMG_OK) {
        fprintf(stderr, "bench_allreduce: %s\n", err.msg);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (a + 1 < argc && strcmp(argv[a], "--reps") == 0) {
        reps = (int)strtol(argv[a + 1], NULL, 10);
        a += 2;
    }
    if (reps < 1 || a >= argc) {
        fprintf(stderr, "usage: mpirun -np N bench_allreduce [--reps N] k:d [k:d ...]\n");
        MPI_Finalize();
        return 2;
    }
    for (; a < argc && rc == 0; a++) {
        size_t k = 0, d = 0;
        char *end;
        k = strtoul(argv[a], &end, 10);
        if (*end == ':')
            d = strtoul(end + 1, &end, 10);
        if (k == 0 || d == 0 || *end != '\0') {
            fprintf(stderr, "bench_allreduce: '%s' is not k:d\n", argv[a]);
            rc = 2;
            break;
        }
        rc = time_one(&comm, k, d, reps);
    }
    MPI_Finalize();
    return rc;
}

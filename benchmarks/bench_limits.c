/*
 * bench_limits: this machine's physical limits, measured in the same run as the
 * smalgo benchmarks, so every smalgo throughput can be read as a fraction of
 * what the hardware allows.
 *
 * What it measures:
 *   - memory copy bandwidth (memcpy of 256 MiB buffers, bytes copied per
 *     second), one thread and one thread per core;
 *   - FIFO bandwidth through a named pipe, as Pipe mode moves data: a forked
 *     writer write()s 1 MiB chunks; the reader raises the pipe to 1 MiB with
 *     F_SETPIPE_SZ and reads 1 MiB chunks. Also the untuned case (default
 *     64 KiB pipe, 64 KiB reads and writes) for comparison;
 *   - SGEMM GFLOP/s with the OpenBLAS smalgo links (2000x2000x2000, one
 *     thread and all threads), and two taxi-shaped kernels: the k-means
 *     distance GEMM (rows x 10 centres x 17 features) and the PCA covariance
 *     update (ssyrk, 17 features), as rows per second on one thread.
 * It records the BLAS in use (openblas_get_config, openblas_get_corename) and
 * the OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE in force; it never changes them.
 *
 * How: each figure repeats its kernel until at least --min-seconds have passed
 * (CLOCK_MONOTONIC) and reports the best of --repeats such runs. The result is
 * one JSON object on stdout; a readable summary goes to stderr.
 *
 *   bench_limits [--quick] [--fifo-mib N] [--min-seconds S] [--repeats R]
 */
#include <cblas.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "io/base/alloc.h"
#include "io/json_string.h"

#define MIB (1024.0 * 1024.0)

struct opts {
    double min_seconds;
    int repeats;
    size_t copy_bytes;
    size_t fifo_bytes;
    int gemm_n;
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Parse a positive integer argument; 0 on error (the caller reports it). */
static long parse_long(const char *s)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v <= 0)
        return 0;
    return v;
}

/* ---- memory copy ------------------------------------------------------------ */

struct copy_job {
    char *src;
    char *dst;
    size_t bytes;
    double seconds; /* run until this much time has passed */
    double copied;  /* out: bytes copied */
    double elapsed; /* out */
};

static void *copy_run(void *arg)
{
    struct copy_job *j = arg;
    double t0 = now(), t;
    double copied = 0;

    memcpy(j->dst, j->src, j->bytes); /* fault the pages in */
    t0 = now();
    do {
        memcpy(j->dst, j->src, j->bytes);
        copied += (double)j->bytes;
        t = now();
    } while (t - t0 < j->seconds);
    j->copied = copied;
    j->elapsed = t - t0;
    return NULL;
}

/* Aggregate memcpy bandwidth (GB/s) of `threads` threads, each on its own buffers. */
static double copy_bandwidth(const struct opts *o, int threads)
{
    struct copy_job jobs[16];
    pthread_t tid[16];
    double best = 0;
    int n = threads > 16 ? 16 : threads;

    for (int i = 0; i < n; i++) {
        jobs[i].bytes = o->copy_bytes;
        jobs[i].src = smg_malloc(o->copy_bytes);
        jobs[i].dst = smg_malloc(o->copy_bytes);
        if (jobs[i].src == NULL || jobs[i].dst == NULL) {
            fprintf(stderr, "bench_limits: out of memory for the copy buffers\n");
            for (int k = 0; k <= i; k++) {
                smg_free(jobs[k].src);
                smg_free(jobs[k].dst);
            }
            return 0;
        }
        memset(jobs[i].src, 1 + i, o->copy_bytes);
        jobs[i].seconds = o->min_seconds;
    }
    for (int r = 0; r < o->repeats; r++) {
        double total = 0, elapsed = 0;
        int started = 0;
        for (int i = 0; i < n; i++) {
            if (pthread_create(&tid[i], NULL, copy_run, &jobs[i]) != 0)
                break;
            started++;
        }
        for (int i = 0; i < started; i++) {
            pthread_join(tid[i], NULL);
            total += jobs[i].copied;
            if (jobs[i].elapsed > elapsed)
                elapsed = jobs[i].elapsed;
        }
        if (started == n && elapsed > 0 && total / elapsed / 1e9 > best)
            best = total / elapsed / 1e9;
    }
    for (int i = 0; i < n; i++) {
        smg_free(jobs[i].src);
        smg_free(jobs[i].dst);
    }
    return best;
}

/* ---- FIFO ------------------------------------------------------------------- */

/* The writer child: writes `total` bytes into `path` in `chunk`-byte writes. */
static void fifo_writer(const char *path, size_t total, size_t chunk)
{
    char *buf = smg_malloc(chunk);
    int fd;
    size_t done = 0;

    if (buf == NULL)
        _exit(2);
    memset(buf, 'x', chunk);
    fd = open(path, O_WRONLY);
    if (fd < 0)
        _exit(3);
    while (done < total) {
        size_t want = total - done < chunk ? total - done : chunk;
        ssize_t w = write(fd, buf, want);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            _exit(4);
        }
        done += (size_t)w;
    }
    close(fd);
    _exit(0);
}

/*
 * Bytes per second (GB/s) through a named FIFO: a forked writer, this process
 * reading. pipe_size 0 leaves the kernel's default. -1 on error.
 */
static double fifo_bandwidth(const struct opts *o, int pipe_size, size_t chunk, int *size_out)
{
    char dir[] = "/tmp/smg_bench_fifo_XXXXXX";
    char path[64];
    char *buf = NULL;
    double gbs = -1, t0 = 0;
    size_t got = 0;
    pid_t pid;
    int fd = -1, status = 0;

    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/fifo", dir);
    if (mkfifo(path, 0600) != 0)
        goto out;
    buf = smg_malloc(chunk);
    if (buf == NULL)
        goto out;
    pid = fork();
    if (pid < 0)
        goto out;
    if (pid == 0)
        fifo_writer(path, o->fifo_bytes, chunk);
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        kill(pid, SIGTERM);
        waitpid(pid, &status, 0);
        goto out;
    }
    if (pipe_size > 0)
        fcntl(fd, F_SETPIPE_SZ, pipe_size);
    *size_out = fcntl(fd, F_GETPIPE_SZ);
    for (;;) {
        ssize_t r = read(fd, buf, chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (got == 0)
            t0 = now();
        got += (size_t)r;
    }
    {
        double dt = now() - t0;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && got == o->fifo_bytes && dt > 0)
            gbs = (double)got / dt / 1e9;
    }
out:
    if (fd >= 0)
        close(fd);
    smg_free(buf);
    unlink(path);
    rmdir(dir);
    return gbs;
}

static double fifo_best(const struct opts *o, int pipe_size, size_t chunk, int *size_out)
{
    double best = -1;
    for (int r = 0; r < o->repeats; r++) {
        double g = fifo_bandwidth(o, pipe_size, chunk, size_out);
        if (g > best)
            best = g;
    }
    return best;
}

/* ---- BLAS ------------------------------------------------------------------- */

static float *random_matrix(size_t n)
{
    float *a = smg_malloc(n * sizeof(float));
    unsigned s = 12345u;
    if (a == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        a[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
    }
    return a;
}

/* GFLOP/s of C(m x n) = A(m x k) B(k x n)^T, row-major, best of repeats. */
static double sgemm_gflops(const struct opts *o, int m, int n, int k, int threads, double *rows_s)
{
    float *a = random_matrix((size_t)m * (size_t)k);
    float *b = random_matrix((size_t)n * (size_t)k);
    float *c = smg_calloc((size_t)m * (size_t)n, sizeof(float));
    double best = 0;

    *rows_s = 0;
    if (a == NULL || b == NULL || c == NULL)
        goto out;
    openblas_set_num_threads(threads);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);
    for (int r = 0; r < o->repeats; r++) {
        double t0 = now(), t;
        long calls = 0;
        do {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, a, k, b, k, 0.0f, c,
                        n);
            calls++;
            t = now();
        } while (t - t0 < o->min_seconds);
        double g = 2.0 * m * n * k * (double)calls / (t - t0) / 1e9;
        if (g > best) {
            best = g;
            *rows_s = (double)m * (double)calls / (t - t0);
        }
    }
out:
    smg_free(a);
    smg_free(b);
    smg_free(c);
    return best;
}

/* Rows per second of C += A^T A for A (m x d), one thread (the PCA update). */
static double ssyrk_rows(const struct opts *o, int m, int d)
{
    float *a = random_matrix((size_t)m * (size_t)d);
    float *c = smg_calloc((size_t)d * (size_t)d, sizeof(float));
    double best = 0;

    if (a == NULL || c == NULL)
        goto out;
    openblas_set_num_threads(1);
    for (int r = 0; r < o->repeats; r++) {
        double t0 = now(), t;
        long calls = 0;
        do {
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, d, m, 1.0f, a, d, 1.0f, c, d);
            calls++;
            t = now();
        } while (t - t0 < o->min_seconds);
        double rows = (double)m * (double)calls / (t - t0);
        if (rows > best)
            best = rows;
    }
out:
    smg_free(a);
    smg_free(c);
    return best;
}

/* ---- main ------------------------------------------------------------------- */

/* A "key": "value" line of the JSON report, quoted by io/json_string. */
static void json_string(const char *key, const char *v, int last)
{
    struct smg_buf b;

    smg_buf_init(&b, 1 << 16);
    if (smg_json_put_string(&b, v ? v : "") != SMG_OK) {
        fprintf(stderr, "bench_limits: cannot quote the value of %s\n", key);
        exit(1);
    }
    printf("  \"%s\": %s%s\n", key, b.data, last ? "" : ",");
    smg_buf_free(&b);
}

int main(int argc, char **argv)
{
    struct opts o = {0.5, 3, (size_t)256 << 20, (size_t)2 << 30, 2000};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int sz_tuned = 0, sz_default = 0;
    double rows_1t = 0, tmp = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            o.min_seconds = 0.2;
            o.repeats = 2;
            o.copy_bytes = (size_t)64 << 20;
            o.fifo_bytes = (size_t)512 << 20;
            o.gemm_n = 1000;
        } else if (strcmp(argv[i], "--fifo-mib") == 0 && i + 1 < argc) {
            long v = parse_long(argv[++i]);
            if (v == 0)
                goto usage;
            o.fifo_bytes = (size_t)v << 20;
        } else if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) {
            long v = parse_long(argv[++i]);
            if (v == 0 || v > 100)
                goto usage;
            o.repeats = (int)v;
        } else if (strcmp(argv[i], "--min-seconds") == 0 && i + 1 < argc) {
            char *end = NULL;
            double v = strtod(argv[++i], &end);
            if (end == argv[i] || *end != '\0' || !(v > 0 && v < 60))
                goto usage;
            o.min_seconds = v;
        } else {
            goto usage;
        }
    }
    if (cores < 1)
        cores = 1;

    double copy1 = copy_bandwidth(&o, 1);
    double copyn = copy_bandwidth(&o, (int)cores);
    double fifo_tuned = fifo_best(&o, 1 << 20, (size_t)1 << 20, &sz_tuned);
    double fifo_default = fifo_best(&o, 0, (size_t)64 << 10, &sz_default);
    double gemm1 = sgemm_gflops(&o, o.gemm_n, o.gemm_n, o.gemm_n, 1, &tmp);
    double gemmn = sgemm_gflops(&o, o.gemm_n, o.gemm_n, o.gemm_n, (int)cores, &tmp);
    double kgemm = sgemm_gflops(&o, 65536, 10, 17, 1, &rows_1t);
    double syrk = ssyrk_rows(&o, 65536, 17);
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    const char *l2 = getenv("OPENBLAS_L2_SIZE");

    printf("{\n");
    printf("  \"cores\": %ld,\n", cores);
    printf("  \"memcpy_gbs_1thread\": %.3f,\n", copy1);
    printf("  \"memcpy_gbs_all_threads\": %.3f,\n", copyn);
    printf("  \"memcpy_buffer_mib\": %.0f,\n", (double)o.copy_bytes / MIB);
    printf("  \"fifo_gbs_1mib_pipe\": %.3f,\n", fifo_tuned);
    printf("  \"fifo_pipe_size_tuned\": %d,\n", sz_tuned);
    printf("  \"fifo_gbs_default_pipe\": %.3f,\n", fifo_default);
    printf("  \"fifo_pipe_size_default\": %d,\n", sz_default);
    printf("  \"fifo_mib_moved\": %.0f,\n", (double)o.fifo_bytes / MIB);
    printf("  \"sgemm_n\": %d,\n", o.gemm_n);
    printf("  \"sgemm_gflops_1thread\": %.2f,\n", gemm1);
    printf("  \"sgemm_gflops_all_threads\": %.2f,\n", gemmn);
    printf("  \"kmeans_gemm_65536x10x17_gflops_1thread\": %.2f,\n", kgemm);
    printf("  \"kmeans_gemm_rows_per_s_1thread\": %.0f,\n", rows_1t);
    printf("  \"pca_ssyrk_d17_rows_per_s_1thread\": %.0f,\n", syrk);
    json_string("openblas_config", openblas_get_config(), 0);
    json_string("openblas_corename", openblas_get_corename(), 0);
    json_string("OPENBLAS_CORETYPE", coretype ? coretype : "(unset)", 0);
    json_string("OPENBLAS_L2_SIZE", l2 ? l2 : "(unset)", 1);
    printf("}\n");

    fprintf(stderr,
            "limits: memcpy %.1f GB/s (1 thread), %.1f GB/s (%ld threads); FIFO %.2f GB/s "
            "(%d-byte pipe), %.2f GB/s (%d-byte pipe); SGEMM %d^3 %.0f GFLOP/s (1 thread), "
            "%.0f GFLOP/s (%ld threads); k-means GEMM %.1f M rows/s, PCA ssyrk %.1f M rows/s; "
            "%s, core %s, OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s\n",
            copy1, copyn, cores, fifo_tuned, sz_tuned, fifo_default, sz_default, o.gemm_n, gemm1,
            gemmn, cores, rows_1t / 1e6, syrk / 1e6, openblas_get_config(), openblas_get_corename(),
            coretype ? coretype : "(unset)", l2 ? l2 : "(unset)");
    return 0;
usage:
    fprintf(stderr, "usage: bench_limits [--quick] [--fifo-mib N] [--min-seconds S] "
                    "[--repeats R]\n");
    return 2;
}

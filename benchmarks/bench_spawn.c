/*
 * bench_spawn: run one command and report its peak RSS, wall time and the
 * moment it starts reading data, for the benchmark suite (run.py).
 *
 * Why a C launcher: Linux carries a process's RSS high-water mark across
 * exec, so a program started directly by the (large) Python driver reports the
 * driver's RSS as its own peak. This small program forks the command itself, so
 * the figure it gets from wait4 is the command's own (and that of the children
 * it reaped, such as the ranks under mpirun).
 *
 * How: fork + execvp; while the child runs, poll /proc/<child>/io every 0.5 ms
 * and note when its rchar (bytes returned by read()) has grown by more than
 * --first-read bytes (default 16 KiB, more than any config file smalgo reads),
 * i.e. when the job starts reading its training data, in File and Pipe mode
 * alike. On exit, write one JSON object to OUT:
 *   {"status": 0, "wall_s": 1.23, "first_read_s": 0.01, "maxrss_kb": 10336, "cpu_s": 0.98}
 * (cpu_s: the program's user + system CPU time, children it reaped included)
 * (first_read_s is -1 if never seen) and exit with the child's exit code.
 *
 *   bench_spawn OUT [--first-read BYTES] -- command [args...]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* rchar of pid, or -1. */
static long long rchar_of(pid_t pid)
{
    char path[64], line[128];
    long long v = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/io", (int)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "rchar:", 6) == 0) {
            char *end = NULL;
            errno = 0;
            v = strtoll(line + 6, &end, 10);
            if (errno != 0 || end == line + 6)
                v = -1;
            break;
        }
    }
    fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    const char *out_path;
    long long threshold = 16 * 1024, base = -1;
    double t0, first = -1, wall;
    struct rusage ru;
    int status = 0, i = 2, code;
    pid_t pid;
    FILE *out;

    if (argc < 4)
        goto usage;
    out_path = argv[1];
    if (strcmp(argv[i], "--first-read") == 0 && i + 1 < argc) {
        char *end = NULL;
        threshold = strtoll(argv[i + 1], &end, 10);
        if (end == argv[i + 1] || *end != '\0' || threshold < 1)
            goto usage;
        i += 2;
    }
    if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc)
        goto usage;
    i++;

    t0 = now();
    pid = fork();
    if (pid < 0) {
        perror("bench_spawn: fork");
        return 127;
    }
    if (pid == 0) {
        execvp(argv[i], argv + i);
        fprintf(stderr, "bench_spawn: cannot run %s: %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    for (;;) {
        pid_t w = wait4(pid, &status, WNOHANG, &ru);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            perror("bench_spawn: wait4");
            return 127;
        }
        if (first < 0) {
            long long r = rchar_of(pid);
            if (r >= 0 && base < 0)
                base = r;
            if (r >= 0 && r - base >= threshold)
                first = now() - t0;
            struct timespec ts = {0, 500000};
            nanosleep(&ts, NULL);
        } else {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
    }
    wall = now() - t0;
    code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    out = fopen(out_path, "w");
    if (out == NULL) {
        perror("bench_spawn: output file");
        return 127;
    }
    fprintf(out,
            "{\"status\": %d, \"wall_s\": %.6f, \"first_read_s\": %.6f, \"maxrss_kb\": %ld, "
            "\"cpu_s\": %.6f}\n",
            code, wall, first, ru.ru_maxrss,
            (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
                (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6);
    fclose(out);
    return code;
usage:
    fprintf(stderr, "usage: bench_spawn OUT [--first-read BYTES] -- command [args...]\n");
    return 127;
}

/*
 * FIFO and Pipe-mode channel throughput, the reader side of bench_fifo.py.
 *
 *   bench_fifo raw DIR/NAME_0            read the FIFO to EOF in 1 MiB reads
 *   bench_fifo channel DIR NAME DIM [B]  read epoch 0 of the Pipe-mode channel
 *                                        DIR/NAME_0 as recordIO-protobuf into
 *                                        batches of B rows (default 1000)
 *
 * Prints one line: "bytes=... seconds=... gbps=... records=... maxrss_mib=...".
 * The writer is `smalgo pipe` (started by bench_fifo.py). Peak RSS comes from
 * VmHWM, so it covers the read-ahead thread, the queue and the decoder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/channel.h"
#include "io/fifo.h"

static double now_s(void)
{
    return smg_fifo_now_ms() / 1000.0;
}

/*
 * Peak RSS of this program: VmHWM, not getrusage's ru_maxrss, which on Linux
 * survives execve and would report the (larger) Python parent that forked us.
 */
static double maxrss_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kib = -1;

    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = strtod(line + 6, NULL);
    if (f != NULL)
        fclose(f);
    return kib / 1024.0;
}

static int bench_raw(const char *path)
{
    struct smg_fifo_opts o = {60000, NULL, NULL, "bench", 0};
    struct smg_stream *s;
    struct smg_error err;
    size_t cap = (size_t)1 << 20, got;
    unsigned char *buf = malloc(cap);
    unsigned long long total = 0;
    double t0;

    smg_error_clear(&err);
    if (buf == NULL || smg_fifo_open(path, &o, &s, &err) != SMG_OK) {
        fprintf(stderr, "bench_fifo: %s\n", err.msg);
        return 1;
    }
    t0 = now_s();
    while (smg_stream_read(s, buf, cap, &got, &err) == SMG_OK && got > 0)
        total += got;
    double dt = now_s() - t0;
    printf("bytes=%llu seconds=%.3f gbps=%.3f maxrss_mib=%.1f\n", total, dt, total / dt / 1e9,
           maxrss_mib());
    smg_stream_free(s);
    free(buf);
    return err.status == SMG_OK ? 0 : 1;
}

static int bench_channel(const char *dir, const char *name, size_t dim, size_t batch)
{
    struct smg_channel_config c;
    struct smg_channel *ch;
    struct smg_batch b;
    struct smg_error err;
    double t0, checksum = 0;
    int rc;

    memset(&c, 0, sizeof(c));
    c.name = name;
    c.data_dir = dir;
    c.mode = SMG_MODE_PIPE;
    c.format.rows = SMG_ROWS_RECORDIO_PROTOBUF;
    c.format.feature_dim = dim;
    c.batch_rows = batch;
    c.pipe_timeout_ms = 60000;
    c.ranks_on_host = 1;
    smg_error_clear(&err);
    if ((rc = smg_channel_open(&c, &ch, &err)) != SMG_OK ||
        (rc = smg_channel_begin_epoch(ch, 0, &err)) != SMG_OK) {
        fprintf(stderr, "bench_fifo: %s\n", err.msg);
        return 1;
    }
    t0 = now_s();
    while ((rc = smg_channel_next_batch(ch, &b, &err)) == SMG_OK)
        checksum += b.x[0]; /* touch each batch, as a consumer would */
    double dt = now_s() - t0;
    if (rc != SMG_EEOF) {
        fprintf(stderr, "bench_fifo: %s\n", err.msg);
        return 1;
    }
    printf("bytes=%llu seconds=%.3f gbps=%.3f records=%llu maxrss_mib=%.1f checksum=%g\n",
           (unsigned long long)smg_channel_bytes(ch), dt, smg_channel_bytes(ch) / dt / 1e9,
           (unsigned long long)smg_channel_records(ch), maxrss_mib(), checksum);
    smg_channel_free(ch);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "raw") == 0)
        return bench_raw(argv[2]);
    if ((argc == 5 || argc == 6) && strcmp(argv[1], "channel") == 0)
        return bench_channel(argv[2], argv[3], strtoul(argv[4], NULL, 10),
                             argc == 6 ? strtoul(argv[5], NULL, 10) : 1000);
    fprintf(stderr, "usage: bench_fifo raw FIFO | bench_fifo channel DIR NAME DIM [BATCH]\n");
    return 2;
}

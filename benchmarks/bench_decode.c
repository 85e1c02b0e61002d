/*
 * Decode throughput on one core, data generated in memory (nothing on disk):
 *   1. recordIO-protobuf, dense float32, feature_dim 16, one float32 label per
 *      record (as the SDK writes it), through the row reader (RecordIO framing
 *      + fast decoder) into 1000-row mini-batches;
 *   2. the same records through the protobuf-c reference decoder;
 *   3. CSV of 16 float columns ("%.7g"), through the row reader;
 *   4. both framed only (smg_row_reader_frame: record or line boundaries and
 *      the copy into the batch's span buffer, no decoding), which is what
 *      the channel's reader thread does alone when batches are decoded on
 *      several threads (io/batch_decode.h): the ceiling of that split.
 * Each is run 5 times; the median is printed in GB/s of input bytes per
 * second of this process's CPU time (CLOCK_PROCESS_CPUTIME_ID), which is the
 * one-core figure even when the machine is shared and wall time is not.
 *
 * Usage: bench_decode [MiB of input per format, default 256]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io/record_decode.h"
#include "io/row_spans.h"
#include "io/record_encode.h"
#include "io/recordio.h"
#include "io/rows.h"

#define DIM   16
#define BATCH 1000
#define RUNS  5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static float rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((double)(rng_state >> 11) / 9007199254740992.0 * 200.0 - 100.0);
}

/* Read the whole buffer through a row reader; returns rows or -1. */
static long read_rows(const char *buf, size_t len, const struct smg_format *fmt, float *batch)
{
    struct smg_stream *s;
    struct smg_row_reader *r;
    struct smg_error err;
    long rows = 0;
    size_t got;
    int rc;

    smg_error_clear(&err);
    if (smg_stream_open_memory(buf, len, "bench", &s, &err) != SMG_OK ||
        smg_row_reader_new(s, fmt, &r, &err) != SMG_OK)
        return -1;
    while ((rc = smg_row_reader_next(r, batch, BATCH, &got, &err)) == SMG_OK && got > 0)
        rows += (long)got;
    smg_row_reader_free(r);
    smg_stream_free(s);
    if (rc != SMG_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return -1;
    }
    return rows;
}

static void report(const char *name, const double *t, size_t bytes, long rows);

/* Frame the whole buffer in BATCH-row batches without decoding; returns rows or -1. */
static long frame_rows(const char *buf, size_t len, const struct smg_format *fmt, float *batch)
{
    struct smg_stream *s;
    struct smg_row_reader *r;
    struct smg_row_spans sp;
    struct smg_error err;
    long rows = 0;
    size_t got;
    int rc;

    (void)batch;
    smg_error_clear(&err);
    smg_row_spans_init(&sp, fmt);
    if (smg_stream_open_memory(buf, len, "bench", &s, &err) != SMG_OK ||
        smg_row_reader_new(s, fmt, &r, &err) != SMG_OK)
        return -1;
    while ((rc = smg_row_reader_frame(r, &sp, BATCH, &got, &err)) == SMG_OK && got > 0) {
        rows += (long)got;
        smg_row_spans_clear(&sp);
    }
    smg_row_spans_free(&sp);
    smg_row_reader_free(r);
    smg_stream_free(s);
    return rc == SMG_OK ? rows : -1;
}

/* Time RUNS runs of fn over buf and report them under name; returns the rows. */
static long measure(const char *name,
                    long (*fn)(const char *, size_t, const struct smg_format *, float *),
                    const char *buf, size_t len, const struct smg_format *fmt, float *batch)
{
    double t[RUNS];
    long n = 0;

    for (int i = 0; i < RUNS; i++) {
        double t0 = now();
        n = fn(buf, len, fmt, batch);
        t[i] = now() - t0;
    }
    report(name, t, len, n);
    return n;
}

/* protobuf-c only: framing by hand, then the reference decoder per record. */
static long read_pb(const char *buf, size_t len, const struct smg_format *fmt, float *batch)
{
    size_t off = 0;
    long rows = 0;
    (void)fmt;
    while (off + 8 <= len) {
        uint32_t n;
        memcpy(&n, buf + off + 4, 4);
        if (smg_record_decode_pb((const uint8_t *)buf + off + 8, n, DIM,
                                 batch + (size_t)(rows % BATCH) * DIM, NULL) != SMG_OK)
            return -1;
        rows++;
        off += 8 + n + smg_recordio_pad(n);
    }
    return rows;
}

static void report(const char *name, const double *t, size_t bytes, long rows)
{
    double ts[RUNS];
    memcpy(ts, t, sizeof(ts));
    qsort(ts, RUNS, sizeof(double), cmp_double);
    printf("%-44s %8.3f GB/s  (median of %d; %.1f M rows/s; %zu bytes)\n", name,
           (double)bytes / ts[RUNS / 2] / 1e9, RUNS, (double)rows / ts[RUNS / 2] / 1e6, bytes);
}

int main(int argc, char **argv)
{
    size_t target = (size_t)(argc > 1 ? strtoul(argv[1], NULL, 10) : 256) << 20;
    char *pb = malloc(target + 4096), *csv = malloc(target + 4096);
    float *batch = malloc(sizeof(float) * BATCH * DIM);
    struct smg_bytes rec = {0};
    size_t pb_len = 0, csv_len = 0;
    float row[DIM];
    long rows = 0;

    if (pb == NULL || csv == NULL || batch == NULL)
        return 1;
    while (pb_len + 256 < target) {
        struct smg_label label = {SMG_TENSOR_FLOAT32, (double)(rows % 2)};
        uint8_t hdr[8];
        for (int j = 0; j < DIM; j++)
            row[j] = rnd();
        if (smg_record_encode_dense(&rec, SMG_TENSOR_FLOAT32, row, DIM, &label, NULL) != SMG_OK)
            return 1;
        smg_recordio_header(hdr, (uint32_t)rec.len, 0);
        memcpy(pb + pb_len, hdr, 8);
        memcpy(pb + pb_len + 8, rec.data, rec.len);
        memset(pb + pb_len + 8 + rec.len, 0, 3);
        pb_len += 8 + rec.len + smg_recordio_pad(rec.len);
        rows++;
    }
    while (csv_len + 512 < target) {
        for (int j = 0; j < DIM; j++)
            csv_len += (size_t)snprintf(csv + csv_len, 32, "%.7g%c", (double)rnd(),
                                        j + 1 == DIM ? '\n' : ',');
    }
    struct smg_format fpb = {SMG_ROWS_RECORDIO_PROTOBUF, DIM, 0, false, 0};
    struct smg_format fcsv = {SMG_ROWS_CSV, DIM, 0, false, 0};
    long n =
        measure("recordio-protobuf d=16, fast path (reader)", read_rows, pb, pb_len, &fpb, batch);
    printf("  fast-path fallbacks to protobuf-c: %llu\n",
           (unsigned long long)smg_record_decode_fallbacks());
    n = n < 0
            ? n
            : measure("recordio-protobuf d=16, protobuf-c path", read_pb, pb, pb_len, &fpb, batch);
    n = n < 0 ? n : measure("csv 16 columns %.7g (reader)", read_rows, csv, csv_len, &fcsv, batch);
    n = n < 0
            ? n
            : measure("recordio-protobuf d=16, framing only", frame_rows, pb, pb_len, &fpb, batch);
    n = n < 0 ? n : measure("csv 16 columns, framing only", frame_rows, csv, csv_len, &fcsv, batch);
    smg_bytes_free(&rec);
    free(pb);
    free(csv);
    free(batch);
    return n < 0;
}

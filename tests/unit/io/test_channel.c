/*
 * Channel tests on real files and real FIFOs (no mocks).
 *
 * File mode: nested folders read in path order, hidden files and folders
 * skipped, the rank split, exact batch boundaries across files with a short
 * last batch, the empty-channel error, gzip files (including concatenated
 * members and a corrupt one), errors propagated from the reader thread, the
 * stop flag, and end_epoch mid-stream.
 *
 * Pipe mode: the reader starts before the FIFO exists; a forked writer that
 * dies mid-record (a format error, not a hang); no FIFO at all and a FIFO with
 * no writer (the timeout fires, quickly); three epochs; train and test read at
 * once; closing early while the writer is blocked on a full pipe.
 *
 * All data is CSV with values encoding (file, row), so order is checkable
 * exactly; float equality is exact because small integers are exact in float32.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

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
#include <zlib.h>

#include "files_helpers.h"
#include "io/channel.h"
#include "io/fifo.h"
#include "io/file_list.h"

#define DIM 2

static char root[256];

static void path_of(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", root, rel);
}

static void mkdirs(const char *rel)
{
    char p[512];
    path_of(p, sizeof(p), rel);
    files_mkdirs(p);
}

static void write_file(const char *rel, const char *text)
{
    char p[512];
    path_of(p, sizeof(p), rel);
    files_write(p, text);
}

/* n rows "base+i,-(base+i)" */
static char *csv_rows(int base, int n)
{
    size_t cap = (size_t)n * 32 + 1, used = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    s[0] = '\0';
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(s + used, cap - used, "%d,%d\n", base + i, -(base + i));
    return s;
}

static void write_rows(const char *rel, int base, int n)
{
    char *s = csv_rows(base, n);
    write_file(rel, s);
    free(s);
}

static int setup(void **state)
{
    (void)state;
    if (files_temp_dir(root, sizeof(root), "channel") != 0)
        return -1;
    mkdirs("data");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return files_remove_tree(root);
}

static struct smg_channel_config csv_config(const char *name, size_t batch)
{
    static char dd[512]; /* the channel copies it */
    struct smg_channel_config c;
    memset(&c, 0, sizeof(c));
    path_of(dd, sizeof(dd), "data");
    c.name = name;
    c.data_dir = dd;
    c.mode = SMG_MODE_FILE;
    c.format.rows = SMG_ROWS_CSV;
    c.format.feature_dim = DIM;
    c.batch_rows = batch;
    c.pipe_timeout_ms = 5000;
    c.ranks_on_host = 1;
    return c;
}

/* Read one epoch; returns rc at the end; first values into vals, batch sizes into sizes. */
static int read_begun(struct smg_channel *ch, float *vals, size_t cap, size_t *nrows, size_t *sizes,
                      size_t *nbatches, struct smg_error *err)
{
    struct smg_batch b;
    int rc = SMG_OK;
    *nrows = 0;
    *nbatches = 0;
    while (rc == SMG_OK && (rc = smg_channel_next_batch(ch, &b, err)) == SMG_OK) {
        assert_int_equal(b.cols, DIM);
        assert_int_equal(b.first_record, *nrows);
        for (size_t r = 0; r < b.rows; r++) {
            if (*nrows < cap)
                vals[*nrows] = b.x[r * DIM];
            assert_true(b.x[r * DIM + 1] == -b.x[r * DIM]);
            (*nrows)++;
        }
        if (sizes != NULL)
            sizes[*nbatches] = b.rows;
        (*nbatches)++;
    }
    smg_channel_end_epoch(ch);
    return rc;
}

static int read_epoch(struct smg_channel *ch, unsigned epoch, float *vals, size_t cap,
                      size_t *nrows, size_t *sizes, size_t *nbatches, struct smg_error *err)
{
    int rc = smg_channel_begin_epoch(ch, epoch, err);
    *nrows = *nbatches = 0;
    if (rc != SMG_OK)
        return rc;
    return read_begun(ch, vals, cap, nrows, sizes, nbatches, err);
}

static void test_file_mode_order_batches_hidden(void **state)
{
    struct smg_channel_config c = csv_config("train", 4);
    struct smg_channel *ch;
    struct smg_error err;
    float v[64];
    size_t n, sizes[16], nb;
    (void)state;
    mkdirs("data/train/b/deep");
    mkdirs("data/train/.hiddendir");
    write_rows("data/train/a.csv", 0, 3);
    write_rows("data/train/b/deep/c.csv", 100, 5);
    write_rows("data/train/b/a.csv", 50, 2);
    write_rows("data/train/.hidden.csv", 900, 2);
    write_rows("data/train/.hiddendir/x.csv", 800, 2);
    smg_error_clear(&err);
    assert_int_equal(smg_channel_open(&c, &ch, &err), SMG_OK);
    for (unsigned e = 0; e < 2; e++) {
        assert_int_equal(read_epoch(ch, e, v, 64, &n, sizes, &nb, &err), SMG_EEOF);
        /* a.csv, b/a.csv, b/deep/c.csv: batches of 4 across file boundaries, last short */
        const float want[] = {0, 1, 2, 50, 51, 100, 101, 102, 103, 104};
        assert_int_equal(n, 10);
        for (size_t i = 0; i < n; i++)
            assert_true(v[i] == want[i]);
        assert_int_equal(nb, 3);
        assert_int_equal(sizes[0], 4);
        assert_int_equal(sizes[1], 4);
        assert_int_equal(sizes[2], 2);
    }
    smg_channel_free(ch);
}

static void test_rank_split(void **state)
{
    struct smg_error err;
    float v[64];
    size_t n, nb;
    (void)state;
    mkdirs("data/train");
    for (int f = 0; f < 5; f++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "data/train/part-%d", f);
        write_rows(rel, f * 10, 1);
    }
    for (int r = 0; r < 2; r++) {
        struct smg_channel_config c = csv_config("train", 100);
        struct smg_channel *ch;
        c.rank_on_host = r;
        c.ranks_on_host = 2;
        smg_error_clear(&err);
        assert_int_equal(smg_channel_open(&c, &ch, &err), SMG_OK);
        assert_int_equal(read_epoch(ch, 0, v, 64, &n, NULL, &nb, &err), SMG_EEOF);
        /* stride split: rank 0 gets files 0,2,4; rank 1 files 1,3 */
        assert_int_equal(n, r == 0 ? 3 : 2);
        for (size_t i = 0; i < n; i++)
            assert_true(v[i] == (float)((r + 2 * (int)i) * 10));
        smg_channel_free(ch);
    }
    /* a rank outside the split, and several ranks on one FIFO, are configuration errors */
    struct smg_channel_config c = csv_config("train", 100);
    struct smg_channel *ch = NULL;
    c.rank_on_host = 2;
    c.ranks_on_host = 2;
    smg_error_clear(&err);
    assert_int_equal(smg_channel_open(&c, &ch, &err), SMG_ECONFIG);
    c.rank_on_host = 0;
    c.mode = SMG_MODE_PIPE;
    smg_error_clear(&err);
    assert_int_equal(smg_channel_open(&c, &ch, &err), SMG_ECONFIG);
    assert_non_null(strstr(err.msg, "one process"));
    assert_null(ch);
}

static void test_empty_channel(void **state)
{
    struct smg_channel_config c = csv_config("train", 4);
    struct smg_channel *ch;
    struct smg_error err;
    float v[4];
    size_t n, nb;
    (void)state;
    mkdirs("data/train/sub");
    write_file("data/train/.only-hidden", "1,1\n");
    write_file("data/train/empty.csv", "");
    smg_error_clear(&err);
    assert_int_equal(smg_channel_open(&c, &ch, &err), SMG_OK);
    assert_int_equal(read_epoch(ch, 0, v, 4, &n, NULL, &nb, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "no records in channel train"));
    smg_channel_free(ch);

    c.allow_empty = true;
    smg_error_clear(&err);
    assert_int_equal(smg_channel_open(&c, &ch, &err), SMG_OK);
    assert_int_equal(read_epoch(ch, 0, v, 4, &n, NULL, &nb, &err), SMG_EEOF);
    assert_int_equal(n, 0);
    smg_channel_free(ch);

    /* a missing channel folder is an error at open, naming it */
    c = csv_config("nosuch", 4);
    smg_error_clear(&err);
    assert_int_not_equal(smg_channel_open(&c, &ch, &err), SMG_OK);
    assert_non_null(strstr(err.msg, "nosuch"));
}

static void write_gz(const char *rel, const char *text, const char *mode)
{
    char p[512];
    gzFile g;
    path_of(p, sizeof(p), rel);
    g = gzopen(p, mode);
    assert_non_null(g);
    gzputs(g, text);
    gzclose(g);
}

static void test_gzip_files(void **state)
{
    struct smg_channel_config c = csv_config("train", 3);
    struct smg_channel *ch;
    struct smg_error err;
    float v[64];
    size_t n, nb;
    char *a = csv_rows(0, 4), *b = csv_rows(10, 3);
    (void)state;
    mkdirs("data/train");
    write_gz("data/train/a.csv.gz", a, "wb");
    write_gz("data/train/b.csv.gz", b, "wb");
    write_gz("data/train/b.csv.gz", a, "ab"); /* second gzip member */
    write_rows("data/train/c.csv", 20, 1);    /* plain, next to gzip ones */
    smg_error_clear(&err);
    assert_int_equal(smg_channel_open(&c, &ch, &err), SMG_OK);
    assert_int_equal(read_epoch(ch, 0, v, 64, &n, NULL, &nb, &err), SMG_EEOF);
    const float want[] = {0, 1, 2, 3, 10, 11, 12, 0, 1, 2, 3, 20};
    assert_int_equal(n, 12);
    for (size_t i = 0; i < n; i++)
        assert_true(v[i] == want[i]);
    smg_channel_free(ch);

    /* corrupt: flip bytes in the middle of the deflate data */
    char p[512];
    path_of(p, sizeof(p), "data/train/a.csv.gz");
    int fd = open(p, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "\xff\xff\xff\xff\xff\xff", 6, 12), 6);
    close(fd);
    smg_error_clear(&err);
    assert_int_equal(smg_channel_open(&c, &ch, &err), SMG_OK);
    assert_int_equal(read_epoch(ch, 0, v, 64, &n, NULL, &nb, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "gzip"));
    assert_non_null(strstr(err.msg, "a.csv.gz"));
    smg_channel_free(ch);
    /* truncated gzip: a clear error too */
    assert_int_equal(truncate(p, 15), 0);
    smg_error_clear(&err);
    assert_int_equal(smg_channel_open(&c, &ch, &err), SMG_OK);
    assert_int_equal(read_epoch(ch, 0, v, 64, &n, NULL, &nb, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "gzip"));
    smg_channel_free(ch);
    free(a);
    free(b);
}

static void test_error_propagates_after_good_batches(void **state)
{
    struct smg_channel_config c = csv_config("train", 2);
    struct smg_channel *ch;
    struct smg_error err;
    float v[64];
    size_t n, nb;
    (void)state;
    mkdirs("data/train");
    write_rows("data/train/a.csv", 0, 4);
    write_file("data/train/b.csv", "1,-1\n2,oops\n");
    smg_error_clear(&err);
    assert_int_equal(smg_channel_open(&c, &ch, &err), SMG_OK);
    assert_int_equal(read_epoch(ch, 0, v, 64, &n, NULL, &nb, &err), SMG_EFORMAT);
    assert_int_equal(n, 4); /* the two good batches arrive first */
    assert_non_null(strstr(err.msg, "b.csv"));
    assert_non_null(strstr(err.msg, "line 2"));
    smg_channel_free(ch);
}

static void test_stop_flag_and_early_close(void **state)
{
    volatile sig_atomic_t stop = 0;
    struct smg_channel_config c = csv_config("train", 10);
    struct smg_channel *ch;
    struct smg_batch b;
    struct smg_error err;
    (void)state;
    mkdirs("data/train");
    write_rows("data/train/a.csv", 0, 5000);
    c.stop = &stop;
    smg_error_clear(&err);
    assert_int_equal(smg_channel_open(&c, &ch, &err), SMG_OK);
    assert_int_equal(smg_channel_begin_epoch(ch, 0, &err), SMG_OK);
    assert_int_equal(smg_channel_next_batch(ch, &b, &err), SMG_OK);
    stop = 1;
    assert_int_equal(smg_channel_next_batch(ch, &b, &err), SMG_ESTOPPED);
    smg_channel_end_epoch(ch);
    stop = 0;
    /* early close: one batch, end, next epoch starts from the beginning */
    for (unsigned e = 1; e < 4; e++) {
        smg_error_clear(&err);
        assert_int_equal(smg_channel_begin_epoch(ch, e, &err), SMG_OK);
        assert_int_equal(smg_channel_next_batch(ch, &b, &err), SMG_OK);
        assert_true(b.x[0] == 0.0f);
        assert_int_equal(b.rows, 10);
        smg_channel_end_epoch(ch);
    }
    smg_channel_free(ch);
}

/* ---- Pipe mode ---- */

struct writer_args {
    char path[512];
    int delay_ms;
    const char *data;
    size_t len;
};

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Create the FIFO after a delay, open it for writing (blocking), write, close. */
static void *fifo_writer(void *arg)
{
    struct writer_args *w = arg;
    int fd;
    sleep_ms(w->delay_ms);
    mkfifo(w->path, 0600);
    fd = open(w->path, O_WRONLY);
    if (fd >= 0) {
        size_t off = 0;
        while (off < w->len) {
            ssize_t n = write(fd, w->data + off, w->len - off);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        close(fd);
    }
    unlink(w->path);
    return NULL;
}

static struct smg_channel_config pipe_config(const char *name, size_t batch)
{
    struct smg_channel_config c = csv_config(name, batch);
    c.mode = SMG_MODE_PIPE;
    return c;
}

static void test_pipe_reader_first_three_epochs_two_channels(void **state)
{
    struct smg_channel_config ct = pipe_config("train", 3), cv = pipe_config("test", 3);
    struct smg_channel *tr, *te;
    struct smg_error err;
    float v[64];
    size_t n, nb;
    char *rows = csv_rows(0, 7), *trows = csv_rows(500, 2);
    (void)state;
    smg_error_clear(&err);
    assert_int_equal(smg_channel_open(&ct, &tr, &err), SMG_OK);
    assert_int_equal(smg_channel_open(&cv, &te, &err), SMG_OK);
    for (unsigned e = 0; e < 3; e++) {
        struct writer_args wt = {"", 100, rows, strlen(rows)}, wv = {"", 50, trows, strlen(trows)};
        pthread_t t1, t2;
        char rel[64];
        snprintf(rel, sizeof(rel), "data/train_%u", e);
        path_of(wt.path, sizeof(wt.path), rel);
        snprintf(rel, sizeof(rel), "data/test_%u", e);
        path_of(wv.path, sizeof(wv.path), rel);
        /* the readers start before the FIFOs exist */
        assert_int_equal(smg_channel_begin_epoch(tr, e, &err), SMG_OK);
        assert_int_equal(smg_channel_begin_epoch(te, e, &err), SMG_OK);
        pthread_create(&t1, NULL, fifo_writer, &wt);
        pthread_create(&t2, NULL, fifo_writer, &wv);
        assert_int_equal(read_begun(te, v, 64, &n, NULL, &nb, &err), SMG_EEOF);
        assert_int_equal(n, 2);
        assert_true(v[0] == 500.0f);
        assert_int_equal(read_begun(tr, v, 64, &n, NULL, &nb, &err), SMG_EEOF);
        assert_int_equal(n, 7);
        assert_int_equal(nb, 3);
        for (size_t i = 0; i < n; i++)
            assert_true(v[i] == (float)i);
        pthread_join(t1, NULL);
        pthread_join(t2, NULL);
    }
    smg_channel_free(tr);
    smg_channel_free(te);
    free(rows);
    free(trows);
}

static void test_pipe_writer_dies_mid_record(void **state)
{
    struct smg_channel_config c = pipe_config("train", 3);
    struct smg_channel *ch;
    struct smg_error err;
    float v[64];
    size_t n, nb;
    char p[512];
    pid_t pid;
    int status;
    (void)state;
    c.format.rows = SMG_ROWS_RECORDIO_PROTOBUF;
    path_of(p, sizeof(p), "data/train_0");
    assert_int_equal(mkfifo(p, 0600), 0);
    pid = fork();
    if (pid == 0) {
        /* RecordIO header promising 100 bytes, then 10 and death */
        static const unsigned char part[] = {0x0a, 0x23, 0xd7, 0xce, 100, 0, 0, 0, 1,
                                             2,    3,    4,    5,    6,   7, 8, 9, 10};
        int fd = open(p, O_WRONLY);
        if (write(fd, part, sizeof(part)) < 0)
            _exit(3);
        _exit(0);
    }
    smg_error_clear(&err);
    assert_int_equal(smg_channel_open(&c, &ch, &err), SMG_OK);
    assert_int_equal(read_epoch(ch, 0, v, 64, &n, NULL, &nb, &err), SMG_EFORMAT);
    assert_non_null(strstr(err.msg, "train_0"));
    assert_non_null(strstr(err.msg, "truncated"));
    waitpid(pid, &status, 0);
    smg_channel_free(ch);
    unlink(p);
}

static void test_pipe_timeouts(void **state)
{
    struct smg_channel_config c = pipe_config("train", 3);
    struct smg_channel *ch;
    struct smg_error err;
    float v[4];
    size_t n, nb;
    char p[512];
    long long t0;
    (void)state;
    c.pipe_timeout_ms = 300;
    smg_error_clear(&err);
    assert_int_equal(smg_channel_open(&c, &ch, &err), SMG_OK);
    t0 = smg_fifo_now_ms();
    assert_int_equal(read_epoch(ch, 2, v, 4, &n, NULL, &nb, &err), SMG_ETIMEOUT);
    assert_true(smg_fifo_now_ms() - t0 < 3000);
    assert_non_null(strstr(err.msg, "timed out after 0.3 s waiting for FIFO"));
    assert_non_null(strstr(err.msg, "train_2 (channel train, epoch 2)"));
    /* the FIFO exists but no writer ever opens it */
    path_of(p, sizeof(p), "data/train_3");
    assert_int_equal(mkfifo(p, 0600), 0);
    smg_error_clear(&err);
    assert_int_equal(read_epoch(ch, 3, v, 4, &n, NULL, &nb, &err), SMG_ETIMEOUT);
    assert_non_null(strstr(err.msg, "no writer"));
    unlink(p);
    smg_channel_free(ch);
}

static void test_pipe_close_early_writer_blocked(void **state)
{
    struct smg_channel_config c = pipe_config("train", 4);
    struct smg_channel *ch;
    struct smg_batch b;
    struct smg_error err;
    char p[512];
    pid_t pid;
    int status;
    long long t0;
    (void)state;
    path_of(p, sizeof(p), "data/train_0");
    assert_int_equal(mkfifo(p, 0600), 0);
    pid = fork();
    if (pid == 0) {
        /* an endless writer: blocks on the full pipe until the reader leaves */
        char *rows = csv_rows(0, 1000);
        size_t len = strlen(rows);
        int fd = open(p, O_WRONLY);
        signal(SIGPIPE, SIG_IGN);
        for (;;)
            if (write(fd, rows, len) < 0)
                _exit(errno == EPIPE ? 0 : 4);
    }
    smg_error_clear(&err);
    assert_int_equal(smg_channel_open(&c, &ch, &err), SMG_OK);
    assert_int_equal(smg_channel_begin_epoch(ch, 0, &err), SMG_OK);
    assert_int_equal(smg_channel_next_batch(ch, &b, &err), SMG_OK);
    assert_int_equal(b.rows, 4);
    sleep_ms(100); /* let the writer fill the pipe and block */
    t0 = smg_fifo_now_ms();
    smg_channel_end_epoch(ch);
    assert_true(smg_fifo_now_ms() - t0 < 2000);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0); /* the writer saw EPIPE */
    smg_channel_free(ch);
    unlink(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_file_mode_order_batches_hidden, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rank_split, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_channel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_propagates_after_good_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_flag_and_early_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipe_reader_first_three_epochs_two_channels, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pipe_writer_dies_mid_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipe_timeouts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipe_close_early_writer_blocked, setup, teardown),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * A channel decoding on several threads (channel.h, decode_threads) against
 * the same channel on one, on real files and a real FIFO.
 *
 * Every batch (its row count, first record and bytes) must be identical for
 * decode_threads 1, 2 and 4, with batches that run across file boundaries, a
 * gzip file among plain ones, and a ragged last batch; a bad row in the
 * second file must give the same message (naming that file and line) and the
 * same good batches before it; Pipe mode likewise through a FIFO. The stage
 * split reports the decode thread count and some read time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "files_helpers.h"
#include "io/channel.h"

#define DIM 3

static char root[256];

/* Everything one epoch delivered: the batches' bytes and sizes, and how it ended. */
struct epoch {
    float *x;
    size_t rows, batches, sizes[2048];
    int rc;
    struct smg_error err;
    struct smg_channel_stats st;
};

/* n CSV rows starting at row base; row `bad` (if < base + n) holds a non-number. */
static char *csv_text(size_t base, size_t n, size_t bad)
{
    size_t cap = n * 64 + 1, used = 0;
    char *s = malloc(cap);
    s[0] = '\0';
    for (size_t i = base; i < base + n; i++) {
        if (i == bad)
            used += (size_t)snprintf(s + used, cap - used, "%zu.5,x,%zu\n", i, i);
        else
            used += (size_t)snprintf(s + used, cap - used, "%zu.5,-%zu.25,%zu\n", i, i, i * 3);
    }
    return s;
}

static void write_gzip(const char *path, const char *text)
{
    gzFile g = gzopen(path, "wb");
    assert_non_null(g);
    assert_int_equal(gzwrite(g, text, (unsigned)strlen(text)), (int)strlen(text));
    assert_int_equal(gzclose(g), Z_OK);
}

/* Three files of 700, 1 and 1299 rows under data/train (the middle one gzip'd). */
static void write_files(size_t bad)
{
    static const size_t n[3] = {700, 1, 1299};
    char path[512];
    size_t base = 0;

    for (int f = 0; f < 3; f++) {
        char *t = csv_text(base, n[f], bad);
        snprintf(path, sizeof(path), "%s/data/train/part-%d.csv%s", root, f, f == 1 ? ".gz" : "");
        if (f == 1)
            write_gzip(path, t);
        else
            files_write(path, t);
        free(t);
        base += n[f];
    }
}

static struct smg_channel_config config(enum smg_input_mode mode, size_t batch, unsigned threads)
{
    static char dd[512];
    struct smg_channel_config c;
    memset(&c, 0, sizeof(c));
    snprintf(dd, sizeof(dd), "%s/data", root);
    c.name = "train";
    c.data_dir = dd;
    c.mode = mode;
    c.format.rows = SMG_ROWS_CSV;
    c.format.feature_dim = DIM;
    c.batch_rows = batch;
    c.pipe_timeout_ms = 10000;
    c.ranks_on_host = 1;
    c.accept_csr = true; /* as the trainers open it: the layout is decided on the first record */
    c.decode_threads = threads;
    return c;
}

static void read_epoch(const struct smg_channel_config *cfg, struct epoch *e)
{
    struct smg_channel *ch = NULL;
    struct smg_batch b;

    memset(e, 0, sizeof(*e));
    smg_error_clear(&e->err);
    assert_int_equal(smg_channel_open(cfg, &ch, &e->err), SMG_OK);
    assert_int_equal(smg_channel_begin_epoch(ch, 0, &e->err), SMG_OK);
    while ((e->rc = smg_channel_next_batch(ch, &b, &e->err)) == SMG_OK) {
        assert_true(e->batches < 2048);
        assert_int_equal(b.first_record, e->rows);
        e->x = realloc(e->x, (e->rows + b.rows) * DIM * sizeof(float));
        memcpy(e->x + e->rows * DIM, b.x, b.rows * DIM * sizeof(float));
        e->sizes[e->batches++] = b.rows;
        e->rows += b.rows;
    }
    smg_channel_end_epoch(ch);
    smg_channel_stats(ch, &e->st);
    smg_channel_free(ch);
}

static void assert_same_epoch(const struct epoch *a, const struct epoch *b)
{
    assert_int_equal(a->rc, b->rc);
    assert_string_equal(a->err.msg, b->err.msg);
    assert_int_equal(a->rows, b->rows);
    assert_int_equal(a->batches, b->batches);
    assert_memory_equal(a->sizes, b->sizes, a->batches * sizeof(size_t));
    if (a->rows > 0)
        assert_memory_equal(a->x, b->x, a->rows * DIM * sizeof(float));
}

static int setup(void **state)
{
    char p[512];
    (void)state;
    if (files_temp_dir(root, sizeof(root), "chdecode") != 0)
        return -1;
    snprintf(p, sizeof(p), "%s/data/train", root);
    files_mkdirs(p);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return files_remove_tree(root);
}

static void test_file_mode_same_batches(void **state)
{
    static const size_t batches[] = {1, 333, 700, 1000, 5000};
    struct epoch one, many;
    (void)state;

    write_files(SIZE_MAX);
    for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
        struct smg_channel_config c1 = config(SMG_MODE_FILE, batches[i], 1);
        read_epoch(&c1, &one);
        assert_int_equal(one.rc, SMG_EEOF);
        assert_int_equal(one.rows, 2000);
        assert_int_equal(one.st.decode_threads, 1);
        for (unsigned t = 2; t <= 4; t += 2) {
            struct smg_channel_config ct = config(SMG_MODE_FILE, batches[i], t);
            read_epoch(&ct, &many);
            assert_same_epoch(&one, &many);
            assert_int_equal(many.st.decode_threads, t);
            assert_true(many.st.read_s > 0.0 && many.st.decode_cpu_s > 0.0);
            free(many.x);
            /* The job's layout: decoding on the trainer's pool, which this thread made. */
            struct smg_pool *pool = NULL;
            assert_int_equal(smg_pool_new(t, &pool, NULL), SMG_OK);
            ct.pool = pool;
            read_epoch(&ct, &many);
            assert_same_epoch(&one, &many);
            assert_int_equal(many.st.decode_threads, t);
            smg_pool_free(pool);
            free(many.x);
        }
        assert_true(one.x[1999 * DIM] == 1999.5f && one.x[1999 * DIM + 1] == -1999.25f);
        free(one.x);
    }
}

/* A bad row in the gzip'd file, and one in the third file at a part boundary. */
static void test_file_mode_same_error(void **state)
{
    static const size_t bad[] = {700, 701, 1764, 1999};
    struct epoch one, many;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        write_files(bad[i]);
        struct smg_channel_config c1 = config(SMG_MODE_FILE, 1000, 1);
        struct smg_channel_config c3 = config(SMG_MODE_FILE, 1000, 3);
        read_epoch(&c1, &one);
        read_epoch(&c3, &many);
        assert_int_equal(one.rc, SMG_EFORMAT);
        assert_same_epoch(&one, &many);
        assert_non_null(strstr(many.err.msg, bad[i] == 700 ? "part-1.csv.gz: line 1, column 2"
                                                           : "part-2.csv: line "));
        free(one.x);
        free(many.x);
    }
    char expect[64];
    snprintf(expect, sizeof(expect), "part-2.csv: line %d, column 2", 1764 - 701 + 1);
    write_files(1764);
    struct smg_channel_config c4 = config(SMG_MODE_FILE, 1000, 4);
    read_epoch(&c4, &many);
    assert_non_null(strstr(many.err.msg, expect));
    assert_int_equal(many.rows, 1000); /* the first batch, then the error */
    free(many.x);
}

struct writer {
    char path[512];
    char *text;
};

static void *write_fifo(void *arg)
{
    struct writer *w = arg;
    int fd = open(w->path, O_WRONLY);
    size_t len = strlen(w->text), off = 0;
    while (fd >= 0 && off < len) {
        ssize_t n = write(fd, w->text + off, len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static void read_pipe_epoch(size_t bad, unsigned threads, struct epoch *e)
{
    struct writer w;
    pthread_t t;

    snprintf(w.path, sizeof(w.path), "%s/data/train_0", root);
    unlink(w.path);
    assert_int_equal(mkfifo(w.path, 0600), 0);
    w.text = csv_text(0, 3001, bad);
    assert_int_equal(pthread_create(&t, NULL, write_fifo, &w), 0);
    struct smg_channel_config c = config(SMG_MODE_PIPE, 1000, threads);
    read_epoch(&c, e);
    pthread_join(t, NULL);
    free(w.text);
    unlink(w.path);
}

static void test_pipe_mode_same_batches_and_error(void **state)
{
    struct epoch one, many;
    (void)state;

    read_pipe_epoch(SIZE_MAX, 1, &one);
    read_pipe_epoch(SIZE_MAX, 2, &many);
    assert_int_equal(one.rc, SMG_EEOF);
    assert_int_equal(one.rows, 3001);
    assert_same_epoch(&one, &many);
    free(one.x);
    free(many.x);
    read_pipe_epoch(2500, 1, &one);
    read_pipe_epoch(2500, 2, &many);
    assert_int_equal(one.rc, SMG_EFORMAT);
    assert_same_epoch(&one, &many);
    assert_non_null(strstr(many.err.msg, "train_0: line 2501, column 2"));
    free(one.x);
    free(many.x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_mode_same_batches),
        cmocka_unit_test(test_file_mode_same_error),
        cmocka_unit_test(test_pipe_mode_same_batches_and_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * output/failure and the stop signal: the failure file's first line is
 * "ClientError: ..." or "AlgorithmError: ...", written atomically (no
 * temporary file left behind), the output folder created when missing, and
 * SIGTERM/SIGINT set the job's stop flag without ending the process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files_helpers.h"
#include "io/base/alloc.h"
#include "io/base/log.h"
#include "runtime/failure.h"
#include "runtime/signals.h"

static char root[256];
static char out_dir[300];

static int setup(void **state)
{
    (void)state;
    if (files_temp_dir(root, sizeof(root), "failure") != 0)
        return -1;
    snprintf(out_dir, sizeof(out_dir), "%s/output", root);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return files_remove_tree(root);
}

static void read_failure(char *buf, size_t size)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/failure", out_dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static size_t count_entries(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void test_client_error_file(void **state)
{
    struct smg_error err;
    char buf[2048];
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *log = open_memstream(&logbuf, &loglen);
    (void)state;
    smg_error_clear(&err);
    smg_error_set(&err, SMG_ECONFIG, "hyperparameter 'k' = '1' is out of range");
    smg_log_set_stream(log);
    assert_int_equal(smg_failure_report(out_dir, &err), SMG_OK);
    smg_log_set_stream(NULL);
    fclose(log);
    read_failure(buf, sizeof(buf));
    assert_string_equal(buf, "ClientError: hyperparameter 'k' = '1' is out of range\n");
    assert_non_null(strstr(logbuf, " ERROR "));
    assert_non_null(strstr(logbuf, "] ClientError: hyperparameter 'k'"));
    assert_int_equal(count_entries(out_dir), 1); /* no temporary file left */
    free(logbuf);
}

static void test_algorithm_error_file(void **state)
{
    struct smg_error err;
    char buf[2048];
    FILE *devnull = fopen("/dev/null", "w");
    (void)state;
    smg_error_clear(&err);
    smg_error_set(&err, SMG_ENOMEM, "out of memory allocating 4 GB for the covariance");
    smg_log_set_stream(devnull);
    assert_int_equal(smg_failure_report(out_dir, &err), SMG_OK);
    /* A second report replaces the first whole. */
    smg_error_clear(&err);
    smg_error_set(&err, SMG_EINTERNAL, "LAPACKE_dsyevd failed: 3");
    assert_int_equal(smg_failure_report(out_dir, &err), SMG_OK);
    smg_log_set_stream(NULL);
    fclose(devnull);
    read_failure(buf, sizeof(buf));
    assert_string_equal(buf, "AlgorithmError: LAPACKE_dsyevd failed: 3\n");
}

/* Out of memory is a common reason to fail: the report must not need the heap. */
static void test_written_without_memory(void **state)
{
    struct smg_error err;
    char buf[2048];
    FILE *devnull = fopen("/dev/null", "w");
    (void)state;
    smg_error_clear(&err);
    smg_error_set(&err, SMG_ENOMEM, "out of memory for the mini-batch");
    smg_log_set_stream(devnull);
    smg_alloc_fail_after(0);
    assert_int_equal(smg_failure_report(out_dir, &err), SMG_OK);
    smg_alloc_reset();
    smg_log_set_stream(NULL);
    fclose(devnull);
    read_failure(buf, sizeof(buf));
    assert_string_equal(buf, "AlgorithmError: out of memory for the mini-batch\n");
    assert_int_equal(count_entries(out_dir), 1);
}

static void test_long_message_first_line(void **state)
{
    struct smg_error err;
    char buf[4096];
    char big[3000];
    FILE *devnull = fopen("/dev/null", "w");
    (void)state;
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    smg_error_clear(&err);
    smg_error_set(&err, SMG_EFORMAT, "train/part-0: record 3 at byte 16:\n%s", big);
    smg_log_set_stream(devnull);
    assert_int_equal(smg_failure_report(out_dir, &err), SMG_OK);
    smg_log_set_stream(NULL);
    fclose(devnull);
    read_failure(buf, sizeof(buf));
    /* One line, and the reason fits SageMaker's 1024-character FailureReason. */
    assert_true(strlen(buf) <= 1024 + 16);
    assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);
    assert_true(strncmp(buf, "ClientError: train/part-0: record 3 at byte 16: zzz", 51) == 0);
}

static void test_unwritable_output(void **state)
{
    struct smg_error err;
    FILE *devnull = fopen("/dev/null", "w");
    (void)state;
    smg_error_clear(&err);
    smg_error_set(&err, SMG_ECONFIG, "x");
    smg_log_set_stream(devnull);
    assert_int_equal(smg_failure_report("/nonexistent/root/output", &err), SMG_EIO);
    assert_int_equal(smg_failure_report(NULL, &err), SMG_EIO);
    smg_log_set_stream(NULL);
    fclose(devnull);
}

static void test_clear(void **state)
{
    char path[400];
    struct stat st;
    (void)state;
    assert_int_equal(smg_failure_write(out_dir, "ClientError: old"), SMG_OK);
    snprintf(path, sizeof(path), "%s/failure", out_dir);
    assert_int_equal(stat(path, &st), 0);
    smg_failure_clear(out_dir);
    assert_int_not_equal(stat(path, &st), 0);
}

/* Issue 13 point 10: invalid UTF-8 from the input is escaped, valid UTF-8 kept. */
static void test_invalid_utf8_is_escaped(void **state)
{
    char buf[512], out[16];
    (void)state;
    assert_int_equal(smg_failure_write(out_dir, "ClientError: field '\xff\xfe' \xc3\xa9t\xc3 "
                                                "\xe0\x80\x80 \xed\xa0\x80 \xf4\x90\x80\x80 "
                                                "\xf0\x9f\x98\x80"),
                     SMG_OK);
    read_failure(buf, sizeof(buf));
    assert_string_equal(buf, "ClientError: field '\\xFF\\xFE' \xc3\xa9t\\xC3 "
                             "\\xE0\\x80\\x80 \\xED\\xA0\\x80 \\xF4\\x90\\x80\\x80 "
                             "\xf0\x9f\x98\x80\n");
    /* A character that does not fit is not cut in half; neither is an escape. */
    assert_int_equal(smg_failure_escape("ab\xc3\xa9", 4, out, 3), 2);
    assert_int_equal(smg_failure_escape("ab\xff", 3, out, 5), 2);
    assert_int_equal(smg_failure_escape("ab\xff", 3, out, 6), 6);
    assert_memory_equal(out, "ab\\xFF", 6);
}

static void test_signal_sets_flag(void **state)
{
    (void)state;
    volatile sig_atomic_t *flag = smg_signals_install(out_dir);
    assert_int_equal(*flag, 0);
    raise(SIGTERM);
    alarm(0); /* disarm the grace-period watchdog the handler started */
    assert_int_equal(*flag, SIGTERM);
    assert_string_equal(smg_signal_name((int)*flag), "SIGTERM");
    flag = smg_signals_install(out_dir);
    assert_int_equal(*flag, 0);
    raise(SIGINT);
    alarm(0);
    assert_int_equal(*flag, SIGINT);
    assert_string_equal(smg_signal_name(SIGINT), "SIGINT");
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGALRM, SIG_DFL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_client_error_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_algorithm_error_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_written_without_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_message_first_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_is_escaped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_sets_flag, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

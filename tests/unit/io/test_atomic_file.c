/*
 * The atomic-write helper: a write replaces the file whole with the asked
 * mode and leaves no temporary file; a failure (missing folder, a folder in
 * the destination's place) names the step, keeps the old file and cleans up;
 * the async-signal-safe variant does the same with the caller's names; out of
 * memory is a clean SMG_ENOMEM.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/atomic_file.h"
#include "io/base/alloc.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/smg_atomic_XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void expect_content(const char *path, const char *want)
{
    char got[256] = {0};
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(got, 1, sizeof(got) - 1, f), strlen(want));
    fclose(f);
    assert_string_equal(got, want);
}

/* No temporary file (a dot file) left in dir. */
static void expect_no_temporaries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && e->d_name[0] == '.')
            fail_msg("temporary file %s left behind", e->d_name);
    closedir(d);
}

static void test_replace(void **state)
{
    char path[300];
    struct smg_error err;
    struct stat st;
    (void)state;

    snprintf(path, sizeof(path), "%s/model", dir);
    smg_error_clear(&err);
    assert_int_equal(smg_atomic_write(path, "first", 5, 0644, &err), SMG_OK);
    expect_content(path, "first");
    assert_int_equal(smg_atomic_write(path, "second!", 7, 0600, &err), SMG_OK);
    expect_content(path, "second!");
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(smg_atomic_write(path, NULL, 0, 0644, &err), SMG_OK);
    expect_content(path, "");
    expect_no_temporaries();
}

static void test_failures(void **state)
{
    char path[300];
    struct smg_error err;
    (void)state;

    snprintf(path, sizeof(path), "%s/no/such/folder/model", dir);
    smg_error_clear(&err);
    assert_int_equal(smg_atomic_write(path, "x", 1, 0644, &err), SMG_EIO);
    assert_non_null(strstr(err.msg, "cannot create a temporary file in"));
    assert_non_null(strstr(err.msg, path));

    /* a folder where the file should go: the rename fails, the folder stays */
    snprintf(path, sizeof(path), "%s/taken", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    smg_error_clear(&err);
    assert_int_equal(smg_atomic_write(path, "x", 1, 0644, &err), SMG_EIO);
    assert_non_null(strstr(err.msg, "into place"));
    expect_no_temporaries();
    assert_int_equal(rmdir(path), 0);
}

static void test_raw(void **state)
{
    char path[300], tmp[300];
    const char *step = NULL;
    (void)state;

    snprintf(path, sizeof(path), "%s/failure", dir);
    snprintf(tmp, sizeof(tmp), "%s/.failure.sig", dir);
    assert_int_equal(smg_atomic_write_raw(path, tmp, dir, "ClientError: x\n", 15, 0644, &step), 0);
    expect_content(path, "ClientError: x\n");
    expect_no_temporaries();
    snprintf(tmp, sizeof(tmp), "%s/missing/.failure.sig", dir);
    assert_int_not_equal(smg_atomic_write_raw(path, tmp, NULL, "y", 1, 0644, &step), 0);
    assert_string_equal(step, "create");
    expect_content(path, "ClientError: x\n");
    assert_int_equal(unlink(path), 0);
}

static void test_out_of_memory(void **state)
{
    char path[300];
    (void)state;

    snprintf(path, sizeof(path), "%s/model", dir);
    for (long n = 0; n < 3; n++) {
        struct smg_error err;
        smg_error_clear(&err);
        smg_alloc_fail_after(n);
        enum smg_status rc = smg_atomic_write(path, "z", 1, 0644, &err);
        smg_alloc_reset();
        assert_true(rc == SMG_OK || rc == SMG_ENOMEM);
    }
    expect_content(path, "z");
    assert_int_equal(unlink(path), 0);
    expect_no_temporaries();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replace),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_out_of_memory),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

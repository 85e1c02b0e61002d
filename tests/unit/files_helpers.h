/*
 * Helpers shared by the unit tests that work on real files: read a whole file
 * into memory, write a text file, make a folder with its parents, create a
 * private temporary folder under /tmp and remove it again with everything
 * below it.
 *
 * They use plain malloc and stdio rather than io/alloc.h on purpose: tests arm
 * the allocation-failure hook around the code under test, and a helper must
 * never be the allocation that fails. Writers assert (cmocka) so that a broken
 * test setup stops at the line that caused it; readers return NULL so that a
 * test can decide whether a missing file is a failure or a skip. Include it
 * after <cmocka.h>.
 */
#ifndef SMG_TEST_FILES_HELPERS_H
#define SMG_TEST_FILES_HELPERS_H

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * The whole file at path, NUL-terminated (so text can be parsed in place),
 * malloc'd for the caller to free; its length (without the NUL) in *len when
 * len is not NULL (0 on failure). NULL when the file cannot be opened or read.
 */
static inline char *files_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (len != NULL)
        *len = 0;
    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        if (buf != NULL) {
            buf[n] = '\0';
            if (len != NULL)
                *len = (size_t)n;
        }
    }
    fclose(f);
    return buf;
}

/* Create (or truncate) path holding text; asserts on any failure. */
static inline void files_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
}

static inline bool files_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir -p: path and every missing parent; asserts when one cannot be made. */
static inline void files_mkdirs(const char *path)
{
    char p[1024];
    size_t n = strlen(path);

    assert_true(n > 0 && n < sizeof(p));
    memcpy(p, path, n + 1);
    for (char *s = p + 1; (s = strchr(s, '/')) != NULL; s++) {
        *s = '\0';
        assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
        *s = '/';
    }
    assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

/*
 * A new private folder /tmp/smg_test_<name>_XXXXXX, its path in buf. Returns 0,
 * or -1 when it cannot be created (for cmocka setup functions to return).
 */
static inline int files_temp_dir(char *buf, size_t cap, const char *name)
{
    int n = snprintf(buf, cap, "/tmp/smg_test_%s_XXXXXX", name);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return mkdtemp(buf) != NULL ? 0 : -1;
}

static inline int files_remove_entry(const char *path, const struct stat *st, int flag,
                                     struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* rm -rf path, without following symbolic links. Returns 0 or -1. */
static inline int files_remove_tree(const char *path)
{
    return nftw(path, files_remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

#endif

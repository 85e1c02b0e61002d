/*
 * NDArray model files on disk: smg_ndarray_load reads a whole file and decodes
 * it (ndarray.c); smg_ndarray_save encodes a file and writes it atomically.
 *
 * The save follows the classic recipe (as Redis writes its RDB): encode into
 * memory first, so no encoding error can leave a half-written file, then
 * replace the file atomically (atomic_file.h: temporary file, fsync, rename,
 * fsync the folder). A crash can at worst leave a stray ".<name>.tmp-XXXXXX"
 * beside the model, never a truncated model.
 */
#include "io/ndarray.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "io/base/alloc.h"

static int read_all(int fd, unsigned char *buf, size_t len, const char *path, struct smg_error *err)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = read(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return smg_error_set(err, SMG_EIO, "%s: read failed at byte %zu: %s", path, done,
                                 strerror(errno));
        if (n == 0)
            return smg_error_set(err, SMG_EIO, "%s: file shrank while reading (at byte %zu)", path,
                                 done);
        done += (size_t)n;
    }
    return SMG_OK;
}

enum smg_status smg_ndarray_load(const char *path, struct smg_ndarray_file **out,
                                 struct smg_error *err)
{
    unsigned char *buf = NULL;
    struct stat st;
    size_t len;
    int fd, rc;

    *out = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return smg_error_set(err, SMG_EIO, "%s: cannot open model file: %s", path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = smg_error_set(err, SMG_EIO, "%s: not a regular file", path);
        goto out;
    }
    if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX / 2) {
        rc = smg_error_set(err, SMG_EIO, "%s: file too large", path);
        goto out;
    }
    len = (size_t)st.st_size;
    buf = smg_malloc(len);
    if (buf == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "%s: out of memory reading %zu bytes", path, len);
        goto out;
    }
    if ((rc = read_all(fd, buf, len, path, err)) != SMG_OK)
        goto out;
    rc = smg_ndarray_decode(buf, len, out, err);
    if (rc != SMG_OK)
        smg_error_prefix(err, "%s: ", path);
out:
    smg_free(buf);
    close(fd);
    return rc;
}

enum smg_status smg_ndarray_save(const char *path, const struct smg_ndarray_file *f,
                                 struct smg_error *err)
{
    void *buf = NULL;
    size_t len = 0;
    int rc;

    if (path == NULL || path[0] == '\0' || path[strlen(path) - 1] == '/')
        return smg_error_set(err, SMG_EINTERNAL, "smg_ndarray_save: bad path");
    if ((rc = smg_ndarray_encode(f, &buf, &len, err)) != SMG_OK) {
        smg_error_prefix(err, "%s: ", path);
        return rc;
    }
    rc = smg_atomic_write(path, buf, len, 0644, err);
    smg_free(buf);
    return rc;
}

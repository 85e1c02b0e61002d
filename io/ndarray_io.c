/*
 * NDArray model files on disk: smg_ndarray_load reads a whole file and decodes
 * it (ndarray.c); smg_ndarray_save encodes a file and writes it atomically.
 *
 * The save follows the classic recipe (as Redis writes its RDB): encode into
 * memory first, so no encoding error can leave a half-written file; write a
 * temporary file created with mkstemp in the destination folder (so the
 * rename stays on one file system); fsync it; rename it over the destination;
 * fsync the folder so the rename itself is durable. On any failure the
 * temporary file is removed and the destination is left as it was. A crash
 * can at worst leave a stray ".<name>.tmp-XXXXXX" beside the model, never a
 * truncated model.
 */
#include "io/ndarray.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

int smg_ndarray_load(const char *path, struct smg_ndarray_file **out, struct smg_error *err)
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

static int write_all(int fd, const unsigned char *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = write(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* "dir/name" -> dir ("." when none) and "dir/.name.tmp-XXXXXX"; caller frees both. */
static int temp_paths(const char *path, char **dir, char **tmp)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash != NULL ? slash + 1 : path;
    size_t dlen = slash == NULL ? 1 : (slash == path ? 1 : (size_t)(slash - path));
    size_t tlen, blen = strlen(base);

    *tmp = NULL;
    *dir = smg_malloc(dlen + 1);
    if (*dir == NULL)
        return SMG_ENOMEM;
    memcpy(*dir, slash == NULL ? "." : path, dlen);
    (*dir)[dlen] = '\0';
    /* dir + "/." + base + ".tmp-XXXXXX" + NUL */
    if (!smg_add_size(dlen, blen, &tlen) || !smg_add_size(tlen, 2 + 11 + 1, &tlen))
        return SMG_ENOMEM;
    *tmp = smg_malloc(tlen);
    if (*tmp == NULL)
        return SMG_ENOMEM;
    snprintf(*tmp, tlen, "%s/.%s.tmp-XXXXXX", *dir, base);
    return SMG_OK;
}

int smg_ndarray_save(const char *path, const struct smg_ndarray_file *f, struct smg_error *err)
{
    void *buf = NULL;
    char *dir = NULL, *tmp = NULL;
    size_t len = 0;
    int fd = -1, dfd, rc;
    bool created = false;

    if (path == NULL || path[0] == '\0' || path[strlen(path) - 1] == '/')
        return smg_error_set(err, SMG_EINTERNAL, "smg_ndarray_save: bad path");
    if ((rc = smg_ndarray_encode(f, &buf, &len, err)) != SMG_OK) {
        smg_error_prefix(err, "%s: ", path);
        return rc;
    }
    if ((rc = temp_paths(path, &dir, &tmp)) != SMG_OK) {
        rc = smg_error_set(err, rc, "%s: out of memory", path);
        goto out;
    }
    fd = mkstemp(tmp);
    if (fd < 0) {
        rc = smg_error_set(err, SMG_EIO, "%s: cannot create a temporary file in %s: %s", path, dir,
                           strerror(errno));
        goto out;
    }
    created = true;
    if (fchmod(fd, 0644) != 0 || write_all(fd, buf, len) != 0 || fsync(fd) != 0) {
        rc = smg_error_set(err, SMG_EIO, "%s: cannot write %zu bytes to %s: %s", path, len, tmp,
                           strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = smg_error_set(err, SMG_EIO, "%s: cannot close %s: %s", path, tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = smg_error_set(err, SMG_EIO, "%s: cannot rename %s into place: %s", path, tmp,
                           strerror(errno));
        goto out;
    }
    created = false;
    /* Make the rename durable; a folder that refuses fsync is not an error. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    rc = SMG_OK;
out:
    if (fd >= 0)
        close(fd);
    if (created)
        unlink(tmp);
    smg_free(buf);
    smg_free(dir);
    smg_free(tmp);
    return rc;
}

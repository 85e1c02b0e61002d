/*
 * Atomic file replacement (see atomic_file.h). The core, finish(), uses only
 * async-signal-safe calls (write, fchmod, fsync, close, rename, unlink, open)
 * so that the signal handler's failure file and the model files go through
 * the same steps.
 */
#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/base/alloc.h"

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/*
 * Fill the open temporary file fd, close it, rename it over path and fsync
 * dir. Always closes fd; removes tmp on failure. 0 or an errno value.
 */
static int finish(int fd, const char *path, const char *tmp, const char *dir, const void *data,
                  size_t len, mode_t mode, const char **step)
{
    int e, dfd;

    *step = "write";
    if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        e = errno;
        close(fd);
        goto fail;
    }
    *step = "close";
    if (close(fd) != 0) {
        e = errno;
        goto fail;
    }
    *step = "rename";
    if (rename(tmp, path) != 0) {
        e = errno;
        goto fail;
    }
    /* Make the rename durable; a folder that refuses fsync is not an error. */
    if (dir != NULL && (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
fail:
    unlink(tmp);
    errno = e;
    return e != 0 ? e : EIO;
}

int smg_atomic_write_raw(const char *path, const char *tmp, const char *dir, const void *data,
                         size_t len, mode_t mode, const char **step)
{
    const char *dummy;
    int fd;

    if (step == NULL)
        step = &dummy;
    *step = "create";
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno != 0 ? errno : EIO;
    return finish(fd, path, tmp, dir, data, len, mode, step);
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

enum smg_status smg_atomic_write(const char *path, const void *data, size_t len, mode_t mode,
                                 struct smg_error *err)
{
    char *dir = NULL, *tmp = NULL;
    const char *step = "create";
    enum smg_status rc = SMG_OK;
    int fd, e;

    if (temp_paths(path, &dir, &tmp) != SMG_OK) {
        rc = (enum smg_status)smg_error_set(err, SMG_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    if ((fd = mkstemp(tmp)) < 0) {
        e = errno;
        rc = (enum smg_status)smg_error_set(
            err, SMG_EIO, "%s: cannot create a temporary file in %s: %s", path, dir, strerror(e));
        errno = e;
        goto out;
    }
    if ((e = finish(fd, path, tmp, dir, data, len, mode, &step)) != 0) {
        if (strcmp(step, "write") == 0)
            smg_error_set(err, SMG_EIO, "%s: cannot write %zu bytes to %s: %s", path, len, tmp,
                          strerror(e));
        else if (strcmp(step, "close") == 0)
            smg_error_set(err, SMG_EIO, "%s: cannot close %s: %s", path, tmp, strerror(e));
        else
            smg_error_set(err, SMG_EIO, "%s: cannot rename %s into place: %s", path, tmp,
                          strerror(e));
        rc = SMG_EIO;
        errno = e;
    }
out:
    e = errno;
    smg_free(dir);
    smg_free(tmp);
    errno = e;
    return rc;
}

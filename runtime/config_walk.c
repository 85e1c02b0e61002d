/*
 * Recursive walk of a channel folder with opendir/readdir and an explicit
 * depth limit, so a link loop ends in a clear error instead of a stack
 * overflow. Paths longer than PATH_MAX are reported, never truncated.
 */
#include "config_walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int walk(const char *dir, int depth, int (*fn)(const char *, void *, struct smg_error *),
                void *ctx, struct smg_error *err)
{
    DIR *d;
    struct dirent *e;
    int rc = SMG_OK;

    if (depth > SMG_WALK_MAX_DEPTH)
        return smg_error_set(err, SMG_ECONFIG, "%s: folders nest deeper than %d levels", dir,
                             SMG_WALK_MAX_DEPTH);
    d = opendir(dir);
    if (d == NULL)
        return smg_error_set(err, SMG_EIO, "cannot list data folder %s: %s", dir, strerror(errno));
    while (rc == SMG_OK && (e = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat st;
        int n;

        if (e->d_name[0] == '.')
            continue;
        n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (n < 0 || (size_t)n >= sizeof(path)) {
            rc = smg_error_set(err, SMG_ECONFIG, "%s/%s: path too long", dir, e->d_name);
            break;
        }
        if (stat(path, &st) != 0) {
            rc = smg_error_set(err, SMG_EIO, "cannot read data file %s: %s", path, strerror(errno));
            break;
        }
        if (S_ISDIR(st.st_mode))
            rc = walk(path, depth + 1, fn, ctx, err);
        else
            rc = fn(path, ctx, err);
    }
    closedir(d);
    return rc;
}

int smg_config_walk(const char *dir, int (*fn)(const char *path, void *ctx, struct smg_error *err),
                    void *ctx, struct smg_error *err)
{
    return walk(dir, 0, fn, ctx, err);
}

int smg_config_check_readable(const char *path, void *ctx, struct smg_error *err)
{
    /* O_NONBLOCK: a FIFO placed in a File-mode folder must not block us here. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    (void)ctx;
    if (fd < 0)
        return smg_error_set(err, SMG_EIO, "cannot read data file %s: %s", path, strerror(errno));
    close(fd);
    return SMG_OK;
}

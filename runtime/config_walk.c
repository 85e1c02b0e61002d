/*
 * The pre-training walk of a channel folder: smg_file_walk (io/file_list.c)
 * asked for every non-folder entry, plus the readability check used as its
 * visitor. Sharing the reader's walk keeps one definition of "the files of a
 * channel" (hidden names, links, depth limit, error messages).
 */
#include "runtime/config_walk.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "io/file_list.h"

enum smg_status smg_config_walk(const char *dir,
                                int (*fn)(const char *path, void *ctx, struct smg_error *err),
                                void *ctx, struct smg_error *err)
{
    return smg_file_walk(dir, SMG_WALK_NON_FOLDERS, fn, ctx, err);
}

enum smg_status smg_config_check_readable(const char *path, void *ctx, struct smg_error *err)
{
    /* O_NONBLOCK: a FIFO placed in a File-mode folder must not block us here. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    (void)ctx;
    if (fd < 0)
        return smg_error_set(err, SMG_EIO, "cannot read data file %s: %s", path, strerror(errno));
    close(fd);
    return SMG_OK;
}

/*
 * Writing output/failure. The text goes to a temporary file in the same
 * folder, is fsynced and renamed over "failure", then the folder is fsynced,
 * so after a crash there is either the old file, the new one, or none.
 */
#include "runtime/failure.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/base/log.h"

void smg_failure_text(const struct smg_error *e, char *buf, size_t size)
{
    const char *klass = e->klass == SMG_ALGORITHM_ERROR ? "AlgorithmError" : "ClientError";
    const char *msg = e->msg[0] != '\0' ? e->msg : smg_status_str(e->status);
    snprintf(buf, size, "%s: %s", klass, msg);
}

static int write_all(int fd, const char *p, size_t n)
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

int smg_failure_write(const char *output_dir, const char *text)
{
    char path[8192], tmp[8192];
    int fd, dfd;
    int saved;

    if (mkdir(output_dir, 0755) != 0 && errno != EEXIST)
        return SMG_EIO;
    snprintf(path, sizeof(path), "%s/failure", output_dir);
    snprintf(tmp, sizeof(tmp), "%s/.failure.tmp.%ld", output_dir, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return SMG_EIO;
    if (write_all(fd, text, strlen(text)) != 0 || write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
        saved = errno;
        close(fd);
        unlink(tmp);
        errno = saved;
        return SMG_EIO;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        saved = errno;
        unlink(tmp);
        errno = saved;
        return SMG_EIO;
    }
    dfd = open(output_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return SMG_OK;
}

int smg_failure_report(const char *output_dir, const struct smg_error *e)
{
    char text[SMG_ERROR_MSG_MAX + 32];

    smg_failure_text(e, text, sizeof(text));
    smg_log_error("%s", text);
    if (output_dir == NULL || output_dir[0] == '\0')
        return SMG_EIO;
    if (smg_failure_write(output_dir, text) != SMG_OK) {
        smg_log_error("could not write %s/failure: %s", output_dir, strerror(errno));
        return SMG_EIO;
    }
    return SMG_OK;
}

void smg_failure_clear(const char *output_dir)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/failure", output_dir);
    unlink(path);
}

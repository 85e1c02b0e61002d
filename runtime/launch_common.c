/*
 * Small helpers the leader and the workers of `smalgo launch` share: the
 * failure file (written once: the first cause wins), bounded text reads and
 * stopping sshd.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/base/log.h"
#include "runtime/failure.h"
#include "runtime/launch.h"
#include "runtime/launch_proc.h"

void smg_launch_fail(const struct smg_launch *l, const char *text)
{
    char path[8192];
    struct stat st;

    snprintf(path, sizeof(path), "%s/failure", l->job.output_dir);
    if (stat(path, &st) != 0 || st.st_size == 0)
        if (smg_failure_write(l->job.output_dir, text) != SMG_OK)
            smg_log_error("could not write %s", path);
    smg_log_error("%s", text);
}

void smg_launch_read_text(const char *path, char *buf, size_t max)
{
    size_t got = 0;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    buf[0] = '\0';
    if (fd < 0)
        return;
    while (got + 1 < max && (n = read(fd, buf + got, max - 1 - got)) > 0)
        got += (size_t)n;
    close(fd);
    while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
        got--;
    buf[got] = '\0';
}

void smg_launch_stop_sshd(struct smg_launch *l)
{
    if (l->sshd > 0)
        smg_proc_stop(l->sshd, 5.0);
    l->sshd = 0;
}

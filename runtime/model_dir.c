/*
 * Making the model folder ready before training (see model_dir.h): create it,
 * remove stale temporary model files, probe that it takes a file.
 */
#include "runtime/model_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/base/log.h"

bool smg_model_dir_is_stale_temp(const char *name)
{
    const char *tmp;

    if (strncmp(name, ".model_", 7) != 0)
        return false;
    tmp = strstr(name + 7, ".tmp-");
    return tmp != NULL && tmp > name + 7 && strlen(tmp + 5) == 6;
}

static void remove_stale(const char *model_dir)
{
    char path[8192];
    struct dirent *e;
    DIR *d = opendir(model_dir);

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (!smg_model_dir_is_stale_temp(e->d_name))
            continue;
        snprintf(path, sizeof(path), "%s/%s", model_dir, e->d_name);
        if (unlink(path) == 0)
            smg_log_info("Removed %s, left by an earlier model write that did not finish", path);
        else
            smg_log_warn("cannot remove the stale temporary file %s: %s", path, strerror(errno));
    }
    closedir(d);
}

static int unwritable(const char *model_dir, const char *step, int e, struct smg_error *err)
{
    return smg_error_set(err, SMG_ECONFIG,
                         "the model folder %s cannot take the model (%s: %s); make it writable "
                         "and free some space, then train again (nothing was trained)",
                         model_dir, step, strerror(e));
}

/* Write, sync and remove a small file: the folder can take the model. */
static int probe(const char *model_dir, struct smg_error *err)
{
    char path[8192], zeros[SMG_MODEL_DIR_PROBE_BYTES];
    size_t done = 0;
    int fd, e = 0;
    const char *step = "create a file";

    if ((size_t)snprintf(path, sizeof(path), "%s/.smalgo-write-probe-XXXXXX", model_dir) >=
        sizeof(path))
        return smg_error_set(err, SMG_ECONFIG, "model folder path too long: %s", model_dir);
    if ((fd = mkstemp(path)) < 0)
        return unwritable(model_dir, step, errno, err);
    memset(zeros, 0, sizeof(zeros));
    step = "write";
    while (e == 0 && done < sizeof(zeros)) {
        ssize_t n = write(fd, zeros + done, sizeof(zeros) - done);
        if (n < 0 && errno != EINTR)
            e = errno;
        else if (n > 0)
            done += (size_t)n;
    }
    if (e == 0 && fsync(fd) != 0) {
        e = errno;
        step = "sync";
    }
    if (close(fd) != 0 && e == 0) {
        e = errno;
        step = "close";
    }
    unlink(path);
    return e != 0 ? unwritable(model_dir, step, e, err) : SMG_OK;
}

enum smg_status smg_model_dir_prepare(const char *model_dir, bool cleanup, struct smg_error *err)
{
    if (mkdir(model_dir, 0755) != 0 && errno != EEXIST)
        return unwritable(model_dir, "create the folder", errno, err);
    if (cleanup)
        remove_stale(model_dir);
    return probe(model_dir, err);
}

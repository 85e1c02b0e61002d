/*
 * Writing output/failure through io's atomic-write helper (atomic_file.h:
 * temporary file in the same folder, fsync, rename over "failure", fsync the
 * folder), so after a crash there is either the old file, the new one, or
 * none.
 */
#include "runtime/failure.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "io/base/alloc.h"
#include "io/base/log.h"

void smg_failure_text(const struct smg_error *e, char *buf, size_t size)
{
    const char *klass = e->klass == SMG_ALGORITHM_ERROR ? "AlgorithmError" : "ClientError";
    const char *msg = e->msg[0] != '\0' ? e->msg : smg_status_str(e->status);
    snprintf(buf, size, "%s: %s", klass, msg);
}

int smg_failure_write(const char *output_dir, const char *text)
{
    char path[8192];
    struct smg_error err;
    size_t n = strlen(text);
    char *buf;
    int rc, saved;

    if (mkdir(output_dir, 0755) != 0 && errno != EEXIST)
        return SMG_EIO;
    if ((size_t)snprintf(path, sizeof(path), "%s/failure", output_dir) >= sizeof(path)) {
        errno = ENAMETOOLONG;
        return SMG_EIO;
    }
    if ((buf = smg_malloc(n + 1)) == NULL) {
        errno = ENOMEM;
        return SMG_EIO;
    }
    memcpy(buf, text, n);
    buf[n] = '\n';
    smg_error_clear(&err);
    rc = smg_atomic_write(path, buf, n + 1, 0644, &err);
    saved = errno;
    smg_free(buf);
    errno = saved;
    return rc == SMG_OK ? SMG_OK : SMG_EIO;
}

enum smg_status smg_failure_report(const char *output_dir, const struct smg_error *e)
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

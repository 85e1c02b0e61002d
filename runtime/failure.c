/*
 * Writing output/failure through io's atomic-write helper (atomic_file.h:
 * temporary file in the same folder, fsync, rename over "failure", fsync the
 * folder), so after a crash there is either the old file, the new one, or
 * none.
 *
 * The report must get out when the job failed for lack of memory, so this
 * path never allocates: the text, its newline and the file names are built on
 * the stack, and the write goes through the allocation-free core of the
 * helper (smg_atomic_write_raw) with a temporary name unique to this process.
 */
#include "runtime/failure.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/atomic_file.h"
#include "io/base/log.h"

void smg_failure_text(const struct smg_error *e, char *buf, size_t size)
{
    const char *klass = e->klass == SMG_ALGORITHM_ERROR ? "AlgorithmError" : "ClientError";
    const char *msg = e->msg[0] != '\0' ? e->msg : smg_status_str(e->status);
    snprintf(buf, size, "%s: %s", klass, msg);
}

int smg_failure_write(const char *output_dir, const char *text)
{
    char path[4096], tmp[4096], buf[SMG_FAILURE_TEXT_MAX + 1];
    size_t n = strlen(text);
    int e;

    if (mkdir(output_dir, 0755) != 0 && errno != EEXIST)
        return SMG_EIO;
    if ((size_t)snprintf(path, sizeof(path), "%s/failure", output_dir) >= sizeof(path) ||
        (size_t)snprintf(tmp, sizeof(tmp), "%s/.failure.tmp.%ld", output_dir, (long)getpid()) >=
            sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return SMG_EIO;
    }
    if (n > SMG_FAILURE_TEXT_MAX)
        n = SMG_FAILURE_TEXT_MAX;
    memcpy(buf, text, n);
    buf[n] = '\n';
    e = smg_atomic_write_raw(path, tmp, output_dir, buf, n + 1, 0644, NULL);
    if (e != 0) {
        errno = e;
        return SMG_EIO;
    }
    return SMG_OK;
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

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
 *
 * Messages quote the user's input (a bad CSV field, a key), which may not be
 * UTF-8; SageMaker's FailureReason and the tools that read it want UTF-8, so
 * each byte that does not start a well-formed UTF-8 sequence is written as the
 * four characters \xHH instead.
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

/* Length of the well-formed UTF-8 sequence at s (n bytes left), or 0 if there is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4;
    else
        return 0;
    if (n < len)
        return 0;
    if (s[0] == 0xE0)
        lo = 0xA0; /* no overlong forms */
    else if (s[0] == 0xED)
        hi = 0x9F; /* no surrogates */
    else if (s[0] == 0xF0)
        lo = 0x90;
    else if (s[0] == 0xF4)
        hi = 0x8F; /* nothing above U+10FFFF */
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

size_t smg_failure_escape(const char *text, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, used = 0;

    while (i < n) {
        size_t len = utf8_len(s + i, n - i);
        if (len == 0) {
            if (used + 4 > cap)
                break;
            out[used++] = '\\';
            out[used++] = 'x';
            out[used++] = hex[s[i] >> 4];
            out[used++] = hex[s[i] & 15];
            i++;
            continue;
        }
        if (used + len > cap)
            break;
        memcpy(out + used, s + i, len);
        used += len;
        i += len;
    }
    return used;
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
    n = smg_failure_escape(text, n, buf, SMG_FAILURE_TEXT_MAX);
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
    char raw[SMG_ERROR_MSG_MAX + 32], text[SMG_FAILURE_TEXT_MAX + 1];

    smg_failure_text(e, raw, sizeof(raw));
    text[smg_failure_escape(raw, strlen(raw), text, SMG_FAILURE_TEXT_MAX)] = '\0'; /* log it too */
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

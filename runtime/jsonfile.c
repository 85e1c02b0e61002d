/*
 * Reading and parsing the small JSON configuration files under input/config/.
 *
 * Files are read with plain open/read into a buffer capped at max_bytes, so a
 * FIFO or a huge file given by mistake cannot exhaust memory. Parsing uses
 * cJSON_ParseWithLengthOpts, whose end pointer (unlike cJSON_GetErrorPtr) is
 * not shared between threads; from it we derive the line and column of the
 * first bad byte for the message.
 */
#include "runtime/jsonfile.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/base/alloc.h"

enum smg_status smg_file_read_text(const char *path, size_t max_bytes, char **text, size_t *len,
                                   bool *missing, struct smg_error *err)
{
    int rc = SMG_OK;
    int fd;
    char *buf = NULL;
    size_t used = 0;
    size_t cap = 4096;
    struct stat st;

    *text = NULL;
    *len = 0;
    if (missing != NULL)
        *missing = false;
    fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && missing != NULL)
            *missing = true;
        return smg_error_set(err, SMG_EIO, "cannot open %s: %s", path, strerror(errno));
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = smg_error_set(err, SMG_ECONFIG, "%s is not a regular file", path);
        goto out;
    }
    buf = smg_malloc(cap);
    if (buf == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "out of memory reading %s", path);
        goto out;
    }
    for (;;) {
        ssize_t got;
        if (used + 1 >= cap) {
            char *bigger;
            if (cap > max_bytes) {
                rc =
                    smg_error_set(err, SMG_ECONFIG, "%s is larger than %zu bytes", path, max_bytes);
                goto out;
            }
            bigger = smg_realloc(buf, cap * 2);
            if (bigger == NULL) {
                rc = smg_error_set(err, SMG_ENOMEM, "out of memory reading %s", path);
                goto out;
            }
            buf = bigger;
            cap *= 2;
        }
        got = read(fd, buf + used, cap - used - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            rc = smg_error_set(err, SMG_EIO, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (got == 0)
            break;
        used += (size_t)got;
    }
    if (used > max_bytes) {
        rc = smg_error_set(err, SMG_ECONFIG, "%s is larger than %zu bytes", path, max_bytes);
        goto out;
    }
    if (memchr(buf, '\0', used) != NULL) {
        rc = smg_error_set(err, SMG_ECONFIG,
                           "%s is not valid JSON: it contains a NUL byte at byte %zu (text after "
                           "it would be ignored)",
                           path, (size_t)((char *)memchr(buf, '\0', used) - buf));
        goto out;
    }
    buf[used] = '\0';
    *text = buf;
    *len = used;
    buf = NULL;
out:
    smg_free(buf);
    close(fd);
    return rc;
}

static bool all_blank(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
            return false;
    return true;
}

const char *smg_json_type_name(const struct cJSON *item)
{
    if (item == NULL)
        return "nothing";
    if (cJSON_IsString(item))
        return "string";
    if (cJSON_IsNumber(item))
        return "number";
    if (cJSON_IsBool(item))
        return "boolean";
    if (cJSON_IsNull(item))
        return "null";
    if (cJSON_IsArray(item))
        return "array";
    if (cJSON_IsObject(item))
        return "object";
    return "unknown value";
}

enum smg_status smg_json_parse_object(const char *text, size_t len, const char *source,
                                      struct cJSON **out, struct smg_error *err)
{
    const char *end = NULL;
    cJSON *root;

    *out = NULL;
    if (text == NULL || all_blank(text, len))
        return smg_error_set(err, SMG_ECONFIG, "%s is empty: expected a JSON object", source);
    if (memchr(text, '\0', len) != NULL)
        return smg_error_set(err, SMG_ECONFIG,
                             "%s is not valid JSON: it contains a NUL byte at byte %zu", source,
                             (size_t)((const char *)memchr(text, '\0', len) - text));
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root == NULL) {
        size_t off = (end != NULL && end >= text && end <= text + len) ? (size_t)(end - text) : 0;
        size_t line = 1, col = 1;
        for (size_t i = 0; i < off; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        if (off >= len || all_blank(text + off, len - off))
            return smg_error_set(err, SMG_ECONFIG,
                                 "%s is not valid JSON: it ends early (line %zu, byte %zu)", source,
                                 line, off);
        return smg_error_set(err, SMG_ECONFIG,
                             "%s is not valid JSON: unexpected '%c' at line %zu, column %zu "
                             "(byte %zu)",
                             source, (unsigned char)text[off] >= 0x20 ? text[off] : '?', line, col,
                             off);
    }
    /* Anything but blanks after the value is as malformed as a broken value. */
    if (end != NULL && end >= text && end < text + len &&
        !all_blank(end, len - (size_t)(end - text))) {
        size_t off = (size_t)(end - text);
        cJSON_Delete(root);
        return smg_error_set(err, SMG_ECONFIG,
                             "%s is not valid JSON: unexpected text after the value at byte %zu",
                             source, off);
    }
    if (!cJSON_IsObject(root)) {
        const char *type = smg_json_type_name(root);
        cJSON_Delete(root);
        return smg_error_set(err, SMG_ECONFIG, "%s must hold a JSON object ({...}), not a %s",
                             source, type);
    }
    *out = root;
    return SMG_OK;
}

/*
 * Status names and the error-detail helpers declared in status.h. Messages are
 * truncated, never overflowed, at SMG_ERROR_MSG_MAX - 1 characters.
 */
#include "io/base/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *smg_status_str(int status)
{
    switch (status) {
    case SMG_OK: return "ok";
    case SMG_ENOMEM: return "out of memory";
    case SMG_EIO: return "input/output error";
    case SMG_EFORMAT: return "malformed data";
    case SMG_ECONFIG: return "invalid configuration";
    case SMG_ETIMEOUT: return "timed out";
    case SMG_ESTOPPED: return "stopped by signal";
    case SMG_EINTERNAL: return "internal error";
    case SMG_EMPI: return "distributed communication failed";
    case SMG_EEOF: return "end of stream";
    default: return "unknown status";
    }
}

void smg_error_clear(struct smg_error *err)
{
    if (err == NULL)
        return;
    err->status = SMG_OK;
    err->klass = SMG_CLIENT_ERROR;
    err->msg[0] = '\0';
}

static enum smg_error_class class_of(int status)
{
    return (status == SMG_ENOMEM || status == SMG_EINTERNAL) ? SMG_ALGORITHM_ERROR
                                                             : SMG_CLIENT_ERROR;
}

__attribute__((format(printf, 4, 0))) static void
set_va(struct smg_error *err, int status, enum smg_error_class klass, const char *fmt, va_list ap)
{
    if (err == NULL || err->status != SMG_OK)
        return;
    err->status = status;
    err->klass = klass;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    /* One line only: the failure file's first line is the reason. */
    for (char *p = err->msg; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

int smg_error_set(struct smg_error *err, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_va(err, status, class_of(status), fmt, ap);
    va_end(ap);
    return status;
}

int smg_error_set_class(struct smg_error *err, int status, enum smg_error_class klass,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_va(err, status, klass, fmt, ap);
    va_end(ap);
    return status;
}

void smg_error_prefix(struct smg_error *err, const char *fmt, ...)
{
    char prefix[256];
    char joined[SMG_ERROR_MSG_MAX];
    va_list ap;

    if (err == NULL || err->status == SMG_OK)
        return;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    /* Truncation is fine here: the message is capped by design. */
    size_t plen = strlen(prefix);
    size_t mlen = strlen(err->msg);
    if (plen > sizeof(joined) - 1)
        plen = sizeof(joined) - 1;
    if (mlen > sizeof(joined) - 1 - plen)
        mlen = sizeof(joined) - 1 - plen;
    memcpy(joined, prefix, plen);
    memcpy(joined + plen, err->msg, mlen);
    joined[plen + mlen] = '\0';
    memcpy(err->msg, joined, sizeof(err->msg));
}

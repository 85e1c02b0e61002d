/*
 * The SageMaker-style log line writer. The thread id printed is pthread_self()
 * as an unsigned integer, like the built-ins' Python thread ids.
 */
#define _POSIX_C_SOURCE 200809L
#include "io/base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

static FILE *log_stream;
static enum smg_log_level log_min_level = SMG_LOG_INFO;

void smg_log_set_stream(FILE *stream)
{
    log_stream = stream;
}

void smg_log_set_level(enum smg_log_level min_level)
{
    log_min_level = min_level;
}

static const char *level_name(enum smg_log_level level)
{
    switch (level) {
    case SMG_LOG_DEBUG: return "DEBUG";
    case SMG_LOG_INFO: return "INFO";
    case SMG_LOG_WARNING: return "WARNING";
    default: return "ERROR";
    }
}

static void emit(const char *line)
{
    FILE *out = log_stream != NULL ? log_stream : stdout;
    flockfile(out);
    fputs(line, out);
    fflush(out);
    funlockfile(out);
}

static void fold_controls(char *s)
{
    for (; *s != '\0'; s++)
        if (*s == '\n' || *s == '\r' || *s == '\t')
            *s = ' ';
}

void smg_log(enum smg_log_level level, const char *fmt, ...)
{
    char msg[4096];
    char line[4200];
    char stamp[32];
    struct tm tm;
    time_t now;
    va_list ap;

    if (level < log_min_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fold_controls(msg);
    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%m/%d/%Y %H:%M:%S", &tm);
    snprintf(line, sizeof(line), "[%s %s %ju] %s\n", stamp, level_name(level),
             (uintmax_t)pthread_self(), msg);
    emit(line);
}

void smg_log_raw(const char *fmt, ...)
{
    char msg[8192];
    size_t n;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
    va_end(ap);
    fold_controls(msg);
    n = strlen(msg);
    msg[n] = '\n';
    msg[n + 1] = '\0';
    emit(msg);
}

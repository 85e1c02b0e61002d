/*
 * Logging in the format of SageMaker's built-in algorithms:
 *
 *     [11/25/2026 21:56:45 INFO 140141566281536] message
 *
 * one line per event, flushed at once, tabs and newlines in the message folded
 * to spaces. Metric lines (#quality_metric, #progress_metric, ...) are ordinary
 * INFO lines whose text SageMaker's metric regexes match; the #metrics JSON line
 * is printed bare (smg_log_raw), as the built-ins do.
 *
 * Output goes to stdout by default; smg_log_set_stream redirects it (tests).
 * Calls are thread-safe: each line is written with a single locked fputs.
 */
#ifndef SMG_LOG_H
#define SMG_LOG_H

#include <stdio.h>

enum smg_log_level { SMG_LOG_DEBUG, SMG_LOG_INFO, SMG_LOG_WARNING, SMG_LOG_ERROR };

void smg_log_set_stream(FILE *stream);
void smg_log_set_level(enum smg_log_level min_level);

void smg_log(enum smg_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line with no prefix, for "#metrics {...}". */
void smg_log_raw(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define smg_log_debug(...) smg_log(SMG_LOG_DEBUG, __VA_ARGS__)
#define smg_log_info(...)  smg_log(SMG_LOG_INFO, __VA_ARGS__)
#define smg_log_warn(...)  smg_log(SMG_LOG_WARNING, __VA_ARGS__)
#define smg_log_error(...) smg_log(SMG_LOG_ERROR, __VA_ARGS__)

#endif

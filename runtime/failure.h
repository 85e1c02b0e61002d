/*
 * The failure report SageMaker reads: <ml-root>/output/failure, whose first
 * 1024 characters become the job's FailureReason. The first line is the
 * reason, "ClientError: ..." (the user's to fix: configuration, data) or
 * "AlgorithmError: ..." (ours). The file is written atomically (temporary
 * file, fsync, rename), so a reader never sees half of it.
 */
#ifndef SMG_FAILURE_H
#define SMG_FAILURE_H

#include <stddef.h>

#include "io/base/status.h"

/* "ClientError: <msg>" or "AlgorithmError: <msg>" into buf (always terminated). */
void smg_failure_text(const struct smg_error *e, char *buf, size_t size);

/*
 * Log the failure (ERROR line) and write it to <output_dir>/failure, creating
 * output_dir if needed. Returns SMG_OK, or SMG_EIO when the file could not be
 * written (the log line is still printed, with the reason it could not be).
 */
/* Best effort on the way out: a caller may ignore the status, the log says it all. */
enum smg_status smg_failure_report(const char *output_dir, const struct smg_error *e);

/* The longest text smg_failure_write keeps; SageMaker reads the first 1024 characters. */
#define SMG_FAILURE_TEXT_MAX 8192

/*
 * Write text (plus a newline) to <output_dir>/failure atomically, without
 * allocating (so it works when memory has run out); bytes that are not
 * well-formed UTF-8 are written as \xHH; text past SMG_FAILURE_TEXT_MAX bytes
 * is cut (at a character). SMG_EIO with errno set on failure.
 */
int smg_failure_write(const char *output_dir, const char *text);

/*
 * Copy n bytes of text to out (cap bytes), well-formed UTF-8 as it is and any
 * other byte as the four characters \xHH, stopping before a character that
 * would not fit. Returns the bytes written (no terminator). No allocation.
 */
size_t smg_failure_escape(const char *text, size_t n, char *out, size_t cap);

/* Remove a failure file left by an earlier local run in the same root. */
void smg_failure_clear(const char *output_dir);

#endif

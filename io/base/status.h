/*
 * Status codes and error detail shared by every smalgo library.
 *
 * Fallible functions return an enum smg_status, marked SMG_MUST_CHECK in
 * their declarations so that ignoring it does not compile: SMG_OK (0) or one
 * of the negative codes below. (smg_error_set returns the status it records
 * as an int, so that `return smg_error_set(...)` suits any caller.) When the
 * caller passes a non-NULL struct smg_error, the callee also fills it with a
 * one-line, human-readable message saying what was wrong and where (file,
 * record, line, byte offset). That message is what the runtime writes to
 * /opt/ml/output/failure, so it must make sense to a SageMaker user.
 *
 * The error class says whose fault it is: a client error (bad configuration or
 * bad data, the user's to fix) or an algorithm error (ours). The first error set
 * wins: later calls to smg_error_set on an already-set error are ignored, so the
 * innermost, most precise message survives as it propagates outwards.
 */
#ifndef SMG_STATUS_H
#define SMG_STATUS_H

#include <stddef.h>

enum smg_status {
    SMG_OK = 0,
    SMG_ENOMEM = -1,    /* allocation failed */
    SMG_EIO = -2,       /* read/write/open failed */
    SMG_EFORMAT = -3,   /* malformed data or model file */
    SMG_ECONFIG = -4,   /* bad configuration or hyperparameter */
    SMG_ETIMEOUT = -5,  /* waited too long (FIFO never appeared, host unreachable) */
    SMG_ESTOPPED = -6,  /* SIGTERM received: the job was asked to stop */
    SMG_EINTERNAL = -7, /* a bug or an unexpected library failure: ours */
    SMG_EMPI = -8,      /* a collective failed or a peer was lost */
    SMG_EEOF = -9       /* end of stream; not an error for most callers */
};

enum smg_error_class {
    SMG_CLIENT_ERROR = 0,   /* the user's to fix: config, data */
    SMG_ALGORITHM_ERROR = 1 /* ours: internal failure */
};

/*
 * Marks a function whose status must be looked at: ignoring what a fallible
 * function returns is a compile error under -Werror.
 */
#define SMG_MUST_CHECK __attribute__((warn_unused_result))

#define SMG_ERROR_MSG_MAX 1024

struct smg_error {
    int status;                  /* SMG_OK while unset */
    enum smg_error_class klass;  /* meaningful once status != SMG_OK */
    char msg[SMG_ERROR_MSG_MAX]; /* NUL-terminated, no newline */
};

/* A short constant name for a status code ("out of memory", ...). */
const char *smg_status_str(int status);

/* Clear err so it can be reused. Accepts NULL. */
void smg_error_clear(struct smg_error *err);

/*
 * Record an error and return status, so callers can write
 *     return smg_error_set(err, SMG_EFORMAT, "bad magic at byte %zu", off);
 * The class is derived from status: SMG_ENOMEM and SMG_EINTERNAL are algorithm
 * errors, everything else a client error. If err is NULL or already holds an
 * error, nothing is written (the first, innermost message wins).
 */
int smg_error_set(struct smg_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As smg_error_set, with an explicit error class. */
int smg_error_set_class(struct smg_error *err, int status, enum smg_error_class klass,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/*
 * Prefix an existing message with context ("channel train: "), so that outer
 * layers can say where without losing the inner detail. No-op when err is NULL
 * or unset.
 */
void smg_error_prefix(struct smg_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif

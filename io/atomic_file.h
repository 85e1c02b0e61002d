/*
 * Atomic file replacement, the one routine behind every file smalgo writes
 * for others to read (model files, output/failure): the data goes to a
 * temporary file in the destination's folder (so the rename stays on one
 * file system), is fsynced, renamed over the destination, and the folder is
 * fsynced so the rename itself is durable. A reader sees the old file, the
 * new one, or none; never half of one. On failure the temporary file is
 * removed and the destination is left as it was.
 *
 * Two entry points share one core:
 *   smg_atomic_write      the ordinary one: picks a unique temporary name with
 *                         mkstemp (".<name>.tmp-XXXXXX") and reports errors
 *                         into a struct smg_error;
 *   smg_atomic_write_raw  async-signal-safe, for signal handlers: no
 *                         allocation and no stdio; the caller prepares the
 *                         temporary name and the folder beforehand.
 */
#ifndef SMG_ATOMIC_FILE_H
#define SMG_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "io/base/status.h"

/*
 * Replace path with len bytes of data, with permissions mode (umask not
 * applied). SMG_EIO (errno left as the failing call set it) or SMG_ENOMEM,
 * with a message naming path, the temporary file and the step that failed.
 */
SMG_MUST_CHECK enum smg_status smg_atomic_write(const char *path, const void *data, size_t len,
                                                mode_t mode, struct smg_error *err);

/*
 * The async-signal-safe variant: tmp is a name unique to this writer in the
 * folder dir (which is fsynced after the rename; NULL skips that). Returns 0,
 * or the errno of the step that failed (and *step, when not NULL, points to a
 * static description of it: "create", "write", "close", "rename").
 */
int smg_atomic_write_raw(const char *path, const char *tmp, const char *dir, const void *data,
                         size_t len, mode_t mode, const char **step);

#endif

/*
 * Walk the files of a File-mode channel folder: every entry under dir,
 * recursively, hidden names (".*") skipped, symbolic links followed, as the
 * channel reader sees them (io/channel.h). Used to guess a channel's content
 * type when there is no inputdataconfig.json and to check, before training
 * starts, that every data file can be opened.
 */
#ifndef SMG_CONFIG_WALK_H
#define SMG_CONFIG_WALK_H

#include "status.h"

/* Deeper folders than this are an error (it also stops symbolic-link loops). */
#define SMG_WALK_MAX_DEPTH 32

/*
 * Call fn(path, ctx, err) for every non-folder entry under dir; stop at the
 * first non-SMG_OK status and return it. An entry that cannot be examined (a
 * dangling link, no permission) is an SMG_EIO client error naming it.
 */
int smg_config_walk(const char *dir, int (*fn)(const char *path, void *ctx, struct smg_error *err),
                    void *ctx, struct smg_error *err);

/* fn for smg_config_walk: SMG_EIO naming path if it cannot be opened for reading. */
int smg_config_check_readable(const char *path, void *ctx, struct smg_error *err);

#endif

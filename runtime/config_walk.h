/*
 * Walk the files of a File-mode channel folder before training: every entry
 * under dir that is not a folder, recursively, hidden names (".*") skipped,
 * symbolic links followed. The walk itself is the channel reader's
 * (smg_file_walk in io/file_list.h), so the checks here see the files the
 * reader will read, by the same rules; this module adds what the job setup
 * needs on top: non-regular entries (a FIFO dropped into a File-mode folder)
 * are visited too, so they can be counted and reported. Used to guess a
 * channel's content type when there is no inputdataconfig.json and to check,
 * before training starts, that every data file can be opened.
 */
#ifndef SMG_CONFIG_WALK_H
#define SMG_CONFIG_WALK_H

#include "io/base/status.h"

/*
 * Call fn(path, ctx, err) for every non-folder entry under dir; stop at the
 * first non-SMG_OK status and return it. An entry that cannot be examined (a
 * dangling link, no permission), a folder that cannot be listed and folders
 * nested deeper than SMG_FILE_LIST_MAX_DEPTH (a link loop) are SMG_EIO client
 * errors naming them.
 */
SMG_MUST_CHECK enum smg_status
smg_config_walk(const char *dir, int (*fn)(const char *path, void *ctx, struct smg_error *err),
                void *ctx, struct smg_error *err);

/* fn for smg_config_walk: SMG_EIO naming path if it cannot be opened for reading. */
SMG_MUST_CHECK enum smg_status smg_config_check_readable(const char *path, void *ctx,
                                                         struct smg_error *err);

#endif

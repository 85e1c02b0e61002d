/*
 * The files of a File/FastFile-mode channel: every regular file under a
 * folder, recursively, sorted by path (strcmp, so byte order), hidden files
 * and folders (names starting with '.') skipped. Symbolic links are followed;
 * recursion stops at SMG_FILE_LIST_MAX_DEPTH levels so a link loop is an
 * error rather than a hang. A path that is itself a regular file is a list of
 * one.
 *
 * Several ranks on one host split the list by stride: rank r of n keeps the
 * files whose index i (in sorted order) has i % n == r. Striding keeps the
 * shares within one file of each other in count and, for files of similar
 * size (the usual sharded layout), in bytes, where contiguous blocks would
 * give the last rank the short end.
 */
#ifndef SMG_FILE_LIST_H
#define SMG_FILE_LIST_H

#include <stddef.h>

#include "status.h"
#include "stream.h"

#define SMG_FILE_LIST_MAX_DEPTH 64

struct smg_file_list {
    char **paths; /* count paths, owned */
    size_t count;
};

/* Scan `root` into *out (initially empty). A missing root is SMG_EIO naming it. */
int smg_file_list_scan(const char *root, struct smg_file_list *out, struct smg_error *err);

/* Keep only rank's share of the files out of nranks (stride split, see above). */
void smg_file_list_split(struct smg_file_list *list, int rank, int nranks);

void smg_file_list_clear(struct smg_file_list *list); /* frees the paths; accepts empty */

/*
 * Open one file for a single sequential pass (POSIX_FADV_SEQUENTIAL). An
 * unreadable file is an SMG_EIO client error naming it.
 */
int smg_file_open_sequential(const char *path, struct smg_stream **out, struct smg_error *err);

#endif

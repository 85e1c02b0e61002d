/*
 * The files of a File/FastFile-mode channel: every regular file under a
 * folder, recursively, sorted by path (strcmp, so byte order), hidden files
 * and folders (names starting with '.') skipped. Symbolic links are followed;
 * recursion stops at SMG_FILE_LIST_MAX_DEPTH levels so a link loop is an
 * error rather than a hang. A path that is itself a regular file is a list of
 * one.
 *
 * S3 (io/s3/s3_manifest.h): a root "s3://bucket/prefix" lists the objects
 * under the prefix, "s3://.../x.manifest" the objects that manifest names; a
 * folder holding a SageMaker manifest (.amazon.manifest, any *.manifest) is
 * the objects it names, in manifest order. Their paths are s3:// URIs, which
 * smg_file_open_sequential streams from S3.
 *
 * The walk underneath is public too (smg_file_walk), so that everything that
 * looks at a channel folder (the channel reader, the content-type guess and
 * the readability check before training) sees the same files, by the same
 * rules, with the same error messages.
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

#include "io/base/status.h"
#include "io/stream.h"

/*
 * Linux follows at most 40 symbolic links while resolving one path, so a link
 * loop nested deeper than that fails in stat() with ELOOP; a limit below 40
 * makes a loop end in the clearer depth error.
 */
#define SMG_FILE_LIST_MAX_DEPTH 32

struct smg_file_list {
    char **paths; /* count paths, owned */
    size_t count;
};

/* Which entries smg_file_walk passes to its visitor (folders never are). */
enum smg_walk_what {
    SMG_WALK_REGULAR,    /* regular files only, as the channel reader reads them */
    SMG_WALK_NON_FOLDERS /* also FIFOs, sockets, devices: every entry that is not a folder */
};

/*
 * Call visit(path, ctx, err) for the entries under folder dir chosen by what,
 * recursively, in readdir order (unsorted), hidden names skipped and links
 * followed. Stops at the first non-SMG_OK status and returns it. A folder
 * that cannot be listed or an entry that cannot be examined (a dangling link,
 * no permission) is an SMG_EIO client error naming it; so is nesting deeper
 * than SMG_FILE_LIST_MAX_DEPTH.
 */
SMG_MUST_CHECK enum smg_status smg_file_walk(const char *dir, enum smg_walk_what what,
                                             int (*visit)(const char *path, void *ctx,
                                                          struct smg_error *err),
                                             void *ctx, struct smg_error *err);

/* Scan `root` into *out (initially empty). A missing root is SMG_EIO naming it. */
SMG_MUST_CHECK enum smg_status smg_file_list_scan(const char *root, struct smg_file_list *out,
                                                  struct smg_error *err);

/* Keep only rank's share of the files out of nranks (stride split, see above). */
void smg_file_list_split(struct smg_file_list *list, int rank, int nranks);

void smg_file_list_clear(struct smg_file_list *list); /* frees the paths; accepts empty */

/* Append the path a + b (two parts, so callers need no buffer): SMG_OK or SMG_ENOMEM. */
SMG_MUST_CHECK enum smg_status smg_file_list_push2(struct smg_file_list *list, const char *a,
                                                   const char *b);

/*
 * Open one file for a single sequential pass (POSIX_FADV_SEQUENTIAL). An
 * unreadable file is an SMG_EIO client error naming it.
 */
SMG_MUST_CHECK enum smg_status smg_file_open_sequential(const char *path, struct smg_stream **out,
                                                        struct smg_error *err);

#endif

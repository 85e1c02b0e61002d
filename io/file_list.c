/*
 * Channel file lists: a recursive readdir walk (smg_file_walk, which hands
 * each file to a visitor) collecting regular files into a growable array,
 * then one qsort by path. Paths are built on the heap, so there is no
 * PATH_MAX truncation; the depth limit ends link loops. See file_list.h.
 */
#include "io/file_list.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/base/alloc.h"
#include "io/s3/s3_client.h"
#include "io/s3/s3_manifest.h"
#include "io/s3/s3_uri.h"

struct builder {
    struct smg_file_list *list;
    size_t cap;
    bool sorted; /* a manifest's order, kept as it is */
};

/* Visitor for smg_file_walk: append a copy of path to the builder's list. */
static int push(const char *path, void *ctx, struct smg_error *err)
{
    struct builder *b = ctx;

    if (b->list->count == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64, bytes;
        char **p;
        if (!smg_mul_size(cap, sizeof(*p), &bytes) ||
            (p = smg_realloc(b->list->paths, bytes)) == NULL)
            return smg_error_set(err, SMG_ENOMEM, "out of memory listing files");
        b->list->paths = p;
        b->cap = cap;
    }
    if ((b->list->paths[b->list->count] = smg_strdup(path)) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory listing files");
    b->list->count++;
    return SMG_OK;
}

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), n = strlen(name), len;
    char *p;

    if (!smg_add_size(a, n + 2, &len) || (p = smg_malloc(len)) == NULL)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, n + 1);
    return p;
}

struct walker {
    enum smg_walk_what what;
    int (*visit)(const char *path, void *ctx, struct smg_error *err);
    void *ctx;
};

static int walk(const struct walker *w, const char *dir, int depth, struct smg_error *err);

/* One folder entry: recurse into folders, visit files (regular only unless asked). */
static int walk_entry(const struct walker *w, const char *path, int depth, struct smg_error *err)
{
    struct stat st;

    if (stat(path, &st) != 0)
        return smg_error_set(err, SMG_EIO, "cannot read data file %s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return walk(w, path, depth + 1, err);
    if (S_ISREG(st.st_mode) || w->what == SMG_WALK_NON_FOLDERS)
        return w->visit(path, w->ctx, err);
    return SMG_OK;
}

static int walk(const struct walker *w, const char *dir, int depth, struct smg_error *err)
{
    DIR *d;
    struct dirent *e;
    int rc = SMG_OK;

    if (depth > SMG_FILE_LIST_MAX_DEPTH)
        return smg_error_set(err, SMG_EIO,
                             "%s: folders nest deeper than %d levels (a symbolic-link loop?)", dir,
                             SMG_FILE_LIST_MAX_DEPTH);
    if ((d = opendir(dir)) == NULL)
        return smg_error_set(err, SMG_EIO, "cannot list data folder %s: %s", dir, strerror(errno));
    while (rc == SMG_OK && (errno = 0, e = readdir(d)) != NULL) {
        char *path;

        if (e->d_name[0] == '.')
            continue; /* ".", ".." and hidden files alike */
        if ((path = join(dir, e->d_name)) == NULL) {
            rc = smg_error_set(err, SMG_ENOMEM, "out of memory listing files");
            break;
        }
        rc = walk_entry(w, path, depth, err);
        smg_free(path);
    }
    if (rc == SMG_OK && e == NULL && errno != 0)
        rc = smg_error_set(err, SMG_EIO, "cannot list data folder %s: %s", dir, strerror(errno));
    closedir(d);
    return rc;
}

enum smg_status smg_file_walk(const char *dir, enum smg_walk_what what,
                              int (*visit)(const char *path, void *ctx, struct smg_error *err),
                              void *ctx, struct smg_error *err)
{
    struct walker w = {what, visit, ctx};

    return walk(&w, dir, 0, err);
}

static int by_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file that is data, not a manifest: counted when a folder holds manifests. */
static int count_data(const char *path, void *ctx, struct smg_error *err)
{
    size_t n = strlen(path);

    (void)err;
    if (n < 9 || strcmp(path + n - 9, ".manifest") != 0)
        ++*(size_t *)ctx;
    return SMG_OK;
}

/* A folder: its manifests' S3 objects (in manifest order) if it has any, else its files. */
static int scan_folder(const char *root, struct builder *b, struct smg_error *err)
{
    bool manifest;
    size_t data = 0;
    int rc = smg_s3_manifest_scan_folder(root, b->list, &manifest, err);

    if (rc != SMG_OK || !manifest)
        return rc != SMG_OK ? rc : smg_file_walk(root, SMG_WALK_REGULAR, push, b, err);
    if ((rc = smg_file_walk(root, SMG_WALK_REGULAR, count_data, &data, err)) != SMG_OK)
        return rc;
    if (data > 0)
        return smg_error_set(err, SMG_ECONFIG,
                             "%s holds a manifest and %zu data file%s: a channel is either the "
                             "objects a manifest lists or local files, not both",
                             root, data, data > 1 ? "s" : "");
    b->sorted = true;
    return SMG_OK;
}

enum smg_status smg_file_list_scan(const char *root, struct smg_file_list *out,
                                   struct smg_error *err)
{
    struct builder b = {out, 0, false};
    struct stat st;
    int rc;

    out->paths = NULL;
    out->count = 0;
    if (smg_s3_is_uri(root))
        return smg_s3_scan(root, out, err);
    if (stat(root, &st) != 0)
        return smg_error_set(err, SMG_EIO, "cannot read %s: %s", root, strerror(errno));
    if (S_ISREG(st.st_mode))
        rc = push(root, &b, err);
    else if (S_ISDIR(st.st_mode))
        rc = scan_folder(root, &b, err);
    else
        rc = smg_error_set(err, SMG_EIO, "%s is neither a folder nor a regular file", root);
    if (rc != SMG_OK) {
        smg_file_list_clear(out);
        return rc;
    }
    if (out->count > 1 && !b.sorted)
        qsort(out->paths, out->count, sizeof(*out->paths), by_path);
    return SMG_OK;
}

void smg_file_list_split(struct smg_file_list *list, int rank, int nranks)
{
    size_t kept = 0;

    if (nranks <= 1 || rank < 0 || rank >= nranks)
        return;
    for (size_t i = 0; i < list->count; i++) {
        if (i % (size_t)nranks == (size_t)rank)
            list->paths[kept++] = list->paths[i];
        else
            smg_free(list->paths[i]);
    }
    list->count = kept;
}

void smg_file_list_clear(struct smg_file_list *list)
{
    for (size_t i = 0; i < list->count; i++)
        smg_free(list->paths[i]);
    smg_free(list->paths);
    list->paths = NULL;
    list->count = 0;
}

enum smg_status smg_file_open_sequential(const char *path, struct smg_stream **out,
                                         struct smg_error *err)
{
    int fd, rc;

    *out = NULL;
    if (smg_s3_is_uri(path))
        return smg_s3_open_read(path, out, err);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return smg_error_set(err, SMG_EIO, "cannot open %s: %s", path, strerror(errno));
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    rc = smg_stream_open_fd(fd, path, true, out, err);
    if (rc != SMG_OK)
        close(fd);
    return rc;
}

enum smg_status smg_file_list_push2(struct smg_file_list *list, const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = smg_malloc(n), **p;

    if (s == NULL)
        return SMG_ENOMEM;
    snprintf(s, n, "%s%s", a, b);
    if ((p = smg_realloc(list->paths, (list->count + 1) * sizeof(*p))) == NULL) {
        smg_free(s);
        return SMG_ENOMEM;
    }
    list->paths = p;
    list->paths[list->count++] = s;
    return SMG_OK;
}

/* model.tar.gz unpacking (see tar_extract.h). */
#include "io/tar_extract.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/gzip.h"

#define BLOCK 512

/* An octal field of n bytes (spaces/NULs around digits); false if malformed. */
static bool octal_field(const unsigned char *p, size_t n, uint64_t *out)
{
    size_t i = 0;
    uint64_t v = 0;
    bool digits = false;

    while (i < n && p[i] == ' ')
        i++;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++, digits = true) {
        if (v > (UINT64_MAX >> 3))
            return false;
        v = v * 8 + (uint64_t)(p[i] - '0');
    }
    for (; i < n; i++)
        if (p[i] != ' ' && p[i] != '\0')
            return false;
    *out = v;
    return digits;
}

static bool checksum_ok(const unsigned char *h)
{
    uint64_t want, sum = 0;

    if (!octal_field(h + 148, 8, &want))
        return false;
    for (size_t i = 0; i < BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return sum == want;
}

/* The member's flat file name, or "" for "./" (skipped); false when not flat. */
static bool flat_name(const unsigned char *h, char *name)
{
    char raw[101];
    const char *p = raw;

    memcpy(raw, h, 100);
    raw[100] = '\0';
    if (h[345] != '\0') /* a ustar prefix means a path with folders */
        return false;
    if (strncmp(p, "./", 2) == 0)
        p += 2;
    if (strchr(p, '/') != NULL && !(strchr(p, '/')[1] == '\0' && h[156] == '5'))
        return false;
    if (strcmp(p, "..") == 0 || strcmp(p, ".") == 0)
        return false;
    strcpy(name, p);
    return true;
}

static int read_block(struct smg_stream *in, unsigned char *b, struct smg_error *err)
{
    size_t got;
    int rc = smg_stream_read_full(in, b, BLOCK, &got, err);

    if (rc == SMG_OK && got != BLOCK)
        return smg_error_set(err, SMG_EFORMAT, "%s: the archive ends inside a block",
                             smg_stream_name(in));
    return rc;
}

/* Copy size bytes (plus padding) of in to f (NULL: skip them). */
static int copy_data(struct smg_stream *in, FILE *f, uint64_t size, struct smg_error *err)
{
    unsigned char b[BLOCK];
    int rc;

    for (uint64_t left = size; left > 0;) {
        size_t n = left < BLOCK ? (size_t)left : BLOCK;
        if ((rc = read_block(in, b, err)) != SMG_OK)
            return rc;
        if (f != NULL && fwrite(b, 1, n, f) != n)
            return smg_error_set(err, SMG_EIO, "writing a model file failed");
        left -= n;
    }
    return SMG_OK;
}

static int write_member(struct smg_stream *in, const char *dir, const char *name, uint64_t size,
                        struct smg_error *err)
{
    char path[4200], tmp[4300];
    FILE *f;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(tmp, sizeof(tmp), "%s/.%s.partial", dir, name);
    if ((f = fopen(tmp, "wb")) == NULL)
        return smg_error_set(err, SMG_EIO, "cannot create %s", tmp);
    rc = copy_data(in, f, size, err);
    if (fclose(f) != 0 && rc == SMG_OK)
        rc = smg_error_set(err, SMG_EIO, "writing %s failed", tmp);
    if (rc == SMG_OK && rename(tmp, path) != 0)
        rc = smg_error_set(err, SMG_EIO, "cannot rename %s to %s", tmp, path);
    if (rc != SMG_OK)
        (void)unlink(tmp);
    return rc;
}

/* One member whose header is h. */
static int member(struct smg_stream *in, const unsigned char *h, const char *dir, unsigned *files,
                  struct smg_error *err)
{
    char name[101];
    uint64_t size;
    char type = (char)h[156];

    if (!checksum_ok(h) || !octal_field(h + 124, 12, &size) || size > SMG_TAR_MEMBER_MAX)
        return smg_error_set(err, SMG_EFORMAT, "%s: bad tar header at byte %llu",
                             smg_stream_name(in),
                             (unsigned long long)(smg_stream_offset(in) - BLOCK));
    if (type == 'x' || type == 'g' || type == 'L' || type == 'K' || type == '5')
        return copy_data(in, NULL, size, err); /* metadata or a folder: skipped */
    if (type != '0' && type != '\0')
        return smg_error_set(err, SMG_EFORMAT, "%s: member type '%c' is not a regular file",
                             smg_stream_name(in), type >= ' ' && type < 127 ? type : '?');
    if (!flat_name(h, name) || name[0] == '\0')
        return smg_error_set(err, SMG_EFORMAT,
                             "%s: member '%.100s' is not a plain file name (model archives hold "
                             "files such as model_algo-1 at their root)",
                             smg_stream_name(in), (const char *)h);
    (*files)++;
    return write_member(in, dir, name, size, err);
}

enum smg_status smg_tar_extract(struct smg_stream *in, const char *dir, unsigned *files,
                                struct smg_error *err)
{
    static const unsigned char zero[BLOCK];
    unsigned char h[BLOCK];
    struct smg_stream *s = NULL;
    int rc = smg_gzip_detect(in, &s, NULL, err);

    *files = 0;
    while (rc == SMG_OK) {
        size_t got;
        if ((rc = smg_stream_read_full(s, h, BLOCK, &got, err)) != SMG_OK)
            break;
        if (got == 0 || memcmp(h, zero, BLOCK) == 0)
            break; /* the end: two zero blocks (or none, as some writers do) */
        if (got != BLOCK)
            rc = smg_error_set(err, SMG_EFORMAT, "%s: the archive ends inside a header",
                               smg_stream_name(s));
        else
            rc = member(s, h, dir, files, err);
    }
    if (rc == SMG_OK && *files == 0)
        rc = smg_error_set(err, SMG_EFORMAT, "%s holds no file", smg_stream_name(s));
    smg_stream_free(s);
    return rc;
}

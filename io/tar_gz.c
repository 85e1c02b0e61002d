/* model.tar.gz writer (see tar_gz.h), through zlib's gzFile. */
#include "io/tar_gz.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "io/base/alloc.h"
#include "io/file_list.h"

#define BLOCK 512

/* v in octal, zero-padded to width - 1 digits, then a NUL (the field is width bytes). */
static void octal(char *dst, size_t width, unsigned long long v)
{
    dst[width - 1] = '\0';
    for (size_t i = width - 1; i-- > 0; v >>= 3)
        dst[i] = (char)('0' + (v & 7));
}

static int header(gzFile gz, const char *name, unsigned long long size, long long mtime)
{
    unsigned char h[BLOCK];
    unsigned sum = 0;

    memset(h, 0, sizeof(h));
    memcpy(h, name, strlen(name));
    octal((char *)h + 100, 8, 0644);
    octal((char *)h + 108, 8, 0);
    octal((char *)h + 116, 8, 0);
    octal((char *)h + 124, 12, size);
    octal((char *)h + 136, 12, (unsigned long long)(mtime > 0 ? mtime : 0));
    memset(h + 148, ' ', 8);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    for (size_t i = 0; i < BLOCK; i++)
        sum += h[i];
    octal((char *)h + 148, 7, sum); /* six digits, NUL, and the space already there */
    return gzwrite(gz, h, BLOCK) == BLOCK ? SMG_OK : SMG_EIO;
}

static int member(gzFile gz, const char *dir, const char *name, struct smg_error *err)
{
    char path[4096], buf[65536];
    static const char zeros[BLOCK];
    struct stat st;
    unsigned long long done = 0;
    FILE *f;
    size_t n;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (strlen(name) >= 100)
        return smg_error_set(err, SMG_ECONFIG, "%s: name too long for a tar member", path);
    if ((f = fopen(path, "rb")) == NULL || fstat(fileno(f), &st) != 0) {
        if (f != NULL)
            fclose(f);
        return smg_error_set(err, SMG_EIO, "cannot read %s", path);
    }
    if (header(gz, name, (unsigned long long)st.st_size, (long long)st.st_mtime) != SMG_OK) {
        fclose(f);
        return smg_error_set(err, SMG_EIO, "writing the archive of %s failed", dir);
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && done + n <= (unsigned long long)st.st_size) {
        if (gzwrite(gz, buf, (unsigned)n) != (int)n)
            break;
        done += n;
    }
    fclose(f);
    if (done != (unsigned long long)st.st_size ||
        (done % BLOCK && gzwrite(gz, zeros, (unsigned)(BLOCK - done % BLOCK)) <= 0))
        return smg_error_set(err, SMG_EIO, "%s changed or could not be archived", path);
    return SMG_OK;
}

enum smg_status smg_tar_gz_write_dir(const char *dir, const char *out_path, struct smg_error *err)
{
    static const char zeros[2 * BLOCK];
    struct smg_file_list files = {NULL, 0};
    char tmp[4200];
    gzFile gz;
    int rc;

    if ((rc = smg_file_list_scan(dir, &files, err)) != SMG_OK)
        return rc;
    snprintf(tmp, sizeof(tmp), "%s.tmp", out_path);
    if ((gz = gzopen(tmp, "wb6")) == NULL) {
        smg_file_list_clear(&files);
        return smg_error_set(err, SMG_EIO, "cannot create %s", tmp);
    }
    for (size_t i = 0; rc == SMG_OK && i < files.count; i++) {
        const char *slash = strrchr(files.paths[i], '/');
        const char *name = slash ? slash + 1 : files.paths[i];
        if (strncmp(files.paths[i], dir, strlen(dir)) == 0 &&
            strchr(files.paths[i] + strlen(dir) + 1, '/') == NULL)
            rc = member(gz, dir, name, err);
    }
    if (rc == SMG_OK && gzwrite(gz, zeros, sizeof(zeros)) != (int)sizeof(zeros))
        rc = smg_error_set(err, SMG_EIO, "writing %s failed", tmp);
    if (gzclose(gz) != Z_OK && rc == SMG_OK)
        rc = smg_error_set(err, SMG_EIO, "writing %s failed", tmp);
    if (rc == SMG_OK && rename(tmp, out_path) != 0)
        rc = smg_error_set(err, SMG_EIO, "cannot rename %s to %s", tmp, out_path);
    if (rc != SMG_OK)
        (void)remove(tmp);
    smg_file_list_clear(&files);
    return rc;
}

/*
 * Fuzz target for the model.tar.gz unpacker: the input is an archive (plain
 * tar, or gzip, which is detected) unpacked into a scratch folder made once.
 * Checks: only the documented statuses come back, and nothing is ever
 * written outside that folder (it holds no sub-folder afterwards: every
 * member name is flat).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/stream.h"
#include "io/tar_extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[] = "/tmp/smalgo-fuzz-tar-XXXXXX";

static void empty_scratch(void)
{
    DIR *d = opendir(scratch);
    struct dirent *e;
    char path[512];

    if (d == NULL)
        abort();
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (e->d_type == DT_DIR)
            abort(); /* a member made a folder */
        snprintf(path, sizeof(path), "%s/%s", scratch, e->d_name);
        unlink(path);
    }
    closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int made;
    struct smg_stream *in;
    struct smg_error err;
    unsigned files;
    int rc;

    if (!made && mkdtemp(scratch) == NULL)
        return 0;
    made = 1;
    smg_error_clear(&err);
    if (smg_stream_open_memory(data, size, "fuzz.tar", &in, &err) != SMG_OK)
        return 0;
    rc = smg_tar_extract(in, scratch, &files, &err);
    if (rc != SMG_OK && rc != SMG_EFORMAT && rc != SMG_EIO)
        abort();
    empty_scratch();
    return 0;
}

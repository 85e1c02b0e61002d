/*
 * The pre-training record probe of a File-mode channel (see channel_records.h):
 * list the files as the reader does, probe them in order until one holds a
 * record.
 */
#include "runtime/channel_records.h"

#include <stdio.h>
#include <string.h>

#include "io/file_list.h"
#include "io/records_probe.h"

enum smg_status smg_channel_records_probe(const char *name, const char *dir,
                                          const struct smg_format *fmt,
                                          struct smg_channel_records *out, struct smg_error *err)
{
    struct smg_file_list files = {NULL, 0};
    struct smg_records_first first;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = smg_file_list_scan(dir, &files, err);
    for (size_t i = 0; rc == SMG_OK && i < files.count && !out->found; i++) {
        if (i == 0)
            snprintf(out->first, sizeof(out->first), "%.500s", files.paths[0]);
        out->files++;
        rc = smg_records_probe_first(files.paths[i], fmt, &first, err);
        out->found = first.found;
        out->sparse = first.sparse;
    }
    if (rc != SMG_OK)
        smg_error_prefix(err, "channel %s: ", name);
    smg_file_list_clear(&files);
    return (enum smg_status)rc;
}

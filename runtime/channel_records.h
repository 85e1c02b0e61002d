/*
 * Before training: does a File-mode channel hold a record, and what is its
 * first record like?
 *
 * Why: a channel whose files exist but hold no record (a CSV of blank lines, a
 * gzip of nothing) or whose first record is malformed used to be found only
 * when the channel was read; for the `test` channel that is after training.
 * The probe reads the channel's files in the reader's order (file_list.h)
 * through io/records_probe.h's smg_records_probe_first until one holds a
 * record, so it costs one record's read, plus the empty files before it.
 *
 * What it tells: whether a record was found, whether the first one is sparse
 * (which settles that the channel's batches will be CSR: job_memory.h counts
 * them so), and, when none was found, the first file that was looked at, for
 * the message. A malformed first record is an SMG_EFORMAT error worded as the
 * reader's ("channel test: <path>: line 1, column 2: not a number: ...").
 */
#ifndef SMG_CHANNEL_RECORDS_H
#define SMG_CHANNEL_RECORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/status.h"
#include "io/rows.h"

struct smg_channel_records {
    bool found;      /* some file holds a record */
    bool sparse;     /* the first record found is a sparse recordIO-protobuf tensor */
    size_t files;    /* files looked at */
    char first[512]; /* the first file looked at ("" when there is none) */
};

/*
 * Probe the regular files under dir (a channel folder; not one that holds an
 * S3 manifest) read as fmt. name is the channel's, for messages. SMG_OK with
 * out->found false when no file holds a record; SMG_EFORMAT / SMG_EIO naming
 * the channel, the file and the record or line when the first record found is
 * malformed or a file cannot be read.
 */
SMG_MUST_CHECK enum smg_status smg_channel_records_probe(const char *name, const char *dir,
                                                         const struct smg_format *fmt,
                                                         struct smg_channel_records *out,
                                                         struct smg_error *err);

#endif

/*
 * Feature-count discovery for `smalgo records` when --feature-dim is not
 * given: look at the first record of a file (or of the first file under a
 * folder, in channel order) and count its features.
 *
 *   CSV: fields on the first line, minus label_size (wrapped CSV: the first
 *        line of the first RecordIO record).
 *   recordIO-protobuf: the first record's features["values"] tensor: its
 *        shape's columns when it has a shape (sparse), else the number of
 *        values (dense), as record_decode.h's smg_record_feature_count says.
 *
 * The framing is recordio.h's reader and the decoding record_decode.h's, so
 * the probe accepts exactly what the row reader accepts (multi-part records
 * included) and its errors carry the same detail. Gzip is detected as
 * everywhere else. FIFOs cannot be probed (reading the first record would
 * consume it), so they need --feature-dim. The probe only sizes the decoder;
 * the decoder itself still checks every record.
 *
 * smg_records_probe_first answers the question the job asks of each File-mode
 * channel before training: does it hold a record at all, is that record
 * well-formed as far as it can be checked without feature_dim, and is it
 * sparse (which decides whether the channel's batches will be CSR). Blank
 * lines count as no record, exactly as csv.h skips them.
 */
#ifndef SMG_RECORDS_PROBE_H
#define SMG_RECORDS_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/status.h"
#include "io/rows.h"
#include "io/stream.h"

/* Probe the first file under path (a file or a folder). SMG_ECONFIG for a FIFO. */
SMG_MUST_CHECK enum smg_status smg_records_probe_dim(const char *path, const struct smg_format *fmt,
                                                     size_t *dim, struct smg_error *err);

/* Probe the first record of s (already gunzipped). SMG_EFORMAT when there is none to count. */
SMG_MUST_CHECK enum smg_status smg_records_probe_stream(struct smg_stream *s,
                                                        const struct smg_format *fmt, size_t *dim,
                                                        struct smg_error *err);

/* What smg_records_probe_first found in one file. */
struct smg_records_first {
    bool found;  /* the file holds at least one record (CSV: a non-empty line) */
    bool sparse; /* recordIO-protobuf: that record's tensor is sparse (keys or shape) */
    size_t dim;  /* its feature count (CSV: fields minus label_size) */
};

/*
 * Open the file at path (gzip recognised) and find its first record: CSV (plain
 * or RecordIO-wrapped) skips empty lines and parses the first non-empty one
 * with as many features as it has fields; recordIO-protobuf reads the first
 * record and counts its features (record_decode.h). out->found is false when
 * the file ends first. A first record the row reader would refuse (a
 * non-number, a truncated or corrupt record) is SMG_EFORMAT, worded as the
 * reader words it ("<path>: line 1, column 2: not a number: ..."); an
 * unreadable file SMG_EIO. Reads no further than the first record.
 */
SMG_MUST_CHECK enum smg_status smg_records_probe_first(const char *path,
                                                       const struct smg_format *fmt,
                                                       struct smg_records_first *out,
                                                       struct smg_error *err);

/* The same on a stream (already gunzipped), named by the stream in messages. */
SMG_MUST_CHECK enum smg_status smg_records_probe_first_stream(struct smg_stream *s,
                                                              const struct smg_format *fmt,
                                                              struct smg_records_first *out,
                                                              struct smg_error *err);

#endif

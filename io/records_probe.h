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
 */
#ifndef SMG_RECORDS_PROBE_H
#define SMG_RECORDS_PROBE_H

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

#endif

/*
 * Feature-count discovery for `smalgo records` when --feature-dim is not
 * given: look at the first record of a file (or of the first file under a
 * folder, in channel order) and count its features.
 *
 *   CSV: fields on the first line, minus label_size (wrapped CSV: the first
 *        line of the first RecordIO record).
 *   recordIO-protobuf: the first record's features["values"] tensor: shape[0]
 *        when it has a shape (sparse), else the number of values (dense).
 *
 * Gzip is detected as everywhere else. FIFOs cannot be probed (reading the
 * first record would consume it), so they need --feature-dim. The probe only
 * sizes the decoder; the decoder itself still checks every record.
 */
#ifndef SMG_RECORDS_PROBE_H
#define SMG_RECORDS_PROBE_H

#include <stddef.h>

#include "io/rows.h"
#include "io/base/status.h"

int smg_records_probe_dim(const char *path, const struct smg_format *fmt, size_t *dim,
                          struct smg_error *err);

#endif

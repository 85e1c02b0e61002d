/*
 * Fuzz target for the first-record probes (io/records_probe.h): the first byte
 * picks the row kind (CSV or recordIO-protobuf), RecordIO wrapping and
 * label_size (0..2); the rest is the stream. Both probes must return cleanly,
 * and what smg_records_probe_first says is checked against the row reader
 * itself, the oracle it must agree with: no record found means the reader
 * (any feature_dim) ends with no row and no error; a CSV first record parsed
 * with dim features means the reader with feature_dim = dim decodes one row.
 */
#include <stdint.h>
#include <stdlib.h>

#include "io/records_probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The row reader's first row with feature_dim dim: SMG_OK with *got 0 or 1, or its error. */
static int reader_first_row(const uint8_t *data, size_t size, struct smg_format fmt, size_t dim,
                            size_t *got)
{
    struct smg_stream *s = NULL;
    struct smg_row_reader *r = NULL;
    struct smg_error err;
    float *row = calloc(dim, sizeof(float));
    int rc;

    *got = 0;
    fmt.feature_dim = dim;
    smg_error_clear(&err);
    if (row == NULL || smg_stream_open_memory(data, size, "fuzz", &s, &err) != SMG_OK) {
        free(row);
        return -1;
    }
    rc = smg_row_reader_new(s, &fmt, &r, &err);
    if (rc == SMG_OK)
        rc = smg_row_reader_next(r, row, 1, got, &err);
    smg_row_reader_free(r);
    smg_stream_free(s);
    free(row);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smg_format fmt = {SMG_ROWS_CSV, 0, 0, false, 1 << 16};
    struct smg_records_first first;
    struct smg_stream *s = NULL;
    struct smg_error err;
    size_t dim = 0, got;
    int rc;

    if (size < 1)
        return 0;
    fmt.rows = (data[0] & 1) ? SMG_ROWS_RECORDIO_PROTOBUF : SMG_ROWS_CSV;
    fmt.recordio_wrapped = fmt.rows == SMG_ROWS_CSV && (data[0] & 2) != 0;
    fmt.label_size = fmt.rows == SMG_ROWS_CSV ? (size_t)((data[0] >> 2) & 3) % 3 : 0;
    data++;
    size--;
    smg_error_clear(&err);
    if (smg_stream_open_memory(data, size, "fuzz", &s, &err) != SMG_OK)
        return 0;
    rc = smg_records_probe_stream(s, &fmt, &dim, &err);
    smg_stream_free(s);
    if (rc == SMG_OK && dim == 0)
        abort(); /* a feature count of 0 is never a success */
    s = NULL;
    if (smg_stream_open_memory(data, size, "fuzz", &s, &err) != SMG_OK)
        return 0;
    rc = smg_records_probe_first_stream(s, &fmt, &first, &err);
    smg_stream_free(s);
    if (rc != SMG_OK)
        return 0;
    if (!first.found && (reader_first_row(data, size, fmt, 1, &got) != SMG_OK || got != 0))
        abort(); /* the probe saw no record where the reader finds one, or an error */
    if (first.found && fmt.rows == SMG_ROWS_CSV && first.dim > 0 && first.dim <= 4096 &&
        (reader_first_row(data, size, fmt, first.dim, &got) != SMG_OK || got != 1))
        abort(); /* the probe accepted a first line the reader refuses */
    return 0;
}

/*
 * Fuzz target for CSV rows: the first byte picks feature_dim (1..8), label_size
 * (0..2) and whether the input is read as CSV under RecordIO wrapping; the rest
 * is decoded in batches of 3 rows. Every accepted row must be finite.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "io/rows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smg_stream *s = NULL;
    struct smg_row_reader *r = NULL;
    struct smg_format fmt = {SMG_ROWS_CSV, 0, 0, false, 1 << 16};
    struct smg_error err;
    float rows[3 * 8];

    if (size < 1)
        return 0;
    fmt.feature_dim = (size_t)(data[0] & 7) + 1;
    fmt.label_size = (size_t)((data[0] >> 3) & 3) % 3;
    fmt.recordio_wrapped = (data[0] & 0x80) != 0;
    smg_error_clear(&err);
    if (smg_stream_open_memory(data + 1, size - 1, "fuzz", &s, &err) != SMG_OK)
        return 0;
    if (smg_row_reader_new(s, &fmt, &r, &err) == SMG_OK) {
        size_t got;
        while (smg_row_reader_next(r, rows, 3, &got, &err) == SMG_OK && got > 0)
            for (size_t i = 0; i < got * fmt.feature_dim; i++)
                if (!isfinite(rows[i]))
                    abort();
    }
    smg_row_reader_free(r);
    smg_stream_free(s);
    return 0;
}

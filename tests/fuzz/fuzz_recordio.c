/*
 * Fuzz target for RecordIO framing: read every record of the input (with a
 * small maximum, so the length check fires) and touch every payload byte; any
 * crash, sanitizer report or hang fails. Framing errors are expected.
 */
#include <stdint.h>
#include <stdlib.h>

#include "io/recordio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smg_stream *s = NULL;
    struct smg_recordio_reader *r = NULL;
    struct smg_error err;
    unsigned sum = 0;

    smg_error_clear(&err);
    if (smg_stream_open_memory(data, size, "fuzz", &s, &err) != SMG_OK)
        return 0;
    if (smg_recordio_reader_new(s, 1 << 16, &r, &err) == SMG_OK) {
        const uint8_t *p;
        size_t len;
        while (smg_recordio_next(r, &p, &len, &err) == SMG_OK)
            for (size_t i = 0; i < len; i++)
                sum += p[i];
    }
    smg_recordio_reader_free(r);
    smg_stream_free(s);
    return (int)(sum & 0);
}

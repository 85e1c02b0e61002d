/*
 * text/csv rows: numbers separated by commas, one row per line.
 *
 * No header. Lines end in LF or CRLF; the last line may lack its newline;
 * empty lines are skipped. Every other line must hold exactly label_size +
 * feature_dim fields; the first label_size are labels, dropped unread (any
 * text). A feature field is any number strtod accepts (surrounding spaces and
 * tabs allowed), parsed to exactly (float)strtod(field): common decimal forms
 * ("-12.5", "3e-4", "1.25E+02") by a fast exact parser, everything else by
 * strtod itself. NaN,
 * infinity and values beyond float range are errors, like an empty field, a
 * non-number or a wrong field count. Messages name the line (1-based, counted
 * over the whole stream) and column (1-based, labels included), e.g.
 *   "line 7, column 3: empty field"
 * and callers prefix the stream name.
 */
#ifndef SMG_CSV_H
#define SMG_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/base/status.h"

struct smg_csv_state {
    size_t label_size;
    size_t feature_dim;
    uint64_t lines; /* lines consumed so far, blank ones included */
};

/*
 * Parse complete lines from buf[0, len) into out (max_rows rows of
 * feature_dim floats). Stops after max_rows rows, or at the first incomplete
 * line (no newline yet) unless final, in which case that last line is parsed
 * too. *rows receives the rows written, *consumed the bytes used (always at
 * a line boundary). st->lines advances by the lines consumed.
 */
SMG_MUST_CHECK enum smg_status smg_csv_parse(struct smg_csv_state *st, const char *buf, size_t len,
                                             bool final, float *out, size_t max_rows, size_t *rows,
                                             size_t *consumed, struct smg_error *err);

/*
 * Parse one number as (float)strtod would, without needing a terminator.
 * false if [p, end) is not exactly one number (spaces/tabs around it allowed).
 * NaN and infinities parse (true): the caller decides.
 */
bool smg_csv_parse_float(const char *p, const char *end, float *out);

#endif

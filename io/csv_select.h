/*
 * Column selection for CSV files that carry a header row and text columns,
 * such as the NYC TLC trip files: resolve a selection ("pickup_longitude,
 * 6,fare_amount") against the header, then pick the selected cells of each
 * line as float32 numbers, with the reason and column when a line cannot be.
 *
 * Selection grammar: items separated by commas; an item of digits only is a
 * 1-based column number (as `cut -f` counts), anything else a header name,
 * matched case-insensitively after trimming spaces (TLC spells RateCodeID and
 * RatecodeID in different months). An empty selection (NULL or "") selects
 * every column. Items may repeat and come in any order; the output follows
 * the selection's order.
 *
 * Lines: fields separated by commas, no quoting (a quote is just text, so a
 * quoted cell is not a number); a trailing CR is dropped. Every line must hold
 * as many fields as the header (or, without a header, as the first line).
 * A selected cell must be a finite number in float range as io/csv.h parses
 * it (surrounding spaces allowed); unselected cells may hold any text.
 */
#ifndef SMG_CSV_SELECT_H
#define SMG_CSV_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/status.h"

/* Most columns a line may have and a selection may name. */
#define SMG_CSV_SELECT_MAX_COLS 4096

struct smg_csv_select {
    size_t ncols;                            /* fields per line */
    size_t nsel;                             /* selected columns */
    size_t idx[SMG_CSV_SELECT_MAX_COLS];     /* 0-based field of each output column */
    char names[SMG_CSV_SELECT_MAX_COLS][64]; /* header name of each output column ("" if none) */
    /* scratch: the fields of the line being read */
    const char *fb[SMG_CSV_SELECT_MAX_COLS + 1], *fe[SMG_CSV_SELECT_MAX_COLS + 1];
};

/*
 * Resolve `spec` against the first line (header true: names, else a data
 * line that only sets the field count; names in spec are then an error).
 * SMG_ECONFIG with a message naming the unknown name, the column number out of
 * range (and the header's names or the field count), or an empty item;
 * SMG_EFORMAT when the line itself is unusable (empty, too many fields).
 */
SMG_MUST_CHECK enum smg_status smg_csv_select_init(struct smg_csv_select *s, const char *spec,
                                                   const char *first, size_t len, bool header,
                                                   struct smg_error *err);

/*
 * Pick the selected cells of one line (len bytes, no newline; a trailing CR
 * is ignored) into out (nsel floats). SMG_OK, or SMG_EFORMAT with a message
 * like "column 13 (fare_amount): 'abc' is not a number", "column 4
 * (passenger_count): empty cell" or "19 fields, expected 18"; the caller adds
 * the file and line. Uses s's scratch: one line at a time per selection.
 */
SMG_MUST_CHECK enum smg_status smg_csv_select_pick(struct smg_csv_select *s, const char *line,
                                                   size_t len, float *out, struct smg_error *err);

#endif

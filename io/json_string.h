/*
 * The one JSON string writer: every JSON text smalgo produces (the #metrics
 * line, `smalgo inspect`, inference responses, HTTP error bodies) quotes its
 * strings here, so that they all escape alike and are always valid JSON.
 *
 * Rules: '"' and '\' are escaped with a backslash; control bytes below 0x20
 * become \u00XX; well-formed UTF-8 passes through unchanged; any byte that is
 * not part of a well-formed UTF-8 sequence becomes \ufffd (the replacement
 * character), so user bytes quoted back in an error message cannot break the
 * document.
 */
#ifndef SMG_JSON_STRING_H
#define SMG_JSON_STRING_H

#include "io/base/buffer.h"
#include "io/base/status.h"

/* Append s, NUL-terminated, as a JSON string with its quotes. SMG_ENOMEM past b's cap. */
SMG_MUST_CHECK enum smg_status smg_json_put_string(struct smg_buf *b, const char *s);

/* As smg_json_put_string without the surrounding quotes. */
SMG_MUST_CHECK enum smg_status smg_json_put_string_body(struct smg_buf *b, const char *s);

#endif

/*
 * Media types: the one table of content types smalgo reads and writes, and the
 * one parser of the `type/subtype; key=value; ...` grammar, shared by training
 * channels (ContentType in inputdataconfig.json), inference requests
 * (Content-Type) and inference responses (Accept).
 *
 * Each table row maps one spelling (compared case-insensitively) to a codec
 * (codec.h) and says in which directions it is accepted; an alias is another
 * spelling of a codec above it and is not listed in messages.
 *
 *   spelling                          codec              train  request  response
 *   application/x-recordio-protobuf   smg_codec_recordio   x       x        x
 *   text/csv                          smg_codec_csv        x       x        x
 *   application/json                  smg_codec_json               x        x
 *   application/jsonlines             smg_codec_jsonlines          x        x
 *   application/x-jsonlines           (alias of jsonlines)         x        x
 *   * / * and application / *          (aliases of json, Accept wildcards)    x
 *
 * Callers hold the row's codec and call through it: requests are decoded by
 * codec->decode, responses written by codec->encode and sent as codec->mime,
 * training channels read with the row reader codec->rows names, and
 * label_size is allowed where codec->label_size says. Nothing outside the
 * codec files asks which codec it holds.
 *
 * Adding a content type:
 *   1. a codec file io/codec_<name>.c defining `const struct smg_codec
 *      smg_codec_<name>` (its decode and encode functions, mime, label_size),
 *      declared with one line in io/codec.h;
 *   2. one row in the table in media_type.c (spelling, directions, codec).
 * The io library's sources are globbed, so nothing else changes; the
 * supported-type lists in error messages are built from the table, and the
 * table's unit test and the infer fuzz targets walk every row.
 * The one per-format piece that is not a hook is training: a codec names one
 * of the row readers in rows.h (recordIO-protobuf or CSV), because a reader
 * keeps stream state (buffer refill, RecordWrapperType=RecordIO framing) that a
 * stateless hook cannot. A new training format that neither reader can read
 * also needs a reader in rows.c and a value in enum smg_row_kind.
 *
 * Grammar (RFC 9110 media-type, leniently): the type/subtype, then
 * parameters separated by ';', each `key=value` with spaces allowed around
 * every token. The one parameter with a meaning is label_size (CSV's leading
 * label columns): a decimal number 0..SMG_MEDIA_MAX_LABEL_SIZE. Others
 * (charset, q, ...) are ignored. A parameter without '=' does not fail the
 * parse: the parser points at it (bad_param) and each caller decides. A
 * training channel's ContentType refuses it (a config file should be exact);
 * an inference request ignores it (HTTP clients send such parameters).
 */
#ifndef SMG_MEDIA_TYPE_H
#define SMG_MEDIA_TYPE_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/status.h"

struct smg_codec; /* codec.h */

/* Directions a table row is accepted in (bit flags). */
#define SMG_MEDIA_TRAIN    1U /* a training channel's ContentType */
#define SMG_MEDIA_REQUEST  2U /* an inference request's Content-Type */
#define SMG_MEDIA_RESPONSE 4U /* an inference response, chosen by Accept */

#define SMG_MEDIA_MAX_LABEL_SIZE ((size_t)1000000)

struct smg_media_entry {
    const char *name;              /* the spelling, lower case */
    unsigned uses;                 /* SMG_MEDIA_TRAIN | ... */
    bool alias;                    /* another spelling of a row above: not listed in messages */
    const struct smg_codec *codec; /* what the type means in each direction */
};

/* One parsed media type. Spans point into the parsed text. */
struct smg_media_type {
    const struct smg_media_entry *entry; /* NULL: not in the table for this use */
    const char *type;                    /* type/subtype as written, trimmed */
    size_t type_len;
    bool has_label_size;
    size_t label_size;
    const char *bad_param; /* the first parameter without '=', NULL if none */
    size_t bad_param_len;
};

/* Row i of the table, or NULL past the last: for tests and fuzzers that walk it. */
const struct smg_media_entry *smg_media_row(size_t i);

/* The row spelled type[0..len) (case-insensitive) accepted for use, or NULL. */
const struct smg_media_entry *smg_media_lookup(const char *type, size_t len, unsigned use);

/*
 * Parse text[0..len) (one media type, not a list). An unknown type is not an
 * error: out->entry is NULL and the caller names it. SMG_ECONFIG when the
 * label_size value is not a number in range, with a message quoting it
 * ("label_size='-1' is not a number of label columns (0 to 1000000)");
 * out->type and out->label_size spans are set as far as parsed.
 */
SMG_MUST_CHECK enum smg_status smg_media_type_parse(const char *text, size_t len, unsigned use,
                                                    struct smg_media_type *out,
                                                    struct smg_error *err);

/*
 * Pick from an Accept list ("text/html, text/csv;q=0.9"): the first item whose
 * type is in the table for use wins; parameters and q-values are ignored.
 * *out is NULL when nothing matched; *any says whether the list named any
 * type at all (an empty or blank header names none).
 */
void smg_media_accept_pick(const char *accept, unsigned use, const struct smg_media_entry **out,
                           bool *any);

/* The canonical spellings accepted for use, ", "-separated, in table order. */
const char *smg_media_supported(unsigned use);

#endif

/*
 * Small helpers for the JSON configuration files SageMaker writes under
 * input/config/: read a whole file with a size cap, and parse it as a JSON
 * object with an error that says where (line, column, byte) it went wrong.
 *
 * Parsing goes through cJSON. The messages are phrased for a SageMaker user:
 * they name the file and say what was expected, so they can go to
 * output/failure as they are.
 */
#ifndef SMG_JSONFILE_H
#define SMG_JSONFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/status.h"

struct cJSON;

/* Config files are small; anything larger is a mistake, not a config. */
#define SMG_CONFIG_MAX_BYTES ((size_t)16 << 20)

/*
 * Read the file at path into a new NUL-terminated buffer (smg_free it).
 * SMG_EIO if it cannot be opened or read (*missing is set when it does not
 * exist, so callers can apply a default), SMG_ECONFIG if it exceeds max_bytes
 * or holds a NUL byte (a C string would silently end there, dropping what
 * follows). missing may be NULL.
 */
SMG_MUST_CHECK enum smg_status smg_file_read_text(const char *path, size_t max_bytes, char **text,
                                                  size_t *len, bool *missing,
                                                  struct smg_error *err);

/*
 * Parse text as a JSON object. An empty (or all-blank) text, malformed JSON
 * and a top-level value that is not an object are SMG_ECONFIG errors naming
 * source ("input/config/hyperparameters.json") and, for malformed JSON, the
 * line, column and byte offset. On success *out is the object (cJSON_Delete).
 */
SMG_MUST_CHECK enum smg_status smg_json_parse_object(const char *text, size_t len,
                                                     const char *source, struct cJSON **out,
                                                     struct smg_error *err);

/* The JSON type of item as a word for messages: "string", "number", "array", ... */
const char *smg_json_type_name(const struct cJSON *item);

#endif

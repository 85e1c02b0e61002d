/*
 * Fuzz target for the two credential formats read from outside: the first
 * byte picks the shared credentials file (INI, profile "default" or
 * "smalgo") or the container/IMDS JSON; the rest is the text. Checks: only
 * the documented statuses come back, and on success both keys are non-empty
 * NUL-terminated strings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/s3/s3_credentials.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smg_s3_creds c;
    struct smg_error err;
    char *text;
    int rc;

    if (size < 1)
        return 0;
    if ((text = malloc(size)) == NULL)
        return 0;
    memcpy(text, data + 1, size - 1);
    smg_error_clear(&err);
    if (data[0] % 2 == 0)
        rc = smg_s3_ini_credentials(text, size - 1, data[0] % 4 ? "smalgo" : "default", &c, &err);
    else
        rc = smg_s3_json_credentials(text, size - 1, &c, &err);
    if (rc != SMG_OK && rc != SMG_EEOF && rc != SMG_EFORMAT)
        abort();
    if (rc == SMG_OK && (c.access_key[0] == '\0' || c.secret_key[0] == '\0' ||
                         memchr(c.token, '\0', sizeof(c.token)) == NULL))
        abort();
    free(text);
    return 0;
}

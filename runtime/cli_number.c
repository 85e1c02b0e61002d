/*
 * The strict decimal parser behind smg_cli_parse_u64 (cli_number.h): strtoull
 * alone accepts a sign and leading blanks, so the first character is checked
 * to be a digit before it runs.
 */
#include "runtime/cli_number.h"

#include <errno.h>
#include <stdlib.h>

bool smg_cli_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    unsigned long long v;

    if (s == NULL || *s < '0' || *s > '9')
        return false;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/*
 * Whole numbers from the command line, for the smalgo subcommands' options.
 *
 * One strict rule for every option: decimal digits only (no sign, no blanks,
 * no trailing text), no overflow, and within [lo, hi]. Each command prints its
 * own message when a value is rejected.
 */
#ifndef SMG_CLI_NUMBER_H
#define SMG_CLI_NUMBER_H

#include <stdbool.h>
#include <stdint.h>

/* Parse s into *out; false (and *out untouched) if s is NULL or breaks the rule. */
bool smg_cli_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

#endif

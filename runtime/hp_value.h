/*
 * One hyperparameter value: parse the text SageMaker sends for a table entry
 * into a typed value, strictly, with a message that names the key, the value
 * and what is allowed. Internal to hparams.c; split out so each file stays
 * one concept (the JSON walk there, the value grammar here).
 */
#ifndef SMG_HP_VALUE_H
#define SMG_HP_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/status.h"
#include "runtime/hparams.h"

struct smg_hp_value {
    char *text;         /* normalised (trimmed) text, smg_malloc'd */
    bool is_auto;       /* INT_OR_AUTO given as auto */
    long long i;        /* INT, INT_OR_AUTO */
    double f;           /* FLOAT, and the integer types as doubles */
    bool b;             /* BOOL */
    unsigned list_mask; /* METRIC_LIST: bit i set when choice i is listed */
};

/*
 * Parse text for spec into *out (cleared first). SMG_ECONFIG with a message
 * "hyperparameter 'k' = '1' is out of range; allowed: an integer >= 2" on a
 * bad value; SMG_ENOMEM.
 */
SMG_MUST_CHECK enum smg_status smg_hp_value_parse(const struct smg_hp_spec *spec, const char *text,
                                                  struct smg_hp_value *out, struct smg_error *err);
void smg_hp_value_clear(struct smg_hp_value *v);

/* What spec allows, in words ("an integer >= 2", "one of random, kmeans++"). */
void smg_hp_value_describe(const struct smg_hp_spec *spec, char *buf, size_t size);

/* Index of word (len bytes) in a "|"-separated choices string, or -1. */
int smg_hp_choice_index(const char *choices, const char *word, size_t len);

#endif

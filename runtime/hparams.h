/*
 * Hyperparameters: one table per algorithm says each SageMaker name, its type,
 * range, default and whether it is required; smg_hparams_parse checks a
 * hyperparameters.json against it.
 *
 * Every value in the file is a string, sometimes JSON-quoted twice ("\"256\"");
 * booleans come as true/True/false/False. A wrong type or value, a missing
 * required key or an unknown key is an SMG_ECONFIG client error naming the key,
 * the value and what is allowed (for an unknown key, the closest valid name).
 * Keys starting with "_" or "sagemaker_", and "force_dense", are accepted and
 * ignored, as SageMaker and its tuner send them.
 */
#ifndef SMG_HPARAMS_H
#define SMG_HPARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/status.h"

enum smg_hp_type {
    SMG_HP_INT,         /* integer in [min, max] */
    SMG_HP_FLOAT,       /* real in [min, max] */
    SMG_HP_BOOL,        /* true/True/false/False */
    SMG_HP_CHOICE,      /* one of choices ("regular|randomized") */
    SMG_HP_INT_OR_AUTO, /* integer in [min, max] or the word auto */
    SMG_HP_METRIC_LIST  /* JSON list drawn from choices, e.g. ["msd","ssd"] */
};

/* An upper bound for integers that have none in SageMaker's tables (2^53). */
#define SMG_HP_NO_MAX 9007199254740992.0

struct smg_hp_spec {
    const char *name;
    enum smg_hp_type type;
    bool required;
    const char *default_value; /* as SageMaker's default file spells it; NULL: none */
    double min;                /* INT, INT_OR_AUTO, FLOAT: inclusive bounds */
    double max;
    const char *choices; /* "|"-separated, for CHOICE and METRIC_LIST */
    const char *allowed; /* what is allowed, for messages ("a positive integer"); NULL: derived */
};

struct smg_hparams;

/*
 * Check json_text (the contents of source, e.g. "hyperparameters.json")
 * against the table and build the resolved set: given values, then defaults.
 * SMG_ECONFIG (a client error) for an empty file, malformed JSON, an unknown
 * key, a bad value or missing required keys; SMG_ENOMEM. Values may also be
 * JSON numbers, booleans or (for METRIC_LIST) arrays, as people hand-write
 * the file.
 */
int smg_hparams_parse(const struct smg_hp_spec *specs, size_t n_specs, const char *json_text,
                      const char *source_name, struct smg_hparams **out, struct smg_error *err);
void smg_hparams_free(struct smg_hparams *hp); /* accepts NULL */

/*
 * Typed getters. Asking for a name not in the table, or with the wrong type,
 * is a programmer error (assert). For an optional key with no default and not
 * given, smg_hp_present is false and the getters return 0/false/"".
 * smg_hp_int works for INT and INT_OR_AUTO (0 when auto); smg_hp_float for
 * FLOAT and the integer types.
 */
bool smg_hp_present(const struct smg_hparams *hp, const char *name);
bool smg_hp_is_auto(const struct smg_hparams *hp, const char *name);
long long smg_hp_int(const struct smg_hparams *hp, const char *name);
double smg_hp_float(const struct smg_hparams *hp, const char *name);
bool smg_hp_bool(const struct smg_hparams *hp, const char *name);
/* The value as normalised text, for any type ("kmeans++", "256", "auto", "[\"msd\"]"). */
const char *smg_hp_str(const struct smg_hparams *hp, const char *name);
/* METRIC_LIST: whether `item` is in the list. */
bool smg_hp_list_has(const struct smg_hparams *hp, const char *name, const char *item);

/* The spec called name, or NULL. */
const struct smg_hp_spec *smg_hp_spec_find(const struct smg_hp_spec *specs, size_t n_specs,
                                           const char *name);

/* Whether a key not in any table is accepted and ignored (_*, sagemaker_*, force_dense). */
bool smg_hparams_key_ignored(const char *key);

/*
 * Whether the hyperparameters text has a top-level key (used to infer the
 * algorithm). Reports an empty or malformed file exactly as smg_hparams_parse.
 */
int smg_hparams_has_key(const char *json_text, const char *source, const char *key, bool *has,
                        struct smg_error *err);

/*
 * The resolved configuration as a JSON object text, for "Final configuration:
 * {...}": every table entry that has a value, then the ignored keys given,
 * all as strings.
 */
char *smg_hparams_to_json(const struct smg_hparams *hp); /* smg_free the result */

#endif

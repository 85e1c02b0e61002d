/*
 * Hyperparameters: one table per algorithm says each SageMaker name, its type,
 * range, default, whether it is required and which field of the algorithm's
 * config struct receives it; smg_hparams_parse checks a hyperparameters.json
 * against it and smg_hparams_fill writes the resolved values into the struct.
 *
 * A table row binds its name to a struct field with one of the SMG_HP_FIELD_*
 * macros below, which take the field by name (offsetof) and check its C type
 * at compile time: the SageMaker name is written once, in the row, and train
 * code reads typed fields (cfg.feature_dim), so a misspelt name cannot compile.
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

/* The C type of a field that receives an SMG_HP_INT_OR_AUTO value. */
struct smg_hp_int_or_auto {
    bool is_auto;
    long long value; /* 0 when is_auto */
};

/*
 * Field bindings, one per type, for a row's initializer:
 *   {.name = "feature_dim", SMG_HP_FIELD_INT(struct smg_pca_hp, feature_dim), ...}
 * INT: long long; INT_OR_AUTO: struct smg_hp_int_or_auto; FLOAT: double;
 * BOOL: bool; CHOICE: int, the 0-based index of the value in choices;
 * METRIC_LIST: unsigned, bit i set when choice i is listed. A field of another
 * type is a compile error (the _Generic has no matching association).
 */
#define SMG_HP_AT(st, m, ctype)    (offsetof(st, m) + _Generic(((st *)0)->m, ctype : (size_t)0))
#define SMG_HP_FIELD_INT(st, m)    .type = SMG_HP_INT, .offset = SMG_HP_AT(st, m, long long)
#define SMG_HP_FIELD_FLOAT(st, m)  .type = SMG_HP_FLOAT, .offset = SMG_HP_AT(st, m, double)
#define SMG_HP_FIELD_BOOL(st, m)   .type = SMG_HP_BOOL, .offset = SMG_HP_AT(st, m, bool)
#define SMG_HP_FIELD_CHOICE(st, m) .type = SMG_HP_CHOICE, .offset = SMG_HP_AT(st, m, int)
#define SMG_HP_FIELD_METRIC_LIST(st, m)                                                            \
    .type = SMG_HP_METRIC_LIST, .offset = SMG_HP_AT(st, m, unsigned)
#define SMG_HP_FIELD_INT_OR_AUTO(st, m)                                                            \
    .type = SMG_HP_INT_OR_AUTO, .offset = SMG_HP_AT(st, m, struct smg_hp_int_or_auto)

struct smg_hp_spec {
    const char *name;
    enum smg_hp_type type;
    size_t offset; /* of the receiving field in the config struct (SMG_HP_FIELD_*) */
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
SMG_MUST_CHECK enum smg_status smg_hparams_parse(const struct smg_hp_spec *specs, size_t n_specs,
                                                 const char *json_text, const char *source_name,
                                                 struct smg_hparams **out, struct smg_error *err);
void smg_hparams_free(struct smg_hparams *hp); /* accepts NULL */

/*
 * Write every resolved value into cfg, the algorithm's config struct, at its
 * row's offset; fields of optional keys with no default and not given are left
 * as they were (callers zero cfg first). specs must be the table hp was parsed
 * against: anything else is SMG_EINTERNAL, so a descriptor cannot fill a
 * struct from another algorithm's values.
 */
SMG_MUST_CHECK enum smg_status smg_hparams_fill(const struct smg_hparams *hp,
                                                const struct smg_hp_spec *specs, void *cfg,
                                                struct smg_error *err);

/* The spec called name, or NULL. */
const struct smg_hp_spec *smg_hp_spec_find(const struct smg_hp_spec *specs, size_t n_specs,
                                           const char *name);

/* Whether a key not in any table is accepted and ignored (_*, sagemaker_*, force_dense). */
bool smg_hparams_key_ignored(const char *key);

/*
 * Whether the hyperparameters text has a top-level key (used to infer the
 * algorithm). Reports an empty or malformed file exactly as smg_hparams_parse.
 */
SMG_MUST_CHECK enum smg_status smg_hparams_has_key(const char *json_text, const char *source,
                                                   const char *key, bool *has,
                                                   struct smg_error *err);

/*
 * The resolved configuration as a JSON object text, for "Final configuration:
 * {...}": every table entry that has a value, then the ignored keys given,
 * all as strings.
 */
char *smg_hparams_to_json(const struct smg_hparams *hp); /* smg_free the result */

#endif

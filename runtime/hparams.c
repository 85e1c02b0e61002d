/*
 * Hyperparameter checking: hyperparameters.json against an algorithm's table.
 *
 * How: the file is parsed as a JSON object (jsonfile.c). Each value is first
 * normalised to text, the way SageMaker's clients send it: a string, possibly
 * JSON-quoted once more ("\"256\""); a hand-written number, boolean or list
 * is turned into its JSON text. The text is then checked by type (hp_value.c)
 * and stored. Keys not in the table are either ignored (_*, sagemaker_*,
 * force_dense, which SageMaker and its tuner send) or rejected with the
 * closest valid name by edit distance. Finally defaults fill what was not
 * given and missing required keys are reported, all of them in one message.
 * Work is linear (n log n for the duplicate check, by sorting the keys), so a
 * file of 100k ignored keys under the size cap parses in a fraction of a second.
 *
 * Invariant: a struct smg_hparams holds one slot per table entry, in table
 * order, and every present slot's text parsed cleanly, so filling the
 * algorithm's config struct (smg_hparams_fill) cannot fail on user input.
 */
#include "runtime/hparams.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/alloc.h"
#include "runtime/hp_value.h"
#include "runtime/jsonfile.h"

struct hp_slot {
    const struct smg_hp_spec *spec;
    bool present;
    bool from_user;
    struct smg_hp_value value;
};

struct hp_extra {
    char *name;
    char *text;
};

struct smg_hparams {
    size_t n;
    struct hp_slot *slots;
    size_t n_extra;
    size_t cap_extra;
    struct hp_extra *extra;
};

bool smg_hparams_key_ignored(const char *key)
{
    return key[0] == '_' || strncmp(key, "sagemaker_", 10) == 0 || strcmp(key, "force_dense") == 0;
}

const struct smg_hp_spec *smg_hp_spec_find(const struct smg_hp_spec *specs, size_t n_specs,
                                           const char *name)
{
    for (size_t i = 0; i < n_specs; i++)
        if (strcmp(specs[i].name, name) == 0)
            return &specs[i];
    return NULL;
}

/* Levenshtein distance with two rows; inputs are capped at 128 characters. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t prev[129], cur[129];
    size_t la = strlen(a), lb = strlen(b);

    if (la > 128)
        la = 128;
    if (lb > 128)
        lb = 128;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
            size_t del = prev[j] + 1;
            size_t ins = cur[j - 1] + 1;
            size_t best = sub < del ? sub : del;
            cur[j] = best < ins ? best : ins;
        }
        memcpy(prev, cur, (lb + 1) * sizeof(size_t));
    }
    return prev[lb];
}

static int unknown_key(const struct smg_hp_spec *specs, size_t n_specs, const char *key,
                       const char *source, struct smg_error *err)
{
    char names[512];
    size_t used = 0;
    const char *closest = specs[0].name;
    size_t best = (size_t)-1;

    names[0] = '\0';
    for (size_t i = 0; i < n_specs; i++) {
        size_t d = edit_distance(key, specs[i].name);
        int w;
        if (d < best) {
            best = d;
            closest = specs[i].name;
        }
        w = snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "", specs[i].name);
        if (w > 0 && (size_t)w < sizeof(names) - used)
            used += (size_t)w;
    }
    return smg_error_set(err, SMG_ECONFIG,
                         "%s: unknown hyperparameter '%.100s'; did you mean '%s'? Valid "
                         "hyperparameters: %s",
                         source, key, closest, names);
}

/*
 * The value of item as text: strings as given, with one extra layer of JSON
 * quoting removed ("\"256\"" -> 256); numbers, booleans and arrays as JSON text.
 * *text is smg_malloc'd.
 */
static int value_text(const cJSON *item, const char *key, const char *source, char **text,
                      struct smg_error *err)
{
    char *printed = NULL;
    const char *s;

    *text = NULL;
    if (cJSON_IsString(item)) {
        s = item->valuestring;
        size_t len = strlen(s);
        if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
            cJSON *inner = cJSON_ParseWithLength(s, len);
            if (inner == NULL || !cJSON_IsString(inner)) {
                cJSON_Delete(inner);
                return smg_error_set(err, SMG_ECONFIG,
                                     "%s: hyperparameter '%s' = '%.100s' is quoted but is not a "
                                     "valid JSON string",
                                     source, key, s);
            }
            *text = smg_strdup(inner->valuestring);
            cJSON_Delete(inner);
        } else {
            *text = smg_strdup(s);
        }
    } else if (cJSON_IsNumber(item) || cJSON_IsBool(item) || cJSON_IsArray(item)) {
        printed = cJSON_PrintUnformatted(item);
        if (printed != NULL)
            *text = smg_strdup(printed);
        cJSON_free(printed);
    } else {
        return smg_error_set(err, SMG_ECONFIG,
                             "%s: hyperparameter '%s' is a JSON %s; expected a string such as "
                             "\"10\"",
                             source, key, smg_json_type_name(item));
    }
    if (*text == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory reading %s", source);
    return SMG_OK;
}

static int add_extra(struct smg_hparams *hp, const char *name, char *text, const char *source,
                     struct smg_error *err)
{
    struct hp_extra *grown;
    size_t bytes, cap = hp->cap_extra ? hp->cap_extra * 2 : 8;

    if (hp->n_extra == hp->cap_extra) { /* doubling: linear in the number of keys */
        if (!smg_mul_size(cap, sizeof(*grown), &bytes) ||
            (grown = smg_realloc(hp->extra, bytes)) == NULL) {
            smg_free(text);
            return smg_error_set(err, SMG_ENOMEM, "out of memory reading %s", source);
        }
        hp->extra = grown;
        hp->cap_extra = cap;
    }
    hp->extra[hp->n_extra].name = smg_strdup(name);
    hp->extra[hp->n_extra].text = text;
    if (hp->extra[hp->n_extra].name == NULL) {
        smg_free(text);
        return smg_error_set(err, SMG_ENOMEM, "out of memory reading %s", source);
    }
    hp->n_extra++;
    return SMG_OK;
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A key given twice, found by sorting the keys (n log n; a pairwise scan was quadratic). */
static int no_duplicates(const cJSON *root, const char *source, struct smg_error *err)
{
    const char **keys;
    const cJSON *item;
    size_t n = 0;
    int rc = SMG_OK;

    cJSON_ArrayForEach(item, root) n++;
    if (n < 2)
        return SMG_OK;
    if ((keys = smg_calloc(n, sizeof(*keys))) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory reading %s", source);
    n = 0;
    cJSON_ArrayForEach(item, root) keys[n++] = item->string;
    qsort(keys, n, sizeof(*keys), compare_keys);
    for (size_t i = 1; i < n && rc == SMG_OK; i++)
        if (strcmp(keys[i - 1], keys[i]) == 0)
            rc = smg_error_set(err, SMG_ECONFIG, "%s: hyperparameter '%.100s' is given twice",
                               source, keys[i]);
    smg_free(keys);
    return rc;
}

static int take_given(struct smg_hparams *hp, const struct smg_hp_spec *specs, size_t n_specs,
                      const cJSON *root, const char *source, struct smg_error *err)
{
    const cJSON *item;
    int rc;

    if ((rc = no_duplicates(root, source, err)) != SMG_OK)
        return rc;
    cJSON_ArrayForEach(item, root)
    {
        const char *key = item->string;
        char *text = NULL;
        const struct smg_hp_spec *spec;

        spec = smg_hp_spec_find(specs, n_specs, key);
        if (spec == NULL && !smg_hparams_key_ignored(key))
            return unknown_key(specs, n_specs, key, source, err);
        if ((rc = value_text(item, key, source, &text, err)) != SMG_OK)
            return rc;
        if (spec == NULL) {
            if ((rc = add_extra(hp, key, text, source, err)) != SMG_OK)
                return rc;
            continue;
        }
        struct hp_slot *slot = &hp->slots[spec - specs];
        rc = smg_hp_value_parse(spec, text, &slot->value, err);
        smg_free(text);
        if (rc != SMG_OK) {
            smg_error_prefix(err, "%s: ", source);
            return rc;
        }
        slot->present = true;
        slot->from_user = true;
    }
    return SMG_OK;
}

static int apply_defaults(struct smg_hparams *hp, const char *source, struct smg_error *err)
{
    char missing[512];
    size_t used = 0;
    size_t n_missing = 0;
    int rc;

    missing[0] = '\0';
    for (size_t i = 0; i < hp->n; i++) {
        struct hp_slot *slot = &hp->slots[i];
        if (slot->present)
            continue;
        if (slot->spec->default_value != NULL) {
            rc = smg_hp_value_parse(slot->spec, slot->spec->default_value, &slot->value, err);
            if (rc != SMG_OK) /* a table bug; the unit tests parse every default */
                return rc;
            slot->present = true;
        } else if (slot->spec->required) {
            char allowed[160];
            int w;
            smg_hp_value_describe(slot->spec, allowed, sizeof(allowed));
            w = snprintf(missing + used, sizeof(missing) - used, "%s'%s' (%s)",
                         n_missing ? ", " : "", slot->spec->name, allowed);
            if (w > 0 && (size_t)w < sizeof(missing) - used)
                used += (size_t)w;
            n_missing++;
        }
    }
    if (n_missing > 0)
        return smg_error_set(err, SMG_ECONFIG, "%s: missing required hyperparameter%s %s", source,
                             n_missing > 1 ? "s" : "", missing);
    return SMG_OK;
}

enum smg_status smg_hparams_parse(const struct smg_hp_spec *specs, size_t n_specs,
                                  const char *json_text, const char *source_name,
                                  struct smg_hparams **out, struct smg_error *err)
{
    struct smg_hparams *hp = NULL;
    cJSON *root = NULL;
    int rc;

    *out = NULL;
    assert(n_specs > 0);
    rc = smg_json_parse_object(json_text, json_text ? strlen(json_text) : 0, source_name, &root,
                               err);
    if (rc != SMG_OK)
        return rc;
    hp = smg_calloc(1, sizeof(*hp));
    if (hp == NULL || (hp->slots = smg_calloc(n_specs, sizeof(*hp->slots))) == NULL) {
        rc = smg_error_set(err, SMG_ENOMEM, "out of memory reading %s", source_name);
        goto out;
    }
    hp->n = n_specs;
    for (size_t i = 0; i < n_specs; i++)
        hp->slots[i].spec = &specs[i];
    if ((rc = take_given(hp, specs, n_specs, root, source_name, err)) != SMG_OK)
        goto out;
    if ((rc = apply_defaults(hp, source_name, err)) != SMG_OK)
        goto out;
    *out = hp;
    hp = NULL;
out:
    smg_hparams_free(hp);
    cJSON_Delete(root);
    return rc;
}

void smg_hparams_free(struct smg_hparams *hp)
{
    if (hp == NULL)
        return;
    for (size_t i = 0; hp->slots != NULL && i < hp->n; i++)
        smg_hp_value_clear(&hp->slots[i].value);
    for (size_t i = 0; i < hp->n_extra; i++) {
        smg_free(hp->extra[i].name);
        smg_free(hp->extra[i].text);
    }
    smg_free(hp->slots);
    smg_free(hp->extra);
    smg_free(hp);
}

enum smg_status smg_hparams_has_key(const char *json_text, const char *source, const char *key,
                                    bool *has, struct smg_error *err)
{
    cJSON *root = NULL;
    int rc;

    *has = false;
    rc = smg_json_parse_object(json_text, json_text ? strlen(json_text) : 0, source, &root, err);
    if (rc != SMG_OK)
        return rc;
    *has = cJSON_GetObjectItemCaseSensitive(root, key) != NULL;
    cJSON_Delete(root);
    return SMG_OK;
}

/* Store one parsed value in its field (types as hparams.h's SMG_HP_FIELD_* fix them). */
static void store(const struct hp_slot *s, char *cfg)
{
    void *at = cfg + s->spec->offset;
    const struct smg_hp_value *v = &s->value;

    switch (s->spec->type) {
    case SMG_HP_INT: memcpy(at, &v->i, sizeof(v->i)); break;
    case SMG_HP_INT_OR_AUTO: {
        struct smg_hp_int_or_auto ia = {v->is_auto, v->is_auto ? 0 : v->i};
        memcpy(at, &ia, sizeof(ia));
        break;
    }
    case SMG_HP_FLOAT: memcpy(at, &v->f, sizeof(v->f)); break;
    case SMG_HP_BOOL: memcpy(at, &v->b, sizeof(v->b)); break;
    case SMG_HP_CHOICE: {
        int idx = smg_hp_choice_index(s->spec->choices, v->text, strlen(v->text));
        memcpy(at, &idx, sizeof(idx));
        break;
    }
    case SMG_HP_METRIC_LIST: memcpy(at, &v->list_mask, sizeof(v->list_mask)); break;
    }
}

enum smg_status smg_hparams_fill(const struct smg_hparams *hp, const struct smg_hp_spec *specs,
                                 void *cfg, struct smg_error *err)
{
    if (hp == NULL || hp->n == 0 || hp->slots[0].spec != &specs[0])
        return smg_error_set(err, SMG_EINTERNAL,
                             "hyperparameters were checked against another algorithm's table");
    for (size_t i = 0; i < hp->n; i++)
        if (hp->slots[i].present)
            store(&hp->slots[i], cfg);
    return SMG_OK;
}

char *smg_hparams_to_json(const struct smg_hparams *hp)
{
    cJSON *obj = cJSON_CreateObject();
    char *printed = NULL;
    char *copy = NULL;

    if (obj == NULL)
        return NULL;
    for (size_t i = 0; i < hp->n; i++) {
        const struct hp_slot *s = &hp->slots[i];
        if (s->present && cJSON_AddStringToObject(obj, s->spec->name, s->value.text) == NULL)
            goto out;
    }
    for (size_t i = 0; i < hp->n_extra; i++)
        if (cJSON_AddStringToObject(obj, hp->extra[i].name, hp->extra[i].text) == NULL)
            goto out;
    printed = cJSON_PrintUnformatted(obj);
    if (printed != NULL)
        copy = smg_strdup(printed);
out:
    cJSON_free(printed);
    cJSON_Delete(obj);
    return copy;
}

/*
 * Hyperparameter checking against the PCA and k-means tables of the algorithm
 * descriptors (runtime/algos/): every value form SageMaker's clients send
 * (strings, JSON-quoted strings, True/False), hand-written JSON numbers and
 * lists, and every bad input of issue 2 with the message the user will read
 * in output/failure. Values are read back from the config struct that
 * smg_hparams_fill writes, at each row's offset, so the tests also prove that
 * every row is bound to its own field with its own type.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "io/base/alloc.h"
#include "runtime/algorithm.h"
#include "runtime/hp_value.h"
#include "runtime/hparams.h"

#define PCA_MIN "\"feature_dim\": \"10\", \"mini_batch_size\": \"500\", \"num_components\": \"3\""
#define KM_MIN  "\"k\": \"4\", \"feature_dim\": \"10\""

#define PCA_SPECS smg_algorithm_pca.hparams, smg_algorithm_pca.n_hparams
#define KM_SPECS  smg_algorithm_kmeans.hparams, smg_algorithm_kmeans.n_hparams

/* The table the last parse_ok used: the field readers below read through it. */
static const struct smg_hp_spec *cur_specs;
static size_t cur_n;

/* A config struct of any algorithm, filled from hp; aligned for every field type. */
union cfg_buf {
    long double align;
    unsigned char bytes[1024];
};

static const struct smg_hp_spec *field(const struct smg_hparams *hp, const char *name,
                                       union cfg_buf *cfg)
{
    struct smg_error err;
    const struct smg_hp_spec *spec = smg_hp_spec_find(cur_specs, cur_n, name);

    assert_non_null(spec);
    assert_true(spec->offset + sizeof(struct smg_hp_int_or_auto) <= sizeof(cfg->bytes));
    memset(cfg, 0, sizeof(*cfg));
    smg_error_clear(&err);
    assert_int_equal(smg_hparams_fill(hp, cur_specs, cfg->bytes, &err), SMG_OK);
    return spec;
}

static long long hp_int(const struct smg_hparams *hp, const char *name)
{
    union cfg_buf cfg;
    const struct smg_hp_spec *spec = field(hp, name, &cfg);
    long long v;
    struct smg_hp_int_or_auto ia;

    if (spec->type == SMG_HP_INT_OR_AUTO) {
        memcpy(&ia, cfg.bytes + spec->offset, sizeof(ia));
        return ia.value;
    }
    assert_int_equal(spec->type, SMG_HP_INT);
    memcpy(&v, cfg.bytes + spec->offset, sizeof(v));
    return v;
}

static bool hp_is_auto(const struct smg_hparams *hp, const char *name)
{
    union cfg_buf cfg;
    const struct smg_hp_spec *spec = field(hp, name, &cfg);
    struct smg_hp_int_or_auto ia;

    assert_int_equal(spec->type, SMG_HP_INT_OR_AUTO);
    memcpy(&ia, cfg.bytes + spec->offset, sizeof(ia));
    return ia.is_auto;
}

static double hp_float(const struct smg_hparams *hp, const char *name)
{
    union cfg_buf cfg;
    const struct smg_hp_spec *spec = field(hp, name, &cfg);
    double v;

    assert_int_equal(spec->type, SMG_HP_FLOAT);
    memcpy(&v, cfg.bytes + spec->offset, sizeof(v));
    return v;
}

static bool hp_bool(const struct smg_hparams *hp, const char *name)
{
    union cfg_buf cfg;
    const struct smg_hp_spec *spec = field(hp, name, &cfg);
    bool v;

    assert_int_equal(spec->type, SMG_HP_BOOL);
    memcpy(&v, cfg.bytes + spec->offset, sizeof(v));
    return v;
}

/* A CHOICE field's index, as the word it stands for (static storage). */
static const char *hp_str(const struct smg_hparams *hp, const char *name)
{
    static char word[64];
    union cfg_buf cfg;
    const struct smg_hp_spec *spec = field(hp, name, &cfg);
    const char *p;
    int idx;

    assert_int_equal(spec->type, SMG_HP_CHOICE);
    memcpy(&idx, cfg.bytes + spec->offset, sizeof(idx));
    p = spec->choices;
    for (int i = 0; i < idx; i++) {
        p = strchr(p, '|');
        assert_non_null(p);
        p++;
    }
    snprintf(word, sizeof(word), "%.*s", (int)strcspn(p, "|"), p);
    return word;
}

static bool hp_list_has(const struct smg_hparams *hp, const char *name, const char *item)
{
    union cfg_buf cfg;
    const struct smg_hp_spec *spec = field(hp, name, &cfg);
    unsigned mask;
    int idx = smg_hp_choice_index(spec->choices, item, strlen(item));

    assert_int_equal(spec->type, SMG_HP_METRIC_LIST);
    assert_true(idx >= 0);
    memcpy(&mask, cfg.bytes + spec->offset, sizeof(mask));
    return (mask & (1u << idx)) != 0;
}

static struct smg_hparams *parse_ok(const struct smg_hp_spec *specs, size_t n, const char *json)
{
    struct smg_hparams *hp = NULL;
    struct smg_error err;
    smg_error_clear(&err);
    int rc = smg_hparams_parse(specs, n, json, "hyperparameters.json", &hp, &err);
    if (rc != SMG_OK)
        print_error("unexpected error: %s\n", err.msg);
    assert_int_equal(rc, SMG_OK);
    assert_non_null(hp);
    cur_specs = specs;
    cur_n = n;
    return hp;
}

static struct smg_hparams *pca_ok(const char *json)
{
    return parse_ok(PCA_SPECS, json);
}

static struct smg_hparams *km_ok(const char *json)
{
    return parse_ok(KM_SPECS, json);
}

/* Parse must fail with SMG_ECONFIG, a client error, and a message holding each fragment. */
static void expect_error(const struct smg_hp_spec *specs, size_t n, const char *json, ...)
{
    struct smg_hparams *hp = NULL;
    struct smg_error err;
    va_list ap;
    const char *frag;

    smg_error_clear(&err);
    int rc = smg_hparams_parse(specs, n, json, "hyperparameters.json", &hp, &err);
    assert_int_equal(rc, SMG_ECONFIG);
    assert_null(hp);
    assert_int_equal(err.klass, SMG_CLIENT_ERROR);
    assert_true(strlen(err.msg) < 1024);
    va_start(ap, json);
    while ((frag = va_arg(ap, const char *)) != NULL) {
        if (strstr(err.msg, frag) == NULL)
            print_error("message \"%s\" lacks \"%s\"\n", err.msg, frag);
        assert_non_null(strstr(err.msg, frag));
    }
    va_end(ap);
}

#define PCA_ERR(json, ...) expect_error(PCA_SPECS, json, __VA_ARGS__, NULL)
#define KM_ERR(json, ...)  expect_error(KM_SPECS, json, __VA_ARGS__, NULL)

static void test_pca_defaults(void **state)
{
    (void)state;
    struct smg_hparams *hp = pca_ok("{" PCA_MIN "}");
    assert_int_equal(hp_int(hp, "feature_dim"), 10);
    assert_int_equal(hp_int(hp, "mini_batch_size"), 500);
    assert_int_equal(hp_int(hp, "num_components"), 3);
    assert_string_equal(hp_str(hp, "algorithm_mode"), "regular");
    assert_true(hp_bool(hp, "subtract_mean"));
    assert_int_equal(hp_int(hp, "extra_components"), -1);
    assert_int_equal(hp_int(hp, "epochs"), 1);
    smg_hparams_free(hp);
}

static void test_kmeans_defaults(void **state)
{
    (void)state;
    struct smg_hparams *hp = km_ok("{" KM_MIN "}");
    assert_int_equal(hp_int(hp, "k"), 4);
    assert_int_equal(hp_int(hp, "mini_batch_size"), 5000);
    assert_int_equal(hp_int(hp, "epochs"), 1);
    assert_string_equal(hp_str(hp, "init_method"), "random");
    assert_true(hp_is_auto(hp, "extra_center_factor"));
    assert_int_equal(hp_int(hp, "half_life_time_size"), 0);
    assert_string_equal(hp_str(hp, "local_lloyd_init_method"), "kmeans++");
    assert_int_equal(hp_int(hp, "local_lloyd_max_iter"), 300);
    assert_true(hp_is_auto(hp, "local_lloyd_num_trials"));
    /* 0.0001 as strtod reads it: the same double, so == is exact here. */
    assert_true(hp_float(hp, "local_lloyd_tol") == 0.0001);
    assert_true(hp_list_has(hp, "eval_metrics", "msd"));
    assert_false(hp_list_has(hp, "eval_metrics", "ssd"));
    smg_hparams_free(hp);
}

/* What the SageMaker SDK v2 KMeans estimator writes (tests/integ/test_kmeans.py). */
static void test_kmeans_sdk_file(void **state)
{
    (void)state;
    struct smg_hparams *hp = km_ok(
        "{\"init_method\": \"random\", \"local_lloyd_max_iter\": \"10\", \"local_lloyd_tol\": "
        "\"1.0\", \"local_lloyd_num_trials\": \"1\", \"local_lloyd_init_method\": \"kmeans++\", "
        "\"half_life_time_size\": \"0\", \"epochs\": \"1\", \"extra_center_factor\": \"2\", "
        "\"k\": \"10\", \"eval_metrics\": \"[\\\"msd\\\", \\\"ssd\\\"]\", \"force_dense\": "
        "\"True\", \"feature_dim\": \"784\", \"mini_batch_size\": \"100\"}");
    assert_int_equal(hp_int(hp, "k"), 10);
    assert_int_equal(hp_int(hp, "extra_center_factor"), 2);
    assert_false(hp_is_auto(hp, "extra_center_factor"));
    assert_int_equal(hp_int(hp, "local_lloyd_num_trials"), 1);
    assert_true(hp_float(hp, "local_lloyd_tol") == 1.0);
    assert_true(hp_list_has(hp, "eval_metrics", "msd"));
    assert_true(hp_list_has(hp, "eval_metrics", "ssd"));
    assert_int_equal(hp_int(hp, "mini_batch_size"), 100);
    smg_hparams_free(hp);
}

static void test_double_quoted_values(void **state)
{
    (void)state;
    struct smg_hparams *hp =
        pca_ok("{\"feature_dim\": \"\\\"256\\\"\", \"mini_batch_size\": \"\\\"500\\\"\", "
               "\"num_components\": \"\\\"5\\\"\", \"algorithm_mode\": \"\\\"randomized\\\"\"}");
    assert_int_equal(hp_int(hp, "feature_dim"), 256);
    assert_int_equal(hp_int(hp, "num_components"), 5);
    assert_string_equal(hp_str(hp, "algorithm_mode"), "randomized");
    smg_hparams_free(hp);
    PCA_ERR("{" PCA_MIN ", \"algorithm_mode\": \"\\\"regular\"}", "'algorithm_mode'",
            "not a valid choice");
}

static void test_booleans(void **state)
{
    (void)state;
    const char *truths[] = {"true", "True", "TRUE"};
    const char *falses[] = {"false", "False"};
    char json[256];
    for (size_t i = 0; i < 3; i++) {
        snprintf(json, sizeof(json), "{" PCA_MIN ", \"subtract_mean\": \"%s\"}", truths[i]);
        struct smg_hparams *hp = pca_ok(json);
        assert_true(hp_bool(hp, "subtract_mean"));
        smg_hparams_free(hp);
    }
    for (size_t i = 0; i < 2; i++) {
        snprintf(json, sizeof(json), "{" PCA_MIN ", \"subtract_mean\": \"%s\"}", falses[i]);
        struct smg_hparams *hp = pca_ok(json);
        assert_false(hp_bool(hp, "subtract_mean"));
        smg_hparams_free(hp);
    }
    struct smg_hparams *hp = pca_ok("{" PCA_MIN ", \"subtract_mean\": false}");
    assert_false(hp_bool(hp, "subtract_mean"));
    smg_hparams_free(hp);
    PCA_ERR("{" PCA_MIN ", \"subtract_mean\": \"yes\"}", "'subtract_mean' = 'yes'", "not a boolean",
            "allowed: true or false");
}

static void test_json_numbers(void **state)
{
    (void)state;
    struct smg_hparams *hp =
        km_ok("{\"k\": 5, \"feature_dim\": 3, \"local_lloyd_tol\": 0.25, \"eval_metrics\": "
              "[\"ssd\"], \"extra_center_factor\": 4}");
    assert_int_equal(hp_int(hp, "k"), 5);
    assert_true(hp_float(hp, "local_lloyd_tol") == 0.25);
    assert_true(hp_list_has(hp, "eval_metrics", "ssd"));
    assert_false(hp_list_has(hp, "eval_metrics", "msd"));
    assert_int_equal(hp_int(hp, "extra_center_factor"), 4);
    smg_hparams_free(hp);
    KM_ERR("{\"k\": 2.5, \"feature_dim\": 3}", "'k' = '2.5'", "not an integer");
    KM_ERR("{\"k\": null, \"feature_dim\": 3}", "'k'", "JSON null");
    KM_ERR("{\"k\": {\"v\": 1}, \"feature_dim\": 3}", "'k'", "JSON object");
}

static void test_strict_integers(void **state)
{
    (void)state;
    KM_ERR("{\"k\": \"10abc\", \"feature_dim\": \"3\"}", "'k' = '10abc'", "not an integer",
           "allowed: an integer >= 2");
    KM_ERR("{\"k\": \"1.0\", \"feature_dim\": \"3\"}", "'k' = '1.0'", "not an integer");
    KM_ERR("{\"k\": \"\", \"feature_dim\": \"3\"}", "'k' = ''", "not an integer");
    KM_ERR("{\"k\": \"0x10\", \"feature_dim\": \"3\"}", "'k' = '0x10'", "not an integer");
    KM_ERR("{\"k\": \"99999999999999999999\", \"feature_dim\": \"3\"}",
           "'k' = '99999999999999999999'", "not an integer");
    KM_ERR("{\"k\": \"9223372036854775807\", \"feature_dim\": \"3\"}", "out of range");
    struct smg_hparams *hp = km_ok("{\"k\": \" 7 \", \"feature_dim\": \"+3\"}");
    assert_int_equal(hp_int(hp, "k"), 7);
    assert_int_equal(hp_int(hp, "feature_dim"), 3);
    smg_hparams_free(hp);
}

static void test_ranges(void **state)
{
    (void)state;
    KM_ERR("{\"k\": \"1\", \"feature_dim\": \"3\"}", "'k' = '1'", "out of range",
           "allowed: an integer >= 2");
    KM_ERR("{" KM_MIN ", \"local_lloyd_tol\": \"1.5\"}", "'local_lloyd_tol' = '1.5'",
           "out of range", "from 0 to 1");
    KM_ERR("{" KM_MIN ", \"local_lloyd_tol\": \"-0.1\"}", "out of range");
    KM_ERR("{" KM_MIN ", \"local_lloyd_tol\": \"nan\"}", "'local_lloyd_tol' = 'nan'",
           "not a number");
    KM_ERR("{" KM_MIN ", \"local_lloyd_tol\": \"1e999\"}", "not a number");
    KM_ERR("{" KM_MIN ", \"half_life_time_size\": \"-1\"}", "out of range",
           "a non-negative integer");
    KM_ERR("{" KM_MIN ", \"epochs\": \"0\"}", "'epochs' = '0'", "a positive integer");
    KM_ERR("{" KM_MIN ", \"mini_batch_size\": \"0\"}", "'mini_batch_size'", "out of range");
    KM_ERR("{" KM_MIN ", \"init_method\": \"kmeans+\"}", "'init_method' = 'kmeans+'",
           "one of random, kmeans++");
    PCA_ERR("{" PCA_MIN ", \"extra_components\": \"-2\"}", "'extra_components' = '-2'",
            "-1 or a non-negative integer");
    PCA_ERR("{" PCA_MIN ", \"algorithm_mode\": \"stable\"}", "one of regular, randomized");
    PCA_ERR("{\"feature_dim\": \"0\", \"mini_batch_size\": \"1\", \"num_components\": \"1\"}",
            "'feature_dim' = '0'", "a positive integer");
    struct smg_hparams *hp = pca_ok("{" PCA_MIN ", \"extra_components\": \"0\"}");
    assert_int_equal(hp_int(hp, "extra_components"), 0);
    smg_hparams_free(hp);
    hp = km_ok("{" KM_MIN ", \"local_lloyd_tol\": \"1e-3\"}");
    assert_true(hp_float(hp, "local_lloyd_tol") == 1e-3);
    smg_hparams_free(hp);
}

static void test_int_or_auto(void **state)
{
    (void)state;
    struct smg_hparams *hp = km_ok(
        "{" KM_MIN ", \"extra_center_factor\": \"10\", \"local_lloyd_num_trials\": \"Auto\"}");
    assert_false(hp_is_auto(hp, "extra_center_factor"));
    assert_int_equal(hp_int(hp, "extra_center_factor"), 10);
    assert_true(hp_is_auto(hp, "local_lloyd_num_trials"));
    smg_hparams_free(hp);
    KM_ERR("{" KM_MIN ", \"extra_center_factor\": \"0\"}", "'extra_center_factor' = '0'",
           "auto or a positive integer");
    KM_ERR("{" KM_MIN ", \"local_lloyd_num_trials\": \"automatic\"}", "not an integer",
           "auto or a positive integer");
}

static void test_metric_list(void **state)
{
    (void)state;
    const char *good[] = {"[\\\"msd\\\"]", "['ssd', 'msd']", "msd", " [ \\\"ssd\\\" ] "};
    char json[256];
    for (size_t i = 0; i < 4; i++) {
        snprintf(json, sizeof(json), "{" KM_MIN ", \"eval_metrics\": \"%s\"}", good[i]);
        struct smg_hparams *hp = km_ok(json);
        assert_true(hp_list_has(hp, "eval_metrics", "msd") ||
                    hp_list_has(hp, "eval_metrics", "ssd"));
        smg_hparams_free(hp);
    }
    KM_ERR("{" KM_MIN ", \"eval_metrics\": \"[]\"}", "'eval_metrics' = '[]'", "empty list");
    KM_ERR("{" KM_MIN ", \"eval_metrics\": \"[\\\"mse\\\"]\"}", "unknown metric 'mse'",
           "drawn from msd, ssd");
    KM_ERR("{" KM_MIN ", \"eval_metrics\": \"[\\\"msd\\\"\"}", "'eval_metrics'",
           "not a well-formed list");
    KM_ERR("{" KM_MIN ", \"eval_metrics\": \"[msd]\"}", "not a list of quoted names");
    KM_ERR("{" KM_MIN ", \"eval_metrics\": \"[\\\"msd\\\"] x\"}", "text after the list");
    KM_ERR("{" KM_MIN ", \"eval_metrics\": [1]}", "not a list of quoted names");
}

static void test_unknown_key_suggests(void **state)
{
    (void)state;
    PCA_ERR("{" PCA_MIN ", \"mini_batch_siz\": \"10\"}", "unknown hyperparameter 'mini_batch_siz'",
            "did you mean 'mini_batch_size'?", "Valid hyperparameters: feature_dim");
    PCA_ERR("{\"feature_dim\": \"10\", \"mini_batch_size\": \"5\", \"num_component\": \"3\"}",
            "did you mean 'num_components'?");
    KM_ERR("{" KM_MIN ", \"tol\": \"0.1\"}", "unknown hyperparameter 'tol'");
    KM_ERR("{" KM_MIN ", \"local_lloyd_maxiter\": \"3\"}", "did you mean 'local_lloyd_max_iter'?");
    /* k-means' k is not a PCA hyperparameter. */
    PCA_ERR("{" PCA_MIN ", \"k\": \"3\"}", "unknown hyperparameter 'k'");
}

static void test_ignored_keys(void **state)
{
    (void)state;
    struct smg_hparams *hp =
        km_ok("{" KM_MIN ", \"_tuning_objective_metric\": \"test:msd\", \"sagemaker_program\": "
              "\"x\", \"force_dense\": \"True\", \"_kvstore\": \"dist_sync\", \"_num_gpus\": 0}");
    char *json = smg_hparams_to_json(hp);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"k\":\"4\""));
    assert_non_null(strstr(json, "\"mini_batch_size\":\"5000\""));
    assert_non_null(strstr(json, "\"eval_metrics\":\"[\\\"msd\\\"]\""));
    assert_non_null(strstr(json, "\"force_dense\":\"True\""));
    assert_non_null(strstr(json, "\"_tuning_objective_metric\":\"test:msd\""));
    assert_non_null(strstr(json, "\"_num_gpus\":\"0\""));
    smg_free(json);
    smg_hparams_free(hp);
    assert_true(smg_hparams_key_ignored("_anything"));
    assert_true(smg_hparams_key_ignored("sagemaker_region"));
    assert_false(smg_hparams_key_ignored("sagemaker"));
    assert_false(smg_hparams_key_ignored("forcedense"));
}

static void test_pca_accepts_epochs(void **state)
{
    (void)state;
    struct smg_hparams *hp = pca_ok("{" PCA_MIN ", \"epochs\": \"1\"}");
    assert_int_equal(hp_int(hp, "epochs"), 1);
    smg_hparams_free(hp);
}

static void test_missing_required(void **state)
{
    (void)state;
    PCA_ERR("{}", "missing required hyperparameters", "'feature_dim' (a positive integer)",
            "'mini_batch_size'", "'num_components'");
    PCA_ERR("{\"feature_dim\": \"10\", \"num_components\": \"3\"}",
            "missing required hyperparameter 'mini_batch_size'");
    KM_ERR("{\"feature_dim\": \"10\"}", "missing required hyperparameter 'k' (an integer >= 2)");
}

static void test_empty_and_malformed(void **state)
{
    (void)state;
    PCA_ERR("", "hyperparameters.json is empty");
    PCA_ERR("  \n\t ", "hyperparameters.json is empty");
    PCA_ERR("{\"feature_dim\": ", "not valid JSON", "ends early");
    PCA_ERR("{\"feature_dim\": \"10\",\n \"x\" 3}", "not valid JSON", "line 2");
    PCA_ERR("{} {}", "not valid JSON", "after the value");
    PCA_ERR("[\"feature_dim\"]", "must hold a JSON object", "not a array");
    PCA_ERR("\"10\"", "must hold a JSON object");
    PCA_ERR("{" PCA_MIN ", \"feature_dim\": \"11\"}", "'feature_dim' is given twice");
    struct smg_hparams *hp = NULL;
    struct smg_error err;
    smg_error_clear(&err);
    assert_int_equal(smg_hparams_parse(PCA_SPECS, NULL, "h.json", &hp, &err), SMG_ECONFIG);
}

static void test_long_value_is_cut(void **state)
{
    (void)state;
    char json[4096];
    char big[3000];
    memset(big, '7', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[0] = 'x';
    snprintf(json, sizeof(json), "{\"k\": \"%s\", \"feature_dim\": \"3\"}", big);
    KM_ERR(json, "'k' = 'x777", "...' is not an integer", "allowed");
}

static void test_has_key(void **state)
{
    (void)state;
    struct smg_error err;
    bool has = false;
    smg_error_clear(&err);
    assert_int_equal(smg_hparams_has_key("{\"k\": \"3\"}", "h", "k", &has, &err), SMG_OK);
    assert_true(has);
    assert_int_equal(smg_hparams_has_key("{\"kk\": \"3\"}", "h", "k", &has, &err), SMG_OK);
    assert_false(has);
    assert_int_equal(smg_hparams_has_key("", "h.json", "k", &has, &err), SMG_ECONFIG);
    assert_non_null(strstr(err.msg, "h.json is empty"));
}

/* Fail each allocation in turn: every failure is a clean SMG_ENOMEM, never a crash or leak. */
static void test_out_of_memory(void **state)
{
    (void)state;
    const char *json = "{" KM_MIN ", \"_x\": \"1\", \"eval_metrics\": \"['ssd']\"}";
    int failures = 0;
    for (long n = 0; n < 200; n++) {
        struct smg_hparams *hp = NULL;
        struct smg_error err;
        smg_error_clear(&err);
        smg_alloc_fail_after(n);
        int rc = smg_hparams_parse(KM_SPECS, json, "h", &hp, &err);
        smg_alloc_reset();
        if (rc == SMG_OK) {
            smg_hparams_free(hp);
            break;
        }
        assert_int_equal(rc, SMG_ENOMEM);
        assert_int_equal(err.klass, SMG_ALGORITHM_ERROR);
        failures++;
    }
    assert_true(failures > 3);
}

/* Every table entry's default is valid for its own type and range. */
static void test_table_defaults_parse(void **state)
{
    (void)state;
    const struct smg_algorithm *algos[] = {&smg_algorithm_pca, &smg_algorithm_kmeans};
    const char *minimal[] = {"{" PCA_MIN "}", "{" KM_MIN "}"};
    for (size_t a = 0; a < 2; a++) {
        const struct smg_algorithm *al = algos[a];
        struct smg_hparams *hp = parse_ok(al->hparams, al->n_hparams, minimal[a]);
        char *json = smg_hparams_to_json(hp);
        char key[128];
        assert_non_null(json);
        for (size_t i = 0; i < al->n_hparams; i++) {
            assert_non_null(al->hparams[i].name);
            snprintf(key, sizeof(key), "\"%s\":", al->hparams[i].name);
            assert_non_null(strstr(json, key)); /* present: given or defaulted */
        }
        smg_free(json);
        smg_hparams_free(hp);
    }
    assert_int_equal(smg_algorithm_pca.n_hparams, 7);
    assert_int_equal(smg_algorithm_kmeans.n_hparams, 12);
}

/* No two rows of a table share a field: each name fills its own struct member. */
static void test_rows_bound_to_distinct_fields(void **state)
{
    (void)state;
    const struct smg_algorithm *algos[] = {&smg_algorithm_pca, &smg_algorithm_kmeans};
    for (size_t a = 0; a < 2; a++)
        for (size_t i = 0; i < algos[a]->n_hparams; i++)
            for (size_t j = i + 1; j < algos[a]->n_hparams; j++)
                assert_true(algos[a]->hparams[i].offset != algos[a]->hparams[j].offset);
}

/* The "Final configuration" JSON lists the table in table order, then the ignored keys. */
static void test_final_configuration_order(void **state)
{
    (void)state;
    struct smg_hparams *hp =
        pca_ok("{\"_x\": \"1\", \"num_components\": \"3\", \"mini_batch_size\": \"500\", "
               "\"feature_dim\": \"10\"}");
    char *json = smg_hparams_to_json(hp);
    assert_non_null(json);
    assert_string_equal(json, "{\"feature_dim\":\"10\",\"mini_batch_size\":\"500\","
                              "\"num_components\":\"3\",\"algorithm_mode\":\"regular\","
                              "\"subtract_mean\":\"true\",\"extra_components\":\"-1\","
                              "\"epochs\":\"1\",\"_x\":\"1\"}");
    smg_free(json);
    smg_hparams_free(hp);
}

/* Filling a struct from another algorithm's values is refused, not a silent mix-up. */
static void test_fill_checks_table(void **state)
{
    (void)state;
    struct smg_hparams *hp = pca_ok("{" PCA_MIN "}");
    union cfg_buf cfg;
    struct smg_error err;
    smg_error_clear(&err);
    assert_int_equal(smg_hparams_fill(hp, smg_algorithm_kmeans.hparams, cfg.bytes, &err),
                     SMG_EINTERNAL);
    assert_non_null(strstr(err.msg, "another algorithm's table"));
    assert_int_equal(smg_hparams_fill(NULL, smg_algorithm_pca.hparams, cfg.bytes, &err),
                     SMG_EINTERNAL);
    smg_hparams_free(hp);
}

/*
 * Issue 13 point 8: 100k ignored keys (1.4 MB, under the 16 MiB cap) took
 * 156 s, from a pairwise duplicate scan and one realloc per key. The bound
 * below is CPU time with a wide margin (the linear parse takes ~0.1 s, under
 * ASan well under 1 s; the quadratic one took minutes).
 */
static char *many_keys_json(size_t n, bool duplicate_last)
{
    char *text = smg_malloc(n * 32 + 128);
    size_t used = 0;

    assert_non_null(text);
    used += (size_t)sprintf(text, "{" KM_MIN);
    for (size_t i = 0; i < n; i++)
        used += (size_t)sprintf(text + used, ", \"_k%zu\": \"%zu\"",
                                duplicate_last && i == n - 1 ? (size_t)0 : i, i);
    sprintf(text + used, "}");
    return text;
}

static void test_many_ignored_keys_parse_in_linear_time(void **state)
{
    struct smg_hparams *hp = NULL;
    struct smg_error err;
    char *text = many_keys_json(100000, false);
    clock_t t0 = clock();
    double secs;

    (void)state;
    smg_error_clear(&err);
    assert_true(strlen(text) < ((size_t)16 << 20));
    assert_int_equal(smg_hparams_parse(KM_SPECS, text, "h.json", &hp, &err), SMG_OK);
    secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_true(secs < 5.0);
    smg_hparams_free(hp);
    smg_free(text);
    /* A duplicate among them is still found, naming the key. */
    text = many_keys_json(100000, true);
    assert_int_equal(smg_hparams_parse(KM_SPECS, text, "h.json", &hp, &err), SMG_ECONFIG);
    assert_non_null(strstr(err.msg, "'_k0' is given twice"));
    assert_null(hp);
    smg_free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pca_defaults),
        cmocka_unit_test(test_kmeans_defaults),
        cmocka_unit_test(test_kmeans_sdk_file),
        cmocka_unit_test(test_double_quoted_values),
        cmocka_unit_test(test_booleans),
        cmocka_unit_test(test_json_numbers),
        cmocka_unit_test(test_strict_integers),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_int_or_auto),
        cmocka_unit_test(test_metric_list),
        cmocka_unit_test(test_unknown_key_suggests),
        cmocka_unit_test(test_ignored_keys),
        cmocka_unit_test(test_pca_accepts_epochs),
        cmocka_unit_test(test_missing_required),
        cmocka_unit_test(test_empty_and_malformed),
        cmocka_unit_test(test_long_value_is_cut),
        cmocka_unit_test(test_has_key),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_table_defaults_parse),
        cmocka_unit_test(test_rows_bound_to_distinct_fields),
        cmocka_unit_test(test_final_configuration_order),
        cmocka_unit_test(test_fill_checks_table),
        cmocka_unit_test(test_many_ignored_keys_parse_in_linear_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

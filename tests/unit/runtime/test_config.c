/*
 * inputdataconfig.json and resourceconfig.json: the files SageMaker and its
 * local mode write, unknown keys tolerated, every bad input answered with a
 * client error naming the file, the key and what is allowed, and the local-run
 * defaults when a file is absent (channels from input/data's folders, one
 * host algo-1). Real files in a temporary /opt/ml tree, no mocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files_helpers.h"
#include "io/base/log.h"
#include "runtime/config.h"
#include "runtime/config_walk.h"
#include "runtime/job.h"

static char root[256];

static void write_file(const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    files_write(path, text);
}

static void make_dir(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

static int setup(void **state)
{
    struct smg_job *job = calloc(1, sizeof(*job));
    (void)state;
    if (job == NULL || files_temp_dir(root, sizeof(root), "config") != 0)
        return -1;
    make_dir("input");
    make_dir("input/config");
    make_dir("input/data");
    smg_job_init(job);
    if (smg_job_set_root(job, root, NULL) != SMG_OK)
        return -1;
    *state = job;
    return 0;
}

static int teardown(void **state)
{
    struct smg_job *job = *state;
    smg_job_release(job);
    free(job);
    return files_remove_tree(root);
}

static void expect_msg(const struct smg_error *err, const char *frag)
{
    if (strstr(err->msg, frag) == NULL)
        print_error("message \"%s\" lacks \"%s\"\n", err->msg, frag);
    assert_non_null(strstr(err->msg, frag));
}

/* parse_channels must fail as a client error holding each fragment. */
static void channels_err(struct smg_job *job, const char *json, ...)
{
    struct smg_error err;
    va_list ap;
    const char *frag;
    smg_error_clear(&err);
    assert_int_equal(smg_config_parse_channels(job, json, "inputdataconfig.json", &err),
                     SMG_ECONFIG);
    assert_int_equal(err.klass, SMG_CLIENT_ERROR);
    va_start(ap, json);
    while ((frag = va_arg(ap, const char *)) != NULL)
        expect_msg(&err, frag);
    va_end(ap);
}

static void resources_err(struct smg_job *job, const char *json, ...)
{
    struct smg_error err;
    va_list ap;
    const char *frag;
    smg_error_clear(&err);
    assert_int_equal(smg_config_parse_resources(job, json, "resourceconfig.json", &err),
                     SMG_ECONFIG);
    assert_int_equal(job->n_hosts, 0);
    va_start(ap, json);
    while ((frag = va_arg(ap, const char *)) != NULL)
        expect_msg(&err, frag);
    va_end(ap);
}

#define CHANNELS_ERR(job, json, ...)  channels_err(job, json, __VA_ARGS__, NULL)
#define RESOURCES_ERR(job, json, ...) resources_err(job, json, __VA_ARGS__, NULL)

static void test_channels_full(void **state)
{
    struct smg_job *job = *state;
    struct smg_error err;
    smg_error_clear(&err);
    const char *json =
        "{\"train\": {\"ContentType\": \"text/csv;label_size=0\", \"TrainingInputMode\": "
        "\"Pipe\", \"S3DistributionType\": \"ShardedByS3Key\", \"RecordWrapperType\": "
        "\"RecordIO\", \"CompressionType\": \"Gzip\", \"SomethingNew\": {\"a\": 1}},"
        " \"test\": {\"TrainingInputMode\": \"FastFile\", \"S3DistributionType\": "
        "\"FullyReplicated\", \"RecordWrapperType\": \"None\"}, \"validation\": {}}";
    assert_int_equal(smg_config_parse_channels(job, json, "inputdataconfig.json", &err), SMG_OK);
    assert_int_equal(job->n_channels, 3);
    const struct smg_channel_info *tr = &job->channels[0];
    assert_string_equal(tr->name, "train");
    assert_string_equal(tr->content_type, "text/csv;label_size=0");
    assert_int_equal(tr->mode, SMG_MODE_PIPE);
    assert_true(tr->sharded);
    assert_true(tr->recordio_wrapped);
    assert_int_equal(tr->compression, SMG_COMPRESSION_GZIP);
    const struct smg_channel_info *te = &job->channels[1];
    assert_string_equal(te->name, "test");
    assert_string_equal(te->content_type, "");
    assert_int_equal(te->mode, SMG_MODE_FASTFILE);
    assert_false(te->sharded);
    assert_false(te->recordio_wrapped);
    const struct smg_channel_info *va = &job->channels[2];
    assert_int_equal(va->mode, SMG_MODE_FILE); /* absent mode: File */
    assert_false(job->channels_inferred);
}

static void test_channels_bad(void **state)
{
    struct smg_job *job = *state;
    CHANNELS_ERR(job, "", "inputdataconfig.json is empty");
    CHANNELS_ERR(job, "{\"train\": {\"TrainingInputMode\": \"File\"", "not valid JSON");
    CHANNELS_ERR(job, "[]", "must hold a JSON object");
    CHANNELS_ERR(job, "{\"train\": \"File\"}", "channel 'train' must be a JSON object",
                 "not a string");
    CHANNELS_ERR(job, "{\"train\": {\"TrainingInputMode\": \"Stream\"}}",
                 "channel 'train': TrainingInputMode 'Stream' is not supported",
                 "allowed: File, FastFile, Pipe");
    CHANNELS_ERR(job, "{\"train\": {\"TrainingInputMode\": 1}}",
                 "channel 'train': TrainingInputMode must be a string, not a number");
    CHANNELS_ERR(job, "{\"train\": {\"ContentType\": [\"text/csv\"]}}",
                 "ContentType must be a string, not a array");
    CHANNELS_ERR(job, "{\"train\": {\"S3DistributionType\": \"Sharded\"}}",
                 "S3DistributionType 'Sharded'", "FullyReplicated, ShardedByS3Key");
    CHANNELS_ERR(job, "{\"train\": {\"RecordWrapperType\": \"Protobuf\"}}",
                 "RecordWrapperType 'Protobuf'", "allowed: None, RecordIO");
    CHANNELS_ERR(job, "{\"train\": {\"CompressionType\": \"zip\"}}", "CompressionType 'zip'",
                 "allowed: None, Gzip");
    CHANNELS_ERR(job, "{\"../etc\": {}}", "'../etc' is not a valid channel name");
    CHANNELS_ERR(job, "{\"\": {}}", "is not a valid channel name");
    CHANNELS_ERR(job, "{\"train\": {}, \"train\": {}}", "channel 'train' is given twice");
}

static void test_channels_empty_object(void **state)
{
    struct smg_job *job = *state;
    struct smg_error err;
    smg_error_clear(&err);
    assert_int_equal(smg_config_parse_channels(job, "{}", "i.json", &err), SMG_OK);
    assert_int_equal(job->n_channels, 0);
}

static void test_resources(void **state)
{
    struct smg_job *job = *state;
    struct smg_error err;
    smg_error_clear(&err);
    /* A real file's shape (sagemaker-container-contract.md §1.5). */
    const char *json =
        "{\"current_host\":\"algo-2\",\"current_instance_type\":\"ml.c5.xlarge\","
        "\"current_group_name\":\"homogeneousCluster\",\"hosts\":[\"algo-1\",\"algo-2\"],"
        "\"instance_groups\":[{\"instance_group_name\":\"homogeneousCluster\","
        "\"instance_type\":\"ml.c5.xlarge\",\"hosts\":[\"algo-2\",\"algo-1\"]}],"
        "\"network_interface_name\":\"eth0\",\"topology\":null}";
    assert_int_equal(smg_config_parse_resources(job, json, "resourceconfig.json", &err), SMG_OK);
    assert_string_equal(job->current_host, "algo-2");
    assert_int_equal(job->n_hosts, 2);
    assert_string_equal(job->hosts[0], "algo-1");
    assert_string_equal(job->hosts[1], "algo-2");
    assert_string_equal(job->network_interface, "eth0");
    /* Parsing again replaces, never leaks or appends. */
    assert_int_equal(smg_config_parse_resources(
                         job, "{\"current_host\":\"algo-1\",\"hosts\":[\"algo-1\"]}", "r", &err),
                     SMG_OK);
    assert_int_equal(job->n_hosts, 1);
    assert_string_equal(job->network_interface, "");
}

static void test_resources_bad(void **state)
{
    struct smg_job *job = *state;
    RESOURCES_ERR(job, "", "resourceconfig.json is empty");
    RESOURCES_ERR(job, "{\"current_host\": \"algo-1\", ", "not valid JSON");
    RESOURCES_ERR(job, "{\"hosts\": [\"algo-1\"]}", "current_host is missing");
    RESOURCES_ERR(job, "{\"current_host\": \"algo-1\"}", "hosts is missing");
    RESOURCES_ERR(job, "{\"current_host\": \"algo-1\", \"hosts\": []}",
                  "hosts must be a non-empty list", "an empty array");
    RESOURCES_ERR(job, "{\"current_host\": \"algo-1\", \"hosts\": \"algo-1\"}",
                  "hosts must be a non-empty list of host names, not a string");
    RESOURCES_ERR(job, "{\"current_host\": \"algo-1\", \"hosts\": [1]}",
                  "hosts must hold strings, not a number");
    RESOURCES_ERR(job, "{\"current_host\": \"algo-3\", \"hosts\": [\"algo-1\", \"algo-2\"]}",
                  "current_host 'algo-3' is not in hosts");
    RESOURCES_ERR(job, "{\"current_host\": 7, \"hosts\": [\"algo-1\"]}",
                  "current_host must be a string, not a number");
    RESOURCES_ERR(job, "{\"current_host\": \"a/b\", \"hosts\": [\"a/b\"]}",
                  "'a/b' is not a valid host name");
    RESOURCES_ERR(job, "{\"current_host\": \"a\", \"hosts\": [\"a\", \"a\"]}",
                  "host 'a' is listed twice");
}

static void test_scan_channels(void **state)
{
    struct smg_job *job = *state;
    struct smg_error err;
    smg_error_clear(&err);
    make_dir("input/data/train");
    make_dir("input/data/train/part");
    write_file("input/data/train/part/a.csv", "1,2\n");
    write_file("input/data/train/b.CSV", "1,2\n");
    write_file("input/data/train/.hidden", "junk");
    make_dir("input/data/test");
    write_file("input/data/test/matrix_0.pbr", "");
    make_dir("input/data/.cache");
    write_file("input/data/train_0", ""); /* a stray file, as a Pipe FIFO would be: skipped */
    assert_int_equal(smg_config_scan_channels(job, &err), SMG_OK);
    assert_true(job->channels_inferred);
    assert_int_equal(job->n_channels, 2);
    assert_string_equal(job->channels[0].name, "test");
    assert_string_equal(job->channels[0].content_type, "application/x-recordio-protobuf");
    assert_string_equal(job->channels[1].name, "train");
    assert_string_equal(job->channels[1].content_type, "text/csv;label_size=0");
    assert_int_equal(job->channels[1].mode, SMG_MODE_FILE);

    write_file("input/data/train/c.pbr", "");
    smg_error_clear(&err);
    assert_int_equal(smg_config_scan_channels(job, &err), SMG_ECONFIG);
    expect_msg(&err, "channel 'train' mixes .csv files (2) and other files (1)");
    expect_msg(&err, "inputdataconfig.json");
}

static void test_scan_no_data_dir(void **state)
{
    struct smg_job *job = *state;
    struct smg_error err;
    char path[1024];
    smg_error_clear(&err);
    snprintf(path, sizeof(path), "%s/input/data", root);
    rmdir(path);
    assert_int_equal(smg_config_scan_channels(job, &err), SMG_OK);
    assert_int_equal(job->n_channels, 0);
    mkdir(path, 0755);
}

static void test_load_defaults(void **state)
{
    struct smg_job *job = *state;
    struct smg_error err;
    char *logbuf = NULL;
    size_t loglen = 0;
    FILE *log = open_memstream(&logbuf, &loglen);
    smg_error_clear(&err);
    make_dir("input/data/train");
    write_file("input/data/train/x.csv", "1\n");
    smg_log_set_stream(log);
    assert_int_equal(smg_config_load(job, &err), SMG_OK);
    smg_log_set_stream(NULL);
    fclose(log);
    assert_string_equal(job->current_host, "algo-1");
    assert_int_equal(job->n_hosts, 1);
    assert_string_equal(job->hosts[0], "algo-1");
    assert_int_equal(job->n_channels, 1);
    assert_true(job->channels_inferred);
    assert_non_null(strstr(logbuf, "resourceconfig.json does not exist: running as a single host"));
    assert_non_null(strstr(logbuf, "inputdataconfig.json does not exist: a local run"));
    assert_non_null(strstr(logbuf, "channel 'train': File mode, content type text/csv"));
    free(logbuf);
}

static void test_load_files(void **state)
{
    struct smg_job *job = *state;
    struct smg_error err;
    smg_error_clear(&err);
    write_file("input/config/resourceconfig.json",
               "{\"current_host\": \"algo-1\", \"hosts\": [\"algo-1\"], "
               "\"network_interface_name\": \"ethwe\"}");
    write_file("input/config/inputdataconfig.json",
               "{\"train\": {\"TrainingInputMode\": \"File\", \"S3DistributionType\": "
               "\"FullyReplicated\", \"RecordWrapperType\": \"None\"}}");
    assert_int_equal(smg_config_load(job, &err), SMG_OK);
    assert_string_equal(job->network_interface, "ethwe");
    assert_int_equal(job->n_channels, 1);
    assert_false(job->channels_inferred);

    write_file("input/config/inputdataconfig.json", "{\"train\": ");
    smg_error_clear(&err);
    assert_int_equal(smg_config_load(job, &err), SMG_ECONFIG);
    expect_msg(&err, "/input/config/inputdataconfig.json is not valid JSON");

    write_file("input/config/resourceconfig.json", "");
    smg_error_clear(&err);
    assert_int_equal(smg_config_load(job, &err), SMG_ECONFIG);
    expect_msg(&err, "/input/config/resourceconfig.json is empty");
}

static void test_load_config_is_folder(void **state)
{
    struct smg_job *job = *state;
    struct smg_error err;
    smg_error_clear(&err);
    make_dir("input/config/resourceconfig.json");
    assert_int_equal(smg_config_load(job, &err), SMG_ECONFIG);
    expect_msg(&err, "resourceconfig.json is not a regular file");
}

static int count_file(const char *path, void *ctx, struct smg_error *err)
{
    (void)path;
    (void)err;
    (*(int *)ctx)++;
    return SMG_OK;
}

static void test_walk_and_readable(void **state)
{
    struct smg_error err;
    char dir[1024], link[1100];
    int n = 0;
    (void)state;
    smg_error_clear(&err);
    make_dir("input/data/train");
    make_dir("input/data/train/sub");
    write_file("input/data/train/a", "x");
    write_file("input/data/train/sub/b", "x");
    write_file("input/data/train/.skip", "x");
    snprintf(dir, sizeof(dir), "%s/input/data/train", root);
    assert_int_equal(smg_config_walk(dir, count_file, &n, &err), SMG_OK);
    assert_int_equal(n, 2);
    assert_int_equal(smg_config_walk(dir, smg_config_check_readable, NULL, &err), SMG_OK);

    snprintf(link, sizeof(link), "%s/dangling", dir);
    assert_int_equal(symlink("/nonexistent/file", link), 0);
    assert_int_equal(smg_config_walk(dir, smg_config_check_readable, NULL, &err), SMG_EIO);
    expect_msg(&err, "cannot read data file");
    expect_msg(&err, "dangling: No such file or directory");
    assert_int_equal(err.klass, SMG_CLIENT_ERROR);

    smg_error_clear(&err);
    assert_int_equal(smg_config_walk("/nonexistent/dir", count_file, &n, &err), SMG_EIO);
    expect_msg(&err, "cannot list data folder /nonexistent/dir");
}

static void test_walk_link_loop(void **state)
{
    struct smg_error err;
    char link[1024];
    int n = 0;
    (void)state;
    smg_error_clear(&err);
    make_dir("input/data/loop");
    snprintf(link, sizeof(link), "%s/input/data/loop/self", root);
    assert_int_equal(symlink(".", link), 0);
    snprintf(link, sizeof(link), "%s/input/data/loop", root);
    assert_int_equal(smg_config_walk(link, count_file, &n, &err), SMG_EIO);
    expect_msg(&err, "folders nest deeper than 32 levels");
}

/* The pre-training walk sees a FIFO the channel reader would skip, so it can be checked. */
static void test_walk_visits_fifo(void **state)
{
    struct smg_error err;
    char path[1024];
    int n = 0;
    (void)state;
    smg_error_clear(&err);
    make_dir("input/data/fifo");
    write_file("input/data/fifo/a", "x");
    snprintf(path, sizeof(path), "%s/input/data/fifo/pipe", root);
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(path, sizeof(path), "%s/input/data/fifo", root);
    assert_int_equal(smg_config_walk(path, count_file, &n, &err), SMG_OK);
    assert_int_equal(n, 2);
    assert_int_equal(smg_config_walk(path, smg_config_check_readable, NULL, &err), SMG_OK);
}

static void test_set_root(void **state)
{
    struct smg_job *job = *state;
    struct smg_error err;
    char big[5000];
    smg_error_clear(&err);
    assert_int_equal(smg_job_set_root(job, "/opt/ml/", &err), SMG_OK);
    assert_string_equal(job->root, "/opt/ml");
    assert_string_equal(job->model_dir, "/opt/ml/model");
    assert_string_equal(job->output_dir, "/opt/ml/output");
    assert_string_equal(job->data_dir, "/opt/ml/input/data");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(smg_job_set_root(job, big, &err), SMG_ECONFIG);
    expect_msg(&err, "too long");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_channels_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_channels_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_channels_empty_object, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resources_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scan_no_data_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_config_is_folder, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_and_readable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_link_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_visits_fifo, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_root, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Metric lines exactly as SageMaker's metric regexes and the built-ins' logs
 * have them, the #metrics JSON line (parsed back with cJSON), numbers printed
 * as Python's repr prints them, and the rank placement that decides which
 * rank prints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "io/base/log.h"
#include "runtime/job.h"
#include "runtime/metrics.h"

static const struct smg_algorithm fake_kmeans = {.name = "kmeans",
                                                 .metrics_name = "AWS/KMeansWebscale"};

struct capture {
    char *buf;
    size_t len;
    FILE *f;
};

static void capture_start(struct capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    smg_log_set_stream(c->f);
}

static void capture_stop(struct capture *c)
{
    smg_log_set_stream(NULL);
    fclose(c->f);
}

/* The message part of a log line: after "] ", without the newline. */
static const char *message_of(const char *line)
{
    const char *p = strstr(line, "] ");
    assert_non_null(p);
    return p + 2;
}

static void test_format_double(void **state)
{
    char buf[64];
    (void)state;
    smg_format_double(0.06404909491539001, buf, sizeof(buf));
    assert_string_equal(buf, "0.06404909491539001");
    smg_format_double(54276.96611628075, buf, sizeof(buf));
    assert_string_equal(buf, "54276.96611628075");
    smg_format_double(100.0, buf, sizeof(buf));
    assert_string_equal(buf, "100.0");
    smg_format_double(0.1, buf, sizeof(buf));
    assert_string_equal(buf, "0.1");
    smg_format_double(1621168067.0175502, buf, sizeof(buf));
    assert_string_equal(buf, "1621168067.0175502");
    smg_format_double(1e-05, buf, sizeof(buf));
    assert_string_equal(buf, "1e-05");
}

static void test_metric_lines(void **state)
{
    struct smg_job job;
    struct capture c;
    (void)state;
    smg_job_init(&job);
    capture_start(&c);
    smg_job_progress_metric(&job, 100.0);
    smg_job_throughput_metric(&job, "train", 54276.96611628075);
    smg_job_quality_metric(&job, "train msd", 0.06404909491539001);
    capture_stop(&c);
    char *line2 = strchr(c.buf, '\n') + 1;
    char *line3 = strchr(line2, '\n') + 1;
    assert_true(strncmp(message_of(c.buf),
                        "#progress_metric: host=algo-1, completed 100.0 % of epochs\n", 59) == 0);
    assert_true(strncmp(message_of(line2),
                        "#throughput_metric: host=algo-1, train throughput=54276.96611628075 "
                        "records/second\n",
                        82) == 0);
    assert_string_equal(message_of(line3),
                        "#quality_metric: host=algo-1, train msd <loss>=0.06404909491539001\n");
    /* The line prefix: [MM/DD/YYYY HH:MM:SS INFO <thread>] */
    assert_int_equal(c.buf[0], '[');
    assert_int_equal(c.buf[3], '/');
    assert_int_equal(c.buf[6], '/');
    assert_non_null(strstr(c.buf, " INFO "));
    free(c.buf);
    smg_job_release(&job);
}

static void test_host_tag_and_silent_ranks(void **state)
{
    struct smg_job job;
    struct capture c;
    (void)state;
    smg_job_init(&job);
    snprintf(job.current_host, sizeof(job.current_host), "algo-3");
    capture_start(&c);
    smg_job_quality_metric(&job, "test ssd", 12.5);
    job.rank_on_host = 1; /* a second rank on the host prints nothing */
    smg_job_quality_metric(&job, "test msd", 1.0);
    smg_job_progress_metric(&job, 50.0);
    capture_stop(&c);
    assert_string_equal(message_of(c.buf), "#quality_metric: host=algo-3, test ssd <loss>=12.5\n");
    free(c.buf);
    smg_job_release(&job);
}

static void test_metrics_json(void **state)
{
    struct smg_job job;
    struct capture c;
    (void)state;
    smg_job_init(&job);
    job.algorithm = &fake_kmeans;
    smg_job_add_timing(&job, "initialize.time", 29.5);
    smg_job_add_timing(&job, "update.time", 2.0);
    smg_job_add_timing(&job, "update.time", 4.0);
    smg_job_add_timing(&job, "update.time", 3.0);
    capture_start(&c);
    smg_job_emit_metrics(&job);
    smg_job_emit_metrics(&job); /* printed once */
    capture_stop(&c);
    assert_true(strncmp(c.buf, "#metrics {\"StartTime\": ", 23) == 0);
    assert_non_null(strstr(c.buf, "\"Dimensions\": {\"Algorithm\": \"AWS/KMeansWebscale\", "
                                  "\"Host\": \"algo-1\", \"Operation\": \"training\"}"));
    assert_non_null(strstr(c.buf, "\"update.time\": {\"sum\": 9.0, \"count\": 3, \"min\": 2.0, "
                                  "\"max\": 4.0}"));
    assert_ptr_equal(strchr(c.buf, '\n'), c.buf + strlen(c.buf) - 1);
    cJSON *obj = cJSON_Parse(c.buf + strlen("#metrics "));
    assert_non_null(obj);
    double start = cJSON_GetObjectItem(obj, "StartTime")->valuedouble;
    double end = cJSON_GetObjectItem(obj, "EndTime")->valuedouble;
    assert_true(end >= start && start > 1.6e9);
    cJSON *init = cJSON_GetObjectItem(cJSON_GetObjectItem(obj, "Metrics"), "initialize.time");
    assert_int_equal(cJSON_GetObjectItem(init, "count")->valueint, 1);
    assert_true(cJSON_GetObjectItem(init, "sum")->valuedouble == 29.5);
    cJSON_Delete(obj);
    free(c.buf);
    smg_job_release(&job);
}

static void test_assign_ranks(void **state)
{
    struct smg_job job;
    char *hosts[2] = {"algo-1", "algo-2"};
    (void)state;
    unsetenv("OMPI_COMM_WORLD_LOCAL_RANK");
    unsetenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    smg_job_init(&job);
    smg_job_assign_ranks(&job);
    assert_int_equal(job.rank_on_host, 0);
    assert_int_equal(job.ranks_on_host, 1);
    /* mpirun -np 4 on one machine, placed by slot. */
    job.comm.size = 4;
    job.comm.rank = 3;
    smg_job_assign_ranks(&job);
    assert_int_equal(job.rank_on_host, 3);
    assert_int_equal(job.ranks_on_host, 4);
    /* Two hosts, two ranks each: ranks 2 and 3 are on the second host. */
    job.hosts[0] = hosts[0];
    job.hosts[1] = hosts[1];
    job.n_hosts = 2;
    job.comm.rank = 2;
    smg_job_assign_ranks(&job);
    assert_int_equal(job.rank_on_host, 0);
    assert_int_equal(job.ranks_on_host, 2);
    /* OpenMPI's own placement wins when present. */
    job.comm.mpi = true;
    setenv("OMPI_COMM_WORLD_LOCAL_RANK", "1", 1);
    setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "2", 1);
    smg_job_assign_ranks(&job);
    assert_int_equal(job.rank_on_host, 1);
    assert_int_equal(job.ranks_on_host, 2);
    unsetenv("OMPI_COMM_WORLD_LOCAL_RANK");
    unsetenv("OMPI_COMM_WORLD_LOCAL_SIZE");
    job.n_hosts = 0; /* the hosts are not heap-owned here */
    smg_job_release(&job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_double),
        cmocka_unit_test(test_metric_lines),
        cmocka_unit_test(test_host_tag_and_silent_ranks),
        cmocka_unit_test(test_metrics_json),
        cmocka_unit_test(test_assign_ranks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * Metric lines and timers, in the exact text SageMaker's metric regexes and
 * the built-ins' logs use (these from a k-means job):
 *
 *   #quality_metric: host=algo-1, train msd <loss>=0.06404909491539001
 *   #progress_metric: host=algo-1, completed 100.0 % of epochs
 *   #throughput_metric: host=algo-1, train throughput=54276.96611628075 records/second
 *   #metrics {"StartTime": 1621168067.0175502, "EndTime": 1621168067.4292173,
 *             "Dimensions": {"Algorithm": "AWS/KMeansWebscale", "Host": "algo-1",
 *             "Operation": "training"}, "Metrics": {"initialize.time": {"sum": 29.7,
 *             "count": 1, "min": 29.7, "max": 29.7}, ...}}
 *
 * (the last on one line). Numbers print as Python's repr prints floats, since
 * that is what the built-ins (Python) printed: the shortest text that reads
 * back exactly, with ".0" on integral values. The #metrics JSON uses Python's
 * json.dumps separators (", " and ": ").
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/metrics.h"
#include "io/base/alloc.h"
#include "io/base/buffer.h"
#include "io/base/log.h"
#include "io/json_string.h"
#include "runtime/job.h"

#define MAX_TIMERS 64

struct timer {
    char name[64];
    double sum, min, max;
    uint64_t count;
};

struct smg_timings {
    size_t n;
    struct timer t[MAX_TIMERS];
};

double smg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void smg_timings_free(struct smg_timings *t)
{
    smg_free(t);
}

void smg_format_double(double v, char *buf, size_t size)
{
    if (!isfinite(v)) {
        snprintf(buf, size, "%s", isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"));
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (strpbrk(buf, ".e") == NULL && strlen(buf) + 2 < size)
        strcat(buf, ".0");
}

static bool reports(const struct smg_job *job)
{
    return job->rank_on_host == 0;
}

void smg_job_quality_metric(const struct smg_job *job, const char *what, double value)
{
    char num[64];
    if (!reports(job))
        return;
    smg_format_double(value, num, sizeof(num));
    smg_log_info("#quality_metric: host=%s, %s <loss>=%s", job->current_host, what, num);
}

void smg_job_progress_metric(const struct smg_job *job, double percent)
{
    if (!reports(job))
        return;
    smg_log_info("#progress_metric: host=%s, completed %.1f %% of epochs", job->current_host,
                 percent);
}

void smg_job_throughput_metric(const struct smg_job *job, const char *channel,
                               double records_per_second)
{
    char num[64];
    if (!reports(job))
        return;
    smg_format_double(records_per_second, num, sizeof(num));
    smg_log_info("#throughput_metric: host=%s, %s throughput=%s records/second", job->current_host,
                 channel, num);
}

void smg_job_add_timing(struct smg_job *job, const char *name, double milliseconds)
{
    struct smg_timings *ts = job->timings;
    struct timer *t = NULL;

    if (ts == NULL) {
        ts = smg_calloc(1, sizeof(*ts));
        if (ts == NULL)
            return; /* timers are a report, not a result: drop them on out of memory */
        job->timings = ts;
    }
    for (size_t i = 0; i < ts->n; i++)
        if (strcmp(ts->t[i].name, name) == 0)
            t = &ts->t[i];
    if (t == NULL) {
        if (ts->n == MAX_TIMERS)
            return;
        t = &ts->t[ts->n++];
        snprintf(t->name, sizeof(t->name), "%s", name);
        t->min = milliseconds;
        t->max = milliseconds;
    }
    t->sum += milliseconds;
    t->count++;
    if (milliseconds < t->min)
        t->min = milliseconds;
    if (milliseconds > t->max)
        t->max = milliseconds;
}

/* Append to buf at *used; silently stops at the end (the line is then cut). */
static void put(char *buf, size_t size, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (*used >= size)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *used, size - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used = (size_t)n < size - *used ? *used + (size_t)n : size;
}

/* s as a JSON string (io/json_string.h, the one writer), quotes included. */
static void put_json_str(char *buf, size_t size, size_t *used, const char *s)
{
    struct smg_buf j;

    smg_buf_init(&j, size);
    if (smg_json_put_string(&j, s) == SMG_OK)
        put(buf, size, used, "%s", j.data);
    else
        put(buf, size, used, "\"\""); /* longer than the whole line: an empty name */
    smg_buf_free(&j);
}

void smg_job_emit_metrics(struct smg_job *job)
{
    char line[8000];
    char a[64], b[64], c[64];
    size_t used = 0;
    const char *algorithm = job->algorithm != NULL ? job->algorithm->metrics_name : "smalgo";

    if (job->metrics_emitted)
        return;
    job->metrics_emitted = true;
    if (!reports(job))
        return;
    smg_format_double(job->start_time, a, sizeof(a));
    smg_format_double(smg_now(), b, sizeof(b));
    put(line, sizeof(line), &used, "#metrics {\"StartTime\": %s, \"EndTime\": %s, ", a, b);
    put(line, sizeof(line), &used, "\"Dimensions\": {\"Algorithm\": ");
    put_json_str(line, sizeof(line), &used, algorithm != NULL ? algorithm : "smalgo");
    put(line, sizeof(line), &used, ", \"Host\": ");
    put_json_str(line, sizeof(line), &used, job->current_host);
    put(line, sizeof(line), &used, ", \"Operation\": \"training\"}, \"Metrics\": {");
    for (size_t i = 0; job->timings != NULL && i < job->timings->n; i++) {
        const struct timer *t = &job->timings->t[i];
        smg_format_double(t->sum, a, sizeof(a));
        smg_format_double(t->min, b, sizeof(b));
        smg_format_double(t->max, c, sizeof(c));
        put(line, sizeof(line), &used, "%s", i ? ", " : "");
        put_json_str(line, sizeof(line), &used, t->name);
        put(line, sizeof(line), &used, ": {\"sum\": %s, \"count\": %llu, \"min\": %s, \"max\": %s}",
            a, (unsigned long long)t->count, b, c);
    }
    put(line, sizeof(line), &used, "}}");
    smg_log_raw("%s", line);
}

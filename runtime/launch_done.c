/*
 * The done-file format of the leader-to-worker status hand-back (see
 * launch_done.h) and the failure text a worker derives from it. Pure string
 * work: the ssh transfer and the file reads live in the leader and worker.
 */
#include "runtime/launch_done.h"

#include <stdio.h>
#include <string.h>

size_t smg_launch_done_format(int status, const char *failure, char *out, size_t size)
{
    int n;

    if (status != 0 && failure != NULL && *failure != '\0')
        n = snprintf(out, size, "%d\n%.*s", status, SMG_LAUNCH_DONE_REASON_MAX, failure);
    else
        n = snprintf(out, size, "%d\n", status);
    if (n < 0)
        n = 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}

int smg_launch_done_parse(const char *text, size_t len, const char **reason, size_t *reason_len)
{
    const char *nl = memchr(text, '\n', len);
    size_t line = nl ? (size_t)(nl - text) : len;
    int status = 0;

    *reason = nl ? nl + 1 : text + len;
    *reason_len = nl ? len - line - 1 : 0;
    if (line == 0 || line > 3)
        return 1;
    for (size_t i = 0; i < line; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 1;
        status = status * 10 + (text[i] - '0');
    }
    return status > 255 ? 1 : status;
}

void smg_launch_worker_failure(const char *reason, const char *own, const char *host,
                               const char *leader, int status, char *out, size_t size)
{
    char generic[512];
    char mine[512];

    if (reason == NULL || *reason == '\0') {
        snprintf(generic, sizeof(generic),
                 "AlgorithmError: the job failed (status %d on the leader %s)", status, leader);
        reason = generic;
    }
    snprintf(mine, sizeof(mine), "host %s failed: ", host);
    if (strstr(reason, mine) != NULL)
        snprintf(out, size, "%s", own != NULL && *own != '\0' ? own : reason);
    else if (own != NULL && *own != '\0')
        snprintf(out, size, "%s (on %s: %s)", reason, host, own);
    else
        snprintf(out, size, "%s", reason);
}

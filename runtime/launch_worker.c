/*
 * A worker of a multi-host job (`smalgo launch` on a host other than
 * hosts[0]). It runs no rank itself: mpirun's orted starts one through sshd.
 * It waits for the leader's status hand-back (launch_done.h) and exits with
 * the job's status, writing output/failure with the job's cause first when
 * the job failed. It checks the leader over ssh every
 * SMALGO_HOST_CHECK_SECONDS: once seen, a leader that misses more than
 * SMALGO_HOST_LOST_CHECKS checks in a row is lost (exit 1); a leader never
 * seen within SMALGO_HOST_WAIT_SECONDS + 60 s is a ClientError. SIGTERM ends
 * the worker with status 143 (the leader then sees a lost host).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io/base/log.h"
#include "runtime/failure.h"
#include "runtime/launch.h"
#include "runtime/launch_done.h"
#include "runtime/launch_proc.h"

/* The leader's hand-back arrived: record the failure if any and return the status. */
static int finish(struct smg_launch *l, const char *leader)
{
    char done[SMG_LAUNCH_DONE_REASON_MAX + 64], reason[SMG_LAUNCH_DONE_REASON_MAX + 1];
    char own[601], path[8192], text[2200];
    const char *r;
    size_t rlen;
    int status;

    smg_launch_read_text(SMG_LAUNCH_DONE_FILE, done, sizeof(done));
    status = smg_launch_done_parse(done, strlen(done), &r, &rlen);
    if (status != 0 && status != 143) {
        snprintf(reason, sizeof(reason), "%.*s", (int)rlen, r);
        snprintf(path, sizeof(path), "%s/failure", l->job.output_dir);
        smg_launch_read_text(path, own, sizeof(own));
        smg_failure_clear(l->job.output_dir);
        smg_launch_worker_failure(reason, own, l->job.current_host, leader, status, text,
                                  sizeof(text));
        smg_launch_fail(l, text);
    }
    smg_log_info("the leader reports the job ended with status %d", status);
    return status;
}

/* One check of the leader came back; nonzero (the exit status) when the worker must end. */
static int checked(struct smg_launch *l, const char *leader, bool answered, bool *seen,
                   unsigned *misses, double waited)
{
    char text[512];

    if (answered) {
        *seen = true;
        *misses = 0;
        return 0;
    }
    if (*seen) {
        /* The leader may have just finished: its done file can land late. */
        if (++*misses > l->lost_checks && access(SMG_LAUNCH_DONE_FILE, F_OK) != 0) {
            snprintf(text, sizeof(text),
                     "AlgorithmError: lost the leader host %s (no answer over SSH)", leader);
            smg_launch_fail(l, text);
            return 1;
        }
    } else if (waited >= (double)l->host_wait + 60.0) {
        snprintf(text, sizeof(text),
                 "ClientError: the leader host %s did not answer over SSH within %u s", leader,
                 l->host_wait + 60);
        smg_launch_fail(l, text);
        return 1;
    }
    return 0;
}

static int wait_for_leader(struct smg_launch *l, const char *leader)
{
    struct smg_probe probe = {0, 0.0};
    double started = smg_proc_now(), last_check = -1e9;
    unsigned misses = 0;
    bool seen = false;
    int r, rc = 0;

    for (;;) {
        if (access(SMG_LAUNCH_DONE_FILE, F_OK) == 0) {
            rc = finish(l, leader);
            break;
        }
        if (*l->stop) {
            smg_log_info("stopped (SIGTERM)");
            rc = 143;
            break;
        }
        r = -1; /* no check came back in this turn */
        if (probe.pid != 0) {
            r = smg_probe_poll(&probe);
        } else if (smg_proc_now() - last_check >= (double)l->check_every) {
            last_check = smg_proc_now();
            if (!smg_probe_start(&probe, leader))
                r = 0;
        }
        if (r >= 0 &&
            (rc = checked(l, leader, r == 1, &seen, &misses, smg_proc_now() - started)) != 0)
            break;
        smg_proc_nap(0.2);
    }
    smg_probe_cancel(&probe);
    return rc;
}

int smg_launch_worker(struct smg_launch *l)
{
    const char *leader = l->job.hosts[0];
    int rc;

    unlink(SMG_LAUNCH_DONE_FILE);
    unlink(SMG_LAUNCH_DONE_FILE ".tmp");
    smg_log_info("worker %s: waiting for the leader %s", l->job.current_host, leader);
    rc = wait_for_leader(l, leader);
    smg_launch_stop_sshd(l);
    return rc;
}

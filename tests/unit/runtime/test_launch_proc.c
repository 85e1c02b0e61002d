/*
 * The process layer of `smalgo launch`: the table of the launcher's own
 * children (statuses kept for their pollers, orphans dropped, a full table,
 * a pid reused after its status was taken), and, with real processes, exit
 * statuses that survive being reaped by a nap, orphans reaped instead of left
 * as zombies (the test makes itself a child subreaper, as PID 1 is), and
 * descriptors that children must not inherit (the temporary file and the
 * /dev/null the child opens for itself). No ssh: everything runs locally.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/launch_children.h"
#include "runtime/launch_proc.h"

static void test_table(void **state)
{
    static struct smg_children t;
    int code = -1;

    (void)state;
    smg_children_init(&t);
    assert_true(smg_children_room(&t));
    assert_false(smg_children_add(&t, 0));
    assert_false(smg_children_add(&t, -5));
    assert_true(smg_children_add(&t, 100));
    assert_true(smg_children_add(&t, 200));
    assert_int_equal(smg_children_take(&t, 100, &code), 0); /* still running */
    assert_int_equal(code, -1);
    /* An orphan's status is dropped; ours is kept for its poller. */
    assert_false(smg_children_ended(&t, 300, 9));
    assert_int_equal(smg_children_take(&t, 300, &code), -1);
    assert_true(smg_children_ended(&t, 200, 143));
    assert_int_equal(smg_children_take(&t, 200, &code), 1);
    assert_int_equal(code, 143);
    /* Taken once: then it is no child of ours. */
    assert_int_equal(smg_children_take(&t, 200, &code), -1);
    assert_false(smg_children_ended(&t, 200, 0));
    /* The pid comes back for a new child: it starts out running. */
    assert_true(smg_children_add(&t, 200));
    assert_int_equal(smg_children_take(&t, 200, &code), 0);
    assert_true(smg_children_ended(&t, 100, 0));
    assert_int_equal(smg_children_take(&t, 100, &code), 1);
    assert_int_equal(code, 0);
}

static void test_table_full(void **state)
{
    static struct smg_children t;
    int code;

    (void)state;
    smg_children_init(&t);
    for (pid_t p = 1; p <= SMG_CHILDREN_MAX; p++)
        assert_true(smg_children_add(&t, p));
    assert_false(smg_children_room(&t));
    assert_false(smg_children_add(&t, SMG_CHILDREN_MAX + 1));
    /* Adding a tracked pid again reuses its slot, even when full. */
    assert_true(smg_children_add(&t, 7));
    assert_true(smg_children_ended(&t, 7, 3));
    assert_int_equal(smg_children_take(&t, 7, &code), 1);
    assert_int_equal(code, 3);
    assert_true(smg_children_room(&t));
    assert_true(smg_children_add(&t, SMG_CHILDREN_MAX + 1));
}

/* Run sh -c script (out to out_fd, -1: /dev/null) to its end; its exit status. */
static int run_sh(const char *script, int out_fd)
{
    char *argv[] = {"sh", "-c", (char *)script, NULL};
    pid_t pid = 0;
    int code = -1;
    double deadline = smg_proc_now() + 20.0;

    assert_int_equal(smg_proc_spawn(argv, -1, out_fd, true, &pid, NULL), SMG_OK);
    while (!smg_proc_poll(pid, &code)) {
        assert_true(smg_proc_now() < deadline);
        smg_proc_nap(0.01);
    }
    return code;
}

static void test_status_survives_naps(void **state)
{
    char *argv[] = {"sh", "-c", "exit 7", NULL};
    pid_t pid = 0;
    int code = -1;

    (void)state;
    assert_int_equal(smg_proc_spawn(argv, -1, -1, true, &pid, NULL), SMG_OK);
    /* The naps reap it (waitpid(-1)); its status must wait in the table. */
    for (int i = 0; i < 50; i++)
        smg_proc_nap(0.01);
    assert_true(smg_proc_poll(pid, &code));
    assert_int_equal(code, 7);
    /* Polled once: not ours any more, reads as ended with status 1. */
    code = -1;
    assert_true(smg_proc_poll(pid, &code));
    assert_int_equal(code, 1);
    assert_int_equal(run_sh("exit 0", -1), 0);
    assert_int_equal(run_sh("kill -TERM $$", -1), 128 + SIGTERM);
}

static void test_stop(void **state)
{
    char *argv[] = {"sleep", "30", NULL};
    pid_t pid = 0;
    int code = -1;

    (void)state;
    assert_int_equal(smg_proc_spawn(argv, -1, -1, true, &pid, NULL), SMG_OK);
    assert_false(smg_proc_poll(pid, &code));
    assert_int_equal(smg_proc_stop(pid, 5.0), 128 + SIGTERM);
}

static void test_orphans_reaped(void **state)
{
    char buf[64] = {0};
    double deadline;
    pid_t orphan;
    ssize_t n;
    int fd = -1;

    (void)state;
    /* Orphans of our descendants become our children, as they do for PID 1. */
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    assert_int_equal(smg_proc_tmpfd(&fd, NULL), SMG_OK);
    assert_int_equal(run_sh("sleep 0.3 & echo $!", fd), 0);
    n = pread(fd, buf, sizeof(buf) - 1, 0);
    close(fd);
    assert_true(n > 0);
    orphan = (pid_t)strtol(buf, NULL, 10);
    assert_true(orphan > 0);
    /* A zombie still answers kill(pid, 0); a reaped process does not. */
    deadline = smg_proc_now() + 10.0;
    while (kill(orphan, 0) == 0) {
        assert_true(smg_proc_now() < deadline);
        smg_proc_nap(0.05);
    }
    assert_int_equal(errno, ESRCH);
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0), 0);
}

static void test_no_leaked_fds(void **state)
{
    char script[128];
    struct stat st;
    int fd = -1, lowest;

    (void)state;
    assert_int_equal(smg_proc_tmpfd(&fd, NULL), SMG_OK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_nlink, 0); /* unlinked: nothing left in /tmp */
    /* The child opens /dev/null at the lowest free descriptor. */
    lowest = open("/dev/null", O_RDONLY);
    assert_true(lowest >= 0);
    close(lowest);
    snprintf(script, sizeof(script), "! test -e /proc/$$/fd/%d && ! test -e /proc/$$/fd/%d", fd,
             lowest);
    assert_int_equal(run_sh(script, -1), 0);
    /* Given as stdout, the file is the child's descriptor 1 all the same. */
    assert_int_equal(run_sh("echo hi", fd), 0);
    assert_int_equal(lseek(fd, 0, SEEK_END), 3);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_status_survives_naps),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_orphans_reaped),
        cmocka_unit_test(test_no_leaked_fds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

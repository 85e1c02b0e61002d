/*
 * `smalgo launch [train [options]]`: the container entrypoint's logic for
 * training on one or several hosts (docker/entrypoint.sh execs it).
 *
 * - Anything but train (serve, inspect, ...): exec smalgo with those arguments.
 * - One host (no resourceconfig.json, one host in it, or a file train itself
 *   must report as broken): exec `smalgo train`, so smalgo stays PID 1 and
 *   gets docker stop's SIGTERM directly.
 * - Several hosts: check the names we pass to ssh and mpirun, pick the
 *   interface (network_interface_name, or the default route's when the named
 *   one does not exist here, as SDK v3 local mode's "ethwe"), start sshd, and
 *   run the leader (hosts[0]) or a worker. This process renames itself
 *   smalgo-launch, so "a smalgo process runs" still means a rank runs.
 *
 * Tunables: SMALGO_HOST_WAIT_SECONDS (300), SMALGO_HOST_CHECK_SECONDS (5),
 * SMALGO_HOST_LOST_CHECKS (2); the ML root as train finds it (--ml-root DIR
 * among train's options, else SMALGO_ML_ROOT, else /opt/ml); SMALGO_BIN (this
 * program) is what every rank runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/base/alloc.h"
#include "io/base/log.h"
#include "runtime/commands.h"
#include "runtime/config.h"
#include "runtime/jsonfile.h"
#include "runtime/launch.h"
#include "runtime/launch_plan.h"
#include "runtime/launch_proc.h"
#include "runtime/signals.h"

#define SSHD_PROGRAM "/usr/sbin/sshd"

static volatile sig_atomic_t stop_flag;

/* Replace this process with smalgo argv[0..]; returns only on failure (status 1). */
static int exec_smalgo(const char *smalgo, char **args, size_t n_args)
{
    char **argv = smg_calloc(n_args + 2, sizeof(*argv));

    if (argv == NULL) {
        fprintf(stderr, "smalgo launch: out of memory\n");
        return 1;
    }
    argv[0] = (char *)"smalgo";
    for (size_t i = 0; i < n_args; i++)
        argv[i + 1] = args[i];
    execv(smalgo, argv);
    fprintf(stderr, "smalgo launch: cannot run %s: %s\n", smalgo, strerror(errno));
    smg_free(argv);
    return 1;
}

static void find_self(char *out, size_t size)
{
    const char *bin = getenv("SMALGO_BIN");
    ssize_t n;

    if (bin != NULL && *bin != '\0' && strlen(bin) < size) {
        snprintf(out, size, "%s", bin);
        return;
    }
    n = readlink("/proc/self/exe", out, size - 1);
    if (n <= 0)
        snprintf(out, size, "/usr/local/bin/smalgo");
    else
        out[n] = '\0';
}

/*
 * Read resourceconfig.json under the ML root train will use (--ml-root,
 * SMALGO_ML_ROOT, /opt/ml) into l->job. False when the job is one host as far
 * as launch is concerned: absent, one host, or broken (train reports that).
 */
static bool several_hosts(struct smg_launch *l)
{
    const char *root = smg_launch_ml_root(l->args, l->n_args, getenv("SMALGO_ML_ROOT"));
    char path[8192];
    char *text = NULL;
    size_t len;
    int rc;

    if (smg_job_set_root(&l->job, root, NULL) != SMG_OK)
        return false;
    snprintf(path, sizeof(path), "%s/input/config/resourceconfig.json", l->job.root);
    if (smg_file_read_text(path, SMG_CONFIG_MAX_BYTES, &text, &len, NULL, NULL) != SMG_OK)
        return false;
    rc = smg_config_parse_resources(&l->job, text, path, NULL);
    smg_free(text);
    return rc == SMG_OK && l->job.n_hosts > 1;
}

/* The names go to ssh and mpirun: refuse any that could read as options or shell. */
static bool names_ok(struct smg_launch *l)
{
    char text[512];
    const char *bad = NULL;

    for (size_t i = 0; bad == NULL && i < l->job.n_hosts; i++)
        if (!smg_launch_name_ok(l->job.hosts[i]))
            bad = l->job.hosts[i];
    if (bad == NULL && !smg_launch_name_ok(l->iface))
        bad = l->iface;
    if (bad == NULL)
        return true;
    snprintf(text, sizeof(text),
             "ClientError: resourceconfig.json: unusable host or interface name '%.200s'", bad);
    smg_launch_fail(l, text);
    return false;
}

static void pick_interface(struct smg_launch *l)
{
    char path[256], route[16384], fallback[64];

    snprintf(l->iface, sizeof(l->iface), "%s",
             l->job.network_interface[0] ? l->job.network_interface : "eth0");
    snprintf(path, sizeof(path), "/sys/class/net/%s", l->iface);
    if (!smg_launch_name_ok(l->iface) || access(path, F_OK) == 0)
        return;
    smg_launch_read_text("/proc/net/route", route, sizeof(route));
    if (!smg_launch_default_route_iface(route, fallback, sizeof(fallback)) ||
        !smg_launch_name_ok(fallback))
        snprintf(fallback, sizeof(fallback), "eth0");
    smg_log_info("network_interface_name %s does not exist here; using %s", l->iface, fallback);
    snprintf(l->iface, sizeof(l->iface), "%s", fallback);
}

static int start_sshd(struct smg_launch *l)
{
    char *argv[] = {SSHD_PROGRAM, "-D", "-E", "/tmp/sshd.log", NULL};
    struct smg_error err;

    smg_error_clear(&err);
    if (mkdir("/run/sshd", 0755) != 0 && errno != EEXIST)
        smg_log_warn("cannot create /run/sshd: %s", strerror(errno));
    if (smg_proc_spawn(argv, -1, -1, false, &l->sshd, &err) != SMG_OK) {
        smg_launch_fail(l, err.msg);
        return 1;
    }
    return 0;
}

static int run_hosts(struct smg_launch *l)
{
    pick_interface(l); /* leaves a bad name alone for names_ok to report */
    if (!names_ok(l))
        return 1;
    l->host_wait = smg_launch_env_uint("SMALGO_HOST_WAIT_SECONDS", 300, 0, 86400);
    l->check_every = smg_launch_env_uint("SMALGO_HOST_CHECK_SECONDS", 5, 1, 3600);
    l->lost_checks = smg_launch_env_uint("SMALGO_HOST_LOST_CHECKS", 2, 1, 1000);
    l->stop = &stop_flag;
    smg_signals_catch_stop(&stop_flag);
    prctl(PR_SET_NAME, "smalgo-launch", 0, 0, 0);
    if (start_sshd(l) != 0)
        return 1;
    if (strcmp(l->job.current_host, l->job.hosts[0]) == 0)
        return smg_launch_leader(l);
    return smg_launch_worker(l);
}

int smg_cmd_launch(int argc, char **argv)
{
    static char train[] = "train";
    static char *just_train[] = {train};
    struct smg_launch *l;
    int rc;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: smalgo launch [train [train options] | COMMAND ...]\n\n"
               "Train on this host, or on every host of resourceconfig.json over MPI and SSH\n"
               "(the image's entrypoint); any other command runs as `smalgo COMMAND ...`.\n");
        return 0;
    }
    if ((l = smg_calloc(1, sizeof(*l))) == NULL) {
        fprintf(stderr, "smalgo launch: out of memory\n");
        return 1;
    }
    smg_job_init(&l->job);
    find_self(l->smalgo, sizeof(l->smalgo));
    l->args = argc >= 2 ? argv + 1 : just_train;
    l->n_args = argc >= 2 ? (size_t)argc - 1 : 1;
    if (strcmp(l->args[0], "train") != 0 || !several_hosts(l))
        rc = exec_smalgo(l->smalgo, l->args, l->n_args);
    else
        rc = run_hosts(l);
    smg_job_release(&l->job);
    smg_free(l);
    return rc;
}

/*
 * The pure parts of `smalgo launch` (see launch_plan.h): name checks, the
 * mpirun and ssh argument vectors, the default-route interface, the ML root
 * from train's arguments and the tunables. Nothing here starts a process or
 * touches a file; the mpirun vector's strings are copies the caller owns
 * through struct smg_argv, the ssh vector borrows the caller's strings.
 */
#include "runtime/launch_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/base/alloc.h"
#include "io/base/log.h"
#include "runtime/cli_number.h"

void smg_argv_init(struct smg_argv *a)
{
    a->v = NULL;
    a->n = 0;
    a->cap = 0;
}

void smg_argv_free(struct smg_argv *a)
{
    for (size_t i = 0; i < a->n; i++)
        smg_free(a->v[i]);
    smg_free(a->v);
    smg_argv_init(a);
}

enum smg_status smg_argv_push(struct smg_argv *a, const char *s, struct smg_error *err)
{
    char *copy;

    if (a->n + 2 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        size_t bytes;
        char **v;
        if (!smg_mul_size(cap, sizeof(*v), &bytes) || (v = smg_realloc(a->v, bytes)) == NULL)
            return smg_error_set(err, SMG_ENOMEM, "out of memory building a command line");
        a->v = v;
        a->cap = cap;
    }
    if ((copy = smg_strdup(s)) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory building a command line");
    a->v[a->n++] = copy;
    a->v[a->n] = NULL;
    return SMG_OK;
}

bool smg_launch_name_ok(const char *s)
{
    if (s == NULL || *s == '\0' || *s == '-')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '-' || *s == '_'))
            return false;
    return true;
}

bool smg_launch_forwarded(const char *name)
{
    static const char *const prefixes[] = {"SMALGO_",   "AWS_", "TRAINING_JOB_", "SM_",
                                           "OPENBLAS_", "OMP_", "LD_LIBRARY_"};
    const char *end = strchr(name, '=');
    size_t len = end ? (size_t)(end - name) : strlen(name);

    for (size_t i = 0; i < len; i++)
        if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= 'a' && name[i] <= 'z') ||
              (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
            return false;
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (len >= strlen(prefixes[i]) && strncmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Push "-x NAME" for each forwarded variable of envp, sorted, each name once. */
static int push_forwarded(char *const *envp, struct smg_argv *out, struct smg_error *err)
{
    struct smg_argv names;
    int rc = SMG_OK;

    smg_argv_init(&names);
    for (size_t i = 0; envp != NULL && envp[i] != NULL && rc == SMG_OK; i++) {
        const char *eq = strchr(envp[i], '=');
        char name[256];
        if (eq == NULL || !smg_launch_forwarded(envp[i]) || (size_t)(eq - envp[i]) >= sizeof(name))
            continue;
        memcpy(name, envp[i], (size_t)(eq - envp[i]));
        name[eq - envp[i]] = '\0';
        rc = smg_argv_push(&names, name, err);
    }
    if (rc == SMG_OK && names.n > 1)
        qsort(names.v, names.n, sizeof(names.v[0]), cmp_str);
    for (size_t i = 0; rc == SMG_OK && i < names.n; i++)
        if (i == 0 || strcmp(names.v[i], names.v[i - 1]) != 0)
            if ((rc = smg_argv_push(out, "-x", err)) == SMG_OK)
                rc = smg_argv_push(out, names.v[i], err);
    smg_argv_free(&names);
    return rc;
}

/* "h1:1,h2:1,...": one slot per host. */
static int push_hostlist(const struct smg_launch_job *job, struct smg_argv *out,
                         struct smg_error *err)
{
    size_t len = 1, off = 0;
    char *list;
    int rc;

    for (size_t i = 0; i < job->n_hosts; i++)
        len += strlen(job->hosts[i]) + 3;
    if ((list = smg_malloc(len)) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "out of memory building the mpirun host list");
    for (size_t i = 0; i < job->n_hosts; i++) {
        size_t n = strlen(job->hosts[i]);
        if (i > 0)
            list[off++] = ',';
        memcpy(list + off, job->hosts[i], n);
        memcpy(list + off + n, ":1", 2);
        off += n + 2;
    }
    list[off] = '\0';
    rc = smg_argv_push(out, list, err);
    smg_free(list);
    return rc;
}

enum smg_status smg_launch_mpirun_argv(const struct smg_launch_job *job, struct smg_argv *out,
                                       struct smg_error *err)
{
    static const char *const fixed[] = {"--bind-to",
                                        "none",
                                        "--mca",
                                        "plm_rsh_no_tree_spawn",
                                        "1",
                                        "--mca",
                                        "orte_abort_on_non_zero_status",
                                        "1",
                                        "--mca",
                                        "pml",
                                        "ob1",
                                        "--mca",
                                        "btl",
                                        "tcp,self"};
    char np[32];
    int rc = SMG_OK;

    snprintf(np, sizeof(np), "%zu", job->n_hosts);
    const char *head[] = {"mpirun", "--allow-run-as-root", "-np", np, "--host"};
    for (size_t i = 0; rc == SMG_OK && i < sizeof(head) / sizeof(head[0]); i++)
        rc = smg_argv_push(out, head[i], err);
    if (rc == SMG_OK)
        rc = push_hostlist(job, out, err);
    for (size_t i = 0; rc == SMG_OK && i < sizeof(fixed) / sizeof(fixed[0]); i++)
        rc = smg_argv_push(out, fixed[i], err);
    const char *iface[] = {
        "--mca", "btl_tcp_if_include", job->iface, "--mca", "oob_tcp_if_include", job->iface, "-x",
        "PATH"};
    for (size_t i = 0; rc == SMG_OK && i < sizeof(iface) / sizeof(iface[0]); i++)
        rc = smg_argv_push(out, iface[i], err);
    if (rc == SMG_OK)
        rc = push_forwarded(job->environ, out, err);
    if (rc == SMG_OK)
        rc = smg_argv_push(out, job->smalgo, err);
    for (size_t i = 0; rc == SMG_OK && i < job->n_args; i++)
        rc = smg_argv_push(out, job->args[i], err);
    return rc;
}

bool smg_launch_default_route_iface(const char *text, char *out, size_t size)
{
    const char *line = text;

    /* Iface<TAB>Destination<TAB>Gateway...; the first line is the header. */
    while (line != NULL && *line != '\0') {
        const char *tab = strchr(line, '\t');
        const char *nl = strchr(line, '\n');
        size_t name_len;
        if (tab != NULL && (nl == NULL || tab < nl)) {
            name_len = (size_t)(tab - line);
            const char *dest = tab + 1;
            while (*dest == ' ' || *dest == '\t')
                dest++;
            if (strncmp(dest, "00000000", 8) == 0 &&
                (dest[8] == '\t' || dest[8] == ' ' || dest[8] == '\n' || dest[8] == '\0')) {
                while (name_len > 0 && line[name_len - 1] == ' ')
                    name_len--;
                if (name_len == 0 || name_len >= size)
                    return false;
                memcpy(out, line, name_len);
                out[name_len] = '\0';
                return true;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return false;
}

unsigned smg_launch_env_uint(const char *name, unsigned fallback, unsigned lo, unsigned hi)
{
    const char *s = getenv(name);
    uint64_t v;

    if (s == NULL || *s == '\0')
        return fallback;
    if (!smg_cli_parse_u64(s, lo, hi, &v)) {
        smg_log_warn("%s='%.40s' is not a whole number in [%u, %u]; using %u", name, s, lo, hi,
                     fallback);
        return fallback;
    }
    return (unsigned)v;
}

char **smg_launch_ssh_argv(char *argv[SMG_SSH_ARGV_LEN], const char *host, const char *cmd)
{
    char *const v[SMG_SSH_ARGV_LEN] = {
        "ssh",       "-o", SMG_SSH_CONNECT_TIMEOUT, "-o", "BatchMode=yes", (char *)host,
        (char *)cmd, NULL};

    memcpy(argv, v, sizeof(v));
    return argv;
}

const char *smg_launch_ml_root(char *const *args, size_t n_args, const char *env)
{
    const char *root = NULL;

    for (size_t i = 1; i < n_args; i++) {
        const char *a = args[i];
        if (strcmp(a, "--ml-root") == 0 && i + 1 < n_args)
            root = args[++i];
        else if (strcmp(a, "--algorithm") == 0 && i + 1 < n_args)
            i++;
        else if (strncmp(a, "--ml-root=", 10) == 0)
            root = a + 10;
    }
    if (root == NULL && env != NULL && *env != '\0')
        root = env;
    return root != NULL ? root : "/opt/ml";
}

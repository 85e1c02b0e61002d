/* The process-wide S3 settings and credentials (see s3_env.h), under one mutex. */
#include "io/s3/s3_env.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t env_mu = PTHREAD_MUTEX_INITIALIZER;
static struct smg_s3_env env_state;
static bool env_loaded, creds_loaded;

static const char *var(const char *name)
{
    const char *v = getenv(name);
    return v != NULL && *v != '\0' ? v : NULL;
}

static long number(const char *name, long dflt, long lo, long hi)
{
    const char *v = var(name);
    char *end;
    long n;

    if (v == NULL)
        return dflt;
    n = strtol(v, &end, 10);
    return *end == '\0' && n >= lo && n <= hi ? n : dflt;
}

static int load_settings(struct smg_s3_env *e, struct smg_error *err)
{
    const char *region = var("AWS_REGION") ? var("AWS_REGION") : var("AWS_DEFAULT_REGION");
    const char *ep =
        var("AWS_ENDPOINT_URL_S3") ? var("AWS_ENDPOINT_URL_S3") : var("AWS_ENDPOINT_URL");
    size_t n;

    snprintf(e->region, sizeof(e->region), "%s", region ? region : "us-east-1");
    if (ep != NULL) {
        if (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0)
            return smg_error_set(err, SMG_ECONFIG,
                                 "S3 endpoint '%.200s' (AWS_ENDPOINT_URL_S3/AWS_ENDPOINT_URL) must "
                                 "start with http:// or https://",
                                 ep);
        if (strlen(ep) >= sizeof(e->endpoint))
            return smg_error_set(err, SMG_ECONFIG, "S3 endpoint URL too long");
        snprintf(e->endpoint, sizeof(e->endpoint), "%s", ep);
        n = strlen(e->endpoint);
        while (n > 0 && e->endpoint[n - 1] == '/')
            e->endpoint[--n] = '\0';
    }
    e->max_attempts = (int)number("SMALGO_S3_MAX_ATTEMPTS", 5, 1, 20);
    e->backoff_ms = number("SMALGO_S3_BACKOFF_MS", 100, 1, 60000);
    e->stall_seconds = number("SMALGO_S3_STALL_SECONDS", 15, 1, 3600);
    return SMG_OK;
}

enum smg_status smg_s3_env_get(struct smg_s3_env *out, bool force_refresh, struct smg_error *err)
{
    int rc = SMG_OK;

    pthread_mutex_lock(&env_mu);
    if (!env_loaded) {
        if ((rc = load_settings(&env_state, err)) != SMG_OK)
            goto out;
        env_loaded = true;
    }
    if (!creds_loaded || force_refresh ||
        smg_s3_credentials_stale(&env_state.creds, (long long)time(NULL))) {
        struct smg_s3_creds c;
        if ((rc = smg_s3_credentials_load(&c, err)) != SMG_OK)
            goto out;
        env_state.creds = c;
        creds_loaded = true;
    }
    *out = env_state;
out:
    pthread_mutex_unlock(&env_mu);
    return rc;
}

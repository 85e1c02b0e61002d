/*
 * The two credential formats read from outside: the shared credentials file
 * (INI) and the container provider's / IMDS's JSON. Both are untrusted input:
 * every line and value is bounded, and errors say which line is wrong
 * without ever quoting a secret.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "io/s3/s3_credentials.h"

#define LINE_MAX_BYTES 8192

static const char *trim(const char *s, const char *e, const char **end)
{
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    *end = e;
    return s;
}

static bool copy_value(const char *v, const char *ve, char *dst, size_t cap)
{
    size_t n = (size_t)(ve - v);

    if (n >= cap || memchr(v, '\0', n) != NULL)
        return false;
    memcpy(dst, v, n);
    dst[n] = '\0';
    return true;
}

/* One "key = value" line of the wanted profile. */
static int ini_pair(const char *s, const char *e, struct smg_s3_creds *out, size_t line,
                    struct smg_error *err)
{
    const char *eq = memchr(s, '=', (size_t)(e - s));
    const char *k, *ke, *v, *ve;
    bool ok = true;

    if (eq == NULL)
        return smg_error_set(err, SMG_EFORMAT,
                             "shared credentials file line %zu: expected 'key = value'", line);
    k = trim(s, eq, &ke);
    v = trim(eq + 1, e, &ve);
    if ((size_t)(ke - k) == 17 && memcmp(k, "aws_access_key_id", 17) == 0)
        ok = copy_value(v, ve, out->access_key, sizeof(out->access_key));
    else if ((size_t)(ke - k) == 21 && memcmp(k, "aws_secret_access_key", 21) == 0)
        ok = copy_value(v, ve, out->secret_key, sizeof(out->secret_key));
    else if ((size_t)(ke - k) == 17 && memcmp(k, "aws_session_token", 17) == 0)
        ok = copy_value(v, ve, out->token, sizeof(out->token));
    if (!ok)
        return smg_error_set(err, SMG_EFORMAT, "shared credentials file line %zu: value too long",
                             line);
    return SMG_OK;
}

enum smg_status smg_s3_ini_credentials(const char *text, size_t len, const char *profile,
                                       struct smg_s3_creds *out, struct smg_error *err)
{
    const char *p = text, *end = text + len;
    size_t line = 0, plen = strlen(profile);
    bool in_profile = false, found = false;

    memset(out, 0, sizeof(*out));
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end, *s, *e;
        line++;
        if (le - p > LINE_MAX_BYTES)
            return smg_error_set(err, SMG_EFORMAT,
                                 "shared credentials file line %zu: longer than %d bytes", line,
                                 LINE_MAX_BYTES);
        s = trim(p, le, &e);
        p = nl ? nl + 1 : end;
        if (s == e || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            const char *n, *ne;
            if (e[-1] != ']' || e - s < 2)
                return smg_error_set(err, SMG_EFORMAT,
                                     "shared credentials file line %zu: unclosed '[' section",
                                     line);
            n = trim(s + 1, e - 1, &ne);
            in_profile = (size_t)(ne - n) == plen && memcmp(n, profile, plen) == 0;
            found = found || in_profile;
            continue;
        }
        if (in_profile) {
            int rc = ini_pair(s, e, out, line, err);
            if (rc != SMG_OK)
                return rc;
        }
    }
    if (!found)
        return SMG_EEOF;
    if (out->access_key[0] == '\0' || out->secret_key[0] == '\0')
        return smg_error_set(err, SMG_EFORMAT,
                             "shared credentials file: profile '%.64s' lacks aws_access_key_id "
                             "or aws_secret_access_key",
                             profile);
    return SMG_OK;
}

/* "2026-11-27T21:00:00Z" (fractional seconds allowed) to Unix seconds; -1 if malformed. */
static long long parse_iso8601(const char *s)
{
    struct tm tm;
    int v[6], lens[6] = {4, 2, 2, 2, 2, 2};
    const char seps[6] = {'-', '-', 'T', ':', ':', '\0'};
    const char *p = s;

    for (int f = 0; f < 6; f++) {
        v[f] = 0;
        for (int i = 0; i < lens[f]; i++, p++) {
            if (*p < '0' || *p > '9')
                return -1;
            v[f] = v[f] * 10 + (*p - '0');
        }
        if (f < 5 && *p++ != seps[f])
            return -1;
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
        return -1;
    return (long long)timegm(&tm);
}

static bool json_string(const cJSON *o, const char *name, char *dst, size_t cap, bool required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

    if (v == NULL)
        return !required;
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= cap ||
        (required && v->valuestring[0] == '\0'))
        return false;
    strcpy(dst, v->valuestring);
    return true;
}

enum smg_status smg_s3_json_credentials(const char *text, size_t len, struct smg_s3_creds *out,
                                        struct smg_error *err)
{
    cJSON *doc = cJSON_ParseWithLength(text, len);
    char exp[64] = "";
    int rc = SMG_OK;

    memset(out, 0, sizeof(*out));
    if (doc == NULL || !cJSON_IsObject(doc)) {
        rc = smg_error_set(err, SMG_EFORMAT, "credentials answer is not a JSON object");
        goto out;
    }
    if (!json_string(doc, "AccessKeyId", out->access_key, sizeof(out->access_key), true) ||
        !json_string(doc, "SecretAccessKey", out->secret_key, sizeof(out->secret_key), true) ||
        !json_string(doc, "Token", out->token, sizeof(out->token), false) ||
        !json_string(doc, "Expiration", exp, sizeof(exp), false)) {
        rc = smg_error_set(err, SMG_EFORMAT,
                           "credentials answer lacks a string AccessKeyId/SecretAccessKey, or "
                           "its Token/Expiration is not a string");
        goto out;
    }
    if (exp[0] != '\0' && (out->expires = parse_iso8601(exp)) < 0) {
        out->expires = 0;
        rc = smg_error_set(err, SMG_EFORMAT, "credentials Expiration '%.40s' is not ISO 8601", exp);
    }
out:
    cJSON_Delete(doc);
    return rc;
}

bool smg_s3_credentials_stale(const struct smg_s3_creds *creds, long long now)
{
    return creds->expires != 0 && now + 300 >= creds->expires;
}

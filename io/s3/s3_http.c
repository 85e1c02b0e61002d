/* Small HTTP exchanges for the credential providers (see s3_http.h). */
#include "io/s3/s3_http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <string.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    (void)curl_global_init(CURL_GLOBAL_DEFAULT);
}

void smg_s3_curl_init(void)
{
    pthread_once(&curl_once, curl_init_once);
}

static size_t to_buf(char *p, size_t size, size_t n, void *ctx)
{
    return smg_buf_append(ctx, p, size * n) == SMG_OK ? size * n : 0;
}

enum smg_status smg_s3_http_simple(const char *method, const char *url, const char *const *headers,
                                   long timeout_ms, struct smg_buf *body, long *status,
                                   struct smg_error *err)
{
    struct curl_slist *list = NULL;
    CURL *h;
    CURLcode cc;

    smg_s3_curl_init();
    if ((h = curl_easy_init()) == NULL)
        return smg_error_set(err, SMG_ENOMEM, "cannot start an HTTP request");
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        list = curl_slist_append(list, headers[i]);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, to_buf);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
    cc = curl_easy_perform(h);
    if (cc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    if (cc != CURLE_OK)
        return smg_error_set(err, SMG_EIO, "%s %s: %s", method, url, curl_easy_strerror(cc));
    return SMG_OK;
}

/*
 * One small HTTP exchange through libcurl, for the credential providers
 * (container, IMDS): method, URL, extra headers, a timeout, the body into a
 * buffer. Also the process-wide curl_global_init, done once.
 */
#ifndef SMG_S3_HTTP_H
#define SMG_S3_HTTP_H

#include "io/base/buffer.h"
#include "io/base/status.h"

/* curl_global_init once per process (thread-safe). */
void smg_s3_curl_init(void);

/*
 * headers: NULL-terminated list of "Name: value" (NULL entries end it).
 * SMG_OK with *status set when an HTTP answer came; SMG_EIO naming the URL
 * when none did within timeout_ms.
 */
SMG_MUST_CHECK enum smg_status smg_s3_http_simple(const char *method, const char *url,
                                                  const char *const *headers, long timeout_ms,
                                                  struct smg_buf *body, long *status,
                                                  struct smg_error *err);

#endif

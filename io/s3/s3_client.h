/*
 * The S3 client that the rest of smalgo uses: list a prefix, stream an
 * object, fetch a small object whole, upload a file. Requests are signed by
 * hand (sigv4.h), sent through libcurl, and retried as s3_request.h says;
 * settings and credentials come from the environment (s3_env.h). Every error
 * is a client error naming the s3:// URI and S3's own error code.
 */
#ifndef SMG_S3_CLIENT_H
#define SMG_S3_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "io/base/buffer.h"
#include "io/base/status.h"
#include "io/file_list.h"
#include "io/stream.h"

/* Bytes per ranged GET and per multipart part (8 MiB; SMALGO_S3_PART_MB overrides). */
size_t smg_s3_part_bytes(void);

/*
 * Append "s3://bucket/key" for every object under the prefix uri (ListObjectsV2,
 * all pages, key order), skipping folder markers (keys ending in '/').
 * SMALGO_S3_LIST_PAGE sets max-keys (tests use it to force paging).
 */
SMG_MUST_CHECK enum smg_status smg_s3_list(const char *uri, struct smg_file_list *out,
                                           struct smg_error *err);

/*
 * A stream over one object: ranged GETs of smg_s3_part_bytes(), two in
 * flight (the next part is fetched ahead while the current one is read),
 * each retried and resumed at the first byte not yet received. Memory is
 * bounded by two parts whatever the object's size.
 */
SMG_MUST_CHECK enum smg_status smg_s3_open_read(const char *uri, struct smg_stream **out,
                                                struct smg_error *err);

/* The whole object into body (at most max bytes, else SMG_EFORMAT naming it). */
SMG_MUST_CHECK enum smg_status smg_s3_get_all(const char *uri, size_t max, struct smg_buf *body,
                                              struct smg_error *err);

/*
 * Upload local file path to uri: one PUT up to one part, else a multipart
 * upload (parts of smg_s3_part_bytes(), each with its SHA-256), aborted on
 * any failure so that no partial object ever becomes visible.
 */
SMG_MUST_CHECK enum smg_status smg_s3_upload_file(const char *path, const char *uri,
                                                  struct smg_error *err);

#endif

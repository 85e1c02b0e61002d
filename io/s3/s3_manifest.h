/*
 * S3 channel sources: an s3:// prefix, an s3:// manifest object, or a
 * channel folder holding a manifest file. A manifest is SageMaker's
 * ManifestFile format (what the SageMaker Python SDK's record_set writes as
 * .amazon.manifest):
 *
 *     [{"prefix": "s3://bucket/some/prefix/"}, "key-suffix-1", "key-suffix-2", ...]
 *
 * Each object is prefix + suffix. The objects are taken in manifest order.
 * In a channel folder, every top-level file whose name ends in ".manifest"
 * (hidden or not, in name order) is a manifest; the folder must then hold no
 * other data file.
 */
#ifndef SMG_S3_MANIFEST_H
#define SMG_S3_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

#include "io/base/status.h"
#include "io/file_list.h"

#define SMG_S3_MANIFEST_MAX_BYTES ((size_t)256 << 20)

/* Parse manifest text (named where, for errors) and append its s3:// URIs to out. */
SMG_MUST_CHECK enum smg_status smg_s3_manifest_parse(const char *text, size_t len,
                                                     const char *where, struct smg_file_list *out,
                                                     struct smg_error *err);

/* The objects of an s3:// source: a prefix (listed) or a URI ending in ".manifest". */
SMG_MUST_CHECK enum smg_status smg_s3_scan(const char *uri, struct smg_file_list *out,
                                           struct smg_error *err);

/*
 * If folder dir holds manifests, append their objects to out and set *found.
 * *found stays false (and out untouched) when there is none.
 */
SMG_MUST_CHECK enum smg_status smg_s3_manifest_scan_folder(const char *dir,
                                                           struct smg_file_list *out, bool *found,
                                                           struct smg_error *err);

#endif

/*
 * The little XML that smalgo reads from S3: leaf elements of ListObjectsV2
 * (<Key>, <Size>, <IsTruncated>, <NextContinuationToken>), of errors (<Code>,
 * <Message>) and of CreateMultipartUpload (<UploadId>). Not a general XML
 * parser: it finds the next "<Name>text</Name>" at or after *pos (attributes
 * are not expected on these elements), checks that the text holds no markup,
 * and decodes the five predefined entities and numeric character references
 * (&#NN; &#xNN;, as UTF-8). Bounds are checked everywhere; input need not be
 * NUL-terminated.
 */
#ifndef SMG_S3_XML_H
#define SMG_S3_XML_H

#include <stddef.h>

#include "io/base/status.h"

/*
 * Find the next element called name in doc[*pos, len) and decode its text
 * into out (cap bytes, NUL-terminated). Returns SMG_OK and advances *pos past
 * the closing tag; SMG_EEOF when there is none; SMG_EFORMAT when the element
 * is not closed, holds markup or a bad entity, or does not fit in out.
 */
SMG_MUST_CHECK enum smg_status smg_s3_xml_next(const char *doc, size_t len, size_t *pos,
                                               const char *name, char *out, size_t cap);

/* Append text to a buffer escaped for XML character data (&, <, >, quotes). */
size_t smg_s3_xml_escape(const char *text, char *out, size_t cap);

#endif

/*
 * Fuzz target for the media-type parser: the first byte picks the direction
 * (training, request, response); the rest is parsed as one media type (as a
 * span, then NUL-terminated through the training and request front ends) and
 * as an Accept list. Checks: spans stay inside the input, a label_size is in
 * range, and the front ends agree with the parser on what is accepted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/infer_request.h"
#include "io/infer_response.h"
#include "io/media_type.h"
#include "io/rows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_span(const char *p, size_t n, const char *base, size_t size)
{
    if (p != NULL && (p < base || p + n > base + size))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned uses[3] = {SMG_MEDIA_TRAIN, SMG_MEDIA_REQUEST, SMG_MEDIA_RESPONSE};
    struct smg_media_type mt;
    struct smg_format fmt = {SMG_ROWS_RECORDIO_PROTOBUF, 1, 0, false, 0};
    struct smg_infer_format ifmt;
    const struct smg_codec *acc;
    const struct smg_media_entry *e;
    struct smg_error err;
    char *text;
    bool any;
    int rc;

    if (size < 1 || size > 4096)
        return 0;
    text = malloc(size);
    if (text == NULL)
        return 0;
    memcpy(text, data + 1, size - 1); /* a span without a NUL: the parser must stay inside */
    smg_error_clear(&err);
    rc = smg_media_type_parse(text, size - 1, uses[data[0] % 3], &mt, &err);
    check_span(mt.type, mt.type_len, text, size - 1);
    check_span(mt.bad_param, mt.bad_param_len, text, size - 1);
    if (rc == SMG_OK && mt.has_label_size && mt.label_size > SMG_MEDIA_MAX_LABEL_SIZE)
        abort();
    if (rc != SMG_OK && rc != SMG_ECONFIG)
        abort();
    text[size - 1] = '\0';
    if (strlen(text) == size - 1) { /* no NUL inside: the front ends see the same text */
        smg_error_clear(&err);
        rc = smg_media_type_parse(text, size - 1, SMG_MEDIA_REQUEST, &mt, &err);
        smg_error_clear(&err);
        if ((smg_infer_format_parse(text, &ifmt, &err) == SMG_OK) !=
            (rc == SMG_OK && mt.entry != NULL))
            abort();
        smg_error_clear(&err);
        rc = smg_format_parse_content_type(text, &fmt, &err);
        if (rc != SMG_OK && rc != SMG_ECONFIG)
            abort();
        if (fmt.rows != SMG_ROWS_CSV && fmt.rows != SMG_ROWS_RECORDIO_PROTOBUF)
            abort();
    }
    smg_media_accept_pick(text, SMG_MEDIA_RESPONSE, &e, &any);
    smg_error_clear(&err);
    if ((smg_infer_accept_parse(text, &acc, &err) == SMG_OK) != (e != NULL || !any))
        abort();
    free(text);
    return 0;
}

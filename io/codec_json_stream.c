/*
 * Decoding an application/json request one instance at a time (for
 * codec_json.c; contract: codec_util.h, smg_codec_json_decode).
 *
 * Why: a cJSON tree costs 60-100 bytes per number, so parsing a whole
 * request at once took 30-45x its size (a 6 MB body peaked at 268 MB). Here
 * cJSON parses one value at a time, straight from the body: the top-level
 * object's keys, then each element of the rows list. A first walk over the
 * list counts the rows and finds its end (each element parsed alone and
 * freed); the matrix is then allocated once and a second walk decodes each
 * instance into its row. At any moment the memory is the body, the matrix
 * and the tree of one instance.
 *
 * The forms are codec_json.c's: {"instances": [<instance>, ...]}, a bare list
 * of rows [[...], ...], or one bare row [1.5, 16.0]. A body whose first
 * instance is sparse ({"data": {"features": {"keys": ...}}}) is walked the
 * same way into CSR rows instead of a matrix (smg_codec_json_decode_csr), its
 * decoded size checked after each instance: never rows x d floats. Malformed JSON anywhere
 * is "request body is not valid JSON (error at byte N)"; text after the
 * document is ignored, as before.
 */
#include <string.h>

#include <cjson/cJSON.h>

#include "io/base/alloc.h"
#include "io/codec_util.h"

struct json_walk {
    const char *text, *end;
    size_t d, count;
    float *x;          /* dense rows being decoded; NULL on the counting walk */
    bool first_num;    /* the first element is a number: a bare row */
    bool first_sparse; /* the first element is a sparse instance */
    /* The CSR walk (smg_codec_json_decode_csr): rows appended to csr. */
    struct smg_csr_buf *csr;
    float *scratch; /* one dense instance's row, when there is one */
    size_t max_bytes;
};

static const char *blanks(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static enum smg_status not_json(const struct json_walk *w, const char *at, struct smg_error *err)
{
    size_t byte = at >= w->text && at <= w->end ? (size_t)(at - w->text) : 0;
    return smg_error_set(err, SMG_EFORMAT, "request body is not valid JSON (error at byte %zu)",
                         byte);
}

/* The one JSON value at *p, alone; *p moves past it. NULL (error set) if malformed. */
static cJSON *parse_one(const struct json_walk *w, const char **p, struct smg_error *err)
{
    const char *stop = NULL;
    cJSON *v;

    *p = blanks(*p, w->end);
    if (*p >= w->end) {
        (void)not_json(w, *p, err);
        return NULL;
    }
    v = cJSON_ParseWithLengthOpts(*p, (size_t)(w->end - *p), &stop, false);
    if (v == NULL) {
        (void)not_json(w, stop != NULL ? stop : *p, err);
        return NULL;
    }
    *p = stop;
    return v;
}

/* The list at *p ('[' expected): each element parsed alone; decoded when w->x is set. */
static enum smg_status walk_list(struct json_walk *w, const char **p, struct smg_error *err)
{
    size_t i = 0;

    *p = blanks(*p, w->end) + 1; /* past '[' */
    if (blanks(*p, w->end) < w->end && *blanks(*p, w->end) == ']') {
        *p = blanks(*p, w->end) + 1;
        w->count = 0;
        return SMG_OK;
    }
    for (;;) {
        enum smg_status rc = SMG_OK;
        cJSON *v = parse_one(w, p, err);
        if (v == NULL)
            return SMG_EFORMAT;
        if (i == 0) {
            w->first_num = cJSON_IsNumber(v);
            w->first_sparse = smg_codec_json_is_sparse(v);
        }
        if (w->x != NULL)
            rc = smg_codec_json_instance(v, "instance", i, w->d, w->x + i * w->d, err);
        else if (w->csr != NULL &&
                 (rc = smg_codec_json_instance_csr(v, "instance", i, w->d, &w->scratch, w->csr,
                                                   err)) == SMG_OK)
            rc = smg_codec_csr_check_cap(w->csr, w->max_bytes, "instance", err);
        cJSON_Delete(v);
        if (rc != SMG_OK)
            return rc;
        i++;
        *p = blanks(*p, w->end);
        if (*p < w->end && **p == ']')
            break;
        if (*p >= w->end || **p != ',')
            return not_json(w, *p, err);
        (*p)++;
    }
    (*p)++;
    w->count = i;
    return SMG_OK;
}

/* The top-level object at *p: the start of its "instances" value, or NULL; keys validated. */
static enum smg_status find_instances(struct json_walk *w, const char *p, const char **list,
                                      struct smg_error *err)
{
    *list = NULL;
    p = blanks(p, w->end) + 1; /* past '{' */
    if (blanks(p, w->end) < w->end && *blanks(p, w->end) == '}')
        return SMG_OK;
    for (;;) {
        const char *key_at = blanks(p, w->end);
        cJSON *key = parse_one(w, &p, err);
        bool is_instances;
        if (key == NULL)
            return SMG_EFORMAT;
        if (!cJSON_IsString(key)) { /* object keys are strings */
            cJSON_Delete(key);
            return not_json(w, key_at, err);
        }
        is_instances = strcmp(key->valuestring, "instances") == 0;
        cJSON_Delete(key);
        p = blanks(p, w->end);
        if (p >= w->end || *p != ':')
            return not_json(w, p, err);
        p = blanks(p + 1, w->end);
        if (is_instances && *list == NULL && p < w->end && *p == '[') {
            *list = p;
            enum smg_status rc = walk_list(w, &p, err); /* counts, and finds its end */
            if (rc != SMG_OK)
                return rc;
        } else {
            cJSON *v = parse_one(w, &p, err);
            if (v == NULL)
                return SMG_EFORMAT;
            cJSON_Delete(v);
        }
        p = blanks(p, w->end);
        if (p < w->end && *p == '}')
            return SMG_OK;
        if (p >= w->end || *p != ',')
            return not_json(w, p, err);
        p++;
    }
}

/* The list of rows at list: counted already (w->count); allocate and decode. */
static enum smg_status decode_rows(struct json_walk *w, const char *list, const char *what,
                                   size_t max_rows, struct smg_error *err)
{
    const char *p = list;

    if (w->count == 0)
        return smg_error_set(err, SMG_EFORMAT, "'%s' is empty: request has no rows", what);
    if (w->count > max_rows)
        return smg_error_set(err, SMG_EFORMAT,
                             "request has %zu instances, more than the %zu this server accepts",
                             w->count, max_rows);
    if ((w->x = smg_codec_alloc_rows(w->count, w->d, err)) == NULL)
        return SMG_ENOMEM;
    return walk_list(w, &p, err);
}

/* One bare row [1.5, 16.0]: small, so parsed whole. */
static enum smg_status decode_bare_row(struct json_walk *w, const char *list, struct smg_error *err)
{
    const char *p = list;
    cJSON *row = parse_one(w, &p, err);
    enum smg_status rc;

    if (row == NULL)
        return SMG_EFORMAT;
    if ((w->x = smg_codec_alloc_rows(1, w->d, err)) == NULL) {
        cJSON_Delete(row);
        return SMG_ENOMEM;
    }
    rc = smg_codec_json_dense(row, "row", "instance", 0, w->d, w->x, err);
    cJSON_Delete(row);
    w->count = 1;
    return rc;
}

enum smg_status smg_codec_json_decode(const char *text, size_t len, size_t d, size_t max_rows,
                                      float **rows_out, size_t *nrows, struct smg_error *err)
{
    struct json_walk w = {text, text + len, d, 0, NULL, false, false, NULL, NULL, 0};
    const char *p = blanks(text, w.end), *list = NULL;
    enum smg_status rc;

    if (p < w.end && *p == '{') {
        rc = find_instances(&w, p, &list, err);
        if (rc == SMG_OK && list == NULL)
            rc = smg_error_set(err, SMG_EFORMAT,
                               "JSON request must be an object with an 'instances' array");
        if (rc == SMG_OK)
            rc = decode_rows(&w, list, "instances", max_rows, err);
    } else if (p < w.end && *p == '[') {
        const char *q = p;
        rc = walk_list(&w, &q, err);
        if (rc == SMG_OK && w.count > 0 && w.first_num)
            rc = decode_bare_row(&w, p, err);
        else if (rc == SMG_OK)
            rc = decode_rows(&w, p, "instances", max_rows, err);
    } else {
        cJSON *v = parse_one(&w, &p, err); /* a valid scalar is the wrong shape; else malformed */
        rc = v == NULL ? SMG_EFORMAT
                       : smg_error_set(err, SMG_EFORMAT,
                                       "JSON request must be an object with an 'instances' array");
        cJSON_Delete(v);
    }
    if (rc != SMG_OK) {
        smg_free(w.x);
        return rc;
    }
    *rows_out = w.x;
    *nrows = w.count;
    return SMG_OK;
}

/* Whether "keys" occurs in text: no sparse instance without it. */
bool smg_codec_json_mentions_keys(const char *text, size_t len)
{
    static const char needle[] = "\"keys\"";
    const size_t n = sizeof(needle) - 1;

    for (size_t i = 0; i + n <= len; i++)
        if (text[i] == '"' && memcmp(text + i, needle, n) == 0)
            return true;
    return false;
}

/* The rows list of a JSON body and its count, or NULL when there is none to take as CSR. */
static const char *rows_list(struct json_walk *w)
{
    const char *p = blanks(w->text, w->end), *list = NULL;
    struct smg_error ignored; /* the dense decoder reports a malformed body */

    if (p < w->end && *p == '{') {
        if (find_instances(w, p, &list, &ignored) != SMG_OK)
            return NULL;
    } else if (p < w->end && *p == '[') {
        const char *q = p;
        if (walk_list(w, &q, &ignored) != SMG_OK || w->first_num)
            return NULL;
        list = p;
    }
    return list != NULL && w->count > 0 && w->first_sparse ? list : NULL;
}

enum smg_status smg_codec_json_decode_csr(const char *text, size_t len, size_t d, size_t max_bytes,
                                          struct smg_csr_buf *out, bool *sparse,
                                          struct smg_error *err)
{
    struct json_walk w = {text, text + len, d, 0, NULL, false, false, NULL, NULL, max_bytes};
    const char *list;
    enum smg_status rc;

    *sparse = false;
    if (!smg_codec_json_mentions_keys(text, len) || (list = rows_list(&w)) == NULL)
        return SMG_OK;
    *sparse = true;
    if ((rc = smg_csr_buf_init(out, w.count, err)) == SMG_OK) {
        w.csr = out;
        rc = walk_list(&w, &list, err);
    }
    smg_free(w.scratch);
    if (rc != SMG_OK)
        smg_csr_buf_free(out);
    return rc;
}

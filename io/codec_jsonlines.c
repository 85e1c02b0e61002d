/*
 * The application/jsonlines codec (codec.h); application/x-jsonlines is an
 * alias row in the table.
 *
 * Requests: one instance per line, each as application/json's instances are
 * (codec_json_instance.c); blank lines are skipped. Lines are counted first so
 * the matrix is allocated once and the row limit is checked before any
 * parsing. Errors name the 1-based line. A body whose first instance is
 * sparse decodes to CSR rows instead (decode_csr), never densified. Responses: one JSON object per
 * row and a newline ({"closest_cluster": 2.0, "distance_to_cluster": 0.5}\n).
 */
#include "io/codec.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "io/base/alloc.h"
#include "io/codec_util.h"

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

/* Non-blank lines of body[0..len). */
static size_t count_lines(const char *p, const char *end)
{
    size_t lines = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (!blank(p, (size_t)(le - p)))
            lines++;
        p = nl ? nl + 1 : end;
    }
    return lines;
}

/* Line line_no, p[0..ln), non-blank, parsed into *obj (cJSON_Delete it), or an error. */
static enum smg_status parse_line(const char *p, size_t ln, size_t line_no, cJSON **obj,
                                  struct smg_error *err)
{
    const char *le = p + ln, *pe = NULL;

    *obj = cJSON_ParseWithLengthOpts(p, ln, &pe, false);
    if (*obj == NULL)
        return smg_error_set(err, SMG_EFORMAT,
                             "line %zu: not valid JSON (error at byte %zu of the line)", line_no,
                             (pe >= p && pe <= le) ? (size_t)(pe - p) : 0);
    if (pe != NULL && pe < le && !blank(pe, (size_t)(le - pe)))
        return smg_error_set(err, SMG_EFORMAT,
                             "line %zu: unexpected text after the JSON object at byte %zu", line_no,
                             (size_t)(pe - p));
    return SMG_OK;
}

/* Line line_no, p[0..ln), non-blank: one instance into row. */
static enum smg_status decode_line(const char *p, size_t ln, size_t line_no, size_t d, float *row,
                                   struct smg_error *err)
{
    cJSON *obj;
    enum smg_status rc = parse_line(p, ln, line_no, &obj, err);

    if (rc == SMG_OK)
        rc = smg_codec_json_instance(obj, "line", line_no, d, row, err);
    cJSON_Delete(obj);
    return rc;
}

static enum smg_status decode(const void *body, size_t len, size_t label_size, size_t d,
                              size_t max_rows, float **rows_out, size_t *nrows,
                              struct smg_error *err)
{
    const char *p = body, *end = p + len;
    size_t n = 0, line_no = 0, lines = count_lines(p, end);
    enum smg_status rc = SMG_OK;
    float *x;

    (void)label_size;
    if (lines == 0)
        return smg_error_set(err, SMG_EFORMAT, "request body has no JSON lines");
    if (lines > max_rows)
        return smg_error_set(err, SMG_EFORMAT,
                             "request has %zu lines, more than the %zu this server accepts", lines,
                             max_rows);
    if ((x = smg_codec_alloc_rows(lines, d, err)) == NULL)
        return SMG_ENOMEM;
    while (p < end && rc == SMG_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ln = (size_t)((nl ? nl : end) - p);

        line_no++;
        if (!blank(p, ln))
            rc = decode_line(p, ln, line_no, d, x + n++ * d, err);
        p = nl ? nl + 1 : end;
    }
    if (rc == SMG_OK) {
        *rows_out = x;
        *nrows = n;
        x = NULL;
    }
    smg_free(x);
    return rc;
}

/* One JSON object and a newline (the row bound leaves room for it). */
/* The first non-blank line of p[0..end) parsed, or NULL (blank body, or not JSON). */
static cJSON *first_instance(const char *p, const char *end)
{
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ln = (size_t)((nl ? nl : end) - p);
        if (!blank(p, ln))
            return cJSON_ParseWithLengthOpts(p, ln, NULL, false);
        p = nl ? nl + 1 : end;
    }
    return NULL;
}

/* Line line_no, p[0..ln), non-blank: one instance appended to out as a CSR row. */
static enum smg_status csr_line(const char *p, size_t ln, size_t line_no, size_t d, float **scratch,
                                struct smg_csr_buf *out, struct smg_error *err)
{
    cJSON *obj;
    enum smg_status rc = parse_line(p, ln, line_no, &obj, err);

    if (rc == SMG_OK)
        rc = smg_codec_json_instance_csr(obj, "line", line_no, d, scratch, out, err);
    cJSON_Delete(obj);
    return rc;
}

enum smg_status smg_codec_jsonlines_decode_csr(const char *text, size_t len, size_t d,
                                               size_t max_bytes, struct smg_csr_buf *out,
                                               bool *sparse, struct smg_error *err)
{
    const char *p = text, *end = text + len;
    size_t line_no = 0;
    float *scratch = NULL;
    cJSON *first;
    enum smg_status rc;

    *sparse = false;
    if (!smg_codec_json_mentions_keys(text, len) || (first = first_instance(p, end)) == NULL)
        return SMG_OK;
    *sparse = smg_codec_json_is_sparse(first);
    cJSON_Delete(first);
    if (!*sparse)
        return SMG_OK;
    rc = smg_csr_buf_init(out, 64, err);
    while (rc == SMG_OK && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t ln = (size_t)((nl ? nl : end) - p);

        line_no++;
        if (!blank(p, ln) && (rc = csr_line(p, ln, line_no, d, &scratch, out, err)) == SMG_OK)
            rc = smg_codec_csr_check_cap(out, max_bytes, "line", err);
        p = nl ? nl + 1 : end;
    }
    smg_free(scratch);
    if (rc != SMG_OK)
        smg_csr_buf_free(out);
    return rc;
}

static enum smg_status decode_csr(const void *body, size_t len, size_t d, size_t max_bytes,
                                  struct smg_csr_buf *out, bool *sparse, struct smg_error *err)
{
    return smg_codec_jsonlines_decode_csr(body, len, d, max_bytes, out, sparse, err);
}

static void put_line(struct smg_buf *b, const struct smg_infer_result *res, size_t r)
{
    smg_codec_put_json_row(b, res, r);
    smg_codec_put(b, "\n", 1);
}

static enum smg_status encode(const struct smg_infer_result *res, struct smg_buf *out,
                              struct smg_error *err)
{
    return smg_codec_put_rows(out, res, "", put_line, err);
}

const struct smg_codec smg_codec_jsonlines = {
    .mime = "application/jsonlines",
    .label_size = false,
    .rows = SMG_ROWS_NONE,
    .decode = decode,
    .decode_csr = decode_csr,
    .encode = encode,
};

/* The InfluxDB output: POST URL/write?db=DB[&rp=RP]&precision=P, one
 * batch per request, gzip'ed (Content-Encoding: gzip) unless turned off,
 * with basic authentication when a user is set. One libcurl handle, kept
 * alive between requests.
 *
 * What an answer means:
 *   2xx                      delivered
 *   400 "partial write ...   delivered but for N lines InfluxDB names
 *        dropped=N"          (e.g. a field type conflict): N refused
 *   400 otherwise, 413, and
 *   other 4xx                split in halves, each written again, down
 *                            to single lines: the lines refused alone
 *                            are refused (retrying cannot help them)
 *   404 database not found   CREATE DATABASE (create_db), then retry
 *   401, 403, 408, 429, 5xx,
 *   no answer                retried with backoff (the batch is kept)
 */
#include "agent/agent.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct influx {
    CURL *curl;
    struct curl_slist *headers;
    char *write_url;
    char *query_url;
    char db[256];
    int gzip, create_db;
    unsigned char *gz;
    size_t gzcap;
    char resp[1024];
    size_t resp_len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    influx *o = arg;
    size_t len = size * n, room = sizeof o->resp - 1 - o->resp_len;
    size_t take = len < room ? len : room;

    memcpy(o->resp + o->resp_len, p, take);
    o->resp_len += take;
    o->resp[o->resp_len] = '\0';
    return len;
}

/* one line, printable */
static void clean(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7F)
            *s = ' ';
}

static char *join_url(CURL *c, const char *base, const char *path,
                      const char *db, const char *rp, const char *precision)
{
    char *edb = curl_easy_escape(c, db, 0);
    char *erp = rp[0] ? curl_easy_escape(c, rp, 0) : NULL;
    size_t n = strlen(base) + strlen(path) + (edb ? strlen(edb) : 0) +
               (erp ? strlen(erp) : 0) + 64;
    char *url = malloc(n);
    size_t blen = strlen(base);

    if (url != NULL && edb != NULL) {
        while (blen > 0 && base[blen - 1] == '/')
            blen--;
        snprintf(url, n, "%.*s%s?db=%s%s%s%s%s", (int)blen, base, path, edb,
                 erp ? "&rp=" : "", erp ? erp : "",
                 precision ? "&precision=" : "", precision ? precision : "");
    } else {
        free(url);
        url = NULL;
    }
    curl_free(edb);
    curl_free(erp);
    return url;
}

influx *influx_open(const agent_config *cfg, char *err, size_t errlen)
{
    influx *o = calloc(1, sizeof *o);

    if (o == NULL || curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
        (o->curl = curl_easy_init()) == NULL) {
        snprintf(err, errlen, "cannot start libcurl");
        free(o);
        return NULL;
    }
    o->write_url = join_url(o->curl, cfg->influx_url, "/write", cfg->db,
                            cfg->rp, cfg->precision);
    o->query_url = join_url(o->curl, cfg->influx_url, "/query", cfg->db, "",
                            NULL);
    if (o->write_url == NULL || o->query_url == NULL) {
        snprintf(err, errlen, "out of memory");
        influx_close(o);
        return NULL;
    }
    snprintf(o->db, sizeof o->db, "%s", cfg->db);
    o->gzip = cfg->gzip;
    o->create_db = cfg->create_db;
    o->headers = curl_slist_append(NULL, "Content-Type: text/plain; "
                                         "charset=utf-8");
    if (o->gzip)
        o->headers = curl_slist_append(o->headers, "Content-Encoding: gzip");
    curl_easy_setopt(o->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(o->curl, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    curl_easy_setopt(o->curl, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(cfg->timeout_ms < 5000 ? cfg->timeout_ms : 5000));
    curl_easy_setopt(o->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(o->curl, CURLOPT_WRITEDATA, o);
    curl_easy_setopt(o->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(o->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (cfg->username[0]) {
        curl_easy_setopt(o->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(o->curl, CURLOPT_USERNAME, cfg->username);
        curl_easy_setopt(o->curl, CURLOPT_PASSWORD, cfg->password);
    }
    return o;
}

/* gzip data into o->gz; its length, or 0 on failure */
static size_t compress_gzip(influx *o, const char *data, size_t len)
{
    z_stream z;
    size_t need;

    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return 0;
    need = deflateBound(&z, (uLong)len) + 64;
    if (need > o->gzcap) {
        unsigned char *g = realloc(o->gz, need);
        if (g == NULL) {
            deflateEnd(&z);
            return 0;
        }
        o->gz = g;
        o->gzcap = need;
    }
    z.next_in = (unsigned char *)data;
    z.avail_in = (uInt)len;
    z.next_out = o->gz;
    z.avail_out = (uInt)o->gzcap;
    int rc = deflate(&z, Z_FINISH);
    size_t out = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? out : 0;
}

/* POST body to url; the HTTP status, or -1 with err */
static long post(influx *o, const char *url, const void *body, size_t len,
                 struct curl_slist *headers, char *err, size_t errlen)
{
    long code = 0;
    CURLcode rc;

    o->resp_len = 0;
    o->resp[0] = '\0';
    curl_easy_setopt(o->curl, CURLOPT_URL, url);
    curl_easy_setopt(o->curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(o->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(o->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    rc = curl_easy_perform(o->curl);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(o->curl, CURLINFO_RESPONSE_CODE, &code);
    clean(o->resp);
    return code;
}

static int create_database(influx *o, char *err, size_t errlen)
{
    char q[600], *body;
    size_t k = 0;
    char quoted[520];

    /* "db" with " and \ escaped, as an InfluxQL identifier */
    for (const char *p = o->db; *p && k + 3 < sizeof quoted; p++) {
        if (*p == '"' || *p == '\\')
            quoted[k++] = '\\';
        quoted[k++] = *p;
    }
    quoted[k] = '\0';
    snprintf(q, sizeof q, "CREATE DATABASE \"%s\"", quoted);
    body = curl_easy_escape(o->curl, q, 0);
    if (body == NULL)
        return -1;
    char *form = malloc(strlen(body) + 3);
    if (form == NULL) {
        curl_free(body);
        return -1;
    }
    sprintf(form, "q=%s", body);
    curl_free(body);
    long code = post(o, o->query_url, form, strlen(form), NULL, err, errlen);
    free(form);
    return code >= 200 && code < 300 ? 0 : -1;
}

/* "dropped=N" in a partial write answer */
static int partial_dropped(const char *resp, uint64_t *n)
{
    const char *p = strstr(resp, "partial write");
    const char *d;

    if (p == NULL || (d = strstr(p, "dropped=")) == NULL)
        return 0;
    *n = strtoull(d + 8, NULL, 10);
    return 1;
}

/* One request for the lines in data. */
static int write_once(influx *o, const char *data, size_t len,
                      uint64_t lines, uint64_t *refused, char *err,
                      size_t errlen)
{
    const void *body = data;
    size_t blen = len;
    long code = 0;

    *refused = 0;
    if (o->gzip) {
        blen = compress_gzip(o, data, len);
        if (blen == 0) {
            snprintf(err, errlen, "gzip failed");
            return 1;
        }
        body = o->gz;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        code = post(o, o->write_url, body, blen, o->headers, err, errlen);
        if (code < 0)
            return 1;
        if (code >= 200 && code < 300)
            return 0;
        if (code == 404 && o->create_db && attempt == 0 &&
            strstr(o->resp, "database not found") != NULL) {
            if (create_database(o, err, errlen) == 0)
                continue;
            snprintf(err, errlen, "database not found, and CREATE DATABASE "
                     "failed: %s", o->resp);
            return 1;
        }
        break;
    }
    snprintf(err, errlen, "HTTP %ld: %s", code, o->resp);
    if (code == 400 && partial_dropped(o->resp, refused)) {
        if (*refused > lines)
            *refused = lines;
        return 0;
    }
    if (code == 401 || code == 403 || code == 404 || code == 408 ||
        code == 429 || code >= 500 || code < 200)
        return 1;
    *refused = lines;
    return 2;
}

/* A batch refused whole (e.g. a field type conflict inside it, which
 * InfluxDB 1.x reports without a count, or too large) is split in two
 * and each half written, down to single lines, so only the lines InfluxDB
 * refuses are lost. Points are idempotent: writing one twice is harmless. */
static int write_split(influx *o, const char *data, size_t len,
                       uint64_t lines, uint64_t *refused, char *err,
                       size_t errlen, int depth)
{
    int rc = write_once(o, data, len, lines, refused, err, errlen);

    if (rc != 2 || lines < 2 || depth > 40)
        return rc;
    /* the line boundary nearest the middle line */
    uint64_t half = lines / 2, seen = 0;
    size_t cut = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n' && ++seen == half) {
            cut = i + 1;
            break;
        }
    }
    if (cut == 0 || cut >= len)
        return rc;
    uint64_t r1 = 0, r2 = 0;
    int a = write_split(o, data, cut, half, &r1, err, errlen, depth + 1);
    if (a == 1)
        return 1;
    int b = write_split(o, data + cut, len - cut, lines - half, &r2, err,
                        errlen, depth + 1);
    if (b == 1)
        return 1;
    *refused = r1 + r2;
    return *refused == lines ? 2 : 0;
}

int influx_write(influx *o, const char *data, size_t len, uint64_t lines,
                 uint64_t *refused, char *err, size_t errlen)
{
    return write_split(o, data, len, lines, refused, err, errlen, 0);
}

void influx_close(influx *o)
{
    if (o == NULL)
        return;
    if (o->curl)
        curl_easy_cleanup(o->curl);
    curl_slist_free_all(o->headers);
    free(o->write_url);
    free(o->query_url);
    free(o->gz);
    free(o);
}

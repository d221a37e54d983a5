/* SPDX-License-Identifier: Apache-2.0
 *
 * Read-side helpers on a parsed request: parameter, query and header
 * lookup, the JSON content-type test, and body parsing with a diagnostic
 * that names the line and column. Building the request from the wire is
 * server.c's job.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/http_int.h"
#include "http/wd_http.h"
#include "util/wd_limits.h"
#include "warden/err.h"

static const char *kv_find(const wd_http_kv *kv, size_t n, const char *name, int nocase) {
  if (!name) return NULL;
  for (size_t i = 0; i < n; i++) {
    int eq = nocase ? strcasecmp(kv[i].name, name) == 0 : strcmp(kv[i].name, name) == 0;
    if (eq) return kv[i].value;
  }
  return NULL;
}

const char *wd_http_param(const wd_http_req *req, const char *name) {
  return kv_find(req->params, req->nparams, name, 0);
}

const char *wd_http_query(const wd_http_req *req, const char *name) {
  return kv_find(req->query, req->nquery, name, 0);
}

const char *wd_http_header(const wd_http_req *req, const char *name) {
  return kv_find(req->headers, req->nheaders, name, 1);
}

/* host [":" port], host a name, an IPv4 address or a bracketed IPv6
 * one: nothing that could carry a path, query, user or second host. */
static int host_ok(const char *h) {
  const char *p = h;
  if (*p == '[') {
    for (p++; isxdigit((unsigned char)*p) || *p == ':' || *p == '.'; p++) {
    }
    if (*p++ != ']' || p == h + 2) return 0;
  } else {
    for (; isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~'; p++) {
    }
    if (p == h) return 0;
  }
  if (*p == ':') {
    const char *digits = ++p;
    while (isdigit((unsigned char)*p))
      p++;
    if (p == digits || p - digits > 5) return 0;
  }
  return *p == '\0' && p - h <= 255;
}

int wd_http__headers_ok(const wd_http_req *req, const char **name, const char **why) {
  /* Headers a credential or the body's meaning hangs on: a second copy
   * would leave two readers free to disagree (RFC 9449 section 4.3 for
   * DPoP). */
  static const char *const single[] = {"Host", "Authorization", "DPoP", "Content-Type",
                                       "Content-Length"};
  for (size_t k = 0; k < sizeof single / sizeof single[0]; k++) {
    int seen = 0;
    for (size_t i = 0; i < req->nheaders; i++)
      seen += strcasecmp(req->headers[i].name, single[k]) == 0;
    if (seen > 1) {
      *name = single[k];
      *why = "header given more than once";
      return 0;
    }
  }
  const char *host = wd_http_header(req, "Host");
  if (host && !host_ok(host)) {
    *name = "Host";
    *why = "invalid Host header: want host[:port]";
    return 0;
  }
  if (req->nquery > WD_LIMIT_HTTP_QUERY_ARGS) {
    *name = NULL;
    *why = "too many query parameters";
    return 0;
  }
  /* A repeated query argument: the handler reads the first, a proxy or
   * a log may read another. */
  for (size_t i = 0; i < req->nquery; i++)
    for (size_t j = 0; j < i; j++)
      if (strcmp(req->query[i].name, req->query[j].name) == 0) {
        *name = req->query[i].name;
        *why = "query parameter given more than once";
        return 0;
      }
  return 1;
}

size_t wd_http__unescape(void *cls, struct MHD_Connection *c, char *s) {
  (void)cls;
  (void)c;
  char *out = s;
  for (const char *in = s; *in; in++) {
    /* %00 stays as it is: decoded, it would cut the path short. */
    if (in[0] == '%' && isxdigit((unsigned char)in[1]) && isxdigit((unsigned char)in[2]) &&
        !(in[1] == '0' && in[2] == '0')) {
      char hex[3] = {in[1], in[2], '\0'};
      *out++ = (char)strtol(hex, NULL, 16);
      in += 2;
    } else {
      *out++ = *in;
    }
  }
  *out = '\0';
  return (size_t)(out - s);
}

int wd_http_is_json_type(const char *ct) {
  if (!ct) return 0;
  while (*ct == ' ' || *ct == '\t')
    ct++;
  static const char want[] = "application/json";
  size_t n = sizeof want - 1;
  if (strncasecmp(ct, want, n) != 0) return 0;
  char c = ct[n];
  return c == '\0' || c == ';' || c == ' ' || c == '\t';
}

int wd_http_parse_json_body(const char *body, size_t len, json_t **out, wd_http_json_err *err) {
  *out = NULL;
  memset(err, 0, sizeof *err);
  if (len > WD_LIMIT_HTTP_BODY_BYTES) {
    snprintf(err->message, sizeof err->message, "body exceeds %u bytes", WD_LIMIT_HTTP_BODY_BYTES);
    return -WD_E_TOOBIG;
  }
  json_error_t je;
  memset(&je, 0, sizeof je);
  /* Any JSON value, not only a container: a scalar is valid JSON, so it is
   * the handler's object check that refuses it (bad_request), not a
   * malformed_json that would tell the client its JSON is broken. */
  json_t *v = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
  if (!v) {
    err->line = je.line > 0 ? je.line : 0;
    err->column = je.column > 0 ? je.column : 0;
    snprintf(err->message, sizeof err->message, "%s", je.text);
    return -WD_E_JSON;
  }
  *out = v;
  return 0;
}

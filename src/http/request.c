/* SPDX-License-Identifier: Apache-2.0
 *
 * Read-side helpers on a parsed request: parameter, query and header
 * lookup, the JSON content-type test, and body parsing with a diagnostic
 * that names the line and column. Building the request from the wire is
 * server.c's job.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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
  json_t *v = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
  if (!v) {
    err->line = je.line > 0 ? je.line : 0;
    err->column = je.column > 0 ? je.column : 0;
    snprintf(err->message, sizeof err->message, "%s", je.text);
    return -WD_E_JSON;
  }
  *out = v;
  return 0;
}

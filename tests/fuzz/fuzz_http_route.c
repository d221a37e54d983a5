/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target for the HTTP layer's pure parts: route matching and JSON body
 * handling. Input: "METHOD PATH\n" then the body. Invariants: a match has a
 * valid index whose route accepts the method, every captured parameter is
 * non-empty and free of '/', a 405 has a non-empty Allow list, and a body
 * either parses or carries a diagnostic.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/wd_http.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int nop(wd_http_req *req, wd_http_resp *resp, void *svc) {
  (void)req;
  (void)resp;
  (void)svc;
  return 0;
}

static const wd_http_route T[] = {
    {"GET", "/healthz", nop, WD_HTTP_AUTH_NONE},
    {"GET", "/v1/agents", nop, WD_HTTP_AUTH_ADMIN},
    {"POST", "/v1/agents", nop, WD_HTTP_AUTH_ADMIN},
    {"GET", "/v1/agents/{id}", nop, WD_HTTP_AUTH_ADMIN},
    {"POST", "/v1/agents/{id}/quarantine", nop, WD_HTTP_AUTH_ADMIN},
    {"POST", "/v1/tasks/{task}/calls/{call}", nop, WD_HTTP_AUTH_AGENT},
    {"POST", "/v1/authorize", nop, WD_HTTP_AUTH_AGENT},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size);
  size_t head = nl ? (size_t)(nl - data) : size;
  char *line = wd_strndup((const char *)data, head);
  wd_arena *a = wd_arena_new(1 << 20);
  if (!line || !a) goto out;
  char *sp = strchr(line, ' ');
  const char *method = line, *path = "";
  if (sp) {
    *sp = '\0';
    path = sp + 1;
  }
  size_t n = sizeof T / sizeof T[0];
  if (wd_http_routes_check(T, n) != 0) abort();
  wd_http_match m;
  int rc = wd_http_route_find(T, n, method, path, a, &m);
  if (rc == 0) {
    if (m.index < 0 || (size_t)m.index >= n) abort();
    const char *rm = T[m.index].method;
    if (strcmp(rm, method) != 0 && !(strcmp(rm, "GET") == 0 && strcmp(method, "HEAD") == 0))
      abort();
    for (size_t i = 0; i < m.nparams; i++)
      if (!m.params[i].value[0] || strchr(m.params[i].value, '/')) abort();
  } else if (rc == -WD_E_INVAL) {
    if (!m.allow[0] || m.index != -1) abort();
  } else if (rc != -WD_E_NOTFOUND && rc != -WD_E_NOMEM) {
    abort();
  }
  if (nl) {
    const char *body = (const char *)nl + 1;
    size_t blen = size - head - 1;
    json_t *j = NULL;
    wd_http_json_err je;
    rc = wd_http_parse_json_body(body, blen, &j, &je);
    if (rc == 0 && !j) abort();
    if (rc == -WD_E_JSON && (j || !je.message[0])) abort();
    json_decref(j);
    (void)wd_http_is_json_type(line);
  }
out:
  wd_arena_free(a);
  wd_free(line);
  return 0;
}

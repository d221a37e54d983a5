/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target for what the HTTP layer reads off a request head before any
 * route sees it: the header rules (repeated credential headers, the Host
 * form) and the percent-decoding of the path. Input: the path on the
 * first line, then "Name: value" lines. Invariants: decoding never grows
 * the text, never yields a NUL inside it, and keeps every "%00"; an
 * accepted Host has no character that could carry a path, query, user or
 * second host.
 */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "util/wd_alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_HEADERS 16

static size_t count(const char *s, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = wd_strndup((const char *)data, size);
  if (!text) return 0;
  char *save = NULL, *path = strtok_r(text, "\n", &save);
  if (path) {
    size_t before = strlen(path), nul_escapes = count(path, "%00");
    char *copy = wd_strndup(path, before);
    if (copy) {
      size_t after = wd_http__unescape(NULL, NULL, copy);
      if (after > before || strlen(copy) != after || count(copy, "%00") < nul_escapes) abort();
      wd_free(copy);
    }
  }
  wd_http_kv kv[MAX_HEADERS];
  size_t n = 0;
  for (char *line = strtok_r(NULL, "\n", &save); line && n < MAX_HEADERS;
       line = strtok_r(NULL, "\n", &save)) {
    char *colon = strchr(line, ':');
    if (!colon) continue;
    *colon = '\0';
    kv[n].name = line;
    kv[n].value = colon + 1 + (colon[1] == ' ');
    n++;
  }
  wd_http_req req;
  memset(&req, 0, sizeof req);
  req.headers = kv;
  req.nheaders = n;
  const char *name = NULL, *why = NULL;
  if (wd_http__headers_ok(&req, &name, &why)) {
    const char *host = wd_http_header(&req, "Host");
    if (host && strpbrk(host, "/?#@ \t\\")) abort();
  } else if (!name || !why) {
    abort();
  }
  wd_free(text);
  return 0;
}

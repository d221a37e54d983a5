/* SPDX-License-Identifier: Apache-2.0
 *
 * Route matching over a table of {method, pattern}. Patterns are split into
 * '/'-separated segments; a "{name}" segment captures one non-empty path
 * segment. Pure string work on caller memory and an arena, so the fuzzer can
 * drive it without a socket. Not the dispatcher: that is server.c.
 */
#include <stddef.h>
#include <string.h>

#include "http/wd_http.h"
#include "util/wd_limits.h"
#include "warden/err.h"

/* A slice of a path or pattern. */
typedef struct seg {
  const char *p;
  size_t n;
} seg;

/* Splits "/a/b" into segments; the leading '/' is required. A trailing
 * slash yields a final empty segment, so "/a/" does not match "/a". */
static int split(const char *s, seg *out, size_t *n) {
  if (s[0] != '/') return -WD_E_INVAL;
  size_t k = 0;
  const char *p = s + 1;
  for (;;) {
    if (k == WD_LIMIT_HTTP_PATH_SEGMENTS) return -WD_E_TOOBIG;
    const char *e = strchr(p, '/');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    out[k].p = p;
    out[k].n = len;
    k++;
    if (!e) break;
    p = e + 1;
  }
  *n = k;
  return 0;
}

static int is_param(const seg *s) { return s->n >= 3 && s->p[0] == '{' && s->p[s->n - 1] == '}'; }

static int valid_param_name(const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char c = p[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
             (i > 0 && c >= '0' && c <= '9');
    if (!ok) return 0;
  }
  return n > 0;
}

int wd_http_routes_check(const wd_http_route *routes, size_t n) {
  if (n > WD_LIMIT_HTTP_ROUTES) return -WD_E_TOOBIG;
  if (n > 0 && !routes) return -WD_E_INVAL;
  seg segs[WD_LIMIT_HTTP_PATH_SEGMENTS];
  for (size_t i = 0; i < n; i++) {
    const wd_http_route *r = &routes[i];
    if (!r->method || !r->method[0] || !r->pattern || !r->handler) return -WD_E_INVAL;
    size_t ns = 0;
    int rc = split(r->pattern, segs, &ns);
    if (rc < 0) return rc;
    for (size_t k = 0; k < ns; k++) {
      if (memchr(segs[k].p, '{', segs[k].n) || memchr(segs[k].p, '}', segs[k].n)) {
        if (!is_param(&segs[k]) || !valid_param_name(segs[k].p + 1, segs[k].n - 2))
          return -WD_E_INVAL;
      }
    }
  }
  return 0;
}

/* Matches path segments against one pattern; on success fills params
 * (arena-owned) when arena is given. Returns 1 on match, 0 on mismatch,
 * -WD_E_NOMEM. */
static int match_one(const char *pattern, const seg *ps, size_t nps, wd_arena *arena,
                     wd_http_kv **params, size_t *nparams) {
  seg pat[WD_LIMIT_HTTP_PATH_SEGMENTS];
  size_t npat = 0;
  if (split(pattern, pat, &npat) < 0 || npat != nps) return 0;
  size_t ncap = 0;
  for (size_t k = 0; k < npat; k++) {
    if (is_param(&pat[k])) {
      if (ps[k].n == 0) return 0;
      ncap++;
    } else if (pat[k].n != ps[k].n || memcmp(pat[k].p, ps[k].p, ps[k].n) != 0) {
      return 0;
    }
  }
  if (!arena) return 1;
  wd_http_kv *kv = ncap ? wd_arena_calloc(arena, ncap, sizeof *kv) : NULL;
  if (ncap && !kv) return -WD_E_NOMEM;
  size_t j = 0;
  for (size_t k = 0; k < npat; k++) {
    if (!is_param(&pat[k])) continue;
    kv[j].name = wd_arena_strndup(arena, pat[k].p + 1, pat[k].n - 2);
    kv[j].value = wd_arena_strndup(arena, ps[k].p, ps[k].n);
    if (!kv[j].name || !kv[j].value) return -WD_E_NOMEM;
    j++;
  }
  *params = kv;
  *nparams = ncap;
  return 1;
}

static int method_is(const char *route_method, const char *method) {
  if (strcmp(route_method, method) == 0) return 1;
  return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

/* Appends m to the Allow list unless it is already there or would not fit. */
static void allow_add(char *allow, size_t cap, const char *m) {
  size_t len = strlen(allow), ml = strlen(m);
  const char *p = allow;
  while ((p = strstr(p, m)) != NULL) {
    int start = p == allow || p[-1] == ' ';
    int end = p[ml] == '\0' || p[ml] == ',';
    if (start && end) return;
    p += ml;
  }
  size_t need = len + (len ? 2 : 0) + ml + 1;
  if (need > cap) return;
  if (len) {
    memcpy(allow + len, ", ", 2);
    len += 2;
  }
  memcpy(allow + len, m, ml + 1);
}

int wd_http_route_find(const wd_http_route *routes, size_t n, const char *method, const char *path,
                       wd_arena *arena, wd_http_match *m) {
  memset(m, 0, sizeof *m);
  m->index = -1;
  seg ps[WD_LIMIT_HTTP_PATH_SEGMENTS];
  size_t nps = 0;
  if (!method || !path || split(path, ps, &nps) < 0) return -WD_E_NOTFOUND;
  int path_seen = 0;
  for (size_t i = 0; i < n; i++) {
    int hit = match_one(routes[i].pattern, ps, nps, NULL, NULL, NULL);
    if (!hit) continue;
    path_seen = 1;
    if (!method_is(routes[i].method, method)) {
      allow_add(m->allow, sizeof m->allow, routes[i].method);
      if (strcmp(routes[i].method, "GET") == 0) allow_add(m->allow, sizeof m->allow, "HEAD");
      continue;
    }
    int rc = match_one(routes[i].pattern, ps, nps, arena, &m->params, &m->nparams);
    if (rc < 0) return rc;
    m->index = (long)i;
    m->allow[0] = '\0'; /* only meaningful for a 405 */
    return 0;
  }
  return path_seen ? -WD_E_INVAL : -WD_E_NOTFOUND;
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Table-driven tests of route matching (src/http/router.c): literal and
 * {param} segments, first match wins, 404 versus 405 with the Allow list,
 * HEAD on GET routes, and route-table validation. No sockets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "http/wd_http.h"
#include "warden/err.h"

static int nop(wd_http_req *req, wd_http_resp *resp, void *svc) {
  (void)req;
  (void)resp;
  (void)svc;
  return 0;
}

static const wd_http_route T[] = {
    {"GET", "/v1/agents", nop, WD_HTTP_AUTH_ADMIN},                     /* 0 */
    {"POST", "/v1/agents", nop, WD_HTTP_AUTH_ADMIN},                    /* 1 */
    {"GET", "/v1/agents/{id}", nop, WD_HTTP_AUTH_ADMIN},                /* 2 */
    {"POST", "/v1/agents/{id}/quarantine", nop, WD_HTTP_AUTH_ADMIN},    /* 3 */
    {"GET", "/v1/agents/self", nop, WD_HTTP_AUTH_AGENT},                /* 4: shadowed by 2 */
    {"POST", "/v1/tasks/{task}/calls/{call}", nop, WD_HTTP_AUTH_AGENT}, /* 5 */
    {"GET", "/", nop, WD_HTTP_AUTH_NONE},                               /* 6 */
};

typedef struct row {
  const char *method, *path;
  int rc;
  long index;
  const char *params; /* "name=value;..." */
  const char *allow;
} row;

static void matches(void **state) {
  (void)state;
  static const row rows[] = {
      {"GET", "/v1/agents", 0, 0, "", ""},
      {"POST", "/v1/agents", 0, 1, "", ""},
      {"HEAD", "/v1/agents", 0, 0, "", ""},
      {"GET", "/v1/agents/a1", 0, 2, "id=a1;", ""},
      {"GET", "/v1/agents/self", 0, 2, "id=self;", ""},
      {"POST", "/v1/agents/x/quarantine", 0, 3, "id=x;", ""},
      {"POST", "/v1/tasks/t/calls/c", 0, 5, "task=t;call=c;", ""},
      {"GET", "/", 0, 6, "", ""},
      {"DELETE", "/v1/agents", -WD_E_INVAL, -1, "", "GET, HEAD, POST"},
      {"PUT", "/v1/agents/a1", -WD_E_INVAL, -1, "", "GET, HEAD"},
      {"GET", "/v1/agents/a1/quarantine", -WD_E_INVAL, -1, "", "POST"},
      {"GET", "/v1/agents/", -WD_E_NOTFOUND, -1, "", ""},
      {"GET", "/v1/agents/a/b", -WD_E_NOTFOUND, -1, "", ""},
      {"GET", "/v1/agent", -WD_E_NOTFOUND, -1, "", ""},
      {"GET", "v1/agents", -WD_E_NOTFOUND, -1, "", ""},
      {"GET", "", -WD_E_NOTFOUND, -1, "", ""},
      {"GET", "/v1//agents", -WD_E_NOTFOUND, -1, "", ""},
      {"GET", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/0/1/2/3/4/5/6/7",
       -WD_E_NOTFOUND, -1, "", ""},
  };
  wd_arena *a = wd_arena_new(1 << 16);
  assert_non_null(a);
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const row *w = &rows[i];
    wd_http_match m;
    int rc = wd_http_route_find(T, sizeof T / sizeof T[0], w->method, w->path, a, &m);
    char got[256] = "";
    size_t used = 0;
    for (size_t k = 0; k < m.nparams; k++)
      used += (size_t)snprintf(got + used, sizeof got - used, "%s=%s;", m.params[k].name,
                               m.params[k].value);
    if (rc != w->rc || m.index != w->index || strcmp(got, w->params) != 0 ||
        strcmp(m.allow, w->allow) != 0) {
      fprintf(stderr, "row %zu %s %s: rc %d index %ld params '%s' allow '%s'\n", i, w->method,
              w->path, rc, m.index, got, m.allow);
      fails++;
    }
  }
  wd_arena_free(a);
  assert_int_equal(fails, 0);
}

static void table_check(void **state) {
  (void)state;
  typedef struct {
    wd_http_route r;
    int rc;
  } crow;
  static const crow rows[] = {
      {{"GET", "/ok/{id}", nop, WD_HTTP_AUTH_NONE}, 0},
      {{"GET", "no-slash", nop, WD_HTTP_AUTH_NONE}, -WD_E_INVAL},
      {{"GET", "/x/{id", nop, WD_HTTP_AUTH_NONE}, -WD_E_INVAL},
      {{"GET", "/x/a{id}", nop, WD_HTTP_AUTH_NONE}, -WD_E_INVAL},
      {{"GET", "/x/{}", nop, WD_HTTP_AUTH_NONE}, -WD_E_INVAL},
      {{"GET", "/x/{1d}", nop, WD_HTTP_AUTH_NONE}, -WD_E_INVAL},
      {{"", "/x", nop, WD_HTTP_AUTH_NONE}, -WD_E_INVAL},
      {{"GET", "/x", NULL, WD_HTTP_AUTH_NONE}, -WD_E_INVAL},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    int rc = wd_http_routes_check(&rows[i].r, 1);
    if (rc != rows[i].rc) {
      fprintf(stderr, "row %zu %s: rc %d, want %d\n", i, rows[i].r.pattern, rc, rows[i].rc);
      fails++;
    }
  }
  assert_int_equal(fails, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(matches),
      cmocka_unit_test(table_check),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

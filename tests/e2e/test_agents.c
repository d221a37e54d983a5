/* SPDX-License-Identifier: Apache-2.0
 *
 * The agent registry against a real server: GET /v1/agents in pages
 * (`after` and `limit`, with `truncated` and `next`) lists every agent
 * exactly once in name order however many there are, refuses a bad
 * parameter naming it, and `warden agent list` follows the pages to the
 * end. Small pages stand in for the 10,000-agent limit. Attributes are
 * refused naming the member at fault and why: a number that is not an
 * integer, nesting or size past the bound, a mapped attribute (team,
 * owner_team, team_members) of the wrong type; the CLI can give a list.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "e2e.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"

static e2e_server srv;

/* Registered out of name order; upper case, '.', '-' and '_' sort as
 * bytes ("Z" < "_x" < "a"). */
#define NAGENTS 23
static char names[NAGENTS][32];

static void reg(const char *name) {
  char body[1024];
  (void)snprintf(body, sizeof body,
                 "{\"name\":\"%s\",\"owner\":\"alice\",\"risk_tier\":\"standard\","
                 "\"environment\":\"prod\"}",
                 name);
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "POST", "/v1/agents", body, &r), 0);
  assert_int_equal(r.status, 201);
  e2e_resp_clear(&r);
}

static int setup(void **state) {
  (void)state;
  if (e2e_server_start(&srv) != 0) return -1;
  static const char *const odd[] = {"Z", "_x", "a.b", "a-b", "zz"};
  size_t k = 0;
  for (; k < sizeof odd / sizeof odd[0]; k++)
    (void)snprintf(names[k], sizeof names[k], "%s", odd[k]);
  for (unsigned i = 0; k < NAGENTS; i++, k++)
    (void)snprintf(names[k], sizeof names[k], "agent-%02u", (i * 7) % 18); /* a permutation */
  return 0;
}

static int teardown(void **state) {
  (void)state;
  int rc = srv.pid > 0 ? e2e_server_stop(&srv) : 0;
  e2e_server_cleanup(&srv);
  return rc;
}

static int name_cmp(const void *a, const void *b) { return strcmp(a, b); }

/* Which of names[] s is; -1 for none. */
static int name_index(const char *s) {
  for (int i = 0; i < NAGENTS; i++)
    if (strcmp(names[i], s) == 0) return i;
  return -1;
}

static void test_pages(void **state) {
  (void)state;
  for (int i = 0; i < NAGENTS; i++)
    reg(names[i]);
  char sorted[NAGENTS][32];
  memcpy(sorted, names, sizeof sorted);
  qsort(sorted, NAGENTS, sizeof sorted[0], name_cmp);

  /* Pages of 5, then of 1, then of exactly all (which is not truncated:
   * nothing follows), each walked from the first page to the last. */
  static const unsigned limits[] = {5, 1, NAGENTS, 10000};
  for (size_t li = 0; li < sizeof limits / sizeof limits[0]; li++) {
    int seen[NAGENTS] = {0};
    size_t total = 0, pages = 0;
    char after[64] = "";
    for (;;) {
      char path[160];
      (void)snprintf(path, sizeof path, "/v1/agents?limit=%u%s%s", limits[li],
                     *after ? "&after=" : "", after);
      e2e_resp r;
      assert_int_equal(e2e_admin(&srv, "GET", path, NULL, &r), 0);
      assert_int_equal(r.status, 200);
      const json_t *agents = json_object_get(r.body, "agents");
      const json_t *trunc = json_object_get(r.body, "truncated");
      const json_t *next = json_object_get(r.body, "next");
      assert_true(json_is_array(agents));
      assert_true(json_is_boolean(trunc));
      assert_true(json_array_size(agents) <= limits[li]);
      size_t i;
      const json_t *a;
      const char *last = NULL;
      json_array_foreach(agents, i, a) {
        const char *n = json_string_value(json_object_get(a, "name"));
        assert_non_null(n);
        assert_string_equal(n, sorted[total]); /* in order, none skipped */
        int k = name_index(n);
        assert_true(k >= 0);
        seen[k]++;
        total++;
        last = n;
      }
      pages++;
      if (json_is_true(trunc)) {
        /* A truncated page is full, and next is its last name. */
        assert_int_equal(json_array_size(agents), limits[li]);
        assert_non_null(last);
        assert_string_equal(json_string_value(next), last);
        (void)snprintf(after, sizeof after, "%s", last);
        e2e_resp_clear(&r);
        continue;
      }
      assert_true(json_is_null(next));
      e2e_resp_clear(&r);
      break;
    }
    assert_int_equal(total, NAGENTS);
    for (int k = 0; k < NAGENTS; k++)
      assert_int_equal(seen[k], 1);
    assert_int_equal(pages, (NAGENTS + limits[li] - 1) / limits[li]);
  }

  /* after need not name an agent: the page starts at the next name. */
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "GET", "/v1/agents?after=agent-16a&limit=2", NULL, &r), 0);
  assert_int_equal(r.status, 200);
  const json_t *agents = json_object_get(r.body, "agents");
  assert_int_equal(json_array_size(agents), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(agents, 0), "name")),
                      "agent-17");
  assert_string_equal(json_string_value(json_object_get(json_array_get(agents, 1), "name")), "zz");
  assert_false(json_is_true(json_object_get(r.body, "truncated")));
  e2e_resp_clear(&r);

  /* Without parameters: every agent in one page, as before paging. */
  assert_int_equal(e2e_admin(&srv, "GET", "/v1/agents", NULL, &r), 0);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_array_size(json_object_get(r.body, "agents")), NAGENTS);
  assert_false(json_is_true(json_object_get(r.body, "truncated")));
  assert_true(json_is_null(json_object_get(r.body, "next")));
  e2e_resp_clear(&r);
}

static void test_bad_parameters(void **state) {
  (void)state;
  static const struct {
    const char *query, *field;
  } rows[] = {
      {"limit=0", "limit"},
      {"limit=10001", "limit"},
      {"limit=-1", "limit"},
      {"limit=abc", "limit"},
      {"limit=", "limit"},
      {"limit=5x", "limit"},
      {"limit=%2B5", "limit"},
      {"after=", "after"},
      {"after=a%2Fb", "after"},
      {"after=a%20b", "after"},
      {"after=%C3%A9", "after"},
      {"after=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
       "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
       "after"}, /* 129 characters */
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char path[512];
    (void)snprintf(path, sizeof path, "/v1/agents?%s", rows[i].query);
    e2e_resp r;
    assert_int_equal(e2e_admin(&srv, "GET", path, NULL, &r), 0);
    const json_t *err = json_object_get(r.body, "error");
    const char *msg = json_string_value(json_object_get(err, "message"));
    char quoted[32];
    (void)snprintf(quoted, sizeof quoted, "'%s'", rows[i].field);
    if (r.status != 400 || strcmp(e2e_err_code(&r), "invalid_field") != 0 ||
        strcmp(e2e_err_field(&r), rows[i].field) != 0 || !msg || !strstr(msg, quoted)) {
      fprintf(stderr, "FAIL %s: %ld %s\n", rows[i].query, r.status, msg ? msg : "(no message)");
      fails++;
    }
    e2e_resp_clear(&r);
  }
  assert_int_equal(fails, 0);
}

/* Runs `warden agent ARGS` against the server; its stdout into out
 * (cap bytes). Returns the exit status. */
static int cli(const char *args, char *out, size_t cap) {
  char cmd[1024];
  (void)snprintf(cmd, sizeof cmd, "agent %s", args);
  return e2e_cli(&srv, E2E_ADMIN_TOKEN, cmd, out, cap);
}

static void test_cli_list(void **state) {
  (void)state;
  static char out[64 << 10];
  /* Pages of 4: six requests for 23 agents, one table. */
  assert_int_equal(cli("list --page-size 4", out, sizeof out), 0);
  int seen[NAGENTS] = {0}, rows = 0, headers = 0;
  for (char *line = out, *nl; *line; line = nl ? nl + 1 : line + strlen(line)) {
    char first[64];
    nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    if (sscanf(line, "%63s", first) != 1) continue;
    if (strcmp(first, "NAME") == 0) {
      headers++;
      continue;
    }
    int k = name_index(first);
    assert_true(k >= 0);
    seen[k]++;
    rows++;
  }
  assert_int_equal(headers, 1);
  assert_int_equal(rows, NAGENTS);
  for (int k = 0; k < NAGENTS; k++)
    assert_int_equal(seen[k], 1);

  /* --json: one object holding every page's agents. */
  assert_int_equal(cli("list --json --page-size 3", out, sizeof out), 0);
  json_error_t jerr;
  json_t *doc = json_loads(out, 0, &jerr);
  assert_non_null(doc);
  assert_int_equal(json_object_size(doc), 1);
  assert_int_equal(json_array_size(json_object_get(doc, "agents")), NAGENTS);
  json_decref(doc);

  assert_int_equal(cli("list --page-size 0 2>/dev/null", out, sizeof out), 64);
  assert_int_equal(cli("list --page-size 10001 2>/dev/null", out, sizeof out), 64);
}

/* POST /v1/agents with these attributes (JSON text); the answer. */
static void reg_attrs(const char *attrs, e2e_resp *r) {
  size_t n = strlen(attrs) + 256;
  char *body = wd_malloc(n);
  assert_non_null(body);
  (void)snprintf(body, n,
                 "{\"name\":\"attrs\",\"owner\":\"alice\",\"risk_tier\":\"standard\","
                 "\"environment\":\"prod\",\"attributes\":%s}",
                 attrs);
  assert_int_equal(e2e_admin(&srv, "POST", "/v1/agents", body, r), 0);
  wd_free(body);
}

/* {"s":"xxx..."} whose compact text is n bytes. */
static char *attrs_of_size(size_t n) {
  char *a = wd_malloc(n + 1);
  assert_non_null(a);
  memcpy(a, "{\"s\":\"", 6);
  memset(a + 6, 'x', n - 8);
  memcpy(a + n - 2, "\"}", 3);
  return a;
}

static void test_attribute_errors(void **state) {
  (void)state;
  /* Each refusal names the attribute and why; nothing is registered. */
  static const struct {
    const char *attrs, *field, *why;
  } rows[] = {
      {"{\"r\":1.5}", "attributes.r", "must be integers"},
      {"{\"r\":1e3}", "attributes.r", "must be integers"},
      {"{\"cfg\":{\"x\":[1,{\"y\":2.0}]}}", "attributes.cfg", "must be integers"},
      {"{\"team\":1}", "attributes.team", "must be a string"},
      {"{\"team\":[\"a\"]}", "attributes.team", "must be a string"},
      {"{\"team\":null}", "attributes.team", "must be a string"},
      {"{\"owner_team\":{}}", "attributes.owner_team", "must be a string"},
      {"{\"team_members\":\"bob\"}", "attributes.team_members", "array of strings"},
      {"{\"team_members\":[\"bob\",7]}", "attributes.team_members", "array of strings"},
      {"[]", "attributes", "must be an object"},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    e2e_resp r;
    reg_attrs(rows[i].attrs, &r);
    const char *msg =
        json_string_value(json_object_get(json_object_get(r.body, "error"), "message"));
    char quoted[64];
    (void)snprintf(quoted, sizeof quoted, "'%s'", rows[i].field);
    if (r.status != 400 || strcmp(e2e_err_code(&r), "invalid_field") != 0 ||
        strcmp(e2e_err_field(&r), rows[i].field) != 0 || !msg || !strstr(msg, quoted) ||
        !strstr(msg, rows[i].why)) {
      fprintf(stderr, "FAIL %s: %ld %s\n", rows[i].attrs, r.status, msg ? msg : "(no message)");
      fails++;
    }
    e2e_resp_clear(&r);
  }
  assert_int_equal(fails, 0);

  /* 65 levels, counting the object: one too many. */
  char deep[256] = "{\"d\":";
  size_t n = strlen(deep);
  for (int i = 0; i < 64; i++)
    deep[n++] = '[';
  for (int i = 0; i < 64; i++)
    deep[n++] = ']';
  memcpy(deep + n, "}", 2);
  e2e_resp r;
  reg_attrs(deep, &r);
  assert_int_equal(r.status, 400);
  assert_string_equal(e2e_err_field(&r), "attributes.d");
  const char *msg = json_string_value(json_object_get(json_object_get(r.body, "error"), "message"));
  assert_non_null(msg);
  assert_non_null(strstr(msg, "at most 64 levels"));
  e2e_resp_clear(&r);

  /* The bound is the store's, in bytes of compact JSON, and is stated. */
  char *big = attrs_of_size(WD_LIMIT_STORE_FIELD_BYTES + 1);
  reg_attrs(big, &r);
  wd_free(big);
  assert_int_equal(r.status, 400);
  assert_string_equal(e2e_err_field(&r), "attributes");
  msg = json_string_value(json_object_get(json_object_get(r.body, "error"), "message"));
  assert_non_null(msg);
  assert_non_null(strstr(msg, "at most 65536 bytes"));
  e2e_resp_clear(&r);
  assert_int_equal(e2e_admin(&srv, "GET", "/v1/agents/attrs", NULL, &r), 0);
  assert_int_equal(r.status, 404);
  e2e_resp_clear(&r);

  /* At the bounds, and with every kind the mapping reads: kept. */
  big = attrs_of_size(WD_LIMIT_STORE_FIELD_BYTES);
  reg_attrs(big, &r);
  wd_free(big);
  assert_int_equal(r.status, 201);
  e2e_resp_clear(&r);
  reg_attrs("{}", &r);
  assert_int_equal(r.status, 409); /* registered just above */
  e2e_resp_clear(&r);
}

static void test_attribute_kinds(void **state) {
  (void)state;
  char out[4096];
  /* --attr-json gives a list, --attr a string; --attr team_members is
   * refused with the way to give it. */
  assert_int_equal(cli("register kinds --owner alice --tier standard --env prod --attr team=pay "
                       "--attr-json 'team_members=[\"bob\",\"carol\"]' --attr-json n=-3",
                       out, sizeof out),
                   0);
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "GET", "/v1/agents/kinds", NULL, &r), 0);
  assert_int_equal(r.status, 200);
  json_t *want =
      json_loads("{\"n\":-3,\"team\":\"pay\",\"team_members\":[\"bob\",\"carol\"]}", 0, NULL);
  assert_non_null(want);
  assert_true(json_equal(json_object_get(r.body, "attributes"), want));
  json_decref(want);
  e2e_resp_clear(&r);
  assert_int_equal(cli("register k2 --owner alice --tier standard --env prod "
                       "--attr team_members=bob 2>/dev/null",
                       out, sizeof out),
                   64);
  assert_int_equal(cli("register k2 --owner alice --tier standard --env prod "
                       "--attr-json r=1.5 2>/dev/null",
                       out, sizeof out),
                   1);
  assert_int_equal(cli("register k2 --owner alice --tier standard --env prod "
                       "--attr-json 'n=[' 2>/dev/null",
                       out, sizeof out),
                   64);
  assert_int_equal(e2e_admin(&srv, "GET", "/v1/agents/k2", NULL, &r), 0);
  assert_int_equal(r.status, 404);
  e2e_resp_clear(&r);
}

/* Agents whose attributes are near their bound end a page early, by
 * the size of their text, and paging still reaches every one once. */
static void test_heavy_pages(void **state) {
  (void)state;
  enum { NBIG = 140 };
  char *attrs = attrs_of_size(65000);
  size_t n = strlen(attrs) + 256;
  char *body = wd_malloc(n);
  assert_non_null(body);
  for (int i = 0; i < NBIG; i++) {
    (void)snprintf(body, n,
                   "{\"name\":\"heavy-%03d\",\"owner\":\"alice\",\"risk_tier\":\"standard\","
                   "\"environment\":\"prod\",\"attributes\":%s}",
                   i, attrs);
    e2e_resp r;
    assert_int_equal(e2e_admin(&srv, "POST", "/v1/agents", body, &r), 0);
    assert_int_equal(r.status, 201);
    e2e_resp_clear(&r);
  }
  wd_free(body);
  wd_free(attrs);
  int seen = 0, pages = 0, first_page = 0;
  char after[64] = "heavy-";
  for (;;) {
    char path[128];
    (void)snprintf(path, sizeof path, "/v1/agents?after=%s", after);
    e2e_resp r;
    assert_int_equal(e2e_admin(&srv, "GET", path, NULL, &r), 0);
    assert_int_equal(r.status, 200);
    size_t i;
    json_t *a;
    int here = 0;
    json_array_foreach(json_object_get(r.body, "agents"), i, a) {
      const char *name = json_string_value(json_object_get(a, "name"));
      if (strncmp(name, "heavy-", 6) == 0 && atoi(name + 6) == seen) seen++, here++;
    }
    if (pages++ == 0) first_page = here;
    json_t *next = json_object_get(r.body, "next");
    int truncated = json_is_true(json_object_get(r.body, "truncated"));
    assert_int_equal(truncated, json_is_string(next));
    if (next && json_is_string(next))
      (void)snprintf(after, sizeof after, "%s", json_string_value(next));
    e2e_resp_clear(&r);
    if (!truncated) break;
    assert_true(pages < 10);
  }
  assert_int_equal(seen, NBIG);
  assert_true(first_page > 0 && first_page < NBIG);
  assert_true(pages >= 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pages),           cmocka_unit_test(test_bad_parameters),
      cmocka_unit_test(test_cli_list),        cmocka_unit_test(test_attribute_errors),
      cmocka_unit_test(test_attribute_kinds), cmocka_unit_test(test_heavy_pages),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

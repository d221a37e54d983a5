/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the store on real SQLite files in a temporary directory:
 * migrations, every operation with its failure cases, atomicity under
 * threads, and visibility of revocation from another connection.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/wd_store.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"
#include "store_fixture.h"

typedef store_fixture fixture;

static int setup(void **state) { return store_fixture_setup(state, "store"); }

static int teardown(void **state) { return store_fixture_teardown(state); }

#define NOW 1700000000000LL

static void add_agent(wd_store *s, const char *name, wd_agent_status st) {
  char id[128];
  snprintf(id, sizeof id, "spiffe://example.org/agent/%s", name);
  wd_agent a = {.id = id,
                .name = (char *)(uintptr_t)name,
                .owner = "team-a",
                .tier = WD_TIER_STANDARD,
                .environment = "prod",
                .attrs = "{\"team\":\"a\"}",
                .status = st};
  assert_int_equal(wd_store_agent_register(s, &a, NOW), 0);
}

static void enrol(wd_store *s, const char *name, const char *jkt) {
  char hash[64];
  snprintf(hash, sizeof hash, "h-%s-%s", name, jkt);
  assert_int_equal(wd_store_join_create(s, hash, name, NOW + 60000, NOW), 0);
  assert_int_equal(wd_store_join_consume(s, hash, "{\"kty\":\"OKP\"}", jkt, NOW, NULL), 0);
}

static void open_task(wd_store *s, const char *id, const char *agent_name, int64_t budget,
                      int64_t ttl) {
  char aid[128];
  snprintf(aid, sizeof aid, "spiffe://example.org/agent/%s", agent_name);
  wd_task t = {.id = (char *)(uintptr_t)id,
               .agent_id = aid,
               .intent = "summarise tickets",
               .purpose = "support",
               .expected_tools = "[\"tickets\"]",
               .ceiling = "internal",
               .budget = budget};
  assert_int_equal(wd_store_task_create(s, &t, ttl, NOW), 0);
}

/* ---- tests ------------------------------------------------------------------ */

static void migrations_idempotent(void **state) {
  fixture *f = *state;
  int v = 0;
  wd_store *again = NULL;
  assert_int_equal(wd_store_schema_version(f->s, &v), 0);
  assert_int_equal(v, 5);
  assert_int_equal(wd_store_migrate(f->s), 0);
  assert_int_equal(wd_store_migrate(f->s), 0);
  assert_int_equal(wd_store_open(f->path, 0, &again), 0); /* a second opener migrates too */
  assert_int_equal(wd_store_schema_version(again, &v), 0);
  assert_int_equal(v, 5);
  wd_store_close(again);
}

static void open_urls(void **state) {
  fixture *f = *state;
  char url[160];
  wd_store *s = NULL;
  assert_int_equal(wd_store_open("postgres://db/warden", 0, &s), -WD_E_INVAL);
  assert_null(s);
  assert_int_equal(wd_store_open("", 0, &s), -WD_E_INVAL);
  snprintf(url, sizeof url, "sqlite:%s", f->path);
  assert_int_equal(wd_store_open(url, 0, &s), 0);
  wd_store_close(s);
  snprintf(url, sizeof url, "sqlite://%s", f->path);
  assert_int_equal(wd_store_open(url, WD_STORE_READONLY, &s), 0);
  add_agent(f->s, "ro", WD_AGENT_PENDING);
  wd_agent a = {0};
  assert_int_equal(wd_store_agent_get(s, "spiffe://example.org/agent/ro", &a), 0);
  wd_store_agent_free(&a);
  wd_agent b = {.id = "x", .name = "x", .owner = "o", .environment = "e"};
  assert_int_not_equal(wd_store_agent_register(s, &b, NOW), 0); /* read-only */
  wd_store_close(s);
  snprintf(url, sizeof url, "%s/missing.db", f->dir);
  assert_int_not_equal(wd_store_open(url, WD_STORE_READONLY, &s), 0);
}

static void agents(void **state) {
  fixture *f = *state;
  wd_agent a = {0};
  wd_agent_list l = {0};
  add_agent(f->s, "beta", WD_AGENT_PENDING);
  add_agent(f->s, "alpha", WD_AGENT_PENDING);
  assert_int_equal(wd_store_agent_get(f->s, "spiffe://example.org/agent/alpha", &a), 0);
  assert_string_equal(a.name, "alpha");
  assert_string_equal(a.owner, "team-a");
  assert_int_equal(a.tier, WD_TIER_STANDARD);
  assert_int_equal(a.status, WD_AGENT_PENDING);
  assert_string_equal(a.attrs, "{\"team\":\"a\"}");
  assert_null(a.jwk);
  assert_int_equal(a.created_ms, NOW);
  wd_store_agent_free(&a);

  /* duplicates and bad input */
  wd_agent dup = {
      .id = "spiffe://example.org/agent/other", .name = "alpha", .owner = "o", .environment = "e"};
  assert_int_equal(wd_store_agent_register(f->s, &dup, NOW), -WD_E_EXISTS);
  dup.name = "other";
  dup.attrs = "[1]";
  assert_int_equal(wd_store_agent_register(f->s, &dup, NOW), -WD_E_INVAL);
  dup.attrs = "{\"a\":1,\"a\":2}";
  assert_int_equal(wd_store_agent_register(f->s, &dup, NOW), -WD_E_INVAL);
  dup.attrs = NULL;
  dup.owner = NULL;
  assert_int_equal(wd_store_agent_register(f->s, &dup, NOW), -WD_E_INVAL);
  assert_int_equal(wd_store_agent_get(f->s, "spiffe://example.org/agent/none", &a), -WD_E_NOTFOUND);

  assert_int_equal(wd_store_agent_list(f->s, NULL, WD_LIMIT_STORE_LIST_ROWS, &l), 0);
  assert_int_equal(l.n, 2);
  assert_false(l.more);
  assert_string_equal(l.items[0].name, "alpha");
  assert_string_equal(l.items[1].name, "beta");
  wd_store_agent_list_free(&l);

  assert_int_equal(wd_store_agent_set_status(f->s, "spiffe://example.org/agent/none",
                                             WD_AGENT_RETIRED, NULL, NOW, NULL),
                   -WD_E_NOTFOUND);
}

/* One page of wd_store_agent_list: the names it holds, comma-joined,
 * and whether more follow. */
static void expect_page(wd_store *s, const char *after, size_t max, const char *names, int more) {
  wd_agent_list l = {0};
  char got[256] = "";
  assert_int_equal(wd_store_agent_list(s, after, max, &l), 0);
  for (size_t i = 0; i < l.n; i++) {
    size_t n = strlen(got);
    snprintf(got + n, sizeof got - n, "%s%s", i ? "," : "", l.items[i].name);
  }
  assert_string_equal(got, names);
  assert_int_equal(l.more, more);
  wd_store_agent_list_free(&l);
}

static void agent_pages(void **state) {
  fixture *f = *state;
  /* Registered out of order; "B" sorts before "a" as bytes. */
  static const char *const names[] = {"e", "a", "g", "c", "B", "f", "d"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    add_agent(f->s, names[i], WD_AGENT_PENDING);
  struct {
    const char *after;
    size_t max;
    const char *names;
    int more;
  } rows[] = {
      {NULL, 3, "B,a,c", 1},         /* the first page */
      {"c", 3, "d,e,f", 1},          /* after its last name */
      {"f", 3, "g", 0},              /* the last page */
      {"d", 3, "e,f,g", 0},          /* a full last page: nothing more */
      {"b", 2, "c,d", 1},            /* a name no agent has: from the next one */
      {"g", 3, "", 0},               /* after the last name */
      {"z", 1, "", 0},               /* past every name */
      {NULL, 7, "B,a,c,d,e,f,g", 0}, /* all in one */
      {NULL, 0, "", 1},              /* max 0: nothing, and more */
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    expect_page(f->s, rows[i].after, rows[i].max, rows[i].names, rows[i].more);

  /* A max past the limit is the limit, not a refusal. */
  expect_page(f->s, NULL, (size_t)WD_LIMIT_STORE_LIST_ROWS + 1, "B,a,c,d,e,f,g", 0);
  wd_agent_list l = {0};
  char *big = wd_malloc(WD_LIMIT_STORE_FIELD_BYTES + 2);
  assert_non_null(big);
  memset(big, 'a', WD_LIMIT_STORE_FIELD_BYTES + 1);
  big[WD_LIMIT_STORE_FIELD_BYTES + 1] = '\0';
  assert_int_equal(wd_store_agent_list(f->s, big, 3, &l), -WD_E_INVAL);
  wd_free(big);
  assert_int_equal(wd_store_agent_list(f->s, NULL, 3, NULL), -WD_E_INVAL);
}

static void join_tokens(void **state) {
  fixture *f = *state;
  wd_agent a = {0};
  add_agent(f->s, "alpha", WD_AGENT_PENDING);
  add_agent(f->s, "beta", WD_AGENT_PENDING);
  assert_int_equal(wd_store_join_create(f->s, "h0", "nobody", NOW + 1000, NOW), -WD_E_NOTFOUND);
  assert_int_equal(wd_store_join_create(f->s, "h1", "alpha", NOW + 1000, NOW), 0);
  assert_int_equal(wd_store_join_create(f->s, "h1", "alpha", NOW + 1000, NOW), -WD_E_EXISTS);
  assert_int_equal(wd_store_join_create(f->s, "h2", "alpha", NOW + 1000, NOW), 0);
  assert_int_equal(wd_store_join_create(f->s, "h3", "beta", NOW + 1000, NOW), 0);

  /* The read-only check gives the consume's verdicts, and a token of
   * another agent is unknown to this one. */
  const char *alpha = "spiffe://example.org/agent/alpha";
  assert_int_equal(wd_store_join_check(f->s, "h1", NOW, alpha), 0);
  assert_int_equal(wd_store_join_check(f->s, "h3", NOW, alpha), -WD_E_NOTFOUND);
  assert_int_equal(wd_store_join_check(f->s, "nope", NOW, alpha), -WD_E_NOTFOUND);
  assert_int_equal(wd_store_join_check(f->s, "h2", NOW + 1000, alpha), -WD_E_INVAL);
  assert_int_equal(wd_store_join_check(f->s, "h1", NOW, NULL), -WD_E_INVAL);

  /* expired: refused and left unconsumed */
  assert_int_equal(wd_store_join_consume(f->s, "h2", "{}", "jkt-a", NOW + 1000, NULL), -WD_E_INVAL);
  assert_int_equal(wd_store_join_consume(f->s, "nope", "{}", "jkt-a", NOW, NULL), -WD_E_NOTFOUND);
  assert_int_equal(wd_store_join_consume(f->s, "h1", "{\"k\":1}", "jkt-a", NOW + 5, &a), 0);
  assert_string_equal(a.name, "alpha");
  assert_int_equal(a.status, WD_AGENT_ACTIVE);
  assert_string_equal(a.jkt, "jkt-a");
  wd_store_agent_free(&a);
  /* consumed exactly once */
  assert_int_equal(wd_store_join_consume(f->s, "h1", "{}", "jkt-x", NOW + 6, NULL), -WD_E_EXISTS);
  assert_int_equal(wd_store_join_check(f->s, "h1", NOW + 6, alpha), -WD_E_EXISTS);

  /* a jkt bound to another agent fails, and the token stays usable */
  assert_int_equal(wd_store_join_consume(f->s, "h3", "{}", "jkt-a", NOW, NULL), -WD_E_EXISTS);
  assert_int_equal(wd_store_agent_get(f->s, "spiffe://example.org/agent/beta", &a), 0);
  assert_int_equal(a.status, WD_AGENT_PENDING);
  wd_store_agent_free(&a);
  assert_int_equal(wd_store_join_consume(f->s, "h3", "{}", "jkt-b", NOW, NULL), 0);

  assert_int_equal(wd_store_agent_get_by_jkt(f->s, "jkt-b", &a), 0);
  assert_string_equal(a.name, "beta");
  wd_store_agent_free(&a);
  assert_int_equal(wd_store_agent_get_by_jkt(f->s, "jkt-z", &a), -WD_E_NOTFOUND);

  /* A quarantined agent may get a new key and stays quarantined; its
   * other unused tokens die with the one used. */
  const char *beta = "spiffe://example.org/agent/beta";
  assert_int_equal(wd_store_agent_set_status(f->s, beta, WD_AGENT_QUARANTINED, "test", NOW, NULL),
                   0);
  assert_int_equal(wd_store_join_create(f->s, "h4", "beta", NOW + 1000, NOW), 0);
  assert_int_equal(wd_store_join_create(f->s, "h5", "beta", NOW + 1000, NOW), 0);
  assert_int_equal(wd_store_join_create(f->s, "h6", "alpha", NOW + 1000, NOW), 0);
  assert_int_equal(wd_store_join_consume(f->s, "h4", "{}", "jkt-c", NOW, &a), 0);
  assert_int_equal(a.status, WD_AGENT_QUARANTINED);
  assert_string_equal(a.jkt, "jkt-c");
  wd_store_agent_free(&a);
  assert_int_equal(wd_store_join_consume(f->s, "h5", "{}", "jkt-d", NOW, NULL), -WD_E_EXISTS);
  assert_int_equal(wd_store_join_check(f->s, "h6", NOW, alpha), 0); /* another agent's */
  /* a retired agent cannot enrol */
  assert_int_equal(wd_store_agent_set_status(f->s, beta, WD_AGENT_RETIRED, "test", NOW, NULL), 0);
  assert_int_equal(wd_store_join_create(f->s, "h7", "beta", NOW + 1000, NOW), 0);
  assert_int_equal(wd_store_join_consume(f->s, "h7", "{}", "jkt-e", NOW, NULL), -WD_E_INVAL);
}

/* The store judges each change against the status its own transaction
 * finds, so of two changes made at once the second sees the first. */
static void status_changes(void **state) {
  fixture *f = *state;
  static const struct {
    wd_agent_status from, to;
    int ok;
  } cases[] = {
      {WD_AGENT_ACTIVE, WD_AGENT_QUARANTINED, 1},  {WD_AGENT_QUARANTINED, WD_AGENT_ACTIVE, 1},
      {WD_AGENT_PENDING, WD_AGENT_RETIRED, 1},     {WD_AGENT_ACTIVE, WD_AGENT_RETIRED, 1},
      {WD_AGENT_QUARANTINED, WD_AGENT_RETIRED, 1}, {WD_AGENT_QUARANTINED, WD_AGENT_QUARANTINED, 0},
      {WD_AGENT_ACTIVE, WD_AGENT_ACTIVE, 0},       {WD_AGENT_PENDING, WD_AGENT_ACTIVE, 0},
      {WD_AGENT_PENDING, WD_AGENT_QUARANTINED, 0}, {WD_AGENT_RETIRED, WD_AGENT_ACTIVE, 0},
      {WD_AGENT_RETIRED, WD_AGENT_QUARANTINED, 0}, {WD_AGENT_RETIRED, WD_AGENT_RETIRED, 0},
      {WD_AGENT_ACTIVE, WD_AGENT_PENDING, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char name[32], id[64];
    (void)snprintf(name, sizeof name, "s%zu", i);
    (void)snprintf(id, sizeof id, "spiffe://example.org/agent/%s", name);
    add_agent(f->s, name, cases[i].from);
    assert_int_equal(wd_agent_status_change_ok(cases[i].from, cases[i].to), cases[i].ok);
    assert_int_equal(wd_store_agent_set_status(f->s, id, cases[i].to, "t", NOW, NULL),
                     cases[i].ok ? 0 : -WD_E_STATE);
    wd_agent a = {0};
    assert_int_equal(wd_store_agent_get(f->s, id, &a), 0);
    assert_int_equal(a.status, cases[i].ok ? cases[i].to : cases[i].from);
    wd_store_agent_free(&a);
  }
}

static void tasks_budget_and_end(void **state) {
  fixture *f = *state;
  wd_call_verdict v;
  int64_t before = -1;
  wd_task t = {0};
  wd_strlist ids = {0};
  add_agent(f->s, "alpha", WD_AGENT_PENDING);
  /* a pending agent cannot open tasks */
  wd_task bad = {.id = "t0",
                 .agent_id = "spiffe://example.org/agent/alpha",
                 .intent = "i",
                 .purpose = "p",
                 .ceiling = "c",
                 .budget = 1};
  assert_int_equal(wd_store_task_create(f->s, &bad, 1000, NOW), -WD_E_INVAL);
  bad.agent_id = "spiffe://example.org/agent/none";
  assert_int_equal(wd_store_task_create(f->s, &bad, 1000, NOW), -WD_E_NOTFOUND);
  enrol(f->s, "alpha", "jkt-a");
  open_task(f->s, "t1", "alpha", 3, 60000);
  open_task(f->s, "t2", "alpha", 5, 1000);
  assert_int_equal(wd_store_task_get(f->s, "t1", &t), 0);
  assert_string_equal(t.intent, "summarise tickets");
  assert_string_equal(t.expected_tools, "[\"tickets\"]");
  assert_null(t.on_behalf_of);
  assert_int_equal(t.expires_ms, NOW + 60000);
  assert_int_equal(t.status, WD_TASK_OPEN);
  wd_store_task_free(&t);

  for (int64_t i = 0; i < 3; i++) {
    assert_int_equal(wd_store_task_count_call(f->s, "t1", NOW + 1, &v, &before), 0);
    assert_int_equal(v, WD_CALL_OK);
    assert_int_equal(before, i);
  }
  assert_int_equal(wd_store_task_count_call(f->s, "t1", NOW + 1, &v, &before), 0);
  assert_int_equal(v, WD_CALL_BUDGET);
  assert_int_equal(wd_store_task_count_call(f->s, "t2", NOW + 1000, &v, NULL), 0);
  assert_int_equal(v, WD_CALL_EXPIRED);
  assert_int_equal(wd_store_task_count_call(f->s, "zz", NOW, &v, NULL), -WD_E_NOTFOUND);

  assert_int_equal(wd_store_task_list_expired(f->s, NOW + 1000, 10, &ids), 0);
  assert_int_equal(ids.n, 1);
  assert_string_equal(ids.v[0], "t2");
  wd_strlist_free(&ids);

  assert_int_equal(wd_store_task_end(f->s, "t2", WD_TASK_EXPIRED, "ttl", NOW + 1000), 0);
  assert_int_equal(wd_store_task_end(f->s, "t2", WD_TASK_COMPLETED, "late", NOW + 1000),
                   -WD_E_INVAL);
  assert_int_equal(wd_store_task_end(f->s, "zz", WD_TASK_COMPLETED, NULL, NOW), -WD_E_NOTFOUND);
  assert_int_equal(wd_store_task_end(f->s, "t1", WD_TASK_OPEN, NULL, NOW), -WD_E_INVAL);
  assert_int_equal(wd_store_task_count_call(f->s, "t2", NOW, &v, NULL), 0);
  assert_int_equal(v, WD_CALL_NOT_OPEN);
  assert_int_equal(wd_store_task_get(f->s, "t2", &t), 0);
  assert_int_equal(t.status, WD_TASK_EXPIRED);
  assert_string_equal(t.end_reason, "ttl");
  assert_int_equal(t.ended_ms, NOW + 1000);
  wd_store_task_free(&t);
  assert_int_equal(wd_store_task_list_expired(f->s, NOW + 1000, 10, &ids), 0);
  assert_int_equal(ids.n, 0);
  wd_strlist_free(&ids);

  assert_int_equal(wd_store_task_set_intent(f->s, "t1", "new intent", NULL, NULL, NOW), 0);
  assert_int_equal(wd_store_task_set_intent(f->s, "t2", "new intent", NULL, NULL, NOW),
                   -WD_E_INVAL);
}

static void expect_task(wd_store *s, const char *id, const char *intent, const char *purpose,
                        const char *tools) {
  wd_task t;
  assert_int_equal(wd_store_task_get(s, id, &t), 0);
  assert_string_equal(t.intent, intent);
  assert_string_equal(t.purpose, purpose);
  assert_string_equal(t.expected_tools, tools);
  assert_int_equal(t.status, WD_TASK_OPEN);
  wd_store_task_free(&t);
}

static void revoked(wd_store *s, const char *jti, int want) {
  int r = -1;
  assert_int_equal(wd_store_token_is_revoked(s, jti, &r), 0);
  assert_int_equal(r, want);
}

/* An intent change may restate purpose and tools (NULL keeps them); a
 * malformed field changes nothing, not even the tokens. */
static void task_set_intent_fields(void **state) {
  fixture *f = *state;
  add_agent(f->s, "alpha", WD_AGENT_PENDING);
  enrol(f->s, "alpha", "jkt-a");
  open_task(f->s, "t1", "alpha", 10, 60000);
  assert_int_equal(wd_store_token_record(f->s, "j1", "t1", NOW + 300000, NOW), 0);

  /* Refused before anything changes: tools not a JSON array, an empty
   * purpose, an empty intent, an unknown task. */
  assert_int_equal(wd_store_task_set_intent(f->s, "t1", "i2", NULL, "{\"a\":1}", NOW), -WD_E_INVAL);
  assert_int_equal(wd_store_task_set_intent(f->s, "t1", "i2", NULL, "[\"a\"", NOW), -WD_E_INVAL);
  assert_int_equal(wd_store_task_set_intent(f->s, "t1", "i2", NULL, "", NOW), -WD_E_INVAL);
  assert_int_equal(wd_store_task_set_intent(f->s, "t1", "i2", "", NULL, NOW), -WD_E_INVAL);
  assert_int_equal(wd_store_task_set_intent(f->s, "t1", "", NULL, NULL, NOW), -WD_E_INVAL);
  assert_int_equal(wd_store_task_set_intent(f->s, "zz", "i2", NULL, NULL, NOW), -WD_E_NOTFOUND);
  expect_task(f->s, "t1", "summarise tickets", "support", "[\"tickets\"]");
  revoked(f->s, "j1", 0);

  /* NULL keeps purpose and tools; the token dies all the same. */
  assert_int_equal(wd_store_task_set_intent(f->s, "t1", "triage tickets", NULL, NULL, NOW), 0);
  expect_task(f->s, "t1", "triage tickets", "support", "[\"tickets\"]");
  revoked(f->s, "j1", 1);

  assert_int_equal(wd_store_token_record(f->s, "j2", "t1", NOW + 300000, NOW), 0);
  assert_int_equal(wd_store_task_set_intent(f->s, "t1", "answer mail", "communication",
                                            "[\"mail\",\"tickets\"]", NOW),
                   0);
  expect_task(f->s, "t1", "answer mail", "communication", "[\"mail\",\"tickets\"]");
  revoked(f->s, "j2", 1);

  /* Each one alone; an empty list is a list. */
  assert_int_equal(wd_store_task_set_intent(f->s, "t1", "i3", "audit", NULL, NOW), 0);
  expect_task(f->s, "t1", "i3", "audit", "[\"mail\",\"tickets\"]");
  assert_int_equal(wd_store_task_set_intent(f->s, "t1", "i4", NULL, "[]", NOW), 0);
  expect_task(f->s, "t1", "i4", "audit", "[]");

  /* An ended task keeps what it had. */
  assert_int_equal(wd_store_task_end(f->s, "t1", WD_TASK_COMPLETED, "done", NOW), 0);
  assert_int_equal(wd_store_task_set_intent(f->s, "t1", "i5", "p", "[\"x\"]", NOW), -WD_E_INVAL);
  wd_task t;
  assert_int_equal(wd_store_task_get(f->s, "t1", &t), 0);
  assert_string_equal(t.intent, "i4");
  assert_string_equal(t.purpose, "audit");
  assert_string_equal(t.expected_tools, "[]");
  wd_store_task_free(&t);
}

static void sessions(void **state) {
  fixture *f = *state;
  wd_session ss = {0};
  add_agent(f->s, "alpha", WD_AGENT_PENDING);
  enrol(f->s, "alpha", "jkt-a");
  open_task(f->s, "t1", "alpha", 10, 60000);
  assert_int_equal(wd_store_task_record_call(f->s, "t1", "mail", "secret", "external", 1), 0);
  assert_int_equal(wd_store_task_record_call(f->s, "t1", "files", "internal", NULL, 1), 0);
  assert_int_equal(wd_store_task_record_call(f->s, "t1", "mail", "secret", "external", 1), 0);
  assert_int_equal(wd_store_task_record_call(f->s, "t1", "shell", "public", "internet", 0), 0);
  assert_int_equal(wd_store_task_record_call(f->s, "zz", "shell", NULL, NULL, 1), -WD_E_NOTFOUND);
  assert_int_equal(wd_store_task_record_call(f->s, "zz", NULL, NULL, NULL, 0), -WD_E_NOTFOUND);
  assert_int_equal(wd_store_task_session(f->s, "t1", &ss), 0);
  assert_int_equal(ss.tools.n, 2); /* the denied shell call used nothing */
  assert_string_equal(ss.tools.v[0], "files");
  assert_string_equal(ss.tools.v[1], "mail");
  assert_int_equal(ss.classifications.n, 2);
  assert_string_equal(ss.classifications.v[0], "internal");
  assert_string_equal(ss.classifications.v[1], "secret");
  assert_int_equal(ss.destinations.n, 1);
  assert_string_equal(ss.destinations.v[0], "external");
  assert_int_equal(ss.denials, 1);
  assert_int_equal(ss.calls, 0);
  wd_store_session_free(&ss);
  assert_int_equal(wd_store_task_session(f->s, "zz", &ss), -WD_E_NOTFOUND);
}

typedef struct revoke_ctx {
  wd_store *s;
  const char *jti;
  int result;
  int rc;
} revoke_ctx;

static void *check_thread(void *arg) {
  revoke_ctx *c = arg;
  c->rc = wd_store_token_is_revoked(c->s, c->jti, &c->result);
  return NULL;
}

static void tokens_and_revocation(void **state) {
  fixture *f = *state;
  wd_store *other = NULL;
  int r = -1;
  unsigned n = 99;
  pthread_t th;
  add_agent(f->s, "alpha", WD_AGENT_PENDING);
  enrol(f->s, "alpha", "jkt-a");
  open_task(f->s, "t1", "alpha", 10, 60000);
  open_task(f->s, "t2", "alpha", 10, 60000);
  open_task(f->s, "t3", "alpha", 10, 60000);
  assert_int_equal(wd_store_token_record(f->s, "j1", "t1", NOW + 300000, NOW), 0);
  assert_int_equal(wd_store_token_record(f->s, "j1", "t1", NOW + 300000, NOW), -WD_E_EXISTS);
  assert_int_equal(wd_store_token_record(f->s, "j2", "t1", NOW + 300000, NOW), 0);
  assert_int_equal(wd_store_token_record(f->s, "j3", "t2", NOW + 300000, NOW), 0);
  assert_int_equal(wd_store_token_record(f->s, "j4", "t3", NOW + 300000, NOW), 0);
  assert_int_equal(wd_store_token_record(f->s, "jx", "zz", NOW + 300000, NOW), -WD_E_NOTFOUND);

  /* another connection (a second handle: another pool, like another process) */
  assert_int_equal(wd_store_open(f->path, 0, &other), 0);
  assert_int_equal(wd_store_token_is_revoked(other, "j1", &r), 0);
  assert_int_equal(r, 0);
  assert_int_equal(wd_store_token_is_revoked(other, "nope", &r), -WD_E_NOTFOUND);
  assert_int_equal(r, 1);

  assert_int_equal(wd_store_token_revoke(f->s, "j1", NOW), 0);
  assert_int_equal(wd_store_token_revoke(f->s, "j1", NOW), 0);
  assert_int_equal(wd_store_token_revoke(f->s, "nope", NOW), -WD_E_NOTFOUND);
  assert_int_equal(wd_store_token_is_revoked(other, "j1", &r), 0);
  assert_int_equal(r, 1);
  revoke_ctx c = {.s = other, .jti = "j2", .result = -1};
  pthread_create(&th, NULL, check_thread, &c);
  pthread_join(th, NULL);
  assert_int_equal(c.rc, 0);
  assert_int_equal(c.result, 0);

  assert_int_equal(wd_store_token_revoke_task(f->s, "t1", NOW, &n), 0);
  assert_int_equal(n, 1); /* j1 was already revoked */
  c.result = -1;
  pthread_create(&th, NULL, check_thread, &c);
  pthread_join(th, NULL);
  assert_int_equal(c.rc, 0);
  assert_int_equal(c.result, 1);

  /* ending a task revokes its tokens */
  assert_int_equal(wd_store_task_end(f->s, "t2", WD_TASK_COMPLETED, "done", NOW), 0);
  assert_int_equal(wd_store_token_is_revoked(other, "j3", &r), 0);
  assert_int_equal(r, 1);
  assert_int_equal(wd_store_token_record(f->s, "j5", "t2", NOW + 1, NOW), -WD_E_INVAL);

  /* quarantine ends every open task and revokes their tokens at once */
  assert_int_equal(wd_store_token_is_revoked(other, "j4", &r), 0);
  assert_int_equal(r, 0);
  assert_int_equal(wd_store_agent_set_status(f->s, "spiffe://example.org/agent/alpha",
                                             WD_AGENT_QUARANTINED, "too many denials", NOW, &n),
                   0);
  assert_int_equal(n, 2); /* t1 and t3 were open */
  assert_int_equal(wd_store_token_is_revoked(other, "j4", &r), 0);
  assert_int_equal(r, 1);
  wd_task t = {0};
  assert_int_equal(wd_store_task_get(other, "t3", &t), 0);
  assert_int_equal(t.status, WD_TASK_REVOKED);
  assert_string_equal(t.end_reason, "too many denials");
  wd_store_task_free(&t);
  /* and refuses new ones */
  wd_task nt = {.id = "t9",
                .agent_id = "spiffe://example.org/agent/alpha",
                .intent = "i",
                .purpose = "p",
                .ceiling = "c",
                .budget = 1};
  assert_int_equal(wd_store_task_create(f->s, &nt, 1000, NOW), -WD_E_INVAL);
  wd_store_close(other);
}

static void dpop_replay(void **state) {
  fixture *f = *state;
  int is_new = -1;
  unsigned n = 0;
  assert_int_equal(wd_store_dpop_seen(f->s, "p1", NOW + 100, &is_new), 0);
  assert_int_equal(is_new, 1);
  assert_int_equal(wd_store_dpop_seen(f->s, "p1", NOW + 100, &is_new), 0);
  assert_int_equal(is_new, 0);
  assert_int_equal(wd_store_dpop_seen(f->s, "p2", NOW + 200, &is_new), 0);
  assert_int_equal(is_new, 1);
  /* a proof signed at another time is another proof, even with the same
   * jti (only its key holder can sign one; the in-memory replay cache
   * refuses the jti itself while it is live) */
  assert_int_equal(wd_store_dpop_seen(f->s, "p1", NOW + 400, &is_new), 0);
  assert_int_equal(is_new, 1);
  assert_int_equal(wd_store_dpop_prune(f->s, NOW + 300, &n), 0);
  assert_int_equal(n, 2); /* p1 until 100, p2 */
  assert_int_equal(wd_store_dpop_seen(f->s, "p1", NOW + 400, &is_new), 0);
  assert_int_equal(is_new, 0);
}

typedef struct seen_jtis {
  int n;
} seen_jtis;

static int count_live(void *ctx, const char *jti, int64_t exp_ms) {
  (void)jti;
  (void)exp_ms;
  ((seen_jtis *)ctx)->n++;
  return 0;
}

/* A store written by the first schema keeps its live proofs when it
 * moves to the (expiry, jti) table. */
static void dpop_migration(void **state) {
  (void)state;
  char dir[64], path[128];
  assert_int_equal(tmp_db_make(dir, path, "storemig"), 0);
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(
      sqlite3_exec(db,
                   "CREATE TABLE schema_version(version INTEGER PRIMARY KEY,"
                   " applied_ms INTEGER NOT NULL); INSERT INTO schema_version VALUES(1, 0);"
                   "CREATE TABLE dpop_jti(jti TEXT PRIMARY KEY, exp_ms INTEGER NOT NULL)"
                   " WITHOUT ROWID; CREATE INDEX dpop_exp ON dpop_jti(exp_ms);"
                   "INSERT INTO dpop_jti VALUES('old', 10), ('live', 5000);"
                   "CREATE TABLE join_tokens(hash TEXT PRIMARY KEY, agent_name TEXT NOT NULL,"
                   " expires_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL, used_ms INTEGER)"
                   " WITHOUT ROWID; CREATE TABLE tasks(id TEXT PRIMARY KEY, status TEXT NOT NULL,"
                   " ended_ms INTEGER NOT NULL DEFAULT 0);",
                   NULL, NULL, NULL),
      SQLITE_OK);
  sqlite3_close(db);
  wd_store *s = NULL;
  assert_int_equal(wd_store_open(path, 0, &s), 0);
  int v = 0, is_new = -1;
  assert_int_equal(wd_store_schema_version(s, &v), 0);
  assert_int_equal(v, 5);
  seen_jtis sc = {0};
  assert_int_equal(wd_store_dpop_scan(s, 100, count_live, &sc), 0);
  assert_int_equal(sc.n, 1);
  assert_int_equal(wd_store_dpop_seen(s, "live", 5000, &is_new), 0);
  assert_int_equal(is_new, 0);
  wd_store_close(s);
  tmp_db_remove(dir, path);
}

/* The entries of the file's schema, read as SQLite sees them. */
static int table_count(const char *path) {
  sqlite3 *db = NULL;
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &q, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  int n = sqlite3_column_int(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return n;
}

/* A database no migration can serve is named for what it is, and left
 * as it was. */
static void unusable_files(void **state) {
  (void)state;
  char dir[64], path[128];
  assert_int_equal(tmp_db_make(dir, path, "storebad"), 0);
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db,
                                "CREATE TABLE schema_version(version INTEGER PRIMARY KEY,"
                                " applied_ms INTEGER NOT NULL); INSERT INTO schema_version "
                                "VALUES(1, 0), (2, 0), (3, 0), (4, 0), (99, 0);",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  wd_store *s = NULL;
  assert_int_equal(wd_store_open(path, 0, &s), -WD_E_VERSION);
  assert_null(s);
  assert_int_equal(table_count(path), 1); /* no table added */

  FILE *fp = fopen(path, "wb");
  assert_non_null(fp);
  for (int i = 0; i < 4096; i++)
    (void)fputc((i * 7919) & 0xff, fp);
  assert_int_equal(fclose(fp), 0);
  assert_int_equal(wd_store_open(path, 0, &s), -WD_E_CORRUPT);
  assert_int_equal(wd_store_open(path, WD_STORE_READONLY, &s), -WD_E_CORRUPT);
  assert_null(s);
  tmp_db_remove(dir, path);
}

/* Another program's database (tables, no schema_version) is refused as
 * such, whatever its tables are called, and left without a table added. */
static void foreign_database(void **state) {
  (void)state;
  static const char *const tables[] = {"CREATE TABLE foo(x)",
                                       "CREATE TABLE agents(id TEXT, something_else INTEGER)"};
  for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
    char dir[64], path[128];
    assert_int_equal(tmp_db_make(dir, path, "storeforeign"), 0);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, tables[i], NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    wd_store *s = NULL;
    assert_int_equal(wd_store_open(path, 0, &s), -WD_E_FOREIGN);
    assert_null(s);
    assert_int_equal(wd_store_open(path, WD_STORE_READONLY, &s), -WD_E_FOREIGN);
    assert_null(s);
    assert_int_equal(table_count(path), 1); /* no table added */
    tmp_db_remove(dir, path);
  }
}

static void policies(void **state) {
  fixture *f = *state;
  int64_t v1 = 0, v2 = 0;
  wd_policy_version p = {0};
  static const char t1[] = "permit(principal, action, resource);";
  static const char t2[] = "forbid(principal, action, resource);";
  assert_int_equal(wd_store_policy_get_active(f->s, &p), -WD_E_NOTFOUND);
  assert_int_equal(wd_store_policy_add(f->s, t1, sizeof t1 - 1, NOW, &v1), 0);
  assert_int_equal(wd_store_policy_add(f->s, t2, sizeof t2 - 1, NOW, &v2), 0);
  assert_int_equal(v1, 1);
  assert_int_equal(v2, 2);
  assert_int_equal(wd_store_policy_activate(f->s, 1), 0);
  assert_int_equal(wd_store_policy_get_active(f->s, &p), 0);
  assert_int_equal(p.version, 1);
  assert_string_equal(p.text, t1);
  wd_store_policy_free(&p);
  assert_int_equal(wd_store_policy_activate(f->s, 2), 0);
  assert_int_equal(wd_store_policy_activate(f->s, 99), -WD_E_NOTFOUND);
  assert_int_equal(wd_store_policy_get_active(f->s, &p), 0);
  assert_int_equal(p.version, 2); /* a failed activation changed nothing */
  wd_store_policy_free(&p);
  assert_int_equal(wd_store_policy_get(f->s, 1, &p), 0);
  assert_int_equal(p.active, 0);
  wd_store_policy_free(&p);
  assert_int_equal(wd_store_policy_get(f->s, 3, &p), -WD_E_NOTFOUND);
}

static void settings(void **state) {
  fixture *f = *state;
  char *v = NULL;
  assert_int_equal(wd_store_setting_get(f->s, WD_SETTING_ADMIN_TOKEN_HASH, &v), -WD_E_NOTFOUND);
  assert_int_equal(wd_store_setting_put(f->s, WD_SETTING_ADMIN_TOKEN_HASH, "h1", 1), 0);
  assert_int_equal(wd_store_setting_put(f->s, WD_SETTING_ADMIN_TOKEN_HASH, "h2", 1), -WD_E_EXISTS);
  assert_int_equal(wd_store_setting_get(f->s, WD_SETTING_ADMIN_TOKEN_HASH, &v), 0);
  assert_string_equal(v, "h1");
  wd_free(v);
  assert_int_equal(wd_store_setting_put(f->s, WD_SETTING_ADMIN_TOKEN_HASH, "h3", 0), 0);
  assert_int_equal(wd_store_setting_get(f->s, WD_SETTING_ADMIN_TOKEN_HASH, &v), 0);
  assert_string_equal(v, "h3");
  wd_free(v);
}

typedef struct count_ctx {
  wd_store *s;
  int ok;
  int rc;
} count_ctx;

static void *count_thread(void *arg) {
  count_ctx *c = arg;
  for (int i = 0; i < 60; i++) {
    wd_call_verdict v;
    int rc = wd_store_task_count_call(c->s, "t1", NOW + 1, &v, NULL);
    if (rc) {
      c->rc = rc;
      break;
    }
    c->ok += v == WD_CALL_OK;
  }
  return NULL;
}

static void budget_is_atomic(void **state) {
  fixture *f = *state;
  pthread_t th[4];
  count_ctx c[4];
  int total = 0;
  add_agent(f->s, "alpha", WD_AGENT_PENDING);
  enrol(f->s, "alpha", "jkt-a");
  open_task(f->s, "t1", "alpha", 100, 60000);
  for (int i = 0; i < 4; i++) {
    c[i] = (count_ctx){.s = f->s};
    pthread_create(&th[i], NULL, count_thread, &c[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(c[i].rc, 0);
    total += c[i].ok;
  }
  assert_int_equal(total, 100); /* 240 attempts, exactly the budget counted */
}

static void survives_reopen(void **state) {
  fixture *f = *state;
  wd_task t = {0};
  int r = 0;
  add_agent(f->s, "alpha", WD_AGENT_PENDING);
  enrol(f->s, "alpha", "jkt-a");
  open_task(f->s, "t1", "alpha", 100, 60000);
  assert_int_equal(wd_store_token_record(f->s, "j1", "t1", NOW + 300000, NOW), 0);
  assert_int_equal(wd_store_token_revoke(f->s, "j1", NOW), 0);
  wd_store_close(f->s);
  f->s = NULL;
  assert_int_equal(wd_store_open(f->path, 0, &f->s), 0);
  assert_int_equal(wd_store_task_get(f->s, "t1", &t), 0);
  wd_store_task_free(&t);
  assert_int_equal(wd_store_token_is_revoked(f->s, "j1", &r), 0);
  assert_int_equal(r, 1);
}

typedef struct mixed_ctx {
  wd_store *s;
  int bad_ok, bad_notfound, good_fail;
} mixed_ctx;

static void *mixed_thread(void *arg) {
  mixed_ctx *c = arg;
  for (int i = 0; i < 50; i++) {
    int rc = wd_store_task_record_call(c->s, "t1", "mail", NULL, NULL, 0);
    c->good_fail += rc != 0;
    rc = wd_store_task_record_call(c->s, "zz", "mail", NULL, NULL, 0);
    c->bad_notfound += rc == -WD_E_NOTFOUND;
    c->bad_ok += rc == 0;
  }
  return NULL;
}

/* Hot writes share transactions (group commit); a failing write in a
 * batch must not undo or fail the others. */
static void grouped_failures_are_isolated(void **state) {
  fixture *f = *state;
  pthread_t th[8];
  mixed_ctx c[8];
  wd_task t = {0};
  add_agent(f->s, "alpha", WD_AGENT_PENDING);
  enrol(f->s, "alpha", "jkt-a");
  open_task(f->s, "t1", "alpha", 10, 60000);
  for (int i = 0; i < 8; i++) {
    c[i] = (mixed_ctx){.s = f->s};
    pthread_create(&th[i], NULL, mixed_thread, &c[i]);
  }
  for (int i = 0; i < 8; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(c[i].good_fail, 0);
    assert_int_equal(c[i].bad_ok, 0);
    assert_int_equal(c[i].bad_notfound, 50);
  }
  assert_int_equal(wd_store_task_get(f->s, "t1", &t), 0);
  assert_int_equal(t.denials, 400);
  wd_store_task_free(&t);
}

/* Allocation failures in reads end in -WD_E_NOMEM with nothing leaked. */
static void allocation_failures(void **state) {
  fixture *f = *state;
  add_agent(f->s, "alpha", WD_AGENT_PENDING);
  enrol(f->s, "alpha", "jkt-a");
  open_task(f->s, "t1", "alpha", 10, 60000);
  assert_int_equal(wd_store_task_record_call(f->s, "t1", "mail", "secret", "ext", 1), 0);
  for (long n = 0; n < 16; n++) {
    wd_agent a = {0};
    wd_agent_list l = {0};
    wd_task t = {0};
    wd_session ss = {0};
    wd_agent e = {0};
    int rc[5];
    wd_test_fail_alloc_after(n);
    rc[0] = wd_store_agent_get(f->s, "spiffe://example.org/agent/alpha", &a);
    rc[1] = wd_store_agent_list(f->s, NULL, WD_LIMIT_STORE_LIST_ROWS, &l);
    rc[2] = wd_store_task_get(f->s, "t1", &t);
    rc[3] = wd_store_task_session(f->s, "t1", &ss);
    rc[4] = wd_store_agent_get_by_jkt(f->s, "jkt-a", &e);
    wd_test_fail_alloc_after(-1);
    for (int i = 0; i < 5; i++)
      assert_true(rc[i] == 0 || rc[i] == -WD_E_NOMEM);
    wd_store_agent_free(&a);
    wd_store_agent_list_free(&l);
    wd_store_task_free(&t);
    wd_store_session_free(&ss);
    wd_store_agent_free(&e);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(migrations_idempotent, setup, teardown),
      cmocka_unit_test_setup_teardown(open_urls, setup, teardown),
      cmocka_unit_test_setup_teardown(agents, setup, teardown),
      cmocka_unit_test_setup_teardown(agent_pages, setup, teardown),
      cmocka_unit_test_setup_teardown(join_tokens, setup, teardown),
      cmocka_unit_test_setup_teardown(status_changes, setup, teardown),
      cmocka_unit_test_setup_teardown(tasks_budget_and_end, setup, teardown),
      cmocka_unit_test_setup_teardown(task_set_intent_fields, setup, teardown),
      cmocka_unit_test_setup_teardown(sessions, setup, teardown),
      cmocka_unit_test_setup_teardown(tokens_and_revocation, setup, teardown),
      cmocka_unit_test_setup_teardown(dpop_replay, setup, teardown),
      cmocka_unit_test(dpop_migration),
      cmocka_unit_test(unusable_files),
      cmocka_unit_test(foreign_database),
      cmocka_unit_test_setup_teardown(policies, setup, teardown),
      cmocka_unit_test_setup_teardown(settings, setup, teardown),
      cmocka_unit_test_setup_teardown(budget_is_atomic, setup, teardown),
      cmocka_unit_test_setup_teardown(survives_reopen, setup, teardown),
      cmocka_unit_test_setup_teardown(grouped_failures_are_isolated, setup, teardown),
      cmocka_unit_test_setup_teardown(allocation_failures, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

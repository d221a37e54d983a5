/* SPDX-License-Identifier: Apache-2.0
 *
 * The governance service in-process on 127.0.0.1:0 with a temp data
 * directory and the starter pack, driven over HTTP with libcurl and
 * wd_ident (keys, DPoP proofs): register -> join token -> enroll -> open
 * task -> allowed call -> denied call -> complete -> old token refused ->
 * the trace holds the chain; plus the first start's records, the log in
 * pages, the largest task the limits allow, no task opening for an agent
 * being stopped, an agent's open tasks listed, a decision with more
 * errors than it lists, the metrics, credential separation, proof
 * replay, an invalid policy set that never replaces the active one, a
 * denied intent change that leaves the task as it was, a damaged
 * record served marked, and the challenge of every 401.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../support/raw_http.h"
#include "gov/gov_int.h"
#include "service_fixture.h"

/* The first start's admin token and signing key each have their record. */
static void test_first_start_recorded(void **state) {
  (void)state;
  assert_int_equal(agent_records("\"admin_token.created\"", "admin.action"), 1);
  assert_int_equal(agent_records("\"source\":\"environment\"", "admin.action"), 1);
  assert_int_equal(agent_records("\"key.rotated\"", "admin.action"), 1);
  assert_int_equal(agent_records("\"reason\":\"start\"", "admin.action"), 1);
}

/* A fresh directory d (from tag) for one start's state at data = d/var. */
static void fresh_dir(const char *tag, char d[64], char data[128]) {
  (void)snprintf(d, 64, "/tmp/wd-gov-%s-XXXXXX", tag);
  assert_non_null(mkdtemp(d));
  (void)snprintf(data, 128, "%s/var", d);
}

/* Stops g and removes d. */
static void stop_and_remove(wd_gov *g, const char *d) {
  assert_int_equal(wd_gov_shutdown(g, 5000), 0);
  wd_gov_free(g);
  char cmd[128];
  (void)snprintf(cmd, sizeof cmd, "rm -rf %s", d);
  assert_int_equal(system(cmd), 0);
}

/* A first start that fails (a policy directory that is not there, a port
 * in use) makes no admin token: the start that succeeds makes and shows
 * one, rather than keep the hash of a token nobody saw. */
static void test_failed_first_start_keeps_no_token(void **state) {
  (void)state;
  char d[64], data[128], err[512] = "";
  fresh_dir("first", d, data);
  wd_gov_opts o;
  memset(&o, 0, sizeof o);
  o.data_dir = data;
  o.policy_dir = "/nonexistent/policies";
  wd_gov *g = NULL;
  char *gen = NULL;
  assert_int_not_equal(wd_gov_start(&o, &g, &gen, err, sizeof err), 0);
  assert_null(gen);
  /* A directory whose text holds no policy: the start says so. */
  char empty[128];
  (void)snprintf(empty, sizeof empty, "%s/policies", d);
  assert_int_equal(mkdir(empty, 0700), 0);
  char f[200];
  (void)snprintf(f, sizeof f, "%s/none.cedar", empty);
  FILE *fp = fopen(f, "w");
  assert_non_null(fp);
  assert_true(fputs("// nothing yet\n", fp) >= 0);
  assert_int_equal(fclose(fp), 0);
  o.policy_dir = empty;
  o.schema_path = WD_TEST_DATA "/../../docs/policies/governance.cedarschema";
  assert_int_equal(wd_gov_start(&o, &g, &gen, err, sizeof err), -WD_E_VALIDATE);
  assert_non_null(strstr(err, "is invalid: the set holds no policy"));
  assert_null(gen);
  o.schema_path = NULL;
  o.policy_dir = WD_TEST_DATA "/../../docs/policies";
  o.port = wd_gov_port(gov); /* the fixture's server holds it */
  assert_int_equal(wd_gov_start(&o, &g, &gen, err, sizeof err), -WD_E_EXISTS);
  assert_non_null(strstr(err, "already in use"));
  assert_null(gen);
  assert_int_not_equal(access(data, F_OK), 0); /* claimed before the state is made */
  o.port = 0;
  assert_int_equal(wd_gov_start(&o, &g, &gen, err, sizeof err), 0);
  assert_non_null(gen);
  wd_ident_secret_free(gen);
  stop_and_remove(g, d);
}

/* A task body with n tools of len bytes each and a purpose of plen bytes. */
static char *big_task(size_t n, size_t len, size_t plen) {
  json_t *tools = json_array();
  char name[512], purpose[512];
  assert_true(len < sizeof name && plen < sizeof purpose);
  for (size_t i = 0; i < n; i++) {
    (void)snprintf(name, sizeof name, "%03zu", i);
    memset(name + 3, 't', len - 3);
    name[len] = '\0';
    assert_int_equal(json_array_append_new(tools, json_string(name)), 0);
  }
  memset(purpose, 'p', plen);
  purpose[plen] = '\0';
  json_t *b =
      json_pack("{s:s, s:s, s:o, s:s, s:i}", "intent", "a task as large as allowed", "purpose",
                purpose, "tools", tools, "classification_ceiling", "internal", "budget", 5);
  char *text = json_dumps(b, JSON_COMPACT);
  json_decref(b);
  return text;
}

/* The largest task the limits allow gets a token every call can still
 * carry in its headers; one tool more, or a longer purpose, is refused
 * naming the field, at opening and at an intent change alike. */
static void test_largest_task(void **state) {
  (void)state;
  resp r;
  char *body = big_task(WD_LIMIT_TASK_TOOLS, WD_LIMIT_TASK_NAME_BYTES, WD_LIMIT_TASK_NAME_BYTES);
  char *p = proof("POST", "/v1/tasks", NULL);
  http("POST", "/v1/tasks", NULL, p, body, &r);
  wd_free(p);
  free(body);
  if (r.status != 201) print_error("%s\n", r.raw);
  assert_int_equal(r.status, 201);
  const char *tok = str(&r, "token");
  assert_true(strlen(tok) > 3000);
  char *auth = malloc(strlen(tok) + 8);
  assert_non_null(auth);
  (void)sprintf(auth, "DPoP %s", tok);
  char id[128];
  (void)snprintf(id, sizeof id, "%s", str(&r, "task_id"));
  resp a;
  p = proof("POST", "/v1/authorize", tok);
  http("POST", "/v1/authorize", auth, p, "{\"tool\":\"fs\",\"operation\":\"read\"}", &a);
  wd_free(p);
  assert_int_equal(a.status, 200);
  clear(&a);

  char path[256];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/intent", id);
  body = big_task(WD_LIMIT_TASK_TOOLS + 1, 8, 8);
  p = proof("POST", path, tok);
  http("POST", path, auth, p, body, &a);
  wd_free(p);
  free(body);
  assert_int_equal(a.status, 400);
  assert_string_equal(err_field(&a), "tools");
  clear(&a);
  free(auth);
  clear(&r);

  static const size_t sizes[][3] = {
      {WD_LIMIT_TASK_TOOLS + 1, 8, 8},
      {1, WD_LIMIT_TASK_NAME_BYTES + 1, 8},
      {1, 8, WD_LIMIT_TASK_NAME_BYTES + 1},
  };
  static const char *const fields[] = {"tools", "tools", "purpose"};
  for (size_t i = 0; i < 3; i++) {
    body = big_task(sizes[i][0], sizes[i][1], sizes[i][2]);
    p = proof("POST", "/v1/tasks", NULL);
    http("POST", "/v1/tasks", NULL, p, body, &r);
    wd_free(p);
    free(body);
    assert_int_equal(r.status, 400);
    assert_string_equal(err_field(&r), fields[i]);
    clear(&r);
  }
}

/* While an agent is being stopped no task of it opens: the opening sees
 * the stop's fence and is refused as for a stopped agent, so the stop
 * ends with records every task the agent has. */
static void test_stopping_agent_opens_nothing(void **state) {
  (void)state;
  const char *id = "spiffe://warden.local/agent/alpha";
  resp r;
  const char *body = "{\"intent\":\"i\",\"purpose\":\"p\",\"tools\":[\"fs\"],"
                     "\"classification_ceiling\":\"internal\",\"budget\":3}";
  assert_int_equal(wd_gov__live_fence_agent(gov->live, id), 0);
  char *p = proof("POST", "/v1/tasks", NULL);
  http("POST", "/v1/tasks", NULL, p, body, &r);
  wd_free(p);
  assert_int_equal(r.status, 403);
  assert_non_null(strstr(r.raw, "agent is not active"));
  clear(&r);
  wd_gov__live_unfence_agent(gov->live, id);
  p = proof("POST", "/v1/tasks", NULL);
  http("POST", "/v1/tasks", NULL, p, body, &r);
  wd_free(p);
  assert_int_equal(r.status, 201);
  clear(&r);
}

/* Whether the open tasks of alpha, as the admin lists them, hold id;
 * *n gets how many there are. */
static int lists_task(const char *id, size_t *n) {
  resp r;
  admin("GET", "/v1/agents/alpha/tasks", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(str(&r, "agent_id"), "spiffe://warden.local/agent/alpha");
  assert_true(json_is_false(json_object_get(r.body, "truncated")));
  json_t *tasks = json_object_get(r.body, "tasks"), *t;
  size_t i;
  int found = 0;
  *n = json_array_size(tasks);
  json_array_foreach(tasks, i, t) {
    assert_string_equal(json_string_value(json_object_get(t, "status")), "open");
    if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0) {
      found = 1;
      assert_string_equal(json_string_value(json_object_get(t, "purpose")), "reporting");
      assert_int_equal(json_integer_value(json_object_get(t, "budget")), 4);
    }
  }
  clear(&r);
  return found;
}

/* The admin finds an agent's open tasks and ends one of them; an agent's
 * credential cannot list them. */
static void test_agent_tasks(void **state) {
  (void)state;
  char task[128], tok[4096], path[256];
  size_t n0, n;
  assert_false(lists_task("none", &n0));
  wd_free(open_task(4, task, sizeof task, tok, sizeof tok));
  assert_true(lists_task(task, &n));
  assert_int_equal(n, n0 + 1);

  resp r;
  call("GET", "/v1/agents/alpha/tasks", tok, NULL, &r);
  assert_int_equal(r.status, 401);
  clear(&r);
  admin("GET", "/v1/agents/nobody/tasks", NULL, &r);
  assert_int_equal(r.status, 404);
  clear(&r);

  (void)snprintf(path, sizeof path, "/v1/tasks/%s/cancel", task);
  admin("POST", path, "{\"reason\":\"incident 42\"}", &r);
  assert_int_equal(r.status, 200);
  clear(&r);
  assert_false(lists_task(task, &n));
  assert_int_equal(n, n0);
}

/* PUT /v1/policies with text; the status must be want. */
static void put_policies(const char *text, long want) {
  resp r;
  json_t *bj = json_pack("{s:s}", "policies", text);
  char *body = json_dumps(bj, JSON_COMPACT);
  json_decref(bj);
  admin("PUT", "/v1/policies", body, &r);
  assert_int_equal(r.status, want);
  clear(&r);
  free(body);
}

/* The active policy set's text (owned). */
static char *active_policies(void) {
  resp r;
  admin("GET", "/v1/policies", NULL, &r);
  char *active = strdup(str(&r, "policies"));
  assert_non_null(active);
  clear(&r);
  return active;
}

/* Activates the active set plus extra; returns the set it replaced
 * (owned), for put_policies to bring back. */
static char *add_policy(const char *extra) {
  char *active = active_policies();
  size_t cap = strlen(active) + strlen(extra) + 2;
  char *text = malloc(cap);
  assert_non_null(text);
  (void)snprintf(text, cap, "%s\n%s", active, extra);
  put_policies(text, 200);
  free(text);
  return active;
}

/* A set where more policies error than a decision lists: the decision is
 * still made, answered and recorded (it was a 500 with no record), its
 * lists hold WD_LIMIT_DECISION_ITEMS members and one that counts the
 * rest. */
static void test_many_errors_listed_in_part(void **state) {
  (void)state;
  resp r;
  char *active = active_policies();
  size_t extra = WD_LIMIT_DECISION_ITEMS + 36, cap = strlen(active) + extra * 160, n = 0;
  char *text = malloc(cap);
  assert_non_null(text);
  n += (size_t)snprintf(text, cap, "%s", active);
  for (size_t i = 0; i < extra; i++)
    n += (size_t)snprintf(text + n, cap - n,
                          "@id(\"ov%zu\")\nforbid(principal, action, resource) when "
                          "{ context.risk * 9223372036854775807 > %zu };\n",
                          i, i);
  put_policies(text, 200);

  const char *task = "{\"intent\":\"i\",\"purpose\":\"p\",\"tools\":[\"fs\"],"
                     "\"classification_ceiling\":\"internal\",\"budget\":3}";
  char *p = proof("POST", "/v1/tasks", NULL);
  http("POST", "/v1/tasks", NULL, p, task, &r);
  wd_free(p);
  assert_int_equal(r.status, 403);
  const json_t *errs = json_object_get(r.body, "errors");
  assert_int_equal(json_array_size(errs), WD_LIMIT_DECISION_ITEMS + 1);
  assert_string_equal(
      json_string_value(json_object_get(json_array_get(errs, WD_LIMIT_DECISION_ITEMS), "message")),
      "36 more errors not listed");
  assert_int_equal(json_array_size(json_object_get(r.body, "policies")),
                   WD_LIMIT_DECISION_ITEMS + 1);
  assert_non_null(str(&r, "decision_id"));
  clear(&r);
  put_policies(active, 200);
  free(text);
  free(active);
}

/* One sample's value in a Prometheus text body; -1 when absent. */
static long long metric(const char *text, const char *sample) {
  char want[160];
  (void)snprintf(want, sizeof want, "\n%s ", sample);
  const char *p = strstr(text, want);
  return p ? strtoll(p + strlen(want), NULL, 10) : -1;
}

/* GET /metrics, for the admin only: the counters of what the tests
 * before this one did, in the Prometheus text format. */
static void test_metrics(void **state) {
  (void)state;
  resp r;
  http("GET", "/metrics", NULL, NULL, NULL, &r);
  assert_int_equal(r.status, 401);
  clear(&r);
  admin("GET", "/metrics", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_null(r.body); /* not JSON */
  assert_non_null(strstr(r.raw, "# TYPE warden_decisions_total counter\n"));
  assert_true(metric(r.raw, "warden_decisions_total{decision=\"allow\"}") >= 1);
  assert_true(metric(r.raw, "warden_decisions_total{decision=\"deny\"}") >= 1);
  assert_true(metric(r.raw, "warden_tasks_opened_total") >= 1);
  assert_true(metric(r.raw, "warden_tasks_ended_total") >= 1);
  assert_true(metric(r.raw, "warden_http_responses_total{class=\"2xx\"}") >= 5);
  assert_true(metric(r.raw, "warden_http_responses_total{class=\"4xx\"}") >= 1);
  assert_true(metric(r.raw, "warden_audit_records_total") >= 5);
  assert_int_equal(metric(r.raw, "warden_audit_failures_total"), 0);
  assert_true(metric(r.raw, "warden_policy_version") >= 1);
  assert_true(metric(r.raw, "warden_start_time_seconds") > 1700000000);
  clear(&r);
}

/* The log in pages: each names the first record of the next, the last
 * names none, and bad bounds are refused naming the parameter. */
static void test_audit_pages(void **state) {
  (void)state;
  resp r;
  admin("GET", "/v1/audit/records?from=1&limit=2", NULL, &r);
  assert_int_equal(r.status, 200);
  json_t *recs = json_object_get(r.body, "records");
  assert_int_equal(json_array_size(recs), 2);
  assert_int_equal(json_integer_value(json_object_get(json_array_get(recs, 1), "seq")), 2);
  assert_int_equal(json_integer_value(json_object_get(r.body, "next")), 3);
  const char *h1 = json_string_value(json_object_get(json_array_get(recs, 0), "hash"));
  assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 1), "prev_hash")), h1);
  clear(&r);
  admin("GET", "/v1/audit/records?from=1000000", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(json_array_size(json_object_get(r.body, "records")), 0);
  assert_true(json_is_null(json_object_get(r.body, "next")));
  clear(&r);
  static const char *const bad[][2] = {
      {"/v1/audit/records?from=0", "from"},      {"/v1/audit/records?from=x", "from"},
      {"/v1/audit/records?limit=1001", "limit"}, {"/v1/audit/records?from=+1", "from"},
      {"/v1/audit/records?from=%201", "from"},   {"/v1/audit/records?limit=5&limit=abc", "limit"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    admin("GET", bad[i][0], NULL, &r);
    assert_int_equal(r.status, 400);
    assert_string_equal(err_field(&r), bad[i][1]);
    clear(&r);
  }
}

static void test_lifecycle(void **state) {
  (void)state;
  resp r;
  char body[2048];
  enrol("alpha", body, sizeof body);
  /* Single use. */
  enrol_post(body, &r);
  assert_int_equal(r.status, 401);
  clear(&r);

  char task[128], tok[4096];
  char *p = open_task(10, task, sizeof task, tok, sizeof tok);
  /* The same proof again is a replay. */
  http("POST", "/v1/tasks", NULL, p, "{}", &r);
  assert_int_equal(r.status, 401);
  clear(&r);
  wd_free(p);

  call("POST", "/v1/authorize", tok, CALL_OK, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(str(&r, "decision"), "allow");
  assert_non_null(str(&r, "decision_id"));
  clear(&r);

  call("POST", "/v1/authorize", tok, CALL_BAD, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(str(&r, "decision"), "deny");
  clear(&r);

  /* A missing field is named. */
  call("POST", "/v1/authorize", tok, "{\"operation\":\"read\"}", &r);
  assert_int_equal(r.status, 400);
  assert_string_equal(err_field(&r), "tool");
  clear(&r);

  /* Credentials never cross: admin token on an agent route, agent token
   * on an admin route. */
  http("POST", "/v1/authorize", "Bearer " ADMIN, NULL, CALL_OK, &r);
  assert_int_equal(r.status, 401);
  clear(&r);
  call("GET", "/v1/agents", tok, NULL, &r);
  assert_int_equal(r.status, 401);
  clear(&r);

  char path[256];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/complete", task);
  call("POST", path, tok, "{\"reason\":\"done\"}", &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(str(&r, "status"), "completed");
  clear(&r);

  call("POST", "/v1/authorize", tok, CALL_OK, &r);
  assert_int_equal(r.status, 401);
  clear(&r);

  (void)snprintf(path, sizeof path, "/v1/audit/tasks/%s", task);
  admin("GET", path, NULL, &r);
  assert_int_equal(r.status, 200);
  const char *want[] = {"task.opened",    "token.issued",  "authz.decision",
                        "authz.decision", "token.revoked", "task.ended"};
  json_t *recs = json_object_get(r.body, "records");
  assert_int_equal(json_array_size(recs), 6);
  for (size_t i = 0; i < 6; i++)
    assert_string_equal(json_string_value(json_object_get(json_array_get(recs, i), "type")),
                        want[i]);
  clear(&r);

  /* The answer names the last record by seq and hash, as the log holds it. */
  admin("GET", "/v1/audit/verify", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_true(json_is_true(json_object_get(r.body, "ok")));
  json_int_t n = json_integer_value(json_object_get(r.body, "records"));
  assert_true(n >= 6);
  assert_int_equal(json_integer_value(json_object_get(r.body, "last_seq")), n);
  char last[65];
  assert_non_null(str(&r, "last_hash"));
  (void)snprintf(last, sizeof last, "%s", str(&r, "last_hash"));
  clear(&r);
  (void)snprintf(path, sizeof path, "/v1/audit/records?from=%lld", (long long)n);
  admin("GET", path, NULL, &r);
  assert_int_equal(r.status, 200);
  json_t *tail = json_array_get(json_object_get(r.body, "records"), 0);
  assert_int_equal(json_integer_value(json_object_get(tail, "seq")), n);
  assert_string_equal(json_string_value(json_object_get(tail, "hash")), last);
  clear(&r);
}

static void test_invalid_policy_kept_out(void **state) {
  (void)state;
  resp r;
  admin("GET", "/v1/policies", NULL, &r);
  json_int_t v = json_integer_value(json_object_get(r.body, "version"));
  clear(&r);
  admin("PUT", "/v1/policies", "{\"policies\":\"permit(principal, action, resource) when { 1 };\"}",
        &r);
  assert_int_equal(r.status, 422);
  clear(&r);
  admin("PUT", "/v1/policies", "{\"policies\":\"permit(principal,\"}", &r);
  assert_int_equal(r.status, 422);
  clear(&r);
  /* Text with no policy in it (comments, a template alone) would deny
   * every request: refused, saying how to do that on purpose. */
  static const char *const empty[] = {
      "{\"policies\":\"   \\n\"}", "{\"policies\":\"// nothing here\"}",
      "{\"policies\":\"permit(principal == ?principal, action, resource);\"}"};
  for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
    admin("PUT", "/v1/policies", empty[i], &r);
    assert_int_equal(r.status, 422);
    assert_non_null(strstr(r.raw, "holds no policy"));
    clear(&r);
  }
  admin("GET", "/v1/policies", NULL, &r);
  assert_int_equal(json_integer_value(json_object_get(r.body, "version")), v);
  char *active = strdup(str(&r, "policies"));
  assert_non_null(active);
  clear(&r);

  /* A set far larger than other text fields (they stop at 8 KiB) is
   * taken whole: 1,000 extra policies. */
  size_t cap = strlen(active) + 1000 * 128 + 1, n = 0;
  char *big = malloc(cap);
  assert_non_null(big);
  n += (size_t)snprintf(big, cap, "%s", active);
  for (int i = 0; i < 1000; i++)
    n += (size_t)snprintf(big + n, cap - n,
                          "@id(\"extra-%d\")\nforbid(principal == Agent::\"spiffe://warden.local/"
                          "agent/x%d\", action, resource);\n",
                          i, i);
  assert_true(n > 100000);
  put_policies(big, 200);
  /* Read back from the store: the answer is past this client's buffer. */
  char db[256];
  (void)snprintf(db, sizeof db, "sqlite:%s/var/warden.db", dir);
  wd_store *st = NULL;
  wd_policy_version pv = {0};
  assert_int_equal(wd_store_open(db, WD_STORE_READONLY, &st), 0);
  assert_int_equal(wd_store_policy_get_active(st, &pv), 0);
  assert_string_equal(pv.text, big);
  wd_store_policy_free(&pv);
  wd_store_close(st);
  /* Back to the set the other tests expect. */
  put_policies(active, 200);
  free(big);
  free(active);
}

/* A denied intent change revokes the current token and records the
 * decision, but leaves the task's intent, purpose and tools as they were. */
static void test_denied_intent_keeps_the_task(void **state) {
  (void)state;
  resp r;
  char *active = add_policy("@id(\"no-exfil\")\nforbid(principal, action == "
                            "Action::\"task.change_intent\", resource) when { "
                            "context.task.purpose == \"exfil\" };\n");

  char task[128], tok[4096], path[256];
  wd_free(open_task(10, task, sizeof task, tok, sizeof tok));
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/intent", task);
  call("POST", path, tok,
       "{\"intent\":\"copy everything out\",\"purpose\":\"exfil\","
       "\"tools\":[\"fs\",\"http\",\"shell\"]}",
       &r);
  assert_int_equal(r.status, 403);
  clear(&r);
  wd_task t = {0};
  stored_task(task, &t);
  assert_string_equal(t.intent, "summarise the report");
  assert_string_equal(t.purpose, "reporting");
  assert_string_equal(t.expected_tools, "[\"fs\",\"http\"]");
  assert_int_equal(t.status, WD_TASK_OPEN);
  wd_store_task_free(&t);
  call("POST", "/v1/authorize", tok, CALL_OK, &r);
  assert_int_equal(r.status, 401); /* the old token went all the same */
  clear(&r);
  assert_int_equal(count_records(task, "task.intent_changed"), 0);
  assert_int_equal(count_records(task, "token.revoked"), 1);
  assert_int_equal(count_records(task, "authz.decision"), 1);
  put_policies(active, 200);
  free(active);
}

/* A denied renewal is a decision on record and nothing more: the task
 * keeps its token. */
static void test_denied_renewal_keeps_the_token(void **state) {
  (void)state;
  resp r;
  char *active =
      add_policy("@id(\"no-renewal\")\nforbid(principal, action == Action::\"task.renew\", "
                 "resource);\n");
  char task[128], tok[4096], path[256];
  wd_free(open_task(10, task, sizeof task, tok, sizeof tok));
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/renew", task);
  call("POST", path, tok, "{}", &r);
  assert_int_equal(r.status, 403);
  assert_non_null(strstr(r.raw, "no-renewal"));
  clear(&r);
  call("POST", "/v1/authorize", tok, CALL_OK, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(str(&r, "decision"), "allow");
  clear(&r);
  assert_int_equal(count_records(task, "token.revoked"), 0);
  assert_int_equal(count_records(task, "token.renewed"), 0);
  assert_int_equal(count_records(task, "authz.decision"), 2);
  put_policies(active, 200);
  free(active);
}

/* Last: it damages the log. A record whose stored payload holds a NUL
 * byte is served marked, since what follows the NUL cannot be shown, and
 * the chain no longer verifies from it. */
static void test_damaged_record_named(void **state) {
  (void)state;
  static const char tail[] = "\0{\"hidden\":1}";
  char db[256];
  (void)snprintf(db, sizeof db, "%s/var/warden.db", dir);
  sqlite3 *h = NULL;
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
  sqlite3_busy_timeout(h, 5000);
  assert_int_equal(sqlite3_exec(h, "DROP TRIGGER IF EXISTS audit_no_update", NULL, NULL, NULL),
                   SQLITE_OK);
  assert_int_equal(
      sqlite3_prepare_v2(h, "UPDATE audit SET payload = payload || ?1 WHERE seq = 2", -1, &q, NULL),
      SQLITE_OK);
  assert_int_equal(sqlite3_bind_text(q, 1, tail, (int)sizeof tail - 1, SQLITE_STATIC), SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_DONE);
  sqlite3_finalize(q);
  sqlite3_close(h);

  resp r;
  admin("GET", "/v1/audit/records?from=1&limit=3", NULL, &r);
  assert_int_equal(r.status, 200);
  json_t *recs = json_object_get(r.body, "records");
  assert_null(json_object_get(json_array_get(recs, 0), "damaged"));
  assert_string_equal(json_string_value(json_object_get(json_array_get(recs, 1), "damaged")),
                      "payload");
  clear(&r);
  admin("GET", "/v1/audit/verify", NULL, &r);
  assert_true(json_is_false(json_object_get(r.body, "ok")));
  assert_int_equal(
      json_integer_value(json_object_get(json_object_get(r.body, "first_broken"), "seq")), 2);
  clear(&r);
}

static void keep_warning(void *ctx, const char *msg) { (void)snprintf(ctx, 512, "%s", msg); }

/* A chosen first admin token that repeats a few characters is taken, with
 * a warning: only its hash is stored, and a leaked database would give
 * it away. A random hex token is not warned about. */
static void test_weak_admin_token_warned(void **state) {
  (void)state;
  assert_true(wd_gov__admin_token_bits("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") == 0.0);
  assert_true(wd_gov__admin_token_bits("abababababababababababababababab") == 32.0);
  assert_true(wd_gov__admin_token_bits("0123456789abcdef0123456789abcdef") == 128.0);
  static const struct {
    const char *token;
    int warned;
  } rows[] = {{"abababababababababababababababab", 1}, {"9f86d081884c7d659a2feaa0c55ad015", 0}};
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char d[64], data[128], err[512] = "", warned[512] = "";
    fresh_dir("weak", d, data);
    wd_gov_opts o;
    memset(&o, 0, sizeof o);
    o.data_dir = data;
    o.policy_dir = WD_TEST_DATA "/../../docs/policies";
    o.admin_token = rows[i].token;
    o.warn = keep_warning;
    o.warn_ctx = warned;
    wd_gov *g = NULL;
    char *gen = NULL;
    assert_int_equal(wd_gov_start(&o, &g, &gen, err, sizeof err), 0);
    assert_int_equal(strstr(warned, "repeats a few characters") != NULL, rows[i].warned);
    wd_ident_secret_free(gen);
    stop_and_remove(g, d);
  }
}

/* The status of one request (head lines without the blank line, no
 * body), and its WWW-Authenticate value in chal ("" when absent). */
static long challenge_of(const char *head, char *chal, size_t cap) {
  int fd = raw_open(wd_gov_port(gov));
  char req[12288];
  (void)snprintf(req, sizeof req, "%sHost: 127.0.0.1\r\nConnection: close\r\n\r\n", head);
  raw_send(fd, req);
  char buf[8192];
  long status = raw_answer_whole(fd, buf, sizeof buf);
  chal[0] = '\0';
  const char *h = strstr(buf, "\r\nWWW-Authenticate: ");
  if (h) {
    h += strlen("\r\nWWW-Authenticate: ");
    (void)snprintf(chal, cap, "%.*s", (int)strcspn(h, "\r"), h);
  }
  return status;
}

/* Every 401 of a route that needs credentials says which scheme it wants
 * (RFC 6750, RFC 9449 section 7.1), and names the error once credentials
 * were sent: a bad proof apart from a bad token. */
static void test_challenges(void **state) {
  (void)state;
  static const struct {
    const char *head;
    long status;
    const char *chal;
  } rows[] = {
      {"GET /v1/agents HTTP/1.1\r\n", 401, "Bearer realm=\"warden\""},
      {"GET /v1/agents HTTP/1.1\r\nAuthorization: Bearer nope\r\n", 401,
       "Bearer realm=\"warden\", error=\"invalid_token\""},
      {"POST /v1/authorize HTTP/1.1\r\nContent-Length: 0\r\n", 401, "DPoP algs=\"EdDSA ES256\""},
      {"POST /v1/authorize HTTP/1.1\r\nAuthorization: DPoP a.b.c\r\nContent-Length: 0\r\n", 401,
       "DPoP algs=\"EdDSA ES256\", error=\"invalid_token\""},
      {"POST /v1/tasks HTTP/1.1\r\nDPoP: a.b.c\r\nContent-Length: 0\r\n", 401,
       "DPoP algs=\"EdDSA ES256\", error=\"invalid_dpop_proof\""},
      /* A task route an admin may call: a refused Bearer token is told so. */
      {"GET /v1/tasks/t1 HTTP/1.1\r\nAuthorization: Bearer nope\r\n", 401,
       "Bearer realm=\"warden\", error=\"invalid_token\""},
      {"POST /v1/enroll HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 0\r\n", 400,
       ""},
      {"GET /healthz HTTP/1.1\r\n", 200, ""},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char chal[256];
    long st = challenge_of(rows[i].head, chal, sizeof chal);
    if (st != rows[i].status || strcmp(chal, rows[i].chal) != 0)
      fail_msg("row %zu: %ld \"%s\", want %ld \"%s\"", i, st, chal, rows[i].status, rows[i].chal);
  }
  /* A token that verifies but comes with a proof made for another
   * request: the proof is at fault. */
  char task[128], tok[4096];
  char *p = open_task(5, task, sizeof task, tok, sizeof tok);
  wd_free(p);
  char *other = proof("GET", "/v1/agents", tok);
  char head[8192];
  (void)snprintf(head, sizeof head,
                 "POST /v1/authorize HTTP/1.1\r\nAuthorization: DPoP %s\r\nDPoP: %s\r\n"
                 "Content-Length: 0\r\n",
                 tok, other);
  wd_free(other);
  char chal[256];
  assert_int_equal(challenge_of(head, chal, sizeof chal), 401);
  assert_string_equal(chal, "DPoP algs=\"EdDSA ES256\", error=\"invalid_dpop_proof\"");
  /* Enrolment's 401s too: its proof binds the key it enrols. */
  char *jwk = NULL, body[2048];
  assert_int_equal(wd_ident_key_to_jwk(key, NULL, &jwk), 0);
  (void)snprintf(body, sizeof body,
                 "{\"agent\":\"alpha\",\"join_token\":\"nope\",\"public_jwk\":%s}", jwk);
  wd_free(jwk);
  (void)snprintf(head, sizeof head,
                 "POST /v1/enroll HTTP/1.1\r\nContent-Type: application/json\r\n"
                 "Content-Length: %zu\r\n",
                 strlen(body));
  int fd = raw_open(wd_gov_port(gov));
  char req[4096], buf[8192];
  (void)snprintf(req, sizeof req, "%sHost: 127.0.0.1\r\nConnection: close\r\n\r\n%s", head, body);
  raw_send(fd, req);
  assert_int_equal(raw_answer_whole(fd, buf, sizeof buf), 401);
  assert_non_null(strstr(buf, "\r\nWWW-Authenticate: DPoP algs=\"EdDSA ES256\"\r\n"));
}

int main(void) {
  curl_global_init(CURL_GLOBAL_ALL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_first_start_recorded),
      cmocka_unit_test(test_failed_first_start_keeps_no_token),
      cmocka_unit_test(test_weak_admin_token_warned),
      cmocka_unit_test(test_lifecycle),
      cmocka_unit_test(test_audit_pages),
      cmocka_unit_test(test_largest_task),
      cmocka_unit_test(test_stopping_agent_opens_nothing),
      cmocka_unit_test(test_agent_tasks),
      cmocka_unit_test(test_many_errors_listed_in_part),
      cmocka_unit_test(test_metrics),
      cmocka_unit_test(test_invalid_policy_kept_out),
      cmocka_unit_test(test_denied_intent_keeps_the_task),
      cmocka_unit_test(test_denied_renewal_keeps_the_token),
      cmocka_unit_test(test_damaged_record_named),
      cmocka_unit_test(test_challenges),
  };
  int rc = cmocka_run_group_tests(tests, setup, teardown);
  curl_global_cleanup();
  return rc;
}

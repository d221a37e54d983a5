/* SPDX-License-Identifier: Apache-2.0
 *
 * Call arguments reach Cedar where the action's context declares them. A
 * policy directory like the starter pack, except that fs.read's context
 * declares call.args.path and a policy forbids reading under /etc: the
 * path decides the call, an undeclared extra argument is dropped (Cedar
 * records are closed, so passing it would make the request invalid)
 * whatever it holds, a declared argument missing or of the wrong type
 * denies (fail closed), another action's context does not get it, args
 * that are not an object are refused (400 naming args), and the decision
 * record each answer points at keeps every argument as sent.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "e2e.h"

#define POLICIES WD_E2E_SRC "/docs/policies"

static const char FS_READ_CONTEXT[] =
    "type FsReadContext = {\n"
    "  task: TaskInfo,\n"
    "  call: { tool: Tool, operation: String, classification: Classification,\n"
    "          classification_rank: Long,\n"
    "          destination: Destination, environment: String, args: { path: String } },\n"
    "  session: SessionInfo,\n"
    "  time: __cedar::datetime,\n"
    "  risk: Long,\n"
    "};\n";

static const char NO_ETC[] = "@id(\"no-etc\")\n@reason(\"no reading under /etc\")\n"
                             "forbid (principal, action == Action::\"fs.read\", resource)\n"
                             "when { context.call.args.path like \"/etc/*\" };\n";

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  (void)fclose(f);
  return buf;
}

static void put(const char *dir, const char *name, const char *text) {
  char path[512];
  (void)snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fputs(text, f) >= 0, 1);
  assert_int_equal(fclose(f), 0);
}

/* The starter pack with fs.read's context replaced, plus the policy. */
static void make_policy_dir(char *dir) {
  DIR *d = opendir(POLICIES);
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n > 6 && strcmp(e->d_name + n - 6, ".cedar") == 0) {
      char path[512];
      (void)snprintf(path, sizeof path, "%s/%s", POLICIES, e->d_name);
      put(dir, e->d_name, slurp(path));
    }
  }
  (void)closedir(d);
  put(dir, "zz-no-etc.cedar", NO_ETC);
  const char *schema = slurp(POLICIES "/governance.cedarschema");
  static const char from[] = "action \"fs.read\" in [fs, read] appliesTo {\n"
                             "  principal: Agent,\n"
                             "  resource: [Tool, Data],\n"
                             "  context: CallContext,";
  const char *at = strstr(schema, from);
  assert_non_null(at);
  static char out[1 << 16];
  (void)snprintf(out, sizeof out, "%s%.*s%s%s", FS_READ_CONTEXT, (int)(at - schema), schema,
                 "action \"fs.read\" in [fs, read] appliesTo {\n"
                 "  principal: Agent,\n"
                 "  resource: [Tool, Data],\n"
                 "  context: FsReadContext,",
                 at + sizeof from - 1);
  put(dir, "governance.cedarschema", out);
}

static void remove_dir(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char file[512];
    (void)snprintf(file, sizeof file, "%s/%s", dir, e->d_name);
    (void)unlink(file);
  }
  if (d) (void)closedir(d);
  (void)rmdir(dir);
}

static e2e_server srv;

/* One call of the task and what must come of it. */
typedef struct row {
  const char *tool, *op;
  const char *args; /* JSON text, NULL = no "args" member */
  const char *decision;
  const char *policy; /* a determining policy that must be listed, or NULL */
  int no_etc;         /* 1: no-etc must be listed; 0: it must not be */
} row;

static const row ROWS[] = {
    /* The declared argument decides. */
    {"fs", "read", "{\"path\":\"/etc/passwd\"}", "deny", "no-etc", 1},
    {"fs", "read", "{\"path\":\"/etc/\"}", "deny", "no-etc", 1},
    {"fs", "read", "{\"path\":\"/tmp/report.txt\"}", "allow", NULL, 0},
    {"fs", "read", "{\"path\":\"/ETC/passwd\"}", "allow", NULL, 0}, /* like is exact */
    /* Undeclared arguments are dropped, whatever they hold: even values
     * Cedar could not take (null, an entity or extension escape). Floats
     * are test_float_args's. */
    {"fs", "read", "{\"path\":\"/tmp/x\",\"extra\":1}", "allow", NULL, 0},
    {"fs", "read",
     "{\"path\":\"/tmp/x\",\"n\":null,\"l\":[1,[2,{}]],"
     "\"e\":{\"__entity\":{\"type\":\"Agent\",\"id\":\"x\"}},"
     "\"o\":{\"__extn\":{\"fn\":\"ip\",\"arg\":\"bad\"}}}",
     "allow", NULL, 0},
    /* Strings that need escapes, and keys out of order: the record is
     * written as canonical text, which builds with assertions check. */
    {"fs", "read",
     "{\"z\":\"\\\"q\\\" \\\\ "
     "\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\\/\",\"path\":\"/tmp/\\u00e9\\ud83d\\ude00\","
     "\"A\":{\"b\":[\"\\u2028\"],\"a\":\"\"}}",
     "allow", NULL, 0},
    /* An undeclared argument named like a policy's cannot smuggle a value
     * past it: only the declared path is read. */
    {"fs", "read", "{\"path\":\"/tmp/x\",\"Path\":\"/etc/passwd\"}", "allow", NULL, 0},
    /* A declared argument that is missing or of the wrong type makes the
     * request invalid: fail closed. */
    {"fs", "read", "{}", "deny", NULL, 0},
    {"fs", "read", NULL, "deny", NULL, 0},
    {"fs", "read", "{\"path\":5}", "deny", NULL, 0},
    {"fs", "read", "{\"path\":null}", "deny", NULL, 0},
    {"fs", "read", "{\"path\":[\"/tmp/x\"]}", "deny", NULL, 0},
    {"fs", "read", "{\"path\":{\"__entity\":{\"type\":\"Tool\",\"id\":\"fs\"}}}", "deny", NULL, 0},
    {"fs", "read", "{\"path\":{\"__extn\":{\"fn\":\"ip\",\"arg\":\"10.0.0.1\"}}}", "deny", NULL, 0},
    /* Another action's context declares no path: the argument does not
     * reach Cedar there, and no-etc (about fs.read) is not determining. */
    {"fs", "write", "{\"path\":\"/etc/passwd\"}", NULL, NULL, 0},
};

/* Makes the call, checks the answer, returns the decision id. */
static long call(const e2e_agent *a, const e2e_task *t, const row *w) {
  char body[1024];
  (void)snprintf(body, sizeof body,
                 "{\"tool\":\"%s\",\"operation\":\"%s\",\"classification\":\"internal\","
                 "\"environment\":\"prod\"%s%s}",
                 w->tool, w->op, w->args ? ",\"args\":" : "", w->args ? w->args : "");
  e2e_resp r;
  long status = e2e_authorize(NULL, &srv, a->key, t->token, body, &r);
  if (status != 200) {
    char *dump = r.body ? json_dumps(r.body, JSON_COMPACT) : NULL;
    print_error("%s: %ld %s\n", body, status, dump ? dump : "");
    free(dump);
  }
  assert_int_equal(status, 200);
  const char *got = e2e_decision(&r);
  if (w->decision && strcmp(got, w->decision) != 0) {
    char *dump = json_dumps(r.body, JSON_COMPACT);
    print_error("%s.%s %s: %s\n", w->tool, w->op, w->args ? w->args : "(none)", dump);
    free(dump);
  }
  if (w->decision) assert_string_equal(got, w->decision);
  if (w->policy) assert_true(e2e_has_policy(&r, w->policy));
  assert_int_equal(e2e_has_policy(&r, "no-etc"), w->no_etc);
  if (w->no_etc) {
    const char *why = NULL;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(r.body, "policies"), i, p) {
      if (strcmp(json_string_value(json_object_get(p, "id")), "no-etc") == 0)
        why = json_string_value(json_object_get(p, "reason"));
    }
    assert_non_null(why);
    assert_string_equal(why, "no reading under /etc");
  }
  const char *id = json_string_value(json_object_get(r.body, "decision_id"));
  assert_non_null(id);
  long seq = strtol(id, NULL, 10);
  assert_true(seq > 0);
  e2e_resp_clear(&r);
  return seq;
}

/* args that are not an object are refused before any decision. */
static void refused(const e2e_agent *a, const e2e_task *t, const char *args) {
  char body[256];
  (void)snprintf(body, sizeof body, "{\"tool\":\"fs\",\"operation\":\"read\",\"args\":%s}", args);
  e2e_resp r;
  assert_int_equal(e2e_authorize(NULL, &srv, a->key, t->token, body, &r), 400);
  assert_string_equal(e2e_err_field(&r), "args");
  e2e_resp_clear(&r);
}

static void test_args(void **state) {
  (void)state;
  char dir[] = "/tmp/wd-e2e-policies-XXXXXX";
  assert_non_null(mkdtemp(dir));
  make_policy_dir(dir);
  (void)snprintf(srv.policy_dir, sizeof srv.policy_dir, "%s", dir);
  e2e_agent a;
  assert_int_equal(e2e_start_with_agent(&srv, "reader", "standard", &a), 0);
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &a, 100, 900, &t), 201);

  enum { N = sizeof ROWS / sizeof ROWS[0] };
  long ids[N];
  for (size_t i = 0; i < N; i++)
    ids[i] = call(&a, &t, &ROWS[i]);
  refused(&a, &t, "\"/etc/passwd\"");
  refused(&a, &t, "[\"/etc/passwd\"]");
  refused(&a, &t, "5");

  /* The evidence keeps every argument as sent, declared or not, in the
   * decision record the answer pointed at; refused calls left none. */
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/audit/tasks/%s", t.id);
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "GET", path, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  json_t *recs = json_object_get(r.body, "records");
  size_t decisions = 0, k;
  json_t *rec;
  json_array_foreach(recs, k, rec) {
    if (strcmp(json_string_value(json_object_get(rec, "type")), "authz.decision") == 0) decisions++;
  }
  assert_int_equal(decisions, N);
  for (size_t i = 0; i < N; i++) {
    json_t *found = NULL;
    json_array_foreach(recs, k, rec) {
      if (json_integer_value(json_object_get(rec, "seq")) == ids[i]) found = rec;
    }
    assert_non_null(found);
    assert_string_equal(json_string_value(json_object_get(found, "type")), "authz.decision");
    json_t *pl = json_object_get(found, "payload");
    const char *decision = json_string_value(json_object_get(pl, "decision"));
    assert_non_null(decision);
    if (ROWS[i].decision) assert_string_equal(decision, ROWS[i].decision);
    /* Every decided call was counted once, in order. */
    assert_int_equal(json_integer_value(json_object_get(pl, "call")), (json_int_t)(i + 1));
    json_t *kept = json_object_get(pl, "args");
    if (!ROWS[i].args) {
      assert_true(kept == NULL || json_is_null(kept) ||
                  (json_is_object(kept) && json_object_size(kept) == 0));
      continue;
    }
    json_t *sent = json_loads(ROWS[i].args, 0, NULL);
    assert_non_null(sent);
    if (!json_equal(sent, kept)) {
      char *dump = json_dumps(kept, JSON_COMPACT);
      print_error("row %zu: evidence args %s, sent %s\n", i, dump ? dump : "(none)", ROWS[i].args);
      free(dump);
    }
    assert_true(json_equal(sent, kept));
    json_decref(sent);
  }
  e2e_resp_clear(&r);
  long n = 0;
  assert_int_equal(e2e_audit_verify(&srv, &n), 1);

  e2e_task_clear(&t);
  assert_int_equal(e2e_stop_with_agent(&srv, &a), 0);
  remove_dir(dir);
}

/* A JSON number with a fraction or exponent in args, declared or not: the
 * call is either decided (200, with its decision record) or refused as a
 * bad field (400 naming args), never an internal error. The evidence's
 * canonical encoding has no reals, so the record keeps each one as its
 * shortest decimal text (gov_authz.c). */
static void test_float_args(void **state) {
  (void)state;
  char dir[] = "/tmp/wd-e2e-policies-XXXXXX";
  assert_non_null(mkdtemp(dir));
  make_policy_dir(dir);
  memset(&srv, 0, sizeof srv);
  (void)snprintf(srv.policy_dir, sizeof srv.policy_dir, "%s", dir);
  e2e_agent a;
  assert_int_equal(e2e_start_with_agent(&srv, "floats", "standard", &a), 0);
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&srv, &a, 100, 900, &t), 201);
  static const char *const args[] = {
      "{\"path\":\"/tmp/x\",\"temperature\":0.7}",
      "{\"path\":\"/tmp/x\",\"n\":1e3}",
      "{\"path\":1.5}",
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) {
    long before = e2e_audit_count(&srv, t.id, "authz.decision");
    char body[256];
    (void)snprintf(body, sizeof body,
                   "{\"tool\":\"fs\",\"operation\":\"read\",\"classification\":\"internal\","
                   "\"environment\":\"prod\",\"args\":%s}",
                   args[i]);
    e2e_resp r;
    long status = e2e_authorize(NULL, &srv, a.key, t.token, body, &r);
    long after = e2e_audit_count(&srv, t.id, "authz.decision");
    int ok = (status == 200 && after == before + 1) ||
             (status == 400 && strcmp(e2e_err_field(&r), "args") == 0 && after == before);
    if (!ok) {
      char *dump = r.body ? json_dumps(r.body, JSON_COMPACT) : NULL;
      print_error("args %s: %ld %s, decision records %ld -> %ld\n", args[i], status,
                  dump ? dump : "", before, after);
      free(dump);
      bad++;
    }
    e2e_resp_clear(&r);
  }
  /* The task goes on and the chain holds either way. */
  e2e_resp r;
  assert_int_equal(e2e_authorize(NULL, &srv, a.key, t.token,
                                 "{\"tool\":\"fs\",\"operation\":\"read\",\"destination\":"
                                 "\"local\",\"args\":{\"path\":\"/tmp/y\"}}",
                                 &r),
                   200);
  assert_string_equal(e2e_decision(&r), "allow");
  e2e_resp_clear(&r);
  long n = 0;
  assert_int_equal(e2e_audit_verify(&srv, &n), 1);
  e2e_task_clear(&t);
  assert_int_equal(e2e_stop_with_agent(&srv, &a), 0);
  remove_dir(dir);
  assert_int_equal(bad, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_args),
                                     cmocka_unit_test(test_float_args)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

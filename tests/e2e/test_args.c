/* SPDX-License-Identifier: Apache-2.0
 *
 * Call arguments reach Cedar where the action's context declares them. A
 * policy directory like the starter pack, except that fs.read's context
 * declares call.args.path and a policy forbids reading under /etc: the
 * path decides the call, an undeclared extra argument is dropped (Cedar
 * records are closed, so passing it would make the request invalid), and
 * the evidence record keeps every argument as sent.
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

static e2e_server srv;

#define CALL(args)                                                                                 \
  "{\"tool\":\"fs\",\"operation\":\"read\",\"classification\":\"internal\","                       \
  "\"environment\":\"prod\",\"args\":" args "}"

static void expect(const e2e_agent *a, const e2e_task *t, const char *body, const char *decision,
                   const char *policy) {
  e2e_resp r;
  assert_int_equal(e2e_authorize(NULL, &srv, a->key, t->token, body, &r), 200);
  assert_string_equal(e2e_decision(&r), decision);
  if (policy) assert_true(e2e_has_policy(&r, policy));
  if (strcmp(decision, "deny") == 0 && policy) {
    const char *why = NULL;
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(r.body, "policies"), i, p) {
      if (strcmp(json_string_value(json_object_get(p, "id")), policy) == 0)
        why = json_string_value(json_object_get(p, "reason"));
    }
    assert_non_null(why);
    assert_string_equal(why, "no reading under /etc");
  }
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
  assert_int_equal(e2e_task_open_simple(&srv, &a, 50, 900, &t), 201);

  expect(&a, &t, CALL("{\"path\":\"/etc/passwd\"}"), "deny", "no-etc");
  expect(&a, &t, CALL("{\"path\":\"/tmp/report.txt\"}"), "allow", NULL);
  expect(&a, &t, CALL("{\"path\":\"/tmp/x\",\"extra\":1}"), "allow", NULL);
  /* A declared argument that is missing makes the request invalid: deny. */
  expect(&a, &t, CALL("{}"), "deny", NULL);

  /* The evidence keeps every argument, declared or not. */
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/audit/tasks/%s", t.id);
  e2e_resp r;
  assert_int_equal(e2e_admin(&srv, "GET", path, NULL, &r), 0);
  assert_int_equal(r.status, 200);
  char *txt = json_dumps(r.body, JSON_COMPACT);
  assert_non_null(txt);
  assert_non_null(strstr(txt, "extra"));
  assert_non_null(strstr(txt, "/etc/passwd"));
  free(txt);
  e2e_resp_clear(&r);
  long n = 0;
  assert_int_equal(e2e_audit_verify(&srv, &n), 1);

  e2e_task_clear(&t);
  assert_int_equal(e2e_stop_with_agent(&srv, &a), 0);
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

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_args)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

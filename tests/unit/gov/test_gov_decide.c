/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the decision's request text (src/gov/gov_decide.c): for
 * every kind of decision (opening, renewing, changing intent, tool calls
 * with and without data, arguments, an on-behalf-of user, text outside
 * ASCII) the engine reads the request in one pass, and reads the same
 * request the general way. A request the one-pass reader declined would
 * still be decided correctly, only slower, so this is what keeps the
 * fast path in use.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cedar/cedar_int.h"
#include "cedar/cedar_schema_ent.h"
#include "gov/gov_int.h"

/* A tool whose arguments a policy reads, as README.md's "Adding a tool"
 * describes. */
static const char EXTRA[] =
    "\naction \"calc.run\" in [tool] appliesTo { principal: Agent, resource: [Tool, Data],\n"
    "  context: {task: TaskInfo, session: SessionInfo, time: __cedar::datetime, risk: Long,\n"
    "    call: {tool: Tool, operation: String, classification: Classification,\n"
    "      destination: Destination, environment: String,\n"
    "      args: {n: Long, label?: String, opts?: {deep: Bool, ids: Set<Long>}}}}};\n";

static int setup(void **state) {
  FILE *f = fopen(WD_TEST_DATA "/../../docs/policies/governance.cedarschema", "rb");
  if (!f) return -1;
  char *buf = malloc(1u << 20);
  size_t n = buf ? fread(buf, 1, (1u << 20) - sizeof EXTRA, f) : 0;
  fclose(f);
  if (!buf) return -1;
  memcpy(buf + n, EXTRA, sizeof EXTRA);
  cedar_schema *s = NULL;
  int rc = cedar_schema_parse(buf, strlen(buf), &s, NULL);
  free(buf);
  *state = s;
  return rc == 0 ? 0 : -1;
}

static int teardown(void **state) {
  cedar_schema_free(*state);
  return 0;
}

static void one_pass(const cedar_schema *s, const wd_agent *a, const wd_task *t,
                     const wd_session *ss, const char *action, const wd_gov__call *call,
                     const char *previous) {
  json_t *tools = json_loads(t->expected_tools, 0, NULL);
  wd_gov__jw ctx, rq;
  wd_gov__jw_init(&ctx);
  wd_gov__jw_init(&rq);
  assert_int_equal(
      wd_gov__request_text(s, a, t, ss, tools, action, call, previous, 1795000000123, &ctx, &rq),
      0);
  const char *txt = wd_buf_str(&rq.b);
  cedar_request *fast = NULL, *tree = NULL;
  int rc = cedar__request_from_text(txt, wd_buf_len(&rq.b), s, &fast);
  if (rc != 0) print_error("%s: declined (%d): %s\n", action, rc, txt);
  assert_int_equal(rc, 0);
  cedar_diags *d = cedar_diags_new();
  rc = cedar__request_from_tree(txt, wd_buf_len(&rq.b), s, 1, &tree, d);
  if (rc != 0) print_error("%s: %s\n", action, cedar_diags_get(d, 0)->msg);
  assert_int_equal(rc, 0);
  assert_true(cedar__request_same(fast, tree));
  cedar_diags_free(d);
  cedar_request_free(fast);
  cedar_request_free(tree);
  wd_gov__jw_free(&ctx);
  wd_gov__jw_free(&rq);
  json_decref(tools);
}

static const wd_agent BOT = {.id = "spiffe://example.org/agent/bot",
                             .name = "bot",
                             .owner = "alice",
                             .tier = WD_TIER_STANDARD,
                             .environment = "prod",
                             .attrs = "{}",
                             .status = WD_AGENT_ACTIVE};

static void every_decision_reads_in_one_pass(void **state) {
  const cedar_schema *s = *state;
  wd_agent a = BOT;
  wd_task t = {.id = "t_1",
               .agent_id = a.id,
               .intent = "r\xc3\xa9sum\xc3\xa9 \"triage\"\n\\ \xf0\x9f\x98\x80",
               .purpose = "support",
               .expected_tools = "[\"fs\",\"calc\"]",
               .ceiling = "secret",
               .on_behalf_of = "bob",
               .created_ms = 1795000000000,
               .budget = 10,
               .calls = 3};
  char *tools[] = {"calc", "fs"}, *cls[] = {"internal", "secret"}, *dests[] = {"api.example.com"};
  wd_session ss = {{tools, 2}, {cls, 2}, {dests, 1}, 3, 1};
  one_pass(s, &a, &t, NULL, "task.open", NULL, NULL);
  one_pass(s, &a, &t, &ss, "task.renew", NULL, NULL);
  one_pass(s, &a, &t, &ss, "task.change_intent", NULL, "the old intent");
  t.on_behalf_of = NULL;
  wd_gov__call c = {"fs", "read", "internal", "local", "prod", NULL, NULL};
  one_pass(s, &a, &t, &ss, "fs.read", &c, NULL);
  c.res_id = "fs:/etc/hosts";
  c.destination = "api.example.com";
  one_pass(s, &a, &t, &ss, "fs.read", &c, NULL);
  json_t *args = json_pack("{s:i, s:s, s:{s:b, s:[i,i,i]}, s:f}", "n", -7, "label", "x\"y", "opts",
                           "deep", 1, "ids", 3, 1, 3, "undeclared", 1.5);
  wd_gov__call calc = {"calc", "run", "public", "local", "prod", NULL, args};
  one_pass(s, &a, &t, &ss, "calc.run", &calc, NULL);
  json_decref(args);
}

/* The request text of a call, as owned text. */
static char *call_text(const cedar_schema *s, const char *action, const wd_gov__call *c) {
  wd_agent a = BOT;
  wd_task t = {.id = "t_1",
               .agent_id = a.id,
               .intent = "i",
               .purpose = "p",
               .expected_tools = "[\"fs\",\"calc\"]",
               .ceiling = "internal",
               .budget = 10};
  json_t *tools = json_loads(t.expected_tools, 0, NULL);
  wd_gov__jw ctx, rq;
  wd_gov__jw_init(&ctx);
  wd_gov__jw_init(&rq);
  assert_int_equal(
      wd_gov__request_text(s, &a, &t, NULL, tools, action, c, NULL, 1795000000123, &ctx, &rq), 0);
  char *out = strdup(wd_buf_str(&rq.b));
  wd_gov__jw_free(&ctx);
  wd_gov__jw_free(&rq);
  json_decref(tools);
  return out;
}

/* The ranks reach an action's context only where its schema declares
 * them: calc.run's call record above predates classification_rank, and
 * Cedar records are closed, so sending it would deny every such call. */
static void ranks_only_where_declared(void **state) {
  const cedar_schema *s = *state;
  wd_gov__call c = {"fs", "read", "secret", "local", "prod", NULL, NULL};
  char *fs = call_text(s, "fs.read", &c);
  assert_non_null(strstr(fs, "\"classification_rank\":3"));
  assert_non_null(strstr(fs, "\"ceiling_rank\":1"));
  free(fs);
  wd_gov__call calc = {"calc", "run", "public", "local", "prod", NULL, NULL};
  char *old = call_text(s, "calc.run", &calc);
  assert_null(strstr(old, "classification_rank"));
  assert_non_null(strstr(old, "\"ceiling_rank\":1")); /* TaskInfo declares it */
  free(old);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_decision_reads_in_one_pass),
      cmocka_unit_test(ranks_only_where_declared),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

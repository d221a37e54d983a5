/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of cedar_schema_context_declares, which the service asks
 * which of a call's arguments an action's context may carry: declared
 * attributes at any depth, undeclared ones, unknown actions, paths through
 * non-records, and bad arguments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "warden/cedar.h"

static const char SCHEMA[] =
    "entity Agent;\n"
    "entity Tool;\n"
    "action \"fs.read\" appliesTo {\n"
    "  principal: Agent, resource: Tool,\n"
    "  context: { call: { tool: Tool, args: { path: String, mode?: Long } },"
    " risk: Long },\n"
    "};\n"
    "action \"fs.write\" appliesTo {\n"
    "  principal: Agent, resource: Tool,\n"
    "  context: { call: { args: {} } },\n"
    "};\n";

static void declares(void **state) {
  (void)state;
  cedar_schema *s = NULL;
  cedar_diags *d = cedar_diags_new();
  assert_int_equal(cedar_schema_parse(SCHEMA, strlen(SCHEMA), &s, d), 0);
  static const char *const args[] = {"call", "args"};
  static const char *const call[] = {"call"};
  static const char *const through[] = {"risk"};
  static const char *const missing[] = {"nope"};
  static const struct {
    const char *action;
    const char *const *path;
    size_t depth;
    const char *name;
    int want;
  } rows[] = {
      {"fs.read", args, 2, "path", 1},    {"fs.read", args, 2, "mode", 1},
      {"fs.read", args, 2, "extra", 0},   {"fs.read", call, 1, "tool", 1},
      {"fs.read", NULL, 0, "risk", 1},    {"fs.read", NULL, 0, "call", 1},
      {"fs.read", NULL, 0, "time", 0},    {"fs.read", through, 1, "x", 0},
      {"fs.read", missing, 1, "path", 0}, {"fs.write", args, 2, "path", 0},
      {"fs.delete", args, 2, "path", 0},  {"fs.read", args, 2, "", 0},
  };
  int bad = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    int got =
        cedar_schema_context_declares(s, rows[i].action, rows[i].path, rows[i].depth, rows[i].name);
    if (got != rows[i].want) {
      print_error("row %zu (%s %s): got %d, want %d\n", i, rows[i].action, rows[i].name, got,
                  rows[i].want);
      bad++;
    }
  }
  assert_int_equal(bad, 0);
  assert_int_equal(cedar_schema_context_declares(NULL, "fs.read", args, 2, "path"), 0);
  assert_int_equal(cedar_schema_context_declares(s, NULL, args, 2, "path"), 0);
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", NULL, 2, "path"), 0);
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", args, 2, NULL), 0);
  cedar_schema_free(s);
  cedar_diags_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(declares)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}

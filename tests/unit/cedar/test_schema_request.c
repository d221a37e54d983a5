/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of cedar_schema_context_declares, which the service asks
 * which of a call's arguments an action's context may carry: declared
 * attributes at any depth, undeclared ones, unknown actions, paths through
 * non-records, common types, open records (JSON schema
 * "additionalAttributes") and bad arguments.
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

/* Deeper paths: through an entity-typed attribute, a set, and past a
 * leaf are not records; a path one level past args is not declared. */
static void paths_through_non_records(void **state) {
  (void)state;
  cedar_schema *s = NULL;
  cedar_diags *d = cedar_diags_new();
  static const char src[] = "entity Tool = { owner: String };\n"
                            "entity Agent;\n"
                            "action \"fs.read\" appliesTo {\n"
                            "  principal: Agent, resource: Tool,\n"
                            "  context: { call: { tool: Tool, tags: Set<{ k: String }>,"
                            " args: { path: String } } },\n"
                            "};\n";
  assert_int_equal(cedar_schema_parse(src, strlen(src), &s, d), 0);
  static const char *const tool[] = {"call", "tool"};
  static const char *const tags[] = {"call", "tags"};
  static const char *const leaf[] = {"call", "args", "path"};
  static const char *const args[] = {"call", "args"};
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", tool, 2, "owner"), 0);
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", tags, 2, "k"), 0);
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", leaf, 3, "x"), 0);
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", args, 2, "path"), 1);
  /* The name is matched whole: no prefix or case folding. */
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", args, 2, "pat"), 0);
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", args, 2, "paths"), 0);
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", args, 2, "Path"), 0);
  /* The action id is matched whole as well. */
  assert_int_equal(cedar_schema_context_declares(s, "fs.rea", args, 2, "path"), 0);
  assert_int_equal(cedar_schema_context_declares(s, "Action::\"fs.read\"", args, 2, "path"), 0);
  cedar_schema_free(s);
  cedar_diags_free(d);
}

/* A common type as the context, and a common type for args: the answer
 * is the same as for the inline record. */
static void common_types(void **state) {
  (void)state;
  cedar_schema *s = NULL;
  cedar_diags *d = cedar_diags_new();
  static const char src[] = "entity Agent;\n"
                            "entity Tool;\n"
                            "type Args = { path: String };\n"
                            "type Ctx = { call: { args: Args } };\n"
                            "action \"fs.read\" appliesTo {\n"
                            "  principal: Agent, resource: Tool, context: Ctx,\n"
                            "};\n";
  assert_int_equal(cedar_schema_parse(src, strlen(src), &s, d), 0);
  static const char *const args[] = {"call", "args"};
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", args, 2, "path"), 1);
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", args, 2, "mode"), 0);
  cedar_schema_free(s);
  cedar_diags_free(d);
}

/* The JSON schema format can say a record is open
 * ("additionalAttributes": true): then any name is declared there, and
 * only there. An action without a context has none. */
static void open_records(void **state) {
  (void)state;
  static const char json[] = "{\"\": {\"entityTypes\": {\"Agent\": {}, \"Tool\": {}},\n"
                             " \"actions\": {\n"
                             "  \"fs.read\": {\"appliesTo\": {\"principalTypes\": [\"Agent\"],"
                             " \"resourceTypes\": [\"Tool\"],\n"
                             "   \"context\": {\"type\": \"Record\", \"attributes\": {\n"
                             "    \"call\": {\"type\": \"Record\", \"attributes\": {\n"
                             "     \"args\": {\"type\": \"Record\", \"additionalAttributes\": true,"
                             " \"attributes\": {\"path\": {\"type\": \"String\"}}}}}}}}},\n"
                             "  \"fs.write\": {\"appliesTo\": {\"principalTypes\": [\"Agent\"],"
                             " \"resourceTypes\": [\"Tool\"]}}}}}";
  cedar_schema *s = NULL;
  cedar_diags *d = cedar_diags_new();
  if (cedar_schema_from_json(json, strlen(json), &s, d) != 0) {
    print_message("the JSON schema reader refuses additionalAttributes; case skipped\n");
    cedar_diags_free(d);
    skip();
  }
  static const char *const args[] = {"call", "args"};
  static const char *const call[] = {"call"};
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", args, 2, "path"), 1);
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", args, 2, "anything"), 1);
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", call, 1, "anything"), 0);
  assert_int_equal(cedar_schema_context_declares(s, "fs.read", NULL, 0, "anything"), 0);
  assert_int_equal(cedar_schema_context_declares(s, "fs.write", args, 2, "path"), 0);
  assert_int_equal(cedar_schema_context_declares(s, "fs.write", NULL, 0, "call"), 0);
  cedar_schema_free(s);
  cedar_diags_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(declares),
      cmocka_unit_test(paths_through_non_records),
      cmocka_unit_test(common_types),
      cmocka_unit_test(open_records),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

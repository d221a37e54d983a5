/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the JSON schema reader: name resolution across
 * namespaces and common types, and one clear error per broken reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_schema.h"

static const char *GOOD =
    "{\"App\": {\"commonTypes\": {\"Ctx\": {\"type\": \"Record\", \"attributes\": {"
    "   \"risk\": {\"type\": \"Long\"}, \"who\": {\"type\": \"EntityOrCommon\", \"name\": "
    "\"Agent\"}}}},"
    " \"entityTypes\": {"
    "   \"Team\": {},"
    "   \"Agent\": {\"memberOfTypes\": [\"Team\"], \"shape\": {\"type\": \"Record\", "
    "\"attributes\": {"
    "      \"tier\": {\"type\": \"String\"}, \"tags\": {\"type\": \"Set\", \"element\": {\"type\": "
    "\"String\"}},"
    "      \"ip\": {\"type\": \"Extension\", \"name\": \"ipaddr\", \"required\": false}}}},"
    "   \"Color\": {\"enum\": [\"Red\", \"Green\"]}},"
    " \"actions\": {"
    "   \"read\": {},"
    "   \"call\": {\"memberOf\": [{\"id\": \"read\"}], \"appliesTo\": {\"principalTypes\": "
    "[\"Agent\"],"
    "      \"resourceTypes\": [\"Team\"], \"context\": {\"type\": \"Ctx\"}}}}}}";

static cedar__str S(const char *s) { return cedar__cstr(s); }

static void resolves_names(void **state) {
  (void)state;
  cedar_schema *s = NULL;
  cedar_diags *d = cedar_diags_new();
  int rc = cedar_schema_from_json(GOOD, strlen(GOOD), &s, d);
  if (rc) {
    char *txt = cedar_diags_render(d, "schema", NULL, 0);
    print_error("%s", txt);
    cedar_free(txt);
  }
  assert_int_equal(rc, 0);
  const cedar__sentity *agent = cedar__schema_entity(s, S("App::Agent"));
  assert_non_null(agent);
  assert_int_equal(agent->nparents, 1);
  assert_true(cedar__str_eq(agent->parents[0], S("App::Team")));
  assert_int_equal(agent->shape->nattrs, 3);
  assert_true(cedar__str_eq(agent->shape->attrs[0].name, S("ip"))); /* sorted */
  assert_int_equal(agent->shape->attrs[0].required, 0);
  assert_int_equal(agent->shape->attrs[0].type->kind, CEDAR__T_EXT);
  const cedar__sentity *color = cedar__schema_entity(s, S("App::Color"));
  assert_true(color->is_enum);
  assert_int_equal(color->nenum, 2);
  cedar__uid call = {S("App::Action"), S("call")};
  const cedar__saction *a = cedar__schema_action(s, &call);
  assert_non_null(a);
  assert_int_equal(a->nparents, 1);
  assert_true(cedar__str_eq(a->parents[0]->id, S("read")));
  assert_int_equal(a->context->kind, CEDAR__T_RECORD);
  assert_int_equal(a->context->nattrs, 2);
  assert_int_equal(a->context->attrs[1].type->kind, CEDAR__T_ENTITY); /* who: EntityOrCommon */
  cedar_schema_free(s);
  cedar_diags_free(d);
}

static void reports_bad_references(void **state) {
  (void)state;
  static const struct {
    const char *json;
    const char *msg;
  } rows[] = {
      {"{\"\": {\"entityTypes\": {\"A\": {\"memberOfTypes\": [\"B\"]}}, \"actions\": {}}}",
       "unknown entity type `B`"},
      {"{\"\": {\"entityTypes\": {\"A\": {\"shape\": {\"type\": \"Nope\"}}}, \"actions\": {}}}",
       "unknown type `Nope`"},
      {"{\"\": {\"commonTypes\": {\"T\": {\"type\": \"T\"}}, \"entityTypes\": {}, \"actions\": "
       "{}}}",
       NULL},
      {"{\"\": {\"entityTypes\": {}, \"actions\": {\"a\": {\"memberOf\": [{\"id\": \"g\"}]}}}}",
       "member of undeclared action `g`"},
      {"{\"\": {\"entityTypes\": {}, \"actions\": {}, \"bogus\": 1}}", "unknown field `bogus`"},
      {"[1]", "expected an object of namespaces"},
      {"{\"\": {\"entityTypes\": {\"A\": {\"shape\": {\"type\": \"Long\"}}}, \"actions\": {}}}",
       "`shape` must be a record type"},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar_schema *s = NULL;
    cedar_diags *d = cedar_diags_new();
    int rc = cedar_schema_from_json(rows[i].json, strlen(rows[i].json), &s, d);
    const cedar_diag *g = cedar_diags_get(d, 0);
    if (rc == 0 || s || !g || (rows[i].msg && !strstr(g->msg, rows[i].msg))) {
      print_error("row %zu: rc=%d msg=%s\n", i, rc, g ? g->msg : "(none)");
      fails++;
    }
    cedar_schema_free(s);
    cedar_diags_free(d);
  }
  assert_int_equal(fails, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(resolves_names),
      cmocka_unit_test(reports_bad_references),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

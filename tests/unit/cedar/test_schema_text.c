/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the .cedarschema reader and the schema translations:
 * the JSON structure each construct becomes, every syntax and resolution
 * error with its line and column, round trips text -> JSON -> text -> JSON,
 * limits, allocation failures, and (when the corpus is unpacked in
 * /tmp/cit) every .cedarschema file there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_schema.h"
#include "util/wd_alloc.h"
#include "test_util.h"

static cedar__str S(const char *s) { return cedar__cstr(s); }

static void show_diags(const cedar_diags *d, const char *src) {
  char *txt = cedar_diags_render(d, "schema", src, src ? strlen(src) : 0);
  print_error("%s", txt ? txt : "(no memory)\n");
  cedar_free(txt);
}

static const char *GOOD = "// a comment\n"
                          "@doc(\"the app\")\n"
                          "namespace App {\n"
                          "  type Ctx = { risk: Long, \"who am i\"?: Agent };\n"
                          "  entity Team;\n"
                          "  @doc(\"agents\") entity Agent, Bot in [Team] = {\n"
                          "    tier: String, @doc(\"t\") tags?: Set<String>, ip?: ipaddr,\n"
                          "  } tags Long;\n"
                          "  entity Color enum [\"Red\", \"Green\"];\n"
                          "  action read;\n"
                          "  action \"call\", stop in [read, Action::\"read\"] appliesTo {\n"
                          "    principal: [Agent, Bot], resource: Team, context: Ctx,\n"
                          "  };\n"
                          "}\n"
                          "entity Top { owner: App::Agent };\n"
                          "action top appliesTo { principal: Top, resource: [Top, App::Team], "
                          "context: { n: __cedar::Long } };\n";

static void parses_and_resolves(void **state) {
  (void)state;
  cedar_schema *s = NULL;
  cedar_diags *d = cedar_diags_new();
  int rc = cedar_schema_parse(GOOD, strlen(GOOD), &s, d);
  if (rc) show_diags(d, GOOD);
  assert_int_equal(rc, 0);
  const cedar__sentity *bot = cedar__schema_entity(s, S("App::Bot"));
  assert_non_null(bot);
  assert_int_equal(bot->nparents, 1);
  assert_true(cedar__str_eq(bot->parents[0], S("App::Team")));
  assert_int_equal(bot->shape->nattrs, 3);
  assert_true(cedar__str_eq(bot->shape->attrs[0].name, S("ip")));
  assert_int_equal(bot->shape->attrs[0].required, 0);
  assert_int_equal(bot->shape->attrs[0].type->kind, CEDAR__T_EXT);
  assert_int_equal(bot->tags->kind, CEDAR__T_LONG);
  const cedar__sentity *color = cedar__schema_entity(s, S("App::Color"));
  assert_true(color->is_enum);
  assert_int_equal(color->nenum, 2);
  cedar__uid call = {S("App::Action"), S("call")};
  const cedar__saction *a = cedar__schema_action(s, &call);
  assert_non_null(a);
  assert_int_equal(a->nparents, 2);
  assert_int_equal(a->nprincipals, 2);
  assert_int_equal(a->context->nattrs, 2);
  assert_int_equal(a->context->attrs[1].type->kind, CEDAR__T_ENTITY); /* "who am i" */
  assert_int_equal(a->context->attrs[1].required, 0);
  cedar__uid top = {S("Action"), S("top")};
  const cedar__saction *t = cedar__schema_action(s, &top);
  assert_non_null(t);
  assert_int_equal(t->nresources, 2);
  assert_true(cedar__str_eq(t->resources[1], S("App::Team")));
  const cedar__sentity *te = cedar__schema_entity(s, S("Top"));
  assert_true(cedar__str_eq(te->shape->attrs[0].type->name, S("App::Agent")));
  cedar_schema_free(s);
  /* Names that differ only after a NUL byte stay distinct. */
  const char *nul = "entity A { \"\": Long, \"\\0\": String };";
  assert_int_equal(cedar_schema_parse(nul, strlen(nul), &s, d), 0);
  const cedar__sentity *ea = cedar__schema_entity(s, S("A"));
  assert_int_equal(ea->shape->nattrs, 2);
  assert_int_equal(ea->shape->attrs[0].name.n, 0);
  assert_int_equal(ea->shape->attrs[1].name.n, 1);
  cedar_schema_free(s);
  cedar_diags_free(d);
}

/* Text and the JSON the reference translates it to (checked with
 * cedar-wasm's schemaToJson). */
static const struct {
  const char *text, *json;
} TO_JSON[] = {
    {"", "{}"},
    {"entity A;", "{\"\":{\"entityTypes\":{\"A\":{}},\"actions\":{}}}"},
    {"entity A {};", "{\"\":{\"entityTypes\":{\"A\":{}},\"actions\":{}}}"},
    {"entity A = {a?: Long} tags String;",
     "{\"\":{\"entityTypes\":{\"A\":{\"shape\":{\"type\":\"Record\",\"attributes\":{\"a\":{"
     "\"type\":"
     "\"EntityOrCommon\",\"name\":\"Long\",\"required\":false}}},\"tags\":{\"type\":"
     "\"EntityOrCommon\",\"name\":\"String\"}}},\"actions\":{}}}"},
    {"entity E enum [\"a\", \"b\\n\"];",
     "{\"\":{\"entityTypes\":{\"E\":{\"enum\":[\"a\",\"b\\n\"]}},\"actions\":{}}}"},
    {"action a;",
     "{\"\":{\"entityTypes\":{},\"actions\":{\"a\":{\"appliesTo\":{\"principalTypes\":[],"
     "\"resourceTypes\":[]}}}}}"},
    {"entity P; action a; action b in [a, Action::\"a\"] appliesTo {principal: P, resource: P, "
     "context: {}};",
     "{\"\":{\"entityTypes\":{\"P\":{}},\"actions\":{\"a\":{\"appliesTo\":{\"principalTypes\":[],"
     "\"resourceTypes\":[]}},\"b\":{\"memberOf\":[{\"id\":\"a\"},{\"id\":\"a\",\"type\":"
     "\"Action\"}],\"appliesTo\":{\"principalTypes\":[\"P\"],\"resourceTypes\":[\"P\"]}}}}}"},
    {"type C = {}; entity P; action a appliesTo {principal: P, resource: P, context: C};",
     "{\"\":{\"commonTypes\":{\"C\":{\"type\":\"Record\",\"attributes\":{}}},\"entityTypes\":{"
     "\"P\":{}},\"actions\":{\"a\":{\"appliesTo\":{\"principalTypes\":[\"P\"],\"resourceTypes\":["
     "\"P\"],\"context\":{\"type\":\"C\"}}}}}}"},
    {"@x @y(\"1\") namespace N::M { @z type T = Set<Bool>; }",
     "{\"N::M\":{\"entityTypes\":{},\"actions\":{},\"annotations\":{\"x\":\"\",\"y\":\"1\"},"
     "\"commonTypes\":{\"T\":{\"type\":\"Set\",\"element\":{\"type\":\"EntityOrCommon\",\"name\":"
     "\"Bool\"},\"annotations\":{\"z\":\"\"}}}}}"},
    /* Paths are joined without the space or comments between parts. */
    {"entity A in [] { a: __cedar :: // x\n Bool };",
     "{\"\":{\"entityTypes\":{\"A\":{\"shape\":{\"type\":\"Record\",\"attributes\":{\"a\":{"
     "\"type\":\"EntityOrCommon\",\"name\":\"__cedar::Bool\"}}}}},\"actions\":{}}}"},
    /* The reference keeps the last of two attributes with one name. */
    {"entity A { a: Long, a: String };",
     "{\"\":{\"entityTypes\":{\"A\":{\"shape\":{\"type\":\"Record\",\"attributes\":{\"a\":{"
     "\"type\":\"EntityOrCommon\",\"name\":\"String\"}}}}},\"actions\":{}}}"},
};

static void translates_to_reference_json(void **state) {
  (void)state;
  int failed = 0;
  for (size_t i = 0; i < sizeof TO_JSON / sizeof TO_JSON[0]; i++) {
    cedar_diags *d = cedar_diags_new();
    char *out = NULL;
    int rc = cedar_schema_text_to_json(TO_JSON[i].text, strlen(TO_JSON[i].text), &out, d);
    json_t *got = rc ? NULL : json_loads(out, 0, NULL);
    json_t *want = json_loads(TO_JSON[i].json, 0, NULL);
    if (!got || !want || !json_equal(got, want)) {
      print_error("row %zu: %s\n  got  %s\n", i, TO_JSON[i].text, out ? out : "(error)");
      if (rc) show_diags(d, TO_JSON[i].text);
      failed++;
    }
    json_decref(got);
    json_decref(want);
    cedar_free(out);
    cedar_diags_free(d);
  }
  assert_int_equal(failed, 0);
}

/* Broken schemas: the first diagnostic's position and message. */
static const struct {
  const char *src;
  uint32_t line, col;
  const char *msg;
} BROKEN[] = {
    {"entity A { a: Foo };", 1, 15, "unknown type `Foo`"},
    {"entity A;\nentity A;", 2, 8, "`A` is declared twice"},
    {"namespace N {}\nnamespace N {}", 2, 11, "duplicate namespace id: `N`"},
    {"entity A { in: Long };", 1, 12, "`in` is a reserved identifier"},
    {"entity A = Long;", 1, 12, "expected a record type"},
    {"entity A { a: Long b: Long };", 1, 20, "expected `,` or `}`, found `b`"},
    {"entity A;\naction a appliesTo { principal: A };", 2, 8, "missing `resource` declaration"},
    {"entity A; action a appliesTo { principal: [], resource: A };", 1, 43,
     "`principal` is `[]`, which is invalid"},
    {"type T = Set<T>;", 1, 6, "refers to itself"},
    {"entity A in B;", 1, 13, "unknown entity type `B`"},
    {"@a @a entity A;", 1, 5, "duplicate annotation `@a`"},
    {"entity A { a?? : Long };", 1, 14, "expected `:`, found `?`"},
    {"entity A enum [];", 1, 16, "expected a string literal, found `]`"},
    {"entity A\nentity B;", 2, 1, "expected `;`, found `entity`"},
    {"namespace __cedar { entity X; }", 1, 11, "reserved"},
    {"type Bool = Long;", 1, 6, "reserved"},
    {"entity A { a: Set<Long };", 1, 24, "expected `>`"},
    {"entity A { \"\\q\": Long };", 1, 13, "invalid escape"},
    {"entity A; action a appliesTo { principal: A, resource: A, principal: A };", 1, 59,
     "duplicate `principal`"},
    {"action a in NS::Action;", 1, 23, "expected `::`"},
    {"entity A #;", 1, 10, "unexpected character `#`"},
    {"namespace A { namespace B {} }", 1, 15, "cannot be nested"},
    {"entity A { a: Long ", 1, 20, "found end of input"},
    {"entity A = { a: Long };\naction \"b\" in [\"c\"];", 0, 0, "undeclared action `c`"},
    {"entity \"A\";", 1, 8, "expected an entity type name"},
    {"type T = String == x;", 1, 17, "expected `;`"},
    {"entity A in [B, C];", 1, 14, "unknown entity type `B`"},
    {"action a appliesTo { principal: X, resource: X, context: Y };", 1, 33,
     "unknown entity type `X`"},
    {"entity A enum [\"a\rb\"];", 1, 18, "bare carriage return"},
    {"entity A in [A,];", 1, 16, "expected an entity type, found `]`"},
    {"action a in [];", 1, 14, "expected an action name, found `]`"},
    {"entity E;\nnamespace N { entity E; }", 2, 22, "illegally shadows the existing definition"},
    {"action a; namespace N { action \"a\"; }", 1, 32, "illegally shadows"},
};

static void broken_schemas_are_located(void **state) {
  (void)state;
  int failed = 0;
  for (size_t i = 0; i < sizeof BROKEN / sizeof BROKEN[0]; i++) {
    cedar_diags *d = cedar_diags_new();
    cedar_schema *s = NULL;
    int rc = cedar_schema_parse(BROKEN[i].src, strlen(BROKEN[i].src), &s, d);
    const cedar_diag *g = cedar_diags_get(d, 0);
    if (rc == 0 || !g || g->line != BROKEN[i].line || g->col != BROKEN[i].col ||
        !strstr(g->msg, BROKEN[i].msg)) {
      print_error("row %zu: %s\n  want %u:%u %s\n  got  %u:%u %s\n", i, BROKEN[i].src,
                  BROKEN[i].line, BROKEN[i].col, BROKEN[i].msg, g ? g->line : 0, g ? g->col : 0,
                  g ? g->msg : "(none)");
      failed++;
    }
    assert_null(s);
    cedar_diags_free(d);
  }
  assert_int_equal(failed, 0);
}

static void every_error_is_reported(void **state) {
  (void)state;
  const char *src = "entity A\n"
                    "entity B { a: };\n"
                    "action \"x\" in [Foo::\"y\"]\n"
                    "@a @a entity C;\n"
                    "namespace N { entity X { a: Long b }; entity Y in }\n"
                    "entity Z { a: Set<>> };\n";
  static const uint32_t lines[] = {2, 2, 4, 4, 5, 5, 6};
  cedar_diags *d = cedar_diags_new();
  cedar_schema *s = NULL;
  assert_int_equal(cedar_schema_parse(src, strlen(src), &s, d), -WD_E_PARSE);
  if (cedar_diags_count(d) != sizeof lines / sizeof lines[0]) show_diags(d, src);
  assert_int_equal(cedar_diags_count(d), sizeof lines / sizeof lines[0]);
  for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
    assert_int_equal(cedar_diags_get(d, i)->line, lines[i]);
  cedar_diags_free(d);
}

/* text -> JSON -> text -> JSON gives the same JSON twice. */
static int round_trips(const char *src, size_t len, const char *name) {
  cedar_diags *d = cedar_diags_new();
  char *j1 = NULL, *t = NULL, *j2 = NULL;
  int ok = cedar_schema_text_to_json(src, len, &j1, d) == 0 &&
           cedar_schema_json_to_text(j1, strlen(j1), &t, d) == 0 &&
           cedar_schema_text_to_json(t, strlen(t), &j2, d) == 0 && strcmp(j1, j2) == 0;
  if (!ok) {
    print_error("%s: round trip failed\n", name);
    show_diags(d, t ? t : NULL);
  }
  cedar_free(j1);
  cedar_free(t);
  cedar_free(j2);
  cedar_diags_free(d);
  return ok;
}

static void round_trip_is_stable(void **state) {
  (void)state;
  assert_true(round_trips(GOOD, strlen(GOOD), "GOOD"));
  for (size_t i = 0; i < sizeof TO_JSON / sizeof TO_JSON[0]; i++)
    assert_true(round_trips(TO_JSON[i].text, strlen(TO_JSON[i].text), TO_JSON[i].text));
  const char *odd = "entity A { \"\\0 x\": Long, \"if\"?: String, \"\": Bool };\n"
                    "action \"\\u{1F600}\" appliesTo { principal: A, resource: A };";
  assert_true(round_trips(odd, strlen(odd), "odd names"));
}

static void json_input_errors_are_reported(void **state) {
  (void)state;
  static const char *const bad[] = {"{", "[]",
                                    "{\"\": {\"entityTypes\": {\"A\": {\"shape\": "
                                    "{\"type\": \"Nope\"}}}, \"actions\": {}}}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cedar_diags *d = cedar_diags_new();
    char *out = NULL;
    assert_int_not_equal(cedar_schema_json_to_text(bad[i], strlen(bad[i]), &out, d), 0);
    assert_null(out);
    assert_true(cedar_diags_count(d) > 0);
    cedar_diags_free(d);
  }
}

static void nesting_is_limited(void **state) {
  (void)state;
  static const char *const open[] = {"Set<", "{a: "};
  static const char *const close[] = {">", "}"};
  for (int k = 0; k < 2; k++) {
    wd_buf b;
    wd_buf_init(&b, 1u << 20);
    assert_int_equal(wd_buf_adds(&b, "type T = "), 0);
    for (int i = 0; i < 5000; i++)
      assert_int_equal(wd_buf_adds(&b, open[k]), 0);
    assert_int_equal(wd_buf_adds(&b, "Long"), 0);
    for (int i = 0; i < 5000; i++)
      assert_int_equal(wd_buf_adds(&b, close[k]), 0);
    assert_int_equal(wd_buf_adds(&b, ";"), 0);
    cedar_diags *d = cedar_diags_new();
    cedar_schema *s = NULL;
    assert_int_equal(cedar_schema_parse(wd_buf_str(&b), wd_buf_len(&b), &s, d), -WD_E_PARSE);
    assert_non_null(strstr(cedar_diags_get(d, 0)->msg, "nested more deeply"));
    cedar_diags_free(d);
    wd_buf_free(&b);
  }
}

static void allocation_failures_fail_cleanly(void **state) {
  (void)state;
  for (long k = 0; k < 400; k++) {
    cedar_diags *d = cedar_diags_new();
    if (!d) continue;
    char *out = NULL;
    wd_test_fail_alloc_after(k);
    int rc = cedar_schema_text_to_json(GOOD, strlen(GOOD), &out, d);
    wd_test_fail_alloc_after(-1);
    assert_true(rc == 0 || rc == -WD_E_NOMEM || rc == -WD_E_TOOBIG);
    assert_true((rc == 0) == (out != NULL));
    cedar_free(out);
    cedar_diags_free(d);
  }
}

/* Ad-hoc conformance: every schema of the corpus parses, builds and round
 * trips when the corpus is unpacked locally. */
static int check_file(const char *path, const char *buf, size_t n, int fails) {
  (void)fails;
  cedar_diags *d = cedar_diags_new();
  cedar_schema *s = NULL;
  int bad = 0;
  if (cedar_schema_parse(buf, n, &s, d) != 0) {
    const cedar_diag *g = cedar_diags_get(d, 0);
    print_error("%s:%u:%u: %s\n", path, g ? g->line : 0, g ? g->col : 0, g ? g->msg : "");
    bad = 1;
  } else if (!round_trips(buf, n, path)) {
    bad = 1;
  }
  cedar_schema_free(s);
  cedar_diags_free(d);
  return bad;
}

static void corpus_schemas_when_present(void **state) {
  (void)state;
  tu_corpus c = {".cedarschema", 1, WD_LIMIT_SCHEMA_TEXT_BYTES, check_file, 0, 0};
  if (tu_corpus_walk_cit(&c) == 0) skip();
  assert_int_equal(c.fails, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parses_and_resolves),
      cmocka_unit_test(translates_to_reference_json),
      cmocka_unit_test(broken_schemas_are_located),
      cmocka_unit_test(every_error_is_reported),
      cmocka_unit_test(round_trip_is_stable),
      cmocka_unit_test(json_input_errors_are_reported),
      cmocka_unit_test(nesting_is_limited),
      cmocka_unit_test(allocation_failures_fail_cleanly),
      cmocka_unit_test(corpus_schemas_when_present),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

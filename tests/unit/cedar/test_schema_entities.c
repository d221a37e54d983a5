/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for schema_entities.c and schema_request.c, through
 * cedar_entities_from_json and cedar_request_from_json with a schema:
 * schema-directed reading (entity references, extension literals as
 * strings), every conformance rule for entities, the schema's actions in
 * the store, and request validation. Accept/reject expectations come from
 * the reference (cedar-wasm checkParseEntities and isAuthorized with
 * validateRequest); the messages are ours.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"

static const char *const SCHEMA =
    "entity Group;\n"
    "entity User in [Group] { name: String, ip?: ipaddr, boss?: User, when?: datetime,\n"
    "  dur?: duration, ds?: Set<decimal>, r?: { a: Long, b?: String }, e?: Color };\n"
    "entity Tagged { } tags Long;\n"
    "entity Color enum [\"red\", \"blue\"];\n"
    "action view appliesTo { principal: User, resource: Group,\n"
    "  context: { n: Long, ip?: ipaddr } };\n"
    "action edit in [view] appliesTo { principal: User, resource: Group };\n"
    "action admin in [edit];\n";

static cedar_schema *load_schema(void) {
  cedar_schema *s = NULL;
  cedar_diags *d = cedar_diags_new();
  int rc = cedar_schema_parse(SCHEMA, strlen(SCHEMA), &s, d);
  if (rc) {
    for (size_t i = 0; i < cedar_diags_count(d); i++)
      print_error("schema: %s\n", cedar_diags_get(d, i)->msg);
  }
  cedar_diags_free(d);
  assert_int_equal(rc, 0);
  return s;
}

#define E(uid, attrs, parents) "[{\"uid\":" uid ",\"attrs\":" attrs ",\"parents\":" parents "}]"
#define UID(t, i)              "{\"type\":\"" t "\",\"id\":\"" i "\"}"

static void entity_rules(void **state) {
  (void)state;
  cedar_schema *s = load_schema();
  static const struct {
    const char *json;
    const char *err; /* NULL: accepted; else a substring of the message */
  } rows[] = {
      {E(UID("User", "a"), "{\"name\":\"x\",\"ip\":\"10.0.0.1\",\"boss\":" UID("User", "b") "}",
         "[" UID("Group", "g") "]"),
       NULL},
      {E(UID("User", "a"), "{}", "[]"), "required attribute `name`"},
      {E(UID("User", "a"), "{\"name\":\"x\",\"extra\":1}", "[]"), "`extra` should not exist"},
      {E(UID("User", "a"), "{\"name\":1}", "[]"), "expected String, found long"},
      {E(UID("User", "a"), "{\"name\":\"x\"}", "[" UID("User", "q") "]"),
       "ancestor of type `User`"},
      {E(UID("User", "a"), "{\"name\":\"x\"}", "[" UID("Action", "view") "]"),
       "ancestor of type `Action`"},
      {E(UID("Foo", "a"), "{}", "[]"), "not declared in the schema"},
      {E(UID("Action", "view"), "{}", "[]"), NULL},
      {E(UID("Action", "nope"), "{}", "[]"), "not declared as an action"},
      {E(UID("Action", "edit"), "{}", "[]"), "does not match its schema declaration"},
      {E(UID("Action", "edit"), "{\"a\":1}", "[" UID("Action", "view") "]"),
       "does not match its schema declaration"},
      {E(UID("Action", "edit"), "{}", "[" UID("Action", "view") "]"), NULL},
      /* Listing every ancestor, as the reference writes action entities. */
      {E(UID("Action", "admin"), "{}", "[" UID("Action", "edit") "," UID("Action", "view") "]"),
       NULL},
      /* The check sees the hierarchy of the data alone, closed. */
      {E(UID("Action", "admin"), "{}", "[" UID("Action", "edit") "]"),
       "does not match its schema declaration"},
      {"[{\"uid\":" UID("Action", "admin") ",\"attrs\":{},\"parents\":[" UID(
           "Action",
           "edit") "]},{\"uid\":" UID("Action",
                                      "edit") ",\"attrs\":{},\"parents\":[" UID("Action",
                                                                                "view") "]}]",
       NULL},
      {E(UID("Color", "green"), "{}", "[]"), "is an enumeration"},
      {E(UID("Color", "red"), "{}", "[]"), NULL},
      {E(UID("User", "a"), "{\"name\":\"x\",\"e\":" UID("Color", "zz") "}", "[]"),
       "is an enumeration"},
      {E(UID("User", "a"), "{\"name\":\"x\",\"boss\":" UID("Group", "g") "}", "[]"),
       "expected User, found entity of type `Group`"},
      {E(UID("User", "a"), "{\"name\":\"x\",\"r\":{\"b\":\"x\"}}", "[]"), "required attribute `a`"},
      {E(UID("User", "a"),
         "{\"name\":\"x\",\"ds\":[\"1.0\",{\"__extn\":{\"fn\":\"decimal\",\"arg\":\"2.0\"}}],"
         "\"when\":\"2020-01-01\",\"dur\":\"1h\"}",
         "[]"),
       NULL},
      {E(UID("User", "a"), "{\"name\":\"x\",\"ds\":[\"1.0x\"]}", "[]"), "decimal"},
      {E(UID("User", "a"), "{\"name\":\"x\",\"ip\":{\"fn\":\"ip\",\"arg\":\"1.2.3.4\"}}", "[]"),
       NULL},
      {E(UID("User", "a"),
         "{\"name\":\"x\",\"ip\":{\"__extn\":{\"fn\":\"decimal\",\"arg\":\"1.0\"}}}", "[]"),
       "expected ipaddr, found decimal"},
      {"[{\"uid\":" UID("Tagged", "t") ",\"attrs\":{},\"parents\":[],\"tags\":{\"t\":\"s\"}}]",
       "expected Long, found string"},
      {"[{\"uid\":" UID("Tagged", "t") ",\"attrs\":{},\"parents\":[],\"tags\":{\"t\":3}}]", NULL},
      {"[{\"uid\":" UID("Group", "g") ",\"attrs\":{},\"parents\":[],\"tags\":{\"t\":3}}]",
       "no tags should exist"},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar_entities *es = NULL;
    cedar_diags *d = cedar_diags_new();
    int rc = cedar_entities_from_json(rows[i].json, strlen(rows[i].json), s, &es, d);
    const char *msg = cedar_diags_count(d) ? cedar_diags_get(d, 0)->msg : "";
    int ok = rows[i].err ? rc != 0 && strstr(msg, rows[i].err) != NULL : rc == 0;
    if (!ok) {
      print_error("row %zu: rc %d, message \"%s\", expected %s\n", i, rc, msg,
                  rows[i].err ? rows[i].err : "success");
      fails++;
    }
    cedar_entities_free(es);
    cedar_diags_free(d);
  }
  cedar_schema_free(s);
  assert_int_equal(fails, 0);
}

/* Values come out with the types the schema declares, and the schema's
 * actions (with their hierarchy) are in the store. */
static void directed_values_and_actions(void **state) {
  (void)state;
  cedar_schema *s = load_schema();
  static const char *const J = E(
      UID("User", "a"), "{\"name\":\"x\",\"ip\":\"10.0.0.1\",\"boss\":" UID("User", "b") "}", "[]");
  cedar_entities *es = NULL;
  assert_int_equal(cedar_entities_from_json(J, strlen(J), s, &es, NULL), 0);
  assert_int_equal(cedar_entities_count(es), 4); /* a, and three actions */
  cedar__uid a = {cedar__cstr("User"), cedar__cstr("a")};
  const cedar__entity *e = cedar__entities_find(es, &a);
  assert_non_null(e);
  assert_int_equal(cedar__rec_get(&e->attrs, cedar__cstr("boss"))->kind, CEDAR__V_ENTITY);
  assert_int_equal(cedar__rec_get(&e->attrs, cedar__cstr("ip"))->kind, CEDAR__V_IPADDR);
  cedar__uid admin = {cedar__cstr("Action"), cedar__cstr("admin")};
  cedar__uid view = {cedar__cstr("Action"), cedar__cstr("view")};
  assert_int_equal(cedar__entities_in(es, &admin, &view), 1);
  assert_int_equal(cedar__entities_in(es, &view, &admin), 0);
  cedar_entities_free(es);
  /* Without a schema the same bytes are a record and a string. */
  assert_int_equal(cedar_entities_from_json(J, strlen(J), NULL, &es, NULL), 0);
  e = cedar__entities_find(es, &a);
  assert_int_equal(cedar__rec_get(&e->attrs, cedar__cstr("boss"))->kind, CEDAR__V_RECORD);
  assert_int_equal(cedar__rec_get(&e->attrs, cedar__cstr("ip"))->kind, CEDAR__V_STRING);
  cedar_entities_free(es);
  cedar_schema_free(s);
}

#define RQ(p, a, r, ctx)                                                                           \
  "{\"principal\":" p ",\"action\":" a ",\"resource\":" r ",\"context\":" ctx "}"

static void request_rules(void **state) {
  (void)state;
  cedar_schema *s = load_schema();
  static const struct {
    const char *json;
    const char *err;
  } rows[] = {
      {RQ(UID("User", "a"), UID("Action", "view"), UID("Group", "g"),
          "{\"n\":1,\"ip\":\"1.2.3.4\"}"),
       NULL},
      {RQ(UID("Group", "a"), UID("Action", "view"), UID("Group", "g"), "{\"n\":1}"),
       "principal type `Group` is not valid"},
      {RQ(UID("User", "a"), UID("Action", "view"), UID("User", "g"), "{\"n\":1}"),
       "resource type `User` is not valid"},
      {RQ(UID("Nope", "a"), UID("Action", "view"), UID("Group", "g"), "{\"n\":1}"),
       "principal type `Nope` is not declared"},
      {RQ(UID("User", "a"), UID("Action", "nope"), UID("Group", "g"), "{}"),
       "`Action::\"nope\"` is not declared"},
      {RQ(UID("User", "a"), UID("Action", "admin"), UID("Group", "g"), "{}"), "applies to no"},
      {RQ(UID("User", "a"), UID("Action", "view"), UID("Group", "g"), "{\"x\":1,\"n\":1}"),
       "`x` should not exist"},
      {RQ(UID("User", "a"), UID("Action", "view"), UID("Group", "g"), "{}"),
       "required attribute `n`"},
      {RQ(UID("User", "a"), UID("Action", "view"), UID("Group", "g"), "{\"n\":\"1\"}"),
       "expected Long, found string"},
      {RQ(UID("User", "a"), UID("Action", "edit"), UID("Group", "g"), "{}"), NULL},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar_request *rq = NULL;
    cedar_diags *d = cedar_diags_new();
    int rc = cedar_request_from_json(rows[i].json, strlen(rows[i].json), s, &rq, d);
    const char *msg = cedar_diags_count(d) ? cedar_diags_get(d, 0)->msg : "";
    int ok = rows[i].err ? rc != 0 && strstr(msg, rows[i].err) != NULL : rc == 0;
    if (!ok) {
      print_error("row %zu: rc %d, message \"%s\", expected %s\n", i, rc, msg,
                  rows[i].err ? rows[i].err : "success");
      fails++;
    }
    cedar_request_free(rq);
    cedar_diags_free(d);
  }
  /* cedar_request_new validates the same way, and types the context. */
  cedar_request *rq = NULL;
  static const char ctx[] = "{\"n\":1,\"ip\":\"10.0.0.1\"}";
  assert_int_equal(cedar_request_new("User::\"a\"", "Action::\"view\"", "Group::\"g\"", ctx,
                                     sizeof ctx - 1, s, &rq, NULL),
                   0);
  assert_int_equal(cedar__rec_get(&rq->context, cedar__cstr("ip"))->kind, CEDAR__V_IPADDR);
  cedar_request_free(rq);
  rq = NULL;
  assert_int_not_equal(cedar_request_new("Group::\"a\"", "Action::\"view\"", "Group::\"g\"",
                                         "{\"n\":1}", 7, s, &rq, NULL),
                       0);
  assert_null(rq);
  cedar_schema_free(s);
  assert_int_equal(fails, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(entity_rules),
      cmocka_unit_test(directed_values_and_actions),
      cmocka_unit_test(request_rules),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

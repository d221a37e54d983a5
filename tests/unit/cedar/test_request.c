/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for request.c: the request JSON forms (uid objects, the
 * __entity escape, Cedar-syntax strings), context defaults and errors,
 * and cedar_request_new.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"

static void from_json(void **state) {
  (void)state;
  static const struct {
    const char *json;
    int ok;
    const char *msg;
  } rows[] = {
      {"{\"principal\":{\"type\":\"User\",\"id\":\"a\"},\"action\":{\"type\":\"Action\",\"id\":"
       "\"view\"},"
       "\"resource\":{\"__entity\":{\"type\":\"Doc\",\"id\":\"d\"}},\"context\":{\"n\":1},"
       "\"description\":\"x\",\"decision\":\"allow\",\"reason\":[],\"errors\":[],"
       "\"validateRequest\":true}",
       1, NULL},
      {"{\"principal\":{\"type\":\"User\",\"id\":\"a\"},\"action\":{\"type\":\"Action\",\"id\":"
       "\"view\"},"
       "\"resource\":{\"type\":\"Doc\",\"id\":\"d\"}}",
       1, NULL},
      {"{\"action\":{\"type\":\"Action\",\"id\":\"view\"},\"resource\":{\"type\":\"Doc\",\"id\":"
       "\"d\"}}",
       0, "missing \"principal\""},
      {"{\"principal\":{\"type\":\"User\",\"id\":\"a\"},\"action\":{\"type\":\"Action\",\"id\":"
       "\"view\"},"
       "\"resource\":{\"type\":\"Doc\",\"id\":\"d\"},\"context\":[]}",
       0, "request.context: expected an object"},
      {"{\"principal\":{\"type\":\"User\",\"id\":\"a\"},\"action\":{\"type\":\"Action\",\"id\":"
       "\"view\"},"
       "\"resource\":{\"type\":\"Doc\",\"id\":\"d\"},\"context\":{\"a\":{\"b\":1.5}}}",
       0, "request.context.a.b"},
      {"{\"principal\":{\"type\":\"User\"},\"action\":{\"type\":\"Action\",\"id\":\"view\"},"
       "\"resource\":{\"type\":\"Doc\",\"id\":\"d\"}}",
       0, "request.principal"},
      {"[]", 0, "expected an object"},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar_diags *d = cedar_diags_new();
    cedar_request *rq = NULL;
    int rc = cedar_request_from_json(rows[i].json, strlen(rows[i].json), NULL, &rq, d);
    const cedar_diag *g = cedar_diags_get(d, 0);
    int bad = rows[i].ok ? (rc != 0 || !rq || rq->principal.kind != CEDAR__V_ENTITY ||
                            rq->context.kind != CEDAR__V_RECORD)
                         : (rc == 0 || rq || !g || !strstr(g->msg, rows[i].msg));
    if (bad) {
      print_error("row %zu: rc %d msg <%s>\n", i, rc, g ? g->msg : "");
      fails++;
    }
    cedar_request_free(rq);
    cedar_diags_free(d);
  }
  assert_int_equal(fails, 0);
}

static void context_values(void **state) {
  (void)state;
  const char *json =
      "{\"principal\":{\"type\":\"User\",\"id\":\"a\"},\"action\":{\"type\":\"Action\",\"id\":"
      "\"v\"},"
      "\"resource\":{\"type\":\"Doc\",\"id\":\"d\"},\"context\":{\"big\":9223372036854775807,"
      "\"who\":{\"__entity\":{\"type\":\"User\",\"id\":\"b\"}},\"s\":[2,1,2]}}";
  cedar_request *rq = NULL;
  assert_int_equal(cedar_request_from_json(json, strlen(json), NULL, &rq, NULL), 0);
  const cedar__val *big = cedar__rec_get(&rq->context, cedar__cstr("big"));
  assert_non_null(big);
  assert_true(big->u.i == INT64_MAX);
  const cedar__val *who = cedar__rec_get(&rq->context, cedar__cstr("who"));
  assert_non_null(who);
  assert_int_equal(who->kind, CEDAR__V_ENTITY);
  const cedar__val *s = cedar__rec_get(&rq->context, cedar__cstr("s"));
  assert_non_null(s);
  assert_int_equal(s->u.set.n, 2);
  assert_true(cedar__str_eq(rq->resource.u.uid->id, cedar__cstr("d")));
  cedar_request_free(rq);
  cedar_request_free(NULL);
}

/* These use cedar__parse_uid, which the parser provides. */
static void cedar_syntax(void **state) {
  (void)state;
  cedar_request *rq = NULL;
  const char *ctx = "{\"k\": true}";
  int rc = cedar_request_new("User::\"alice\"", "Action::\"view\"", "Ns::Doc::\"d\\\"1\"", ctx,
                             strlen(ctx), NULL, &rq, NULL);
  assert_int_equal(rc, 0);
  assert_true(cedar__str_eq(rq->principal.u.uid->id, cedar__cstr("alice")));
  assert_true(cedar__str_eq(rq->resource.u.uid->type, cedar__cstr("Ns::Doc")));
  assert_true(cedar__str_eq(rq->resource.u.uid->id, cedar__cstr("d\"1")));
  assert_non_null(cedar__rec_get(&rq->context, cedar__cstr("k")));
  cedar_request_free(rq);

  rq = NULL;
  assert_int_equal(
      cedar_request_new("User::\"a\"", "Action::\"v\"", "Doc::\"d\"", NULL, 0, NULL, &rq, NULL), 0);
  assert_int_equal(rq->context.u.rec.n, 0);
  cedar_request_free(rq);

  rq = NULL;
  assert_int_not_equal(
      cedar_request_new("not a uid", "Action::\"v\"", "Doc::\"d\"", NULL, 0, NULL, &rq, NULL), 0);
  assert_null(rq);
  assert_int_not_equal(
      cedar_request_new("User::\"a\"", "Action::\"v\"", "Doc::\"d\"", "1", 1, NULL, &rq, NULL), 0);
  assert_null(rq);

  const char *json = "{\"principal\":\"User::\\\"a\\\"\",\"action\":\"Action::\\\"v\\\"\","
                     "\"resource\":\"Doc::\\\"d\\\"\"}";
  assert_int_equal(cedar_request_from_json(json, strlen(json), NULL, &rq, NULL), 0);
  assert_true(cedar__str_eq(rq->action.u.uid->type, cedar__cstr("Action")));
  cedar_request_free(rq);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(from_json),
      cmocka_unit_test(context_values),
      cmocka_unit_test(cedar_syntax),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for entities.c: loading, lookups, the transitive closure
 * (including ancestors that are not themselves in the store), cycles,
 * duplicate entries, and the shape errors the reference also rejects.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"

static cedar__uid U(const char *type, const char *id) {
  cedar__uid u = {cedar__cstr(type), cedar__cstr(id)};
  return u;
}

static const char *const HIER =
    "[{\"uid\":{\"type\":\"User\",\"id\":\"alice\"},\"attrs\":{\"age\":7},"
    "  \"parents\":[{\"type\":\"Group\",\"id\":\"eng\"}]},"
    " {\"uid\":{\"__entity\":{\"type\":\"Group\",\"id\":\"eng\"}},\"attrs\":{},"
    "  \"parents\":[{\"__entity\":{\"type\":\"Group\",\"id\":\"all\"}}]},"
    " {\"uid\":{\"type\":\"Group\",\"id\":\"all\"},\"attrs\":{},"
    "  \"parents\":[{\"type\":\"Org\",\"id\":\"ghost\"}], \"tags\":{\"t\":\"v\"}},"
    " {\"uid\":{\"type\":\"User\",\"id\":\"bob\"},\"attrs\":{},\"parents\":[]}]";

static void closure_and_lookup(void **state) {
  (void)state;
  cedar_entities *es = NULL;
  assert_int_equal(cedar_entities_from_json(HIER, strlen(HIER), NULL, &es, NULL), 0);
  assert_int_equal(cedar_entities_count(es), 4);
  static const struct {
    const char *at, *ai, *bt, *bi;
    int in;
  } rows[] = {
      {"User", "alice", "User", "alice", 1}, {"User", "alice", "Group", "eng", 1},
      {"User", "alice", "Group", "all", 1},  {"User", "alice", "Org", "ghost", 1},
      {"Group", "eng", "User", "alice", 0},  {"User", "bob", "Group", "eng", 0},
      {"Org", "ghost", "Org", "ghost", 1},   {"Org", "ghost", "Group", "all", 0},
      {"User", "nobody", "Group", "eng", 0}, {"User", "alice", "Group", "nope", 0},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar__uid a = U(rows[i].at, rows[i].ai), b = U(rows[i].bt, rows[i].bi);
    if (cedar__entities_in(es, &a, &b) != rows[i].in) {
      print_error("row %zu: %s::%s in %s::%s\n", i, rows[i].at, rows[i].ai, rows[i].bt, rows[i].bi);
      fails++;
    }
  }
  assert_int_equal(fails, 0);
  cedar__uid alice = U("User", "alice"), ghost = U("Org", "ghost"), all = U("Group", "all");
  const cedar__entity *e = cedar__entities_find(es, &alice);
  assert_non_null(e);
  assert_int_equal(e->nparents, 1);
  assert_non_null(cedar__rec_get(&e->attrs, cedar__cstr("age")));
  assert_null(cedar__entities_find(es, &ghost));
  e = cedar__entities_find(es, &all);
  assert_non_null(e);
  assert_non_null(cedar__rec_get(&e->tags, cedar__cstr("t")));
  assert_int_equal(cedar__entities_in(NULL, &alice, &alice), 1);
  assert_int_equal(cedar__entities_in(NULL, &alice, &all), 0);
  cedar_entities_free(es);

  es = cedar_entities_empty();
  assert_non_null(es);
  assert_int_equal(cedar_entities_count(es), 0);
  assert_null(cedar__entities_find(es, &alice));
  cedar_entities_free(es);
  cedar_entities_free(NULL);
}

static void load_errors(void **state) {
  (void)state;
  static const struct {
    const char *json;
    int rc;
    const char *msg;
  } rows[] = {
      {"[]", 0, NULL},
      {"{}", -WD_E_JSON, "expected an array"},
      {"[1]", -WD_E_JSON, "entities[0]: expected an entity object"},
      {"[{\"attrs\":{}}]", -WD_E_JSON, "entities[0]: missing field \"uid\""},
      {"[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"parents\":[]}]", -WD_E_JSON,
       "entities[0]: missing field \"attrs\""},
      {"[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{}}]", -WD_E_JSON,
       "entities[0]: missing field \"parents\""},
      {"[{\"uid\":\"User::\\\"a\\\"\",\"attrs\":{},\"parents\":[]}]", -WD_E_JSON,
       "entities[0].uid: expected an entity reference"},
      {"[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{},\"parents\":[\"U::\\\"b\\\"\"]}]",
       -WD_E_JSON, "entities[0].parents[0]"},
      {"[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{\"o\":{\"p\":null}},\"parents\":[]}]",
       -WD_E_JSON, "entities[0].attrs.o.p: found a `null`"},
      {"[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":[],\"parents\":[]}]", -WD_E_JSON,
       "entities[0].attrs"},
      {"[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{},\"parents\":[],\"tags\":null}]",
       -WD_E_JSON, "entities[0].tags"},
      {"[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{},\"parents\":[],\"extra\":1}]", 0,
       NULL},
      {"[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{},\"parents\":[{\"type\":\"U\",\"id\":"
       "\"a\"}]}]",
       -WD_E_CYCLE, "cycle containing `U::\"a\"`"},
      {"[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{},\"parents\":[{\"type\":\"U\",\"id\":"
       "\"b\"}]},"
       " {\"uid\":{\"type\":\"U\",\"id\":\"b\"},\"attrs\":{},\"parents\":[{\"type\":\"U\",\"id\":"
       "\"c\"}]},"
       " {\"uid\":{\"type\":\"U\",\"id\":\"c\"},\"attrs\":{},\"parents\":[{\"type\":\"U\",\"id\":"
       "\"b\"}]}]",
       -WD_E_CYCLE, "cycle"},
      {"[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{\"x\":1},\"parents\":[]},"
       " {\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{\"x\":2},\"parents\":[]}]",
       -WD_E_EXISTS, "entities[1]: duplicate entity entry `U::\"a\"`"},
      /* The reference accepts an identical repeat. */
      {"[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{},\"parents\":[{\"type\":\"G\",\"id\":"
       "\"1\"},{"
       "\"type\":\"G\",\"id\":\"2\"}]},"
       " {\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{},\"parents\":[{\"type\":\"G\",\"id\":"
       "\"2\"},{"
       "\"type\":\"G\",\"id\":\"1\"}]}]",
       0, NULL},
      {"[{\"uid\":{\"type\":\"U\",\"id\":\"a\"},\"attrs\":{},\"parents\":[]} x", -WD_E_JSON,
       "malformed JSON"},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar_diags *d = cedar_diags_new();
    cedar_entities *es = NULL;
    int rc = cedar_entities_from_json(rows[i].json, strlen(rows[i].json), NULL, &es, d);
    const cedar_diag *g = cedar_diags_get(d, 0);
    if (rc != rows[i].rc || (rows[i].msg && (!g || !strstr(g->msg, rows[i].msg))) ||
        (rc == 0) != (es != NULL)) {
      print_error("row %zu: rc %d want %d, msg <%s>\n", i, rc, rows[i].rc, g ? g->msg : "");
      fails++;
    }
    cedar_entities_free(es);
    cedar_diags_free(d);
  }
  assert_int_equal(fails, 0);
}

static void deep_chain(void **state) {
  (void)state;
  /* A long parent chain exercises the explicit DFS stack. */
  enum { N = 3000 };
  wd_buf b;
  wd_buf_init(&b, 1 << 24);
  int rc = wd_buf_addc(&b, '[');
  for (int i = 0; i < N && rc == 0; i++)
    rc = wd_buf_addf(&b,
                     "%s{\"uid\":{\"type\":\"N\",\"id\":\"%d\"},\"attrs\":{},\"parents\":[{"
                     "\"type\":\"N\",\"id\":\"%d\"}]}",
                     i ? "," : "", i, i + 1);
  if (rc == 0) rc = wd_buf_addc(&b, ']');
  assert_int_equal(rc, 0);
  cedar_entities *es = NULL;
  assert_int_equal(cedar_entities_from_json(wd_buf_str(&b), wd_buf_len(&b), NULL, &es, NULL), 0);
  cedar__uid first = U("N", "0"), last = U("N", "3000"), mid = U("N", "1500");
  assert_int_equal(cedar__entities_in(es, &first, &last), 1);
  assert_int_equal(cedar__entities_in(es, &mid, &last), 1);
  assert_int_equal(cedar__entities_in(es, &last, &first), 0);
  cedar_entities_free(es);
  wd_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(closure_and_lookup),
      cmocka_unit_test(load_errors),
      cmocka_unit_test(deep_chain),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for request_text.c, the one-pass request reader: every
 * request it takes is the one the general reader builds; every request
 * outside its plain form, valid or not, is declined (so the general
 * reader words the error); out of memory fails cleanly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"
#include "cedar/cedar_schema_ent.h"
#include "../../fuzz/request_text_schema.h"
#include "util/wd_alloc.h"

#define HEAD                                                                                       \
  "{\"principal\":{\"type\":\"User\",\"id\":\"a\"},\"action\":{\"type\":\"Action\",\"id\":"        \
  "\"view\"},\"resource\":{\"type\":\"Doc\",\"id\":\"d\"},\"context\":"
#define BASE "\"n\":1,\"tags\":[],\"who\":{\"type\":\"User\",\"id\":\"u\"}"

static cedar_schema *schema(void) {
  cedar_schema *s = NULL;
  assert_int_equal(cedar_schema_parse(REQUEST_TEXT_SCHEMA, strlen(REQUEST_TEXT_SCHEMA), &s, NULL),
                   0);
  return s;
}

/* Requests in the plain form: taken, and equal to the general reading. */
static void takes_plain_requests(void **state) {
  (void)state;
  static const char *const rows[] = {
      HEAD "{" BASE "}}",
      " { \"principal\" : \"User::\\\"a\\\"\" , \"action\" : \"Action::\\\"view\\\"\" ,"
      " \"resource\" : {\"__entity\":{\"id\":\"d\",\"type\":\"Doc\"}} , \"context\" : {"
      " \"who\" : {\"id\":\"u\",\"type\":\"User\"}, \"tags\" : [ \"b\" , \"a\", \"b\" ],"
      " \"n\" : -9223372036854775808 } } ",
      HEAD "{" BASE ",\"s\":\"caf\\u00e9 \\\"q\\\" \\ud83d\\ude00 \xc3\xa9\",\"col\":"
           "{\"__entity\":{\"type\":\"Color\",\"id\":\"green\"}}}}",
      HEAD "{" BASE ",\"when\":\"2026-11-22T10:00:00Z\",\"ip\":\"10.0.0.0/8\",\"amt\":\"1.25\","
           "\"age\":{\"__extn\":{\"fn\":\"duration\",\"arg\":\"90s\"}}}}",
      HEAD "{" BASE ",\"age\":{\"__extn\":{\"arg\":\"90s\",\"fn\":\"duration\"}}}}",
      HEAD "{" BASE ",\"inner\":{\"flag\":false,\"docs\":[{\"type\":\"Doc\",\"id\":\"x\"},"
           "{\"type\":\"Doc\",\"id\":\"a\"}]}}}",
      "{\"principal\":{\"type\":\"User\",\"id\":\"a\"},\"action\":{\"type\":\"Action\",\"id\":"
      "\"ping\"},\"resource\":{\"type\":\"Doc\",\"id\":\"d\"},\"context\":{}}",
  };
  cedar_schema *s = schema();
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar_request *fast = NULL, *tree = NULL;
    int rc = cedar__request_from_text(rows[i], strlen(rows[i]), s, &fast);
    if (rc != 0) print_error("row %zu declined (%d)\n", i, rc);
    assert_int_equal(rc, 0);
    assert_int_equal(cedar__request_from_tree(rows[i], strlen(rows[i]), s, 1, &tree, NULL), 0);
    assert_true(cedar__request_same(fast, tree));
    cedar_request_free(fast);
    cedar_request_free(tree);
  }
  cedar_schema_free(s);
}

/* Everything else is declined; the general reader then accepts it (ok 1)
 * or refuses it with a message containing msg. */
static void declines_the_rest(void **state) {
  (void)state;
  static const struct {
    const char *json;
    int ok;
    const char *msg;
  } rows[] = {
      {HEAD "{" BASE ",\"n\":2}}", 0, "duplicate"},
      {HEAD "{\"n\":1.5,\"tags\":[],\"who\":{\"type\":\"User\",\"id\":\"u\"}}}", 0,
       "floating-point"},
      {HEAD "{" BASE ",\"zzz\":1}}", 0, "should not exist"},
      {HEAD "{\"n\":1,\"tags\":[]}}", 0, "required attribute `who`"},
      {HEAD "{" BASE ",\"col\":{\"type\":\"Color\",\"id\":\"blue\"}}}", 0, "enumeration"},
      {HEAD "{" BASE ",\"s\":null}}", 0, "null"},
      {HEAD "{" BASE ",\"s\":\"\xff\"}}", 0, "UTF-8"},
      {HEAD "{" BASE "}} x", 0, "end of input"},
      {HEAD "{\"n\":1,\"tags\":[],\"who\":{\"type\":\"Doc\",\"id\":\"u\"}}}", 0, "type mismatch"},
      {HEAD "{\"n\":1,\"tags\":[],\"who\":{\"__entity\":{\"__entity\":{\"type\":\"User\","
            "\"id\":\"u\"}}}}}",
       0, "who"},
      {HEAD "{" BASE ",\"when\":\"yesterday\"}}", 0, "when"},
      {HEAD "{" BASE ",\"when\":{\"__extn\":{\"fn\":\"decimal\",\"arg\":\"1.0\"}}}}", 0,
       "type mismatch"},
      {HEAD "{\"n\":1,\"tags\":[],\"who\":{\"type\":\"User\",\"id\":\"u\",\"x\":1}}}", 1, NULL},
      {"{\"context\":{" BASE "},\"principal\":{\"type\":\"User\",\"id\":\"a\"},\"action\":"
       "{\"type\":\"Action\",\"id\":\"view\"},\"resource\":{\"type\":\"Doc\",\"id\":\"d\"}}",
       1, NULL},
      {"{\"principal\":{\"type\":\"Doc\",\"id\":\"a\"},\"action\":{\"type\":\"Action\",\"id\":"
       "\"view\"},\"resource\":{\"type\":\"Doc\",\"id\":\"d\"},\"context\":{" BASE "}}",
       0, "not valid for action"},
      {HEAD "{" BASE "},\"description\":\"extra\"}", 1, NULL},
      {HEAD "{" BASE "}", 0, "malformed JSON"},
  };
  cedar_schema *s = schema();
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar_request *rq = NULL;
    int rc = cedar__request_from_text(rows[i].json, strlen(rows[i].json), s, &rq);
    if (rc != CEDAR__DECLINE) print_error("row %zu: rc %d\n", i, rc);
    assert_int_equal(rc, CEDAR__DECLINE);
    assert_null(rq);
    cedar_diags *d = cedar_diags_new();
    rc = cedar_request_from_json(rows[i].json, strlen(rows[i].json), s, &rq, d);
    const cedar_diag *g = cedar_diags_get(d, 0);
    int bad = rows[i].ok ? rc != 0 : (rc == 0 || !g || !strstr(g->msg, rows[i].msg));
    if (bad) print_error("row %zu: general reader rc %d <%s>\n", i, rc, g ? g->msg : "");
    assert_false(bad);
    cedar_request_free(rq);
    cedar_diags_free(d);
  }
  cedar_schema_free(s);
}

/* Each allocation in turn fails: out of memory or the request, no leak. */
static void out_of_memory(void **state) {
  (void)state;
  static const char row[] = HEAD "{" BASE ",\"s\":\"x\",\"inner\":{\"flag\":true},"
                                 "\"when\":\"2026-11-22T10:00:00Z\"}}";
  cedar_schema *s = schema();
  int done = 0;
  for (long n = 0; n < 10000 && !done; n++) {
    cedar_request *rq = NULL;
    wd_test_fail_alloc_after(n);
    int rc = cedar__request_from_text(row, strlen(row), s, &rq);
    wd_test_fail_alloc_after(-1);
    assert_true(rc == 0 || rc == -WD_E_NOMEM);
    done = rc == 0;
    cedar_request_free(rq);
  }
  assert_true(done);
  cedar_schema_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(takes_plain_requests),
      cmocka_unit_test(declines_the_rest),
      cmocka_unit_test(out_of_memory),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the decision text writer (src/gov/gov_text.c): strings
 * come back unchanged through a JSON parser whatever they hold, values are
 * written compact with sorted keys, an entity is written once, and a
 * writer past its cap stays failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "gov/gov_text.h"
#include "util/wd_limits.h"
#include "warden/err.h"

static void strings_round_trip(void **state) {
  (void)state;
  static const char *const rows[] = {
      "",
      "plain",
      "quote \" inside",
      "back\\slash",
      "line\nfeed\r\ttab",
      "\x01\x02\x1f control",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
      "/slash/",
      "\x7f",
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wd_gov__jw w;
    wd_gov__jw_init(&w);
    wd_gov__jw_raw(&w, "[");
    wd_gov__jw_str(&w, rows[i]);
    wd_gov__jw_raw(&w, "]");
    assert_int_equal(w.rc, 0);
    json_error_t e;
    json_t *j = json_loadb(wd_buf_str(&w.b), wd_buf_len(&w.b), 0, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_array_get(j, 0)), rows[i]);
    json_decref(j);
    wd_gov__jw_free(&w);
  }
}

static void values_and_refs(void **state) {
  (void)state;
  wd_gov__jw w;
  wd_gov__jw_init(&w);
  json_t *v = json_pack("{s:i, s:[s, b], s:{s:n, s:s}}", "z", 1, "a", "x", 1, "m", "q", "p", "s");
  wd_gov__jw_raw(&w, "{");
  wd_gov__jw_key(&w, "v", 1);
  wd_gov__jw_json(&w, v);
  wd_gov__jw_key(&w, "e", 0);
  wd_gov__jw_eref(&w, "Tool", "fs");
  wd_gov__jw_key(&w, "x", 0);
  wd_gov__jw_extn(&w, "duration", "5ms");
  wd_gov__jw_key(&w, "n", 0);
  wd_gov__jw_int(&w, INT64_MIN);
  wd_gov__jw_raw(&w, "}");
  assert_int_equal(w.rc, 0);
  assert_string_equal(wd_buf_str(&w.b),
                      "{\"v\":{\"a\":[\"x\",true],\"m\":{\"p\":\"s\",\"q\":null},\"z\":1},"
                      "\"e\":{\"__entity\":{\"id\":\"fs\",\"type\":\"Tool\"}},"
                      "\"x\":{\"__extn\":{\"arg\":\"5ms\",\"fn\":\"duration\"}},"
                      "\"n\":-9223372036854775808}");
  json_decref(v);
  wd_gov__jw_free(&w);
}

static void entities_once(void **state) {
  (void)state;
  wd_gov__ents e;
  assert_int_equal(wd_gov__ents_init(&e), 0);
  assert_int_equal(wd_gov__ents_begin(&e, "Tool", "fs"), 1);
  wd_gov__jw_raw(&e.w, "{}");
  wd_gov__ents_end(&e, NULL, 0);
  assert_int_equal(wd_gov__ents_begin(&e, "Tool", "fs"), 0);
  assert_int_equal(wd_gov__ents_begin(&e, "Data", "fs"), 1); /* other type, other entity */
  wd_gov__jw_raw(&e.w, "{}");
  const char *parent[2] = {"Tool", "fs"};
  wd_gov__ents_end(&e, parent, 1);
  const char *txt = wd_gov__ents_text(&e);
  assert_non_null(txt);
  json_t *j = json_loads(txt, 0, NULL);
  assert_non_null(j);
  assert_int_equal(json_array_size(j), 2);
  json_t *d = json_array_get(j, 1);
  assert_string_equal(json_string_value(json_object_get(json_object_get(d, "uid"), "type")),
                      "Data");
  assert_int_equal(json_array_size(json_object_get(d, "parents")), 1);
  json_decref(j);
  wd_gov__ents_free(&e);
}

static void sticky_cap(void **state) {
  (void)state;
  static char big[1 << 16];
  memset(big, 'a', sizeof big - 1);
  wd_gov__jw w;
  wd_gov__jw_init(&w);
  for (size_t i = 0; i <= WD_LIMIT_GOV_DECISION_TEXT / (sizeof big - 1) + 1 && !w.rc; i++)
    wd_gov__jw_str(&w, big);
  assert_int_equal(w.rc, -WD_E_TOOBIG);
  wd_gov__jw_raw(&w, "x");
  wd_gov__jw_int(&w, 1);
  assert_int_equal(w.rc, -WD_E_TOOBIG);
  wd_gov__jw_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(strings_round_trip),
      cmocka_unit_test(values_and_refs),
      cmocka_unit_test(entities_once),
      cmocka_unit_test(sticky_cap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

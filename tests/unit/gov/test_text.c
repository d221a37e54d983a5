/* SPDX-License-Identifier: Apache-2.0
 *
 * Byte-exact tests of the decision text writer (src/gov/gov_text.c),
 * next to test_gov_text.c's round trips: the decision text is hashed into
 * the evidence, so the exact escapes, key order and shape matter, not
 * only that a parser reads it back. Also the entity builder's objects and
 * what every call does once the writer has failed.
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

/* s written as a JSON string, exactly. */
static void escapes_exact(void **state) {
  (void)state;
  static const struct {
    const char *in, *out;
  } rows[] = {
      {"", "\"\""},
      {"\"", "\"\\\"\""},
      {"\\", "\"\\\\\""},
      {"\n\r\t", "\"\\n\\r\\t\""},
      {"\x01", "\"\\u0001\""},
      {"\x08\x0c", "\"\\u0008\\u000c\""}, /* \b and \f as \u00XX: still valid JSON */
      {"\x1f", "\"\\u001f\""},
      {"a\x10z", "\"a\\u0010z\""},
      {" ~\x7f", "\" ~\x7f\""},
      {"/", "\"/\""},
      {"caf\xc3\xa9", "\"caf\xc3\xa9\""},
      {"\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xe2\x82\xac\xf0\x9f\x98\x80\""},
      {"\xe2\x80\xa8", "\"\xe2\x80\xa8\""}, /* U+2028 kept as bytes */
      {"x\"y\\z\n", "\"x\\\"y\\\\z\\n\""},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wd_gov__jw w;
    wd_gov__jw_init(&w);
    wd_gov__jw_str(&w, rows[i].in);
    assert_int_equal(w.rc, 0);
    assert_string_equal(wd_buf_str(&w.b), rows[i].out);
    /* and it parses back to the input, byte for byte */
    json_error_t e;
    json_t *j = json_loadb(wd_buf_str(&w.b), wd_buf_len(&w.b), JSON_DECODE_ANY, &e);
    assert_non_null(j);
    assert_int_equal(json_string_length(j), strlen(rows[i].in));
    assert_memory_equal(json_string_value(j), rows[i].in, strlen(rows[i].in));
    json_decref(j);
    wd_gov__jw_free(&w);
  }
}

/* Every control character, one string: each escaped, the whole a valid
 * JSON string equal to the input. */
static void all_controls(void **state) {
  (void)state;
  char in[32];
  for (int c = 1; c < 32; c++)
    in[c - 1] = (char)c;
  in[31] = '\0';
  wd_gov__jw w;
  wd_gov__jw_init(&w);
  wd_gov__jw_str(&w, in);
  assert_int_equal(w.rc, 0);
  const char *out = wd_buf_str(&w.b);
  for (const char *p = out; *p; p++)
    assert_true((unsigned char)*p >= 0x20);
  json_t *j = json_loadb(out, wd_buf_len(&w.b), JSON_DECODE_ANY, NULL);
  assert_non_null(j);
  assert_string_equal(json_string_value(j), in);
  json_decref(j);
  wd_gov__jw_free(&w);
}

/* Keys, uids and jansson values: compact, sorted keys at every depth,
 * non-ASCII kept as bytes, integers exact. */
static void keys_uids_json(void **state) {
  (void)state;
  wd_gov__jw w;
  wd_gov__jw_init(&w);
  json_t *v = json_loads("{\"b\":[{\"y\":1,\"x\":[]}],\"a\":\"\xc3\xa9\",\"A\":{},"
                         "\"n\":9007199254740993,\"q\":\"\\\"\\u0001\"}",
                         0, NULL);
  assert_non_null(v);
  wd_gov__jw_raw(&w, "{");
  wd_gov__jw_key(&w, "k\"1", 1);
  wd_gov__jw_json(&w, v);
  wd_gov__jw_key(&w, "u", 0);
  wd_gov__jw_uid(&w, "Agent", "spiffe://x/agent/\"a\"");
  wd_gov__jw_raw(&w, "}");
  assert_int_equal(w.rc, 0);
  assert_string_equal(wd_buf_str(&w.b),
                      "{\"k\\\"1\":{\"A\":{},\"a\":\"\xc3\xa9\",\"b\":[{\"x\":[],\"y\":1}],"
                      "\"n\":9007199254740993,\"q\":\"\\\"\\u0001\"},"
                      "\"u\":{\"type\":\"Agent\",\"id\":\"spiffe://x/agent/\\\"a\\\"\"}}");
  json_decref(v);
  wd_gov__jw_free(&w);

  /* Scalars on their own (JSON_ENCODE_ANY). */
  static const char *const scalars[] = {"\"s\"", "true", "false", "null", "-7", "[]", "{}"};
  for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
    json_t *s = json_loads(scalars[i], JSON_DECODE_ANY, NULL);
    assert_non_null(s);
    wd_gov__jw_init(&w);
    wd_gov__jw_json(&w, s);
    assert_int_equal(w.rc, 0);
    assert_string_equal(wd_buf_str(&w.b), scalars[i]);
    wd_gov__jw_free(&w);
    json_decref(s);
  }
}

/* Every object the entity builder writes has exactly uid, attrs and
 * parents, in that order, each uid once whatever the order of begins. */
static void entity_objects(void **state) {
  (void)state;
  wd_gov__ents e;
  assert_int_equal(wd_gov__ents_init(&e), 0);
  static const char *const uids[][2] = {
      {"Agent", "a"}, {"Team", "t"}, {"Agent", "a"}, {"User", "a"},
      {"Team", "t"},  {"Team", "a"}, {"Agent", ""},  {"Agent", ""},
  };
  static const int fresh[] = {1, 1, 0, 1, 0, 1, 1, 0};
  const char *parents[4] = {"Team", "t", "User", "a"};
  for (size_t i = 0; i < sizeof fresh / sizeof fresh[0]; i++) {
    int got = wd_gov__ents_begin(&e, uids[i][0], uids[i][1]);
    assert_int_equal(got, fresh[i]);
    if (!got) continue;
    wd_gov__jw_raw(&e.w, "{\"k\":");
    wd_gov__jw_int(&e.w, (int64_t)i);
    wd_gov__jw_raw(&e.w, "}");
    wd_gov__ents_end(&e, parents, i % 3);
  }
  const char *txt = wd_gov__ents_text(&e);
  assert_non_null(txt);
  static const char head[] = "[{\"uid\":{\"type\":\"Agent\",\"id\":\"a\"},\"attrs\":{\"k\":0},"
                             "\"parents\":[]},{\"uid\":{\"type\":\"Team\",\"id\":\"t\"},";
  assert_int_equal(strncmp(txt, head, sizeof head - 1), 0);
  json_error_t err;
  json_t *j = json_loads(txt, 0, &err);
  assert_non_null(j);
  assert_true(json_is_array(j));
  assert_int_equal(json_array_size(j), 5);
  size_t i;
  json_t *o;
  json_array_foreach(j, i, o) {
    assert_int_equal(json_object_size(o), 3);
    json_t *uid = json_object_get(o, "uid");
    assert_non_null(json_string_value(json_object_get(uid, "type")));
    assert_non_null(json_string_value(json_object_get(uid, "id")));
    assert_true(json_is_object(json_object_get(o, "attrs")));
    assert_true(json_is_array(json_object_get(o, "parents")));
    for (size_t k = 0; k < i; k++) {
      json_t *other = json_object_get(json_array_get(j, k), "uid");
      assert_false(json_equal(uid, other));
    }
  }
  /* Team::"a" (the sixth begin, the fourth entity) has both parents, in
   * the order given. */
  json_t *team_a = json_array_get(j, 3);
  assert_string_equal(json_string_value(json_object_get(json_object_get(team_a, "uid"), "id")),
                      "a");
  json_t *ps = json_object_get(team_a, "parents");
  assert_int_equal(json_array_size(ps), 2);
  assert_string_equal(json_string_value(json_object_get(json_array_get(ps, 1), "type")), "User");
  json_decref(j);
  wd_gov__ents_free(&e);
}

/* An empty builder is an empty array. */
static void no_entities(void **state) {
  (void)state;
  wd_gov__ents e;
  assert_int_equal(wd_gov__ents_init(&e), 0);
  assert_string_equal(wd_gov__ents_text(&e), "[]");
  wd_gov__ents_free(&e);
}

/* Past the cap the writer stays failed: the text is dropped whole (no
 * prefix left to hash by mistake) and no later call adds a byte. */
static void sticky_nothing_after(void **state) {
  (void)state;
  static char big[1 << 16];
  memset(big, 'b', sizeof big - 1);
  wd_gov__jw w;
  wd_gov__jw_init(&w);
  size_t rounds = 0;
  while (!w.rc) {
    wd_gov__jw_str(&w, big);
    rounds++;
    assert_true(rounds <= WD_LIMIT_GOV_DECISION_TEXT / (sizeof big - 1) + 2);
  }
  assert_int_equal(w.rc, -WD_E_TOOBIG);
  /* wd_buf frees itself on a failed append, so no partial text is left;
   * the writer must not start a fresh buffer on the next call either. */
  assert_int_equal(wd_buf_len(&w.b), 0);
  json_t *v = json_pack("{s:s}", "k", "v");
  wd_gov__jw_raw(&w, "x");
  wd_gov__jw_str(&w, "y");
  wd_gov__jw_int(&w, 42);
  wd_gov__jw_key(&w, "k", 0);
  wd_gov__jw_eref(&w, "Tool", "fs");
  wd_gov__jw_extn(&w, "decimal", "1.0");
  wd_gov__jw_uid(&w, "Tool", "fs");
  wd_gov__jw_json(&w, v);
  assert_int_equal(w.rc, -WD_E_TOOBIG);
  assert_int_equal(wd_buf_len(&w.b), 0);
  assert_string_equal(wd_buf_str(&w.b), "");
  json_decref(v);
  wd_gov__jw_free(&w);

  /* The entity builder: a failed writer begins nothing and has no text. */
  wd_gov__ents e;
  assert_int_equal(wd_gov__ents_init(&e), 0);
  while (!e.w.rc)
    wd_gov__jw_str(&e.w, big);
  assert_int_equal(wd_gov__ents_begin(&e, "Tool", "fs"), 0);
  wd_gov__ents_end(&e, NULL, 0);
  assert_null(wd_gov__ents_text(&e));
  assert_int_equal(e.w.rc, -WD_E_TOOBIG);
  wd_gov__ents_free(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(escapes_exact),  cmocka_unit_test(all_controls),
      cmocka_unit_test(keys_uids_json), cmocka_unit_test(entity_objects),
      cmocka_unit_test(no_entities),    cmocka_unit_test(sticky_nothing_after),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

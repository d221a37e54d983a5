/* SPDX-License-Identifier: Apache-2.0
 *
 * Table-driven tests of the canonical encoding (docs/internals/audit.md)
 * and a known-answer test of the record hash, computed independently
 * (Python hashlib over the documented encoding).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "audit/audit_int.h"
#include "util/wd_alloc.h"

static void canonical_payloads(void **state) {
  static const struct {
    const char *in, *want; /* want NULL: refused with err */
    int err;
  } rows[] = {
      {"{}", "{}", 0},
      {" { \"b\" : 1 , \"a\" : 2 } ", "{\"a\":2,\"b\":1}", 0},
      {"{\"b\":{\"z\":[3,2,1],\"y\":null},\"a\":false}",
       "{\"a\":false,\"b\":{\"y\":null,\"z\":[3,2,1]}}", 0},
      {"{\"aa\":1,\"a\":2,\"B\":3,\"\\u00e9\":4}", "{\"B\":3,\"a\":2,\"aa\":1,\"\xc3\xa9\":4}", 0},
      {"{\"s\":\"\\u0041\\/\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"}",
       "{\"s\":\"A/\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"}", 0},
      {"{\"n\":-9223372036854775808,\"m\":9223372036854775807,\"z\":-0}",
       "{\"m\":9223372036854775807,\"n\":-9223372036854775808,\"z\":0}", 0},
      {"{\"e\":\"\\ud83d\\ude00\"}", "{\"e\":\"\xf0\x9f\x98\x80\"}", 0},
      {"{\"r\":1.0}", NULL, -WD_E_INVAL},
      {"{\"r\":1e3}", NULL, -WD_E_INVAL},
      {"{\"a\":1,\"a\":1}", NULL, -WD_E_INVAL},
      {"[]", NULL, -WD_E_INVAL},
      {"{\"s\":\"\\u0000\"}", NULL, -WD_E_INVAL},
      {"{} {}", NULL, -WD_E_INVAL},
      {"", NULL, -WD_E_INVAL},
  };
  int fails = 0;
  (void)state;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char *out = NULL;
    int rc = wd_audit__canon_payload(rows[i].in, strlen(rows[i].in), 0, &out);
    if (rows[i].want ? (rc != 0 || strcmp(out, rows[i].want) != 0) : rc != rows[i].err) {
      print_error("row %zu: %s -> rc %d, %s\n", i, rows[i].in, rc, out ? out : "(null)");
      fails++;
    }
    wd_free(out);
  }
  assert_int_equal(fails, 0);
}

/* wd_audit_canon_json: the same encoding, except that a non-integer
 * number becomes the string of its shortest round-trip decimal text. */
static void reals_as_text(void **state) {
  static const struct {
    const char *in, *want;
  } rows[] = {
      {"{\"r\":1.5,\"a\":[0.1,1e300,-2.5e-7,1.0]}",
       "{\"a\":[\"0.1\",\"1e+300\",\"-2.5e-07\",\"1\"],\"r\":\"1.5\"}"},
      {"{\"x\":{\"b\":true,\"a\":\"\\b\"},\"n\":7}", "{\"n\":7,\"x\":{\"a\":\"\\b\",\"b\":true}}"},
      {"[0.30000000000000004]", "[\"0.30000000000000004\"]"},
  };
  int fails = 0;
  (void)state;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    json_t *j = json_loads(rows[i].in, 0, NULL);
    wd_buf b;
    wd_buf_init(&b, 4096);
    int rc = j ? wd_audit_canon_json(&b, j) : -1;
    if (rc != 0 || strcmp(wd_buf_str(&b), rows[i].want) != 0) {
      print_error("row %zu: %s -> rc %d, %s\n", i, rows[i].in, rc, rc ? "" : wd_buf_str(&b));
      fails++;
    }
    wd_buf_free(&b);
    json_decref(j);
  }
  assert_int_equal(fails, 0);
  wd_buf b;
  wd_buf_init(&b, 16);
  assert_int_equal(wd_audit_canon_json(&b, NULL), -WD_E_INVAL);
  assert_int_equal(wd_audit_canon_str(&b, "a\"b", 3), 0);
  assert_string_equal(wd_buf_str(&b), "\"a\\\"b\"");
  wd_buf_free(&b);
}

static void known_answer_hash(void **state) {
  wd_audit_row r = {
      .seq = 1,
      .time = "2026-01-02T03:04:05.678Z",
      .type = "task.opened",
      .actor = "agent:a",
      .task = "t1",
      .payload = "{\"a\":1,\"b\":[true,null]}",
      .prev_hash = WD_AUDIT_GENESIS,
  };
  char hex[65];
  (void)state;
  assert_int_equal(wd_audit__hash(&r, hex), 0);
  assert_string_equal(hex, "389b0e9892154f5c64e35787854c9e868344900b0ebf3057e28f25dedab0e3cd");
}

static void validators(void **state) {
  static const struct {
    const char *s;
    int time_ok;
  } times[] = {
      {"2026-01-02T03:04:05.678Z", 1},      {"2026-01-02T03:04:05Z", 0},
      {"2026-01-02T03:04:05.678+00:00", 0}, {"2026-01-02 03:04:05.678Z", 0},
      {"2026-01-02T03:04:05.678Zx", 0},     {"", 0},
  };
  char now[WD_AUDIT_TIME_LEN + 1];
  (void)state;
  for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
    assert_int_equal(wd_audit__time_ok(times[i].s), times[i].time_ok);
  wd_audit__now(now);
  assert_true(wd_audit__time_ok(now));
  assert_true(wd_audit__hex64_ok(WD_AUDIT_GENESIS));
  assert_false(wd_audit__hex64_ok("0000"));
  assert_false(wd_audit__utf8_ok("\xed\xa0\x80", 3)); /* surrogate */
  assert_false(wd_audit__utf8_ok("\xe0\x80\x80", 3)); /* overlong */
  assert_true(wd_audit__utf8_ok("caf\xc3\xa9", 5));
  for (unsigned t = 0; t < WD_AUDIT__TYPE_COUNT; t++) {
    wd_audit_type back;
    assert_int_equal(wd_audit_type_parse(wd_audit_type_name((wd_audit_type)t), &back), 0);
    assert_int_equal(back, t);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(canonical_payloads),
      cmocka_unit_test(reals_as_text),
      cmocka_unit_test(known_answer_hash),
      cmocka_unit_test(validators),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

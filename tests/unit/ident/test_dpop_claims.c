/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the DPoP payload reader: which spellings the flat reader
 * takes and which it leaves to jansson, that both readings agree on every
 * text it takes (a table and a quarter of a million mutations of an
 * agent's payload), and that the segment reader falls back to jansson
 * and words a bad segment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../fuzz/dpop_claims_agree.h"
#include "warden/err.h"

#define PLAIN                                                                                      \
  "{\"jti\":\"iBfN7q8D8wwoH9Kv2i7-aA\",\"htm\":\"POST\",\"htu\":\"http://127.0.0.1:8080/v1/"       \
  "authorize\",\"iat\":1733556972,\"ath\":\"fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo\"}"

static void spellings(void **state) {
  (void)state;
  static const struct {
    const char *text;
    int taken;
  } rows[] = {
      {PLAIN, 1},
      {" {\n\t\"iat\" : 0 ,\r\"jti\" : \"\" }  ", 1},
      {"{}", 1},
      {"{\"other\":\"x\",\"n\":12}", 1},
      {"{\"iat\":999999999999999999}", 1},
      {"{\"jti\":\"a\",\"jti\":\"b\"}", 0}, /* jansson refuses duplicates */
      {"{\"jti\":\"a\\u0041\"}", 0},        /* escapes */
      {"{\"jti\":\"\xc3\xa9\"}", 0},        /* not ASCII */
      {"{\"jti\":\"a\tb\"}", 0},            /* control byte */
      {"{\"iat\":1.0}", 0},                 /* a real */
      {"{\"iat\":1e3}", 0},                 /* a real */
      {"{\"iat\":-1}", 0},                  /* sign */
      {"{\"iat\":0123}", 0},                /* not JSON */
      {"{\"iat\":9999999999999999999}", 0}, /* 19 digits */
      {"{\"n\":null}", 0},                  /* other kinds */
      {"{\"o\":{}}", 0},                    /* nesting */
      {"{\"a\":\"b\"} x", 0},               /* trailing text */
      {"{\"a\":\"b\",}", 0},                /* trailing comma */
      {"{\"a\" \"b\"}", 0},                 /* no colon */
      {"{\"a\":\"b\"", 0},                  /* unterminated */
      {"[]", 0},                            /* not an object */
      {"", 0},
      {"{\"a\":\"b\"}\0", 0}, /* NUL after the object (length below) */
  };
  int failed = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    size_t n = strlen(rows[i].text) + (i == sizeof rows / sizeof rows[0] - 1);
    int got = dpop_claims_agree(rows[i].text, n);
    if (got != rows[i].taken) {
      print_error("row %zu: %d, want %d: %s\n", i, got, rows[i].taken, rows[i].text);
      failed++;
    }
  }
  assert_int_equal(failed, 0);

  char text[] = PLAIN;
  wd_ident__dpop_claims c;
  assert_int_equal(wd_ident__dpop_claims_flat(text, strlen(text), &c), 1);
  assert_string_equal(c.jti, "iBfN7q8D8wwoH9Kv2i7-aA");
  assert_string_equal(c.htm, "POST");
  assert_string_equal(c.htu, "http://127.0.0.1:8080/v1/authorize");
  assert_string_equal(c.ath, "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
  assert_int_equal(c.has_iat, 1);
  assert_int_equal(c.iat, 1733556972);
  /* A claim of another kind is absent, as jansson's reading has it. */
  char kinds[] = "{\"jti\":7,\"iat\":\"7\"}";
  assert_int_equal(wd_ident__dpop_claims_flat(kinds, strlen(kinds), &c), 1);
  assert_null(c.jti);
  assert_int_equal(c.has_iat, 0);
}

static void mutations(void **state) {
  (void)state;
  static const char alphabet[] = "{}[]\":,. \t\\-+0123456789eEatjihmu\x01\xc3\x80";
  srand(4242);
  size_t taken = 0;
  for (int i = 0; i < 250000; i++) {
    char buf[sizeof PLAIN + 8];
    size_t n = strlen(PLAIN);
    memcpy(buf, PLAIN, n);
    for (int m = 1 + rand() % 3; m > 0; m--) {
      size_t at = (size_t)rand() % n;
      char ch = alphabet[(size_t)rand() % (sizeof alphabet - 1)];
      switch (rand() % 3) {
      case 0: buf[at] = ch; break;
      case 1:
        memmove(buf + at, buf + at + 1, n - at - 1);
        n--;
        break;
      default:
        if (n + 1 < sizeof buf) {
          memmove(buf + at + 1, buf + at, n - at);
          buf[at] = ch;
          n++;
        }
      }
    }
    int got = dpop_claims_agree(buf, n);
    if (got < 0) fail_msg("readings differ on %.*s", (int)n, buf);
    taken += (size_t)got;
  }
  /* The mutations must reach both sides of the line. */
  assert_true(taken > 10000 && taken < 240000);
}

static void segments(void **state) {
  (void)state;
  char buf[WD_LIMIT_JWS_PART_BYTES + 1];
  json_t *tree = NULL;
  wd_ident__dpop_claims c;
  wd_ident_diag d;
  /* {"jti":"a\u0041","iat":1}: escapes go through jansson. */
  const char *esc = "eyJqdGkiOiJhXHUwMDQxIiwiaWF0IjoxfQ";
  assert_int_equal(wd_ident__dpop_claims_read(esc, strlen(esc), buf, &tree, &c, &d), 0);
  assert_non_null(tree);
  assert_string_equal(c.jti, "aA");
  assert_int_equal(c.iat, 1);
  json_decref(tree);
  /* {"iat":1}: the flat reading keeps no tree. */
  const char *plain = "eyJpYXQiOjF9";
  assert_int_equal(wd_ident__dpop_claims_read(plain, strlen(plain), buf, &tree, &c, &d), 0);
  assert_null(tree);
  assert_int_equal(c.iat, 1);
  static const char *const bad[] = {"", "eyJpYXQiOjF9=", "W10", "e30*", "bnVsbA"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(wd_ident__dpop_claims_read(bad[i], strlen(bad[i]), buf, &tree, &c, &d),
                     -WD_E_VALIDATE);
    assert_null(tree);
    assert_int_equal(d.reason, WD_IDENT_R_MALFORMED);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(spellings),
      cmocka_unit_test(mutations),
      cmocka_unit_test(segments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

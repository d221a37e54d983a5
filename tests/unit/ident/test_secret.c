/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for secrets: random tokens are distinct and base64url, the
 * SHA-256 storage hash matches a known vector, and checks compare in
 * constant time and fail closed on malformed stored hashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ident/wd_ident.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

static void random_tokens(void **state) {
  (void)state;
  char *a = NULL, *b = NULL;
  assert_int_equal(wd_ident_random_token(32, &a), 0);
  assert_int_equal(wd_ident_random_token(32, &b), 0);
  assert_int_equal(strlen(a), 43);
  assert_string_not_equal(a, b);
  uint8_t raw[32];
  size_t n = 0;
  assert_int_equal(wd_ident_b64url_decode(a, strlen(a), raw, sizeof raw, &n), 0);
  assert_int_equal(n, 32);
  wd_ident_secret_free(a);
  wd_ident_secret_free(b);
  assert_int_equal(wd_ident_random_token(8, &a), -WD_E_INVAL);
  assert_int_equal(wd_ident_random_token(1000, &a), -WD_E_INVAL);
}

static void hash_and_check(void **state) {
  (void)state;
  char h[WD_IDENT_HASH_HEX_LEN + 1];
  assert_int_equal(wd_ident_secret_hash("abc", 3, h), 0);
  assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_true(wd_ident_secret_check("abc", 3, h));
  assert_false(wd_ident_secret_check("abd", 3, h));
  assert_false(wd_ident_secret_check("abc", 3, "ba78"));
  assert_false(wd_ident_secret_check("abc", 3, NULL));
  assert_true(wd_ident_secret_equal("same", "same", 4));
  assert_false(wd_ident_secret_equal("same", "sane", 4));
  uint8_t key[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  wd_ident_cleanse(key, sizeof key);
  for (size_t i = 0; i < sizeof key; i++)
    assert_int_equal(key[i], 0);
}

static void reason_table(void **state) {
  (void)state;
  assert_string_equal(wd_ident_reason_name(WD_IDENT_R_EXPIRED), "EXPIRED");
  assert_string_equal(wd_ident_reason_msg(WD_IDENT_R_EXPIRED), "token expired");
  assert_string_equal(wd_ident_reason_msg(WD_IDENT_R_WRONG_AUDIENCE), "wrong audience");
  assert_string_equal(wd_ident_reason_msg(WD_IDENT_R_SIG_INVALID), "signature invalid");
  assert_string_equal(wd_ident_reason_msg(WD_IDENT_R_UNKNOWN_KID), "unknown key id");
  assert_string_equal(wd_ident_reason_msg(WD_IDENT_R_ALG_NOT_ALLOWED), "alg not allowed");
  assert_string_equal(wd_ident_reason_name(WD_IDENT_R__COUNT), "UNKNOWN");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(random_tokens),
      cmocka_unit_test(hash_and_check),
      cmocka_unit_test(reason_table),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for base64url: RFC 4648 vectors both ways, and the strict
 * decoder refusing padding, foreign characters, impossible lengths and
 * non-canonical trailing bits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ident/wd_ident.h"
#include "warden/err.h"

static const struct {
  const char *raw, *enc;
} VECTORS[] = {
    {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
    {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"},
};

static void vectors_round_trip(void **state) {
  (void)state;
  int failed = 0;
  for (size_t i = 0; i < sizeof VECTORS / sizeof VECTORS[0]; i++) {
    char enc[64];
    uint8_t dec[64];
    size_t n = 0, rawlen = strlen(VECTORS[i].raw);
    int rc = wd_ident_b64url_encode(VECTORS[i].raw, rawlen, enc, sizeof enc);
    if (rc || strcmp(enc, VECTORS[i].enc) != 0 || wd_ident_b64url_enclen(rawlen) != strlen(enc)) {
      print_error("row %zu: encode gave \"%s\"\n", i, enc);
      failed++;
    }
    rc = wd_ident_b64url_decode(VECTORS[i].enc, strlen(VECTORS[i].enc), dec, sizeof dec, &n);
    if (rc || n != rawlen || memcmp(dec, VECTORS[i].raw, n) != 0) {
      print_error("row %zu: decode rc %d\n", i, rc);
      failed++;
    }
  }
  assert_int_equal(failed, 0);
}

static const struct {
  const char *enc, *why;
} BAD[] = {
    {"Zg==", "padding"},
    {"Zm9v=", "padding"},
    {"Zm+v", "standard alphabet +"},
    {"Zm/v", "standard alphabet /"},
    {"Z", "length 1 mod 4"},
    {"Zm9vY", "length 1 mod 4"},
    {"Zh", "non-zero trailing bits (f + 1)"},
    {"Zm9", "non-zero trailing bits"},
    {"Zm 9v", "space"},
    {"Zm\n9v", "newline"},
    {"Zm.v", "dot"},
};

static void rejects_non_canonical(void **state) {
  (void)state;
  int failed = 0;
  for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
    uint8_t dec[64];
    size_t n = 0;
    if (wd_ident_b64url_decode(BAD[i].enc, strlen(BAD[i].enc), dec, sizeof dec, &n) !=
        -WD_E_PARSE) {
      print_error("row %zu (%s) accepted\n", i, BAD[i].why);
      failed++;
    }
  }
  assert_int_equal(failed, 0);
}

static void small_buffers(void **state) {
  (void)state;
  char enc[4];
  uint8_t dec[2];
  size_t n = 0;
  assert_int_equal(wd_ident_b64url_encode("foo", 3, enc, sizeof enc), -WD_E_TOOBIG);
  assert_int_equal(wd_ident_b64url_decode("Zm9v", 4, dec, sizeof dec, &n), -WD_E_TOOBIG);
  assert_int_equal(wd_ident_b64url_decode("Zm8", 3, dec, sizeof dec, &n), 0);
  assert_int_equal(n, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(vectors_round_trip),
      cmocka_unit_test(rejects_non_canonical),
      cmocka_unit_test(small_buffers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

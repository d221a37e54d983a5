/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for keys: generation of both types, PEM round trips, atomic
 * 0600 key files, and refusal of key types the module does not support.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ident/wd_ident.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

static const wd_ident_keytype TYPES[] = {WD_IDENT_KEY_ED25519, WD_IDENT_KEY_P256};

static void generate_and_pem_round_trip(void **state) {
  (void)state;
  for (size_t i = 0; i < 2; i++) {
    wd_ident_key *k = NULL, *priv = NULL, *pub = NULL;
    assert_int_equal(wd_ident_key_generate(TYPES[i], &k), 0);
    assert_int_equal(wd_ident_key_type(k), TYPES[i]);
    assert_true(wd_ident_key_has_private(k));
    assert_int_equal(strlen(wd_ident_key_jkt(k)), WD_IDENT_JKT_LEN);
    char *pem = NULL;
    size_t len = 0;
    assert_int_equal(wd_ident_key_to_pem(k, 1, &pem, &len), 0);
    assert_non_null(strstr(pem, "BEGIN PRIVATE KEY"));
    assert_int_equal(wd_ident_key_from_pem(pem, len, &priv), 0);
    wd_ident_secret_free(pem);
    assert_true(wd_ident_key_has_private(priv));
    assert_string_equal(wd_ident_key_jkt(priv), wd_ident_key_jkt(k));
    assert_int_equal(wd_ident_key_to_pem(k, 0, &pem, &len), 0);
    assert_non_null(strstr(pem, "BEGIN PUBLIC KEY"));
    assert_int_equal(wd_ident_key_from_pem(pem, len, &pub), 0);
    wd_free(pem);
    assert_false(wd_ident_key_has_private(pub));
    assert_string_equal(wd_ident_key_jkt(pub), wd_ident_key_jkt(k));
    /* A public key cannot produce a private PEM. */
    assert_int_equal(wd_ident_key_to_pem(pub, 1, &pem, &len), -WD_E_INVAL);
    wd_ident_key_free(k);
    wd_ident_key_free(priv);
    wd_ident_key_free(pub);
  }
}

static void distinct_keys_distinct_jkt(void **state) {
  (void)state;
  wd_ident_key *a = NULL, *b = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &a), 0);
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &b), 0);
  assert_string_not_equal(wd_ident_key_jkt(a), wd_ident_key_jkt(b));
  wd_ident_key_free(a);
  wd_ident_key_free(b);
}

static void file_is_0600_and_loads(void **state) {
  (void)state;
  char dir[] = "/tmp/wd_ident_keyXXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[128];
  (void)snprintf(path, sizeof path, "%s/agent.pem", dir);
  wd_ident_key *k = NULL, *back = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &k), 0);
  assert_int_equal(wd_ident_key_save(k, path), 0);
  struct stat st;
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  /* Saving again replaces the file atomically. */
  assert_int_equal(wd_ident_key_save(k, path), 0);
  assert_int_equal(wd_ident_key_load(path, &back), 0);
  assert_string_equal(wd_ident_key_jkt(back), wd_ident_key_jkt(k));
  assert_true(wd_ident_key_has_private(back));
  wd_ident_key_free(k);
  wd_ident_key_free(back);
  assert_int_equal(unlink(path), 0);
  assert_int_equal(rmdir(dir), 0); /* no temporary file left behind */
  assert_int_equal(wd_ident_key_load("/nonexistent/key.pem", &back), -WD_E_NOTFOUND);
}

/* A P-384 key and an RSA key: valid PEM, unsupported types. */
static const char P384_PUB[] = "-----BEGIN PUBLIC KEY-----\n"
                               "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEbHx+r/pIwkA8SK+/fiKpA39g5+CfrRxL\n"
                               "a8KoVeQBQI+zug3ddT450Rp0OsBs8UuVnZH1/XflS7TF2qCx5zI6vao1EyqjMiTb\n"
                               "d28+zvl9XYyPjEz+1Z6q1VtWboHEY50p\n"
                               "-----END PUBLIC KEY-----\n";
static const char BAD_PRIV[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";

static void rejects_other_types_and_garbage(void **state) {
  (void)state;
  wd_ident_key *k = NULL;
  assert_int_equal(wd_ident_key_from_pem(P384_PUB, sizeof P384_PUB - 1, &k), -WD_E_VALIDATE);
  assert_null(k);
  assert_int_equal(wd_ident_key_from_pem("hello", 5, &k), -WD_E_PARSE);
  assert_int_equal(wd_ident_key_from_pem(BAD_PRIV, sizeof BAD_PRIV - 1, &k), -WD_E_PARSE);
  assert_int_equal(wd_ident_key_generate((wd_ident_keytype)7, &k), -WD_E_INVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(generate_and_pem_round_trip),
      cmocka_unit_test(distinct_keys_distinct_jkt),
      cmocka_unit_test(file_is_0600_and_loads),
      cmocka_unit_test(rejects_other_types_and_garbage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

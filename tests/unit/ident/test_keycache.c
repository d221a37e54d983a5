/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the proof-key cache: a hit returns the key the JWK's
 * public members describe and nothing else, private members are still
 * refused, a colliding entry is replaced safely while a caller still holds
 * the old key, a missing cache falls back to a plain import, and JWKs
 * that differ only in a missing or non-string member never share an entry.
 * Proof
 * headers are kept by their exact text, with their alg.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ident/ident_int.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

static json_t *jwk_of(wd_ident_keytype t, wd_ident_key **priv) {
  json_t *j = NULL;
  assert_int_equal(wd_ident_key_generate(t, priv), 0);
  assert_int_equal(wd_ident_key_to_jwk_json(*priv, NULL, &j), 0);
  return j;
}

static void hit_is_same_key(void **state) {
  (void)state;
  wd_ident_keycache *c = NULL;
  assert_int_equal(wd_ident_keycache_new(16, &c), 0);
  for (int t = WD_IDENT_KEY_ED25519; t <= WD_IDENT_KEY_P256; t++) {
    wd_ident_key *priv = NULL, *a = NULL, *b = NULL;
    json_t *j = jwk_of((wd_ident_keytype)t, &priv);
    assert_int_equal(wd_ident_key_from_jwk_cached(c, j, &a, NULL), 0);
    assert_int_equal(wd_ident_key_from_jwk_cached(c, j, &b, NULL), 0);
    assert_ptr_equal(a, b);
    assert_string_equal(wd_ident_key_jkt(a), wd_ident_key_jkt(priv));
    /* Extra public members name the same key. */
    json_t *k2 = json_deep_copy(j);
    json_object_set_new(k2, "alg", json_string("x"));
    wd_ident_key *c2 = NULL;
    assert_int_equal(wd_ident_key_from_jwk_cached(c, k2, &c2, NULL), 0);
    assert_string_equal(wd_ident_key_jkt(c2), wd_ident_key_jkt(priv));
    /* A private member is refused even when the public ones hit. */
    json_object_set_new(k2, "d", json_string("AAAA"));
    wd_ident_key *bad = NULL;
    assert_int_equal(wd_ident_key_from_jwk_cached(c, k2, &bad, NULL), -WD_E_VALIDATE);
    assert_null(bad);
    json_decref(k2);
    json_decref(j);
    wd_ident_key_free(c2);
    wd_ident_key_free(a);
    wd_ident_key_free(b);
    wd_ident_key_free(priv);
  }
  wd_ident_keycache_free(c);
}

static void replaced_entry_stays_valid(void **state) {
  (void)state;
  wd_ident_keycache *c = NULL;
  assert_int_equal(wd_ident_keycache_new(1, &c), 0); /* every key collides */
  wd_ident_key *p1 = NULL, *p2 = NULL, *k1 = NULL, *k2 = NULL, *k3 = NULL;
  json_t *j1 = jwk_of(WD_IDENT_KEY_P256, &p1), *j2 = jwk_of(WD_IDENT_KEY_P256, &p2);
  assert_int_equal(wd_ident_key_from_jwk_cached(c, j1, &k1, NULL), 0);
  assert_int_equal(wd_ident_key_from_jwk_cached(c, j2, &k2, NULL), 0);
  assert_string_equal(wd_ident_key_jkt(k1), wd_ident_key_jkt(p1)); /* still held */
  assert_string_equal(wd_ident_key_jkt(k2), wd_ident_key_jkt(p2));
  assert_int_equal(wd_ident_key_from_jwk_cached(c, j1, &k3, NULL), 0);
  assert_string_equal(wd_ident_key_jkt(k3), wd_ident_key_jkt(p1));
  wd_ident_keycache_free(c); /* keys outlive the cache */
  assert_string_equal(wd_ident_key_jkt(k3), wd_ident_key_jkt(p1));
  wd_ident_key_free(k1);
  wd_ident_key_free(k2);
  wd_ident_key_free(k3);
  wd_ident_key_free(p1);
  wd_ident_key_free(p2);
  json_decref(j1);
  json_decref(j2);
}

static void bad_input(void **state) {
  (void)state;
  wd_ident_keycache *c = NULL;
  assert_int_equal(wd_ident_keycache_new(0, &c), -WD_E_INVAL);
  assert_int_equal(wd_ident_keycache_new(4, &c), 0);
  json_t *j =
      json_pack("{s:s, s:s, s:s, s:s}", "kty", "EC", "crv", "P-256", "x", "AAAA", "y", "AAAA");
  wd_ident_key *k = NULL;
  wd_ident_diag d;
  assert_int_equal(wd_ident_key_from_jwk_cached(c, j, &k, &d), -WD_E_VALIDATE);
  assert_null(k);
  /* No cache: a plain import. */
  wd_ident_key *priv = NULL;
  json_t *good = jwk_of(WD_IDENT_KEY_ED25519, &priv);
  assert_int_equal(wd_ident_key_from_jwk_cached(NULL, good, &k, NULL), 0);
  assert_string_equal(wd_ident_key_jkt(k), wd_ident_key_jkt(priv));
  wd_ident_key_free(k);
  wd_ident_key_free(priv);
  json_decref(good);
  json_decref(j);
  wd_ident_keycache_free(c);
  wd_ident_keycache_free(NULL);
}

static void proof_headers(void **state) {
  (void)state;
  wd_ident_keycache *c = NULL;
  assert_int_equal(wd_ident_keycache_new(1, &c), 0);
  wd_ident_key *k1 = NULL, *k2 = NULL;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &k1), 0);
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &k2), 0);
  static const char h1[] = "eyJhbGciOiJFUzI1NiJ9", h2[] = "eyJhbGciOiJFZERTQSJ9";
  wd_ident_alg alg = WD_IDENT_ALG_EDDSA;
  assert_null(wd_ident__keycache_header_get(c, h1, strlen(h1), &alg));
  wd_ident__keycache_header_put(c, h1, strlen(h1), k1, WD_IDENT_ALG_ES256);
  wd_ident_key *got = wd_ident__keycache_header_get(c, h1, strlen(h1), &alg);
  assert_ptr_equal(got, k1);
  assert_int_equal(alg, WD_IDENT_ALG_ES256);
  wd_ident_key_free(got);
  /* Only the exact text: a prefix and another header miss. */
  assert_null(wd_ident__keycache_header_get(c, h1, strlen(h1) - 1, &alg));
  assert_null(wd_ident__keycache_header_get(c, h2, strlen(h2), &alg));
  /* A colliding header replaces the entry; a held key stays valid. */
  got = wd_ident__keycache_header_get(c, h1, strlen(h1), &alg);
  wd_ident__keycache_header_put(c, h2, strlen(h2), k2, WD_IDENT_ALG_EDDSA);
  assert_null(wd_ident__keycache_header_get(c, h1, strlen(h1), &alg));
  assert_string_equal(wd_ident_key_jkt(got), wd_ident_key_jkt(k1));
  wd_ident_key_free(got);
  /* Too long to keep, and no cache at all. */
  char big[WD_LIMIT_PROOF_HEADER_KEPT + 2];
  memset(big, 'e', sizeof big);
  wd_ident__keycache_header_put(c, big, sizeof big, k1, WD_IDENT_ALG_ES256);
  assert_null(wd_ident__keycache_header_get(c, big, sizeof big, &alg));
  wd_ident__keycache_header_put(NULL, h1, strlen(h1), k1, WD_IDENT_ALG_ES256);
  assert_null(wd_ident__keycache_header_get(NULL, h1, strlen(h1), &alg));
  wd_ident_keycache_free(c);
  wd_ident_key_free(k1);
  wd_ident_key_free(k2);
}

/* JWKs that differ only in how y is missing: an Ed25519 key has none, and
 * the importer refuses one with a y member of any kind. Their entry ids
 * were once the same, so each of these hit the cached key. */
static void ids_are_unambiguous(void **state) {
  (void)state;
  wd_ident_keycache *c = NULL;
  assert_int_equal(wd_ident_keycache_new(16, &c), 0);
  wd_ident_key *priv = NULL, *k = NULL;
  json_t *good = jwk_of(WD_IDENT_KEY_ED25519, &priv);
  assert_int_equal(wd_ident_key_from_jwk_cached(c, good, &k, NULL), 0);
  wd_ident_key_free(k);
  json_t *ys[] = {json_string(""), json_integer(5), json_null(), json_object(), json_false()};
  int failed = 0;
  for (size_t i = 0; i < sizeof ys / sizeof ys[0]; i++) {
    json_t *j = json_deep_copy(good);
    assert_int_equal(json_object_set_new(j, "y", ys[i]), 0);
    for (int pass = 0; pass < 2; pass++) {
      wd_ident_diag d;
      k = NULL;
      int rc = wd_ident_key_from_jwk_cached(c, j, &k, &d);
      if (rc != -WD_E_VALIDATE || k || d.reason != WD_IDENT_R_BAD_KEY) {
        print_error("y row %zu pass %d: rc %d\n", i, pass, rc);
        failed++;
      }
      wd_ident_key_free(k);
    }
    json_decref(j);
  }
  /* The good JWK still hits its own entry. */
  wd_ident_key *again = NULL;
  assert_int_equal(wd_ident_key_from_jwk_cached(c, good, &k, NULL), 0);
  assert_int_equal(wd_ident_key_from_jwk_cached(c, good, &again, NULL), 0);
  assert_ptr_equal(k, again);
  assert_string_equal(wd_ident_key_jkt(k), wd_ident_key_jkt(priv));
  wd_ident_key_free(again);
  wd_ident_key_free(k);
  json_decref(good);
  wd_ident_key_free(priv);
  wd_ident_keycache_free(c);
  assert_int_equal(failed, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(hit_is_same_key),     cmocka_unit_test(replaced_entry_stays_valid),
      cmocka_unit_test(bad_input),           cmocka_unit_test(proof_headers),
      cmocka_unit_test(ids_are_unambiguous),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

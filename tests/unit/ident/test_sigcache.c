/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the verified-token cache: a cached token verifies
 * without changing any outcome: tampered tokens, retired keys, expired
 * tokens and the wrong audience are still refused, a hit gives the same
 * claims as a full check, allocation failures are clean errors, and
 * concurrent readers and writers are safe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "ident/wd_ident.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

#define NOW INT64_C(1700000000)
#define JKT "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"

static wd_ident_keyset *ks;
static wd_ident_sigcache *cache;

static int setup(void **state) {
  (void)state;
  return wd_ident_keyset_new(&ks) || wd_ident_keyset_rotate(ks, NOW, 0) ||
         wd_ident_sigcache_new(64, &cache);
}

static int teardown(void **state) {
  (void)state;
  wd_ident_keyset_free(ks);
  wd_ident_sigcache_free(cache);
  return 0;
}

static char *mint(int64_t now) {
  wd_ident_token_params p = {.iss = "i",
                             .sub = "spiffe://d/agent/a",
                             .aud = "a",
                             .task_id = "t",
                             .cnf_jkt = JKT,
                             .now = now};
  wd_ident_minted m;
  assert_int_equal(wd_ident_token_mint(ks, &p, &m), 0);
  return m.token;
}

static int verify(const char *tok, int64_t now, wd_ident_diag *d) {
  wd_ident_verify_opts o = {.iss = "i", .aud = "a", .now = now, .leeway = 0, .cache = cache};
  wd_ident_claims c;
  int rc = wd_ident_token_verify(ks, tok, strlen(tok), &o, &c, d);
  wd_ident_claims_clear(&c);
  return rc;
}

static void same_outcomes(void **state) {
  (void)state;
  wd_ident_diag d;
  char *tok = mint(NOW);
  assert_int_equal(verify(tok, NOW + 1, &d), 0);
  assert_int_equal(verify(tok, NOW + 2, &d), 0); /* a hit */
  /* Expiry is a claim check, cache or not. */
  assert_int_equal(verify(tok, NOW + 10000, &d), -WD_E_VALIDATE);
  assert_int_equal(d.reason, WD_IDENT_R_EXPIRED);
  /* A flipped signature character is a different token: full check. */
  char *bad = wd_strdup(tok);
  size_t n = strlen(bad);
  bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
  assert_int_equal(verify(bad, NOW + 1, &d), -WD_E_VALIDATE);
  assert_int_equal(d.reason, WD_IDENT_R_SIG_INVALID);
  wd_free(bad);
  /* Once its key has retired, a cached token is refused by kid. */
  assert_int_equal(wd_ident_keyset_rotate(ks, NOW + 10, 0), 0);
  assert_int_equal(verify(tok, NOW + 20, &d), 0);
  wd_ident_keyset_prune(ks, NOW + 5000);
  assert_int_equal(verify(tok, NOW + 20, &d), -WD_E_VALIDATE);
  assert_int_equal(d.reason, WD_IDENT_R_UNKNOWN_KID);
  wd_free(tok);
  wd_ident_sigcache *c = NULL;
  assert_int_equal(wd_ident_sigcache_new(0, &c), -WD_E_INVAL);
  assert_int_equal(wd_ident_sigcache_new(WD_LIMIT_SIGCACHE_SLOTS + 1u, &c), -WD_E_INVAL);
}

static const char *shared[8];
static int64_t shared_now;

static void *worker(void *arg) {
  long bad = 0;
  (void)arg;
  for (int i = 0; i < 200; i++) {
    wd_ident_diag d;
    if (verify(shared[i % 8], shared_now, &d) != 0) bad++;
  }
  return (void *)bad;
}

static void concurrent(void **state) {
  (void)state;
  shared_now = NOW + 20000;
  char *toks[8];
  for (int i = 0; i < 8; i++)
    shared[i] = toks[i] = mint(shared_now);
  pthread_t th[4];
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&th[i], NULL, worker, NULL), 0);
  for (int i = 0; i < 4; i++) {
    void *bad = NULL;
    assert_int_equal(pthread_join(th[i], &bad), 0);
    assert_null(bad);
  }
  for (int i = 0; i < 8; i++)
    wd_free(toks[i]);
}

/* A hit hands out the claims a full check reads, as an independent copy;
 * out of memory on either path is a clean error, never a pass. */
static void same_claims(void **state) {
  (void)state;
  char *tok = mint(NOW);
  wd_ident_verify_opts o = {.iss = "i", .aud = "a", .now = NOW + 1, .leeway = 0, .cache = cache};
  wd_ident_claims full, hit;
  wd_ident_diag d;
  assert_int_equal(wd_ident_token_verify(ks, tok, strlen(tok), &o, &full, &d), 0);
  assert_int_equal(wd_ident_token_verify(ks, tok, strlen(tok), &o, &hit, &d), 0);
  assert_string_equal(hit.sub, full.sub);
  assert_string_equal(hit.jti, full.jti);
  assert_string_equal(hit.task_id, full.task_id);
  assert_string_equal(hit.kid, full.kid);
  assert_string_equal(hit.cnf_jkt, JKT);
  assert_true(hit.exp == full.exp && hit.iat == full.iat && hit.nbf == full.nbf);
  assert_ptr_not_equal(hit.jti, full.jti);
  wd_ident_claims_clear(&full);
  wd_ident_claims_clear(&hit);
  /* the wrong audience is refused from the cache too */
  o.aud = "other";
  assert_int_equal(wd_ident_token_verify(ks, tok, strlen(tok), &o, &hit, &d), -WD_E_VALIDATE);
  assert_int_equal(d.reason, WD_IDENT_R_WRONG_AUDIENCE);
  o.aud = "a";
  for (long n = 0; n < 40; n++) {
    wd_test_fail_alloc_after(n);
    int rc = wd_ident_token_verify(ks, tok, strlen(tok), &o, &hit, &d);
    wd_test_fail_alloc_after(-1);
    assert_true(rc == 0 || rc == -WD_E_NOMEM);
    if (rc == 0) assert_string_equal(hit.task_id, "t");
    wd_ident_claims_clear(&hit);
  }
  wd_free(tok);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(same_outcomes),
      cmocka_unit_test(same_claims),
      cmocka_unit_test(concurrent),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

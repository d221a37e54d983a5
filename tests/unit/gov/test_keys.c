/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of src/gov/gov_keys.c, in-process with rounds driven directly
 * (wd_gov__keys_rotate) so time can be moved: a round publishes the new
 * key next to the old one, saves it 0600 and logs key.rotated; a round
 * whose save fails changes nothing; a round whose record fails puts the
 * served set back on disk; a full keyset skips rounds, and restarts make
 * no key, rather than evict a key live tokens need; a pruned key stops
 * verifying even for a token in the signature cache; shutdown stops the
 * thread promptly.
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
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "../../support/fsize.h"
#include "service_client.h"

#include "gov/gov_int.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"

static wd_gov *gov;
static char dir[128];
static char keys[256];

/* The kids /.well-known/jwks.json publishes, in order, as one string. */
static void jwks_kids(char *out, size_t len, size_t *n) {
  resp r;
  http("GET", "/.well-known/jwks.json", NULL, NULL, NULL, &r);
  assert_int_equal(r.status, 200);
  json_t *list = json_object_get(r.body, "keys");
  assert_true(json_is_array(list));
  out[0] = '\0';
  size_t i;
  json_t *k;
  json_array_foreach(list, i, k) {
    size_t used = strlen(out);
    (void)snprintf(out + used, len - used, "%s ", json_string_value(json_object_get(k, "kid")));
  }
  *n = json_array_size(list);
  clear(&r);
}

static void active(char out[WD_IDENT_JKT_LEN + 1]) {
  pthread_rwlock_rdlock(&gov->keys_lock);
  (void)snprintf(out, WD_IDENT_JKT_LEN + 1, "%s",
                 wd_ident_key_jkt(wd_ident_keyset_active(gov->keys)));
  pthread_rwlock_unlock(&gov->keys_lock);
}

typedef struct rotations {
  long n;
  char kid[WD_IDENT_JKT_LEN + 1], previous[WD_IDENT_JKT_LEN + 1];
} rotations;

static int on_row(void *ctx, const wd_audit_row *row) {
  rotations *r = ctx;
  if (strcmp(row->type, "admin.action") != 0) return 0;
  json_t *p = json_loads(row->payload, 0, NULL);
  const char *action = json_string_value(json_object_get(p, "action"));
  if (action && strcmp(action, "key.rotated") == 0 && strcmp(row->actor, "warden") == 0) {
    r->n++;
    (void)snprintf(r->kid, sizeof r->kid, "%s", json_string_value(json_object_get(p, "kid")));
    const char *prev = json_string_value(json_object_get(p, "previous"));
    (void)snprintf(r->previous, sizeof r->previous, "%s", prev ? prev : "");
  }
  json_decref(p);
  return 0;
}

typedef struct lookup {
  const char *kid;
  int found;
} lookup;

static int find_kid(void *ctx, const wd_audit_row *row) {
  lookup *l = ctx;
  if (strcmp(row->type, "admin.action") != 0) return 0;
  json_t *p = json_loads(row->payload, 0, NULL);
  const char *action = json_string_value(json_object_get(p, "action"));
  const char *kid = json_string_value(json_object_get(p, "kid"));
  l->found |= action && kid && strcmp(action, "key.rotated") == 0 && strcmp(kid, l->kid) == 0;
  json_decref(p);
  return 0;
}

/* 1 when a key.rotated record names kid. */
static int recorded(const char *kid) {
  lookup l = {.kid = kid};
  assert_int_equal(wd_store_audit_scan(gov->store, NULL, 1, find_kid, &l), 0);
  return l.found;
}

static rotations logged(void) {
  rotations r;
  memset(&r, 0, sizeof r);
  assert_int_equal(wd_store_audit_scan(gov->store, NULL, 1, on_row, &r), 0);
  return r;
}

static void chain_ok(void) {
  resp r;
  admin("GET", "/v1/audit/verify", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_true(json_is_true(json_object_get(r.body, "ok")));
  clear(&r);
}

static size_t pem_files(void) {
  char cmd[512];
  (void)snprintf(cmd, sizeof cmd, "ls %s | grep -c '\\.pem$'", keys);
  FILE *f = popen(cmd, "r");
  assert_non_null(f);
  unsigned n = 0;
  assert_int_equal(fscanf(f, "%u", &n), 1);
  (void)pclose(f);
  return n;
}

static wd_gov_opts o;
static char data[200];

static int setup(void **state) {
  (void)state;
  (void)snprintf(dir, sizeof dir, "/tmp/wd-gov-keys-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  memset(&o, 0, sizeof o);
  (void)snprintf(data, sizeof data, "%s/var", dir);
  (void)snprintf(keys, sizeof keys, "%s/keys", data);
  o.data_dir = data;
  o.policy_dir = WD_TEST_DATA "/../../docs/policies";
  o.admin_token = ADMIN;
  o.key_rotation_s = 3600; /* the thread stays out of the way: rounds are driven here */
  char err[512] = "";
  char *gen = NULL;
  if (wd_gov_start(&o, &gov, &gen, err, sizeof err) != 0) {
    fprintf(stderr, "start: %s\n", err);
    return -1;
  }
  (void)snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)wd_gov_port(gov));
  return 0;
}

static int teardown(void **state) {
  (void)state;
  struct timespec a, b;
  (void)clock_gettime(CLOCK_MONOTONIC, &a);
  int rc = wd_gov_shutdown(gov, 5000);
  (void)clock_gettime(CLOCK_MONOTONIC, &b);
  /* The rotation thread waits an hour; the stop must not. */
  if (b.tv_sec - a.tv_sec > 2) rc = -1;
  wd_gov_free(gov);
  char cmd[256];
  (void)snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return -1;
  return rc;
}

/* A token for task_id that lives as long as any may, signed by the
 * active key at now. */
static void mint_longest(const char *task_id, int64_t now, wd_ident_minted *m) {
  wd_ident_token_params p = {.iss = gov->issuer,
                             .sub = "spiffe://warden.local/agent/x",
                             .aud = gov->audience,
                             .task_id = task_id,
                             .cnf_jkt = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                             .now = now,
                             .ttl = WD_IDENT_TOKEN_TTL_MAX};
  pthread_rwlock_rdlock(&gov->keys_lock);
  assert_int_equal(wd_ident_token_mint(gov->keys, &p, m), 0);
  pthread_rwlock_unlock(&gov->keys_lock);
}

/* The key set on disk serves kid. */
static void disk_serves(const char *kid) {
  wd_ident_keyset *disk = NULL;
  assert_int_equal(wd_ident_keyset_load(keys, &disk), 0);
  assert_string_equal(wd_ident_key_jkt(wd_ident_keyset_active(disk)), kid);
  wd_ident_keyset_free(disk);
}

static void test_round(void **state) {
  (void)state;
  char kids[2048], k0[WD_IDENT_JKT_LEN + 1], k1[WD_IDENT_JKT_LEN + 1];
  size_t n = 0;
  active(k0);
  jwks_kids(kids, sizeof kids, &n);
  assert_int_equal(n, 1);
  /* The start made the first key, and recorded it. */
  rotations r = logged();
  assert_int_equal(r.n, 1);
  assert_string_equal(r.kid, k0);
  assert_string_equal(r.previous, "");

  assert_int_equal(wd_gov__keys_rotate(gov, wd_gov__now_ms() / 1000), 0);
  active(k1);
  assert_string_not_equal(k0, k1);
  jwks_kids(kids, sizeof kids, &n);
  assert_int_equal(n, 2);
  assert_non_null(strstr(kids, k0)); /* the old key still verifies */
  assert_non_null(strstr(kids, k1));
  r = logged();
  assert_int_equal(r.n, 2);
  assert_string_equal(r.kid, k1);
  assert_string_equal(r.previous, k0);
  chain_ok();

  /* Saved: one 0600 PEM per key and the manifest naming the new one. */
  assert_int_equal(pem_files(), 2);
  char path[512];
  struct stat st;
  (void)snprintf(path, sizeof path, "%s/%s.pem", keys, k1);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  (void)snprintf(path, sizeof path, "%s/keyset.json", keys);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  disk_serves(k1);
}

/* A round that cannot save keeps serving the old key and logs nothing. */
static void test_save_fails(void **state) {
  (void)state;
  char before[2048], after[2048], k0[WD_IDENT_JKT_LEN + 1], k1[WD_IDENT_JKT_LEN + 1];
  size_t n0 = 0, n1 = 0;
  active(k0);
  jwks_kids(before, sizeof before, &n0);
  long logged0 = logged().n;
  /* An unreadable manifest (a directory in its place). */
  char tmp[512], cmd[1200];
  (void)snprintf(tmp, sizeof tmp, "%s.saved", keys);
  (void)snprintf(cmd, sizeof cmd,
                 "cp -a %s %s && rm %s/keyset.json && mkdir %s/keyset.json && "
                 "touch %s/keyset.json/x",
                 keys, tmp, keys, keys, keys);
  assert_int_equal(system(cmd), 0);
  int rc = wd_gov__keys_rotate(gov, wd_gov__now_ms() / 1000);
  assert_true(rc < 0);
  active(k1);
  assert_string_equal(k0, k1);
  jwks_kids(after, sizeof after, &n1);
  assert_int_equal(n0, n1);
  assert_string_equal(before, after);
  assert_int_equal(logged().n, logged0);

  (void)snprintf(cmd, sizeof cmd, "rm -rf %s && mv %s %s", keys, tmp, keys);
  assert_int_equal(system(cmd), 0);
  /* Save failing after a good load: files may not grow past 16 bytes, so
   * the new key's PEM cannot be written (nothing else writes meanwhile). */
  struct rlimit old = fsize_cap(16);
  rc = wd_gov__keys_rotate(gov, wd_gov__now_ms() / 1000);
  fsize_restore(old);
  assert_int_equal(rc, -WD_E_IO);
  active(k1);
  assert_string_equal(k0, k1);
  jwks_kids(after, sizeof after, &n1);
  assert_string_equal(before, after);
  assert_int_equal(logged().n, logged0);
  disk_serves(k0);
  /* Repaired, the next round works and the chain still verifies. */
  assert_int_equal(wd_gov__keys_rotate(gov, wd_gov__now_ms() / 1000), 0);
  active(k1);
  assert_string_not_equal(k0, k1);
  assert_int_equal(logged().n, logged0 + 1);
  chain_ok();
}

/* Rounds far faster than the overlap fill the set; then they are skipped
 * instead of dropping a key that live tokens still need. */
static void test_full_set_skips(void **state) {
  (void)state;
  int64_t now = wd_gov__now_ms() / 1000;
  int rc = 0;
  for (unsigned i = 0; i < WD_LIMIT_KEYSET_KEYS + 2 && rc == 0; i++)
    rc = wd_gov__keys_rotate(gov, now);
  assert_int_equal(rc, -WD_E_TOOBIG);
  pthread_rwlock_rdlock(&gov->keys_lock);
  size_t n = wd_ident_keyset_count(gov->keys);
  pthread_rwlock_unlock(&gov->keys_lock);
  assert_int_equal(n, WD_LIMIT_KEYSET_KEYS);
  char kids[4096];
  size_t published = 0;
  jwks_kids(kids, sizeof kids, &published);
  assert_int_equal(published, WD_LIMIT_KEYSET_KEYS);
}

/* Restarts far faster than the overlap, more of them than the set holds:
 * once the set is full a start keeps serving the active key instead of
 * evicting the oldest, so a token signed before the first restart still
 * verifies after the last, and no key.rotated record names a key that
 * was never made. Every start serves a recorded key. */
static void test_restarts_keep_live_keys(void **state) {
  (void)state;
  int64_t now = wd_gov__now_ms() / 1000;
  wd_ident_minted m;
  mint_longest("t-restart", now, &m);
  long logged0 = logged().n;
  char kid[WD_IDENT_JKT_LEN + 1], last[WD_IDENT_JKT_LEN + 1];
  active(last);
  long made = 0;
  for (unsigned i = 0; i < WD_LIMIT_KEYSET_KEYS + 2; i++) {
    assert_int_equal(wd_gov_shutdown(gov, 5000), 0);
    wd_gov_free(gov);
    char err[512] = "";
    char *gen = NULL;
    if (wd_gov_start(&o, &gov, &gen, err, sizeof err) != 0) fail_msg("restart %u: %s", i, err);
    assert_null(gen);
    (void)snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)wd_gov_port(gov));
    active(kid);
    assert_true(recorded(kid));
    disk_serves(kid);
    made += strcmp(kid, last) != 0;
    (void)snprintf(last, sizeof last, "%s", kid);
    pthread_rwlock_rdlock(&gov->keys_lock);
    size_t n = wd_ident_keyset_count(gov->keys);
    pthread_rwlock_unlock(&gov->keys_lock);
    assert_true(n <= WD_LIMIT_KEYSET_KEYS);
  }
  wd_ident_verify_opts vo = {.iss = gov->issuer, .aud = gov->audience, .now = now};
  wd_ident_claims c;
  wd_ident_diag d;
  pthread_rwlock_rdlock(&gov->keys_lock);
  int rc = wd_ident_token_verify(gov->keys, m.token, strlen(m.token), &vo, &c, &d);
  pthread_rwlock_unlock(&gov->keys_lock);
  if (rc)
    fail_msg("token from before the restarts: %s (%s)", wd_ident_reason_name(d.reason), d.msg);
  wd_ident_claims_clear(&c);
  /* Starts made keys until the set filled up, then neither a key nor a
   * record. */
  assert_true(made > 0 && made < (long)WD_LIMIT_KEYSET_KEYS + 2);
  pthread_rwlock_rdlock(&gov->keys_lock);
  assert_int_equal(wd_ident_keyset_count(gov->keys), WD_LIMIT_KEYSET_KEYS);
  pthread_rwlock_unlock(&gov->keys_lock);
  assert_int_equal(logged().n, logged0 + made);
  wd_free(m.token);
  chain_ok();
}

/* Once a retired key is pruned, a token it signed no longer verifies, even
 * when the signature cache remembers the token. */
static void test_pruned_key_not_cached(void **state) {
  (void)state;
  int64_t now = wd_gov__now_ms() / 1000;
  wd_ident_sigcache *cache = NULL;
  assert_int_equal(wd_ident_sigcache_new(64, &cache), 0);
  wd_ident_minted m;
  mint_longest("t-1", now, &m);
  wd_ident_verify_opts vo = {.iss = gov->issuer, .aud = gov->audience, .now = now, .cache = cache};
  wd_ident_claims c;
  wd_ident_diag d;
  pthread_rwlock_rdlock(&gov->keys_lock);
  assert_int_equal(wd_ident_token_verify(gov->keys, m.token, strlen(m.token), &vo, &c, &d), 0);
  pthread_rwlock_unlock(&gov->keys_lock);
  wd_ident_claims_clear(&c);

  /* Two rounds one overlap apart (the clock given to the rounds runs
   * ahead): the first retires the signer, the second prunes it while the
   * token, checked at the real time, has not expired. */
  int64_t overlap = WD_IDENT_TOKEN_TTL_MAX + WD_IDENT_LEEWAY_DEFAULT;
  int64_t t1 = now + overlap + 1; /* also past whatever earlier tests retired */
  assert_int_equal(wd_gov__keys_rotate(gov, t1), 0);
  assert_int_equal(wd_gov__keys_rotate(gov, t1 + overlap + 1), 0);
  pthread_rwlock_rdlock(&gov->keys_lock);
  assert_int_equal(wd_ident_keyset_count(gov->keys), 2);
  assert_true(wd_ident_token_verify(gov->keys, m.token, strlen(m.token), &vo, &c, &d) < 0);
  pthread_rwlock_unlock(&gov->keys_lock);
  assert_int_equal(d.reason, WD_IDENT_R_UNKNOWN_KID);
  /* Pruned keys leave the disk too. */
  assert_int_equal(pem_files(), 2);
  wd_free(m.token);
  wd_ident_sigcache_free(cache);
  chain_ok();
}

/* Every allocation of a round made to fail in turn, that one alone and
 * then it and every one after it: the disk always holds the served set,
 * and when one allocation fails (the record, say, but not the restore)
 * the served key always has its record. Rounds are a full overlap apart
 * (the clock given to them runs ahead), so pruning keeps the set small;
 * this test runs last. */
static void test_round_faults(void **state) {
  (void)state;
  void (*const hooks[2])(long) = {wd_test_fail_alloc_once, wd_test_fail_alloc_after};
  int64_t now = wd_gov__now_ms() / 1000, step = WD_IDENT_TOKEN_TTL_MAX + WD_IDENT_LEEWAY_DEFAULT;
  int refused = 0;
  for (int h = 0; h < 2; h++) {
    int clean = 0;
    for (long n = 0; n < 100000 && clean < 3; n++) {
      char before[WD_IDENT_JKT_LEN + 1], after[WD_IDENT_JKT_LEN + 1];
      active(before);
      now += 2 * step + 2;
      hooks[h](n);
      int rc = wd_gov__keys_rotate(gov, now);
      hooks[h](-1);
      active(after);
      disk_serves(after);
      if (h == 0) assert_true(recorded(after));
      if (rc == 0) {
        assert_string_not_equal(before, after);
        assert_true(recorded(after));
        clean++;
      } else {
        refused++;
        clean = 0;
      }
    }
    assert_int_equal(clean, 3);
  }
  assert_true(refused > 0);
  chain_ok();
}

int main(void) {
  curl_global_init(CURL_GLOBAL_ALL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round),
      cmocka_unit_test(test_save_fails),
      cmocka_unit_test(test_restarts_keep_live_keys),
      cmocka_unit_test(test_full_set_skips),
      cmocka_unit_test(test_pruned_key_not_cached),
      cmocka_unit_test(test_round_faults),
  };
  int rc = cmocka_run_group_tests(tests, setup, teardown);
  curl_global_cleanup();
  return rc;
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the signing keyset: rotation with overlap (a token
 * signed before a rotation verifies until the old key retires, and not
 * after), the JWKS export, and save/load to a directory of 0600 files,
 * including a manifest that lies about a kid.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ident/wd_ident.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

#define NOW INT64_C(1700000000)

static char *mint(const wd_ident_keyset *ks, int64_t now) {
  wd_ident_token_params p = {.iss = "i",
                             .sub = "spiffe://d/agent/a",
                             .aud = "a",
                             .task_id = "t",
                             .cnf_jkt = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
                             .now = now};
  wd_ident_minted m;
  assert_int_equal(wd_ident_token_mint(ks, &p, &m), 0);
  return m.token;
}

static int verify(const wd_ident_keyset *ks, const char *tok, int64_t now, wd_ident_diag *d) {
  wd_ident_verify_opts o = {.iss = "i", .aud = "a", .now = now, .leeway = 0};
  wd_ident_claims c;
  int rc = wd_ident_token_verify(ks, tok, strlen(tok), &o, &c, d);
  wd_ident_claims_clear(&c);
  return rc;
}

static void rotation_overlap(void **state) {
  (void)state;
  wd_ident_keyset *ks = NULL;
  assert_int_equal(wd_ident_keyset_new(&ks), 0);
  assert_null(wd_ident_keyset_active(ks));
  assert_int_equal(wd_ident_keyset_rotate(ks, NOW, 3600), 0);
  char *old_kid = wd_strdup(wd_ident_key_jkt(wd_ident_keyset_active(ks)));
  char *tok = mint(ks, NOW + 100);
  assert_int_equal(wd_ident_keyset_rotate(ks, NOW + 200, 3600), 0);
  assert_int_equal(wd_ident_keyset_count(ks), 2);
  assert_string_not_equal(wd_ident_key_jkt(wd_ident_keyset_active(ks)), old_kid);
  wd_ident_diag d;
  /* Old token still verifies with the retired key. */
  assert_int_equal(verify(ks, tok, NOW + 250, &d), 0);
  /* New tokens are signed with the new key. */
  char *tok2 = mint(ks, NOW + 250);
  assert_int_equal(verify(ks, tok2, NOW + 260, &d), 0);
  /* After the overlap the old key is gone (and the JWKS no longer lists it). */
  char *jwks = NULL;
  assert_int_equal(wd_ident_keyset_jwks(ks, NOW + 300, &jwks), 0);
  assert_non_null(strstr(jwks, old_kid));
  wd_free(jwks);
  assert_null(wd_ident_keyset_find(ks, old_kid, NOW + 200 + 3601));
  assert_int_equal(wd_ident_keyset_jwks(ks, NOW + 200 + 3601, &jwks), 0);
  assert_null(strstr(jwks, old_kid));
  assert_null(strstr(jwks, "\"d\""));
  assert_non_null(strstr(jwks, "\"keys\":[{"));
  wd_free(jwks);
  wd_ident_keyset_prune(ks, NOW + 200 + 3601);
  assert_int_equal(wd_ident_keyset_count(ks), 1);
  assert_int_equal(verify(ks, tok, NOW + 250, &d), -WD_E_VALIDATE);
  assert_int_equal(d.reason, WD_IDENT_R_UNKNOWN_KID);
  /* A tiny overlap is raised to the longest token lifetime. */
  char *tok3 = mint(ks, NOW + 4000);
  assert_int_equal(wd_ident_keyset_rotate(ks, NOW + 4001, 1), 0);
  assert_int_equal(verify(ks, tok3, NOW + 4200, &d), 0);
  wd_free(tok);
  wd_free(tok2);
  wd_free(tok3);
  wd_free(old_kid);
  wd_ident_keyset_free(ks);
}

/* A retired key verifies the tokens it signed before its successor was
 * made, and within WD_IDENT_RETIRED_MARGIN after (it signs until the new
 * set is recorded), never one it signed later: only its leak could make
 * that. */
static void retired_key_signs_nothing_new(void **state) {
  (void)state;
  char dir[] = "/tmp/wd-keyset-XXXXXX";
  assert_non_null(mkdtemp(dir));
  wd_ident_keyset *ks = NULL, *leaked = NULL;
  assert_int_equal(wd_ident_keyset_new(&ks), 0);
  assert_int_equal(wd_ident_keyset_rotate(ks, NOW, 3600), 0);
  assert_int_equal(wd_ident_keyset_save(ks, dir), 0);
  assert_int_equal(wd_ident_keyset_load(dir, &leaked), 0); /* a copy of the first key */
  char *before = mint(ks, NOW + 100);
  assert_int_equal(wd_ident_keyset_rotate(ks, NOW + 200, 3600), 0);
  char *after = mint(leaked, NOW + 300);
  char *during = mint(leaked, NOW + 200 + WD_IDENT_RETIRED_MARGIN);
  wd_ident_diag d;
  assert_int_equal(verify(ks, before, NOW + 310, &d), 0);
  assert_int_equal(verify(ks, during, NOW + 310, &d), 0);
  wd_free(during);
  assert_int_equal(verify(ks, after, NOW + 310, &d), -WD_E_VALIDATE);
  assert_int_equal(d.reason, WD_IDENT_R_BAD_CLAIMS);
  assert_non_null(strstr(d.msg, "after its key was retired"));
  wd_free(before);
  wd_free(after);
  wd_ident_keyset_free(leaked);
  wd_ident_keyset_free(ks);
  char cmd[64];
  (void)snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

static void bounded(void **state) {
  (void)state;
  wd_ident_keyset *ks = NULL;
  assert_int_equal(wd_ident_keyset_new(&ks), 0);
  for (int i = 0; i < (int)WD_LIMIT_KEYSET_KEYS + 5; i++)
    assert_int_equal(wd_ident_keyset_rotate(ks, NOW + i, 100000), 0);
  assert_int_equal(wd_ident_keyset_count(ks), WD_LIMIT_KEYSET_KEYS);
  wd_ident_keyset_free(ks);
}

/* A key file the manifest names but the directory lacks is damage, not
 * a missing keyset: a caller that made a new set would throw the rest
 * away. The file at fault is named. */
static void missing_key_file(void **state) {
  (void)state;
  char dir[] = "/tmp/wd_ident_ksXXXXXX";
  assert_non_null(mkdtemp(dir));
  wd_ident_keyset *ks = NULL, *back = NULL;
  assert_int_equal(wd_ident_keyset_new(&ks), 0);
  assert_int_equal(wd_ident_keyset_rotate(ks, NOW, 0), 0);
  assert_int_equal(wd_ident_keyset_rotate(ks, NOW + 10, 0), 0);
  assert_int_equal(wd_ident_keyset_save(ks, dir), 0);
  char retired[160], active[160], manifest[160], why[512];
  (void)snprintf(active, sizeof active, "%s/%s.pem", dir,
                 wd_ident_key_jkt(wd_ident_keyset_active(ks)));
  (void)snprintf(manifest, sizeof manifest, "%s/keyset.json", dir);
  for (int gone = 0; gone < 2; gone++) {
    /* The retired key's file, then the active key's too. */
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    retired[0] = '\0';
    while ((e = readdir(d)) != NULL) {
      char p[160];
      (void)snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
      if (strstr(e->d_name, ".pem") && (gone == 1 || strcmp(p, active) != 0))
        (void)snprintf(retired, sizeof retired, "%s", p);
    }
    (void)closedir(d);
    assert_true(retired[0]);
    assert_int_equal(unlink(retired), 0);
    assert_int_equal(wd_ident_keyset_load_diag(dir, &back, why, sizeof why), -WD_E_VALIDATE);
    assert_null(back);
    assert_non_null(strstr(why, ".pem: missing, though keyset.json names it"));
    assert_int_equal(wd_ident_keyset_load(dir, &back), -WD_E_VALIDATE);
  }
  /* A damaged manifest is named too. */
  FILE *f = fopen(manifest, "w");
  assert_non_null(f);
  (void)fputs("{\"version\":", f);
  assert_int_equal(fclose(f), 0);
  assert_int_equal(wd_ident_keyset_load_diag(dir, &back, why, sizeof why), -WD_E_JSON);
  assert_non_null(strstr(why, manifest));
  /* Only a missing manifest is a missing keyset, and says nothing. */
  assert_int_equal(unlink(manifest), 0);
  assert_int_equal(wd_ident_keyset_load_diag(dir, &back, why, sizeof why), -WD_E_NOTFOUND);
  assert_string_equal(why, "");
  assert_int_equal(rmdir(dir), 0);
  wd_ident_keyset_free(ks);
}

static void save_load(void **state) {
  (void)state;
  char dir[] = "/tmp/wd_ident_ksXXXXXX";
  assert_non_null(mkdtemp(dir));
  char sub[96];
  (void)snprintf(sub, sizeof sub, "%s/keys", dir);
  wd_ident_keyset *ks = NULL, *back = NULL;
  assert_int_equal(wd_ident_keyset_new(&ks), 0);
  assert_int_equal(wd_ident_keyset_load(sub, &back), -WD_E_NOTFOUND);
  assert_int_equal(wd_ident_keyset_rotate(ks, NOW, 0), 0);
  assert_int_equal(wd_ident_keyset_rotate(ks, NOW + 10, 0), 0);
  assert_int_equal(wd_ident_keyset_save(ks, sub), 0);
  struct stat st;
  assert_int_equal(stat(sub, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0700);
  char path[160];
  (void)snprintf(path, sizeof path, "%s/%s.pem", sub, wd_ident_key_jkt(wd_ident_keyset_active(ks)));
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  (void)snprintf(path, sizeof path, "%s/keyset.json", sub);
  assert_int_equal(stat(path, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);

  assert_int_equal(wd_ident_keyset_load(sub, &back), 0);
  assert_int_equal(wd_ident_keyset_count(back), 2);
  assert_string_equal(wd_ident_key_jkt(wd_ident_keyset_active(back)),
                      wd_ident_key_jkt(wd_ident_keyset_active(ks)));
  char *tok = mint(ks, NOW + 20);
  wd_ident_diag d;
  assert_int_equal(verify(back, tok, NOW + 21, &d), 0);
  wd_free(tok);
  char *a = NULL, *b = NULL;
  assert_int_equal(wd_ident_keyset_jwks(ks, NOW + 20, &a), 0);
  assert_int_equal(wd_ident_keyset_jwks(back, NOW + 20, &b), 0);
  assert_string_equal(a, b);
  wd_free(a);
  wd_free(b);
  wd_ident_keyset_free(back);

  /* A manifest naming a kid whose file holds another key is refused. */
  wd_ident_keyset *ks2 = NULL;
  assert_int_equal(wd_ident_keyset_new(&ks2), 0);
  assert_int_equal(wd_ident_keyset_rotate(ks2, NOW, 0), 0);
  char from[160], to[160];
  (void)snprintf(from, sizeof from, "%s/%s.pem", sub,
                 wd_ident_key_jkt(wd_ident_keyset_active(ks2)));
  (void)snprintf(to, sizeof to, "%s/%s.pem", sub, wd_ident_key_jkt(wd_ident_keyset_active(ks)));
  assert_int_equal(wd_ident_key_save(wd_ident_keyset_active(ks2), from), 0);
  assert_int_equal(rename(from, to), 0);
  assert_int_equal(wd_ident_keyset_load(sub, &back), -WD_E_VALIDATE);
  assert_null(back);

  /* Saving again removes PEM files of keys that left the set. */
  wd_ident_keyset_prune(ks, NOW + 100000);
  assert_int_equal(wd_ident_keyset_count(ks), 1);
  assert_int_equal(wd_ident_keyset_save(ks, sub), 0);
  assert_int_equal(wd_ident_keyset_load(sub, &back), 0);
  assert_int_equal(wd_ident_keyset_count(back), 1);
  wd_ident_keyset_free(back);
  (void)snprintf(path, sizeof path, "%s/%s.pem", sub, wd_ident_key_jkt(wd_ident_keyset_active(ks)));
  assert_int_equal(unlink(path), 0);
  (void)snprintf(path, sizeof path, "%s/keyset.json", sub);
  assert_int_equal(unlink(path), 0);
  assert_int_equal(rmdir(sub), 0); /* nothing else left behind */
  assert_int_equal(rmdir(dir), 0);
  wd_ident_keyset_free(ks);
  wd_ident_keyset_free(ks2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rotation_overlap), cmocka_unit_test(retired_key_signs_nothing_new),
      cmocka_unit_test(bounded),          cmocka_unit_test(save_load),
      cmocka_unit_test(missing_key_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the entity-store cache (src/gov/gov_entcache.c) with the
 * governance schema: the same text gives the same parsed store, another
 * text another one; a text the schema rejects is an error with its
 * diagnostic every time and is never kept; a store outlives its cache
 * while referenced; racing threads always get the store of their own
 * text; allocation failures are clean errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gov/gov_entcache.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

#ifndef WD_SOURCE_DIR
#define WD_SOURCE_DIR WD_TEST_DATA "/../.."
#endif

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = malloc(1u << 20);
  size_t n = buf ? fread(buf, 1, (1u << 20) - 1, f) : 0;
  fclose(f);
  if (buf) buf[n] = '\0';
  return buf;
}

static int setup(void **state) {
  char *text = slurp(WD_SOURCE_DIR "/docs/policies/governance.cedarschema");
  cedar_schema *s = NULL;
  if (!text || cedar_schema_parse(text, strlen(text), &s, NULL) != 0) {
    free(text);
    return -1;
  }
  free(text);
  *state = s;
  return 0;
}

static int teardown(void **state) {
  cedar_schema_free(*state);
  return 0;
}

/* An agent entity as the service writes it, with one varying name. */
static void agent_text(char *out, size_t n, const char *name) {
  (void)snprintf(out, n,
                 "[{\"uid\":{\"type\":\"Team\",\"id\":\"t\"},\"attrs\":{},\"parents\":[]},"
                 "{\"uid\":{\"type\":\"User\",\"id\":\"alice\"},\"attrs\":{\"name\":\"alice\"},"
                 "\"parents\":[{\"type\":\"Team\",\"id\":\"t\"}]},"
                 "{\"uid\":{\"type\":\"Agent\",\"id\":\"%s\"},\"attrs\":{\"name\":\"%s\","
                 "\"owner\":{\"__entity\":{\"type\":\"User\",\"id\":\"alice\"}},"
                 "\"team\":{\"__entity\":{\"type\":\"Team\",\"id\":\"t\"}},\"tier\":\"standard\","
                 "\"environment\":\"prod\",\"status\":\"active\"},\"parents\":[]}]",
                 name, name);
}

static void same_text_same_store(void **state) {
  wd_gov__entcache *c = NULL;
  assert_int_equal(wd_gov__entcache_new(*state, &c), 0);
  char a[2048], b[2048];
  agent_text(a, sizeof a, "a1");
  agent_text(b, sizeof b, "a2");
  const cedar_entities *e1 = NULL, *e2 = NULL, *e3 = NULL;
  wd_gov__entref *r1 = NULL, *r2 = NULL, *r3 = NULL;
  assert_int_equal(wd_gov__entcache_get(c, a, strlen(a), &e1, &r1, NULL), 0);
  assert_int_equal(wd_gov__entcache_get(c, a, strlen(a), &e2, &r2, NULL), 0);
  assert_ptr_equal(e1, e2);
  assert_int_equal(wd_gov__entcache_get(c, b, strlen(b), &e3, &r3, NULL), 0);
  assert_ptr_not_equal(e1, e3);
  assert_true(cedar_entities_count(e1) >= 3);
  /* a prefix of a kept text is another text */
  const cedar_entities *e4 = NULL;
  wd_gov__entref *r4 = NULL;
  assert_int_equal(wd_gov__entcache_get(c, "[]", 2, &e4, &r4, NULL), 0);
  assert_ptr_not_equal(e4, e1);
  wd_gov__entref_release(r1);
  wd_gov__entref_release(r4);
  wd_gov__entcache_free(c);
  /* references held past the cache stay valid */
  assert_true(cedar_entities_count(e2) >= 3);
  assert_true(cedar_entities_count(e3) >= 3);
  wd_gov__entref_release(r2);
  wd_gov__entref_release(r3);
  wd_gov__entref_release(NULL);
  wd_gov__entcache_free(NULL);
}

static void rejected_text_not_kept(void **state) {
  wd_gov__entcache *c = NULL;
  assert_int_equal(wd_gov__entcache_new(*state, &c), 0);
  static const char bad[] =
      "[{\"uid\":{\"type\":\"Agent\",\"id\":\"x\"},\"attrs\":{\"tier\":7},\"parents\":[]}]";
  for (int i = 0; i < 2; i++) {
    cedar_diags *d = cedar_diags_new();
    const cedar_entities *es = NULL;
    wd_gov__entref *r = NULL;
    assert_int_not_equal(wd_gov__entcache_get(c, bad, strlen(bad), &es, &r, d), 0);
    assert_null(es);
    assert_null(r);
    assert_true(cedar_diags_count(d) > 0);
    cedar_diags_free(d);
  }
  wd_gov__entcache_free(c);
}

typedef struct racer {
  wd_gov__entcache *c;
  int id, bad;
} racer;

static void *race(void *arg) {
  racer *r = arg;
  char text[3][2048];
  const char *names[3] = {"r0", "r1", "r2"};
  for (int k = 0; k < 3; k++)
    agent_text(text[k], sizeof text[k], names[k]);
  for (int i = 0; i < 600; i++) {
    int k = (i + r->id) % 3;
    const cedar_entities *es = NULL;
    wd_gov__entref *ref = NULL;
    if (wd_gov__entcache_get(r->c, text[k], strlen(text[k]), &es, &ref, NULL) != 0) {
      r->bad++;
      continue;
    }
    char want[64];
    (void)snprintf(want, sizeof want, "Agent::\"%s\"", names[k]);
    char *out = NULL;
    if (cedar_evaluate("Agent::\"r0\".name", 16, es, NULL, &out, NULL) == 0) {
      if (k != 0) r->bad++; /* only the store of r0's text has r0 */
    } else if (k == 0) {
      r->bad++;
    }
    free(out);
    wd_gov__entref_release(ref);
  }
  return NULL;
}

static void racing_threads(void **state) {
  wd_gov__entcache *c = NULL;
  assert_int_equal(wd_gov__entcache_new(*state, &c), 0);
  pthread_t t[8];
  racer r[8];
  for (int i = 0; i < 8; i++) {
    r[i] = (racer){c, i, 0};
    assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
  }
  for (int i = 0; i < 8; i++) {
    assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_int_equal(r[i].bad, 0);
  }
  wd_gov__entcache_free(c);
}

static void allocation_failures(void **state) {
  char a[2048];
  agent_text(a, sizeof a, "oom");
  for (long n = 0; n < 400; n++) {
    wd_gov__entcache *c = NULL;
    wd_test_fail_alloc_after(n);
    int rc = wd_gov__entcache_new(*state, &c);
    const cedar_entities *es = NULL;
    wd_gov__entref *r = NULL;
    if (rc == 0) rc = wd_gov__entcache_get(c, a, strlen(a), &es, &r, NULL);
    wd_test_fail_alloc_after(-1);
    if (rc == 0) {
      assert_non_null(es);
      wd_gov__entref_release(r);
    } else {
      assert_int_equal(rc, -WD_E_NOMEM);
      assert_null(r);
    }
    wd_gov__entcache_free(c);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(same_text_same_store),
      cmocka_unit_test(rejected_text_not_kept),
      cmocka_unit_test(racing_threads),
      cmocka_unit_test(allocation_failures),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

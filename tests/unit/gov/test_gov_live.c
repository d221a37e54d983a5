/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the service's live state (src/gov/gov_live.c) over a real
 * SQLite store: the replay cache says "new" exactly once per jti, also
 * under racing threads, and forgets a jti after its window; live task
 * entries load from the store, are shared, are forgotten on a change and
 * reload fresh (also while other threads load them: no get after a
 * forget returns the old state), and an agent's fence keeps every task
 * of it from being got until it is lifted; session sets stay sorted, unique and
 * bounded, and a refused touch changes none of them; snapshots are
 * independent copies; the replay cache is bounded; allocation failures
 * are clean errors.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gov/gov_live.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"
#include "warden/err.h"
#include "../store/store_fixture.h"

#define NOW 1700000000000LL

/* ---- replay cache ---- */

static void replay_once(void **state) {
  (void)state;
  wd_gov__replay *r = NULL;
  assert_int_equal(wd_gov__replay_new(&r), 0);
  assert_int_equal(wd_gov__replay_check(r, "a", NOW + 1000, NOW), 1);
  assert_int_equal(wd_gov__replay_check(r, "a", NOW + 1000, NOW + 500), 0);
  /* After its window the jti is new again (its proof is stale anyway). */
  assert_int_equal(wd_gov__replay_check(r, "a", NOW + 5000, NOW + 1000), 1);
  char jti[32];
  for (int i = 0; i < 10000; i++) {
    snprintf(jti, sizeof jti, "jti-%d", i);
    assert_int_equal(wd_gov__replay_check(r, jti, NOW + 60000, NOW), 1);
  }
  for (int i = 0; i < 10000; i += 97) {
    snprintf(jti, sizeof jti, "jti-%d", i);
    assert_int_equal(wd_gov__replay_check(r, jti, NOW + 60000, NOW), 0);
  }
  wd_gov__replay_free(r);
  wd_gov__replay_free(NULL);
}

typedef struct racer {
  wd_gov__replay *r;
  int wins;
} racer;

static void *race(void *arg) {
  racer *x = arg;
  char jti[32];
  for (int i = 0; i < 1000; i++) {
    snprintf(jti, sizeof jti, "shared-%d", i);
    if (wd_gov__replay_check(x->r, jti, NOW + 60000, NOW) == 1) x->wins++;
  }
  return NULL;
}

static void replay_race(void **state) {
  (void)state;
  wd_gov__replay *r = NULL;
  assert_int_equal(wd_gov__replay_new(&r), 0);
  pthread_t th[8];
  racer x[8];
  for (int i = 0; i < 8; i++) {
    x[i] = (racer){r, 0};
    assert_int_equal(pthread_create(&th[i], NULL, race, &x[i]), 0);
  }
  int wins = 0;
  for (int i = 0; i < 8; i++) {
    pthread_join(th[i], NULL);
    wins += x[i].wins;
  }
  assert_int_equal(wins, 1000); /* each jti accepted exactly once */
  wd_gov__replay_free(r);
}

/* ---- live tasks ---- */

typedef struct fixture {
  char dir[64], path[128];
  wd_store *s;
  wd_gov__live *l;
} fixture;

#define AGENT_A "spiffe://example.org/agent/a"

static void agent(wd_store *s, const char *name) { enrolled_agent(s, name, NOW); }

static void task(wd_store *s, const char *id, const char *agent_name) {
  char aid[128];
  snprintf(aid, sizeof aid, "spiffe://example.org/agent/%s", agent_name);
  wd_task t = {.id = (char *)(uintptr_t)id,
               .agent_id = aid,
               .intent = "i",
               .purpose = "p",
               .expected_tools = "[\"fs\"]",
               .ceiling = "internal",
               .budget = 5};
  assert_int_equal(wd_store_task_create(s, &t, 3600000, NOW), 0);
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  if (tmp_db_make(f->dir, f->path, "live") != 0) return -1;
  if (wd_store_open(f->path, 0, &f->s) != 0 || wd_gov__live_new(f->s, NULL, &f->l) != 0) return -1;
  agent(f->s, "a");
  agent(f->s, "b");
  task(f->s, "t1", "a");
  task(f->s, "t2", "a");
  task(f->s, "t3", "b");
  assert_int_equal(wd_store_token_record(f->s, "tok1", "t1", NOW + 300000, NOW), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  wd_gov__live_free(f->l);
  wd_store_close(f->s);
  tmp_db_remove(f->dir, f->path);
  free(f);
  return 0;
}

static void load_share_forget(void **state) {
  fixture *f = *state;
  wd_gov__ltask *a = NULL, *b = NULL;
  assert_int_equal(wd_gov__live_get(f->l, "nope", &a), -WD_E_NOTFOUND);
  assert_null(a);
  assert_int_equal(wd_gov__live_get(f->l, "t1", &a), 0);
  assert_string_equal(a->task.agent_id, AGENT_A);
  assert_string_equal(a->agent.id, AGENT_A);
  assert_int_equal(a->task.status, WD_TASK_OPEN);
  assert_int_equal(wd_gov__live_get(f->l, "t1", &b), 0);
  assert_ptr_equal(a, b);
  wd_gov__live_put(f->l, b);

  /* The store changes; forgetting marks the held entry and the next get
   * reloads the new state, while the old reference stays usable. */
  assert_int_equal(wd_store_task_end(f->s, "t1", WD_TASK_COMPLETED, "done", NOW + 1), 0);
  wd_gov__live_forget(f->l, "t1");
  pthread_mutex_lock(&a->mu);
  assert_true(a->dead);
  pthread_mutex_unlock(&a->mu);
  assert_int_equal(wd_gov__live_get(f->l, "t1", &b), 0);
  assert_ptr_not_equal(a, b);
  assert_int_equal(b->task.status, WD_TASK_COMPLETED);
  wd_gov__live_put(f->l, a);
  wd_gov__live_put(f->l, b);
  wd_gov__live_put(f->l, NULL);
  wd_gov__live_forget(f->l, "never-loaded");
}

static void forget_agent(void **state) {
  fixture *f = *state;
  wd_gov__ltask *t1 = NULL, *t2 = NULL, *t3 = NULL;
  assert_int_equal(wd_gov__live_get(f->l, "t1", &t1), 0);
  assert_int_equal(wd_gov__live_get(f->l, "t2", &t2), 0);
  assert_int_equal(wd_gov__live_get(f->l, "t3", &t3), 0);
  wd_gov__live_forget_agent(f->l, AGENT_A);
  assert_true(t1->dead);
  assert_true(t2->dead);
  assert_false(t3->dead);
  wd_gov__live_put(f->l, t1);
  wd_gov__live_put(f->l, t2);
  wd_gov__live_put(f->l, t3);
}

/* Forgetting an agent (a release, an enrolment) leaves a task another
 * request has fenced as it is: its fence holder forgets it once the
 * change it guards is written, and until then no get loads it. */
static void forget_agent_keeps_fences(void **state) {
  fixture *f = *state;
  wd_gov__ltask *t1 = NULL, *x = NULL;
  assert_int_equal(wd_gov__live_get(f->l, "t1", &t1), 0);
  wd_gov__live_put(f->l, t1);
  assert_int_equal(wd_gov__live_fence(f->l, "t1"), 0);
  wd_gov__live_forget_agent(f->l, AGENT_A);
  assert_int_equal(wd_gov__live_get(f->l, "t1", &x), -WD_E_NOTFOUND);
  assert_null(x);
  assert_int_equal(wd_gov__live_get(f->l, "t2", &x), 0); /* not fenced: loads fresh */
  wd_gov__live_put(f->l, x);
  wd_gov__live_forget(f->l, "t1");
  assert_int_equal(wd_gov__live_get(f->l, "t1", &x), 0);
  wd_gov__live_put(f->l, x);
}

/* While an agent's stop is written, none of its tasks can be got: not
 * those loaded, not those never loaded, not one opened meanwhile. Fences
 * are counted, and the lifted agent's tasks load fresh. */
static void fence_agent(void **state) {
  fixture *f = *state;
  wd_gov__ltask *t1 = NULL, *x = NULL;
  assert_int_equal(wd_gov__live_get(f->l, "t1", &t1), 0);
  assert_int_equal(wd_gov__live_fence_agent(f->l, AGENT_A), 0);
  pthread_mutex_lock(&t1->mu);
  assert_true(t1->dead);
  pthread_mutex_unlock(&t1->mu);
  wd_gov__live_put(f->l, t1);
  assert_int_equal(wd_gov__live_get(f->l, "t1", &x), -WD_E_NOTFOUND);
  assert_int_equal(wd_gov__live_get(f->l, "t2", &x), -WD_E_NOTFOUND);
  task(f->s, "t4", "a");
  assert_int_equal(wd_gov__live_get(f->l, "t4", &x), -WD_E_NOTFOUND);
  assert_null(x);
  assert_int_equal(wd_gov__live_get(f->l, "t3", &x), 0); /* agent b */
  wd_gov__live_put(f->l, x);

  assert_int_equal(wd_gov__live_fence_agent(f->l, AGENT_A), 0);
  wd_gov__live_unfence_agent(f->l, AGENT_A);
  assert_int_equal(wd_gov__live_get(f->l, "t1", &x), -WD_E_NOTFOUND);
  wd_gov__live_unfence_agent(f->l, AGENT_A);
  assert_int_equal(wd_gov__live_get(f->l, "t4", &x), 0);
  assert_string_equal(x->task.agent_id, AGENT_A);
  wd_gov__live_put(f->l, x);

  wd_test_fail_alloc_after(0);
  int rc = wd_gov__live_fence_agent(f->l, AGENT_A);
  wd_test_fail_alloc_after(-1);
  assert_int_equal(rc, -WD_E_NOMEM);
  assert_int_equal(wd_gov__live_get(f->l, "t1", &x), 0); /* nothing was fenced */
  wd_gov__live_put(f->l, x);
}

static void token_verdicts(void **state) {
  fixture *f = *state;
  wd_gov__ltask *t = NULL;
  int revoked = -1;
  assert_int_equal(wd_gov__live_get(f->l, "t1", &t), 0);
  pthread_mutex_lock(&t->mu);
  assert_int_equal(wd_gov__live_token_revoked(f->l, t, "tok1", &revoked), 0);
  assert_int_equal(revoked, 0);
  assert_int_equal(wd_gov__live_token_revoked(f->l, t, "unknown", &revoked), 0);
  assert_int_equal(revoked, 1); /* an unknown token is a revoked one */
  pthread_mutex_unlock(&t->mu);
  /* A revocation reaches the call path through forgetting, as the
   * service does after every store change: until then the verdict is the
   * one asked once (by design; forgetting is the invalidation). */
  assert_int_equal(wd_store_token_revoke(f->s, "tok1", NOW + 1), 0);
  pthread_mutex_lock(&t->mu);
  assert_int_equal(wd_gov__live_token_revoked(f->l, t, "tok1", &revoked), 0);
  assert_int_equal(revoked, 0);
  pthread_mutex_unlock(&t->mu);
  wd_gov__live_forget(f->l, "t1");
  pthread_mutex_lock(&t->mu);
  assert_int_equal(wd_gov__live_token_revoked(f->l, t, "tok1", &revoked), 0);
  assert_int_equal(revoked, 0); /* the old reference keeps its cache */
  assert_true(t->dead);         /* ... and is marked, so callers reload */
  pthread_mutex_unlock(&t->mu);
  wd_gov__live_put(f->l, t);
  assert_int_equal(wd_gov__live_get(f->l, "t1", &t), 0);
  pthread_mutex_lock(&t->mu);
  assert_int_equal(wd_gov__live_token_revoked(f->l, t, "tok1", &revoked), 0);
  assert_int_equal(revoked, 1);
  pthread_mutex_unlock(&t->mu);
  wd_gov__live_put(f->l, t);
}

static void session_sets(void **state) {
  fixture *f = *state;
  wd_gov__ltask *t = NULL;
  unsigned added = 0;
  assert_int_equal(wd_gov__live_get(f->l, "t1", &t), 0);
  pthread_mutex_lock(&t->mu);
  assert_int_equal(wd_gov__live_touch(t, "web", "secret", "api.example.com", &added), 0);
  assert_int_equal(added, 7u);
  assert_int_equal(wd_gov__live_touch(t, "fs", "secret", NULL, &added), 0);
  assert_int_equal(added, 1u);
  assert_int_equal(wd_gov__live_touch(t, "fs", "secret", "api.example.com", &added), 0);
  assert_int_equal(added, 0u);
  assert_int_equal(t->ss.tools.n, 2);
  assert_string_equal(t->ss.tools.v[0], "fs"); /* sorted */
  assert_string_equal(t->ss.tools.v[1], "web");

  wd_task copy;
  wd_session ss;
  t->task.calls = 3;
  assert_int_equal(wd_gov__live_snapshot(t, &copy, &ss), 0);
  assert_int_equal(wd_gov__live_touch(t, "zz", NULL, NULL, NULL), 0);
  assert_int_equal(ss.tools.n, 2); /* the copy does not follow the entry */
  assert_int_equal(ss.calls, 3);
  assert_string_equal(copy.id, "t1");
  assert_ptr_not_equal(copy.intent, t->task.intent);
  wd_store_task_free(&copy);
  wd_store_session_free(&ss);

  char v[32];
  int rc = 0;
  for (unsigned i = 0; rc == 0 && i <= WD_LIMIT_STORE_SESSION_SET; i++) {
    snprintf(v, sizeof v, "dest-%05u", i);
    rc = wd_gov__live_touch(t, NULL, NULL, v, NULL);
  }
  assert_int_equal(rc, -WD_E_TOOBIG);
  assert_int_equal(t->ss.destinations.n, WD_LIMIT_STORE_SESSION_SET);
  pthread_mutex_unlock(&t->mu);
  wd_gov__live_put(f->l, t);
}

/* A call that is refused because a set is full must not leave its other
 * values in the session: the store never sees them (the call is denied),
 * and policies would read tools that were never used. */
static void touch_all_or_nothing(void **state) {
  fixture *f = *state;
  wd_gov__ltask *t = NULL;
  char v[32];
  unsigned added = 99;
  assert_int_equal(wd_gov__live_get(f->l, "t1", &t), 0);
  pthread_mutex_lock(&t->mu);
  for (unsigned i = 0; i < WD_LIMIT_STORE_SESSION_SET; i++) {
    snprintf(v, sizeof v, "dest-%05u", i);
    assert_int_equal(wd_gov__live_touch(t, NULL, NULL, v, NULL), 0);
  }
  /* Known values still pass at the limit. */
  assert_int_equal(wd_gov__live_touch(t, NULL, NULL, "dest-00007", &added), 0);
  assert_int_equal(added, 0u);
  assert_int_equal(wd_gov__live_touch(t, "newtool", "secret", "dest-new", &added), -WD_E_TOOBIG);
  assert_int_equal(t->ss.destinations.n, WD_LIMIT_STORE_SESSION_SET);
  assert_int_equal(t->ss.tools.n, 0);
  assert_int_equal(t->ss.classifications.n, 0);
  pthread_mutex_unlock(&t->mu);
  wd_gov__live_put(f->l, t);
}

/* Long values fill a session by their bytes before their count: every
 * decision of the task carries them all. */
static void touch_byte_limit(void **state) {
  fixture *f = *state;
  wd_gov__ltask *t = NULL;
  char v[251];
  assert_int_equal(wd_gov__live_get(f->l, "t1", &t), 0);
  pthread_mutex_lock(&t->mu);
  int rc = 0;
  unsigned n = 0;
  for (; rc == 0 && n < WD_LIMIT_STORE_SESSION_SET; n++) {
    memset(v, 'a', sizeof v - 1);
    snprintf(v, 11, "d%09u", n);
    v[10] = 'a';
    v[sizeof v - 1] = '\0';
    rc = wd_gov__live_touch(t, NULL, NULL, v, NULL);
  }
  assert_int_equal(rc, -WD_E_TOOBIG);
  assert_int_equal(t->ss.destinations.n, WD_LIMIT_SESSION_BYTES / 250);
  /* Known values still pass at the limit. */
  memcpy(v, "d000000007", 10);
  assert_int_equal(wd_gov__live_touch(t, NULL, NULL, v, NULL), 0);
  pthread_mutex_unlock(&t->mu);
  wd_gov__live_put(f->l, t);
}

static void count_done(void *ctx, int rc, int64_t seq) {
  (void)seq;
  if (rc == 0) atomic_fetch_add((atomic_int *)ctx, 1);
}

/* A task's entry dropped or forgotten while its calls' records were still
 * queued: the next load waits for them, so it does not start from a store
 * without their counts and session values (a budget passed, or "secret"
 * missing from a data-flow rule's view). */
static void load_waits_for_queued_records(void **state) {
  fixture *f = *state;
  wd_audit *a = NULL;
  wd_gov__live *l = NULL;
  assert_int_equal(wd_audit_open(f->s, &a), 0);
  assert_int_equal(wd_gov__live_new(f->s, a, &l), 0);
  atomic_int done = 0;
  json_t *p = json_object();
  for (int i = 0; i < 64; i++) {
    wd_store_fx fx = {.kind = WD_STORE_FX_CALL,
                      .task_id = "t2",
                      .allowed = i % 4 != 0,
                      .tool = "fs",
                      .classification = i == 63 ? "secret" : "internal"};
    assert_int_equal(wd_audit_append_json_async(a, WD_AUDIT_AUTHZ_DECISION, AGENT_A, "t2", p, &fx,
                                                1, count_done, &done),
                     0);
  }
  wd_gov__ltask *t = NULL;
  assert_int_equal(wd_gov__live_get(l, "t2", &t), 0);
  assert_int_equal(t->task.calls, 64);
  assert_int_equal(t->task.denials, 16);
  assert_int_equal(t->ss.classifications.n, 2);
  assert_string_equal(t->ss.classifications.v[1], "secret");
  wd_gov__live_put(l, t);
  wd_gov__live_free(l);
  wd_audit_close(a);
  assert_int_equal(atomic_load(&done), 64);
  json_decref(p);
}

/* The replay cache is bounded: filling it with live jtis ends in
 * -WD_E_TOOBIG (the caller then asks the store), and once those expire
 * the room is reused. A jti the full cache could not hold is left to the
 * store until it expires: the cache sends every jti new to it there
 * until then, or a replay of that one would pass once the room is back. */
static void replay_full(void **state) {
  (void)state;
  wd_gov__replay *r = NULL;
  assert_int_equal(wd_gov__replay_new(&r), 0);
  char jti[32];
  unsigned i = 0;
  int rc = 1;
  for (; rc == 1 && i < WD_LIMIT_GOV_REPLAY_ENTRIES; i++) {
    snprintf(jti, sizeof jti, "fill-%u", i);
    rc = wd_gov__replay_check(r, jti, NOW + 1000, NOW);
  }
  assert_int_equal(rc, -WD_E_TOOBIG);
  assert_true(i > WD_LIMIT_GOV_REPLAY_ENTRIES / 2); /* the room is not wasted */
  /* A known live jti is still refused, even the one the full shard holds
   * (the shards' seeds are random: once in about 64 runs that shard was
   * fill-0's, which this used to find by failing)... */
  assert_int_equal(wd_gov__replay_check(r, "fill-0", NOW + 1000, NOW), 0);
  snprintf(jti, sizeof jti, "fill-%u", i - 2);
  assert_int_equal(wd_gov__replay_check(r, jti, NOW + 1000, NOW), 0);
  /* ... and after the window every jti fits again. */
  snprintf(jti, sizeof jti, "fill-%u", i - 1);
  assert_int_equal(wd_gov__replay_check(r, jti, NOW + 5000, NOW + 1000), 1);
  assert_int_equal(wd_gov__replay_check(r, "fresh", NOW + 5000, NOW + 1000), 1);
  wd_gov__replay_free(r);

  /* A long-lived jti refused room while the flood was live. */
  assert_int_equal(wd_gov__replay_new(&r), 0);
  rc = 1;
  for (i = 0; rc == 1 && i < WD_LIMIT_GOV_REPLAY_ENTRIES; i++) {
    snprintf(jti, sizeof jti, "fill-%u", i);
    rc = wd_gov__replay_check(r, jti, NOW + 1000, NOW);
  }
  assert_int_equal(rc, -WD_E_TOOBIG);
  snprintf(jti, sizeof jti, "fill-%u", i - 1);
  assert_int_equal(wd_gov__replay_check(r, jti, NOW + 60000, NOW), -WD_E_TOOBIG);
  assert_int_equal(wd_gov__replay_check(r, jti, NOW + 60000, NOW + 2000), -WD_E_TOOBIG);
  assert_int_equal(wd_gov__replay_check(r, "other", NOW + 60000, NOW + 2000), -WD_E_TOOBIG);
  assert_int_equal(wd_gov__replay_check(r, "other", NOW + 60000, NOW + 3000), 0);
  assert_int_equal(wd_gov__replay_check(r, "later", NOW + 90000, NOW + 60000), 1);
  wd_gov__replay_free(r);
}

/* No cache window under concurrency: once forget has returned (after the
 * store change), no thread's get may return the old state, while loads
 * race with the change. */
typedef struct lracer {
  wd_gov__live *l;
  volatile int *ended, *stop;
  int stale, errors, loads, last_error;
} lracer;

static void *live_race(void *arg) {
  lracer *x = arg;
  const char *ids[] = {"t1", "t2"};
  for (unsigned n = 0; !__atomic_load_n(x->stop, __ATOMIC_ACQUIRE); n++) {
    int ended = __atomic_load_n(x->ended, __ATOMIC_ACQUIRE);
    wd_gov__ltask *t = NULL;
    const char *id = ids[n % 2];
    int rc = wd_gov__live_get(x->l, id, &t);
    if (rc != 0) {
      x->errors++;
      x->last_error = rc;
      continue;
    }
    pthread_mutex_lock(&t->mu);
    if (ended && id[1] == '1' && t->task.status != WD_TASK_COMPLETED) x->stale++;
    if (id[1] == '2' && t->task.status != WD_TASK_OPEN) x->stale++;
    (void)wd_gov__live_touch(t, "fs", NULL, NULL, NULL);
    pthread_mutex_unlock(&t->mu);
    wd_gov__live_put(x->l, t);
    x->loads++;
  }
  return NULL;
}

static void nap(long us) {
  struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000};
  nanosleep(&ts, NULL);
}

static void forget_under_load(void **state) {
  fixture *f = *state;
  volatile int ended = 0, stop = 0;
  pthread_t th[4];
  lracer x[4];
  for (int i = 0; i < 4; i++) {
    x[i] = (lracer){.l = f->l, .ended = &ended, .stop = &stop};
    assert_int_equal(pthread_create(&th[i], NULL, live_race, &x[i]), 0);
  }
  /* Churn: forgets with no store change while readers run (at an
   * admin's pace: a forget per load makes loads give up, by design, and
   * under ThreadSanitizer a load takes more than a millisecond). */
  for (int i = 0; i < 100; i++) {
    wd_gov__live_forget(f->l, "t1");
    if (i % 10 == 0) wd_gov__live_forget_agent(f->l, "spiffe://example.org/agent/b");
    nap(5000);
  }
  assert_int_equal(wd_store_task_end(f->s, "t1", WD_TASK_COMPLETED, "done", NOW + 1), 0);
  wd_gov__live_forget(f->l, "t1");
  __atomic_store_n(&ended, 1, __ATOMIC_RELEASE);
  nap(50000);
  __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
  int loads = 0;
  /* Every racer is joined before any assertion can leave the test. */
  for (int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  for (int i = 0; i < 4; i++) {
    if (x[i].errors) print_error("racer %d: %d errors, last %d\n", i, x[i].errors, x[i].last_error);
    assert_int_equal(x[i].errors, 0);
    assert_int_equal(x[i].stale, 0);
    loads += x[i].loads;
  }
  assert_true(loads > 0);
  wd_gov__ltask *t = NULL;
  assert_int_equal(wd_gov__live_get(f->l, "t1", &t), 0);
  assert_int_equal(t->task.status, WD_TASK_COMPLETED);
  wd_gov__live_put(f->l, t);
}

/* Every allocation failure in loading, touching and copying an entry is
 * a clean error (no crash, no leak under ASan), and leaves the table
 * usable. */
static void allocation_failures(void **state) {
  fixture *f = *state;
  int ok = 0;
  for (long n = 0; n < 60; n++) {
    wd_gov__ltask *t = NULL;
    wd_task copy;
    wd_session ss;
    char v[32];
    snprintf(v, sizeof v, "dest-%ld", n);
    wd_gov__live_forget(f->l, "t1");
    wd_test_fail_alloc_after(n);
    int rc = wd_gov__live_get(f->l, "t1", &t);
    int rc2 = 0, rc3 = 0;
    if (rc == 0) {
      pthread_mutex_lock(&t->mu);
      rc2 = wd_gov__live_touch(t, "fs", "internal", v, NULL);
      rc3 = wd_gov__live_snapshot(t, &copy, &ss);
      pthread_mutex_unlock(&t->mu);
    }
    wd_test_fail_alloc_after(-1);
    assert_true(rc == 0 || rc == -WD_E_NOMEM || rc == -WD_E_STORE);
    assert_true(rc2 == 0 || rc2 == -WD_E_NOMEM);
    assert_true(rc3 == 0 || rc3 == -WD_E_NOMEM);
    if (rc == 0 && rc3 == 0) {
      assert_string_equal(copy.id, "t1");
      wd_store_task_free(&copy);
      wd_store_session_free(&ss);
      ok++;
    }
    wd_gov__live_put(f->l, t);
  }
  assert_true(ok > 0);
  wd_gov__ltask *t = NULL;
  assert_int_equal(wd_gov__live_get(f->l, "t1", &t), 0);
  assert_int_equal(t->task.status, WD_TASK_OPEN);
  wd_gov__live_put(f->l, t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(replay_once),
      cmocka_unit_test(replay_race),
      cmocka_unit_test_setup_teardown(load_share_forget, setup, teardown),
      cmocka_unit_test_setup_teardown(forget_agent, setup, teardown),
      cmocka_unit_test_setup_teardown(fence_agent, setup, teardown),
      cmocka_unit_test_setup_teardown(forget_agent_keeps_fences, setup, teardown),
      cmocka_unit_test_setup_teardown(token_verdicts, setup, teardown),
      cmocka_unit_test_setup_teardown(session_sets, setup, teardown),
      cmocka_unit_test_setup_teardown(load_waits_for_queued_records, setup, teardown),
      cmocka_unit_test(replay_full),
      cmocka_unit_test_setup_teardown(forget_under_load, setup, teardown),
      cmocka_unit_test_setup_teardown(touch_all_or_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(touch_byte_limit, setup, teardown),
      cmocka_unit_test_setup_teardown(allocation_failures, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of what the per-call path asks of the store, on a real
 * SQLite file: evidence rows carrying effects (a spent DPoP jti, a call's
 * count and session change) written in the same transaction as the rows,
 * or not at all (a setting too); the scan of live jtis the service loads at start; and
 * the list of an agent's open tasks that quarantine walks.
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
#include <pthread.h>
#include <stdatomic.h>

#include <cmocka.h>

#include "store/wd_store.h"
#include "util/wd_alloc.h"
#include "store_fixture.h"

#define NOW 1700000000000LL

typedef store_fixture fixture;

static int setup(void **state) { return store_fixture_setup(state, "storefx"); }

static int teardown(void **state) { return store_fixture_teardown(state); }

static void agent_with_task(wd_store *s, const char *name, const char *task, int64_t created) {
  char id[128];
  snprintf(id, sizeof id, "spiffe://example.org/agent/%s", name);
  wd_agent got = {0};
  if (wd_store_agent_get(s, id, &got) != 0) enrolled_agent(s, name, NOW);
  wd_store_agent_free(&got);
  wd_task t = {.id = (char *)(uintptr_t)task,
               .agent_id = id,
               .intent = "i",
               .purpose = "p",
               .expected_tools = "[]",
               .ceiling = "internal",
               .budget = 10};
  assert_int_equal(wd_store_task_create(s, &t, 60000, created), 0);
}

/* One evidence row with seq following the stored tail. */
static int append(wd_store *s, const wd_store_fx *fx, size_t nfx, int64_t seq_shift) {
  return append_row_fx(s, "authz.decision", "t1", fx, nfx, seq_shift);
}

typedef struct seen {
  int n;
  int has_a;
} seen;

static int count_jti(void *ctx, const char *jti, int64_t exp_ms) {
  seen *s = ctx;
  (void)exp_ms;
  s->n++;
  if (strcmp(jti, "jti-a") == 0) s->has_a = 1;
  return 0;
}

static void effects_land_with_the_row(void **state) {
  fixture *f = *state;
  agent_with_task(f->s, "bot", "t1", NOW);
  wd_store_fx fx[2] = {
      {.kind = WD_STORE_FX_DPOP, .jti = "jti-a", .exp_ms = NOW + 60000},
      {.kind = WD_STORE_FX_CALL,
       .task_id = "t1",
       .allowed = 1,
       .tool = "fs",
       .classification = "secret",
       .destination = "local"},
  };
  assert_int_equal(append(f->s, fx, 2, 0), 0);
  /* Kept for the replay cache's reload, listed while live. */
  seen sc = {0};
  assert_int_equal(wd_store_dpop_scan(f->s, NOW, count_jti, &sc), 0);
  assert_int_equal(sc.n, 1);
  assert_true(sc.has_a);
  memset(&sc, 0, sizeof sc);
  assert_int_equal(wd_store_dpop_scan(f->s, NOW + 60000, count_jti, &sc), 0);
  assert_int_equal(sc.n, 0); /* expired entries are not live */

  wd_session ss;
  assert_int_equal(wd_store_task_session(f->s, "t1", &ss), 0);
  assert_int_equal(ss.calls, 1);
  assert_int_equal(ss.denials, 0);
  assert_int_equal(ss.tools.n, 1);
  assert_string_equal(ss.tools.v[0], "fs");
  assert_int_equal(ss.classifications.n, 1);
  assert_int_equal(ss.destinations.n, 1);
  wd_store_session_free(&ss);

  /* A denial counts the call and the denial, and touches nothing. */
  wd_store_fx deny = {.kind = WD_STORE_FX_CALL,
                      .task_id = "t1",
                      .allowed = 0,
                      .tool = "http",
                      .classification = "public",
                      .destination = "api.example.com"};
  assert_int_equal(append(f->s, &deny, 1, 0), 0);
  assert_int_equal(wd_store_task_session(f->s, "t1", &ss), 0);
  assert_int_equal(ss.calls, 2);
  assert_int_equal(ss.denials, 1);
  assert_int_equal(ss.tools.n, 1);
  assert_int_equal(ss.destinations.n, 1);
  wd_store_session_free(&ss);
}

static void nothing_lands_without_the_row(void **state) {
  fixture *f = *state;
  agent_with_task(f->s, "bot", "t1", NOW);
  wd_store_fx fx[2] = {
      {.kind = WD_STORE_FX_DPOP, .jti = "jti-b", .exp_ms = NOW + 60000},
      {.kind = WD_STORE_FX_CALL, .task_id = "t1", .allowed = 1, .tool = "fs"},
  };
  /* A row that does not continue the chain is refused with its effects. */
  assert_int_not_equal(append(f->s, fx, 2, 5), 0);
  /* An effect without its task is refused before anything is written. */
  wd_store_fx bad = {.kind = WD_STORE_FX_CALL, .allowed = 1};
  assert_int_equal(append(f->s, &bad, 1, 0), -WD_E_INVAL);
  wd_store_fx nojti = {.kind = WD_STORE_FX_DPOP, .exp_ms = NOW};
  assert_int_equal(append(f->s, &nojti, 1, 0), -WD_E_INVAL);

  int64_t seq = -1;
  char tail[65];
  assert_int_equal(wd_store_audit_tail(f->s, &seq, tail), 0);
  assert_int_equal(seq, 0);
  int is_new = 0;
  assert_int_equal(wd_store_dpop_seen(f->s, "jti-b", NOW + 60000, &is_new), 0);
  assert_int_equal(is_new, 1);
  wd_session ss;
  assert_int_equal(wd_store_task_session(f->s, "t1", &ss), 0);
  assert_int_equal(ss.calls, 0);
  assert_int_equal(ss.tools.n, 0);
  wd_store_session_free(&ss);
}

static void open_tasks_of_an_agent(void **state) {
  fixture *f = *state;
  agent_with_task(f->s, "a", "ta1", NOW);
  agent_with_task(f->s, "a", "ta2", NOW + 1);
  agent_with_task(f->s, "a", "ta3", NOW + 2);
  agent_with_task(f->s, "b", "tb1", NOW);
  assert_int_equal(wd_store_task_end(f->s, "ta2", WD_TASK_COMPLETED, "done", NOW + 5), 0);
  wd_strlist l;
  assert_int_equal(wd_store_task_list_open(f->s, "spiffe://example.org/agent/a", 10, &l), 0);
  assert_int_equal(l.n, 2);
  assert_string_equal(l.v[0], "ta1");
  assert_string_equal(l.v[1], "ta3");
  wd_strlist_free(&l);
  assert_int_equal(wd_store_task_list_open(f->s, "spiffe://example.org/agent/a", 1, &l), 0);
  assert_int_equal(l.n, 1);
  assert_string_equal(l.v[0], "ta1");
  wd_strlist_free(&l);
  assert_int_equal(wd_store_task_list_open(f->s, "spiffe://example.org/agent/none", 10, &l), 0);
  assert_int_equal(l.n, 0);
  wd_strlist_free(&l);
  assert_int_equal(wd_store_task_list_open(f->s, NULL, 10, &l), -WD_E_INVAL);
}

static void manual_checkpoint(void **state) {
  fixture *f = *state;
  char path[160];
  snprintf(path, sizeof path, "%s/manual.db", f->dir);
  wd_store *s = NULL;
  assert_int_equal(wd_store_open(path, WD_STORE_MANUAL_CHECKPOINT, &s), 0);
  agent_with_task(s, "bot", "t1", NOW);
  for (int i = 0; i < 200; i++) {
    wd_store_fx fx = {.kind = WD_STORE_FX_CALL, .task_id = "t1", .allowed = 1, .tool = "fs"};
    assert_int_equal(append(s, &fx, 1, 0), 0);
  }
  assert_int_equal(wd_store_checkpoint(s, 0), 0);
  wd_session ss;
  assert_int_equal(wd_store_task_session(s, "t1", &ss), 0);
  assert_int_equal(ss.calls, 200);
  wd_store_session_free(&ss);
  wd_store_close(s);
  /* Read-only stores have nothing to checkpoint. */
  assert_int_equal(wd_store_open(path, WD_STORE_READONLY, &s), 0);
  assert_int_equal(wd_store_checkpoint(s, 0), 0);
  wd_store_close(s);
  assert_int_equal(wd_store_checkpoint(NULL, 0), -WD_E_INVAL);
  tmp_db_remove(NULL, path);
}

typedef struct log_writer {
  wd_store *s;
  int batches, failures;
  long gap_us;       /* between commits: shorter than any checkpoint */
  int64_t first_seq; /* of the first row this writer appends */
  double slowest_ms; /* the longest single commit */
  atomic_int done;
} log_writer;

static double now_ms(void) {
  struct timespec ts;
  (void)clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Appends batches of large records back to back, as a loaded server's
 * committer does: there is never a pause for the log to start over in. */
static void *write_log(void *arg) {
  log_writer *w = arg;
  static char payload[2048];
  memset(payload, 'x', sizeof payload - 3);
  payload[0] = '"';
  payload[sizeof payload - 2] = '"';
  char hashes[65][65];
  snprintf(hashes[0], 65, "%064lld", (long long)(w->first_seq - 1));
  wd_audit_row rows[64];
  for (int b = 0; b < w->batches; b++) {
    for (int i = 0; i < 64; i++) {
      long long seq = w->first_seq + (long long)b * 64 + i;
      snprintf(hashes[i + 1], 65, "%064lld", seq);
      rows[i] = (wd_audit_row){.seq = seq,
                               .time = "2026-01-01T00:00:00.000Z",
                               .type = "authz.decision",
                               .actor = "a",
                               .task = "t1",
                               .payload = payload,
                               .prev_hash = hashes[i],
                               .hash = hashes[i + 1]};
    }
    double t0 = now_ms();
    if (wd_store_audit_append_fx(w->s, rows, 64, NULL, 0) != 0) w->failures++;
    double took = now_ms() - t0;
    if (took > w->slowest_ms) w->slowest_ms = took;
    memcpy(hashes[0], hashes[64], 65);
    struct timespec gap = {0, w->gap_us * 1000L};
    if (w->gap_us) (void)nanosleep(&gap, NULL);
  }
  atomic_store(&w->done, 1);
  return NULL;
}

/* Under writes without a pause, a passive checkpoint never lets the log
 * start over; past the restart threshold the checkpoint makes it, so the
 * log stays near the threshold instead of holding everything written. */
static void log_starts_over(void **state) {
  fixture *f = *state;
  char path[160], wal[170];
  snprintf(path, sizeof path, "%s/restart.db", f->dir);
  snprintf(wal, sizeof wal, "%s-wal", path);
  wd_store *s = NULL;
  assert_int_equal(wd_store_open(path, WD_STORE_MANUAL_CHECKPOINT, &s), 0);
  log_writer w = {.s = s, .batches = 300, .first_seq = 1, .gap_us = 1000};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, write_log, &w), 0);
  struct timespec nap = {0, 5 * 1000 * 1000};
  off_t most = 0;
  struct stat st;
  while (!atomic_load(&w.done)) {
    assert_int_equal(wd_store_checkpoint(s, 512), 0);
    if (stat(wal, &st) == 0 && st.st_size > most) most = st.st_size;
    (void)nanosleep(&nap, NULL);
  }
  assert_int_equal(pthread_join(th, NULL), 0);
  assert_int_equal(w.failures, 0);
  /* The writer's 1 ms between commits is far shorter than a checkpoint
   * with its sync, so a passive round alone never let the log start over
   * and it held every frame written (84 MiB). With restarts past 512
   * frames (2 MiB) it stayed under 4 MiB here. */
  if (stat(wal, &st) == 0 && st.st_size > most) most = st.st_size;
  print_message("largest log: %lld bytes\n", (long long)most);
  assert_true(most < 20 * 1024 * 1024);
  int64_t seq = 0;
  char tail[65];
  assert_int_equal(wd_store_audit_tail(s, &seq, tail), 0);
  assert_int_equal(seq, 300 * 64);
  wd_store_close(s);
  tmp_db_remove(NULL, path);
}

typedef struct slow_reader {
  wd_store *s;
  int rows, failures;
} slow_reader;

static int slow_row(void *ctx, const wd_audit_row *row) {
  (void)row;
  struct timespec nap = {0, 4 * 1000 * 1000};
  (void)nanosleep(&nap, NULL);
  ((slow_reader *)ctx)->rows++;
  return 0;
}

static void *read_slowly(void *arg) {
  slow_reader *r = arg;
  if (wd_store_audit_scan(r->s, NULL, 1, slow_row, r) != 0) r->failures++;
  return NULL;
}

/* A reader that stays in the log (an offline `warden audit verify` of a
 * live server's database) keeps the log from starting over. The restart
 * waits for it only briefly while it holds writers off, so commits go on
 * instead of stalling until the reader leaves. */
static void long_reader_stalls_no_commit(void **state) {
  fixture *f = *state;
  char path[160];
  snprintf(path, sizeof path, "%s/reader.db", f->dir);
  wd_store *s = NULL, *ro = NULL;
  assert_int_equal(wd_store_open(path, WD_STORE_MANUAL_CHECKPOINT, &s), 0);
  log_writer seed = {.s = s, .batches = 4, .first_seq = 1};
  (void)write_log(&seed);
  assert_int_equal(seed.failures, 0);
  assert_int_equal(wd_store_open(path, WD_STORE_READONLY, &ro), 0);
  slow_reader r = {.s = ro};
  pthread_t reader, writer;
  assert_int_equal(pthread_create(&reader, NULL, read_slowly, &r), 0);
  struct timespec nap = {0, 20 * 1000 * 1000};
  (void)nanosleep(&nap, NULL); /* the reader is in */
  log_writer w = {.s = s, .batches = 40, .first_seq = 4 * 64 + 1};
  assert_int_equal(pthread_create(&writer, NULL, write_log, &w), 0);
  nap.tv_nsec = 2 * 1000 * 1000;
  while (!atomic_load(&w.done)) {
    assert_int_equal(wd_store_checkpoint(s, 16), 0);
    (void)nanosleep(&nap, NULL);
  }
  assert_int_equal(pthread_join(writer, NULL), 0);
  assert_int_equal(pthread_join(reader, NULL), 0);
  assert_int_equal(w.failures, 0);
  assert_int_equal(r.failures, 0);
  assert_int_equal(r.rows, 4 * 64);
  /* The reader stays about a second; a restart that waited for it held
   * a commit until it left (500 ms when the reader stayed half as long). */
  print_message("slowest commit: %.1f ms\n", w.slowest_ms);
  assert_true(w.slowest_ms < 600.0);
  wd_store_close(ro);
  wd_store_close(s);
  tmp_db_remove(NULL, path);
}

/* Kept proofs leave from the front once expired; a live one stops the
 * pruning there, and an expired one behind it waits for a later round
 * while scans skip it. */
static void dpop_effect_pruned(void **state) {
  fixture *f = *state;
  agent_with_task(f->s, "bot", "t1", NOW);
  wd_store_fx fx[2] = {
      {.kind = WD_STORE_FX_DPOP, .jti = "a", .exp_ms = NOW + 1000},
      {.kind = WD_STORE_FX_DPOP, .jti = "b", .exp_ms = NOW + 2000},
  };
  assert_int_equal(append(f->s, fx, 2, 0), 0);
  fx[0] = (wd_store_fx){.kind = WD_STORE_FX_DPOP, .jti = "c", .exp_ms = NOW + 5000};
  fx[1] = (wd_store_fx){.kind = WD_STORE_FX_DPOP, .jti = "d", .exp_ms = NOW + 1500};
  assert_int_equal(append(f->s, fx, 2, 0), 0);
  int is_new = 0;
  assert_int_equal(wd_store_dpop_seen(f->s, "e", NOW + 1000, &is_new), 0);
  unsigned n = 0;
  assert_int_equal(wd_store_dpop_prune(f->s, NOW + 1000, &n), 0);
  assert_int_equal(n, 2); /* "a", and "e" from the store's own table */
  assert_int_equal(wd_store_dpop_prune(f->s, NOW + 2000, &n), 0);
  assert_int_equal(n, 1); /* "b"; "d" waits behind the live "c" */
  seen sc = {0};
  assert_int_equal(wd_store_dpop_scan(f->s, NOW + 2000, count_jti, &sc), 0);
  assert_int_equal(sc.n, 1);
  assert_int_equal(wd_store_dpop_prune(f->s, NOW + 5000, &n), 0);
  assert_int_equal(n, 2);
  assert_int_equal(wd_store_dpop_prune(f->s, NOW + 5000, &n), 0);
  assert_int_equal(n, 0);
}

/* The replay cache decided the jti is new: its effect stores the proof
 * beside older rows for the same jti, expired or not, and the store then
 * refuses that proof. */
static void dpop_effect_over_old_rows(void **state) {
  fixture *f = *state;
  agent_with_task(f->s, "bot", "t1", NOW);
  int is_new = 0;
  assert_int_equal(wd_store_dpop_seen(f->s, "old", NOW + 10, &is_new), 0);
  assert_int_equal(is_new, 1);
  assert_int_equal(wd_store_dpop_seen(f->s, "held", NOW + 20, &is_new), 0);
  assert_int_equal(is_new, 1);
  wd_store_fx fx[2] = {
      {.kind = WD_STORE_FX_DPOP, .jti = "old", .exp_ms = NOW + 60000},
      {.kind = WD_STORE_FX_DPOP, .jti = "held", .exp_ms = NOW + 60000},
  };
  assert_int_equal(append(f->s, fx, 2, 0), 0);
  seen sc = {0};
  assert_int_equal(wd_store_dpop_scan(f->s, NOW + 30000, count_jti, &sc), 0);
  assert_int_equal(sc.n, 2);
  /* The store's own check sees only what it recorded itself. */
  assert_int_equal(wd_store_dpop_seen(f->s, "old", NOW + 10, &is_new), 0);
  assert_int_equal(is_new, 0);
  int64_t seq = 0;
  char tail[65];
  assert_int_equal(wd_store_audit_tail(f->s, &seq, tail), 0);
  assert_int_equal(seq, 1);
}

/* The admin token's hash is a setting its record carries: it lands with
 * the row, and a second first start (the key already set) writes neither
 * the row nor the value and says why. */
static void setting_lands_once(void **state) {
  wd_store *s = ((fixture *)*state)->s;
  wd_store_fx fx = {.kind = WD_STORE_FX_SETTING, .key = "k", .value = "v1", .only_if_absent = 1};
  assert_int_equal(append(s, &fx, 1, 0), 0);
  int64_t seq = 0;
  char tail[65];
  assert_int_equal(wd_store_audit_tail(s, &seq, tail), 0);
  fx.value = "v2";
  assert_int_equal(append(s, &fx, 1, 0), -WD_E_EXISTS);
  int64_t seq2 = 0;
  assert_int_equal(wd_store_audit_tail(s, &seq2, tail), 0);
  assert_int_equal(seq2, seq);
  char *v = NULL;
  assert_int_equal(wd_store_setting_get(s, "k", &v), 0);
  assert_string_equal(v, "v1");
  wd_free(v);
  fx.key = NULL;
  assert_int_equal(append(s, &fx, 1, 0), -WD_E_INVAL);
}

/* A renewal's token and an intent change land only while the token the
 * request came with is still unrevoked: one that raced with a revocation
 * writes neither its row nor its change. */
static void bearer_must_be_live(void **state) {
  wd_store *s = ((fixture *)*state)->s;
  agent_with_task(s, "bot", "t1", NOW);
  wd_store_fx tok = {.kind = WD_STORE_FX_TOKEN,
                     .jti = "tok-1",
                     .task_id = "t1",
                     .exp_ms = NOW + 60000,
                     .now_ms = NOW};
  assert_int_equal(append(s, &tok, 1, 0), 0);
  wd_store_fx renew = tok;
  renew.jti = "tok-2";
  renew.bearer_jti = "tok-1";
  assert_int_equal(append(s, &renew, 1, 0), 0);
  wd_store_fx other = tok;
  other.jti = "tok-3";
  other.bearer_jti = "tok-x"; /* no such token */
  assert_int_equal(append(s, &other, 1, 0), -WD_E_INVAL);

  assert_int_equal(wd_store_token_revoke(s, "tok-1", NOW + 1), 0);
  renew.jti = "tok-4";
  assert_int_equal(append(s, &renew, 1, 0), -WD_E_INVAL);
  wd_store_fx intent = {.kind = WD_STORE_FX_TASK_INTENT,
                        .task_id = "t1",
                        .intent = "something else",
                        .bearer_jti = "tok-1",
                        .now_ms = NOW + 2};
  assert_int_equal(append(s, &intent, 1, 0), -WD_E_INVAL);
  int revoked = 0;
  assert_int_equal(wd_store_token_is_revoked(s, "tok-4", &revoked), -WD_E_NOTFOUND);
  assert_int_equal(wd_store_token_is_revoked(s, "tok-2", &revoked), 0);
  assert_false(revoked);
  wd_task t = {0};
  assert_int_equal(wd_store_task_get(s, "t1", &t), 0);
  assert_string_equal(t.intent, "i");
  wd_store_task_free(&t);
  intent.bearer_jti = "tok-2";
  assert_int_equal(append(s, &intent, 1, 0), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(effects_land_with_the_row, setup, teardown),
      cmocka_unit_test_setup_teardown(nothing_lands_without_the_row, setup, teardown),
      cmocka_unit_test_setup_teardown(open_tasks_of_an_agent, setup, teardown),
      cmocka_unit_test_setup_teardown(manual_checkpoint, setup, teardown),
      cmocka_unit_test_setup_teardown(log_starts_over, setup, teardown),
      cmocka_unit_test_setup_teardown(long_reader_stalls_no_commit, setup, teardown),
      cmocka_unit_test_setup_teardown(dpop_effect_over_old_rows, setup, teardown),
      cmocka_unit_test_setup_teardown(dpop_effect_pruned, setup, teardown),
      cmocka_unit_test_setup_teardown(setting_lands_once, setup, teardown),
      cmocka_unit_test_setup_teardown(bearer_must_be_live, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the evidence-log appender: argument checks, group commit
 * under 8 threads (exactly 20,000 records, a verifying chain, fewer
 * transactions than records), reopen, trace and JSON-lines export, and
 * records carrying store effects from 8 threads (sync and async): each
 * record once, a verifying chain, each effect applied once. One test
 * stalls the store from a second SQLite connection (hence sqlite3.h) so
 * that more than a batch is queued at once; another makes the store's
 * writes fail for real (a file-size limit).
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "audit/wd_audit.h"
#include "util/wd_alloc.h"
#include "../../support/fsize.h"
#include "../store/store_fixture.h"

typedef struct fixture {
  char dir[64];
  char path[128];
  wd_store *s;
  wd_audit *a;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  if (tmp_db_make(f->dir, f->path, "audit") != 0) return -1;
  if (wd_store_open(f->path, 0, &f->s) != 0 || wd_audit_open(f->s, &f->a) != 0) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  wd_audit_close(f->a);
  wd_store_close(f->s);
  tmp_db_remove(f->dir, f->path);
  free(f);
  return 0;
}

static void append_and_read(void **state) {
  fixture *f = *state;
  int64_t seq = 0;
  wd_audit_report rep;
  wd_audit_records tr = {0};
  assert_int_equal(wd_audit_append(f->a, WD_AUDIT_TASK_OPENED, "agent:a", "t1",
                                   "{\"intent\":\"read mail\",\"budget\":10}", &seq),
                   0);
  assert_int_equal(seq, 1);
  assert_int_equal(wd_audit_append(f->a, WD_AUDIT_ADMIN_ACTION, "admin", NULL, NULL, &seq), 0);
  assert_int_equal(seq, 2);
  json_t *j = json_pack("{s:s,s:i,s:[s]}", "decision", "allow", "version", 3, "policies", "p1");
  assert_int_equal(wd_audit_append_json(f->a, WD_AUDIT_AUTHZ_DECISION, "agent:a", "t1", j, &seq),
                   0);
  json_decref(j);
  assert_int_equal(seq, 3);
  assert_int_equal(wd_audit_verify(f->s, &rep), 0);
  assert_int_equal(rep.records, 3);
  assert_int_equal(rep.bad_seq, 0);

  assert_int_equal(wd_audit_trace(f->s, "t1", &tr), 0);
  assert_int_equal(tr.n, 2);
  assert_int_equal(tr.v[0].seq, 1);
  assert_string_equal(tr.v[0].type, "task.opened");
  assert_string_equal(tr.v[0].payload, "{\"budget\":10,\"intent\":\"read mail\"}");
  assert_string_equal(tr.v[0].prev_hash, WD_AUDIT_GENESIS);
  assert_string_equal(tr.v[1].type, "authz.decision");
  assert_string_equal(tr.v[1].payload,
                      "{\"decision\":\"allow\",\"policies\":[\"p1\"],\"version\":3}");
  assert_int_equal(strlen(tr.v[1].time), 24);
  wd_audit_records_free(&tr);
  assert_int_equal(wd_audit_trace(f->s, "none", &tr), 0);
  assert_int_equal(tr.n, 0);
}

static void rejects_bad_input(void **state) {
  fixture *f = *state;
  static const struct {
    const char *actor, *task, *payload;
    int want;
  } rows[] = {
      {"a", NULL, "[1]", -WD_E_INVAL},
      {"a", NULL, "{\"x\":1.5}", -WD_E_INVAL},
      {"a", NULL, "{\"x\":1,\"x\":2}", -WD_E_INVAL},
      {"a", NULL, "{", -WD_E_INVAL},
      {"a", NULL, "\"s\"", -WD_E_INVAL},
      {"", NULL, "{}", -WD_E_INVAL},
      {NULL, NULL, "{}", -WD_E_INVAL},
      {"a\xff", NULL, "{}", -WD_E_INVAL},
      {"a", "t\xc0\x80", "{}", -WD_E_INVAL},
      {"a", NULL, "{\"x\":[[[[1]]]],\"y\":\"\\u00e9\\n\"}", 0},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    int rc = wd_audit_append(f->a, WD_AUDIT_ADMIN_ACTION, rows[i].actor, rows[i].task,
                             rows[i].payload, NULL);
    if (rc != rows[i].want) {
      print_error("row %zu (%s): got %d want %d\n", i, rows[i].payload, rc, rows[i].want);
      fails++;
    }
  }
  assert_int_equal(wd_audit_append(f->a, WD_AUDIT__TYPE_COUNT, "a", NULL, "{}", NULL), -WD_E_INVAL);
  assert_int_equal(fails, 0);
  wd_audit_report rep;
  assert_int_equal(wd_audit_verify(f->s, &rep), 0);
  assert_int_equal(rep.records, 1); /* only the valid row was written */
}

typedef struct canon_wait {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done, rc;
  int64_t seq;
} canon_wait;

static void canon_done(void *ctx, int rc, int64_t seq) {
  canon_wait *w = ctx;
  pthread_mutex_lock(&w->mu);
  w->done = 1;
  w->rc = rc;
  w->seq = seq;
  pthread_cond_signal(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static int canon_append(wd_audit *a, const char *text, canon_wait *w) {
  char *t = wd_malloc(strlen(text) + 1);
  if (!t) return -WD_E_NOMEM;
  memcpy(t, text, strlen(text) + 1);
  return wd_audit_append_canon_async(a, WD_AUDIT_AUTHZ_DECISION, "agent:a", "t1", t, strlen(t),
                                     NULL, 0, canon_done, w);
}

/* A payload written as canonical text is stored as it is, and its record
 * chains; text that is not an object is refused up front (the log frees
 * it either way, which ASan's leak check holds it to), and so, where
 * assertions are on, is text that is not canonical. */
static void canonical_text(void **state) {
  fixture *f = *state;
  canon_wait w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
  static const char good[] = "{\"args\":{\"a\":\"1.5\",\"b\":[1,null]},\"decision\":\"deny\"}";
  assert_int_equal(canon_append(f->a, good, &w), 0);
  pthread_mutex_lock(&w.mu);
  while (!w.done)
    pthread_cond_wait(&w.cv, &w.mu);
  pthread_mutex_unlock(&w.mu);
  assert_int_equal(w.rc, 0);
  assert_int_equal(w.seq, 1);
  wd_audit_records tr = {0};
  assert_int_equal(wd_audit_trace(f->s, "t1", &tr), 0);
  assert_int_equal(tr.n, 1);
  assert_string_equal(tr.v[0].payload, good);
  wd_audit_records_free(&tr);

  static const char *const bad[] = {"[1]", "", "{", "\"x\"", "x}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(canon_append(f->a, bad[i], &w), -WD_E_INVAL);
  char *odd = wd_malloc(8);
  assert_non_null(odd);
  memcpy(odd, "{}\0{}", 6);
  assert_int_equal(wd_audit_append_canon_async(f->a, WD_AUDIT_ADMIN_ACTION, "a", NULL, odd, 5, NULL,
                                               0, canon_done, &w),
                   -WD_E_INVAL);
#ifndef NDEBUG
  static const char *const loose[] = {"{\"b\":1,\"a\":2}", "{ \"a\":1}", "{\"a\":1.5}",
                                      "{\"a\":\"\\u0041\"}"};
  for (size_t i = 0; i < sizeof loose / sizeof loose[0]; i++)
    assert_int_equal(canon_append(f->a, loose[i], &w), -WD_E_INVAL);
#endif
  wd_audit_report rep;
  assert_int_equal(wd_audit_verify(f->s, &rep), 0);
  assert_int_equal(rep.records, 1);
}

static int collect(void *ctx, const char *line, size_t len) { return wd_buf_add(ctx, line, len); }

/* A writer caps the value it encodes at WD_LIMIT_JSON_DEPTH counted from
 * that value, and a decision's args sit one level down in its payload:
 * such a record, with args nested to the writer's limit, is written,
 * verifies in the store and as an export, and its payload read back
 * encodes again as the online export does. */
static void deepest_written_value_verifies(void **state) {
  fixture *f = *state;
  json_t *v = json_integer(1);
  for (unsigned i = 0; i < WD_LIMIT_JSON_DEPTH && v; i++)
    v = json_pack("[o]", v);
  assert_non_null(v);
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_AUDIT_PAYLOAD_BYTES);
  assert_int_equal(wd_buf_adds(&b, "{\"args\":"), 0);
  assert_int_equal(wd_audit_canon_json(&b, v), 0); /* exactly the writer's limit */
  assert_int_equal(wd_buf_adds(&b, ",\"decision\":\"deny\"}"), 0);
  json_t *deeper = json_pack("[O]", v);
  wd_buf scratch;
  wd_buf_init(&scratch, WD_LIMIT_AUDIT_PAYLOAD_BYTES);
  assert_int_equal(wd_audit_canon_json(&scratch, deeper), -WD_E_TOOBIG);
  wd_buf_free(&scratch);
  json_decref(deeper);
  json_decref(v);

  canon_wait w = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
  assert_int_equal(canon_append(f->a, wd_buf_str(&b), &w), 0);
  pthread_mutex_lock(&w.mu);
  while (!w.done)
    pthread_cond_wait(&w.cv, &w.mu);
  pthread_mutex_unlock(&w.mu);
  assert_int_equal(w.rc, 0);
  wd_audit_report rep;
  assert_int_equal(wd_audit_verify(f->s, &rep), 0);
  assert_int_equal(rep.records, 1);

  wd_buf out;
  wd_buf_init(&out, WD_LIMIT_AUDIT_LINE_BYTES);
  assert_int_equal(wd_audit_export(f->s, NULL, collect, &out), 0);
  assert_int_equal(wd_audit_verify_jsonl(wd_buf_str(&out), wd_buf_len(&out), &rep), 0);
  assert_int_equal(rep.records, 1);
  wd_buf_free(&out);

  json_t *pl = json_loads(wd_buf_str(&b), 0, NULL);
  assert_non_null(pl);
  wd_buf again;
  wd_buf_init(&again, WD_LIMIT_AUDIT_PAYLOAD_BYTES);
  assert_int_equal(wd_audit_canon_stored(&again, pl), 0);
  assert_string_equal(wd_buf_str(&again), wd_buf_str(&b));
  wd_buf_free(&again);
  json_decref(pl);
  wd_buf_free(&b);
}

#define THREADS    8
#define PER_THREAD 2500

typedef struct worker {
  wd_audit *a;
  int id;
  int failures;
  int64_t last_seq;
} worker;

static void *append_thread(void *arg) {
  worker *w = arg;
  char task[32], payload[96];
  snprintf(task, sizeof task, "task-%d", w->id);
  for (int i = 0; i < PER_THREAD; i++) {
    int64_t seq = 0;
    snprintf(payload, sizeof payload, "{\"thread\":%d,\"i\":%d,\"decision\":\"deny\"}", w->id, i);
    if (wd_audit_append(w->a, WD_AUDIT_AUTHZ_DECISION, "agent", task, payload, &seq) != 0 ||
        seq <= w->last_seq)
      w->failures++;
    w->last_seq = seq;
  }
  return NULL;
}

static void group_commit_8_threads(void **state) {
  fixture *f = *state;
  pthread_t th[THREADS];
  worker w[THREADS];
  uint64_t records = 0, commits = 0;
  wd_audit_report rep;
  wd_audit_records tr = {0};
  for (int i = 0; i < THREADS; i++) {
    w[i] = (worker){.a = f->a, .id = i};
    assert_int_equal(pthread_create(&th[i], NULL, append_thread, &w[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(w[i].failures, 0);
  }
  uint64_t failed = 1;
  wd_audit_stats(f->a, &records, &commits, &failed, NULL);
  assert_int_equal(records, THREADS * PER_THREAD);
  assert_int_equal(failed, 0);
  assert_true(commits < records); /* batching happened */
  print_message("group commit: %llu records in %llu transactions\n", (unsigned long long)records,
                (unsigned long long)commits);
  assert_int_equal(wd_audit_verify(f->s, &rep), 0);
  assert_int_equal(rep.records, THREADS * PER_THREAD);
  assert_int_equal(wd_audit_trace(f->s, "task-3", &tr), 0);
  assert_int_equal(tr.n, PER_THREAD);
  for (size_t i = 1; i < tr.n; i++)
    assert_true(tr.v[i].seq > tr.v[i - 1].seq);
  wd_audit_records_free(&tr);

  /* reopen after close keeps everything and continues the chain */
  wd_audit_close(f->a);
  wd_store_close(f->s);
  f->a = NULL;
  f->s = NULL;
  assert_int_equal(wd_audit_verify_file(f->path, &rep), 0);
  assert_int_equal(rep.records, THREADS * PER_THREAD);
  assert_int_equal(wd_store_open(f->path, 0, &f->s), 0);
  assert_int_equal(wd_audit_open(f->s, &f->a), 0);
  int64_t seq = 0;
  assert_int_equal(wd_audit_append(f->a, WD_AUDIT_ADMIN_ACTION, "admin", NULL, "{}", &seq), 0);
  assert_int_equal(seq, THREADS * PER_THREAD + 1);
  assert_int_equal(wd_audit_verify(f->s, &rep), 0);
  assert_int_equal(rep.records, THREADS * PER_THREAD + 1);
}

static void two_appenders_one_store(void **state) {
  fixture *f = *state;
  wd_audit *b = NULL;
  wd_audit_report rep;
  int64_t seq = 0;
  /* A second appender (as a second process would) must not fork the chain:
   * the first one's cached tail is stale, its write is refused, and the
   * retry re-reads the tail. */
  assert_int_equal(wd_audit_open(f->s, &b), 0);
  assert_int_equal(wd_audit_append(f->a, WD_AUDIT_ADMIN_ACTION, "a", NULL, "{}", &seq), 0);
  assert_int_equal(wd_audit_append(b, WD_AUDIT_ADMIN_ACTION, "b", NULL, "{}", &seq), 0);
  assert_int_equal(seq, 2);
  assert_int_equal(wd_audit_append(f->a, WD_AUDIT_ADMIN_ACTION, "a", NULL, "{}", &seq),
                   -WD_E_EXISTS);
  assert_int_equal(wd_audit_append(f->a, WD_AUDIT_ADMIN_ACTION, "a", NULL, "{}", &seq), 0);
  assert_int_equal(seq, 3);
  wd_audit_close(b);
  assert_int_equal(wd_audit_verify(f->s, &rep), 0);
  assert_int_equal(rep.records, 3);
}

static void export_jsonl(void **state) {
  fixture *f = *state;
  wd_buf out;
  wd_audit_report rep;
  for (int i = 0; i < 5; i++)
    assert_int_equal(wd_audit_append(f->a, WD_AUDIT_TOKEN_ISSUED, "warden", "t1",
                                     "{\"jti\":\"j\",\"exp\":300}", NULL),
                     0);
  wd_buf_init(&out, 1u << 20);
  assert_int_equal(wd_audit_export(f->s, NULL, collect, &out), 0);
  assert_int_equal(wd_audit_verify_jsonl(wd_buf_str(&out), wd_buf_len(&out), &rep), 0);
  assert_int_equal(rep.records, 5);
  assert_non_null(strstr(wd_buf_str(&out), "\"payload\":{\"exp\":300,\"jti\":\"j\"}"));
  wd_buf_free(&out);
}

/* Every allocation failure inside append, verify and trace ends in a clean
 * error (never a crash, a leak under ASan, or a half-written chain). */
static void allocation_failures(void **state) {
  fixture *f = *state;
  wd_audit_report rep;
  int64_t expected = 0;
  for (long n = 0; n < 40; n++) {
    wd_audit_records tr = {0};
    int64_t seq = 0;
    wd_test_fail_alloc_after(n);
    int rc = wd_audit_append(f->a, WD_AUDIT_AUTHZ_DECISION, "agent", "t1",
                             "{\"b\":{\"c\":[1,2]},\"a\":\"x\"}", &seq);
    int rc2 = wd_audit_trace(f->s, "t1", &tr);
    int rc3 = wd_audit_verify(f->s, &rep);
    wd_test_fail_alloc_after(-1);
    assert_true(rc == 0 || rc == -WD_E_NOMEM);
    assert_true(rc2 == 0 || rc2 == -WD_E_NOMEM);
    assert_true(rc3 == 0 || rc3 == -WD_E_NOMEM);
    wd_audit_records_free(&tr);
    if (rc == 0) assert_int_equal(seq, ++expected);
  }
  assert_true(expected > 0);
  assert_int_equal(wd_audit_verify(f->s, &rep), 0);
  assert_int_equal(rep.records, expected);
}

/* ---- records carrying store effects ---- */

#define FX_THREADS 8
#define FX_PER     200
#define FX_AGENT   "spiffe://example.org/agent/fx"

typedef struct fx_worker {
  wd_audit *a;
  int id;
  int async;
  int failures;
  /* async completions, guarded by mu */
  pthread_mutex_t *mu;
  pthread_cond_t *cv;
  int *pending;
  int *async_failures;
} fx_worker;

static void fx_done(void *ctx, int rc, int64_t seq) {
  fx_worker *w = ctx;
  pthread_mutex_lock(w->mu);
  if (rc != 0 || seq <= 0) (*w->async_failures)++;
  (*w->pending)--;
  pthread_cond_broadcast(w->cv);
  pthread_mutex_unlock(w->mu);
}

/* Thread id appends FX_PER decisions on task "fx"; every fourth is a
 * denial. Odd threads use the asynchronous form. */
static void *fx_thread(void *arg) {
  fx_worker *w = arg;
  char tool[16];
  snprintf(tool, sizeof tool, "tool-%d", w->id);
  for (int i = 0; i < FX_PER; i++) {
    /* The jti must stay alive until its record is durable (borrowed). */
    char *jti = wd_malloc(32);
    if (!jti) {
      w->failures++;
      continue;
    }
    snprintf(jti, 32, "jti-%d-%d", w->id, i);
    wd_store_fx fx[2] = {
        {.kind = WD_STORE_FX_DPOP, .jti = jti, .exp_ms = INT64_MAX / 2},
        {.kind = WD_STORE_FX_CALL,
         .task_id = "fx",
         .allowed = i % 4 != 0,
         .tool = tool,
         .classification = i % 2 ? "internal" : "secret",
         .destination = NULL},
    };
    json_t *p = json_pack("{s:i,s:i}", "thread", w->id, "i", i);
    int rc;
    if (w->async) {
      pthread_mutex_lock(w->mu);
      (*w->pending)++;
      pthread_mutex_unlock(w->mu);
      rc = wd_audit_append_json_async(w->a, WD_AUDIT_AUTHZ_DECISION, FX_AGENT, "fx", p, fx, 2,
                                      fx_done, w);
      if (rc) {
        pthread_mutex_lock(w->mu);
        (*w->pending)--;
        pthread_mutex_unlock(w->mu);
      }
      /* wait for this record before freeing its jti */
      pthread_mutex_lock(w->mu);
      while (rc == 0 && *w->pending > 0)
        pthread_cond_wait(w->cv, w->mu);
      pthread_mutex_unlock(w->mu);
    } else {
      int64_t seq = 0;
      rc = wd_audit_append_json_fx(w->a, WD_AUDIT_AUTHZ_DECISION, FX_AGENT, "fx", p, fx, 2, &seq);
      if (rc == 0 && seq <= 0) rc = -1;
    }
    json_decref(p);
    wd_free(jti);
    if (rc) w->failures++;
  }
  return NULL;
}

static int fx_count_jti(void *ctx, const char *jti, int64_t exp_ms) {
  (void)jti;
  (void)exp_ms;
  (*(int *)ctx)++;
  return 0;
}

static void fx_store_task(wd_store *s) {
  wd_agent ag = {.id = (char *)(uintptr_t)FX_AGENT,
                 .name = (char *)(uintptr_t) "fx",
                 .owner = "alice",
                 .tier = WD_TIER_STANDARD,
                 .environment = "prod",
                 .attrs = "{}",
                 .status = WD_AGENT_PENDING};
  assert_int_equal(wd_store_agent_register(s, &ag, 1), 0);
  assert_int_equal(wd_store_join_create(s, "h-fx", "fx", INT64_MAX / 2, 1), 0);
  assert_int_equal(wd_store_join_consume(s, "h-fx", "{\"kty\":\"OKP\"}", "jkt-fx", 1, NULL), 0);
  wd_task t = {.id = (char *)(uintptr_t) "fx",
               .agent_id = (char *)(uintptr_t)FX_AGENT,
               .intent = "i",
               .purpose = "p",
               .expected_tools = "[]",
               .ceiling = "secret",
               .budget = 100000};
  assert_int_equal(wd_store_task_create(s, &t, 3600000, 1), 0);
}

/* Records with effects from 8 threads at once (half of them queued
 * asynchronously): every record is present once, the chain verifies, and
 * every effect was applied exactly once. */
static void effects_from_threads(void **state) {
  fixture *f = *state;
  fx_store_task(f->s);
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
  int pending[FX_THREADS] = {0}, async_failures = 0;
  pthread_t th[FX_THREADS];
  fx_worker w[FX_THREADS];
  for (int i = 0; i < FX_THREADS; i++) {
    w[i] = (fx_worker){.a = f->a,
                       .id = i,
                       .async = i % 2,
                       .mu = &mu,
                       .cv = &cv,
                       .pending = &pending[i],
                       .async_failures = &async_failures};
    assert_int_equal(pthread_create(&th[i], NULL, fx_thread, &w[i]), 0);
  }
  for (int i = 0; i < FX_THREADS; i++) {
    pthread_join(th[i], NULL);
    assert_int_equal(w[i].failures, 0);
  }
  assert_int_equal(async_failures, 0);

  wd_audit_report rep;
  assert_int_equal(wd_audit_verify(f->s, &rep), 0);
  assert_int_equal(rep.records, FX_THREADS * FX_PER);
  wd_audit_records tr = {0};
  assert_int_equal(wd_audit_trace(f->s, "fx", &tr), 0);
  assert_int_equal(tr.n, FX_THREADS * FX_PER);
  /* each (thread, i) exactly once */
  static unsigned char hit[FX_THREADS][FX_PER];
  memset(hit, 0, sizeof hit);
  for (size_t k = 0; k < tr.n; k++) {
    int t = -1, i = -1;
    assert_int_equal(sscanf(tr.v[k].payload, "{\"i\":%d,\"thread\":%d}", &i, &t), 2);
    assert_true(t >= 0 && t < FX_THREADS && i >= 0 && i < FX_PER);
    assert_int_equal(hit[t][i]++, 0);
  }
  wd_audit_records_free(&tr);

  /* every effect once: calls and denials counted, sets gained the values */
  wd_session ss;
  assert_int_equal(wd_store_task_session(f->s, "fx", &ss), 0);
  assert_int_equal(ss.calls, FX_THREADS * FX_PER);
  assert_int_equal(ss.denials, FX_THREADS * (FX_PER / 4));
  assert_int_equal(ss.tools.n, FX_THREADS);
  assert_int_equal(ss.classifications.n, 2);
  assert_int_equal(ss.destinations.n, 0);
  wd_store_session_free(&ss);
  int live = 0;
  assert_int_equal(wd_store_dpop_scan(f->s, 2, fx_count_jti, &live), 0);
  assert_int_equal(live, FX_THREADS * FX_PER);
  pthread_cond_destroy(&cv);
  pthread_mutex_destroy(&mu);
}

static void group_done(void *ctx, int rc, int64_t seq) {
  int *failures = ctx;
  if (rc != 0 || seq <= 0) __atomic_add_fetch(failures, 1, __ATOMIC_SEQ_CST);
}

/* A group is written whole or not at all: a task opened with its token
 * lands as two records and two rows; a group whose effect the store
 * refuses (a token for a task that does not exist) leaves neither record,
 * and only that group fails: records committed beside it are retried
 * without it. */
static void groups_whole_or_nothing(void **state) {
  fixture *f = *state;
  fx_store_task(f->s);
  wd_task t = {.id = (char *)(uintptr_t) "g1",
               .agent_id = (char *)(uintptr_t)FX_AGENT,
               .intent = "i",
               .purpose = "p",
               .expected_tools = "[\"fs\"]",
               .ceiling = "internal",
               .budget = 5};
  wd_store_fx open = {.kind = WD_STORE_FX_TASK_OPEN, .task = &t, .ttl_ms = 60000, .now_ms = 1};
  wd_store_fx tok = {
      .kind = WD_STORE_FX_TOKEN, .jti = "j-g1", .task_id = "g1", .exp_ms = 60000, .now_ms = 1};
  wd_audit_entry e[2] = {{.type = WD_AUDIT_TASK_OPENED, .fx = &open, .nfx = 1},
                         {.type = WD_AUDIT_TOKEN_ISSUED, .fx = &tok, .nfx = 1}};
  assert_int_equal(wd_audit_append_group(f->a, FX_AGENT, "g1", e, 2), 0);
  assert_int_equal(e[1].seq, e[0].seq + 1);
  wd_task got = {0};
  assert_int_equal(wd_store_task_get(f->s, "g1", &got), 0);
  assert_int_equal(got.status, WD_TASK_OPEN);
  wd_store_task_free(&got);

  /* Async records queued around a group that must fail. */
  int failures = 0;
  for (int i = 0; i < 64; i++)
    assert_int_equal(wd_audit_append_json_async(f->a, WD_AUDIT_ADMIN_ACTION, "admin", NULL, NULL,
                                                NULL, 0, group_done, &failures),
                     0);
  t.id = "g2";
  tok.task_id = "missing";
  tok.jti = "j-g2";
  assert_int_equal(wd_audit_append_group(f->a, FX_AGENT, "g2", e, 2), -WD_E_NOTFOUND);
  assert_int_equal(e[0].seq, 0);
  for (int i = 0; i < 64; i++)
    assert_int_equal(wd_audit_append_json_async(f->a, WD_AUDIT_ADMIN_ACTION, "admin", NULL, NULL,
                                                NULL, 0, group_done, &failures),
                     0);
  wd_audit_barrier(f->a);
  assert_int_equal(failures, 0);
  assert_int_equal(wd_store_task_get(f->s, "g2", &got), -WD_E_NOTFOUND);
  wd_audit_records tr = {0};
  assert_int_equal(wd_audit_trace(f->s, "g2", &tr), 0);
  assert_int_equal(tr.n, 0);
  wd_audit_records_free(&tr);
  wd_audit_report rep;
  assert_int_equal(wd_audit_verify(f->s, &rep), 0);
  assert_int_equal(rep.records, 2 + 128);

  assert_int_equal(wd_audit_append_group(f->a, FX_AGENT, "g3", e, 0), -WD_E_INVAL);
  wd_audit_entry many[WD_LIMIT_AUDIT_GROUP + 1];
  memset(many, 0, sizeof many);
  assert_int_equal(wd_audit_append_group(f->a, FX_AGENT, "g3", many, WD_LIMIT_AUDIT_GROUP + 1),
                   -WD_E_TOOBIG);
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, ms % 1000 * 1000000L};
  (void)nanosleep(&ts, NULL);
}

typedef struct group_arg {
  wd_audit *a;
  int rc;
} group_arg;

static void *group_thread(void *arg) {
  group_arg *g = arg;
  wd_audit_entry e[WD_LIMIT_AUDIT_GROUP];
  memset(e, 0, sizeof e);
  for (size_t i = 0; i < WD_LIMIT_AUDIT_GROUP; i++)
    e[i].type = WD_AUDIT_ADMIN_ACTION;
  g->rc = wd_audit_append_group(g->a, "admin", "grp", e, WD_LIMIT_AUDIT_GROUP);
  return NULL;
}

/* While another connection holds the write lock, more than a batch
 * queues up, with a group across the point where a batch is full. Once
 * the lock is let go every record lands: the group goes whole into the
 * next batch instead of stretching one past what the store takes. */
static void stalled_store_full_batches(void **state) {
  fixture *f = *state;
  sqlite3 *db = NULL;
  int failures = 0;
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
  /* The committer takes this one alone and waits on the lock. */
  assert_int_equal(wd_audit_append_json_async(f->a, WD_AUDIT_ADMIN_ACTION, "admin", NULL, NULL,
                                              NULL, 0, group_done, &failures),
                   0);
  sleep_ms(50);
  for (size_t i = 0; i + 2 < WD_LIMIT_AUDIT_BATCH; i++)
    assert_int_equal(wd_audit_append_json_async(f->a, WD_AUDIT_ADMIN_ACTION, "admin", NULL, NULL,
                                                NULL, 0, group_done, &failures),
                     0);
  group_arg g = {.a = f->a, .rc = 1};
  pthread_t th;
  assert_int_equal(pthread_create(&th, NULL, group_thread, &g), 0);
  sleep_ms(200); /* the group is queued behind the rest */
  assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(pthread_join(th, NULL), 0);
  wd_audit_barrier(f->a);
  sqlite3_close(db);
  assert_int_equal(g.rc, 0);
  assert_int_equal(failures, 0);
  wd_audit_report rep;
  assert_int_equal(wd_audit_verify(f->s, &rep), 0);
  assert_int_equal(rep.records, WD_LIMIT_AUDIT_BATCH - 1 + WD_LIMIT_AUDIT_GROUP);
}

/* A store that cannot write (files may not grow past 16 bytes): the
 * record fails, is counted with its error, and the log reports itself
 * failing for the hold given; the next record written clears it. */
static void store_write_failure(void **state) {
  fixture *f = *state;
  int64_t seq = 0;
  assert_int_equal(wd_audit_append(f->a, WD_AUDIT_ADMIN_ACTION, "admin", NULL, NULL, &seq), 0);
  int last = 0;
  assert_int_equal(wd_audit_failing(f->a, 60000, &last), 0);
  struct rlimit old = fsize_cap(16);
  int rc = wd_audit_append(f->a, WD_AUDIT_ADMIN_ACTION, "admin", NULL, NULL, &seq);
  fsize_restore(old);
  assert_int_equal(rc, -WD_E_IO);
  uint64_t records = 0, failed = 0;
  assert_int_equal(wd_audit_failing(f->a, 60000, &last), 1);
  assert_int_equal(last, -WD_E_IO);
  assert_int_equal(wd_audit_failing(f->a, 0, &last), 0); /* past its hold */
  wd_audit_stats(f->a, &records, NULL, &failed, &last);
  assert_int_equal(records, 1);
  assert_int_equal(failed, 1);
  assert_int_equal(last, -WD_E_IO);
  assert_int_equal(wd_audit_append(f->a, WD_AUDIT_ADMIN_ACTION, "admin", NULL, NULL, &seq), 0);
  assert_int_equal(seq, 2);
  assert_int_equal(wd_audit_failing(f->a, 60000, &last), 0);
  wd_audit_report rep;
  assert_int_equal(wd_audit_verify(f->s, &rep), 0);
  assert_int_equal(rep.records, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(append_and_read, setup, teardown),
      cmocka_unit_test_setup_teardown(rejects_bad_input, setup, teardown),
      cmocka_unit_test_setup_teardown(canonical_text, setup, teardown),
      cmocka_unit_test_setup_teardown(deepest_written_value_verifies, setup, teardown),
      cmocka_unit_test_setup_teardown(group_commit_8_threads, setup, teardown),
      cmocka_unit_test_setup_teardown(two_appenders_one_store, setup, teardown),
      cmocka_unit_test_setup_teardown(export_jsonl, setup, teardown),
      cmocka_unit_test_setup_teardown(allocation_failures, setup, teardown),
      cmocka_unit_test_setup_teardown(effects_from_threads, setup, teardown),
      cmocka_unit_test_setup_teardown(groups_whole_or_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(stalled_store_full_batches, setup, teardown),
      cmocka_unit_test_setup_teardown(store_write_failure, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

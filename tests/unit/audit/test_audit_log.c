/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of the evidence-log appender: argument checks, group commit
 * under 8 threads (exactly 20,000 records, a verifying chain, fewer
 * transactions than records), reopen, trace and JSON-lines export.
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
#include <unistd.h>

#include <cmocka.h>

#include "audit/wd_audit.h"
#include "util/wd_alloc.h"

typedef struct fixture {
  char dir[64];
  char path[128];
  wd_store *s;
  wd_audit *a;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/wd_audit_XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  snprintf(f->path, sizeof f->path, "%s/warden.db", f->dir);
  if (wd_store_open(f->path, 0, &f->s) != 0 || wd_audit_open(f->s, &f->a) != 0) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  static const char *const suffix[] = {"", "-wal", "-shm"};
  char p[160];
  wd_audit_close(f->a);
  wd_store_close(f->s);
  for (size_t i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
    unlink(p);
  }
  rmdir(f->dir);
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
  wd_audit_stats(f->a, &records, &commits);
  assert_int_equal(records, THREADS * PER_THREAD);
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

static int collect(void *ctx, const char *line, size_t len) { return wd_buf_add(ctx, line, len); }

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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(append_and_read, setup, teardown),
      cmocka_unit_test_setup_teardown(rejects_bad_input, setup, teardown),
      cmocka_unit_test_setup_teardown(group_commit_8_threads, setup, teardown),
      cmocka_unit_test_setup_teardown(two_appenders_one_store, setup, teardown),
      cmocka_unit_test_setup_teardown(export_jsonl, setup, teardown),
      cmocka_unit_test_setup_teardown(allocation_failures, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Rows outside the chain: one whose seq is below 1 or past 2^53, which
 * only a direct write to the database file can store. Each row of the
 * table adds one to a fresh log (the test plays the attacker with SQL,
 * hence sqlite3.h) and checks every reader: verify reports it by its
 * seq, a trace of its task and the export refuse it rather than show it,
 * and the appender will not number records on from it.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "audit/wd_audit.h"
#include "../store/store_fixture.h"

#define RECORDS 4

typedef struct fixture {
  char dir[64];
  char path[128];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f || tmp_db_make(f->dir, f->path, "read") != 0) {
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  tmp_db_remove(f->dir, f->path);
  free(f);
  return 0;
}

/* A fresh log of RECORDS records of task t1, then sql run on it with
 * the append-only triggers dropped. */
static int make_log(const char *path, const char *sql) {
  wd_store *s = NULL;
  wd_audit *a = NULL;
  sqlite3 *db = NULL;
  int rc;
  tmp_db_remove(NULL, path);
  if ((rc = wd_store_open(path, 0, &s)) || (rc = wd_audit_open(s, &a))) goto out;
  for (int i = 0; i < RECORDS && rc == 0; i++)
    rc = wd_audit_append(a, WD_AUDIT_AUTHZ_DECISION, "agent:a", "t1", "{\"n\":1}", NULL);
out:
  wd_audit_close(a);
  wd_store_close(s);
  if (rc) return rc;
  rc = sqlite3_open(path, &db);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(db, "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;", NULL, NULL,
                      NULL);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  sqlite3_close(db);
  return rc;
}

static int collect(void *ctx, const char *line, size_t len) {
  (void)line;
  *(size_t *)ctx += len;
  return 0;
}

/* What each reader makes of one planted row. */
static int check_readers(const char *path, int64_t seq, int64_t bad_seq, const char *reason) {
  wd_store *s = NULL;
  wd_audit *a = NULL;
  wd_audit_report rep;
  wd_audit_records recs = {0};
  size_t bytes = 0;
  int fails = 0, rc;
  if ((rc = wd_audit_verify_file(path, &rep)) != -WD_E_VALIDATE || rep.bad_seq != bad_seq ||
      !strstr(rep.reason, reason)) {
    print_error("verify: rc %d, bad_seq %lld, reason \"%s\"\n", rc, (long long)rep.bad_seq,
                rep.reason);
    fails++;
  }
  if (wd_store_open(path, 0, &s) != 0) return fails + 1;
  if ((rc = wd_audit_trace(s, "t1", &recs)) != -WD_E_VALIDATE || recs.outside != seq ||
      recs.n != 0) {
    print_error("trace: rc %d, outside %lld, %zu records\n", rc, (long long)recs.outside, recs.n);
    fails++;
  }
  wd_audit_records_free(&recs);
  for (int64_t from = 0; from <= 1; from++)
    if ((rc = wd_audit_export_from(s, NULL, from, collect, &bytes)) != -WD_E_VALIDATE) {
      print_error("export from %lld: rc %d\n", (long long)from, rc);
      fails++;
    }
  /* Numbering on from a tail past 2^53 would write records no verifier
   * takes; a log with rows below 1 still has its own tail. */
  if (wd_audit_open(s, &a) != 0) {
    fails++;
  } else {
    rc = wd_audit_append(a, WD_AUDIT_ADMIN_ACTION, "admin", NULL, NULL, NULL);
    if (seq > 0 ? rc != -WD_E_STORE : rc != 0) {
      print_error("append after it: rc %d\n", rc);
      fails++;
    }
  }
  wd_audit_close(a);
  wd_store_close(s);
  return fails;
}

static void rows_outside_the_chain(void **state) {
  fixture *f = *state;
  static const struct {
    const char *name;
    int64_t seq, bad_seq;
    const char *reason;
  } rows[] = {
      {"seq 0", 0, 1, "seq 0 lies outside the chain"},
      {"a negative seq", -7, 1, "seq -7 lies outside the chain"},
      {"the lowest seq", INT64_MIN, 1, "seq -9223372036854775808 lies outside"},
      {"a seq past 2^53", WD_AUDIT_SEQ_MAX + 1, RECORDS + 1,
       "seq 9007199254740993 lies outside the chain (past 2^53)"},
      {"the highest seq", INT64_MAX, RECORDS + 1, "seq 9223372036854775807 lies outside"},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char sql[256];
    /* A copy of record 1, so that its fields are all well formed. */
    snprintf(sql, sizeof sql,
             "INSERT INTO audit SELECT %lld, time, type, actor, task, payload, prev_hash, hash "
             "FROM audit WHERE seq = 1",
             (long long)rows[i].seq);
    if (make_log(f->path, sql) != 0) {
      print_error("%s: tampering failed\n", rows[i].name);
      fails++;
      continue;
    }
    int n = check_readers(f->path, rows[i].seq, rows[i].bad_seq, rows[i].reason);
    if (n) print_error("%s: %d reader(s) took the row\n", rows[i].name, n);
    fails += n;
  }
  assert_int_equal(fails, 0);
}

/* A row outside the chain of another task leaves a trace alone; an export
 * from a later record does not reach one below 1. */
static void other_readers_unaffected(void **state) {
  fixture *f = *state;
  wd_store *s = NULL;
  wd_audit_records recs = {0};
  size_t bytes = 0;
  assert_int_equal(make_log(f->path, "INSERT INTO audit SELECT -1, time, type, actor, 't2', "
                                     "payload, prev_hash, hash FROM audit WHERE seq = 1"),
                   0);
  assert_int_equal(wd_store_open(f->path, WD_STORE_READONLY, &s), 0);
  assert_int_equal(wd_audit_trace(s, "t1", &recs), 0);
  assert_int_equal(recs.n, RECORDS);
  wd_audit_records_free(&recs);
  assert_int_equal(wd_audit_trace(s, "t2", &recs), -WD_E_VALIDATE);
  assert_int_equal(recs.outside, -1);
  assert_int_equal(wd_audit_export_from(s, NULL, 2, collect, &bytes), 0);
  assert_true(bytes > 0);
  wd_store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(rows_outside_the_chain, setup, teardown),
      cmocka_unit_test_setup_teardown(other_readers_unaffected, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

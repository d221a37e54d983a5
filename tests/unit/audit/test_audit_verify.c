/* SPDX-License-Identifier: Apache-2.0
 *
 * Tamper tests of the chain verifier. The test plays the attacker with
 * direct SQL on the database file (it drops the append-only triggers
 * first), which is why it, unlike any module under src/, includes
 * sqlite3.h. Each row of the table tampers with a fresh 10-record log and
 * names the seq the verifier must report. The JSON-lines verifier gets
 * the same treatment on an export.
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

#define RECORDS 10

typedef struct fixture {
  char dir[64];
  char path[128];
} fixture;

static void remove_db(const char *path) {
  static const char *const suffix[] = {"", "-wal", "-shm"};
  char p[160];
  for (size_t i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s%s", path, suffix[i]);
    unlink(p);
  }
}

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/wd_verify_XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  snprintf(f->path, sizeof f->path, "%s/warden.db", f->dir);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  remove_db(f->path);
  rmdir(f->dir);
  free(f);
  return 0;
}

/* A fresh log of RECORDS records; tasks alternate so traces have gaps. */
static int make_log(const char *path) {
  wd_store *s = NULL;
  wd_audit *a = NULL;
  char payload[64];
  int rc;
  remove_db(path);
  if ((rc = wd_store_open(path, 0, &s)) || (rc = wd_audit_open(s, &a))) goto out;
  for (int i = 1; i <= RECORDS && rc == 0; i++) {
    snprintf(payload, sizeof payload, "{\"n\":%d,\"note\":\"record %d\"}", i, i);
    rc = wd_audit_append(a, WD_AUDIT_AUTHZ_DECISION, "agent:a", i % 2 ? "t1" : "t2", payload, NULL);
  }
out:
  wd_audit_close(a);
  wd_store_close(s);
  return rc;
}

static int tamper(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  int rc = sqlite3_open(path, &db);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(db,
                      "DROP TRIGGER IF EXISTS audit_no_update;"
                      "DROP TRIGGER IF EXISTS audit_no_delete;",
                      NULL, NULL, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
  sqlite3_close(db);
  return rc;
}

static void untouched_log_verifies(void **state) {
  fixture *f = *state;
  wd_audit_report rep;
  assert_int_equal(make_log(f->path), 0);
  assert_int_equal(wd_audit_verify_file(f->path, &rep), 0);
  assert_int_equal(rep.records, RECORDS);
  assert_int_equal(rep.bad_seq, 0);
  assert_string_equal(rep.reason, "");
}

/* The start's check: only the newest records, each against its own hash
 * and the one before; an edit further back is the full verify's. */
static void tail_check_sees_the_newest_records(void **state) {
  fixture *f = *state;
  wd_audit_report rep;
  wd_store *s = NULL;
  assert_int_equal(make_log(f->path), 0);
  assert_int_equal(tamper(f->path, "UPDATE audit SET actor='admin' WHERE seq=2"), SQLITE_OK);
  assert_int_equal(wd_store_open(f->path, WD_STORE_READONLY, &s), 0);
  assert_int_equal(wd_audit_verify_tail(s, 4, &rep), 0);
  assert_int_equal(rep.records, 4);
  assert_int_equal(rep.first_seq, RECORDS - 3);
  assert_int_equal(rep.last_seq, RECORDS);
  assert_int_equal(wd_audit_verify_tail(s, RECORDS, &rep), -WD_E_VALIDATE);
  assert_int_equal(rep.bad_seq, 2);
  assert_int_equal(wd_audit_verify_tail(s, 0, &rep), -WD_E_INVAL);
  wd_store_close(s);

  assert_int_equal(tamper(f->path, "UPDATE audit SET payload='{\"n\":0}' WHERE seq=10"), SQLITE_OK);
  assert_int_equal(wd_store_open(f->path, WD_STORE_READONLY, &s), 0);
  assert_int_equal(wd_audit_verify_tail(s, 1, &rep), -WD_E_VALIDATE);
  assert_int_equal(rep.bad_seq, RECORDS);
  assert_non_null(strstr(rep.reason, "hash does not match"));
  wd_store_close(s);

  assert_int_equal(tamper(f->path, "INSERT INTO audit SELECT 9007199254740993, time, type, actor,"
                                   " task, payload, prev_hash, hash FROM audit WHERE seq=1"),
                   SQLITE_OK);
  assert_int_equal(wd_store_open(f->path, WD_STORE_READONLY, &s), 0);
  assert_int_equal(wd_audit_verify_tail(s, 4, &rep), -WD_E_VALIDATE);
  assert_non_null(strstr(rep.reason, "outside the chain (past 2^53)"));
  wd_store_close(s);

  remove_db(f->path);
  assert_int_equal(wd_store_open(f->path, 0, &s), 0);
  assert_int_equal(wd_audit_verify_tail(s, 4, &rep), 0); /* an empty log */
  assert_int_equal(rep.records, 0);
  wd_store_close(s);
}

static void triggers_refuse_edits(void **state) {
  fixture *f = *state;
  sqlite3 *db = NULL;
  assert_int_equal(make_log(f->path), 0);
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_not_equal(sqlite3_exec(db, "UPDATE audit SET actor='x' WHERE seq=3", NULL, NULL, NULL),
                       SQLITE_OK);
  assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit WHERE seq=3", NULL, NULL, NULL),
                       SQLITE_OK);
  sqlite3_close(db);
}

static void tampering_is_found(void **state) {
  fixture *f = *state;
  static const struct {
    const char *name, *sql;
    int64_t bad_seq;
    const char *reason; /* a substring of the report */
  } rows[] = {
      {"payload edited", "UPDATE audit SET payload='{\"n\":4,\"note\":\"forged\"}' WHERE seq=4", 4,
       "hash does not match"},
      {"payload made non-canonical", "UPDATE audit SET payload='{ \"n\":4}' WHERE seq=4", 4,
       "not canonical"},
      {"hash edited",
       "UPDATE audit SET hash=replace(hash, substr(hash,1,1), "
       "CASE substr(hash,1,1) WHEN 'a' THEN 'b' ELSE 'a' END) WHERE seq=6",
       6, "hash does not match"},
      {"prev_hash edited",
       "UPDATE audit SET prev_hash=(SELECT hash FROM audit WHERE seq=1) "
       "WHERE seq=7",
       7, "prev_hash"},
      {"actor edited", "UPDATE audit SET actor='admin' WHERE seq=2", 2, "hash does not match"},
      {"task edited", "UPDATE audit SET task=NULL WHERE seq=9", 9, "hash does not match"},
      {"type edited", "UPDATE audit SET type='admin.action' WHERE seq=1", 1, "hash"},
      {"time edited", "UPDATE audit SET time='2000-01-01T00:00:00.000Z' WHERE seq=8", 8, "hash"},
      {"row deleted", "DELETE FROM audit WHERE seq=5", 5, "missing"},
      {"first row deleted", "DELETE FROM audit WHERE seq=1", 1, "missing"},
      {"rows reordered",
       "UPDATE audit SET seq=-3 WHERE seq=3; UPDATE audit SET seq=3 WHERE seq=7;"
       "UPDATE audit SET seq=7 WHERE seq=-3;",
       3, ""},
      {"row appended out of chain",
       "INSERT INTO audit SELECT 11, time, type, actor, task, payload, prev_hash, hash "
       "FROM audit WHERE seq=10",
       11, "prev_hash"},
      {"row planted below record 1",
       "INSERT INTO audit SELECT -2, time, type, actor, task, payload, prev_hash, hash "
       "FROM audit WHERE seq=1",
       1, "seq -2 lies outside the chain"},
      {"row planted past 2^53",
       "INSERT INTO audit SELECT 9007199254740993, time, type, actor, task, payload, prev_hash, "
       "hash FROM audit WHERE seq=10",
       11, "seq 9007199254740993 lies outside the chain"},
      {"payload emptied", "UPDATE audit SET payload='' WHERE seq=3", 3, "not canonical"},
      {"unknown type", "UPDATE audit SET type='evil' WHERE seq=3", 3, "unknown record type"},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    wd_audit_report rep;
    int rc;
    assert_int_equal(make_log(f->path), 0);
    if (tamper(f->path, rows[i].sql) != SQLITE_OK) {
      print_error("%s: tampering SQL failed\n", rows[i].name);
      fails++;
      continue;
    }
    rc = wd_audit_verify_file(f->path, &rep);
    if (rc != -WD_E_VALIDATE || rep.bad_seq != rows[i].bad_seq ||
        !strstr(rep.reason, rows[i].reason)) {
      print_error("%s: rc %d, bad_seq %lld (want %lld), reason \"%s\"\n", rows[i].name, rc,
                  (long long)rep.bad_seq, (long long)rows[i].bad_seq, rep.reason);
      fails++;
    }
  }
  assert_int_equal(fails, 0);
}

static int collect(void *ctx, const char *line, size_t len) { return wd_buf_add(ctx, line, len); }

/* Appends a NUL byte and more text to one column of record seq, bound
 * with its length as a tamperer's own program would write it. */
static int tamper_nul(const char *path, const char *col, int seq) {
  static const char tail[] = "\0{\"hidden\":1}";
  char sql[128];
  sqlite3 *db = NULL;
  sqlite3_stmt *q = NULL;
  snprintf(sql, sizeof sql, "UPDATE audit SET %s = %s || ?1 WHERE seq = ?2", col, col);
  int rc = tamper(path, "SELECT 1");
  if (rc == SQLITE_OK) rc = sqlite3_open(path, &db);
  if (rc == SQLITE_OK) rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_bind_text(q, 1, tail, (int)sizeof tail - 1, SQLITE_STATIC);
  if (rc == SQLITE_OK) rc = sqlite3_bind_int(q, 2, seq);
  if (rc == SQLITE_OK) rc = sqlite3_step(q) == SQLITE_DONE && sqlite3_changes(db) == 1 ? 0 : 1;
  sqlite3_finalize(q);
  sqlite3_close(db);
  return rc;
}

/* Text stored past a NUL byte is not cut off unseen: the record is
 * broken, whichever text column holds it, and the export refuses it
 * rather than write a shortened record that verifies. */
static void nul_in_a_column_is_found(void **state) {
  fixture *f = *state;
  static const char *const cols[] = {"payload", "actor",     "task", "time",
                                     "type",    "prev_hash", "hash"};
  int fails = 0;
  for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
    wd_audit_report rep;
    char want[64];
    assert_int_equal(make_log(f->path), 0);
    assert_int_equal(tamper_nul(f->path, cols[i], 5), 0);
    int rc = wd_audit_verify_file(f->path, &rep);
    snprintf(want, sizeof want, "%s holds a NUL byte", cols[i]);
    if (rc != -WD_E_VALIDATE || rep.bad_seq != 5 || !strstr(rep.reason, want)) {
      print_error("%s: rc %d, bad_seq %lld, reason \"%s\"\n", cols[i], rc, (long long)rep.bad_seq,
                  rep.reason);
      fails++;
    }
    wd_store *s = NULL;
    wd_buf out;
    wd_buf_init(&out, 1u << 20);
    assert_int_equal(wd_store_open(f->path, WD_STORE_READONLY, &s), 0);
    if (wd_audit_export(s, NULL, collect, &out) != -WD_E_INVAL) {
      print_error("%s: the export went through\n", cols[i]);
      fails++;
    }
    wd_store_close(s);
    wd_buf_free(&out);
  }
  assert_int_equal(fails, 0);
}

/* Replaces the first occurrence of from by to in s (owned result). */
static char *replace(const char *s, const char *from, const char *to) {
  const char *p = strstr(s, from);
  size_t n;
  char *out;
  if (!p) return NULL;
  n = strlen(s) - strlen(from) + strlen(to);
  out = malloc(n + 1);
  if (!out) return NULL;
  memcpy(out, s, (size_t)(p - s));
  memcpy(out + (p - s), to, strlen(to));
  memcpy(out + (p - s) + strlen(to), p + strlen(from), strlen(p + strlen(from)) + 1);
  return out;
}

static void jsonl_tampering_is_found(void **state) {
  fixture *f = *state;
  wd_store *s = NULL;
  wd_buf out;
  wd_audit_report rep;
  static const struct {
    const char *from, *to;
    int64_t bad_seq;
  } rows[] = {
      {"\"note\":\"record 4\"", "\"note\":\"record 44\"", 4},
      {"\"seq\":6", "\"seq\":60", 6},
      {"{\"actor\":\"agent:a\"", "{\"actor\":\"agent:b\"", 1},
      {"\"note\":\"record 3\"", "\"note\":\"record 3\",\"extra\":true", 3},
      {"\"seq\":2,", "\"seq\":2,\"seq\":2,", 2},
      {"\"task\":\"t1\"", "\"task\":1", 1},
      /* the same record, not in the form export writes */
      {"\"note\":\"record 4\"", "\"note\":\"record \\u0034\"", 4},
      {"{\"n\":5,\"note\":\"record 5\"}", "{\"note\":\"record 5\",\"n\":5}", 5},
      {"\"seq\":3,", "\"seq\": 3,", 3},
      {"\n", "\r\n", 1},
      /* a seq no log reaches, which counting on from would overflow:
       * reported where record 1 should have been */
      {"\"seq\":1,", "\"seq\":9223372036854775807,", 1},
  };
  int fails = 0;
  assert_int_equal(make_log(f->path), 0);
  assert_int_equal(wd_store_open(f->path, WD_STORE_READONLY, &s), 0);
  wd_buf_init(&out, 1u << 20);
  assert_int_equal(wd_audit_export(s, NULL, collect, &out), 0);
  wd_store_close(s);
  assert_int_equal(wd_audit_verify_jsonl(wd_buf_str(&out), wd_buf_len(&out), &rep), 0);
  assert_int_equal(rep.records, RECORDS);
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    char *t = replace(wd_buf_str(&out), rows[i].from, rows[i].to);
    int rc = t ? wd_audit_verify_jsonl(t, strlen(t), &rep) : -1;
    if (rc != -WD_E_VALIDATE || rep.bad_seq != rows[i].bad_seq) {
      print_error("row %zu: rc %d bad_seq %lld (want %lld) %s\n", i, rc, (long long)rep.bad_seq,
                  (long long)rows[i].bad_seq, rep.reason);
      fails++;
    }
    free(t);
  }
  /* a line with its keys reordered, or ending in CR LF, holds the same
   * record but is not the line export wrote */
  {
    const char *txt = wd_buf_str(&out);
    const char *l5 = txt;
    for (int i = 0; i < 4; i++)
      l5 = strchr(l5, '\n') + 1;
    const char *e5 = strchr(l5, '\n');
    static const char actor[] = "{\"actor\":\"agent:a\",";
    assert_memory_equal(l5, actor, strlen(actor));
    wd_buf t, crlf;
    wd_buf_init(&t, 1u << 20);
    wd_buf_init(&crlf, 1u << 20);
    assert_int_equal(wd_buf_add(&t, txt, (size_t)(l5 - txt)), 0);
    assert_int_equal(wd_buf_addc(&t, '{'), 0);
    assert_int_equal(wd_buf_add(&t, l5 + strlen(actor), (size_t)(e5 - l5) - strlen(actor) - 1), 0);
    assert_int_equal(wd_buf_adds(&t, ",\"actor\":\"agent:a\"}"), 0);
    assert_int_equal(wd_buf_adds(&t, e5), 0);
    assert_int_equal(wd_audit_verify_jsonl(wd_buf_str(&t), wd_buf_len(&t), &rep), -WD_E_VALIDATE);
    assert_int_equal(rep.bad_seq, 5);
    assert_non_null(strstr(rep.reason, "not in canonical form"));
    for (const char *p = txt; *p; p++)
      assert_int_equal(*p == '\n' ? wd_buf_adds(&crlf, "\r\n") : wd_buf_addc(&crlf, *p), 0);
    assert_int_equal(wd_audit_verify_jsonl(wd_buf_str(&crlf), wd_buf_len(&crlf), &rep),
                     -WD_E_VALIDATE);
    assert_int_equal(rep.bad_seq, 1);
    assert_non_null(strstr(rep.reason, "not in canonical form"));
    assert_int_equal(
        wd_audit_verify_jsonl_from(wd_buf_str(&crlf), wd_buf_len(&crlf), NULL, 0, &rep),
        -WD_E_VALIDATE);
    assert_int_equal(rep.bad_seq, 1);
    wd_buf_free(&t);
    wd_buf_free(&crlf);
  }
  /* dropping a line is a missing record */
  {
    const char *txt = wd_buf_str(&out);
    const char *l2 = strchr(txt, '\n') + 1;
    const char *l3 = strchr(l2, '\n') + 1;
    char *t = malloc(strlen(txt) + 1);
    assert_non_null(t);
    memcpy(t, txt, (size_t)(l2 - txt));
    memcpy(t + (l2 - txt), l3, strlen(l3) + 1);
    assert_int_equal(wd_audit_verify_jsonl(t, strlen(t), &rep), -WD_E_VALIDATE);
    assert_int_equal(rep.bad_seq, 2);
    free(t);
  }
  wd_buf_free(&out);
  assert_int_equal(fails, 0);
}

/* A piece of the log exported from a record on verifies on its own (its
 * first link taken as given and reported), against the last hash of the
 * piece before it, and not against any other anchor; the whole export's
 * last hash is the last record's. */
static void segments_chain_to_their_anchor(void **state) {
  fixture *f = *state;
  wd_store *s = NULL;
  wd_buf all, head, tail;
  wd_audit_report rep, first;
  assert_int_equal(make_log(f->path), 0);
  assert_int_equal(wd_store_open(f->path, WD_STORE_READONLY, &s), 0);
  wd_buf_init(&all, 1u << 20);
  wd_buf_init(&tail, 1u << 20);
  assert_int_equal(wd_audit_export(s, NULL, collect, &all), 0);
  assert_int_equal(wd_audit_export_from(s, NULL, 5, collect, &tail), 0);
  assert_int_equal(wd_audit_export_from(s, NULL, -1, collect, &tail), -WD_E_INVAL);
  wd_store_close(s);

  /* The first four lines, and the hash they end on. */
  const char *p = wd_buf_str(&all);
  for (int i = 0; i < 4; i++)
    p = strchr(p, '\n') + 1;
  wd_buf_init(&head, 1u << 20);
  assert_int_equal(wd_buf_add(&head, wd_buf_str(&all), (size_t)(p - wd_buf_str(&all))), 0);
  assert_int_equal(
      wd_audit_verify_jsonl_from(wd_buf_str(&head), wd_buf_len(&head), NULL, 0, &first), 0);
  assert_int_equal(first.first_seq, 1);
  assert_int_equal(first.records, 4);
  assert_string_equal(first.anchor, WD_AUDIT_GENESIS);
  assert_string_equal(p, wd_buf_str(&tail)); /* export --from 5 = lines 5 on */

  assert_int_equal(wd_audit_verify_jsonl(wd_buf_str(&tail), wd_buf_len(&tail), &rep),
                   -WD_E_VALIDATE);
  assert_int_equal(rep.bad_seq, 1); /* a whole log must start at 1 */
  assert_int_equal(wd_audit_verify_jsonl_from(wd_buf_str(&tail), wd_buf_len(&tail), NULL, 0, &rep),
                   0);
  assert_int_equal(rep.first_seq, 5);
  assert_int_equal(rep.records, RECORDS - 4);
  assert_string_equal(rep.anchor, first.last_hash);
  assert_int_equal(
      wd_audit_verify_jsonl_from(wd_buf_str(&tail), wd_buf_len(&tail), first.last_hash, 0, &rep),
      0);
  wd_audit_report whole;
  assert_int_equal(wd_audit_verify_jsonl(wd_buf_str(&all), wd_buf_len(&all), &whole), 0);
  assert_string_equal(rep.last_hash, whole.last_hash);
  char wrong[65];
  memcpy(wrong, first.last_hash, 65);
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  assert_int_equal(wd_audit_verify_jsonl_from(wd_buf_str(&tail), wd_buf_len(&tail), wrong, 0, &rep),
                   -WD_E_VALIDATE);
  assert_int_equal(rep.bad_seq, 5);
  assert_int_equal(wd_audit_verify_jsonl_from(wd_buf_str(&tail), wd_buf_len(&tail), "xyz", 0, &rep),
                   -WD_E_INVAL);
  /* Record 1 follows genesis: an anchor, even genesis itself, is refused
   * for a piece that starts there, and an empty piece checks nothing. */
  const char *const anchors[] = {first.last_hash, WD_AUDIT_GENESIS};
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(
        wd_audit_verify_jsonl_from(wd_buf_str(&head), wd_buf_len(&head), anchors[i], 0, &rep),
        -WD_E_INVAL);
    assert_non_null(strstr(rep.reason, "record 1 starts the log"));
    assert_int_equal(rep.records, 0);
  }
  assert_int_equal(wd_audit_verify_jsonl_from("", 0, first.last_hash, 0, &rep), 0);
  assert_int_equal(rep.records, 0);
  assert_int_equal(rep.last_seq, 0);
  wd_buf_free(&all);
  wd_buf_free(&head);
  wd_buf_free(&tail);
}

/* An anchor given with its seq pins where the next piece starts: right
 * after it, neither earlier (a log cut back and grown again) nor later
 * (records lost between pieces), and an empty piece says which record
 * nothing followed. */
static void anchor_seq_pins_the_start(void **state) {
  fixture *f = *state;
  wd_store *s = NULL;
  wd_buf all, from5, from6;
  wd_audit_report first, rep;
  assert_int_equal(make_log(f->path), 0);
  assert_int_equal(wd_store_open(f->path, WD_STORE_READONLY, &s), 0);
  wd_buf_init(&all, 1u << 20);
  wd_buf_init(&from5, 1u << 20);
  wd_buf_init(&from6, 1u << 20);
  assert_int_equal(wd_audit_export(s, NULL, collect, &all), 0);
  assert_int_equal(wd_audit_export_from(s, NULL, 5, collect, &from5), 0);
  assert_int_equal(wd_audit_export_from(s, NULL, 6, collect, &from6), 0);
  wd_store_close(s);
  /* Records 1 to 4: the piece before, and the anchor it ends on. */
  size_t head = wd_buf_len(&all) - wd_buf_len(&from5);
  assert_int_equal(wd_audit_verify_jsonl_from(wd_buf_str(&all), head, NULL, 0, &first), 0);
  assert_int_equal(first.last_seq, 4);
  const char *h = first.last_hash;
  static const struct {
    int piece; /* 0: records 1 on, 5: from 5, 6: from 6, -1: empty */
    int64_t anchor_seq;
    int rc;
    int64_t bad_seq, first_seq;
    const char *reason;
  } rows[] = {
      {5, 4, 0, 0, 5, ""},
      {5, 3, -WD_E_VALIDATE, 4, 5,
       "record 4 is missing: the piece starts at record 5, but its "
       "anchor is record 3"},
      {6, 4, -WD_E_VALIDATE, 5, 6, "record 5 is missing"},
      {5, 5, -WD_E_VALIDATE, 5, 5, "starts at record 5, but its anchor is record 5"},
      {0, 4, -WD_E_VALIDATE, 1, 1, "starts at record 1, but its anchor is record 4"},
      {-1, 4, 0, 0, 0, ""},
      {5, -1, -WD_E_INVAL, 0, 0, ""},
      {5, WD_AUDIT_SEQ_MAX + 1, -WD_E_INVAL, 0, 0, ""},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const wd_buf *b = rows[i].piece == 5 ? &from5 : rows[i].piece == 6 ? &from6 : &all;
    size_t len = rows[i].piece < 0 ? 0 : wd_buf_len(b);
    int rc = wd_audit_verify_jsonl_from(wd_buf_str(b), len, h, rows[i].anchor_seq, &rep);
    if (rc != rows[i].rc ||
        (rc != -WD_E_INVAL &&
         (rep.bad_seq != rows[i].bad_seq || rep.first_seq != rows[i].first_seq ||
          !strstr(rep.reason, rows[i].reason) ||
          (rc == 0 && rep.anchor_seq != rows[i].anchor_seq)))) {
      print_error("row %zu: rc %d, bad_seq %lld, first_seq %lld, anchor_seq %lld, \"%s\"\n", i, rc,
                  (long long)rep.bad_seq, (long long)rep.first_seq, (long long)rep.anchor_seq,
                  rep.reason);
      fails++;
    }
  }
  /* A seq needs the hash it names. */
  assert_int_equal(wd_audit_verify_jsonl_from("", 0, NULL, 4, &rep), -WD_E_INVAL);
  wd_buf_free(&all);
  wd_buf_free(&from5);
  wd_buf_free(&from6);
  assert_int_equal(fails, 0);
}

/* The seed corpus holds a log written by an independent encoder (Python,
 * following docs/internals/audit.md only): it must verify, and its
 * tampered variants must not. */
static char *slurp(const char *name, size_t *len) {
  char path[512];
  FILE *fp;
  char *buf;
  long n;
  snprintf(path, sizeof path, "%s/../fuzz/corpus/fuzz_audit_verify/%s", WD_TEST_DATA, name);
  fp = fopen(path, "rb");
  if (!fp) return NULL;
  fseek(fp, 0, SEEK_END);
  n = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(fp);
  *len = (size_t)n;
  return buf;
}

static void independent_encoder_agrees(void **state) {
  static const struct {
    const char *file;
    int rc;
    int64_t records, bad_seq;
  } rows[] = {
      {"valid_5", 0, 5, 0},
      {"valid_1_no_newline", 0, 1, 0},
      {"blank_lines", 0, 2, 0},
      {"tampered_payload", -WD_E_VALIDATE, 0, 1},
      {"missing_line", -WD_E_VALIDATE, 2, 3},
      {"swapped", -WD_E_VALIDATE, 0, 1},
  };
  int fails = 0;
  (void)state;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    size_t len = 0;
    char *text = slurp(rows[i].file, &len);
    wd_audit_report rep = {0};
    int rc = text ? wd_audit_verify_jsonl(text, len, &rep) : -1;
    if (rc != rows[i].rc || rep.records != rows[i].records || rep.bad_seq != rows[i].bad_seq) {
      print_error("%s: rc %d records %lld bad_seq %lld (%s)\n", rows[i].file, rc,
                  (long long)rep.records, (long long)rep.bad_seq, rep.reason);
      fails++;
    }
    free(text);
  }
  assert_int_equal(fails, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(untouched_log_verifies, setup, teardown),
      cmocka_unit_test_setup_teardown(tail_check_sees_the_newest_records, setup, teardown),
      cmocka_unit_test_setup_teardown(triggers_refuse_edits, setup, teardown),
      cmocka_unit_test_setup_teardown(tampering_is_found, setup, teardown),
      cmocka_unit_test_setup_teardown(nul_in_a_column_is_found, setup, teardown),
      cmocka_unit_test_setup_teardown(jsonl_tampering_is_found, setup, teardown),
      cmocka_unit_test_setup_teardown(segments_chain_to_their_anchor, setup, teardown),
      cmocka_unit_test_setup_teardown(anchor_seq_pins_the_start, setup, teardown),
      cmocka_unit_test(independent_encoder_agrees),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

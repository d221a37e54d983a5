/* SPDX-License-Identifier: Apache-2.0
 *
 * SQLite backend: policy-set versions, settings, and the rows of the
 * evidence log. The chain (hashes, canonical encoding, group commit) is
 * src/audit's business; this file only stores and scans rows, and refuses
 * an append that does not continue the current tail.
 */
#include <string.h>

#include "store/store_sqlite_int.h"
#include "util/wd_alloc.h"

#define BIND64(q, i, v) wd_store__sq_err(sqlite3_bind_int64((q), (i), (v)))

/* ---- policy versions -------------------------------------------------------- */

int wd_store__sq_policy_add(wd_store *st, const char *text, size_t len, int64_t now_ms,
                            int64_t *version) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if ((rc = wd_store__sq_begin(c))) goto out;
  if ((rc = wd_store__sq_stmt(c, SQ_POLICY_INSERT, &q)) ||
      (rc = wd_store__sq_err(sqlite3_bind_text(q, 1, text, (int)len, SQLITE_STATIC))) ||
      (rc = BIND64(q, 2, now_ms)))
    goto end;
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    *version = sqlite3_column_int64(q, 0);
    rc = sqlite3_step(q);
  }
  rc = rc == SQLITE_DONE ? 0 : wd_store__sq_err(sqlite3_extended_errcode(c->db));
  sqlite3_reset(q);
end:
  rc = wd_store__sq_end(c, rc);
out:
  wd_store__sq_release(s, c);
  return rc;
}

/* Inside a transaction. Clear first, then set: the partial unique index
 * allows one active row at any moment, and readers see the old or the
 * new version, never none. */
static int policy_activate_in(sq_conn *c, int64_t version) {
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_simple(c, SQ_POLICY_CLEAR)) ||
      (rc = wd_store__sq_stmt(c, SQ_POLICY_SET, &q)) || (rc = BIND64(q, 1, version)) ||
      (rc = wd_store__sq_exec(c, SQ_POLICY_SET, q)))
    return rc;
  return sqlite3_changes(c->db) == 1 ? 0 : -WD_E_NOTFOUND;
}

int wd_store__sq_policy_activate(wd_store *st, int64_t version) {
  wd_store_fx fx = {.kind = WD_STORE_FX_POLICY, .version = version};
  return wd_store__sq_fx_alone(st, &fx);
}

int wd_store__sq_policy_fx(sq_conn *c, const wd_store_fx *fx) {
  return policy_activate_in(c, fx->version);
}

int wd_store__sq_policy_get(wd_store *st, int64_t version, wd_policy_version *out) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  rc = wd_store__sq_stmt(c, version ? SQ_POLICY_GET : SQ_POLICY_ACTIVE, &q);
  if (rc == 0 && version) rc = BIND64(q, 1, version);
  if (rc) goto out;
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    out->version = sqlite3_column_int64(q, 0);
    out->active = sqlite3_column_int(q, 2);
    out->created_ms = sqlite3_column_int64(q, 3);
    rc = wd_store__sq_col_dup(q, 1, &out->text);
    if (rc == 0 && !out->text) rc = -WD_E_STORE;
  } else {
    rc = rc == SQLITE_DONE ? -WD_E_NOTFOUND : wd_store__sq_err(sqlite3_extended_errcode(c->db));
  }
  sqlite3_reset(q);
out:
  wd_store__sq_release(s, c);
  if (rc) wd_store_policy_free(out);
  return rc;
}

/* ---- settings --------------------------------------------------------------- */

int wd_store__sq_setting_fx(sq_conn *c, const wd_store_fx *fx) {
  sq_stmt_id id = fx->only_if_absent ? SQ_SETTING_INSERT : SQ_SETTING_UPSERT;
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_stmt(c, id, &q)) || (rc = wd_store__sq_bind_text(q, 1, fx->key)) ||
      (rc = wd_store__sq_bind_text(q, 2, fx->value)))
    return rc;
  return wd_store__sq_exec(c, id, q);
}

int wd_store__sq_setting_put(wd_store *st, const char *key, const char *value, int only_if_absent) {
  wd_store_fx fx = {
      .kind = WD_STORE_FX_SETTING, .key = key, .value = value, .only_if_absent = only_if_absent};
  return wd_store__sq_fx_alone(st, &fx);
}

int wd_store__sq_setting_get(wd_store *st, const char *key, char **value) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if ((rc = wd_store__sq_stmt(c, SQ_SETTING_GET, &q)) || (rc = wd_store__sq_bind_text(q, 1, key)))
    goto out;
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW)
    rc = wd_store__sq_col_dup(q, 0, value);
  else
    rc = rc == SQLITE_DONE ? -WD_E_NOTFOUND : wd_store__sq_err(sqlite3_extended_errcode(c->db));
  sqlite3_reset(q);
out:
  wd_store__sq_release(s, c);
  return rc;
}

/* ---- evidence-log rows ------------------------------------------------------ */

static int read_tail(sq_conn *c, int64_t *seq, char *hash) {
  sqlite3_stmt *q = NULL;
  int rc = wd_store__sq_stmt(c, SQ_AUDIT_TAIL, &q);
  if (rc) return rc;
  *seq = 0;
  hash[0] = '\0';
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    const char *h = (const char *)sqlite3_column_text(q, 1);
    size_t n = (size_t)sqlite3_column_bytes(q, 1);
    *seq = sqlite3_column_int64(q, 0);
    if (h && n <= 64) {
      memcpy(hash, h, n);
      hash[n] = '\0';
    }
    rc = 0;
  } else {
    rc = rc == SQLITE_DONE ? 0 : wd_store__sq_err(sqlite3_extended_errcode(c->db));
  }
  sqlite3_reset(q);
  return rc;
}

int wd_store__sq_audit_tail(wd_store *st, int64_t *seq, char *hash) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  rc = read_tail(c, seq, hash);
  wd_store__sq_release(s, c);
  return rc;
}

typedef struct audit_job {
  const wd_audit_row *rows;
  size_t n;
  const wd_store_fx *fx;
  size_t nfx;
  size_t bad_fx; /* the effect that failed; nfx when none did */
} audit_job;

static int audit_append_job(sq_conn *c, void *arg) {
  audit_job *j = arg;
  const wd_audit_row *rows = j->rows;
  sqlite3_stmt *q = NULL;
  int64_t tail;
  char tail_hash[65];
  int rc;
  /* Under the write lock: the batch must continue the chain as stored,
   * whoever else (another process) appended meanwhile. */
  if ((rc = read_tail(c, &tail, tail_hash))) return rc;
  if (rows[0].seq != tail + 1 || (tail > 0 && strcmp(rows[0].prev_hash, tail_hash) != 0))
    return -WD_E_EXISTS;
  for (size_t i = 0; i < j->n; i++) {
    const wd_audit_row *r = &rows[i];
    if ((rc = wd_store__sq_stmt(c, SQ_AUDIT_INSERT, &q)) || (rc = BIND64(q, 1, r->seq)) ||
        (rc = wd_store__sq_bind_text(q, 2, r->time)) ||
        (rc = wd_store__sq_bind_text(q, 3, r->type)) ||
        (rc = wd_store__sq_bind_text(q, 4, r->actor)) ||
        (rc = wd_store__sq_bind_text(q, 5, r->task)) ||
        (rc = wd_store__sq_bind_text(q, 6, r->payload)) ||
        (rc = wd_store__sq_bind_text(q, 7, r->prev_hash)) ||
        (rc = wd_store__sq_bind_text(q, 8, r->hash)) ||
        (rc = wd_store__sq_exec(c, SQ_AUDIT_INSERT, q)))
      return rc;
  }
  for (size_t i = 0; i < j->nfx; i++)
    if ((rc = wd_store__sq_apply_fx(c, &j->fx[i]))) {
      j->bad_fx = i;
      return rc;
    }
  return 0;
}

int wd_store__sq_audit_append(wd_store *st, const wd_audit_row *rows, size_t n,
                              const wd_store_fx *fx, size_t nfx, size_t *bad_fx) {
  audit_job j = {.rows = rows, .n = n, .fx = fx, .nfx = nfx, .bad_fx = nfx};
  /* Shares its durable commit (synchronous=FULL) with concurrent hot writes. */
  int rc = wd_store__sq_grouped((sq_store *)st, audit_append_job, &j);
  *bad_fx = rc ? j.bad_fx : nfx;
  return rc;
}

static const char *col_text(sqlite3_stmt *q, int col) {
  return (const char *)sqlite3_column_text(q, col);
}

/* The first text column of a scanned row whose stored bytes run past its
 * C string (an embedded NUL), by name; NULL when none does. Columns 1..7
 * in SQ_AUDIT_SCAN order; called after col_text so that the byte count
 * is the text's. */
static const char *audit_cut(sqlite3_stmt *q, const wd_audit_row *r) {
  static const char *const names[] = {"time",    "type",      "actor", "task",
                                      "payload", "prev_hash", "hash"};
  const char *const v[] = {r->time, r->type, r->actor, r->task, r->payload, r->prev_hash, r->hash};
  for (int i = 0; i < 7; i++)
    if (v[i] && (size_t)sqlite3_column_bytes(q, i + 1) != strlen(v[i])) return names[i];
  return NULL;
}

int wd_store__sq_audit_scan(wd_store *st, const char *task, int64_t from_seq, wd_audit_row_cb cb,
                            void *ctx) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if (task)
    rc = wd_store__sq_stmt(c, SQ_AUDIT_SCAN_TASK, &q);
  else
    rc = wd_store__sq_stmt(c, SQ_AUDIT_SCAN, &q);
  if (rc) goto out;
  if (task ? ((rc = wd_store__sq_bind_text(q, 1, task)) || (rc = BIND64(q, 2, from_seq)))
           : (rc = BIND64(q, 1, from_seq)) != 0)
    goto out;
  for (;;) {
    int src = sqlite3_step(q);
    if (src == SQLITE_DONE) break;
    if (src != SQLITE_ROW) {
      rc = wd_store__sq_err(sqlite3_extended_errcode(c->db));
      rc = rc ? rc : -WD_E_STORE;
      break;
    }
    /* Text columns come back as SQLite stores them; a NULL where the
     * schema says NOT NULL, or a NUL byte inside the text (r.cut), can
     * only be tampering, and the verifier says so. */
    wd_audit_row r = {
        .seq = sqlite3_column_int64(q, 0),
        .time = (char *)(uintptr_t)col_text(q, 1),
        .type = (char *)(uintptr_t)col_text(q, 2),
        .actor = (char *)(uintptr_t)col_text(q, 3),
        .task = (char *)(uintptr_t)col_text(q, 4),
        .payload = (char *)(uintptr_t)col_text(q, 5),
        .prev_hash = (char *)(uintptr_t)col_text(q, 6),
        .hash = (char *)(uintptr_t)col_text(q, 7),
    };
    r.cut = audit_cut(q, &r);
    if ((rc = cb(ctx, &r)) != 0) break;
  }
  sqlite3_reset(q);
out:
  wd_store__sq_release(s, c);
  return rc;
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * SQLite backend: retention. A plan counts the rows of a pass; its effect
 * removes them inside the transaction of the record that says so, and
 * refuses to remove anything else.
 */
#include "store/store_sqlite_int.h"

#define BIND64(q, i, v) wd_store__sq_err(sqlite3_bind_int64((q), (i), (v)))

int wd_store__sq_prune_plan(wd_store *st, int64_t before_ms, uint32_t max, wd_store_prune *out) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if ((rc = wd_store__sq_stmt(c, SQ_PRUNE_PLAN, &q)) || (rc = BIND64(q, 1, before_ms)) ||
      (rc = BIND64(q, 2, max)))
    goto out;
  rc = sqlite3_step(q);
  if (rc != SQLITE_ROW) {
    rc = rc == SQLITE_DONE ? -WD_E_STORE : wd_store__sq_err(sqlite3_extended_errcode(c->db));
    goto out;
  }
  out->tasks = (uint32_t)sqlite3_column_int64(q, 0);
  out->tokens = (uint32_t)sqlite3_column_int64(q, 1);
  out->session_rows = (uint32_t)sqlite3_column_int64(q, 2);
  out->join_tokens = (uint32_t)sqlite3_column_int64(q, 3);
  rc = 0;
out:
  wd_store__sq_release(s, c);
  return rc;
}

/* Runs one delete of the pass and checks that it removed want rows. */
static int remove_rows(sq_conn *c, sq_stmt_id id, int64_t before_ms, uint32_t limit,
                       uint32_t want) {
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_stmt(c, id, &q)) || (rc = BIND64(q, 1, before_ms)) ||
      (rc = BIND64(q, 2, limit)) || (rc = wd_store__sq_exec(c, id, q)))
    return rc;
  return sqlite3_changes(c->db) == (int)want ? 0 : -WD_E_STATE;
}

int wd_store__sq_prune_fx(sq_conn *c, const wd_store_fx *fx) {
  const wd_store_prune *p = &fx->prune;
  int rc = 0;
  /* Children first: tokens and session rows refer to their task. */
  if (p->tasks &&
      ((rc = remove_rows(c, SQ_PRUNE_TOKENS, p->before_ms, p->tasks, p->tokens)) ||
       (rc = remove_rows(c, SQ_PRUNE_SESSIONS, p->before_ms, p->tasks, p->session_rows)) ||
       (rc = remove_rows(c, SQ_PRUNE_TASKS, p->before_ms, p->tasks, p->tasks))))
    return rc;
  if (!p->tasks && (p->tokens || p->session_rows)) return -WD_E_STATE;
  if (p->join_tokens)
    rc = remove_rows(c, SQ_PRUNE_JOINS, p->before_ms, p->join_tokens, p->join_tokens);
  return rc;
}

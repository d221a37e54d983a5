/* SPDX-License-Identifier: Apache-2.0
 *
 * SQLite backend: retention. A plan counts the rows of a pass; its effect
 * removes them inside the transaction of the record that says so, and
 * refuses to remove anything else.
 */
#include <string.h>

#include "store/store_sqlite_int.h"

#define BIND64(q, i, v) wd_store__sq_err(sqlite3_bind_int64((q), (i), (v)))

int wd_store__sq_prune_plan(wd_store *st, int64_t before_ms, uint32_t max, wd_store_prune *out) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  /* One snapshot for both reads. */
  if ((rc = wd_store__sq_simple(c, SQ_BEGIN_READ))) goto out;
  if ((rc = wd_store__sq_stmt(c, SQ_PRUNE_CANDIDATES, &q)) || (rc = BIND64(q, 1, before_ms)) ||
      (rc = BIND64(q, 2, max)))
    goto out;
  /* The leading tasks whose rows (each task, its tokens, its session
   * values) fit max; the first goes whatever it holds, or a task larger
   * than a pass would never go. Stepping stops at the first that does
   * not fit, so a plan reads about as many rows as its pass removes. */
  uint64_t rows = 0;
  for (;;) {
    int src = sqlite3_step(q);
    if (src == SQLITE_DONE) break;
    if (src != SQLITE_ROW) {
      rc = wd_store__sq_err(sqlite3_extended_errcode(c->db));
      goto out;
    }
    uint64_t k = (uint64_t)sqlite3_column_int64(q, 0), v = (uint64_t)sqlite3_column_int64(q, 1);
    if (out->tasks && rows + 1 + k + v > max) {
      out->more = 1;
      break;
    }
    if (!out->tasks && 1 + k + v > max) {
      /* Too large for a pass (an agent can renew a task thousands of
       * times): its tokens go first, then its session values, max a
       * pass, and the task itself once the rest fits. Join tokens wait,
       * so that the part's record speaks of this task alone. */
      const unsigned char *id = sqlite3_column_text(q, 2);
      size_t idlen = (size_t)sqlite3_column_bytes(q, 2);
      if (id && idlen < sizeof out->task) memcpy(out->task, id, idlen + 1);
      out->part = 1;
      if (k)
        out->tokens = (uint32_t)(k < max ? k : max);
      else
        out->session_rows = (uint32_t)(v < max ? v : max);
      out->more = 1;
      goto out;
    }
    rows += 1 + k + v;
    out->tasks++;
    out->tokens += (uint32_t)k;
    out->session_rows += (uint32_t)v;
    if (out->tasks == max) out->more = 1;
  }
  sqlite3_reset(q);
  if ((rc = wd_store__sq_stmt(c, SQ_PRUNE_JOIN_COUNT, &q)) || (rc = BIND64(q, 1, before_ms)) ||
      (rc = BIND64(q, 2, max)))
    goto out;
  if (sqlite3_step(q) != SQLITE_ROW) {
    rc = wd_store__sq_err(sqlite3_extended_errcode(c->db));
    goto out;
  }
  out->join_tokens = (uint32_t)sqlite3_column_int64(q, 0);
  if (out->join_tokens == max) out->more = 1;
out:
  wd_store__sq_release(s, c); /* ends the read transaction */
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
  if (p->part) {
    if (p->tasks || p->join_tokens || (p->tokens && p->session_rows)) return -WD_E_STATE;
    if (p->tokens) return remove_rows(c, SQ_PRUNE_PART_TOKENS, p->before_ms, p->tokens, p->tokens);
    return remove_rows(c, SQ_PRUNE_PART_SESSION, p->before_ms, p->session_rows, p->session_rows);
  }
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

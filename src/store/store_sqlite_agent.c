/* SPDX-License-Identifier: Apache-2.0
 *
 * SQLite backend: agents and one-time join tokens (enrolment). Quarantine
 * and enrolment are single transactions so that no observer ever sees an
 * agent quarantined with live tasks, or a token consumed without its key.
 */
#include <string.h>

#include "store/store_sqlite_int.h"
#include "util/wd_alloc.h"

/* Reads one row of SQ_AGENT_COLS into owned *a. */
static int read_agent(sqlite3_stmt *q, wd_agent *a) {
  int rc;
  const char *tier = (const char *)sqlite3_column_text(q, 3);
  const char *status = (const char *)sqlite3_column_text(q, 6);
  memset(a, 0, sizeof *a);
  if (wd_agent_tier_parse(tier, &a->tier) || wd_agent_status_parse(status, &a->status))
    return -WD_E_STORE; /* a row no version of Warden writes */
  if ((rc = wd_store__sq_col_dup(q, 0, &a->id)) || (rc = wd_store__sq_col_dup(q, 1, &a->name)) ||
      (rc = wd_store__sq_col_dup(q, 2, &a->owner)) ||
      (rc = wd_store__sq_col_dup(q, 4, &a->environment)) ||
      (rc = wd_store__sq_col_dup(q, 5, &a->attrs)) || (rc = wd_store__sq_col_dup(q, 7, &a->jwk)) ||
      (rc = wd_store__sq_col_dup(q, 8, &a->jkt))) {
    wd_store_agent_free(a);
    return rc;
  }
  a->created_ms = sqlite3_column_int64(q, 9);
  a->updated_ms = sqlite3_column_int64(q, 10);
  return 0;
}

/* Runs a one-row agent lookup already bound in q. */
static int fetch_agent(sq_conn *c, sqlite3_stmt *q, wd_agent *out) {
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW)
    rc = read_agent(q, out);
  else if (rc == SQLITE_DONE)
    rc = -WD_E_NOTFOUND;
  else
    rc = wd_store__sq_err(sqlite3_extended_errcode(c->db));
  sqlite3_reset(q);
  return rc;
}

static int agent_insert(sq_conn *c, const wd_agent *a, int64_t now_ms) {
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_stmt(c, SQ_AGENT_INSERT, &q))) return rc;
  if ((rc = wd_store__sq_bind_text(q, 1, a->id)) || (rc = wd_store__sq_bind_text(q, 2, a->name)) ||
      (rc = wd_store__sq_bind_text(q, 3, a->owner)) ||
      (rc = wd_store__sq_bind_text(q, 4, wd_agent_tier_name(a->tier))) ||
      (rc = wd_store__sq_bind_text(q, 5, a->environment)) ||
      (rc = wd_store__sq_bind_text(q, 6, a->attrs ? a->attrs : "{}")) ||
      (rc = wd_store__sq_bind_text(q, 7, wd_agent_status_name(a->status))) ||
      (rc = wd_store__sq_bind_text(q, 8, a->jwk)) || (rc = wd_store__sq_bind_text(q, 9, a->jkt)) ||
      (rc = wd_store__sq_err(sqlite3_bind_int64(q, 10, now_ms))))
    return rc;
  return wd_store__sq_exec(c, SQ_AGENT_INSERT, q);
}

int wd_store__sq_agent_register(wd_store *st, const wd_agent *a, int64_t now_ms) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  rc = agent_insert(c, a, now_ms);
  wd_store__sq_release(s, c);
  return rc;
}

int wd_store__sq_agent_get(wd_store *st, const char *id, const char *jkt, wd_agent *out) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  rc = wd_store__sq_stmt(c, id ? SQ_AGENT_BY_ID : SQ_AGENT_BY_JKT, &q);
  if (rc == 0) rc = wd_store__sq_bind_text(q, 1, id ? id : jkt);
  if (rc == 0) rc = fetch_agent(c, q, out);
  wd_store__sq_release(s, c);
  return rc;
}

int wd_store__sq_agent_list(wd_store *st, const char *after, size_t max, wd_agent_list *out) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  size_t cap = 0;
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  /* Every name is non-empty, so "" lists from the first. One row past
   * max tells whether more follow, without a second query. */
  if ((rc = wd_store__sq_stmt(c, SQ_AGENT_LIST, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, after ? after : "")) ||
      (rc = wd_store__sq_err(sqlite3_bind_int64(q, 2, (int64_t)max + 1))))
    goto out;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    if (out->n == max) {
      out->more = 1;
      rc = SQLITE_DONE;
      break;
    }
    if (out->n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      wd_agent *n = wd_realloc(out->items, ncap * sizeof *n);
      if (!n) {
        rc = -WD_E_NOMEM;
        goto out;
      }
      out->items = n;
      cap = ncap;
    }
    if ((rc = read_agent(q, &out->items[out->n]))) goto out;
    out->n++;
  }
  rc = rc == SQLITE_DONE ? 0 : wd_store__sq_err(sqlite3_extended_errcode(c->db));
out:
  wd_store__sq_release(s, c);
  if (rc) wd_store_agent_list_free(out);
  return rc;
}

/* Ends the agent's open tasks and revokes their tokens (inside a tx). */
static int end_agent_tasks(sq_conn *c, const char *id, const char *reason, int64_t now_ms,
                           unsigned *ended) {
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_stmt(c, SQ_AGENT_REVOKE_TOKENS, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, id)) ||
      (rc = wd_store__sq_err(sqlite3_bind_int64(q, 2, now_ms))) ||
      (rc = wd_store__sq_exec(c, SQ_AGENT_REVOKE_TOKENS, q)))
    return rc;
  if ((rc = wd_store__sq_stmt(c, SQ_AGENT_END_TASKS, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, id)) ||
      (rc = wd_store__sq_bind_text(q, 2, reason ? reason : "agent status changed")) ||
      (rc = wd_store__sq_err(sqlite3_bind_int64(q, 3, now_ms))) ||
      (rc = wd_store__sq_exec(c, SQ_AGENT_END_TASKS, q)))
    return rc;
  *ended = (unsigned)sqlite3_changes(c->db);
  return 0;
}

/* Inside a transaction: the status change and, for QUARANTINED or
 * RETIRED, the end of the agent's open tasks. The status it changes from
 * is read in the same transaction (BEGIN IMMEDIATE: no other writer in
 * between), so two admins' changes made at once apply one after the
 * other, and the second is judged against the first's outcome. */
static int set_status_in(sq_conn *c, const char *id, wd_agent_status status, const char *reason,
                         int64_t now_ms, unsigned *tasks_ended) {
  sqlite3_stmt *q = NULL;
  wd_agent cur = {0};
  int rc;
  *tasks_ended = 0;
  if ((rc = wd_store__sq_stmt(c, SQ_AGENT_BY_ID, &q)) || (rc = wd_store__sq_bind_text(q, 1, id)) ||
      (rc = fetch_agent(c, q, &cur)))
    return rc;
  int ok = wd_agent_status_change_ok(cur.status, status);
  wd_store_agent_free(&cur);
  if (!ok) return -WD_E_STATE;
  if ((rc = wd_store__sq_stmt(c, SQ_AGENT_SET_STATUS, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, id)) ||
      (rc = wd_store__sq_bind_text(q, 2, wd_agent_status_name(status))) ||
      (rc = wd_store__sq_err(sqlite3_bind_int64(q, 3, now_ms))) ||
      (rc = wd_store__sq_exec(c, SQ_AGENT_SET_STATUS, q)))
    return rc;
  if (sqlite3_changes(c->db) == 0) return -WD_E_NOTFOUND;
  switch (status) {
  case WD_AGENT_QUARANTINED:
  case WD_AGENT_RETIRED: return end_agent_tasks(c, id, reason, now_ms, tasks_ended);
  case WD_AGENT_PENDING:
  case WD_AGENT_ACTIVE: break;
  }
  return 0;
}

int wd_store__sq_agent_set_status(wd_store *st, const char *id, wd_agent_status status,
                                  const char *reason, int64_t now_ms, unsigned *tasks_ended) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  int rc;
  *tasks_ended = 0;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if ((rc = wd_store__sq_begin(c)) == 0)
    rc = wd_store__sq_end(c, set_status_in(c, id, status, reason, now_ms, tasks_ended));
  if (rc) *tasks_ended = 0;
  wd_store__sq_release(s, c);
  return rc;
}

int wd_store__sq_agent_status_fx(sq_conn *c, const wd_store_fx *fx) {
  unsigned ended;
  return set_status_in(c, fx->agent_id, fx->agent_status, fx->reason, fx->now_ms, &ended);
}

static int join_insert(sq_conn *c, const char *hash, const char *agent_name, int64_t expires_ms,
                       int64_t now_ms) {
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_stmt(c, SQ_JOIN_INSERT, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, hash)) ||
      (rc = wd_store__sq_bind_text(q, 2, agent_name)) ||
      (rc = wd_store__sq_err(sqlite3_bind_int64(q, 3, expires_ms))) ||
      (rc = wd_store__sq_err(sqlite3_bind_int64(q, 4, now_ms))))
    return rc;
  return wd_store__sq_exec(c, SQ_JOIN_INSERT, q);
}

int wd_store__sq_join_create(wd_store *st, const char *hash, const char *agent_name,
                             int64_t expires_ms, int64_t now_ms) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  rc = join_insert(c, hash, agent_name, expires_ms, now_ms);
  wd_store__sq_release(s, c);
  return rc;
}

/* Inside the consume transaction: checks the token row and copies the
 * agent name into owned *name. */
static int check_join(sq_conn *c, const char *hash, int64_t now_ms, char **name) {
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_stmt(c, SQ_JOIN_GET, &q)) || (rc = wd_store__sq_bind_text(q, 1, hash)))
    return rc;
  rc = sqlite3_step(q);
  if (rc == SQLITE_DONE)
    rc = -WD_E_NOTFOUND;
  else if (rc != SQLITE_ROW)
    rc = wd_store__sq_err(sqlite3_extended_errcode(c->db));
  else if (sqlite3_column_type(q, 2) != SQLITE_NULL)
    rc = -WD_E_EXISTS; /* already consumed */
  else if (sqlite3_column_int64(q, 1) <= now_ms)
    rc = -WD_E_INVAL; /* expired */
  else
    rc = wd_store__sq_col_dup(q, 0, name);
  sqlite3_reset(q);
  return rc;
}

/* The agent a fresh join token names, into owned *a and *name: with
 * expect_id, it must be that agent (-WD_E_NOTFOUND otherwise), and it
 * must be PENDING or ACTIVE (re-enrolment with a fresh token rotates the
 * key). The consume's checks, and the read-only check's. */
static int join_target(sq_conn *c, const char *hash, int64_t now_ms, const char *expect_id,
                       wd_agent *a, char **name) {
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = check_join(c, hash, now_ms, name)) ||
      (rc = wd_store__sq_stmt(c, SQ_AGENT_BY_NAME, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, *name)) || (rc = fetch_agent(c, q, a)))
    return rc;
  if (expect_id && strcmp(a->id, expect_id) != 0)
    return -WD_E_NOTFOUND; /* a token of another agent: unknown for this one */
  /* A quarantined agent may get a new key (its old one being why it is
   * quarantined) and stays quarantined until released. */
  return a->status != WD_AGENT_RETIRED ? 0 : -WD_E_INVAL;
}

/* Inside a transaction: consumes the join token and binds the key. With
 * expect_id, the token must name that agent. Fills owned *agent when not
 * NULL. */
static int join_consume_in(sq_conn *c, const char *hash, const char *jwk, const char *jkt,
                           int64_t now_ms, const char *expect_id, wd_agent *agent) {
  sqlite3_stmt *q = NULL;
  char *name = NULL;
  wd_agent a = {0};
  int rc;
  if ((rc = join_target(c, hash, now_ms, expect_id, &a, &name))) goto out;
  if ((rc = wd_store__sq_stmt(c, SQ_JOIN_USE, &q)) || (rc = wd_store__sq_bind_text(q, 1, hash)) ||
      (rc = wd_store__sq_err(sqlite3_bind_int64(q, 2, now_ms))) ||
      (rc = wd_store__sq_exec(c, SQ_JOIN_USE, q)))
    goto out;
  if (sqlite3_changes(c->db) != 1) {
    rc = -WD_E_EXISTS; /* INVARIANT: BEGIN IMMEDIATE makes this unreachable */
    goto out;
  }
  /* The agent's other unused tokens die with this use: a forgotten or
   * leaked one must not re-key the agent later. */
  if ((rc = wd_store__sq_stmt(c, SQ_JOIN_DROP_OTHERS, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, name)) ||
      (rc = wd_store__sq_err(sqlite3_bind_int64(q, 2, now_ms))) ||
      (rc = wd_store__sq_exec(c, SQ_JOIN_DROP_OTHERS, q)))
    goto out;
  if ((rc = wd_store__sq_stmt(c, SQ_AGENT_SET_KEY, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, a.id)) || (rc = wd_store__sq_bind_text(q, 2, jwk)) ||
      (rc = wd_store__sq_bind_text(q, 3, jkt)) ||
      (rc = wd_store__sq_err(sqlite3_bind_int64(q, 4, now_ms))) ||
      (rc = wd_store__sq_exec(c, SQ_AGENT_SET_KEY, q)))
    goto out;
  if (agent) {
    wd_store_agent_free(&a);
    if ((rc = wd_store__sq_stmt(c, SQ_AGENT_BY_NAME, &q)) ||
        (rc = wd_store__sq_bind_text(q, 1, name)) || (rc = fetch_agent(c, q, &a)))
      goto out;
  }
out:
  wd_free(name);
  if (rc == 0 && agent)
    *agent = a;
  else
    wd_store_agent_free(&a);
  return rc;
}

int wd_store__sq_join_consume(wd_store *st, const char *hash, const char *jwk, const char *jkt,
                              int64_t now_ms, wd_agent *agent) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  int rc;
  if (agent) memset(agent, 0, sizeof *agent);
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if ((rc = wd_store__sq_begin(c)) == 0)
    rc = wd_store__sq_end(c, join_consume_in(c, hash, jwk, jkt, now_ms, NULL, agent));
  wd_store__sq_release(s, c);
  if (rc && agent) wd_store_agent_free(agent);
  return rc;
}

int wd_store__sq_join_check(wd_store *st, const char *hash, int64_t now_ms, const char *agent_id) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  char *name = NULL;
  wd_agent a = {0};
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  rc = join_target(c, hash, now_ms, agent_id, &a, &name);
  wd_store__sq_release(s, c);
  wd_store_agent_free(&a);
  wd_free(name);
  return rc;
}

int wd_store__sq_register_fx(sq_conn *c, const wd_store_fx *fx) {
  return agent_insert(c, fx->agent, fx->now_ms);
}

int wd_store__sq_join_fx(sq_conn *c, const wd_store_fx *fx) {
  return join_insert(c, fx->token_hash, fx->agent_name, fx->exp_ms, fx->now_ms);
}

int wd_store__sq_enrol_fx(sq_conn *c, const wd_store_fx *fx) {
  return join_consume_in(c, fx->token_hash, fx->jwk, fx->jkt, fx->now_ms, fx->agent_id, NULL);
}

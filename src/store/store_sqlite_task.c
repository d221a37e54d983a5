/* SPDX-License-Identifier: Apache-2.0
 *
 * SQLite backend: tasks, their session summaries, issued task tokens and
 * the DPoP replay cache. Everything on the per-call path is a single
 * indexed statement (count a call, is-revoked, replay check) so that it
 * stays cheap and atomic without an explicit transaction.
 */
#include <string.h>

#include "store/store_sqlite_int.h"
#include "util/wd_alloc.h"

enum { KIND_TOOL = 0, KIND_CLASS = 1, KIND_DEST = 2 };

#define BIND64(q, i, v) wd_store__sq_err(sqlite3_bind_int64((q), (i), (v)))

/* Inside a transaction: the agent must be ACTIVE in the same transaction
 * as the insert, so a concurrent quarantine cannot slip a task in behind
 * it (-WD_E_INVAL when it is not). */
static int task_insert(sq_conn *c, const wd_task *t, int64_t ttl_ms, int64_t now_ms) {
  sqlite3_stmt *q = NULL;
  wd_agent_status ast;
  int rc;
  if ((rc = wd_store__sq_stmt(c, SQ_AGENT_BY_ID, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, t->agent_id)))
    return rc;
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW)
    rc = wd_agent_status_parse((const char *)sqlite3_column_text(q, 6), &ast);
  else
    rc = rc == SQLITE_DONE ? -WD_E_NOTFOUND : wd_store__sq_err(sqlite3_extended_errcode(c->db));
  sqlite3_reset(q);
  if (rc) return rc;
  if (ast != WD_AGENT_ACTIVE) return -WD_E_INVAL;
  /* Bounded, so that stopping an agent (which ends each task with its
   * records) stays quick. */
  if ((rc = wd_store__sq_stmt(c, SQ_TASK_OPEN_COUNT, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, t->agent_id)) || (rc = BIND64(q, 2, now_ms)))
    return rc;
  rc = sqlite3_step(q);
  rc = rc != SQLITE_ROW ? wd_store__sq_err(sqlite3_extended_errcode(c->db))
       : sqlite3_column_int64(q, 0) >= WD_LIMIT_STORE_OPEN_TASKS ? -WD_E_FULL
                                                                 : 0;
  sqlite3_reset(q);
  if (rc) return rc;
  if ((rc = wd_store__sq_stmt(c, SQ_TASK_INSERT, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, t->id)) ||
      (rc = wd_store__sq_bind_text(q, 2, t->agent_id)) ||
      (rc = wd_store__sq_bind_text(q, 3, t->intent)) ||
      (rc = wd_store__sq_bind_text(q, 4, t->purpose)) ||
      (rc = wd_store__sq_bind_text(q, 5, t->expected_tools ? t->expected_tools : "[]")) ||
      (rc = wd_store__sq_bind_text(q, 6, t->ceiling)) ||
      (rc = wd_store__sq_bind_text(q, 7, t->on_behalf_of)) || (rc = BIND64(q, 8, now_ms)) ||
      (rc = BIND64(q, 9, now_ms + ttl_ms)) || (rc = BIND64(q, 10, t->budget)))
    return rc;
  return wd_store__sq_exec(c, SQ_TASK_INSERT, q);
}

int wd_store__sq_task_create(wd_store *st, const wd_task *t, int64_t ttl_ms, int64_t now_ms) {
  wd_store_fx fx = {.kind = WD_STORE_FX_TASK_OPEN, .task = t, .ttl_ms = ttl_ms, .now_ms = now_ms};
  return wd_store__sq_fx_alone(st, &fx);
}

static int read_task(sqlite3_stmt *q, wd_task *t) {
  int rc;
  memset(t, 0, sizeof *t);
  if (wd_task_status_parse((const char *)sqlite3_column_text(q, 12), &t->status))
    return -WD_E_STORE;
  if ((rc = wd_store__sq_col_dup(q, 0, &t->id)) ||
      (rc = wd_store__sq_col_dup(q, 1, &t->agent_id)) ||
      (rc = wd_store__sq_col_dup(q, 2, &t->intent)) ||
      (rc = wd_store__sq_col_dup(q, 3, &t->purpose)) ||
      (rc = wd_store__sq_col_dup(q, 4, &t->expected_tools)) ||
      (rc = wd_store__sq_col_dup(q, 5, &t->ceiling)) ||
      (rc = wd_store__sq_col_dup(q, 6, &t->on_behalf_of)) ||
      (rc = wd_store__sq_col_dup(q, 13, &t->end_reason))) {
    wd_store_task_free(t);
    return rc;
  }
  t->created_ms = sqlite3_column_int64(q, 7);
  t->expires_ms = sqlite3_column_int64(q, 8);
  t->budget = sqlite3_column_int64(q, 9);
  t->calls = sqlite3_column_int64(q, 10);
  t->denials = sqlite3_column_int64(q, 11);
  t->ended_ms = sqlite3_column_int64(q, 14);
  return 0;
}

int wd_store__sq_task_get(wd_store *st, const char *id, wd_task *out) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if ((rc = wd_store__sq_stmt(c, SQ_TASK_GET, &q)) || (rc = wd_store__sq_bind_text(q, 1, id)))
    goto out;
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW)
    rc = read_task(q, out);
  else
    rc = rc == SQLITE_DONE ? -WD_E_NOTFOUND : wd_store__sq_err(sqlite3_extended_errcode(c->db));
  sqlite3_reset(q);
out:
  wd_store__sq_release(s, c);
  return rc;
}

/* Tells "unknown task" from "task not open" after an UPDATE ... WHERE
 * status='open' changed nothing. */
static int not_open_reason(sq_conn *c, const char *id) {
  sqlite3_stmt *q = NULL;
  int rc = wd_store__sq_stmt(c, SQ_TASK_STATE, &q);
  if (rc || (rc = wd_store__sq_bind_text(q, 1, id))) return rc;
  rc = sqlite3_step(q);
  rc = rc == SQLITE_ROW    ? -WD_E_INVAL
       : rc == SQLITE_DONE ? -WD_E_NOTFOUND
                           : wd_store__sq_err(sqlite3_extended_errcode(c->db));
  sqlite3_reset(q);
  return rc;
}

static int revoke_task_tokens(sq_conn *c, const char *id, int64_t now_ms, unsigned *n) {
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_stmt(c, SQ_TOKEN_REVOKE_TASK, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, id)) || (rc = BIND64(q, 2, now_ms)) ||
      (rc = wd_store__sq_exec(c, SQ_TOKEN_REVOKE_TASK, q)))
    return rc;
  if (n) *n = (unsigned)sqlite3_changes(c->db);
  return 0;
}

/* Inside a transaction: wd_store_task_set_intent's change. */
static int set_intent_in(sq_conn *c, const char *id, const char *intent, const char *purpose,
                         const char *expected_tools, int64_t now_ms) {
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_stmt(c, SQ_TASK_SET_INTENT, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, id)) || (rc = wd_store__sq_bind_text(q, 2, intent)) ||
      /* NULL binds keep the column (COALESCE in the statement). */
      (rc = wd_store__sq_bind_text(q, 3, purpose)) ||
      (rc = wd_store__sq_bind_text(q, 4, expected_tools)) ||
      (rc = wd_store__sq_exec(c, SQ_TASK_SET_INTENT, q)))
    return rc;
  if (sqlite3_changes(c->db) == 0) return not_open_reason(c, id);
  return revoke_task_tokens(c, id, now_ms, NULL);
}

/* Inside a transaction: wd_store_task_end's change. */
static int task_end_in(sq_conn *c, const char *id, wd_task_status status, const char *reason,
                       int64_t now_ms) {
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_stmt(c, SQ_TASK_END, &q)) || (rc = wd_store__sq_bind_text(q, 1, id)) ||
      (rc = wd_store__sq_bind_text(q, 2, wd_task_status_name(status))) ||
      (rc = wd_store__sq_bind_text(q, 3, reason)) || (rc = BIND64(q, 4, now_ms)) ||
      (rc = wd_store__sq_exec(c, SQ_TASK_END, q)))
    return rc;
  if (sqlite3_changes(c->db) == 0) return not_open_reason(c, id);
  return revoke_task_tokens(c, id, now_ms, NULL);
}

int wd_store__sq_task_set_intent(wd_store *st, const char *id, const char *intent,
                                 const char *purpose, const char *expected_tools, int64_t now_ms) {
  wd_store_fx fx = {.kind = WD_STORE_FX_TASK_INTENT,
                    .task_id = id,
                    .intent = intent,
                    .purpose = purpose,
                    .expected_tools = expected_tools,
                    .now_ms = now_ms};
  return wd_store__sq_fx_alone(st, &fx);
}

int wd_store__sq_task_end(wd_store *st, const char *id, wd_task_status status, const char *reason,
                          int64_t now_ms) {
  wd_store_fx fx = {.kind = WD_STORE_FX_TASK_END,
                    .task_id = id,
                    .status = status,
                    .reason = reason,
                    .now_ms = now_ms};
  return wd_store__sq_fx_alone(st, &fx);
}

/* Explains why TASK_COUNT matched no row. */
static int call_verdict(sq_conn *c, const char *id, int64_t now_ms, wd_call_verdict *v) {
  sqlite3_stmt *q = NULL;
  wd_task_status ts;
  int rc = wd_store__sq_stmt(c, SQ_TASK_STATE, &q);
  if (rc || (rc = wd_store__sq_bind_text(q, 1, id))) return rc;
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    rc = 0;
    if (wd_task_status_parse((const char *)sqlite3_column_text(q, 0), &ts) || ts != WD_TASK_OPEN)
      *v = WD_CALL_NOT_OPEN;
    else if (sqlite3_column_int64(q, 1) <= now_ms)
      *v = WD_CALL_EXPIRED;
    else
      *v = WD_CALL_BUDGET;
  } else {
    rc = rc == SQLITE_DONE ? -WD_E_NOTFOUND : wd_store__sq_err(sqlite3_extended_errcode(c->db));
  }
  sqlite3_reset(q);
  return rc;
}

typedef struct count_job {
  const char *id;
  int64_t now_ms;
  wd_call_verdict *verdict;
  int64_t *calls_before;
} count_job;

static int count_call_job(sq_conn *c, void *arg) {
  count_job *j = arg;
  sqlite3_stmt *q = NULL;
  int rc;
  *j->verdict = WD_CALL_NOT_OPEN;
  if ((rc = wd_store__sq_stmt(c, SQ_TASK_COUNT, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, j->id)) || (rc = BIND64(q, 2, j->now_ms)))
    return rc;
  /* One UPDATE ... RETURNING: the check and the increment are atomic. */
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    *j->calls_before = sqlite3_column_int64(q, 0) - 1;
    *j->verdict = WD_CALL_OK;
    rc = sqlite3_step(q); /* run the statement to completion */
    rc = rc == SQLITE_DONE ? 0 : wd_store__sq_err(sqlite3_extended_errcode(c->db));
    if (rc) *j->verdict = WD_CALL_NOT_OPEN;
  } else if (rc == SQLITE_DONE) {
    sqlite3_reset(q);
    rc = call_verdict(c, j->id, j->now_ms, j->verdict);
  } else {
    rc = wd_store__sq_err(sqlite3_extended_errcode(c->db));
  }
  sqlite3_reset(q);
  return rc;
}

int wd_store__sq_task_count_call(wd_store *st, const char *id, int64_t now_ms,
                                 wd_call_verdict *verdict, int64_t *calls_before) {
  count_job j = {.id = id, .now_ms = now_ms, .verdict = verdict, .calls_before = calls_before};
  int rc = wd_store__sq_grouped((sq_store *)st, count_call_job, &j);
  if (rc) *verdict = WD_CALL_NOT_OPEN;
  return rc;
}

static int session_add(sq_conn *c, const char *id, int kind, const char *value) {
  sqlite3_stmt *q = NULL;
  int rc;
  if (!value) return 0;
  if ((rc = wd_store__sq_stmt(c, SQ_SESSION_ADD, &q)) || (rc = wd_store__sq_bind_text(q, 1, id)) ||
      (rc = BIND64(q, 2, kind)) || (rc = wd_store__sq_bind_text(q, 3, value)) ||
      (rc = wd_store__sq_exec(c, SQ_SESSION_ADD, q)))
    return rc;
  if (sqlite3_changes(c->db) == 0) return 0;
  if ((rc = wd_store__sq_stmt(c, SQ_SESSION_COUNT, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, id)) || (rc = BIND64(q, 2, kind)))
    return rc;
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW)
    rc = sqlite3_column_int64(q, 0) > (int64_t)WD_LIMIT_STORE_SESSION_SET ? -WD_E_TOOBIG : 0;
  else
    rc = wd_store__sq_err(sqlite3_extended_errcode(c->db));
  sqlite3_reset(q);
  return rc;
}

typedef struct record_job {
  const char *id, *tool, *cls, *dest;
  int allowed;
} record_job;

static int record_call_job(sq_conn *c, void *arg) {
  record_job *j = arg;
  sqlite3_stmt *q = NULL;
  int rc;
  if (!j->allowed) {
    if ((rc = wd_store__sq_stmt(c, SQ_TASK_DENIAL, &q)) ||
        (rc = wd_store__sq_bind_text(q, 1, j->id)) ||
        (rc = wd_store__sq_exec(c, SQ_TASK_DENIAL, q)))
      return rc;
    return sqlite3_changes(c->db) == 0 ? -WD_E_NOTFOUND : 0;
  }
  /* Only an allowed call uses a tool, touches data or reaches a
   * destination; an unknown task fails the foreign key (NOTFOUND). */
  if ((rc = session_add(c, j->id, KIND_TOOL, j->tool)) ||
      (rc = session_add(c, j->id, KIND_CLASS, j->cls)) ||
      (rc = session_add(c, j->id, KIND_DEST, j->dest)))
    return rc;
  if (!j->tool && !j->cls && !j->dest)
    return not_open_reason(c, j->id) == -WD_E_NOTFOUND ? -WD_E_NOTFOUND : 0;
  return 0;
}

int wd_store__sq_task_record_call(wd_store *st, const char *id, const char *tool, const char *cls,
                                  const char *dest, int allowed) {
  record_job j = {.id = id, .tool = tool, .cls = cls, .dest = dest, .allowed = allowed};
  return wd_store__sq_grouped((sq_store *)st, record_call_job, &j);
}

static int strlist_push(wd_strlist *l, const char *v, size_t n) {
  char **nv = wd_realloc(l->v, (l->n + 1) * sizeof *nv);
  if (!nv) return -WD_E_NOMEM;
  l->v = nv;
  if (!(l->v[l->n] = wd_strndup(v, n))) return -WD_E_NOMEM;
  l->n++;
  return 0;
}

int wd_store__sq_task_session(wd_store *st, const char *id, wd_session *out) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  /* One read transaction so the counts and the sets agree. */
  if ((rc = wd_store__sq_err(sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL)))) goto out;
  if ((rc = wd_store__sq_stmt(c, SQ_TASK_GET, &q)) || (rc = wd_store__sq_bind_text(q, 1, id)))
    goto end;
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    out->calls = sqlite3_column_int64(q, 10);
    out->denials = sqlite3_column_int64(q, 11);
    rc = 0;
  } else {
    rc = rc == SQLITE_DONE ? -WD_E_NOTFOUND : wd_store__sq_err(sqlite3_extended_errcode(c->db));
  }
  sqlite3_reset(q);
  if (rc) goto end;
  if ((rc = wd_store__sq_stmt(c, SQ_SESSION_LIST, &q)) || (rc = wd_store__sq_bind_text(q, 1, id)))
    goto end;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    int kind = sqlite3_column_int(q, 0);
    const char *v = (const char *)sqlite3_column_text(q, 1);
    size_t n = (size_t)sqlite3_column_bytes(q, 1);
    wd_strlist *l = kind == KIND_TOOL    ? &out->tools
                    : kind == KIND_CLASS ? &out->classifications
                                         : &out->destinations;
    if (!v) {
      rc = -WD_E_NOMEM;
      break;
    }
    if ((rc = strlist_push(l, v, n))) break;
  }
  if (rc == SQLITE_DONE)
    rc = 0;
  else if (rc > 0)
    rc = wd_store__sq_err(sqlite3_extended_errcode(c->db));
  sqlite3_reset(q);
end:
  (void)sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
out:
  wd_store__sq_release(s, c);
  if (rc) wd_store_session_free(out);
  return rc;
}

/* Steps q (bound by the caller) and collects its first column. */
static int collect_ids(sq_conn *c, sqlite3_stmt *q, wd_strlist *out) {
  int rc;
  while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
    const char *v = (const char *)sqlite3_column_text(q, 0);
    if (!v || strlist_push(out, v, (size_t)sqlite3_column_bytes(q, 0))) {
      sqlite3_reset(q);
      return -WD_E_NOMEM;
    }
  }
  rc = rc == SQLITE_DONE ? 0 : wd_store__sq_err(sqlite3_extended_errcode(c->db));
  sqlite3_reset(q);
  return rc;
}

int wd_store__sq_task_list_expired(wd_store *st, int64_t now_ms, size_t max, wd_strlist *out) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if ((rc = wd_store__sq_stmt(c, SQ_TASK_EXPIRED, &q)) == 0 && (rc = BIND64(q, 1, now_ms)) == 0 &&
      (rc = BIND64(q, 2, (int64_t)max)) == 0)
    rc = collect_ids(c, q, out);
  wd_store__sq_release(s, c);
  if (rc) wd_strlist_free(out);
  return rc;
}

int wd_store__sq_task_list_open(wd_store *st, const char *agent_id, size_t max, wd_strlist *out) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if ((rc = wd_store__sq_stmt(c, SQ_TASK_OPEN_OF, &q)) == 0 &&
      (rc = wd_store__sq_bind_text(q, 1, agent_id)) == 0 && (rc = BIND64(q, 2, (int64_t)max)) == 0)
    rc = collect_ids(c, q, out);
  wd_store__sq_release(s, c);
  if (rc) wd_strlist_free(out);
  return rc;
}

/* ---- tokens ----------------------------------------------------------------- */

/* Inside a transaction: -WD_E_INVAL unless the token the request came
 * with (fx->bearer_jti, if any) is still an unrevoked token of the task. */
static int bearer_live(sq_conn *c, const wd_store_fx *fx) {
  if (!fx->bearer_jti) return 0;
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_stmt(c, SQ_TOKEN_LIVE, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, fx->bearer_jti)) ||
      (rc = wd_store__sq_bind_text(q, 2, fx->task_id)))
    return rc;
  rc = sqlite3_step(q);
  rc = rc == SQLITE_ROW    ? 0
       : rc == SQLITE_DONE ? -WD_E_INVAL
                           : wd_store__sq_err(sqlite3_extended_errcode(c->db));
  sqlite3_reset(q);
  return rc;
}

/* Inside a transaction: -WD_E_INVAL when the task is not OPEN. */
static int token_insert(sq_conn *c, const char *jti, const char *task_id, int64_t exp_ms,
                        int64_t now_ms) {
  sqlite3_stmt *q = NULL;
  wd_task_status ts;
  int rc;
  if ((rc = wd_store__sq_stmt(c, SQ_TASK_STATE, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, task_id)))
    return rc;
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW)
    rc = wd_task_status_parse((const char *)sqlite3_column_text(q, 0), &ts) ? -WD_E_STORE
         : ts != WD_TASK_OPEN                                               ? -WD_E_INVAL
                                                                            : 0;
  else
    rc = rc == SQLITE_DONE ? -WD_E_NOTFOUND : wd_store__sq_err(sqlite3_extended_errcode(c->db));
  sqlite3_reset(q);
  if (rc) return rc;
  if ((rc = wd_store__sq_stmt(c, SQ_TOKEN_INSERT, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, jti)) || (rc = wd_store__sq_bind_text(q, 2, task_id)) ||
      (rc = BIND64(q, 3, exp_ms)) || (rc = BIND64(q, 4, now_ms)))
    return rc;
  return wd_store__sq_exec(c, SQ_TOKEN_INSERT, q);
}

int wd_store__sq_token_record(wd_store *st, const char *jti, const char *task_id, int64_t exp_ms,
                              int64_t now_ms) {
  wd_store_fx fx = {.kind = WD_STORE_FX_TOKEN,
                    .jti = jti,
                    .task_id = task_id,
                    .exp_ms = exp_ms,
                    .now_ms = now_ms};
  return wd_store__sq_fx_alone(st, &fx);
}

int wd_store__sq_token_revoke(wd_store *st, const char *jti, int64_t now_ms) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if ((rc = wd_store__sq_stmt(c, SQ_TOKEN_REVOKE, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, jti)) || (rc = BIND64(q, 2, now_ms)) ||
      (rc = wd_store__sq_exec(c, SQ_TOKEN_REVOKE, q)))
    goto out;
  if (sqlite3_changes(c->db) == 0) rc = -WD_E_NOTFOUND;
out:
  wd_store__sq_release(s, c);
  return rc;
}

int wd_store__sq_token_revoke_task(wd_store *st, const char *task_id, int64_t now_ms, unsigned *n) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  int rc;
  *n = 0;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  rc = revoke_task_tokens(c, task_id, now_ms, n);
  wd_store__sq_release(s, c);
  return rc;
}

int wd_store__sq_token_is_revoked(wd_store *st, const char *jti, int *revoked) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if ((rc = wd_store__sq_stmt(c, SQ_TOKEN_CHECK, &q)) || (rc = wd_store__sq_bind_text(q, 1, jti)))
    goto out;
  rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    const char *ts = (const char *)sqlite3_column_text(q, 1);
    const char *as = (const char *)sqlite3_column_text(q, 2);
    *revoked = sqlite3_column_int(q, 0) != 0 || !ts || strcmp(ts, "open") != 0 || !as ||
               strcmp(as, "active") != 0;
    rc = 0;
  } else {
    rc = rc == SQLITE_DONE ? -WD_E_NOTFOUND : wd_store__sq_err(sqlite3_extended_errcode(c->db));
  }
  sqlite3_reset(q);
out:
  wd_store__sq_release(s, c);
  return rc;
}

/* ---- DPoP replay cache ------------------------------------------------------ */

typedef struct dpop_job {
  const char *jti;
  int64_t exp_ms;
  int *is_new;
} dpop_job;

static int dpop_job_run(sq_conn *c, void *arg) {
  dpop_job *j = arg;
  sqlite3_stmt *q = NULL;
  int rc;
  /* Insert-if-absent in one statement: two racing requests with the same
   * proof cannot both see it as new. */
  if ((rc = wd_store__sq_stmt(c, SQ_DPOP_SEEN, &q)) ||
      (rc = wd_store__sq_bind_text(q, 1, j->jti)) || (rc = BIND64(q, 2, j->exp_ms)) ||
      (rc = wd_store__sq_exec(c, SQ_DPOP_SEEN, q)))
    return rc;
  *j->is_new = sqlite3_changes(c->db) == 1;
  return 0;
}

int wd_store__sq_dpop_seen(wd_store *st, const char *jti, int64_t exp_ms, int *is_new) {
  dpop_job j = {.jti = jti, .exp_ms = exp_ms, .is_new = is_new};
  int rc = wd_store__sq_grouped((sq_store *)st, dpop_job_run, &j);
  if (rc) *is_new = 0;
  return rc;
}

int wd_store__sq_dpop_scan(wd_store *st, int64_t now_ms, wd_dpop_cb cb, void *ctx) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if ((rc = wd_store__sq_stmt(c, SQ_DPOP_LIVE, &q)) || (rc = BIND64(q, 1, now_ms))) goto out;
  int src;
  while ((src = sqlite3_step(q)) == SQLITE_ROW) {
    const char *jti = (const char *)sqlite3_column_text(q, 0);
    if (!jti) {
      rc = -WD_E_NOMEM;
      goto out;
    }
    if ((rc = cb(ctx, jti, sqlite3_column_int64(q, 1))) != 0) goto out;
  }
  if (src != SQLITE_DONE) rc = wd_store__sq_err(sqlite3_extended_errcode(c->db));
out:
  wd_store__sq_release(s, c);
  return rc;
}

int wd_store__sq_dpop_prune(wd_store *st, int64_t now_ms, unsigned *n) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  sqlite3_stmt *q = NULL;
  int rc;
  *n = 0;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if ((rc = wd_store__sq_stmt(c, SQ_DPOP_PRUNE, &q)) || (rc = BIND64(q, 1, now_ms)) ||
      (rc = wd_store__sq_exec(c, SQ_DPOP_PRUNE, q)))
    goto out;
  *n = (unsigned)sqlite3_changes(c->db);
  /* Appended about in expiry order: the expired front goes, and a late
   * expired row behind a live one goes in a later round (scans skip it). */
  if ((rc = wd_store__sq_stmt(c, SQ_DPOP_PRUNE_SPENT, &q)) || (rc = BIND64(q, 1, now_ms)) ||
      (rc = wd_store__sq_exec(c, SQ_DPOP_PRUNE_SPENT, q)))
    goto out;
  *n += (unsigned)sqlite3_changes(c->db);
out:
  wd_store__sq_release(s, c);
  return rc;
}

/* ---- effects carried by evidence records ------------------------------------ */

static int session_put(sq_conn *c, const char *id, int kind, const char *value) {
  sqlite3_stmt *q = NULL;
  int rc;
  if (!value) return 0;
  if ((rc = wd_store__sq_stmt(c, SQ_SESSION_ADD, &q)) || (rc = wd_store__sq_bind_text(q, 1, id)) ||
      (rc = BIND64(q, 2, kind)) || (rc = wd_store__sq_bind_text(q, 3, value)))
    return rc;
  return wd_store__sq_exec(c, SQ_SESSION_ADD, q);
}

int wd_store__sq_fx_alone(wd_store *st, const wd_store_fx *fx) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if ((rc = wd_store__sq_begin(c)) == 0) rc = wd_store__sq_end(c, wd_store__sq_apply_fx(c, fx));
  wd_store__sq_release(s, c);
  return rc;
}

int wd_store__sq_apply_fx(sq_conn *c, const wd_store_fx *fx) {
  sqlite3_stmt *q = NULL;
  int rc;
  /* An effect that names the request's token applies only while it lives. */
  if ((rc = bearer_live(c, fx)) != 0) return rc;
  switch (fx->kind) {
  case WD_STORE_FX_DPOP:
    /* The caller's replay cache already decided the jti is new: keep it
     * for the cache's reload after a restart. */
    if ((rc = wd_store__sq_stmt(c, SQ_DPOP_SPENT, &q)) ||
        (rc = wd_store__sq_bind_text(q, 1, fx->jti)) || (rc = BIND64(q, 2, fx->exp_ms)))
      return rc;
    return wd_store__sq_exec(c, SQ_DPOP_SPENT, q);
  case WD_STORE_FX_CALL:
    if ((rc = wd_store__sq_stmt(c, SQ_TASK_CALLED, &q)) ||
        (rc = wd_store__sq_bind_text(q, 1, fx->task_id)) ||
        (rc = BIND64(q, 2, fx->allowed ? 0 : 1)) || (rc = wd_store__sq_exec(c, SQ_TASK_CALLED, q)))
      return rc;
    if (!fx->allowed) return 0;
    if ((rc = session_put(c, fx->task_id, KIND_TOOL, fx->tool)) ||
        (rc = session_put(c, fx->task_id, KIND_CLASS, fx->classification)))
      return rc;
    return session_put(c, fx->task_id, KIND_DEST, fx->destination);
  case WD_STORE_FX_TASK_OPEN: return task_insert(c, fx->task, fx->ttl_ms, fx->now_ms);
  case WD_STORE_FX_TOKEN: return token_insert(c, fx->jti, fx->task_id, fx->exp_ms, fx->now_ms);
  case WD_STORE_FX_TASK_END: return task_end_in(c, fx->task_id, fx->status, fx->reason, fx->now_ms);
  case WD_STORE_FX_ENROL: return wd_store__sq_enrol_fx(c, fx);
  case WD_STORE_FX_POLICY: return wd_store__sq_policy_fx(c, fx);
  case WD_STORE_FX_SETTING: return wd_store__sq_setting_fx(c, fx);
  case WD_STORE_FX_AGENT_STATUS: return wd_store__sq_agent_status_fx(c, fx);
  case WD_STORE_FX_AGENT_REGISTER: return wd_store__sq_register_fx(c, fx);
  case WD_STORE_FX_JOIN: return wd_store__sq_join_fx(c, fx);
  case WD_STORE_FX_TASK_REVOKE: return revoke_task_tokens(c, fx->task_id, fx->now_ms, NULL);
  case WD_STORE_FX_PRUNE: return wd_store__sq_prune_fx(c, fx);
  case WD_STORE_FX_TASK_INTENT:
    return set_intent_in(c, fx->task_id, fx->intent, fx->purpose, fx->expected_tools, fx->now_ms);
  }
  return -WD_E_INVAL;
}

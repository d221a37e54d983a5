/* SPDX-License-Identifier: Apache-2.0
 *
 * Private header of the SQLite backend: the connection pool, the table of
 * every SQL statement it runs (prepared once per connection, on first use)
 * and small helpers shared by store_sqlite*.c. The only header in the
 * project that includes sqlite3.h.
 */
#ifndef WD_STORE_SQLITE_INT_H
#define WD_STORE_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "store/store_int.h"
#include "util/wd_limits.h"

#define SQ_AGENT_COLS "id,name,owner,tier,environment,attrs,status,jwk,jkt,created_ms,updated_ms"
#define SQ_TASK_COLS                                                                               \
  "id,agent_id,intent,purpose,expected_tools,ceiling,on_behalf_of,created_ms,expires_ms,budget,"   \
  "calls,denials,status,end_reason,ended_ms"
#define SQ_AUDIT_COLS "seq,time,type,actor,task,payload,prev_hash,hash"
/* The tasks and join tokens one retention pass takes: ?1 the cutoff, ?2
 * how many. Rows never join these sets once the cutoff is past (a task
 * ends at the time it ends, a join token's expiry is fixed), so a plan's
 * count names the same rows when its effect runs. */
#define SQ_PRUNE_ORDER    "WHERE status<>'open' AND ended_ms<?1 ORDER BY ended_ms, id "
#define SQ_PRUNABLE_TASKS "SELECT id FROM tasks " SQ_PRUNE_ORDER "LIMIT ?2"
#define SQ_PRUNE_FIRST    "SELECT id FROM tasks " SQ_PRUNE_ORDER "LIMIT 1"
#define SQ_PRUNABLE_JOINS                                                                          \
  "SELECT hash FROM join_tokens WHERE expires_ms<?1 ORDER BY expires_ms, hash LIMIT ?2"

/* Every statement, by id. Placeholders are numbered so that the C code
 * binding them can be read next to the SQL. */
#define SQ_STMT_MAP(XX)                                                                            \
  XX(BEGIN, "BEGIN IMMEDIATE")                                                                     \
  XX(BEGIN_READ, "BEGIN")                                                                          \
  XX(COMMIT, "COMMIT")                                                                             \
  XX(ROLLBACK, "ROLLBACK")                                                                         \
  XX(AGENT_INSERT,                                                                                 \
     "INSERT INTO agents(" SQ_AGENT_COLS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?10)")           \
  XX(AGENT_BY_ID, "SELECT " SQ_AGENT_COLS " FROM agents WHERE id=?1")                              \
  XX(AGENT_BY_JKT, "SELECT " SQ_AGENT_COLS " FROM agents WHERE jkt=?1")                            \
  XX(AGENT_BY_NAME, "SELECT " SQ_AGENT_COLS " FROM agents WHERE name=?1")                          \
  XX(AGENT_LIST, "SELECT " SQ_AGENT_COLS " FROM agents WHERE name>?1 ORDER BY name LIMIT ?2")      \
  XX(AGENT_SET_STATUS, "UPDATE agents SET status=?2, updated_ms=?3 WHERE id=?1")                   \
  XX(AGENT_SET_KEY,                                                                                \
     "UPDATE agents SET jwk=?2, jkt=?3, status=CASE status WHEN 'pending' THEN 'active' "          \
     "ELSE status END, updated_ms=?4 WHERE id=?1")                                                 \
  XX(AGENT_REVOKE_TOKENS,                                                                          \
     "UPDATE tokens SET revoked_ms=?2 WHERE revoked_ms IS NULL AND task_id IN "                    \
     "(SELECT id FROM tasks WHERE agent_id=?1 AND status='open')")                                 \
  XX(AGENT_END_TASKS, "UPDATE tasks SET status='revoked', end_reason=?2, ended_ms=?3 "             \
                      "WHERE agent_id=?1 AND status='open'")                                       \
  XX(JOIN_INSERT,                                                                                  \
     "INSERT INTO join_tokens(hash,agent_name,expires_ms,created_ms) VALUES(?1,?2,?3,?4)")         \
  XX(JOIN_GET, "SELECT agent_name, expires_ms, used_ms FROM join_tokens WHERE hash=?1")            \
  XX(JOIN_USE, "UPDATE join_tokens SET used_ms=?2 WHERE hash=?1 AND used_ms IS NULL")              \
  XX(JOIN_DROP_OTHERS,                                                                             \
     "UPDATE join_tokens SET used_ms=?2 WHERE agent_name=?1 AND used_ms IS NULL")                  \
  XX(TASK_INSERT,                                                                                  \
     "INSERT INTO tasks(id,agent_id,intent,purpose,expected_tools,ceiling,on_behalf_of,"           \
     "created_ms,expires_ms,budget,status) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,'open')")         \
  XX(TASK_GET, "SELECT " SQ_TASK_COLS " FROM tasks WHERE id=?1")                                   \
  XX(TASK_SET_INTENT, "UPDATE tasks SET intent=?2, purpose=COALESCE(?3,purpose), "                 \
                      "expected_tools=COALESCE(?4,expected_tools) WHERE id=?1 AND status='open'")  \
  XX(TASK_END,                                                                                     \
     "UPDATE tasks SET status=?2, end_reason=?3, ended_ms=?4 WHERE id=?1 AND status='open'")       \
  XX(TASK_STATE, "SELECT status, expires_ms, calls, budget FROM tasks WHERE id=?1")                \
  XX(TASK_COUNT, "UPDATE tasks SET calls=calls+1 WHERE id=?1 AND status='open' AND expires_ms>?2 " \
                 "AND calls<budget RETURNING calls")                                               \
  XX(TASK_DENIAL, "UPDATE tasks SET denials=denials+1 WHERE id=?1")                                \
  XX(TASK_CALLED, "UPDATE tasks SET calls=calls+1, denials=denials+?2 WHERE id=?1")                \
  XX(TASK_OPEN_COUNT,                                                                              \
     "SELECT count(*) FROM tasks WHERE agent_id=?1 AND status='open' AND expires_ms>?2")           \
  XX(TASK_OPEN_OF, "SELECT id FROM tasks WHERE agent_id=?1 AND status='open' "                     \
                   "ORDER BY created_ms, id LIMIT ?2")                                             \
  XX(TASK_EXPIRED, "SELECT id FROM tasks WHERE status='open' AND expires_ms<=?1 "                  \
                   "ORDER BY expires_ms, id LIMIT ?2")                                             \
  XX(SESSION_ADD, "INSERT OR IGNORE INTO task_session(task_id,kind,value) VALUES(?1,?2,?3)")       \
  XX(SESSION_COUNT, "SELECT count(*) FROM task_session WHERE task_id=?1 AND kind=?2")              \
  XX(SESSION_LIST, "SELECT kind, value FROM task_session WHERE task_id=?1 ORDER BY kind, value")   \
  XX(TOKEN_INSERT, "INSERT INTO tokens(jti,task_id,exp_ms,issued_ms) VALUES(?1,?2,?3,?4)")         \
  XX(TOKEN_REVOKE, "UPDATE tokens SET revoked_ms=coalesce(revoked_ms,?2) WHERE jti=?1")            \
  XX(TOKEN_REVOKE_TASK, "UPDATE tokens SET revoked_ms=?2 WHERE task_id=?1 AND revoked_ms IS NULL") \
  XX(TOKEN_LIVE, "SELECT 1 FROM tokens WHERE jti=?1 AND task_id=?2 AND revoked_ms IS NULL")        \
  XX(TOKEN_CHECK,                                                                                  \
     "SELECT t.revoked_ms IS NOT NULL, k.status, a.status FROM tokens t "                          \
     "JOIN tasks k ON k.id=t.task_id JOIN agents a ON a.id=k.agent_id WHERE t.jti=?1")             \
  XX(DPOP_SEEN, "INSERT INTO dpop_seen(exp_ms,jti) VALUES(?2,?1) ON CONFLICT DO NOTHING")          \
  XX(DPOP_PRUNE, "DELETE FROM dpop_seen WHERE exp_ms<=?1")                                         \
  XX(DPOP_LIVE, "SELECT jti, exp_ms FROM dpop_seen WHERE exp_ms>?1 "                               \
                "UNION ALL SELECT jti, exp_ms FROM dpop_spent WHERE exp_ms>?1")                    \
  XX(DPOP_SPENT, "INSERT INTO dpop_spent(exp_ms,jti) VALUES(?2,?1)")                               \
  XX(DPOP_PRUNE_SPENT, "DELETE FROM dpop_spent WHERE rowid<coalesce("                              \
                       "(SELECT rowid FROM dpop_spent WHERE exp_ms>?1 ORDER BY rowid LIMIT 1),"    \
                       "(SELECT max(rowid)+1 FROM dpop_spent))")                                   \
  /* Candidates in pass order with their rows; read only as far as a                               \
   * pass takes them. */                                                                           \
  XX(PRUNE_CANDIDATES,                                                                             \
     "SELECT (SELECT count(*) FROM tokens WHERE task_id=t.id), "                                   \
     "(SELECT count(*) FROM task_session WHERE task_id=t.id), id FROM tasks t " SQ_PRUNE_ORDER     \
     "LIMIT ?2")                                                                                   \
  /* Part of the first candidate, too large for a pass: ?1 the cutoff,                             \
   * ?2 how many. It stays the first while its rows go. */                                         \
  XX(PRUNE_PART_TOKENS,                                                                            \
     "DELETE FROM tokens WHERE jti IN (SELECT jti FROM tokens WHERE task_id=(" SQ_PRUNE_FIRST      \
     ") ORDER BY jti LIMIT ?2)")                                                                   \
  XX(PRUNE_PART_SESSION,                                                                           \
     "DELETE FROM task_session WHERE task_id=(" SQ_PRUNE_FIRST ") AND (kind, value) IN ("          \
     "SELECT kind, value FROM task_session WHERE task_id=(" SQ_PRUNE_FIRST ") "                    \
     "ORDER BY kind, value LIMIT ?2)")                                                             \
  XX(PRUNE_JOIN_COUNT, "SELECT count(*) FROM (" SQ_PRUNABLE_JOINS ")")                             \
  XX(PRUNE_TOKENS, "DELETE FROM tokens WHERE task_id IN (" SQ_PRUNABLE_TASKS ")")                  \
  XX(PRUNE_SESSIONS, "DELETE FROM task_session WHERE task_id IN (" SQ_PRUNABLE_TASKS ")")          \
  XX(PRUNE_TASKS, "DELETE FROM tasks WHERE id IN (" SQ_PRUNABLE_TASKS ")")                         \
  XX(PRUNE_JOINS, "DELETE FROM join_tokens WHERE hash IN (" SQ_PRUNABLE_JOINS ")")                 \
  XX(POLICY_INSERT,                                                                                \
     "INSERT INTO policy_versions(version,text,active,created_ms) VALUES("                         \
     "(SELECT coalesce(max(version),0)+1 FROM policy_versions),?1,0,?2) RETURNING version")        \
  XX(POLICY_CLEAR, "UPDATE policy_versions SET active=0 WHERE active=1")                           \
  XX(POLICY_SET, "UPDATE policy_versions SET active=1 WHERE version=?1")                           \
  XX(POLICY_GET, "SELECT version,text,active,created_ms FROM policy_versions WHERE version=?1")    \
  XX(POLICY_ACTIVE, "SELECT version,text,active,created_ms FROM policy_versions WHERE active=1")   \
  XX(SETTING_INSERT, "INSERT INTO settings(key,value) VALUES(?1,?2)")                              \
  XX(SETTING_UPSERT, "INSERT INTO settings(key,value) VALUES(?1,?2) "                              \
                     "ON CONFLICT(key) DO UPDATE SET value=excluded.value")                        \
  XX(SETTING_GET, "SELECT value FROM settings WHERE key=?1")                                       \
  XX(AUDIT_TAIL, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")                          \
  XX(AUDIT_INSERT, "INSERT INTO audit(" SQ_AUDIT_COLS ") VALUES(?1,?2,?3,?4,?5,?6,?7,?8)")         \
  XX(AUDIT_SCAN, "SELECT " SQ_AUDIT_COLS " FROM audit WHERE seq>=?1 ORDER BY seq")                 \
  XX(AUDIT_SCAN_TASK,                                                                              \
     "SELECT " SQ_AUDIT_COLS " FROM audit WHERE task=?1 AND seq>=?2 ORDER BY seq")                 \
  XX(SCHEMA_VERSION, "SELECT coalesce(max(version),0) FROM schema_version")                        \
  XX(SAVEPOINT, "SAVEPOINT job")                                                                   \
  XX(RELEASE, "RELEASE job")                                                                       \
  XX(ROLLBACK_TO, "ROLLBACK TO job")

typedef enum {
#define XX(id, sql) SQ_##id,
  SQ_STMT_MAP(XX)
#undef XX
      SQ__COUNT
} sq_stmt_id;

typedef struct sq_conn {
  sqlite3 *db;
  sqlite3_stmt *stmt[SQ__COUNT]; /* prepared on first use, finalized at close */
  struct sq_conn *next_free;     /* link in the pool's free list */
} sq_conn;

struct sq_job;

typedef struct sq_store {
  wd_store base; /* must be first */
  char *path;    /* owned */
  pthread_mutex_t mu;
  pthread_cond_t cv; /* signalled when a connection is released */
  sq_conn *free;     /* idle connections */
  sq_conn *all[WD_LIMIT_STORE_CONNECTIONS];
  unsigned nconn;
  /* Group commit of hot writes (store_sqlite_group.c), under mu. */
  pthread_cond_t gcv;           /* signalled when a batch is done */
  struct sq_job *ghead, *gtail; /* jobs waiting for a committer */
  int gbusy;                    /* a committer is running */
  uint64_t gjobs, gcommits;     /* statistics */
} sq_store;

/* A write run inside a shared transaction: returns 0 or -WD_E_xxx and
 * must not BEGIN or COMMIT. Its own changes are rolled back (to a
 * savepoint) when it fails; its outputs are valid only if the grouped
 * call returns 0. */
typedef int (*sq_job_fn)(sq_conn *c, void *arg);
/* Runs fn in a transaction shared with concurrent callers (group commit)
 * and returns once that transaction is durable: fn's result, or the
 * commit's error. */
int wd_store__sq_grouped(sq_store *s, sq_job_fn fn, void *arg);

/* Borrows a connection from the pool (opening one if below the limit,
 * waiting otherwise). Every acquire is paired with wd_store__sq_release. */
int wd_store__sq_acquire(sq_store *s, sq_conn **out);
/* Resets every statement, rolls back an unfinished transaction and returns
 * the connection to the pool, so no read snapshot outlives a call. */
void wd_store__sq_release(sq_store *s, sq_conn *c);
/* Returns the connection's cached statement, reset and unbound. */
int wd_store__sq_stmt(sq_conn *c, sq_stmt_id id, sqlite3_stmt **out);
/* Maps an SQLite result code to -WD_E_xxx. */
int wd_store__sq_err(int src);
/* Steps q expecting SQLITE_DONE; returns 0 or the mapped error. Resets q. */
int wd_store__sq_exec(sq_conn *c, sq_stmt_id id, sqlite3_stmt *q);
/* Runs a statement with no parameters to completion (BEGIN, COMMIT...). */
int wd_store__sq_simple(sq_conn *c, sq_stmt_id id);
/* BEGIN IMMEDIATE; and the matching end: commits when rc == 0, else rolls
 * back; returns rc or the commit's error. */
int wd_store__sq_begin(sq_conn *c);
int wd_store__sq_end(sq_conn *c, int rc);
/* Binds s (NULL binds SQL NULL). */
int wd_store__sq_bind_text(sqlite3_stmt *q, int idx, const char *s);
/* Owned copy of a text column in *out (NULL for SQL NULL); -WD_E_NOMEM. */
int wd_store__sq_col_dup(sqlite3_stmt *q, int col, char **out);

/* The vtable entries, by file. */
int wd_store__sq_agent_register(wd_store *s, const wd_agent *a, int64_t now_ms);
int wd_store__sq_agent_get(wd_store *s, const char *id, const char *jkt, wd_agent *out);
int wd_store__sq_agent_list(wd_store *s, const char *after, size_t max, wd_agent_list *out);
int wd_store__sq_agent_set_status(wd_store *s, const char *id, wd_agent_status st,
                                  const char *reason, int64_t now_ms, unsigned *tasks_ended);
int wd_store__sq_join_create(wd_store *s, const char *hash, const char *agent_name,
                             int64_t expires_ms, int64_t now_ms);
int wd_store__sq_join_consume(wd_store *s, const char *hash, const char *jwk, const char *jkt,
                              int64_t now_ms, wd_agent *agent);
int wd_store__sq_join_check(wd_store *s, const char *hash, int64_t now_ms, const char *agent_id);
/* WD_STORE_FX_POLICY and WD_STORE_FX_SETTING inside the record's
 * transaction. */
int wd_store__sq_policy_fx(sq_conn *c, const wd_store_fx *fx);
int wd_store__sq_setting_fx(sq_conn *c, const wd_store_fx *fx);
/* WD_STORE_FX_AGENT_STATUS inside the record's transaction. */
int wd_store__sq_agent_status_fx(sq_conn *c, const wd_store_fx *fx);
/* WD_STORE_FX_AGENT_REGISTER and WD_STORE_FX_JOIN inside the record's
 * transaction. */
int wd_store__sq_register_fx(sq_conn *c, const wd_store_fx *fx);
int wd_store__sq_join_fx(sq_conn *c, const wd_store_fx *fx);
/* WD_STORE_FX_ENROL inside the record's transaction. */
int wd_store__sq_enrol_fx(sq_conn *c, const wd_store_fx *fx);

int wd_store__sq_task_create(wd_store *s, const wd_task *t, int64_t ttl_ms, int64_t now_ms);
int wd_store__sq_task_get(wd_store *s, const char *id, wd_task *out);
int wd_store__sq_task_set_intent(wd_store *s, const char *id, const char *intent,
                                 const char *purpose, const char *expected_tools, int64_t now_ms);
int wd_store__sq_task_end(wd_store *s, const char *id, wd_task_status st, const char *reason,
                          int64_t now_ms);
int wd_store__sq_task_count_call(wd_store *s, const char *id, int64_t now_ms,
                                 wd_call_verdict *verdict, int64_t *calls_before);
int wd_store__sq_task_record_call(wd_store *s, const char *id, const char *tool, const char *cls,
                                  const char *dest, int allowed);
int wd_store__sq_task_session(wd_store *s, const char *id, wd_session *out);
int wd_store__sq_task_list_expired(wd_store *s, int64_t now_ms, size_t max, wd_strlist *out);
int wd_store__sq_task_list_open(wd_store *s, const char *agent_id, size_t max, wd_strlist *out);
int wd_store__sq_token_record(wd_store *s, const char *jti, const char *task_id, int64_t exp_ms,
                              int64_t now_ms);
int wd_store__sq_token_revoke(wd_store *s, const char *jti, int64_t now_ms);
int wd_store__sq_token_revoke_task(wd_store *s, const char *task_id, int64_t now_ms, unsigned *n);
int wd_store__sq_token_is_revoked(wd_store *s, const char *jti, int *revoked);
int wd_store__sq_dpop_seen(wd_store *s, const char *jti, int64_t exp_ms, int *is_new);
int wd_store__sq_dpop_prune(wd_store *s, int64_t now_ms, unsigned *n);
int wd_store__sq_dpop_scan(wd_store *s, int64_t now_ms, wd_dpop_cb cb, void *ctx);
/* Copies the database into a new file (store_sqlite_backup.c). */
int wd_store__sq_backup(wd_store *s, const char *path);
int wd_store__sq_prune_plan(wd_store *s, int64_t before_ms, uint32_t max, wd_store_prune *out);
/* WD_STORE_FX_PRUNE inside the record's transaction (store_sqlite_prune.c). */
int wd_store__sq_prune_fx(sq_conn *c, const wd_store_fx *fx);

int wd_store__sq_policy_add(wd_store *s, const char *text, size_t len, int64_t now_ms,
                            int64_t *version);
int wd_store__sq_policy_activate(wd_store *s, int64_t version);
int wd_store__sq_policy_get(wd_store *s, int64_t version, wd_policy_version *out);
int wd_store__sq_setting_put(wd_store *s, const char *key, const char *value, int only_if_absent);
int wd_store__sq_setting_get(wd_store *s, const char *key, char **value);
int wd_store__sq_audit_tail(wd_store *s, int64_t *seq, char *hash);
int wd_store__sq_audit_append(wd_store *s, const wd_audit_row *rows, size_t n,
                              const wd_store_fx *fx, size_t nfx, size_t *bad_fx);
/* Applies one effect inside the caller's transaction (store_sqlite_task.c). */
int wd_store__sq_apply_fx(sq_conn *c, const wd_store_fx *fx);
/* Applies one effect in a transaction of its own: the plain store call
 * it mirrors. */
int wd_store__sq_fx_alone(wd_store *s, const wd_store_fx *fx);
int wd_store__sq_audit_scan(wd_store *s, const char *task, int64_t from_seq, wd_audit_row_cb cb,
                            void *ctx);

#endif

/* SPDX-License-Identifier: Apache-2.0
 *
 * The SQLite backend's core: opening the database file, the schema
 * migrations, the connection pool and the statement cache. The operations
 * themselves live in store_sqlite_{agent,task,misc}.c.
 *
 * Durability and concurrency choices: WAL journal, synchronous=FULL (a
 * committed transaction survives power loss), foreign keys on, a busy
 * timeout, and one connection per concurrent caller taken from a pool, so
 * libmicrohttpd's worker threads never share a connection. Every write
 * starts with BEGIN IMMEDIATE so that writers queue on the busy timeout
 * instead of failing on a lock upgrade.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "store/store_sqlite_int.h"
#include "util/wd_alloc.h"

static const char *const stmt_sql[SQ__COUNT] = {
#define XX(id, sql) sql,
    SQ_STMT_MAP(XX)
#undef XX
};

/* Migration N brings the schema from version N-1 to N. Never edit a
 * shipped entry: append a new one. */
static const char *const migrations[] = {
    /* 1: the initial schema */
    "CREATE TABLE agents("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, owner TEXT NOT NULL,"
    " tier TEXT NOT NULL, environment TEXT NOT NULL, attrs TEXT NOT NULL DEFAULT '{}',"
    " status TEXT NOT NULL, jwk TEXT, jkt TEXT UNIQUE,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE TABLE join_tokens("
    " hash TEXT PRIMARY KEY, agent_name TEXT NOT NULL REFERENCES agents(name),"
    " expires_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL, used_ms INTEGER) WITHOUT ROWID;"
    "CREATE TABLE tasks("
    " id TEXT PRIMARY KEY, agent_id TEXT NOT NULL REFERENCES agents(id),"
    " intent TEXT NOT NULL, purpose TEXT NOT NULL, expected_tools TEXT NOT NULL,"
    " ceiling TEXT NOT NULL, on_behalf_of TEXT, created_ms INTEGER NOT NULL,"
    " expires_ms INTEGER NOT NULL, budget INTEGER NOT NULL,"
    " calls INTEGER NOT NULL DEFAULT 0, denials INTEGER NOT NULL DEFAULT 0,"
    " status TEXT NOT NULL, end_reason TEXT, ended_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX tasks_open_exp ON tasks(expires_ms) WHERE status='open';"
    "CREATE INDEX tasks_agent ON tasks(agent_id, status);"
    "CREATE TABLE task_session("
    " task_id TEXT NOT NULL REFERENCES tasks(id), kind INTEGER NOT NULL, value TEXT NOT NULL,"
    " PRIMARY KEY(task_id, kind, value)) WITHOUT ROWID;"
    "CREATE TABLE tokens("
    " jti TEXT PRIMARY KEY, task_id TEXT NOT NULL REFERENCES tasks(id),"
    " exp_ms INTEGER NOT NULL, issued_ms INTEGER NOT NULL, revoked_ms INTEGER) WITHOUT ROWID;"
    "CREATE INDEX tokens_task ON tokens(task_id);"
    "CREATE TABLE dpop_jti(jti TEXT PRIMARY KEY, exp_ms INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX dpop_exp ON dpop_jti(exp_ms);"
    "CREATE TABLE policy_versions("
    " version INTEGER PRIMARY KEY, text TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX policy_one_active ON policy_versions(active) WHERE active=1;"
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE audit("
    " seq INTEGER PRIMARY KEY, time TEXT NOT NULL, type TEXT NOT NULL, actor TEXT NOT NULL,"
    " task TEXT, payload TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
    "CREATE INDEX audit_task ON audit(task, seq) WHERE task IS NOT NULL;"
    /* Defence in depth: the log is append-only even for code that goes
     * around the store API. The verifier still catches edits made by
     * anyone who drops these triggers. */
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'evidence log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'evidence log is append-only'); END;",
    /* 2: DPoP proofs keyed by (expiry, jti). Expiries grow with time, so
     * each commit's new proofs land on the last page or two instead of
     * one random page of a jti-ordered tree each; pruning is a range at
     * the front. A replay carries the same iat, hence the same expiry. */
    "CREATE TABLE dpop_seen(exp_ms INTEGER NOT NULL, jti TEXT NOT NULL,"
    " PRIMARY KEY(exp_ms, jti)) WITHOUT ROWID;"
    "INSERT INTO dpop_seen(exp_ms, jti) SELECT exp_ms, jti FROM dpop_jti;"
    "DROP TABLE dpop_jti;",
    /* 3: proofs the service's replay cache judged, kept only so a restart
     * reloads them. Expiries are in seconds, so one second's proofs share
     * an expiry and dpop_seen orders them by their random jtis: at
     * thousands of calls a second, each commit touched about one page of
     * that table per call, most of the log's writes. Appended in rowid
     * order, a commit's proofs fill the last page; nothing looks them up
     * by jti (the cache answers while they live). */
    "CREATE TABLE dpop_spent(exp_ms INTEGER NOT NULL, jti TEXT NOT NULL);",
    /* 4: an enrolment spends the agent's other unused join tokens, which
     * without this index is a scan of every token ever made. */
    "CREATE INDEX join_unused ON join_tokens(agent_name) WHERE used_ms IS NULL;",
    /* 5: retention removes the tasks that ended longest ago and the join
     * tokens that expired longest ago, oldest first, a range of each. */
    ("CREATE INDEX tasks_ended ON tasks(ended_ms, id) WHERE status<>'open';"
     "CREATE INDEX join_expiry ON join_tokens(expires_ms, hash);"),
};

#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- helpers -------------------------------------------------------------- */

int wd_store__sq_err(int src) {
  switch (src & 0xff) {
  case SQLITE_OK:
  case SQLITE_DONE:
  case SQLITE_ROW: return 0;
  case SQLITE_NOMEM: return -WD_E_NOMEM;
  case SQLITE_TOOBIG: return -WD_E_TOOBIG;
  case SQLITE_CONSTRAINT:
    switch (src) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE: return -WD_E_EXISTS;
    case SQLITE_CONSTRAINT_FOREIGNKEY: return -WD_E_NOTFOUND;
    default: return -WD_E_INVAL;
    }
  case SQLITE_IOERR:
  case SQLITE_FULL: return -WD_E_IO;
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB: return -WD_E_CORRUPT;
  default: return -WD_E_STORE;
  }
}

int wd_store__sq_stmt(sq_conn *c, sq_stmt_id id, sqlite3_stmt **out) {
  if (!c->stmt[id]) {
    int rc =
        sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &c->stmt[id], NULL);
    if (rc != SQLITE_OK) return wd_store__sq_err(rc);
  } else {
    sqlite3_reset(c->stmt[id]);
    sqlite3_clear_bindings(c->stmt[id]);
  }
  *out = c->stmt[id];
  return 0;
}

int wd_store__sq_exec(sq_conn *c, sq_stmt_id id, sqlite3_stmt *q) {
  int rc = sqlite3_step(q);
  (void)c;
  (void)id;
  if (rc == SQLITE_ROW) rc = SQLITE_DONE; /* RETURNING rows that nobody reads */
  if (rc != SQLITE_DONE) {
    int ext = sqlite3_extended_errcode(sqlite3_db_handle(q));
    sqlite3_reset(q);
    return wd_store__sq_err(ext ? ext : rc);
  }
  sqlite3_reset(q);
  return 0;
}

int wd_store__sq_simple(sq_conn *c, sq_stmt_id id) {
  sqlite3_stmt *q = NULL;
  int rc = wd_store__sq_stmt(c, id, &q);
  return rc ? rc : wd_store__sq_exec(c, id, q);
}

int wd_store__sq_begin(sq_conn *c) { return wd_store__sq_simple(c, SQ_BEGIN); }

int wd_store__sq_end(sq_conn *c, int rc) {
  if (rc == 0) {
    rc = wd_store__sq_simple(c, SQ_COMMIT);
    if (rc == 0) return 0;
  }
  if (!sqlite3_get_autocommit(c->db)) (void)wd_store__sq_simple(c, SQ_ROLLBACK);
  return rc;
}

int wd_store__sq_bind_text(sqlite3_stmt *q, int idx, const char *s) {
  int rc = s ? sqlite3_bind_text(q, idx, s, -1, SQLITE_STATIC) : sqlite3_bind_null(q, idx);
  return wd_store__sq_err(rc);
}

int wd_store__sq_col_dup(sqlite3_stmt *q, int col, char **out) {
  const unsigned char *t = sqlite3_column_text(q, col);
  *out = NULL;
  if (!t) return sqlite3_column_type(q, col) == SQLITE_NULL ? 0 : -WD_E_NOMEM;
  *out = wd_strndup((const char *)t, (size_t)sqlite3_column_bytes(q, col));
  return *out ? 0 : -WD_E_NOMEM;
}

/* ---- connections ---------------------------------------------------------- */

static void conn_close(sq_conn *c) {
  if (!c) return;
  for (int i = 0; i < SQ__COUNT; i++)
    sqlite3_finalize(c->stmt[i]);
  sqlite3_close_v2(c->db);
  wd_free(c);
}

/* SQLite's own busy handler backs off in steps of up to 100 ms, so a
 * commit held off by a checkpoint's restart (a few milliseconds) came
 * back long after it could have. Polling every 200 us ends the wait
 * within a fraction of a millisecond, for the same total limit. */
#define BUSY_POLL_US 200L

/* arg: NULL for WD_LIMIT_STORE_BUSY_MS, or the longest wait in us. */
static int busy_poll(void *arg, int tries) {
  long long limit_us = arg ? *(const long long *)arg : (long long)WD_LIMIT_STORE_BUSY_MS * 1000;
  if ((long long)tries * BUSY_POLL_US >= limit_us) return 0;
  struct timespec ts = {0, BUSY_POLL_US * 1000L};
  (void)nanosleep(&ts, NULL);
  return 1;
}

static int conn_pragmas(sqlite3 *db, unsigned flags) {
  /* journal_mode is persistent in the file; setting it again is a no-op.
   * temp_store=MEMORY keeps statement journals (upserts, updates inside a
   * grouped commit) off temporary files: Debian's default put a file
   * write under every call's effects. */
  static const char rw[] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                           "PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF;"
                           "PRAGMA temp_store=MEMORY;";
  char limit[64];
  static const char ro[] = "PRAGMA query_only=ON; PRAGMA trusted_schema=OFF;";
  int rc = sqlite3_busy_handler(db, busy_poll, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(db, (flags & WD_STORE_READONLY) ? ro : rw, NULL, NULL, NULL);
  if (rc == SQLITE_OK && (flags & WD_STORE_MANUAL_CHECKPOINT))
    rc = sqlite3_exec(db, "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL);
  /* A log that once grew past the limit is cut back when it starts over. */
  (void)snprintf(limit, sizeof limit, "PRAGMA journal_size_limit=%llu",
                 (unsigned long long)WD_LIMIT_STORE_WAL_FRAMES * 4096u);
  if (rc == SQLITE_OK && !(flags & WD_STORE_READONLY))
    rc = sqlite3_exec(db, limit, NULL, NULL, NULL);
  return wd_store__sq_err(rc);
}

static int sq_checkpoint(wd_store *st, uint32_t restart_frames) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  int rc = wd_store__sq_acquire(s, &c);
  if (rc) return rc;
  int frames = 0;
  int src = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, NULL);
  /* A passive checkpoint never catches a log that is written without a
   * pause: the next writer starts the log over only once every frame is
   * back in the database, so under steady load the log grew without end.
   * Past the limit, a restart holds writers off until the log is drained
   * and readers have left it, and the next commit writes from its start.
   * A second passive round first moves what came in during the first, so
   * the restart's own copy and database sync, which writers wait for,
   * stay small. */
  if (src == SQLITE_OK && restart_frames && frames >= 0 && (uint32_t)frames >= restart_frames) {
    src = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    /* The restart waits for readers while it holds writers off: a long
     * reader (an offline `warden audit verify` of a big log) would stall
     * every commit for the whole busy limit, so it waits briefly and
     * gives up, and the next round tries again. */
    static const long long restart_wait_us = (long long)WD_LIMIT_STORE_WAL_WAIT_MS * 1000;
    if (src == SQLITE_OK &&
        sqlite3_busy_handler(c->db, busy_poll, (void *)(uintptr_t)&restart_wait_us) == SQLITE_OK) {
      src = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_RESTART, NULL, NULL);
      (void)sqlite3_busy_handler(c->db, busy_poll, NULL);
    }
  }
  /* BUSY: another checkpoint is running, or a reader stayed; next round. */
  rc = src == SQLITE_OK || (src & 0xff) == SQLITE_BUSY ? 0 : wd_store__sq_err(src);
  wd_store__sq_release(s, c);
  return rc;
}

static int conn_open(sq_store *s, sq_conn **out) {
  int oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  sq_conn *c = wd_calloc(1, sizeof *c);
  int rc;
  if (!c) return -WD_E_NOMEM;
  oflags |= (s->base.flags & WD_STORE_READONLY) ? SQLITE_OPEN_READONLY
                                                : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  rc = sqlite3_open_v2(s->path, &c->db, oflags, NULL);
  if (rc != SQLITE_OK) {
    rc = rc == SQLITE_NOMEM ? -WD_E_NOMEM : -WD_E_STORE;
    goto fail;
  }
  sqlite3_extended_result_codes(c->db, 1);
  if ((rc = conn_pragmas(c->db, s->base.flags))) goto fail;
  *out = c;
  return 0;
fail:
  conn_close(c);
  return rc;
}

int wd_store__sq_acquire(sq_store *s, sq_conn **out) {
  int rc = 0;
  pthread_mutex_lock(&s->mu);
  for (;;) {
    if (s->free) {
      *out = s->free;
      s->free = s->free->next_free;
      break;
    }
    if (s->nconn < WD_LIMIT_STORE_CONNECTIONS) {
      sq_conn *c = NULL;
      unsigned slot = s->nconn++; /* reserve the slot while opening unlocked */
      pthread_mutex_unlock(&s->mu);
      rc = conn_open(s, &c);
      pthread_mutex_lock(&s->mu);
      if (rc) {
        s->nconn--;
        /* INVARIANT: slots are filled in order; a failed open gives its
         * slot back only if nobody opened after it. */
        if (slot != s->nconn) {
          s->nconn++;
          s->all[slot] = NULL;
        }
        pthread_cond_signal(&s->cv);
        break;
      }
      s->all[slot] = c;
      *out = c;
      break;
    }
    pthread_cond_wait(&s->cv, &s->mu);
  }
  pthread_mutex_unlock(&s->mu);
  return rc;
}

void wd_store__sq_release(sq_store *s, sq_conn *c) {
  if (!c) return;
  for (int i = 0; i < SQ__COUNT; i++)
    if (c->stmt[i]) sqlite3_reset(c->stmt[i]);
  if (!sqlite3_get_autocommit(c->db)) (void)sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
  pthread_mutex_lock(&s->mu);
  c->next_free = s->free;
  s->free = c;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

/* ---- migrations ----------------------------------------------------------- */

static int read_version(sq_conn *c, int *version) {
  sqlite3_stmt *q = NULL;
  int rc = wd_store__sq_stmt(c, SQ_SCHEMA_VERSION, &q);
  if (rc) return rc;
  rc = sqlite3_step(q);
  if (rc != SQLITE_ROW) {
    rc = wd_store__sq_err(sqlite3_extended_errcode(c->db));
    sqlite3_reset(q);
    return rc ? rc : -WD_E_STORE;
  }
  *version = sqlite3_column_int(q, 0);
  sqlite3_reset(q);
  return 0;
}

/* Whether the database, inside the caller's transaction, holds schema
 * objects but no schema_version table: another program's database. */
static int foreign_db(sq_conn *c, int *foreign) {
  sqlite3_stmt *q = NULL;
  *foreign = 0;
  int rc = sqlite3_prepare_v2(c->db,
                              "SELECT count(*), coalesce(sum(name = 'schema_version'), 0) FROM "
                              "sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                              -1, &q, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    *foreign = sqlite3_column_int(q, 0) > 0 && sqlite3_column_int(q, 1) == 0;
    rc = SQLITE_OK;
  }
  sqlite3_finalize(q);
  return rc == SQLITE_OK ? 0 : wd_store__sq_err(rc) ? wd_store__sq_err(rc) : -WD_E_STORE;
}

static int migrate_conn(sq_conn *c) {
  int rc, version = 0, foreign = 0;
  char sql[96];
  rc = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return wd_store__sq_end(c, wd_store__sq_err(rc) ? wd_store__sq_err(rc) : -WD_E_STORE);
  /* Tables without a schema_version are another program's: creating ours
   * among them would change a database that is not Warden's. */
  if ((rc = foreign_db(c, &foreign)) != 0) return wd_store__sq_end(c, rc);
  if (foreign) return wd_store__sq_end(c, -WD_E_FOREIGN);
  /* The schema_version table must exist before its statement can be
   * prepared; creating it is itself idempotent. */
  rc = sqlite3_exec(c->db,
                    "CREATE TABLE IF NOT EXISTS schema_version("
                    "version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL);",
                    NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    return wd_store__sq_end(c, wd_store__sq_err(rc) ? wd_store__sq_err(rc) : -WD_E_STORE);
  if ((rc = read_version(c, &version))) return wd_store__sq_end(c, rc);
  if (version > MIGRATION_COUNT) return wd_store__sq_end(c, -WD_E_VERSION);
  for (int v = version + 1; v <= MIGRATION_COUNT; v++) {
    rc = sqlite3_exec(c->db, migrations[v - 1], NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
      int n = snprintf(sql, sizeof sql,
                       "INSERT INTO schema_version VALUES(%d, "
                       "CAST((julianday('now')-2440587.5)*86400000 AS INTEGER))",
                       v);
      rc = (n > 0 && (size_t)n < sizeof sql) ? sqlite3_exec(c->db, sql, NULL, NULL, NULL)
                                             : SQLITE_ERROR;
    }
    if (rc != SQLITE_OK)
      return wd_store__sq_end(c, wd_store__sq_err(rc) ? wd_store__sq_err(rc) : -WD_E_STORE);
  }
  return wd_store__sq_end(c, 0);
}

static int sq_migrate(wd_store *st) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  int rc;
  if (st->flags & WD_STORE_READONLY) return -WD_E_INVAL;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  rc = migrate_conn(c);
  wd_store__sq_release(s, c);
  return rc;
}

static int sq_schema_version(wd_store *st, int *version) {
  sq_store *s = (sq_store *)st;
  sq_conn *c;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  rc = read_version(c, version);
  wd_store__sq_release(s, c);
  return rc;
}

/* ---- open / close --------------------------------------------------------- */

static void sq_close(wd_store *st) {
  sq_store *s = (sq_store *)st;
  for (unsigned i = 0; i < s->nconn; i++)
    conn_close(s->all[i]);
  pthread_cond_destroy(&s->gcv);
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  wd_free(s->path);
  wd_free(s);
}

static const wd_store_vtab sqlite_vtab = {
    .name = "sqlite",
    .close = sq_close,
    .schema_version = sq_schema_version,
    .migrate = sq_migrate,
    .agent_register = wd_store__sq_agent_register,
    .agent_get = wd_store__sq_agent_get,
    .agent_list = wd_store__sq_agent_list,
    .agent_set_status = wd_store__sq_agent_set_status,
    .join_create = wd_store__sq_join_create,
    .join_consume = wd_store__sq_join_consume,
    .join_check = wd_store__sq_join_check,
    .task_create = wd_store__sq_task_create,
    .task_get = wd_store__sq_task_get,
    .task_set_intent = wd_store__sq_task_set_intent,
    .task_end = wd_store__sq_task_end,
    .task_count_call = wd_store__sq_task_count_call,
    .task_record_call = wd_store__sq_task_record_call,
    .task_session = wd_store__sq_task_session,
    .task_list_expired = wd_store__sq_task_list_expired,
    .task_list_open = wd_store__sq_task_list_open,
    .token_record = wd_store__sq_token_record,
    .token_revoke = wd_store__sq_token_revoke,
    .token_revoke_task = wd_store__sq_token_revoke_task,
    .token_is_revoked = wd_store__sq_token_is_revoked,
    .dpop_seen = wd_store__sq_dpop_seen,
    .dpop_prune = wd_store__sq_dpop_prune,
    .prune_plan = wd_store__sq_prune_plan,
    .dpop_scan = wd_store__sq_dpop_scan,
    .checkpoint = sq_checkpoint,
    .backup = wd_store__sq_backup,
    .policy_add = wd_store__sq_policy_add,
    .policy_activate = wd_store__sq_policy_activate,
    .policy_get = wd_store__sq_policy_get,
    .setting_put = wd_store__sq_setting_put,
    .setting_get = wd_store__sq_setting_get,
    .audit_tail = wd_store__sq_audit_tail,
    .audit_append = wd_store__sq_audit_append,
    .audit_scan = wd_store__sq_audit_scan,
};

/* Creates the file with 0600 before SQLite does (it would use 0644 and
 * the umask); the -wal and -shm files inherit the mode of the database. */
static int precreate(const char *path) {
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return errno == ENOMEM ? -WD_E_NOMEM : -WD_E_STORE;
  close(fd);
  return 0;
}

int wd_store__sqlite_open(const char *path, unsigned flags, wd_store **out) {
  sq_store *s;
  sq_conn *c = NULL;
  int rc;
  if (!(flags & WD_STORE_READONLY) && strcmp(path, ":memory:") != 0 && (rc = precreate(path)))
    return rc;
  s = wd_calloc(1, sizeof *s);
  if (!s) return -WD_E_NOMEM;
  s->base.vt = &sqlite_vtab;
  s->base.flags = flags;
  if (pthread_mutex_init(&s->mu, NULL)) {
    wd_free(s);
    return -WD_E_INTERNAL;
  }
  if (pthread_cond_init(&s->cv, NULL)) {
    pthread_mutex_destroy(&s->mu);
    wd_free(s);
    return -WD_E_INTERNAL;
  }
  if (pthread_cond_init(&s->gcv, NULL)) {
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    wd_free(s);
    return -WD_E_INTERNAL;
  }
  s->path = wd_strdup(path);
  if (!s->path) {
    rc = -WD_E_NOMEM;
    goto fail;
  }
  if ((rc = wd_store__sq_acquire(s, &c))) goto fail;
  if (flags & WD_STORE_READONLY) {
    int v = 0;
    int foreign = 0;
    rc = foreign_db(c, &foreign);
    if (rc == 0 && foreign) rc = -WD_E_FOREIGN;
    if (rc == 0) rc = read_version(c, &v);
    if (rc == 0 && v < 1) rc = -WD_E_STORE;
  } else {
    rc = migrate_conn(c);
  }
  wd_store__sq_release(s, c);
  if (rc) goto fail;
  *out = &s->base;
  return 0;
fail:
  sq_close(&s->base);
  return rc;
}

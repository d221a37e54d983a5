/* SPDX-License-Identifier: Apache-2.0
 *
 * The store: every piece of durable service state (agents, join tokens,
 * tasks, issued tokens, the DPoP replay cache, policy versions, settings
 * and the rows of the evidence log) behind one backend-neutral interface.
 * A wd_store is a handle on a backend reached through a vtable
 * (store_int.h); SQLite is always built, a PostgreSQL backend can be added
 * without touching callers. This header never mentions SQL.
 *
 * Conventions: every function returns 0 or -WD_E_xxx; times are
 * milliseconds since the Unix epoch, passed in by the caller so that tests
 * control the clock; every write is one transaction, so a failed call
 * leaves nothing half-written. A wd_store is safe to use from many threads.
 * Strings passed in are borrowed; results are owned structs released with
 * the matching *_free (NULL is a no-op).
 */
#ifndef WD_STORE_H
#define WD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "warden/err.h"
#include "warden/export.h"

typedef struct wd_store wd_store;

/* ---- opening ------------------------------------------------------------ */

enum {
  WD_STORE_READONLY = 1u << 0, /* no writes and no migrations (offline verify) */
  /* Commits never checkpoint the write-ahead log; the owner calls
   * wd_store_checkpoint regularly (keeps that work off the commit path). */
  WD_STORE_MANUAL_CHECKPOINT = 1u << 1,
};

/* Opens the store named by url: "sqlite:PATH", "sqlite://PATH" or a plain
 * file path. A new database file is created with mode 0600 and migrated to
 * the current schema (idempotent; safe with several processes). Returns
 * owned *out (free with wd_store_close). -WD_E_INVAL for an unknown scheme,
 * -WD_E_CORRUPT for a damaged file or one that is not SQLite,
 * -WD_E_VERSION for a schema newer than this build's, -WD_E_FOREIGN for a
 * database that holds tables but no schema_version (another program's; it
 * is left unchanged), -WD_E_STORE when the
 * database cannot be opened or migrated otherwise. */
WD_EXTERN int wd_store_open(const char *url, unsigned flags, wd_store **out) WD_WUR;
/* Closes every connection; NULL is a no-op. No call may be in flight. */
WD_EXTERN void wd_store_close(wd_store *s);
/* Moves committed changes from the write-ahead log into the database
 * without blocking writers; once the log holds restart_frames frames (0:
 * never), it holds writers off briefly so that the log starts over
 * instead of growing. A no-op for backends without such a log. */
WD_EXTERN int wd_store_checkpoint(wd_store *s, uint32_t restart_frames) WD_WUR;
/* Writes a consistent copy of the whole store, as of one moment, into a
 * new file at path (created 0600; -WD_E_EXISTS when something is there),
 * while other connections and processes go on writing. On failure the
 * file is removed. */
WD_EXTERN int wd_store_backup(wd_store *s, const char *path) WD_WUR;
/* The schema version the store is at, after migrations. */
WD_EXTERN int wd_store_schema_version(wd_store *s, int *version) WD_WUR;
/* Re-runs the migrations; a no-op when the schema is current. */
WD_EXTERN int wd_store_migrate(wd_store *s) WD_WUR;

/* ---- agents ------------------------------------------------------------- */

#define WD_AGENT_TIER_MAP(XX)                                                                      \
  XX(READ_ONLY, "read_only")                                                                       \
  XX(STANDARD, "standard")                                                                         \
  XX(HIGH_IMPACT, "high_impact")

typedef enum {
#define XX(c, s) WD_TIER_##c,
  WD_AGENT_TIER_MAP(XX)
#undef XX
} wd_agent_tier;

#define WD_AGENT_STATUS_MAP(XX)                                                                    \
  XX(PENDING, "pending")         /* registered, not yet enrolled */                                \
  XX(ACTIVE, "active")           /* enrolled with a key */                                         \
  XX(QUARANTINED, "quarantined") /* all tasks revoked, new ones refused */                         \
  XX(RETIRED, "retired")

typedef enum {
#define XX(c, s) WD_AGENT_##c,
  WD_AGENT_STATUS_MAP(XX)
#undef XX
} wd_agent_status;

typedef struct wd_agent {
  char *id;    /* SPIFFE ID, spiffe://<trust-domain>/agent/<name> */
  char *name;  /* unique */
  char *owner; /* accountable human or team */
  wd_agent_tier tier;
  char *environment;
  char *attrs; /* JSON object text */
  wd_agent_status status;
  char *jwk; /* public key JWK text, NULL until enrolled */
  char *jkt; /* RFC 7638 thumbprint of jwk, NULL until enrolled */
  int64_t created_ms;
  int64_t updated_ms;
} wd_agent;

typedef struct wd_agent_list {
  wd_agent *items; /* owned */
  size_t n;
  int more; /* agents past the last one listed remain for a later page */
} wd_agent_list;

/* Registers a new agent from the borrowed fields of *a (created_ms and
 * updated_ms are set to now_ms; jwk/jkt may be NULL). -WD_E_EXISTS if the
 * id or name is taken, -WD_E_INVAL for a field that is missing or not a
 * JSON object (attrs), -WD_E_TOOBIG past WD_LIMIT_STORE_FIELD_BYTES. */
WD_EXTERN int wd_store_agent_register(wd_store *s, const wd_agent *a, int64_t now_ms) WD_WUR;
/* Fills owned *out (free with wd_store_agent_free). -WD_E_NOTFOUND if absent. */
WD_EXTERN int wd_store_agent_get(wd_store *s, const char *id, wd_agent *out) WD_WUR;
/* Finds the agent bound to a key thumbprint. -WD_E_NOTFOUND if none. */
WD_EXTERN int wd_store_agent_get_by_jkt(wd_store *s, const char *jkt, wd_agent *out) WD_WUR;
/* Lists one page of agents: those whose name sorts after `after` (NULL:
 * from the first), at most max (and WD_LIMIT_STORE_LIST_ROWS), in order
 * of name compared byte by byte, whatever the backend's locale (in
 * PostgreSQL: COLLATE "C"); out->more says whether more follow. Giving
 * each page's last name as the next page's `after` lists every agent
 * exactly once, however many there are and whoever registers meanwhile.
 * Returns owned *out (free with wd_store_agent_list_free). */
WD_EXTERN int wd_store_agent_list(wd_store *s, const char *after, size_t max,
                                  wd_agent_list *out) WD_WUR;
/* Sets the status. Moving to QUARANTINED or RETIRED also ends every open
 * task of the agent (status REVOKED, with reason) and revokes their tokens,
 * in the same transaction. *tasks_ended (may be NULL) gets how many.
 * -WD_E_NOTFOUND for no such agent, -WD_E_STATE when
 * wd_agent_status_change_ok refuses the change from the status the
 * transaction finds. */
WD_EXTERN int wd_store_agent_set_status(wd_store *s, const char *id, wd_agent_status st,
                                        const char *reason, int64_t now_ms,
                                        unsigned *tasks_ended) WD_WUR;
/* Frees the strings of *a and zeroes it; NULL is a no-op. */
WD_EXTERN void wd_store_agent_free(wd_agent *a);
WD_EXTERN void wd_store_agent_list_free(wd_agent_list *l);

/* ---- join tokens (one-time enrolment) ----------------------------------- */

/* Stores a join token by its hash (the caller hashes; the secret never
 * reaches the store) for the agent named agent_name. */
WD_EXTERN int wd_store_join_create(wd_store *s, const char *token_hash, const char *agent_name,
                                   int64_t expires_ms, int64_t now_ms) WD_WUR;
/* Consumes a join token exactly once, atomically, and enrols: the agent
 * named by the token gets jwk/jkt and becomes ACTIVE in the same
 * transaction. Fills owned *agent (may be NULL). Errors: -WD_E_NOTFOUND
 * for an unknown token, -WD_E_EXISTS when already consumed, -WD_E_INVAL
 * when expired or the agent is not PENDING/ACTIVE, -WD_E_EXISTS when the
 * jkt is already bound to another agent. Nothing changes on failure. */
WD_EXTERN int wd_store_join_consume(wd_store *s, const char *token_hash, const char *jwk,
                                    const char *jkt, int64_t now_ms, wd_agent *agent) WD_WUR;

/* Whether wd_store_join_consume would take the token for agent_id now,
 * with its errors (and -WD_E_NOTFOUND for a token of another agent);
 * reads only. The key's uniqueness is left to the consume. */
WD_EXTERN int wd_store_join_check(wd_store *s, const char *token_hash, int64_t now_ms,
                                  const char *agent_id) WD_WUR;

/* ---- tasks -------------------------------------------------------------- */

#define WD_TASK_STATUS_MAP(XX)                                                                     \
  XX(OPEN, "open")                                                                                 \
  XX(COMPLETED, "completed")                                                                       \
  XX(FAILED, "failed")                                                                             \
  XX(CANCELLED, "cancelled")                                                                       \
  XX(EXPIRED, "expired")     /* reached its TTL (the reaper) */                                    \
  XX(EXHAUSTED, "exhausted") /* ran out of call budget */                                          \
  XX(REVOKED, "revoked")     /* ended by quarantine or an admin */

typedef enum {
#define XX(c, s) WD_TASK_##c,
  WD_TASK_STATUS_MAP(XX)
#undef XX
} wd_task_status;

typedef struct wd_task {
  char *id;
  char *agent_id;
  char *intent;         /* free text */
  char *purpose;        /* short category */
  char *expected_tools; /* JSON array of strings */
  char *ceiling;        /* data-classification ceiling */
  char *on_behalf_of;   /* may be NULL */
  int64_t created_ms;
  int64_t expires_ms; /* created_ms + ttl */
  int64_t budget;     /* maximum calls */
  int64_t calls;      /* calls counted so far */
  int64_t denials;    /* calls denied so far */
  wd_task_status status;
  char *end_reason; /* NULL while open */
  int64_t ended_ms; /* 0 while open */
} wd_task;

/* Creates an OPEN task from the borrowed fields of *t (calls, denials,
 * status, end_reason and ended_ms are ignored; created_ms = now_ms,
 * expires_ms = now_ms + ttl_ms). -WD_E_NOTFOUND for an unknown agent,
 * -WD_E_INVAL if the agent is not ACTIVE or a field is malformed,
 * -WD_E_FULL if it has WD_LIMIT_STORE_OPEN_TASKS open, unexpired tasks
 * already. */
WD_EXTERN int wd_store_task_create(wd_store *s, const wd_task *t, int64_t ttl_ms,
                                   int64_t now_ms) WD_WUR;
/* Fills owned *out (free with wd_store_task_free). -WD_E_NOTFOUND. */
WD_EXTERN int wd_store_task_get(wd_store *s, const char *id, wd_task *out) WD_WUR;
WD_EXTERN void wd_store_task_free(wd_task *t);
/* Replaces the intent of an OPEN task, and its purpose and expected_tools
 * (a JSON array text) unless NULL (NULL keeps the current one), and
 * revokes all its tokens in one transaction (an intent change ends the
 * current credential). All strings are borrowed. -WD_E_INVAL if the task
 * already ended or a field is malformed (nothing changes then),
 * -WD_E_NOTFOUND for an unknown task. */
WD_EXTERN int wd_store_task_set_intent(wd_store *s, const char *id, const char *intent,
                                       const char *purpose, const char *expected_tools,
                                       int64_t now_ms) WD_WUR;
/* Ends an OPEN task: sets st (not OPEN) and reason and revokes all its
 * tokens in one transaction. -WD_E_INVAL if the task already ended. */
WD_EXTERN int wd_store_task_end(wd_store *s, const char *id, wd_task_status st, const char *reason,
                                int64_t now_ms) WD_WUR;

typedef enum {
  WD_CALL_OK = 0,   /* counted */
  WD_CALL_NOT_OPEN, /* task ended */
  WD_CALL_EXPIRED,  /* past expires_ms (not yet reaped) */
  WD_CALL_BUDGET,   /* budget exhausted; nothing counted */
} wd_call_verdict;

/* Atomically counts one call against the budget of an OPEN, unexpired
 * task. On WD_CALL_OK, *calls_before gets the count before this call (may
 * be NULL). Returns 0 with a verdict; errors are for store failures and
 * -WD_E_NOTFOUND. */
WD_EXTERN int wd_store_task_count_call(wd_store *s, const char *id, int64_t now_ms,
                                       wd_call_verdict *verdict, int64_t *calls_before) WD_WUR;
/* Records the outcome of a counted call in the session, in one
 * transaction: an allowed call adds tool, classification and destination
 * (each may be NULL) to the task's sets; a denied call only counts a
 * denial (it used nothing). -WD_E_NOTFOUND for an unknown task,
 * -WD_E_TOOBIG when a set would pass WD_LIMIT_STORE_SESSION_SET (callers
 * deny: a data-flow rule must never miss a value). */
WD_EXTERN int wd_store_task_record_call(wd_store *s, const char *id, const char *tool,
                                        const char *classification, const char *destination,
                                        int allowed) WD_WUR;

typedef struct wd_strlist {
  char **v; /* owned strings, sorted */
  size_t n;
} wd_strlist;

typedef struct wd_session {
  wd_strlist tools;
  wd_strlist classifications;
  wd_strlist destinations;
  int64_t calls;
  int64_t denials;
} wd_session;

/* Fills owned *out (free with wd_store_session_free). -WD_E_NOTFOUND. */
WD_EXTERN int wd_store_task_session(wd_store *s, const char *id, wd_session *out) WD_WUR;
WD_EXTERN void wd_store_session_free(wd_session *ss);
/* Ids of OPEN tasks with expires_ms <= now_ms, oldest first, at most max
 * (and WD_LIMIT_STORE_LIST_ROWS). Owned *out (free with wd_strlist_free). */
WD_EXTERN int wd_store_task_list_expired(wd_store *s, int64_t now_ms, size_t max,
                                         wd_strlist *out) WD_WUR;
/* Ids of the OPEN tasks of an agent, oldest first, at most max (and
 * WD_LIMIT_STORE_LIST_ROWS). Owned *out (free with wd_strlist_free). */
WD_EXTERN int wd_store_task_list_open(wd_store *s, const char *agent_id, size_t max,
                                      wd_strlist *out) WD_WUR;
WD_EXTERN void wd_strlist_free(wd_strlist *l);

/* ---- issued task tokens -------------------------------------------------- */

/* Records an issued token. -WD_E_NOTFOUND for an unknown task, -WD_E_INVAL
 * if the task is not OPEN, -WD_E_EXISTS for a reused jti. */
WD_EXTERN int wd_store_token_record(wd_store *s, const char *jti, const char *task_id,
                                    int64_t exp_ms, int64_t now_ms) WD_WUR;
/* Revokes one token; -WD_E_NOTFOUND if unknown. Revoking twice is fine. */
WD_EXTERN int wd_store_token_revoke(wd_store *s, const char *jti, int64_t now_ms) WD_WUR;
/* Revokes every token of a task; *n (may be NULL) gets how many changed. */
WD_EXTERN int wd_store_token_revoke_task(wd_store *s, const char *task_id, int64_t now_ms,
                                         unsigned *n) WD_WUR;
/* One indexed read, no cache: *revoked = 1 when the token is revoked, its
 * task is not OPEN, or its agent is not ACTIVE; 0 otherwise. An unknown
 * jti is -WD_E_NOTFOUND (callers treat it as revoked). Sees every write
 * committed by any thread or process before the call. */
WD_EXTERN int wd_store_token_is_revoked(wd_store *s, const char *jti, int *revoked) WD_WUR;

/* ---- DPoP replay cache ---------------------------------------------------- */

/* Records the proof (jti, exp_ms) unless it is recorded: *is_new = 1 when
 * it was not, 0 for a replay. A proof's exp_ms follows from its iat, so a
 * replayed proof carries the same pair; entries leave by pruning. Proofs
 * kept by WD_STORE_FX_DPOP are not consulted here: their caller's cache
 * answers for them while they live, and reloads them from
 * wd_store_dpop_scan after a restart. */
WD_EXTERN int wd_store_dpop_seen(wd_store *s, const char *jti, int64_t exp_ms, int *is_new) WD_WUR;
/* Deletes entries with exp_ms <= now_ms; *n (may be NULL) gets how many. */
WD_EXTERN int wd_store_dpop_prune(wd_store *s, int64_t now_ms, unsigned *n) WD_WUR;
/* Calls cb for every entry with exp_ms > now_ms, from wd_store_dpop_seen
 * and from WD_STORE_FX_DPOP alike (jti borrowed for the call); a non-zero
 * return stops the scan and is returned. */
typedef int (*wd_dpop_cb)(void *ctx, const char *jti, int64_t exp_ms);
WD_EXTERN int wd_store_dpop_scan(wd_store *s, int64_t now_ms, wd_dpop_cb cb, void *ctx) WD_WUR;

/* ---- retention ------------------------------------------------------------ */

#define WD_STORE_PRUNE_TASK_ID 64 /* room for a task id a pass takes in part */

/* One retention pass: the tasks that ended longest ago, before a cutoff,
 * with their tokens and session rows, and the join tokens that expired
 * longest ago, before the same cutoff. None of these rows can change a
 * decision again: an ended task's tokens are refused whether their rows
 * are there or not, and so is an expired join token. Open tasks, agents,
 * policy versions and the evidence log are never pruned. */
typedef struct wd_store_prune {
  int64_t before_ms;
  uint32_t tasks;        /* the oldest-ended tasks, this many */
  uint32_t tokens;       /* the tokens of those tasks */
  uint32_t session_rows; /* the session-set values of those tasks */
  uint32_t join_tokens;  /* the longest-expired join tokens, this many */
  int more; /* the plan stopped at its limit: more may be waiting (the effect ignores it) */
  /* 0 for whole tasks. 1: the pass takes part of the first task, which
   * holds more than a pass: its tokens, or, once it has none, its
   * session values (tasks and join_tokens being 0); a later pass takes
   * the task when what is left fits. */
  int part;
  char task[WD_STORE_PRUNE_TASK_ID]; /* with part, that task's id, or "" when longer */
} wd_store_prune;

/* Plans a pass: fills *out with what WD_STORE_FX_PRUNE would remove for
 * before_ms: the leading tasks whose rows (each task, its tokens and its
 * session values) add up to at most max, or, when the first holds more,
 * max of its rows (out->task), and at most max join tokens; max is capped
 * at WD_LIMIT_STORE_PRUNE_ROWS, so a pass holds the writer for a bounded
 * time. Reads only. */
WD_EXTERN int wd_store_prune_plan(wd_store *s, int64_t before_ms, uint32_t max,
                                  wd_store_prune *out) WD_WUR;

/* ---- policy versions ---------------------------------------------------- */

typedef struct wd_policy_version {
  int64_t version; /* 1, 2, ... */
  char *text;      /* Cedar policy text */
  int active;
  int64_t created_ms;
} wd_policy_version;

/* Stores text as a new inactive version; *version gets its number. */
WD_EXTERN int wd_store_policy_add(wd_store *s, const char *text, size_t len, int64_t now_ms,
                                  int64_t *version) WD_WUR;
/* Makes version the only active one, atomically. -WD_E_NOTFOUND. */
WD_EXTERN int wd_store_policy_activate(wd_store *s, int64_t version) WD_WUR;
/* Fills owned *out with the active version (free with
 * wd_store_policy_free); -WD_E_NOTFOUND when none is active. */
WD_EXTERN int wd_store_policy_get_active(wd_store *s, wd_policy_version *out) WD_WUR;
WD_EXTERN int wd_store_policy_get(wd_store *s, int64_t version, wd_policy_version *out) WD_WUR;
WD_EXTERN void wd_store_policy_free(wd_policy_version *p);

/* ---- settings ------------------------------------------------------------- */

/* Well-known setting keys. */
#define WD_SETTING_ADMIN_TOKEN_HASH "admin_token_hash"
/* The policy version last read from the policy directory (decimal). */
#define WD_SETTING_POLICY_DIR_VERSION "policy_dir_version"

/* Stores value under key. With only_if_absent, an existing key is left
 * alone and -WD_E_EXISTS is returned (first-start races resolve here). */
WD_EXTERN int wd_store_setting_put(wd_store *s, const char *key, const char *value,
                                   int only_if_absent) WD_WUR;
/* Returns owned *value (free with wd_free). -WD_E_NOTFOUND. */
WD_EXTERN int wd_store_setting_get(wd_store *s, const char *key, char **value) WD_WUR;

/* ---- evidence-log rows (used by src/audit; no chain logic here) ---------- */

typedef struct wd_audit_row {
  int64_t seq;
  char *time; /* RFC 3339 with milliseconds */
  char *type;
  char *actor;
  char *task;      /* may be NULL */
  char *payload;   /* canonical JSON object text */
  char *prev_hash; /* 64 lowercase hex */
  char *hash;      /* 64 lowercase hex */
  /* Set by a scan: the name of a text column whose stored value holds a
   * NUL byte, so that its C string above stops short of the rest; NULL
   * when there is none. Only tampering stores one, and readers must not
   * take the shortened text for the record. */
  const char *cut;
} wd_audit_row;

/* Called once per row in seq order; a non-zero return stops the scan and
 * is returned by the scan. The row is borrowed for the call only. */
typedef int (*wd_audit_row_cb)(void *ctx, const wd_audit_row *row);

/* The last row's seq and hash; *seq = 0 and hash = "" for an empty log.
 * hash must have room for 65 bytes. */
WD_EXTERN int wd_store_audit_tail(wd_store *s, int64_t *seq, char *hash) WD_WUR;
/* Appends rows (seq consecutive, first = tail + 1) in one durable
 * transaction; -WD_E_EXISTS if another writer moved the tail. */
WD_EXTERN int wd_store_audit_append(wd_store *s, const wd_audit_row *rows, size_t n) WD_WUR;
/* A side effect an evidence record carries into the store: written in the
 * record's own transaction, so one durable commit covers both and a failed
 * commit loses both. */
typedef enum {
  WD_STORE_FX_DPOP = 1,       /* keep jti until exp_ms for wd_store_dpop_scan only */
  WD_STORE_FX_CALL,           /* count a decided call of task_id in its session */
  WD_STORE_FX_TASK_OPEN,      /* wd_store_task_create(task, ttl_ms, now_ms) */
  WD_STORE_FX_TOKEN,          /* wd_store_token_record(jti, task_id, exp_ms, now_ms) */
  WD_STORE_FX_TASK_END,       /* wd_store_task_end(task_id, status, reason, now_ms) */
  WD_STORE_FX_TASK_INTENT,    /* wd_store_task_set_intent(task_id, intent, purpose,
                               * expected_tools, now_ms) */
  WD_STORE_FX_ENROL,          /* wd_store_join_consume(token_hash, jwk, jkt, now_ms), and the
                               * token must name agent_id (-WD_E_NOTFOUND otherwise) */
  WD_STORE_FX_POLICY,         /* wd_store_policy_activate(version) */
  WD_STORE_FX_AGENT_STATUS,   /* wd_store_agent_set_status(agent_id, agent_status, reason) */
  WD_STORE_FX_AGENT_REGISTER, /* wd_store_agent_register(agent, now_ms) */
  WD_STORE_FX_JOIN,           /* wd_store_join_create(token_hash, agent_name, exp_ms, now_ms) */
  WD_STORE_FX_SETTING,        /* wd_store_setting_put(key, value, only_if_absent) */
  WD_STORE_FX_TASK_REVOKE,    /* wd_store_token_revoke_task(task_id, now_ms) */
  /* Removes as many rows as a plan counts (prune, from
   * wd_store_prune_plan), of the same sets in the same order, or nothing:
   * -WD_E_STATE when the rows found differ from its counts (another
   * pruner got there first). */
  WD_STORE_FX_PRUNE,
} wd_store_fx_kind;

typedef struct wd_store_fx {
  wd_store_fx_kind kind;
  /* Every pointer is borrowed. */
  const char *jti;     /* DPOP, TOKEN */
  int64_t exp_ms;      /* DPOP, TOKEN */
  const char *task_id; /* CALL, TOKEN, TASK_END, TASK_INTENT, TASK_REVOKE */
  const char *tool, *classification, *destination; /* CALL; may be NULL */
  int allowed;           /* CALL: counts calls+1; a denial also denials+1, an allowed
                          * call adds tool, classification and destination to the
                          * session sets (no limit check: the caller enforced it) */
  const wd_task *task;   /* TASK_OPEN */
  wd_task_status status; /* TASK_END */
  const char *reason;    /* TASK_END */
  const char *intent;    /* TASK_INTENT; purpose and expected_tools may be NULL */
  const char *purpose, *expected_tools;
  const char *token_hash, *jwk, *jkt, *agent_id; /* ENROL */
  int64_t version;                               /* POLICY */
  wd_agent_status agent_status;                  /* AGENT_STATUS (with agent_id, reason) */
  const wd_agent *agent;                         /* AGENT_REGISTER */
  const char *agent_name;                        /* JOIN (with token_hash, exp_ms) */
  const char *key, *value;                       /* SETTING */
  wd_store_prune prune;                          /* PRUNE */
  /* Any kind with a task_id: NULL, or the token the request came with,
   * which must still be an unrevoked token of task_id (-WD_E_INVAL
   * otherwise): a renewal or an intent change that raced with a
   * revocation changes nothing. */
  const char *bearer_jti;
  int only_if_absent;     /* SETTING: -WD_E_EXISTS if key is set */
  int64_t ttl_ms, now_ms; /* TASK_OPEN (both); TOKEN, TASK_END, TASK_INTENT, ENROL (now_ms) */
} wd_store_fx;

/* wd_store_audit_append plus effects fx[0..nfx) in the same transaction.
 * An effect refused as its own call would be (TASK_OPEN for an agent not
 * ACTIVE, TOKEN for a task not OPEN: -WD_E_INVAL) writes nothing at all. */
WD_EXTERN int wd_store_audit_append_fx(wd_store *s, const wd_audit_row *rows, size_t n,
                                       const wd_store_fx *fx, size_t nfx) WD_WUR;
/* wd_store_audit_append_fx that also says which effect failed: *bad_fx is
 * its index when the store refused or failed one, else nfx (the failure,
 * if any, was not an effect's). */
WD_EXTERN int wd_store_audit_append_fx_at(wd_store *s, const wd_audit_row *rows, size_t n,
                                          const wd_store_fx *fx, size_t nfx, size_t *bad_fx) WD_WUR;
/* Scans rows with seq >= from_seq (all rows of task when task != NULL). */
WD_EXTERN int wd_store_audit_scan(wd_store *s, const char *task, int64_t from_seq,
                                  wd_audit_row_cb cb, void *ctx) WD_WUR;

/* ---- names ---------------------------------------------------------------- */

WD_EXTERN const char *wd_agent_tier_name(wd_agent_tier t);
WD_EXTERN const char *wd_agent_status_name(wd_agent_status st);
WD_EXTERN const char *wd_task_status_name(wd_task_status st);
/* 1 when an agent may go from status `from` to `to`: quarantine from
 * active, release (to active) from quarantined, retire from anything but
 * retired. Enrolment, which makes a pending agent active, is not a status
 * change. */
WD_EXTERN int wd_agent_status_change_ok(wd_agent_status from, wd_agent_status to);
/* Parse a name back; -WD_E_INVAL for an unknown name. */
WD_EXTERN int wd_agent_tier_parse(const char *s, wd_agent_tier *out) WD_WUR;
WD_EXTERN int wd_agent_status_parse(const char *s, wd_agent_status *out) WD_WUR;
WD_EXTERN int wd_task_status_parse(const char *s, wd_task_status *out) WD_WUR;

#endif

/* SPDX-License-Identifier: Apache-2.0
 *
 * Private to src/gov: the service context shared by the route handlers,
 * and the helpers they share. Not a public interface.
 */
#ifndef WD_GOV_INT_H
#define WD_GOV_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "audit/wd_audit.h"
#include "gov/gov_entcache.h"
#include "gov/gov_live.h"
#include "gov/gov_text.h"
#include "gov/wd_gov.h"
#include "http/wd_http.h"
#include "ident/wd_ident.h"
#include "store/wd_store.h"
#include "warden/cedar.h"

/* One active policy set: a counted reference to an immutable set. */
typedef struct wd_gov__snap {
  cedar_policyset *ps; /* owned reference */
  int64_t version;
} wd_gov__snap;

/* What GET /metrics reports, counted where it happens. */
typedef struct wd_gov__counters {
  atomic_uint_least64_t allow, deny;   /* per-call decisions answered */
  atomic_uint_least64_t failed_closed; /* denials not decided by policy */
  atomic_uint_least64_t tasks_opened, tasks_ended, quarantines;
  atomic_uint_least64_t pruned_tasks, prune_failures; /* retention: tasks removed, passes failed */
  atomic_uint_least64_t http[6]; /* responses by class: [0] none, [1] 1xx ... [5] 5xx */
} wd_gov__counters;

struct wd_gov {
  char data_dir[4096];
  char trust_domain[256];
  char audience[256];
  char issuer[300];
  char public_url[1024]; /* base of DPoP htu, without a trailing '/'; "" = scheme://Host */
  int tls;               /* serving HTTPS */
  void (*warn)(void *ctx, const char *msg); /* wd_gov_opts.warn; NULL = none */
  void *warn_ctx;
  int strict;
  int64_t token_ttl_s;
  unsigned q_denials;
  int64_t q_window_ms;
  unsigned reaper_ms;
  int64_t retention_ms; /* 0 = nothing is pruned */

  wd_store *store;             /* owned */
  int lock_fd;                 /* flock on <data_dir>/warden.lock: one writer per store */
  int listen_fd;               /* bound at start until the HTTP server takes it, else -1 */
  wd_gov__live *live;          /* owned: tasks in use (gov_live.h) */
  wd_gov__replay *replay;      /* owned: DPoP jtis seen */
  wd_ident_sigcache *sigcache; /* owned: task tokens already verified */
  wd_ident_keycache *keycache; /* owned: agents' proof keys, imported once */
  wd_audit *audit;             /* owned */
  wd_ident_keyset *keys;       /* owned; replaced under keys_lock on rotation */
  pthread_rwlock_t keys_lock;
  struct wd_gov__keyrot *keyrot; /* owned; the rotation thread (gov_keys.c) */
  cedar_schema *schema;          /* owned; immutable */
  wd_gov__entcache *entcache;    /* owned: entity stores parsed with schema */
  pthread_mutex_t admin_lock;    /* guards admin_hash; serialises its rotation */
  /* Task openings hold it to read from their fence check until their
   * records are durable; an agent's stop takes it to write to set the
   * fence, so no task of a stopping agent opens unseen by the stop. */
  pthread_rwlock_t open_lock;
  char admin_hash[WD_IDENT_HASH_HEX_LEN + 1];

  /* The active policy set. The lock only guards taking a reference, so a
   * swap is atomic and a request keeps the set it started with. */
  pthread_mutex_t pol_lock;
  wd_gov__snap pol;
  pthread_mutex_t put_lock; /* serialises PUT /v1/policies */

  /* Recent denials per agent for the auto-quarantine rule. A denial
   * counts only if its agent's status did not change since its request
   * came in (wd_gov__who.standing), so one decided before a release or
   * a quarantine cannot count against the agent after it. */
  pthread_mutex_t deny_lock;
  json_t *denials;                  /* {agent_id: [ms, ...]}; owned */
  json_t *changed;                  /* {agent_id: status_gen at its last change}; owned */
  atomic_uint_least64_t status_gen; /* bumped at every agent status change */
  pthread_mutex_t autoq_lock;       /* one automatic quarantine at a time */

  pthread_t reaper;
  int reaper_started;
  pthread_mutex_t stop_lock;
  pthread_cond_t stop_cond;
  clockid_t stop_clock; /* the clock stop_cond waits on: CLOCK_MONOTONIC when it can */
  int stopping;
  atomic_int draining; /* shutdown began: refuse new work on open connections */

  wd_http_server *http;      /* owned */
  wd_gov__counters counters; /* for GET /metrics (gov_metrics.c) */
  int64_t started_ms;
  int access_fd; /* the access log, or -1 (gov_access.c) */
  char access_path[4096];
  int shut;
};

/* The credential a request carried, left by the auth callback in the
 * request arena (so nothing leaks when the body is refused later). */
typedef struct wd_gov__who {
  int admin;
  int has_agent;
  wd_agent agent; /* strings arena-owned: never wd_store_agent_free it */
  int has_token;
  const char *jti, *task_id; /* of the presented task token; arena-owned */
  int64_t exp;
  /* A proof jti the replay cache took but the store has not yet: the
   * handler writes it with its evidence record, or wd_gov__proof_flush. */
  const char *proof_jti; /* arena-owned; NULL once durable */
  int64_t proof_exp_ms;
  struct authz_wait *wait; /* POST /v1/authorize between its two calls; arena-owned */
  uint64_t standing;       /* wd_gov.status_gen when the request came in */
} wd_gov__who;

/* In a function with int rc, char *err, size_t errlen and a cleanup
 * label: sets rc, writes the message and jumps there. */
#define WD_GOV__FAIL(code, ...)                                                                    \
  do {                                                                                             \
    rc = (code);                                                                                   \
    (void)snprintf(err, errlen, __VA_ARGS__);                                                      \
    goto cleanup;                                                                                  \
  } while (0)

int64_t wd_gov__now_ms(void);
/* Initializes c to time its waits on CLOCK_MONOTONIC, so that a wall
 * clock set back does not stretch them. 0, or -WD_E_INTERNAL with c left
 * uninitialized. */
int wd_gov__cond_init_monotonic(pthread_cond_t *c);
/* The store's structs take char * for fields it only reads; this lends a
 * borrowed string to one of them without a qualifier-dropping cast. */
static inline char *wd_gov__lend(const char *s) {
  char *r;
  memcpy(&r, &s, sizeof r);
  return r;
}
/* A counted reference to the active set; release with wd_gov__snap_put. */
void wd_gov__snap_get(wd_gov *g, wd_gov__snap *out);
void wd_gov__snap_put(wd_gov__snap *s);
/* One file of a policy directory, within the joined text. */
typedef struct wd_gov__polfile {
  char *path;          /* dir/name; owned */
  size_t off, len;     /* its bytes in the joined text (without the newline added) */
  uint32_t first_line; /* the joined text's line where it starts (1-based) */
} wd_gov__polfile;

/* A policy directory read: its *.cedar files, sorted by name, joined into
 * one text (each ending in a newline), which is what is stored as a
 * version, and where each file lies in it. */
typedef struct wd_gov__poldir {
  char *text; /* owned; NUL-terminated */
  size_t len;
  wd_gov__polfile *files; /* owned */
  size_t nfiles;
} wd_gov__poldir;

/* Reads every *.cedar in dir into *out (free with wd_gov__poldir_free),
 * refusing a dir that does not exist, is not a directory, or that another
 * user could write; err says which and why.
 * A file that is not a regular file, too large, unreadable or writable by
 * another user fails the whole read, and err names it. */
int wd_gov__read_policy_dir(const char *dir, wd_gov__poldir *out, char *err, size_t errlen);
void wd_gov__poldir_free(wd_gov__poldir *pd);
/* Reads the schema file at path (owned text, free with wd_free) with the
 * same checks as a policy file; err names the problem. */
int wd_gov__read_schema(const char *path, char **out, size_t *len, char *err, size_t errlen);
/* Parses and validates text; on success *out is an owned set, else diags
 * is filled (each with line and column) and nothing changes. pd (may be
 * NULL) is where text came from: each file must then parse alone, and
 * each diagnostic gets its "file" with the line there, and "policy_at"
 * (FILE:LINE:COL) for a policy without an @id. */
int wd_gov__build_policies(wd_gov *g, const char *text, size_t len, const wd_gov__poldir *pd,
                           cedar_policyset **out, json_t **diags);
/* Writes diags (from wd_gov__build_policies for directory dir) into err,
 * one line each as FILE:LINE:COL: message, at most
 * WD_LIMIT_GOV_START_PROBLEMS lines and as many as fit, then how many
 * more there are. Borrows diags. */
void wd_gov__policy_problems(const char *dir, const json_t *diags, int rc, char *err,
                             size_t errlen);
/* Records text as a new version, activates it, logs it, swaps it in.
 * With from_dir, the version is remembered as the policy directory's
 * (WD_SETTING_POLICY_DIR_VERSION) in the same transaction. */
int wd_gov__activate(wd_gov *g, const char *text, size_t len, cedar_policyset *ps, int from_dir,
                     const char *actor, int64_t *version);

/* The evidence log: appends payload (borrowed) and returns the seq. */
int wd_gov__log(wd_gov *g, wd_audit_type t, const char *actor, const char *task,
                const json_t *payload, int64_t *seq);

/* One retention pass at now_ms (gov_retention.c): removes what ended or
 * expired more than retention_ms ago, under one store.pruned record.
 * *more = 1 when the pass was full and more may be waiting. */
int wd_gov__prune(wd_gov *g, int64_t now_ms, int *more);

/* Formats a warning for the operator and hands it to g->warn, if any. */
void wd_gov__warn(wd_gov *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* 1 if a chosen admin token has a byte outside visible ASCII (0x21-0x7e):
 * a client cannot send it in the Authorization header. */
int wd_gov__admin_token_unsendable(const char *tok);
/* 1 when a chosen admin token can serve: long enough, and sendable. */
int wd_gov__admin_token_usable(const char *tok);
/* A generous estimate of a chosen token's strength in bits: its length
 * times log2 of how many different characters it uses. Only its SHA-256
 * is stored, so a weak one could be guessed offline from a leaked
 * database; a token far below WD_LIMIT_ADMIN_TOKEN_MIN_BITS gets a
 * warning at the first start (a random 32-character hex token scores
 * 128). */
double wd_gov__admin_token_bits(const char *tok);

/* Makes a new admin token (given, or random when NULL or "") and writes
 * its hash (into hash) in the same transaction as the admin.action record
 * payload (borrowed) by actor. first: only when none is set, else
 * -WD_E_EXISTS. A given token not wd_gov__admin_token_usable is
 * -WD_E_INVAL. On success *token is owned (wd_ident_secret_free). */
int wd_gov__admin_token_issue(wd_audit *a, const char *given, int first, const char *actor,
                              const json_t *payload, char hash[WD_IDENT_HASH_HEX_LEN + 1],
                              char **token);
/* Reads the PEM files of --tls-cert and --tls-key (owned; the key is
 * refused when group or other users may read it) and checks them with
 * libcrypto: PEM, an unencrypted key, the key of the certificate. A
 * certificate out of its validity period is a warning to g. err says why
 * on failure. */
int wd_gov__tls_load(wd_gov *g, const char *cert_path, const char *key_path, char **cert,
                     char **key, char *err, size_t errlen);
/* Takes data directory dir's lock and opens its store (store_flags) and
 * evidence log into the caller's *lock_fd, *store and *audit, which the
 * caller closes whatever the result. create: make the directory and the
 * lock when missing; else a directory without Warden's state is
 * -WD_E_NOTFOUND. A directory a running server holds is -WD_E_EXISTS.
 * err (errlen bytes) says why on failure. */
int wd_gov__open_state(const char *dir, int create, unsigned store_flags, int *lock_fd,
                       wd_store **store, wd_audit **audit, char *err, size_t errlen);
/* The access log (gov_access.c): open path ("" = none, "-" = stderr)
 * into g->access_fd; the wd_http_access_cb that writes a line. */
int wd_gov__access_open(wd_gov *g, const char *path, char *err, size_t errlen);
void wd_gov__access(void *svc, const wd_http_req *req, unsigned status, int64_t duration_us);
/* 1 when bearer is the admin token, compared in constant time. */
int wd_gov__admin_check(wd_gov *g, const char *bearer);

/* Signing keys (gov_keys.c). load: reads the saved set into g->keys
 * (an empty set when keys/ has no keyset.json, the first start) and
 * changes nothing on disk; a manifest naming a missing or damaged key
 * file fails with err naming the file and the remedy. renew: the start's
 * new key, saved, recorded and swapped in under keys_lock; called once
 * the server listens, so a start that fails earlier leaves no key and no
 * record; the log must be open. start: a thread rotating every
 * interval_s (0 = default); stop: signals, joins and frees it (NULL-safe,
 * from wd_gov_shutdown). rotate: one round now: a new keyset is saved,
 * logged (admin.action key.rotated) and swapped in under keys_lock; when
 * loading, rotating or saving fails the served set, the files and the
 * log are unchanged, and when the record fails the served set is saved
 * back. */
int wd_gov__keys_load(wd_gov *g, char *err, size_t errlen);
int wd_gov__keys_renew(wd_gov *g);
int wd_gov__keys_start(wd_gov *g, unsigned interval_s);
void wd_gov__keys_stop(wd_gov *g);
int wd_gov__keys_rotate(wd_gov *g, int64_t now);

/* Makes a pending proof jti (w->proof_jti) durable now; no-op without one. */
int wd_gov__proof_flush(wd_gov *g, wd_gov__who *w);

/* Shared error answers. */
int wd_gov__err(wd_http_resp *resp, unsigned status, const char *code, const char *field,
                const char *msg);
/* A required (or optional) string member of the JSON body; on a missing or
 * mistyped member fills a 400 naming it and returns 1. */
int wd_gov__str(wd_http_req *req, wd_http_resp *resp, const char *name, int required,
                const char **out, int *rc);

json_t *wd_gov__agent_json(const wd_agent *a);
json_t *wd_gov__task_json(const wd_task *t);
/* The agent's SPIFFE id for a name, into out. */
int wd_gov__spiffe(const wd_gov *g, const char *name, char *out, size_t len);

/* Ends a task (status, reason), logs task.ended and token.revoked. */
int wd_gov__end_task(wd_gov *g, const char *task_id, wd_task_status st, const char *reason,
                     const char *actor);
/* A request that found its task past its TTL: ends the task as expired
 * (the reaper's end, made now) and answers 401 "task expired". */
int wd_gov__refuse_expired(wd_gov *g, wd_http_resp *resp, const char *task_id);
/* Ends every open task of agent id as revoked, each with its records;
 * *ended counts them. Goes on past a task it cannot end and returns the
 * first such error. */
int wd_gov__end_agent_tasks(wd_gov *g, const char *id, const char *reason, const char *actor,
                            unsigned *ended);
/* Sets an agent's status with logging; used by admin routes and the
 * auto-quarantine rule. -WD_E_STATE, before any task is ended, for a
 * change wd_agent_status_change_ok refuses; -WD_E_NOTFOUND for no such
 * agent. */
int wd_gov__set_agent_status(wd_gov *g, const char *id, wd_agent_status st, const char *reason,
                             const char *actor, wd_audit_type t);

/* Builds the Cedar request and entities of a decision and decides it.
 * ctx_extra is merged into the context (owned by the caller). */
typedef struct wd_gov__decision {
  int allow;
  /* The determining policies and the errors, each the canonical text
   * (docs/internals/audit.md) of a JSON array's members without the
   * brackets: {"id":..,"reason":..} and {"message":..,"policy":..}. The
   * evidence record and the answer take the text as it is. */
  wd_buf policies, errors;
  /* The engine's policies and errors past WD_LIMIT_DECISION_ITEMS are
   * counted, and one last member of each list says how many. */
  unsigned npolicies, nerrors;
  int64_t version;
  char ctx_digest[WD_IDENT_HASH_HEX_LEN + 1];
} wd_gov__decision;
void wd_gov__decision_clear(wd_gov__decision *d);
/* A refusal the store gave for the task itself (ended already, unknown),
 * as opposed to a failure to write: nothing to fall back on. */
static inline int wd_gov__refused_by_store(int rc) {
  return rc == -WD_E_INVAL || rc == -WD_E_NOTFOUND;
}
/* Adds an error ("" for policy when no policy is to blame). */
int wd_gov__decision_error(wd_gov__decision *d, const char *policy, const char *message) WD_WUR;
/* Appends [list] to b. */
int wd_gov__decision_list(wd_buf *b, const wd_buf *list) WD_WUR;
/* The list as a new jansson array; NULL when out of memory. */
json_t *wd_gov__decision_list_json(const wd_buf *list);

typedef struct wd_gov__call {
  const char *tool, *operation, *classification, *destination, *environment;
  const char *res_id; /* Data id or NULL */
  const json_t *args; /* the call's arguments or NULL; only those the
                       * action's context declares reach Cedar */
} wd_gov__call;

/* Writes the decision's context (sorted keys: its text is hashed) into ctx
 * and the whole Cedar request into rq, as of now (ms). ss is NULL for
 * task.open; tools is the task's expected tools (a JSON array). The
 * request keeps to the form the engine reads in one pass. */
int wd_gov__request_text(const cedar_schema *schema, const wd_agent *a, const wd_task *t,
                         const wd_session *ss, const json_t *tools, const char *action,
                         const wd_gov__call *call, const char *previous_intent, int64_t now,
                         wd_gov__jw *ctx, wd_gov__jw *rq);

int wd_gov__decide(wd_gov *g, const wd_gov__snap *snap, const wd_agent *a, const wd_task *t,
                   const char *action, const wd_gov__call *call, const char *previous_intent,
                   wd_gov__decision *out);

/* wd_gov__decide over a given session (borrowed) instead of the stored one. */
int wd_gov__decide_in(wd_gov *g, const wd_gov__snap *snap, const wd_agent *a, const wd_task *t,
                      const wd_session *ss, const char *action, const wd_gov__call *call,
                      const char *previous_intent, wd_gov__decision *out);

/* Counts a denial policy gave agent_id (a call, or a task's opening,
 * renewal or intent change) for the auto-quarantine rule, and quarantines
 * the agent when it crosses it. standing is the request's
 * wd_gov__who.standing: a denial from before the agent's last status
 * change is not counted. */
void wd_gov__policy_denied(wd_gov *g, const char *agent_id, int64_t now, uint64_t standing);
/* The agent's status changes (or is about to): the rule starts over, and
 * denials of requests that came in before now are no longer counted. */
void wd_gov__standing_changed(wd_gov *g, const char *agent_id);

/* 0 (public) to 3 (secret) for a classification, -1 for anything else. */
int wd_gov__classification_rank(const char *c);
/* The classification of a rank as a static string; NULL out of range. */
const char *wd_gov__classification_name(int rank);

/* Enrolment's proof of possession: a fresh DPoP proof (RFC 9449) for
 * this request signed by the key being enrolled, whose thumbprint is jkt;
 * its jti is spent at once. 0 when it holds, 1 when refused (resp
 * filled), or a failure of the server's. */
int wd_gov__enrol_proof(wd_gov *g, wd_http_req *req, wd_http_resp *resp, const char *jkt);

/* Route handlers. */
int wd_gov__h_jwks(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_agent_create(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_agent_list(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_agent_get(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_agent_tasks(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_join_token(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_quarantine(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_release(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_retire(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_policies_get(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_policies_put(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_audit_verify(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_audit_task(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_audit_records(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_admin_token(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_metrics(wd_http_req *req, wd_http_resp *resp, void *svc);
/* Counts a response by its status class for GET /metrics. */
void wd_gov__count_http(wd_gov *g, unsigned status);
#define WD_GOV__COUNT(g, field)                                                                    \
  atomic_fetch_add_explicit(&(g)->counters.field, 1, memory_order_relaxed)
int wd_gov__h_enroll(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_task_open(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_task_get(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_task_renew(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_task_intent(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_task_complete(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_task_fail(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_task_cancel(wd_http_req *req, wd_http_resp *resp, void *svc);
int wd_gov__h_authorize(wd_http_req *req, wd_http_resp *resp, void *svc);

/* The auth callback (gov_auth.c). */
int wd_gov__auth(wd_http_req *req, wd_http_resp *resp, void *svc);
/* The auth callback's second look, once the body is in (wd_http_opts'
 * recheck): the admin token against the current hash, a task token
 * against its live entry. */
int wd_gov__recheck(wd_http_req *req, wd_http_resp *resp, void *svc);
/* With lt->mu held: *ok when token jti may still act for its task (not
 * revoked, the task open, its agent active); a store error otherwise. */
int wd_gov__token_live(wd_gov *g, wd_gov__ltask *lt, const char *jti, int *ok);

#endif

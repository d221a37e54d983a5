/* SPDX-License-Identifier: Apache-2.0
 *
 * The service context: opening the store, the evidence log, the signing
 * keyset, the admin token and the policy set under the data directory;
 * the atomic policy snapshot; the TTL reaper; the route table; start and
 * graceful stop.
 */
#define _DEFAULT_SOURCE /* flock */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdarg.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "gov/gov_int.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"

int64_t wd_gov__now_ms(void) {
  struct timespec ts;
  (void)clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int wd_gov__cond_init_monotonic(pthread_cond_t *c) {
  pthread_condattr_t ca;
  if (pthread_condattr_init(&ca) != 0) return -WD_E_INTERNAL;
  int ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 && pthread_cond_init(c, &ca) == 0;
  (void)pthread_condattr_destroy(&ca);
  return ok ? 0 : -WD_E_INTERNAL;
}

/* ---- the policy snapshot ---------------------------------------------------- */

void wd_gov__snap_get(wd_gov *g, wd_gov__snap *out) {
  pthread_mutex_lock(&g->pol_lock);
  out->ps = cedar_policyset_ref(g->pol.ps);
  out->version = g->pol.version;
  pthread_mutex_unlock(&g->pol_lock);
}

void wd_gov__snap_put(wd_gov__snap *s) {
  cedar_policyset_unref(s->ps);
  s->ps = NULL;
}

static void snap_swap(wd_gov *g, cedar_policyset *ps, int64_t version) {
  pthread_mutex_lock(&g->pol_lock);
  cedar_policyset *old = g->pol.ps;
  g->pol.ps = ps;
  g->pol.version = version;
  pthread_mutex_unlock(&g->pol_lock);
  /* Requests still holding the old set keep it alive until they finish. */
  cedar_policyset_unref(old);
}

int wd_gov__activate(wd_gov *g, const char *text, size_t len, cedar_policyset *ps, int from_dir,
                     const char *actor, int64_t *version) {
  int64_t v = 0;
  /* Added inactive first (a version nobody uses until activated), then
   * activated by its record's own transaction: no policy set is ever
   * active without its record. */
  int rc = wd_store_policy_add(g->store, text, len, wd_gov__now_ms(), &v);
  if (rc) return rc;
  char hash[WD_IDENT_HASH_HEX_LEN + 1];
  rc = wd_ident_secret_hash(text, len, hash);
  json_t *p = rc ? NULL
                 : json_pack("{s:I, s:I, s:s}", "version", (json_int_t)v, "policies",
                             (json_int_t)cedar_policyset_count(ps), "sha256", hash);
  if (!rc && !p) rc = -WD_E_NOMEM;
  char vtxt[24];
  (void)snprintf(vtxt, sizeof vtxt, "%lld", (long long)v);
  wd_store_fx fx[2] = {
      {.kind = WD_STORE_FX_POLICY, .version = v},
      {.kind = WD_STORE_FX_SETTING, .key = WD_SETTING_POLICY_DIR_VERSION, .value = vtxt}};
  wd_audit_entry e = {
      .type = WD_AUDIT_POLICY_ACTIVATED, .payload = p, .fx = fx, .nfx = from_dir ? 2u : 1u};
  if (!rc) rc = wd_audit_append_group(g->audit, actor, NULL, &e, 1);
  json_decref(p);
  if (rc) return rc;
  snap_swap(g, cedar_policyset_ref(ps), v);
  if (version) *version = v;
  return 0;
}

/* ---- shared helpers ----------------------------------------------------------- */

int wd_gov__log(wd_gov *g, wd_audit_type t, const char *actor, const char *task,
                const json_t *payload, int64_t *seq) {
  return wd_audit_append_json(g->audit, t, actor, task, payload, seq);
}

int wd_gov__err(wd_http_resp *resp, unsigned status, const char *code, const char *field,
                const char *msg) {
  return wd_http_resp_error(resp, status, code, field, "%s", msg);
}

int wd_gov__str(wd_http_req *req, wd_http_resp *resp, const char *name, int required,
                const char **out, int *rc) {
  *out = NULL;
  json_t *v = json_is_object(req->json) ? json_object_get(req->json, name) : NULL;
  if (!v || json_is_null(v)) {
    if (!required) return 0;
    *rc = wd_http_resp_error(resp, 400, "missing_field", name, "missing field '%s'", name);
    return 1;
  }
  if (!json_is_string(v) || (required && json_string_length(v) == 0)) {
    *rc = wd_http_resp_error(resp, 400, "invalid_field", name,
                             "field '%s' must be a non-empty string", name);
    return 1;
  }
  /* A NUL inside would make the C string say less than the client did. */
  if (json_string_length(v) > WD_LIMIT_GOV_TEXT_FIELD ||
      strlen(json_string_value(v)) != json_string_length(v)) {
    *rc = wd_http_resp_error(resp, 400, "invalid_field", name,
                             "field '%s' must be at most %u bytes, without NUL", name,
                             WD_LIMIT_GOV_TEXT_FIELD);
    return 1;
  }
  *out = json_string_value(v);
  return 0;
}

int wd_gov__spiffe(const wd_gov *g, const char *name, char *out, size_t len) {
  int n = snprintf(out, len, "spiffe://%s/agent/%s", g->trust_domain, name);
  return n < 0 || (size_t)n >= len ? -WD_E_TOOBIG : 0;
}

json_t *wd_gov__agent_json(const wd_agent *a) {
  json_t *attrs = json_loads(a->attrs ? a->attrs : "{}", 0, NULL);
  if (!attrs) attrs = json_object();
  return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s?, s:I, s:I}", "id", a->id, "name",
                   a->name, "owner", a->owner, "risk_tier", wd_agent_tier_name(a->tier),
                   "environment", a->environment, "attributes", attrs, "status",
                   wd_agent_status_name(a->status), "jkt", a->jkt, "created_ms",
                   (json_int_t)a->created_ms, "updated_ms", (json_int_t)a->updated_ms);
}

json_t *wd_gov__task_json(const wd_task *t) {
  json_t *tools = json_loads(t->expected_tools ? t->expected_tools : "[]", 0, NULL);
  if (!tools) tools = json_array();
  return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:s?, s:I, s:I, s:I, s:I, s:I, s:s, s:s?, "
                   "s:I}",
                   "id", t->id, "agent_id", t->agent_id, "intent", t->intent, "purpose", t->purpose,
                   "tools", tools, "classification_ceiling", t->ceiling, "on_behalf_of",
                   t->on_behalf_of, "created_ms", (json_int_t)t->created_ms, "expires_ms",
                   (json_int_t)t->expires_ms, "budget", (json_int_t)t->budget, "calls",
                   (json_int_t)t->calls, "denials", (json_int_t)t->denials, "status",
                   wd_task_status_name(t->status), "end_reason", t->end_reason, "ended_ms",
                   (json_int_t)t->ended_ms);
}

int wd_gov__end_task(wd_gov *g, const char *task_id, wd_task_status st, const char *reason,
                     const char *actor) {
  int64_t now = wd_gov__now_ms();
  json_t *p = json_pack("{s:s, s:s}", "status", wd_task_status_name(st), "reason", reason);
  json_t *r = json_pack("{s:s, s:s}", "scope", "task", "reason", reason);
  /* The end, the revocation of every token and both records in one
   * transaction, so the log never misses an end; the fence keeps any
   * call from being allowed after the records. */
  wd_store_fx fe = {.kind = WD_STORE_FX_TASK_END,
                    .task_id = task_id,
                    .status = st,
                    .reason = reason,
                    .now_ms = now};
  wd_audit_entry e[2] = {{.type = WD_AUDIT_TOKEN_REVOKED, .payload = r},
                         {.type = WD_AUDIT_TASK_ENDED, .payload = p, .fx = &fe, .nfx = 1}};
  int rc = p && r ? wd_gov__live_fence(g->live, task_id) : -WD_E_NOMEM;
  if (!rc) rc = wd_audit_append_group(g->audit, actor, task_id, e, 2);
  if (rc && !wd_gov__refused_by_store(rc)) {
    /* The log could not take it: a revocation must not wait for the log.
     * End the task in the store alone, then record what still can be. */
    int erc = wd_store_task_end(g->store, task_id, st, reason, now);
    if (erc && wd_gov__refused_by_store(erc)) rc = erc;
    if (!erc && p && r && !wd_gov__log(g, WD_AUDIT_TOKEN_REVOKED, actor, task_id, r, NULL) &&
        !wd_gov__log(g, WD_AUDIT_TASK_ENDED, actor, task_id, p, NULL))
      rc = 0;
  }
  wd_gov__live_forget(g->live, task_id);
  json_decref(p);
  json_decref(r);
  if (rc == 0) WD_GOV__COUNT(g, tasks_ended);
  return rc;
}

int wd_gov__refuse_expired(wd_gov *g, wd_http_resp *resp, const char *task_id) {
  (void)wd_gov__end_task(g, task_id, WD_TASK_EXPIRED, "ttl reached", "warden");
  return wd_gov__err(resp, 401, "unauthorized", NULL, "task expired");
}

/* Ends the agent's open tasks one by one so each gets its own task.ended
 * and token.revoked records before the status change ends the rest. */
int wd_gov__end_agent_tasks(wd_gov *g, const char *id, const char *reason, const char *actor,
                            unsigned *ended) {
  int rc = 0;
  for (;;) {
    wd_strlist ids;
    int lrc = wd_store_task_list_open(g->store, id, WD_LIMIT_STORE_LIST_ROWS, &ids);
    if (lrc) return lrc;
    size_t n = ids.n, round = 0;
    /* One task that cannot be ended does not keep the rest from ending. */
    for (size_t i = 0; i < n; i++) {
      int erc = wd_gov__end_task(g, ids.v[i], WD_TASK_REVOKED, reason, actor);
      if (erc == 0) (*ended)++, round++;
      if (erc && erc != -WD_E_INVAL && !rc) rc = erc; /* -WD_E_INVAL: ended meanwhile */
    }
    wd_strlist_free(&ids);
    if (n < WD_LIMIT_STORE_LIST_ROWS || round == 0) break;
  }
  return rc;
}

int wd_gov__set_agent_status(wd_gov *g, const char *id, wd_agent_status st, const char *reason,
                             const char *actor, wd_audit_type t) {
  unsigned ended = 0;
  int stops = st == WD_AGENT_QUARANTINED || st == WD_AGENT_RETIRED;
  json_t *p = NULL;
  /* Without the fence (out of memory), a task opened while the stop is
   * written could still see a call allowed just after the stop's record;
   * the stop itself must not wait for memory. */
  int fenced = 0, rc = 0;
  /* A change the agent's status refuses ends no task and resets no
   * count: its records would blame revocations on a change that never
   * happened. (The store judges again when it writes: this only narrows
   * the window to the changes that land in between.) */
  wd_agent cur = {0};
  int grc = wd_store_agent_get(g->store, id, &cur);
  if (grc == -WD_E_NOTFOUND) return grc;
  int ok = grc != 0 || wd_agent_status_change_ok(cur.status, st); /* unread: the store judges */
  wd_store_agent_free(&cur);
  if (!ok) return -WD_E_STATE;
  /* Denials in flight were decided under the old status: whatever they
   * find when they are counted, they no longer count. */
  wd_gov__standing_changed(g, id);
  if (stops) {
    /* Openings already past their fence check finish first: their tasks
     * are in the store for end_agent_tasks to end with records. */
    pthread_rwlock_wrlock(&g->open_lock);
    fenced = wd_gov__live_fence_agent(g->live, id) == 0;
    pthread_rwlock_unlock(&g->open_lock);
    /* Each task ends with its own records before the status changes. */
    char why[512];
    (void)snprintf(why, sizeof why, "agent %s: %s", wd_agent_status_name(st), reason ? reason : "");
    /* A task that could not be ended with its records does not hold
     * the stop back: the status change below ends it in the store. */
    (void)wd_gov__end_agent_tasks(g, id, why, actor, &ended);
  }
  int64_t now = wd_gov__now_ms();
  p = json_pack("{s:s, s:s, s:s, s:I}", "agent", id, "status", wd_agent_status_name(st), "reason",
                reason ? reason : "", "tasks_revoked", (json_int_t)ended);
  /* The change and its record in one transaction. */
  wd_store_fx fx = {.kind = WD_STORE_FX_AGENT_STATUS,
                    .agent_id = id,
                    .agent_status = st,
                    .reason = reason,
                    .now_ms = now};
  wd_audit_entry e = {.type = t, .payload = p, .fx = &fx, .nfx = 1};
  rc = p ? wd_audit_append_group(g->audit, actor, NULL, &e, 1) : -WD_E_NOMEM;
  if (rc && rc != -WD_E_NOTFOUND && rc != -WD_E_STATE && stops) {
    /* A stop must not wait for the log: change the status in the store
     * alone, then record it if the log still can. */
    int src = wd_store_agent_set_status(g->store, id, st, reason, now, NULL);
    if (src == -WD_E_NOTFOUND || src == -WD_E_STATE) rc = src;
    if (!src && p && !wd_gov__log(g, t, actor, NULL, p, NULL)) rc = 0;
  }
  if (rc == 0 && st == WD_AGENT_QUARANTINED) WD_GOV__COUNT(g, quarantines);
  /* The auto-quarantine rule starts over with every status change: a
   * released agent answers for what it does from then on. */
  if (rc == 0) wd_gov__standing_changed(g, id);
  if (rc == -WD_E_NOTFOUND) {
    /* No such agent: keep no mark for a name an admin merely typed. */
    pthread_mutex_lock(&g->deny_lock);
    (void)json_object_del(g->changed, id);
    pthread_mutex_unlock(&g->deny_lock);
  }
  if (fenced)
    wd_gov__live_unfence_agent(g->live, id);
  else
    wd_gov__live_forget_agent(g->live, id);
  json_decref(p);
  return rc;
}

/* ---- the reaper ----------------------------------------------------------------- */

#define WD_GOV__REAP_ROUND 256 /* expired tasks ended between two looks at the clock */
/* Between retention passes that found less than a full pass to do. */
#define WD_GOV__PRUNE_EVERY_MS 60000
/* The part of a reaper round that retention passes may take. */
#define WD_GOV__PRUNE_ROUND_MS 100

static void *reaper_main(void *arg) {
  wd_gov *g = arg;
  pthread_mutex_lock(&g->stop_lock);
  int behind = 0; /* the last round found more overdue tasks than it ended */
  int64_t next_prune = 0;
  while (!g->stopping) {
    if (!behind) {
      /* On CLOCK_MONOTONIC: a wall clock set back must not hold the
       * reaper (and the prune and checkpoint) for as long. */
      struct timespec ts;
      (void)clock_gettime(g->stop_clock, &ts);
      ts.tv_sec += (time_t)(g->reaper_ms / 1000);
      ts.tv_nsec += (long)(g->reaper_ms % 1000) * 1000000L;
      if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
      }
      (void)pthread_cond_timedwait(&g->stop_cond, &g->stop_lock, &ts);
    }
    if (g->stopping) break;
    pthread_mutex_unlock(&g->stop_lock);
    int64_t now = wd_gov__now_ms();
    wd_strlist ids = {0};
    behind = 0;
    if (wd_store_task_list_expired(g->store, now, WD_GOV__REAP_ROUND, &ids) == 0) {
      /* A task that ended meanwhile is -WD_E_INVAL: someone else logged it. */
      size_t ended = 0;
      for (size_t i = 0; i < ids.n; i++)
        ended += wd_gov__end_task(g, ids.v[i], WD_TASK_EXPIRED, "ttl reached", "warden") == 0;
      /* Round after round while a full one makes progress; a store that
       * fails every end is retried at the usual pace, not in a spin. */
      behind = ids.n == WD_GOV__REAP_ROUND && ended > 0;
    }
    wd_strlist_free(&ids);
    if (wd_store_dpop_prune(g->store, now, NULL) != 0) {
      /* Retried next round; stale entries only cost space. */
    }
    /* A short retention (tests, labs) is looked at as often as it is long. */
    int64_t every =
        g->retention_ms < WD_GOV__PRUNE_EVERY_MS ? g->retention_ms : WD_GOV__PRUNE_EVERY_MS;
    /* The second test: a wall clock set back must not hold the pass. */
    if (now >= next_prune || next_prune - now > every) {
      /* A backlog (an upgrade, a long pause) goes pass after pass, each
       * its own commit so that decisions come in between, for a part of
       * each round. */
      int more = 0;
      struct timespec t0, t1;
      (void)clock_gettime(CLOCK_MONOTONIC, &t0);
      do {
        if (wd_gov__prune(g, now, &more) != 0) more = 0; /* retried at the next period */
        (void)clock_gettime(CLOCK_MONOTONIC, &t1);
      } while (more && (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 <
                           WD_GOV__PRUNE_ROUND_MS);
      next_prune = more ? now : now + every;
    }
    /* Here rather than inside a commit, where it delayed every call of
     * the batch that happened to cross the threshold. */
    if (wd_store_checkpoint(g->store, WD_LIMIT_STORE_WAL_FRAMES) != 0) {
      /* Retried next round; the log only grows meanwhile. */
    }
    pthread_mutex_lock(&g->stop_lock);
  }
  pthread_mutex_unlock(&g->stop_lock);
  return NULL;
}

/* ---- the routes -------------------------------------------------------------------- */

static const wd_http_route ROUTES[] = {
    {"GET", "/.well-known/jwks.json", wd_gov__h_jwks, WD_HTTP_AUTH_NONE},
    {"POST", "/v1/agents", wd_gov__h_agent_create, WD_HTTP_AUTH_ADMIN},
    {"GET", "/v1/agents", wd_gov__h_agent_list, WD_HTTP_AUTH_ADMIN},
    {"GET", "/v1/agents/{name}", wd_gov__h_agent_get, WD_HTTP_AUTH_ADMIN},
    {"GET", "/v1/agents/{name}/tasks", wd_gov__h_agent_tasks, WD_HTTP_AUTH_ADMIN},
    {"POST", "/v1/agents/{name}/join-tokens", wd_gov__h_join_token, WD_HTTP_AUTH_ADMIN},
    {"POST", "/v1/agents/{name}/quarantine", wd_gov__h_quarantine, WD_HTTP_AUTH_ADMIN},
    {"POST", "/v1/agents/{name}/release", wd_gov__h_release, WD_HTTP_AUTH_ADMIN},
    {"POST", "/v1/agents/{name}/retire", wd_gov__h_retire, WD_HTTP_AUTH_ADMIN},
    {"POST", "/v1/enroll", wd_gov__h_enroll, WD_HTTP_AUTH_NONE},
    {"POST", "/v1/tasks", wd_gov__h_task_open, WD_HTTP_AUTH_AGENT},
    {"GET", "/v1/tasks/{id}", wd_gov__h_task_get, WD_HTTP_AUTH_AGENT},
    {"POST", "/v1/tasks/{id}/renew", wd_gov__h_task_renew, WD_HTTP_AUTH_AGENT},
    {"POST", "/v1/tasks/{id}/intent", wd_gov__h_task_intent, WD_HTTP_AUTH_AGENT},
    {"POST", "/v1/tasks/{id}/complete", wd_gov__h_task_complete, WD_HTTP_AUTH_AGENT},
    {"POST", "/v1/tasks/{id}/fail", wd_gov__h_task_fail, WD_HTTP_AUTH_AGENT},
    {"POST", "/v1/tasks/{id}/cancel", wd_gov__h_task_cancel, WD_HTTP_AUTH_AGENT},
    {"POST", "/v1/authorize", wd_gov__h_authorize, WD_HTTP_AUTH_AGENT},
    {"GET", "/v1/policies", wd_gov__h_policies_get, WD_HTTP_AUTH_ADMIN},
    {"PUT", "/v1/policies", wd_gov__h_policies_put, WD_HTTP_AUTH_ADMIN},
    {"GET", "/v1/audit/verify", wd_gov__h_audit_verify, WD_HTTP_AUTH_ADMIN},
    {"GET", "/v1/audit/tasks/{id}", wd_gov__h_audit_task, WD_HTTP_AUTH_ADMIN},
    {"GET", "/v1/audit/records", wd_gov__h_audit_records, WD_HTTP_AUTH_ADMIN},
    {"POST", "/v1/admin/token", wd_gov__h_admin_token, WD_HTTP_AUTH_ADMIN},
    {"GET", "/metrics", wd_gov__h_metrics, WD_HTTP_AUTH_ADMIN},
};

static int ready(void *svc, char *reason, size_t len) {
  wd_gov *g = svc;
  int v = 0;
  if (atomic_load(&g->draining)) {
    (void)snprintf(reason, len, "stopping");
    return 1;
  }
  if (wd_store_schema_version(g->store, &v) != 0) {
    (void)snprintf(reason, len, "store not reachable");
    return 1;
  }
  /* Every decision needs its record: while the log fails, traffic is
   * better sent to a node whose log works. */
  int last = 0;
  if (wd_audit_failing(g->audit, WD_LIMIT_GOV_UNREADY_MS, &last)) {
    (void)snprintf(reason, len, "the evidence log cannot be written: %s", wd_strerror(last));
    return 1;
  }
  return 0;
}

/* ---- start and stop ------------------------------------------------------------------ */

/* A directory that holds the service's secrets (the state, the signing
 * keys) must be the runner's and closed to other users' writes: anyone
 * who can write it can plant a signing key or swap the database. A
 * missing one is -WD_E_NOTFOUND with err untouched. */
static int private_dir(const char *dir, const char *what, char *err, size_t errlen) {
  struct stat sb;
  int rc = 0;
  if (stat(dir, &sb) != 0) {
    if (errno == ENOENT) return -WD_E_NOTFOUND;
    WD_GOV__FAIL(-WD_E_IO, "cannot use %s %s: %s", what, dir, strerror(errno));
  }
  if (!S_ISDIR(sb.st_mode)) WD_GOV__FAIL(-WD_E_INVAL, "%s %s is not a directory", what, dir);
  if (sb.st_uid != geteuid())
    WD_GOV__FAIL(-WD_E_INVAL,
                 "%s %s belongs to uid %ld, not to uid %ld that runs warden: chown it, or run "
                 "warden as its owner",
                 what, dir, (long)sb.st_uid, (long)geteuid());
  if (sb.st_mode & (S_IWGRP | S_IWOTH))
    WD_GOV__FAIL(-WD_E_INVAL,
                 "%s %s may be written by other users (mode %04o), who could plant a signing key "
                 "or replace the state: chmod 700 %s",
                 what, dir, (unsigned)(sb.st_mode & 07777), dir);
cleanup:
  return rc;
}

/* The database and its WAL files hold every record and the token hashes:
 * one readable by other users (an older start, a copy, a restore) is
 * tightened to 0600 rather than refused, since chmod is the fix either
 * way. A new database is made 0600 before SQLite opens it, so its WAL
 * and shared-memory files, which take its mode, are 0600 too. */
static int private_db_file(const char *path, int create, char *err, size_t errlen) {
  int rc = 0;
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
  if (fd < 0) {
    if (errno == ENOENT) return 0;
    WD_GOV__FAIL(-WD_E_IO, "cannot open %s: %s", path, strerror(errno));
  }
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
    WD_GOV__FAIL(-WD_E_INVAL, "%s is not a regular file", path);
  if ((sb.st_mode & (S_IRWXG | S_IRWXO)) && fchmod(fd, sb.st_mode & S_IRWXU) != 0)
    WD_GOV__FAIL(-WD_E_IO, "%s may be read by other users (mode %04o) and cannot be made 0600: %s",
                 path, (unsigned)(sb.st_mode & 07777), strerror(errno));
cleanup:
  if (fd >= 0) (void)close(fd);
  return rc;
}

/* Whether dir holds no database yet: no warden.db, or an empty one with
 * no write-ahead log beside it to recover from. */
static int db_is_new(const char *dir) {
  char path[4300];
  struct stat sb;
  (void)snprintf(path, sizeof path, "%s/warden.db", dir);
  if (stat(path, &sb) == 0 ? sb.st_size > 0 : errno != ENOENT) return 0;
  (void)snprintf(path, sizeof path, "%s/warden.db-wal", dir);
  if (stat(path, &sb) == 0 ? sb.st_size > 0 : errno != ENOENT) return 0;
  return 1;
}

int wd_gov__open_state(const char *dir, int create, unsigned store_flags, int *lock_fd,
                       wd_store **store, wd_audit **audit, char *err, size_t errlen) {
  char path[4300];
  int rc = 0;
  if (create && mkdir(dir, 0700) != 0 && errno != EEXIST)
    WD_GOV__FAIL(-WD_E_IO, "cannot create %s: %s", dir, strerror(errno));
  rc = private_dir(dir, "data directory", err, errlen);
  if (rc == -WD_E_NOTFOUND) WD_GOV__FAIL(rc, "no Warden state in %s (%s)", dir, strerror(ENOENT));
  if (rc) goto cleanup;
  /* SQLite would only say "storage error" when it cannot make its journal. */
  if (create && access(dir, W_OK | X_OK) != 0)
    WD_GOV__FAIL(-WD_E_IO,
                 "data directory %s is not writable (%s): Warden keeps its database, its journal "
                 "and its signing keys there; make it writable, or give --data a writable "
                 "directory",
                 dir, errno == EROFS ? "on a read-only file system" : strerror(errno));
  (void)snprintf(path, sizeof path, "%s/keys", dir);
  if (create && mkdir(path, 0700) != 0 && errno != EEXIST)
    WD_GOV__FAIL(-WD_E_IO, "cannot create %s: %s", path, strerror(errno));
  if ((rc = private_dir(path, "key directory", err, errlen)) == -WD_E_NOTFOUND) rc = 0;
  if (rc) goto cleanup;
  (void)snprintf(path, sizeof path, "%s/warden.lock", dir);
  /* The live state trusts that no other process writes this store. */
  *lock_fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0600);
  if (*lock_fd < 0 && !create && errno == ENOENT)
    WD_GOV__FAIL(-WD_E_NOTFOUND, "no Warden state in %s (%s)", dir, strerror(errno));
  if (*lock_fd < 0) WD_GOV__FAIL(-WD_E_IO, "cannot open %s: %s", path, strerror(errno));
  if (flock(*lock_fd, LOCK_EX | LOCK_NB) != 0)
    WD_GOV__FAIL(-WD_E_EXISTS, "%s is in use by another warden serve", dir);
  (void)snprintf(path, sizeof path, "%s/warden.db", dir);
  struct stat sb;
  if (!create && stat(path, &sb) != 0) WD_GOV__FAIL(-WD_E_NOTFOUND, "no Warden state in %s", dir);
  /* Keys are made only after a database exists, so keys beside a missing
   * or empty one mean the database was lost or truncated: starting afresh
   * would issue a new admin token and restart the evidence log at 1. */
  (void)snprintf(path, sizeof path, "%s/keys/keyset.json", dir);
  if (create && db_is_new(dir) && stat(path, &sb) == 0)
    WD_GOV__FAIL(-WD_E_NOTFOUND,
                 "%s/warden.db is missing or empty, but %s/keys holds signing keys: the "
                 "database was lost or truncated. Restore warden.db from a backup; or, to start "
                 "afresh with new keys, a new admin token and a new evidence log, move %s aside",
                 dir, dir, dir);
  static const char *const db_files[] = {"warden.db", "warden.db-wal", "warden.db-shm"};
  for (size_t i = 0; i < sizeof db_files / sizeof db_files[0]; i++) {
    (void)snprintf(path, sizeof path, "%s/%s", dir, db_files[i]);
    if ((rc = private_db_file(path, create && i == 0, err, errlen)) != 0) goto cleanup;
  }
  (void)snprintf(path, sizeof path, "sqlite:%s/warden.db", dir);
  if ((rc = wd_store_open(path, store_flags, store)) == -WD_E_FOREIGN)
    WD_GOV__FAIL(rc,
                 "cannot open the store %s: it holds tables but is not a Warden database; it was "
                 "left unchanged. Give --data a directory of its own",
                 path);
  if (rc) WD_GOV__FAIL(rc, "cannot open the store %s: %s", path, wd_strerror(rc));
  if ((rc = wd_audit_open(*store, audit)) != 0)
    WD_GOV__FAIL(rc, "cannot open the evidence log: %s", wd_strerror(rc));
cleanup:
  return rc;
}

/* The log's last records, checked before new ones chain onto them. A
 * row outside the chain stops the start, since no record could follow
 * it; a tail that does not verify is the operator's to look into, and
 * the service goes on (what it appends does not hide the break). */
static int check_log_tail(wd_gov *g, char *err, size_t errlen) {
  wd_audit_report rep;
  int64_t last = 0;
  char hash[65];
  int rc = wd_store_audit_tail(g->store, &last, hash);
  if (rc) WD_GOV__FAIL(rc, "cannot read the evidence log: %s", wd_strerror(rc));
  if (last != 0 && (!wd_audit_seq_ok(last) || last == WD_AUDIT_SEQ_MAX))
    WD_GOV__FAIL(-WD_E_CORRUPT,
                 "the evidence log cannot go on: its last row has seq %lld, and no record is "
                 "numbered past 2^53; only a write around Warden makes such a row. `warden audit "
                 "verify --data %s` tells the whole log",
                 (long long)last, g->data_dir);
  rc = wd_audit_verify_tail(g->store, WD_LIMIT_AUDIT_START_CHECK, &rep);
  if (rc == -WD_E_VALIDATE) {
    wd_gov__warn(
        g,
        "the evidence log's newest records do not verify (of the last %u): record %lld: %s; "
        "`warden audit verify --data %s` tells the whole log",
        WD_LIMIT_AUDIT_START_CHECK, (long long)rep.bad_seq, rep.reason, g->data_dir);
    return 0;
  }
  if (rc) WD_GOV__FAIL(rc, "cannot read the evidence log: %s", wd_strerror(rc));
cleanup:
  return rc;
}

/* The first start's token, from WARDEN_ADMIN_TOKEN or made here. */
static int create_admin(wd_gov *g, const char *given, char **generated) {
  json_t *p = json_pack("{s:s, s:s}", "action", "admin_token.created", "source",
                        given && *given ? "environment" : "generated");
  if (!p) return -WD_E_NOMEM;
  char hash[WD_IDENT_HASH_HEX_LEN + 1], *tok = NULL;
  /* -WD_E_EXISTS: another process won the first start; its token stands. */
  int rc = wd_gov__admin_token_issue(g->audit, given, 1, "warden", p, hash, &tok);
  json_decref(p);
  if (rc) return rc;
  /* Workers already check admin calls against it. */
  pthread_mutex_lock(&g->admin_lock);
  memcpy(g->admin_hash, hash, sizeof hash);
  pthread_mutex_unlock(&g->admin_lock);
  if (given && *given)
    wd_ident_secret_free(tok);
  else
    *generated = tok;
  return 0;
}

void wd_gov__warn(wd_gov *g, const char *fmt, ...) {
  if (!g->warn) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  g->warn(g->warn_ctx, msg);
}

/* The stored token's hash; *missing at the first start, when a given
 * token is checked now so that a bad one fails the start at once. A given
 * token that is not the stored one is not used: the operator is warned,
 * by comparing hashes, without the token. */
static int load_admin(wd_gov *g, const char *given, int *missing) {
  char *h = NULL;
  *missing = 0;
  int rc = wd_store_setting_get(g->store, WD_SETTING_ADMIN_TOKEN_HASH, &h);
  if (rc == -WD_E_NOTFOUND) {
    *missing = 1;
    if (!given || !*given) return 0;
    if (!wd_gov__admin_token_usable(given)) return -WD_E_INVAL;
    if (wd_gov__admin_token_bits(given) < WD_LIMIT_ADMIN_TOKEN_MIN_BITS)
      wd_gov__warn(g, "the initial admin token (WARDEN_ADMIN_TOKEN or the config key admin_token) "
                      "repeats a few characters: only its SHA-256 is stored, and a leaked "
                      "database would let it be guessed; leave it unset to have a random one "
                      "made, or `warden admin rotate-token` later");
    return 0;
  }
  if (rc) return rc;
  if (given && *given && !wd_ident_secret_check(given, strlen(given), h))
    wd_gov__warn(g, "the admin token given (WARDEN_ADMIN_TOKEN or the config key admin_token) is "
                    "not used: an admin token is already set and stays in force; `warden admin "
                    "rotate-token` or `warden admin reset-token` replaces it");
  pthread_mutex_lock(&g->admin_lock);
  (void)snprintf(g->admin_hash, sizeof g->admin_hash, "%s", h);
  pthread_mutex_unlock(&g->admin_lock);
  wd_free(h);
  return 0;
}

/* The first start's token is made only once the server listens: a start
 * that failed after making it (a policy error, a port in use) would keep
 * the hash of a token nobody was shown. Until then admin calls are
 * refused. */
static int first_admin(wd_gov *g, const char *given, char **generated) {
  int rc = create_admin(g, given, generated), missing = 0;
  if (rc != -WD_E_EXISTS) return rc;
  rc = load_admin(g, given, &missing);
  return rc ? rc : missing ? -WD_E_STORE : 0;
}

/* Reads the schema (dir/governance.cedarschema unless schema_path is
 * given) into g->schema and the policy set of policy directory dir into
 * *pd and *ps (owned by the caller), parsed and validated; nothing is
 * stored, so the start runs it before the data directory is touched. */
static int load_policies(wd_gov *g, const char *dir, const char *schema_path, wd_gov__poldir *pd,
                         cedar_policyset **ps, char *err, size_t errlen) {
  char spath[4200], *schema_text = NULL;
  size_t slen = 0;
  cedar_diags *sd = NULL;
  json_t *diags = NULL;
  /* The directory first: when it is missing, that is the problem, not
   * the schema in it. */
  int rc = wd_gov__read_policy_dir(dir, pd, err, errlen);
  if (rc) goto cleanup;
  if (schema_path && *schema_path)
    (void)snprintf(spath, sizeof spath, "%s", schema_path);
  else
    (void)snprintf(spath, sizeof spath, "%s/governance.cedarschema", dir);
  if ((rc = wd_gov__read_schema(spath, &schema_text, &slen, err, errlen)) != 0) goto cleanup;
  if (!(sd = cedar_diags_new())) WD_GOV__FAIL(-WD_E_NOMEM, "out of memory");
  if ((rc = cedar_schema_parse(schema_text, slen, &g->schema, sd)) != 0) {
    const cedar_diag *d0 = cedar_diags_count(sd) ? cedar_diags_get(sd, 0) : NULL;
    WD_GOV__FAIL(rc, "schema %s is invalid: %u:%u: %s", spath, d0 ? d0->line : 0, d0 ? d0->col : 0,
                 d0 ? d0->msg : wd_strerror(rc));
  }
  if ((rc = wd_gov__build_policies(g, pd->text, pd->len, pd, ps, &diags)) != 0)
    wd_gov__policy_problems(dir, diags, rc, err, errlen);
cleanup:
  json_decref(diags);
  cedar_diags_free(sd);
  wd_free(schema_text);
  return rc;
}

static int same_text(const wd_policy_version *v, const wd_gov__poldir *pd) {
  return v->text && strlen(v->text) == pd->len && memcmp(v->text, pd->text, pd->len) == 0;
}

/* The version the directory's text was last recorded as, or 0. */
static int64_t dir_version(wd_gov *g) {
  char *v = NULL;
  if (wd_store_setting_get(g->store, WD_SETTING_POLICY_DIR_VERSION, &v) != 0) return 0;
  char *end = NULL;
  long long n = strtoll(v, &end, 10);
  int ok = end != v && *end == '\0' && n > 0;
  wd_free(v);
  return ok ? (int64_t)n : 0;
}

/* Makes the set load_policies read, or the version an admin put through
 * the API since, the active one. The directory wins only when it changed
 * since it was last read: a set put through the API (an emergency forbid,
 * say) outlives a restart with the same files, and editing the files
 * replaces it. An unchanged directory keeps its version number. */
static int record_policies(wd_gov *g, const wd_gov__poldir *pd, cedar_policyset *ps, char *err,
                           size_t errlen) {
  wd_policy_version cur = {0}, last = {0};
  cedar_policyset *kept = NULL;
  json_t *diags = NULL;
  char vtxt[24];
  int rc = 0, krc = -WD_E_NOTFOUND;
  int have = wd_store_policy_get_active(g->store, &cur) == 0;
  int64_t dv = dir_version(g);
  int unchanged = dv > 0 && wd_store_policy_get(g->store, dv, &last) == 0 && same_text(&last, pd);
  if (have && same_text(&cur, pd)) {
    snap_swap(g, cedar_policyset_ref(ps), cur.version);
    if (dv == cur.version) goto cleanup;
    /* A store from before the mark: this version is the directory's. */
    (void)snprintf(vtxt, sizeof vtxt, "%lld", (long long)cur.version);
    if ((rc = wd_store_setting_put(g->store, WD_SETTING_POLICY_DIR_VERSION, vtxt, 0)) != 0)
      WD_GOV__FAIL(rc, "cannot record the policy set: %s", wd_strerror(rc));
    goto cleanup;
  }
  if (have && unchanged)
    krc = wd_gov__build_policies(g, cur.text, strlen(cur.text), NULL, &kept, &diags);
  if (krc == 0) {
    snap_swap(g, kept, cur.version);
    wd_gov__warn(g,
                 "policy version %lld, put through the API, stays active: the policy directory "
                 "is as it was at version %lld (change its files to replace it)",
                 (long long)cur.version, (long long)dv);
    goto cleanup;
  }
  if (krc != -WD_E_NOTFOUND && krc != -WD_E_PARSE && krc != -WD_E_VALIDATE)
    WD_GOV__FAIL(krc, "cannot load policy version %lld: %s", (long long)cur.version,
                 wd_strerror(krc));
  if ((rc = wd_gov__activate(g, pd->text, pd->len, ps, 1, "warden", NULL)) != 0)
    WD_GOV__FAIL(rc, "cannot record the policy set: %s", wd_strerror(rc));
  if (krc != -WD_E_NOTFOUND)
    wd_gov__warn(g,
                 "policy version %lld, put through the API, no longer validates against the "
                 "schema: the policy directory's set replaces it",
                 (long long)cur.version);
  else if (have && dv > 0 && cur.version != dv)
    wd_gov__warn(g,
                 "the policy directory changed since it was read as version %lld: its set "
                 "replaces version %lld, put through the API",
                 (long long)dv, (long long)cur.version);
  else if (have && dv == 0)
    wd_gov__warn(g,
                 "the policy directory's set replaces version %lld (a store from before "
                 "Warden kept which version came from the directory)",
                 (long long)cur.version);
cleanup:
  json_decref(diags);
  wd_store_policy_free(&cur);
  wd_store_policy_free(&last);
  return rc;
}

static int remember_jti(void *ctx, const char *jti, int64_t exp_ms) {
  wd_gov *g = ctx;
  int r = wd_gov__replay_check(g->replay, jti, exp_ms, wd_gov__now_ms());
  if (r != -WD_E_TOOBIG) return r < 0 ? r : 0;
  /* A full cache leaves the rest to the store, which fresh proofs consult
   * then; a proof the cache had judged is not there yet. */
  int is_new = 0;
  return wd_store_dpop_seen(g->store, jti, exp_ms, &is_new);
}

/* Frees the TLS pair read at start; the key's bytes are wiped first. */
static void drop_tls(char *cert, char *key) {
  wd_free(cert);
  if (key) wd_ident_cleanse(key, strlen(key));
  wd_free(key);
}

/* Why an initial admin token cannot serve, in err; 0 when it can. */
static int admin_token_shape(const char *tok, char *err, size_t errlen) {
  int rc = 0;
  if (wd_gov__admin_token_unsendable(tok))
    WD_GOV__FAIL(-WD_E_INVAL,
                 "the initial admin token (WARDEN_ADMIN_TOKEN or the config key admin_token) "
                 "holds a space, a control character or a byte outside ASCII; a client can send "
                 "only visible ASCII");
  if (strlen(tok) < WD_LIMIT_ADMIN_TOKEN_MIN_CHARS)
    WD_GOV__FAIL(-WD_E_INVAL,
                 "the initial admin token (WARDEN_ADMIN_TOKEN or the config key admin_token) "
                 "has %zu characters; it needs at least %u (or leave it unset to have one "
                 "generated)",
                 strlen(tok), WD_LIMIT_ADMIN_TOKEN_MIN_CHARS);
cleanup:
  return rc;
}

int wd_gov_start(const wd_gov_opts *o, wd_gov **out, char **new_admin_token, char *err,
                 size_t errlen) {
  *out = NULL;
  if (new_admin_token) *new_admin_token = NULL;
  if (!o || !o->data_dir || !*o->data_dir) return -WD_E_INVAL;
  int rc = 0;
  char *gen = NULL, *tls_cert = NULL, *tls_key = NULL;
  wd_gov__poldir pd = {0};
  cedar_policyset *ps = NULL; /* read before the state, recorded after */
  wd_gov *g = wd_calloc(1, sizeof *g);
  if (!g) return -WD_E_NOMEM;
  g->lock_fd = -1;
  g->listen_fd = -1;
  g->access_fd = -1;
  g->started_ms = wd_gov__now_ms();
  pthread_rwlock_init(&g->keys_lock, NULL);
  pthread_mutex_init(&g->pol_lock, NULL);
  pthread_mutex_init(&g->put_lock, NULL);
  pthread_mutex_init(&g->admin_lock, NULL);
  pthread_rwlockattr_t ra;
  pthread_rwlockattr_init(&ra);
  /* A stop must not wait behind a stream of openings. */
  (void)pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&g->open_lock, &ra);
  pthread_rwlockattr_destroy(&ra);
  pthread_mutex_init(&g->deny_lock, NULL);
  pthread_mutex_init(&g->autoq_lock, NULL);
  pthread_mutex_init(&g->stop_lock, NULL);
  g->stop_clock = CLOCK_MONOTONIC;
  if (wd_gov__cond_init_monotonic(&g->stop_cond) != 0) {
    pthread_cond_init(&g->stop_cond, NULL);
    g->stop_clock = CLOCK_REALTIME;
  }
  (void)snprintf(g->data_dir, sizeof g->data_dir, "%s", o->data_dir);
  (void)snprintf(g->trust_domain, sizeof g->trust_domain, "%s",
                 o->trust_domain && *o->trust_domain ? o->trust_domain : "warden.local");
  (void)snprintf(g->audience, sizeof g->audience, "%s",
                 o->audience && *o->audience ? o->audience : "warden");
  (void)snprintf(g->issuer, sizeof g->issuer, "spiffe://%s/warden", g->trust_domain);
  if ((o->tls_cert && *o->tls_cert) != (o->tls_key && *o->tls_key))
    WD_GOV__FAIL(-WD_E_INVAL, "TLS needs both a certificate and its key");
  g->tls = o->tls_cert && *o->tls_cert;
  g->warn = o->warn;
  g->warn_ctx = o->warn_ctx;
  if (o->public_url && *o->public_url) {
    size_t n = strlen(o->public_url);
    while (n > 0 && o->public_url[n - 1] == '/')
      n--;
    if (n >= sizeof g->public_url) WD_GOV__FAIL(-WD_E_TOOBIG, "public_url is too long");
    memcpy(g->public_url, o->public_url, n);
  }
  g->strict = !o->pure_cedar;
  g->token_ttl_s = o->token_ttl_s ? o->token_ttl_s : WD_IDENT_TOKEN_TTL_DEFAULT;
  if (g->token_ttl_s > WD_IDENT_TOKEN_TTL_MAX) g->token_ttl_s = WD_IDENT_TOKEN_TTL_MAX;
  g->q_denials = o->quarantine_denials;
  g->q_window_ms = (int64_t)(o->quarantine_window_s ? o->quarantine_window_s : 60) * 1000;
  g->reaper_ms = o->reaper_interval_ms ? o->reaper_interval_ms : 1000;
  g->retention_ms = (int64_t)o->retention_s * 1000;
  if (!(g->denials = json_object()) || !(g->changed = json_object()))
    WD_GOV__FAIL(-WD_E_NOMEM, "out of memory");

  /* Everything that can be checked without the data directory is
   * checked before it is created or changed: a start refused for a typo
   * leaves no state behind. */
  const char *host = o->host && *o->host ? o->host : "127.0.0.1";
  unsigned char addr[sizeof(struct in6_addr)];
  if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1)
    WD_GOV__FAIL(-WD_E_INVAL, "cannot listen on %s: not a numeric IPv4 or IPv6 address", host);
  if (g->tls &&
      (rc = wd_gov__tls_load(g, o->tls_cert, o->tls_key, &tls_cert, &tls_key, err, errlen)) != 0)
    goto cleanup;
  /* The address is claimed here, before any state: a port in use fails
   * the start while it has changed nothing. */
  rc = wd_http_listen(host, o->port, &g->listen_fd);
  if (rc == -WD_E_EXISTS || rc == -WD_E_INVAL)
    WD_GOV__FAIL(rc, "cannot listen on %s:%u: %s", host, (unsigned)o->port,
                 rc == -WD_E_EXISTS
                     ? "the address is already in use"
                     : "the address is not this host's, or the port needs privileges");
  if (rc) WD_GOV__FAIL(rc, "cannot listen on %s:%u: %s", host, (unsigned)o->port, wd_strerror(rc));
  const char *pdir = o->policy_dir && *o->policy_dir ? o->policy_dir : "docs/policies";
  if ((rc = load_policies(g, pdir, o->schema_path, &pd, &ps, err, errlen)) != 0) goto cleanup;
  if ((rc = wd_gov__entcache_new(g->schema, &g->entcache)) != 0) WD_GOV__FAIL(rc, "out of memory");
  /* The initial admin token counts only at a first start, when there is
   * no database yet. */
  if (o->admin_token && *o->admin_token && db_is_new(g->data_dir) &&
      (rc = admin_token_shape(o->admin_token, err, errlen)) != 0)
    goto cleanup;

  if ((rc = wd_gov__open_state(g->data_dir, 1, WD_STORE_MANUAL_CHECKPOINT, &g->lock_fd, &g->store,
                               &g->audit, err, errlen)) != 0)
    goto cleanup;
  if ((rc = check_log_tail(g, err, errlen)) != 0) goto cleanup;
  if ((rc = wd_gov__live_new(g->store, g->audit, &g->live)) != 0 ||
      (rc = wd_gov__replay_new(&g->replay)) != 0 ||
      (rc = wd_ident_sigcache_new(4096, &g->sigcache)) != 0 ||
      (rc = wd_ident_keycache_new(4096, &g->keycache)) != 0)
    WD_GOV__FAIL(rc, "cannot set up the live state: %s", wd_strerror(rc));
  /* Proofs spent before a restart stay spent. */
  if ((rc = wd_store_dpop_scan(g->store, wd_gov__now_ms(), remember_jti, g)) != 0)
    WD_GOV__FAIL(rc, "cannot load the DPoP replay cache: %s", wd_strerror(rc));
  /* The saved keys only: the start's new key waits until the server
   * listens, so a start that fails before leaves no key and no record. */
  if ((rc = wd_gov__keys_load(g, err, errlen)) != 0) goto cleanup;
  int admin_missing = 0;
  rc = load_admin(g, o->admin_token, &admin_missing);
  if (rc == -WD_E_INVAL && o->admin_token && admin_token_shape(o->admin_token, err, errlen))
    goto cleanup;
  if (rc) WD_GOV__FAIL(rc, "cannot set up the admin token: %s", wd_strerror(rc));
  if ((rc = record_policies(g, &pd, ps, err, errlen)) != 0) goto cleanup;

  pthread_mutex_lock(&g->stop_lock);
  g->stopping = 0;
  pthread_mutex_unlock(&g->stop_lock);
  if (pthread_create(&g->reaper, NULL, reaper_main, g) != 0)
    WD_GOV__FAIL(-WD_E_INTERNAL, "cannot start the reaper thread");
  g->reaper_started = 1;

  wd_http_opts ho;
  memset(&ho, 0, sizeof ho);
  ho.host = host;
  ho.port = o->port;
  ho.threads = o->threads;
  ho.max_connections = o->max_connections;
  ho.max_per_ip = o->max_per_ip;
  ho.conn_timeout_s = o->conn_timeout_s;
  ho.max_body = o->max_body;
  ho.routes = ROUTES;
  ho.nroutes = sizeof ROUTES / sizeof ROUTES[0];
  ho.auth = wd_gov__auth;
  ho.recheck = wd_gov__recheck;
  ho.ready = ready;
  ho.svc = g;
  ho.builtin_health = 1;
  if ((rc = wd_gov__access_open(g, o->access_log, err, errlen)) != 0) goto cleanup;
  ho.access = wd_gov__access; /* counts for GET /metrics; writes when there is a log */
  ho.tls_cert_pem = tls_cert;
  ho.tls_key_pem = tls_key;
  ho.listen_fd = &g->listen_fd;
  rc = wd_http_server_start(&ho, &g->http);
  g->listen_fd = -1; /* the server's now, started or not */
  if (rc)
    WD_GOV__FAIL(rc, "cannot serve on %s:%u%s: %s", ho.host, (unsigned)ho.port,
                 g->tls ? " with that TLS certificate and key" : "", wd_strerror(rc));
  /* Until here the saved keys serve (none at a first start, when no
   * agent exists and admin calls are still refused). */
  if ((rc = wd_gov__keys_renew(g)) != 0)
    WD_GOV__FAIL(rc, "cannot make the start's signing key: %s", wd_strerror(rc));
  if ((rc = wd_gov__keys_start(g, o->key_rotation_s)) != 0)
    WD_GOV__FAIL(rc, "cannot start the key rotation thread");
  if (admin_missing && (rc = first_admin(g, o->admin_token, &gen)) != 0)
    WD_GOV__FAIL(rc, "cannot set up the admin token: %s", wd_strerror(rc));

  drop_tls(tls_cert, tls_key);
  cedar_policyset_unref(ps);
  wd_gov__poldir_free(&pd);
  *out = g;
  if (new_admin_token)
    *new_admin_token = gen;
  else
    wd_ident_secret_free(gen);
  return 0;
cleanup:
  drop_tls(tls_cert, tls_key);
  cedar_policyset_unref(ps);
  wd_gov__poldir_free(&pd);
  wd_ident_secret_free(gen);
  wd_gov_free(g);
  return rc;
}

uint16_t wd_gov_port(const wd_gov *g) { return g && g->http ? wd_http_server_port(g->http) : 0; }

int wd_gov_shutdown(wd_gov *g, unsigned wait_ms) {
  if (!g || g->shut) return 0;
  g->shut = 1;
  /* Requests in flight finish; a new one on a connection kept alive is
   * refused rather than decided while the service drains. */
  atomic_store(&g->draining, 1);
  int rc = g->http ? wd_http_server_shutdown(g->http, wait_ms) : 0;
  if (g->reaper_started) {
    pthread_mutex_lock(&g->stop_lock);
    g->stopping = 1;
    pthread_cond_broadcast(&g->stop_cond);
    pthread_mutex_unlock(&g->stop_lock);
    pthread_join(g->reaper, NULL);
    g->reaper_started = 0;
  }
  wd_gov__keys_stop(g);
  return rc;
}

void wd_gov_free(wd_gov *g) {
  if (!g) return;
  (void)wd_gov_shutdown(g, WD_LIMIT_HTTP_SHUTDOWN_WAIT_S * 1000u);
  wd_http_server_free(g->http);
  /* Every append returned durable, so closing the log loses nothing. */
  wd_audit_close(g->audit);
  wd_gov__live_free(g->live);
  wd_gov__replay_free(g->replay);
  wd_ident_sigcache_free(g->sigcache);
  wd_ident_keycache_free(g->keycache);
  wd_store_close(g->store);
  if (g->lock_fd >= 0) (void)close(g->lock_fd);
  if (g->listen_fd >= 0) (void)close(g->listen_fd);
  if (g->access_fd >= 0) (void)close(g->access_fd);
  wd_ident_keyset_free(g->keys);
  wd_gov__entcache_free(g->entcache);
  cedar_schema_free(g->schema);
  cedar_policyset_unref(g->pol.ps);
  json_decref(g->denials);
  json_decref(g->changed);
  wd_ident_cleanse(g->admin_hash, sizeof g->admin_hash);
  pthread_rwlock_destroy(&g->keys_lock);
  pthread_mutex_destroy(&g->pol_lock);
  pthread_mutex_destroy(&g->put_lock);
  pthread_mutex_destroy(&g->admin_lock);
  pthread_rwlock_destroy(&g->open_lock);
  pthread_mutex_destroy(&g->deny_lock);
  pthread_mutex_destroy(&g->autoq_lock);
  pthread_mutex_destroy(&g->stop_lock);
  pthread_cond_destroy(&g->stop_cond);
  wd_free(g);
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * The backend-neutral half of the store: picks a backend from the URL,
 * validates arguments once for every backend, routes calls through the
 * vtable, and frees result structs. No SQL lives here.
 */
#include <jansson.h>
#include <string.h>

#include "store/store_int.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"

/* ---- names ---------------------------------------------------------------- */

static const char *const tier_names[] = {
#define XX(c, s) s,
    WD_AGENT_TIER_MAP(XX)
#undef XX
};
static const char *const agent_status_names[] = {
#define XX(c, s) s,
    WD_AGENT_STATUS_MAP(XX)
#undef XX
};
static const char *const task_status_names[] = {
#define XX(c, s) s,
    WD_TASK_STATUS_MAP(XX)
#undef XX
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *name_of(const char *const *names, size_t n, unsigned i) {
  return i < n ? names[i] : "?";
}

static int parse_name(const char *const *names, size_t n, const char *s, unsigned *out) {
  if (!s) return -WD_E_INVAL;
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], s) == 0) {
      *out = (unsigned)i;
      return 0;
    }
  return -WD_E_INVAL;
}

const char *wd_agent_tier_name(wd_agent_tier t) {
  return name_of(tier_names, COUNT(tier_names), (unsigned)t);
}
const char *wd_agent_status_name(wd_agent_status st) {
  return name_of(agent_status_names, COUNT(agent_status_names), (unsigned)st);
}
int wd_agent_status_change_ok(wd_agent_status from, wd_agent_status to) {
  switch (to) {
  case WD_AGENT_QUARANTINED: return from == WD_AGENT_ACTIVE;
  case WD_AGENT_ACTIVE: return from == WD_AGENT_QUARANTINED;
  case WD_AGENT_RETIRED: return from != WD_AGENT_RETIRED;
  case WD_AGENT_PENDING: break;
  }
  return 0;
}
const char *wd_task_status_name(wd_task_status st) {
  return name_of(task_status_names, COUNT(task_status_names), (unsigned)st);
}

int wd_agent_tier_parse(const char *s, wd_agent_tier *out) {
  unsigned i;
  int rc = parse_name(tier_names, COUNT(tier_names), s, &i);
  if (rc == 0) *out = (wd_agent_tier)i;
  return rc;
}
int wd_agent_status_parse(const char *s, wd_agent_status *out) {
  unsigned i;
  int rc = parse_name(agent_status_names, COUNT(agent_status_names), s, &i);
  if (rc == 0) *out = (wd_agent_status)i;
  return rc;
}
int wd_task_status_parse(const char *s, wd_task_status *out) {
  unsigned i;
  int rc = parse_name(task_status_names, COUNT(task_status_names), s, &i);
  if (rc == 0) *out = (wd_task_status)i;
  return rc;
}

/* ---- shared checks -------------------------------------------------------- */

int wd_store__check_text(const char *s, int optional) {
  if (!s) return optional ? 0 : -WD_E_INVAL;
  if (!optional && !*s) return -WD_E_INVAL;
  if (strlen(s) > WD_LIMIT_STORE_FIELD_BYTES) return -WD_E_TOOBIG;
  return 0;
}

int wd_store__check_json(const char *s, int want) {
  json_error_t err;
  json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, &err);
  int ok = j && (int)json_typeof(j) == want;
  json_decref(j);
  return ok ? 0 : -WD_E_INVAL;
}

/* ---- open / close --------------------------------------------------------- */

int wd_store_open(const char *url, unsigned flags, wd_store **out) {
  const char *path = url;
  if (!url || !out) return -WD_E_INVAL;
  *out = NULL;
  if (strncmp(url, "sqlite://", 9) == 0)
    path = url + 9;
  else if (strncmp(url, "sqlite:", 7) == 0)
    path = url + 7;
  else if (strstr(url, "://"))
    return -WD_E_INVAL; /* postgres:// and friends are not built in */
  if (!*path || strlen(path) > WD_LIMIT_STORE_URL_BYTES) return -WD_E_INVAL;
  return wd_store__sqlite_open(path, flags, out);
}

void wd_store_close(wd_store *s) {
  if (s) s->vt->close(s);
}

int wd_store_checkpoint(wd_store *s, uint32_t restart_frames) {
  if (!s) return -WD_E_INVAL;
  if (s->flags & WD_STORE_READONLY) return 0;
  return s->vt->checkpoint(s, restart_frames);
}

int wd_store_backup(wd_store *s, const char *path) {
  if (!s || !path || !*path || strlen(path) >= WD_LIMIT_STORE_URL_BYTES) return -WD_E_INVAL;
  return s->vt->backup(s, path);
}

int wd_store_schema_version(wd_store *s, int *version) {
  if (!s || !version) return -WD_E_INVAL;
  return s->vt->schema_version(s, version);
}

int wd_store_migrate(wd_store *s) {
  if (!s) return -WD_E_INVAL;
  return s->vt->migrate(s);
}

/* ---- agents --------------------------------------------------------------- */

static int agent_ok(const wd_agent *a) {
  int rc;
  if (!a) return -WD_E_INVAL;
  if ((rc = wd_store__check_text(a->id, 0)) || (rc = wd_store__check_text(a->name, 0)) ||
      (rc = wd_store__check_text(a->owner, 0)) || (rc = wd_store__check_text(a->environment, 0)) ||
      (rc = wd_store__check_text(a->attrs, 1)) || (rc = wd_store__check_text(a->jwk, 1)) ||
      (rc = wd_store__check_text(a->jkt, 1)))
    return rc;
  if ((unsigned)a->tier >= COUNT(tier_names) || (unsigned)a->status >= COUNT(agent_status_names))
    return -WD_E_INVAL;
  if (a->attrs && wd_store__check_json(a->attrs, JSON_OBJECT)) return -WD_E_INVAL;
  return !a->jwk != !a->jkt ? -WD_E_INVAL : 0;
}

int wd_store_agent_register(wd_store *s, const wd_agent *a, int64_t now_ms) {
  int rc;
  if (!s) return -WD_E_INVAL;
  if ((rc = agent_ok(a))) return rc;
  return s->vt->agent_register(s, a, now_ms);
}

int wd_store_agent_get(wd_store *s, const char *id, wd_agent *out) {
  if (!s || !id || !out) return -WD_E_INVAL;
  return s->vt->agent_get(s, id, NULL, out);
}

int wd_store_agent_get_by_jkt(wd_store *s, const char *jkt, wd_agent *out) {
  if (!s || !jkt || !out) return -WD_E_INVAL;
  return s->vt->agent_get(s, NULL, jkt, out);
}

int wd_store_agent_list(wd_store *s, const char *after, size_t max, wd_agent_list *out) {
  if (!s || !out || wd_store__check_text(after, 1)) return -WD_E_INVAL;
  if (max > WD_LIMIT_STORE_LIST_ROWS) max = WD_LIMIT_STORE_LIST_ROWS;
  return s->vt->agent_list(s, after, max, out);
}

int wd_store_agent_set_status(wd_store *s, const char *id, wd_agent_status st, const char *reason,
                              int64_t now_ms, unsigned *tasks_ended) {
  unsigned dummy;
  if (!s || !id || (unsigned)st >= COUNT(agent_status_names) || wd_store__check_text(reason, 1))
    return -WD_E_INVAL;
  return s->vt->agent_set_status(s, id, st, reason, now_ms, tasks_ended ? tasks_ended : &dummy);
}

void wd_store_agent_free(wd_agent *a) {
  if (!a) return;
  wd_free(a->id);
  wd_free(a->name);
  wd_free(a->owner);
  wd_free(a->environment);
  wd_free(a->attrs);
  wd_free(a->jwk);
  wd_free(a->jkt);
  memset(a, 0, sizeof *a);
}

void wd_store_agent_list_free(wd_agent_list *l) {
  if (!l) return;
  for (size_t i = 0; i < l->n; i++)
    wd_store_agent_free(&l->items[i]);
  wd_free(l->items);
  l->items = NULL;
  l->n = 0;
  l->more = 0;
}

int wd_store_join_create(wd_store *s, const char *token_hash, const char *agent_name,
                         int64_t expires_ms, int64_t now_ms) {
  if (!s || wd_store__check_text(token_hash, 0) || wd_store__check_text(agent_name, 0))
    return -WD_E_INVAL;
  return s->vt->join_create(s, token_hash, agent_name, expires_ms, now_ms);
}

int wd_store_join_check(wd_store *s, const char *token_hash, int64_t now_ms, const char *agent_id) {
  if (!s || wd_store__check_text(token_hash, 0) || wd_store__check_text(agent_id, 0))
    return -WD_E_INVAL;
  return s->vt->join_check(s, token_hash, now_ms, agent_id);
}

int wd_store_join_consume(wd_store *s, const char *token_hash, const char *jwk, const char *jkt,
                          int64_t now_ms, wd_agent *agent) {
  if (!s || wd_store__check_text(token_hash, 0) || wd_store__check_text(jwk, 0) ||
      wd_store__check_text(jkt, 0))
    return -WD_E_INVAL;
  return s->vt->join_consume(s, token_hash, jwk, jkt, now_ms, agent);
}

/* ---- tasks ---------------------------------------------------------------- */

static int task_ok(const wd_task *t, int64_t ttl_ms, int64_t now_ms) {
  int rc;
  if (!t || ttl_ms <= 0 || t->budget < 0) return -WD_E_INVAL;
  if ((rc = wd_store__check_text(t->id, 0)) || (rc = wd_store__check_text(t->agent_id, 0)) ||
      (rc = wd_store__check_text(t->intent, 0)) || (rc = wd_store__check_text(t->purpose, 0)) ||
      (rc = wd_store__check_text(t->expected_tools, 1)) ||
      (rc = wd_store__check_text(t->ceiling, 0)) || (rc = wd_store__check_text(t->on_behalf_of, 1)))
    return rc;
  if (t->expected_tools && wd_store__check_json(t->expected_tools, JSON_ARRAY)) return -WD_E_INVAL;
  return now_ms > INT64_MAX - ttl_ms ? -WD_E_INVAL : 0;
}

int wd_store_task_create(wd_store *s, const wd_task *t, int64_t ttl_ms, int64_t now_ms) {
  int rc;
  if (!s) return -WD_E_INVAL;
  if ((rc = task_ok(t, ttl_ms, now_ms))) return rc;
  return s->vt->task_create(s, t, ttl_ms, now_ms);
}

int wd_store_task_get(wd_store *s, const char *id, wd_task *out) {
  if (!s || !id || !out) return -WD_E_INVAL;
  return s->vt->task_get(s, id, out);
}

void wd_store_task_free(wd_task *t) {
  if (!t) return;
  wd_free(t->id);
  wd_free(t->agent_id);
  wd_free(t->intent);
  wd_free(t->purpose);
  wd_free(t->expected_tools);
  wd_free(t->ceiling);
  wd_free(t->on_behalf_of);
  wd_free(t->end_reason);
  memset(t, 0, sizeof *t);
}

static int intent_ok(const char *id, const char *intent, const char *purpose,
                     const char *expected_tools) {
  int rc;
  if (!id) return -WD_E_INVAL;
  /* Same rules as task_create: a stated purpose is non-empty, stated
   * tools are a JSON array. */
  if ((rc = wd_store__check_text(intent, 0))) return rc;
  if (purpose && (rc = wd_store__check_text(purpose, 0))) return rc;
  if (expected_tools && (rc = wd_store__check_text(expected_tools, 0))) return rc;
  if (expected_tools && wd_store__check_json(expected_tools, JSON_ARRAY)) return -WD_E_INVAL;
  return 0;
}

int wd_store_task_set_intent(wd_store *s, const char *id, const char *intent, const char *purpose,
                             const char *expected_tools, int64_t now_ms) {
  int rc;
  if (!s) return -WD_E_INVAL;
  if ((rc = intent_ok(id, intent, purpose, expected_tools))) return rc;
  return s->vt->task_set_intent(s, id, intent, purpose, expected_tools, now_ms);
}

static int end_ok(const char *id, wd_task_status st, const char *reason) {
  return id && st != WD_TASK_OPEN && (unsigned)st < COUNT(task_status_names) &&
         !wd_store__check_text(reason, 1);
}

int wd_store_task_end(wd_store *s, const char *id, wd_task_status st, const char *reason,
                      int64_t now_ms) {
  if (!s || !end_ok(id, st, reason)) return -WD_E_INVAL;
  return s->vt->task_end(s, id, st, reason, now_ms);
}

int wd_store_task_count_call(wd_store *s, const char *id, int64_t now_ms, wd_call_verdict *verdict,
                             int64_t *calls_before) {
  int64_t dummy;
  if (!s || !id || !verdict) return -WD_E_INVAL;
  return s->vt->task_count_call(s, id, now_ms, verdict, calls_before ? calls_before : &dummy);
}

int wd_store_task_record_call(wd_store *s, const char *id, const char *tool,
                              const char *classification, const char *destination, int allowed) {
  if (!s || !id || wd_store__check_text(tool, 1) || wd_store__check_text(classification, 1) ||
      wd_store__check_text(destination, 1))
    return -WD_E_INVAL;
  return s->vt->task_record_call(s, id, tool, classification, destination, allowed);
}

int wd_store_task_session(wd_store *s, const char *id, wd_session *out) {
  if (!s || !id || !out) return -WD_E_INVAL;
  return s->vt->task_session(s, id, out);
}

void wd_strlist_free(wd_strlist *l) {
  if (!l) return;
  for (size_t i = 0; i < l->n; i++)
    wd_free(l->v[i]);
  wd_free(l->v);
  l->v = NULL;
  l->n = 0;
}

void wd_store_session_free(wd_session *ss) {
  if (!ss) return;
  wd_strlist_free(&ss->tools);
  wd_strlist_free(&ss->classifications);
  wd_strlist_free(&ss->destinations);
  memset(ss, 0, sizeof *ss);
}

int wd_store_task_list_open(wd_store *s, const char *agent_id, size_t max, wd_strlist *out) {
  if (!s || !agent_id || !out) return -WD_E_INVAL;
  if (max > WD_LIMIT_STORE_LIST_ROWS) max = WD_LIMIT_STORE_LIST_ROWS;
  return s->vt->task_list_open(s, agent_id, max, out);
}

int wd_store_task_list_expired(wd_store *s, int64_t now_ms, size_t max, wd_strlist *out) {
  if (!s || !out) return -WD_E_INVAL;
  if (max > WD_LIMIT_STORE_LIST_ROWS) max = WD_LIMIT_STORE_LIST_ROWS;
  return s->vt->task_list_expired(s, now_ms, max, out);
}

/* ---- tokens and replay cache ---------------------------------------------- */

int wd_store_token_record(wd_store *s, const char *jti, const char *task_id, int64_t exp_ms,
                          int64_t now_ms) {
  if (!s || wd_store__check_text(jti, 0) || wd_store__check_text(task_id, 0)) return -WD_E_INVAL;
  return s->vt->token_record(s, jti, task_id, exp_ms, now_ms);
}

int wd_store_token_revoke(wd_store *s, const char *jti, int64_t now_ms) {
  if (!s || !jti) return -WD_E_INVAL;
  return s->vt->token_revoke(s, jti, now_ms);
}

int wd_store_token_revoke_task(wd_store *s, const char *task_id, int64_t now_ms, unsigned *n) {
  unsigned dummy;
  if (!s || !task_id) return -WD_E_INVAL;
  return s->vt->token_revoke_task(s, task_id, now_ms, n ? n : &dummy);
}

int wd_store_token_is_revoked(wd_store *s, const char *jti, int *revoked) {
  if (!revoked) return -WD_E_INVAL;
  *revoked = 1; /* fail closed whatever happens below */
  if (!s || !jti) return -WD_E_INVAL;
  return s->vt->token_is_revoked(s, jti, revoked);
}

int wd_store_dpop_seen(wd_store *s, const char *jti, int64_t exp_ms, int *is_new) {
  if (!is_new) return -WD_E_INVAL;
  *is_new = 0;
  if (!s || wd_store__check_text(jti, 0)) return -WD_E_INVAL;
  return s->vt->dpop_seen(s, jti, exp_ms, is_new);
}

int wd_store_dpop_scan(wd_store *s, int64_t now_ms, wd_dpop_cb cb, void *ctx) {
  if (!s || !cb) return -WD_E_INVAL;
  return s->vt->dpop_scan(s, now_ms, cb, ctx);
}

int wd_store_dpop_prune(wd_store *s, int64_t now_ms, unsigned *n) {
  unsigned dummy;
  if (!s) return -WD_E_INVAL;
  return s->vt->dpop_prune(s, now_ms, n ? n : &dummy);
}

/* ---- retention ------------------------------------------------------------ */

int wd_store_prune_plan(wd_store *s, int64_t before_ms, uint32_t max, wd_store_prune *out) {
  if (!out) return -WD_E_INVAL;
  memset(out, 0, sizeof *out);
  out->before_ms = before_ms;
  if (!s) return -WD_E_INVAL;
  if (max > WD_LIMIT_STORE_PRUNE_ROWS) max = WD_LIMIT_STORE_PRUNE_ROWS;
  return max ? s->vt->prune_plan(s, before_ms, max, out) : 0;
}

/* ---- policies and settings ------------------------------------------------ */

int wd_store_policy_add(wd_store *s, const char *text, size_t len, int64_t now_ms,
                        int64_t *version) {
  if (!s || !text || !version) return -WD_E_INVAL;
  if (len > WD_LIMIT_STORE_POLICY_BYTES) return -WD_E_TOOBIG;
  return s->vt->policy_add(s, text, len, now_ms, version);
}

int wd_store_policy_activate(wd_store *s, int64_t version) {
  if (!s || version <= 0) return -WD_E_INVAL;
  return s->vt->policy_activate(s, version);
}

int wd_store_policy_get_active(wd_store *s, wd_policy_version *out) {
  if (!s || !out) return -WD_E_INVAL;
  return s->vt->policy_get(s, 0, out);
}

int wd_store_policy_get(wd_store *s, int64_t version, wd_policy_version *out) {
  if (!s || !out || version <= 0) return -WD_E_INVAL;
  return s->vt->policy_get(s, version, out);
}

void wd_store_policy_free(wd_policy_version *p) {
  if (!p) return;
  wd_free(p->text);
  memset(p, 0, sizeof *p);
}

int wd_store_setting_put(wd_store *s, const char *key, const char *value, int only_if_absent) {
  if (!s || wd_store__check_text(key, 0) || wd_store__check_text(value, 1) || !value)
    return -WD_E_INVAL;
  return s->vt->setting_put(s, key, value, only_if_absent);
}

int wd_store_setting_get(wd_store *s, const char *key, char **value) {
  if (!s || !key || !value) return -WD_E_INVAL;
  *value = NULL;
  return s->vt->setting_get(s, key, value);
}

/* ---- evidence rows -------------------------------------------------------- */

int wd_store_audit_tail(wd_store *s, int64_t *seq, char *hash) {
  if (!s || !seq || !hash) return -WD_E_INVAL;
  *seq = 0;
  hash[0] = '\0';
  return s->vt->audit_tail(s, seq, hash);
}

int wd_store_audit_append(wd_store *s, const wd_audit_row *rows, size_t n) {
  return wd_store_audit_append_fx(s, rows, n, NULL, 0);
}

static int fx_ok(const wd_store_fx *f) {
  switch (f->kind) {
  case WD_STORE_FX_DPOP: return f->jti && *f->jti && !wd_store__check_text(f->jti, 0);
  case WD_STORE_FX_CALL:
    return f->task_id && !wd_store__check_text(f->task_id, 0) &&
           !wd_store__check_text(f->tool, 1) && !wd_store__check_text(f->classification, 1) &&
           !wd_store__check_text(f->destination, 1);
  case WD_STORE_FX_TASK_OPEN: return task_ok(f->task, f->ttl_ms, f->now_ms) == 0;
  case WD_STORE_FX_TOKEN:
    return !wd_store__check_text(f->jti, 0) && !wd_store__check_text(f->task_id, 0);
  case WD_STORE_FX_TASK_END: return end_ok(f->task_id, f->status, f->reason);
  case WD_STORE_FX_POLICY: return f->version > 0;
  case WD_STORE_FX_TASK_REVOKE: return !wd_store__check_text(f->task_id, 0);
  case WD_STORE_FX_SETTING:
    return !wd_store__check_text(f->key, 0) && f->value && !wd_store__check_text(f->value, 1);
  case WD_STORE_FX_AGENT_REGISTER: return agent_ok(f->agent) == 0;
  case WD_STORE_FX_JOIN:
    return !wd_store__check_text(f->token_hash, 0) && !wd_store__check_text(f->agent_name, 0);
  case WD_STORE_FX_AGENT_STATUS:
    return f->agent_id && (unsigned)f->agent_status < COUNT(agent_status_names) &&
           !wd_store__check_text(f->reason, 1);
  case WD_STORE_FX_ENROL:
    return !wd_store__check_text(f->token_hash, 0) && !wd_store__check_text(f->jwk, 0) &&
           !wd_store__check_text(f->jkt, 0) && !wd_store__check_text(f->agent_id, 0);
  case WD_STORE_FX_TASK_INTENT:
    return intent_ok(f->task_id, f->intent, f->purpose, f->expected_tools) == 0;
  case WD_STORE_FX_PRUNE:
    return f->prune.tasks <= WD_LIMIT_STORE_PRUNE_ROWS &&
           f->prune.join_tokens <= WD_LIMIT_STORE_PRUNE_ROWS &&
           memchr(f->prune.task, '\0', sizeof f->prune.task) != NULL;
  }
  return 0;
}

int wd_store_audit_append_fx(wd_store *s, const wd_audit_row *rows, size_t n, const wd_store_fx *fx,
                             size_t nfx) {
  size_t bad;
  return wd_store_audit_append_fx_at(s, rows, n, fx, nfx, &bad);
}

int wd_store_audit_append_fx_at(wd_store *s, const wd_audit_row *rows, size_t n,
                                const wd_store_fx *fx, size_t nfx, size_t *bad_fx) {
  *bad_fx = nfx;
  if (!s || (!rows && n) || (!fx && nfx)) return -WD_E_INVAL;
  if (n == 0) return 0;
  if (nfx > 2 * (size_t)WD_LIMIT_AUDIT_BATCH) return -WD_E_TOOBIG;
  for (size_t i = 0; i < nfx; i++)
    if (!fx_ok(&fx[i])) {
      *bad_fx = i;
      return -WD_E_INVAL;
    }
  if (n > WD_LIMIT_AUDIT_BATCH) return -WD_E_TOOBIG;
  for (size_t i = 0; i < n; i++) {
    const wd_audit_row *r = &rows[i];
    if (r->seq != rows[0].seq + (int64_t)i || !r->time || !r->type || !r->actor || !r->payload ||
        !r->prev_hash || !r->hash)
      return -WD_E_INVAL;
  }
  return s->vt->audit_append(s, rows, n, fx, nfx, bad_fx);
}

int wd_store_audit_scan(wd_store *s, const char *task, int64_t from_seq, wd_audit_row_cb cb,
                        void *ctx) {
  if (!s || !cb) return -WD_E_INVAL;
  return s->vt->audit_scan(s, task, from_seq, cb, ctx);
}

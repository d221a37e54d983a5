/* SPDX-License-Identifier: Apache-2.0
 *
 * POST /v1/authorize: the per-call decision. The auth callback already
 * checked the task token, the DPoP proof and its replay, the agent's
 * status and revocation, against the task's live entry (gov_live.h).
 * Here the call is counted against the budget in that entry, decided
 * over a snapshot of the session, and written to the evidence log in one
 * durable record that also carries the proof's jti and the session change
 * to the store; only then is it answered. Any internal failure past the
 * count is a deny with an attempted record; a denial may trigger the
 * auto-quarantine rule.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gov/gov_int.h"
#include "util/wd_alloc.h"

static int name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return 0;
  }
  return 1;
}

/* A decision waiting for its record between the handler's two calls,
 * shared by the parked request and the log's callback; the last of the
 * two to let go frees it. A request can end without its second call (a
 * daemon stopped past its shutdown wait while the record was still
 * queued), and then the callback must not resume it. */
typedef struct authz_wait {
  pthread_mutex_t mu;
  int refs;
  int gone; /* the request ended: do not resume it */
  wd_http_req *req;
  int rc;
  int64_t seq;
  int allow;
  int policy_deny; /* denied by the policies, not by a failure or an end */
  wd_buf answer;   /* the answer's text up to the decision id */
  int64_t before, budget, now;
} authz_wait;

/* Drops one reference; called with aw->mu held, which it releases. */
static void aw_release(authz_wait *aw) {
  int last = --aw->refs == 0;
  pthread_mutex_unlock(&aw->mu);
  if (!last) return;
  pthread_mutex_destroy(&aw->mu);
  wd_buf_free(&aw->answer);
  wd_free(aw);
}

/* wd_http_on_close: the request ended, answered or not. */
static void request_closed(void *arg) {
  authz_wait *aw = arg;
  pthread_mutex_lock(&aw->mu);
  aw->gone = 1;
  aw_release(aw);
}

static authz_wait *aw_new(wd_http_req *req) {
  authz_wait *aw = wd_calloc(1, sizeof *aw);
  if (!aw) return NULL;
  if (pthread_mutex_init(&aw->mu, NULL) != 0) {
    wd_free(aw);
    return NULL;
  }
  wd_buf_init(&aw->answer, WD_LIMIT_AUDIT_PAYLOAD_BYTES);
  aw->refs = 1; /* the request's, dropped when it ends */
  aw->req = req;
  wd_http_on_close(req, request_closed, aw);
  return aw;
}

/* wd_audit_done_cb: on the log's committer thread, so only wake the request. */
static void decided(void *ctx, int rc, int64_t seq) {
  authz_wait *aw = ctx;
  pthread_mutex_lock(&aw->mu);
  aw->rc = rc;
  aw->seq = seq;
  if (!aw->gone) wd_http_resume(aw->req);
  aw_release(aw);
}

/* "key": with the comma before every key but the first. */
static int key(wd_buf *b, const char *k) {
  int rc = wd_buf_len(b) > 1 ? wd_buf_addc(b, ',') : 0;
  if (!rc) rc = wd_buf_addc(b, '"');
  if (!rc) rc = wd_buf_adds(b, k);
  return rc ? rc : wd_buf_adds(b, "\":");
}

/* "key":"value" (null when value is NULL). */
static int str(wd_buf *b, const char *k, const char *v) {
  int rc = key(b, k);
  if (rc) return rc;
  return v ? wd_audit_canon_str(b, v, strlen(v)) : wd_buf_adds(b, "null");
}

static int num(wd_buf *b, const char *k, int64_t v) {
  int rc = key(b, k);
  return rc ? rc : wd_buf_addf(b, "%lld", (long long)v);
}

static int list(wd_buf *b, const char *k, const wd_buf *l) {
  int rc = key(b, k);
  return rc ? rc : wd_gov__decision_list(b, l);
}

/* The decision record's payload, written as its canonical text (keys in
 * byte order) instead of built as an object for the log to sort. A
 * non-integer argument is kept as its shortest round-trip decimal text:
 * the canonical encoding has no other numbers. */
static int evidence(wd_buf *b, const wd_gov__call *c, const char *action, const wd_gov__decision *d,
                    const char *jti, int64_t call) {
  int rc;
  if ((rc = wd_buf_addc(b, '{')) || (rc = str(b, "action", action)) || (rc = key(b, "args")))
    return rc;
  rc = c->args && !json_is_null(c->args) ? wd_audit_canon_json(b, c->args) : wd_buf_adds(b, "null");
  if (rc || (rc = num(b, "call", call)) || (rc = str(b, "classification", c->classification)) ||
      (rc = str(b, "context_sha256", d->ctx_digest)) ||
      (rc = str(b, "decision", d->allow ? "allow" : "deny")) ||
      (rc = str(b, "destination", c->destination)) ||
      (rc = str(b, "environment", c->environment)) || (rc = list(b, "errors", &d->errors)) ||
      (rc = str(b, "jti", jti)) || (rc = str(b, "operation", c->operation)) ||
      (rc = list(b, "policies", &d->policies)) || (rc = num(b, "policy_version", d->version)) ||
      (rc = str(b, "resource", c->res_id)) || (rc = str(b, "tool", c->tool)))
    return rc;
  return wd_buf_addc(b, '}');
}

/* The answer up to its decision id, which only the durable record gives. */
static int answer_head(wd_buf *b, const wd_gov__decision *d) {
  int rc;
  if ((rc = wd_buf_addc(b, '{')) || (rc = str(b, "decision", d->allow ? "allow" : "deny")) ||
      (rc = list(b, "policies", &d->policies)) || (rc = list(b, "errors", &d->errors)) ||
      (rc = num(b, "policy_version", d->version)))
    return rc;
  return key(b, "decision_id");
}

/* Sets the agent's mark to a new generation and returns it. With
 * deny_lock held. */
static uint64_t standing_changed_locked(wd_gov *g, const char *agent) {
  uint64_t gen = atomic_fetch_add(&g->status_gen, 1) + 1;
  /* Out of memory, the older mark stays: denials from before it are
   * still dropped, those in between may count. */
  (void)json_object_set_new(g->changed, agent, json_integer((json_int_t)gen));
  (void)json_object_del(g->denials, agent);
  return gen;
}

void wd_gov__standing_changed(wd_gov *g, const char *agent) {
  pthread_mutex_lock(&g->deny_lock);
  (void)standing_changed_locked(g, agent);
  pthread_mutex_unlock(&g->deny_lock);
}

/* The mark of the agent's last status change; 0 for none. With
 * deny_lock held. */
static uint64_t mark_locked(wd_gov *g, const char *agent) {
  json_t *mark = json_object_get(g->changed, agent);
  return mark ? (uint64_t)json_integer_value(mark) : 0;
}

/* Counts the denial; when it crosses the rule, returns the mark the trip
 * set (never 0), else 0. */
static uint64_t denial_trips(wd_gov *g, const char *agent, int64_t now, uint64_t standing) {
  if (!g->q_denials) return 0;
  uint64_t trip = 0;
  pthread_mutex_lock(&g->deny_lock);
  if (mark_locked(g, agent) > standing) {
    pthread_mutex_unlock(&g->deny_lock);
    return 0;
  }
  json_t *arr = json_object_get(g->denials, agent);
  if (!arr) {
    arr = json_array();
    if (!arr || json_object_set_new(g->denials, agent, arr) != 0) {
      pthread_mutex_unlock(&g->deny_lock);
      return 0;
    }
  }
  while (json_array_size(arr) && json_integer_value(json_array_get(arr, 0)) <= now - g->q_window_ms)
    (void)json_array_remove(arr, 0);
  (void)json_array_append_new(arr, json_integer(now));
  if (json_array_size(arr) >= g->q_denials) {
    /* The denials still in flight made this trip's count, not the next. */
    trip = standing_changed_locked(g, agent);
  }
  pthread_mutex_unlock(&g->deny_lock);
  return trip;
}

/* "local", or host[:port] with host a DNS name in lowercase (an IPv4
 * address is one too). Policies and the internal test read it as a name,
 * so nothing else, a URL least of all, may pass for one. */
static int dest_ok(const char *d) {
  size_t n = strcspn(d, ":"), label = 0;
  if (n == 5 && strncmp(d, "local", 5) == 0) return d[5] == '\0'; /* no port on "local" */
  if (n == 0 || n > 253) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = d[i];
    if (c == '.') {
      if (label == 0 || d[i - 1] == '-') return 0;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
      if (++label > 63) return 0;
    } else {
      return 0;
    }
  }
  if (label == 0 || d[n - 1] == '-') return 0;
  if (!d[n]) return 1;
  size_t digits = strspn(d + n + 1, "0123456789");
  if (digits < 1 || digits > 5 || d[n + 1 + digits] != '\0') return 0;
  long port = strtol(d + n + 1, NULL, 10);
  return port >= 1 && port <= 65535;
}

/* Whether v nests more than limit arrays and objects deep (v itself is
 * the first level). */
static int deeper_than(json_t *v, unsigned limit) {
  if (!json_is_object(v) && !json_is_array(v)) return 0;
  if (limit == 0) return 1;
  if (json_is_array(v)) {
    for (size_t i = 0; i < json_array_size(v); i++)
      if (deeper_than(json_array_get(v, i), limit - 1)) return 1;
    return 0;
  }
  const char *k;
  json_t *m;
  json_object_foreach(v, k, m) {
    if (deeper_than(m, limit - 1)) return 1;
  }
  return 0;
}

/* The classification of a call that states none: the task's ceiling, as
 * a static name, never t's own string, which the record's effects would
 * borrow until the log commits, long after t is freed. A stored ceiling
 * that is not one reads as the strictest. */
static const char *ceiling_of(const wd_task *t) {
  const char *c = wd_gov__classification_name(wd_gov__classification_rank(t->ceiling));
  return c ? c : "secret";
}

static int authorize(wd_gov *g, wd_http_req *req, wd_http_resp *resp, wd_gov__who *w) {
  int rc = 0;
  if (!w || !w->has_token)
    return wd_gov__err(resp, 401, "unauthorized", NULL, "task token required");
  if (!json_is_object(req->json))
    return wd_gov__err(resp, 400, "bad_request", NULL, "body must be a JSON object");
  const char *tool, *op, *cls, *dest, *env;
  if (wd_gov__str(req, resp, "tool", 1, &tool, &rc)) return rc;
  if (wd_gov__str(req, resp, "operation", 1, &op, &rc)) return rc;
  if (wd_gov__str(req, resp, "classification", 0, &cls, &rc)) return rc;
  if (wd_gov__str(req, resp, "destination", 0, &dest, &rc)) return rc;
  if (wd_gov__str(req, resp, "environment", 0, &env, &rc)) return rc;
  if (!name_ok(tool))
    return wd_gov__err(resp, 400, "invalid_field", "tool", "field 'tool' must match [a-z0-9_-]+");
  if (!name_ok(op))
    return wd_gov__err(resp, 400, "invalid_field", "operation",
                       "field 'operation' must match [a-z0-9_-]+");
  /* Unstated, the classification is the task's ceiling (set once the task
   * is loaded) and the destination "unspecified", which is external: saying
   * nothing never passes a rule that saying the truth would not. */
  if (cls && wd_gov__classification_rank(cls) < 0)
    return wd_gov__err(resp, 400, "invalid_field", "classification",
                       "field 'classification' must be public, internal, confidential or secret");
  if (!dest) dest = "unspecified";
  if (!dest_ok(dest))
    return wd_gov__err(resp, 400, "invalid_field", "destination",
                       "field 'destination' must be \"local\" or a lowercase host name "
                       "(labels of a-z, 0-9 and '-', at most 253 characters), with an optional "
                       ":port");
  if (!env) env = w->agent.environment;
  const char *res_id = NULL;
  json_t *res = json_object_get(req->json, "resource");
  if (res && !json_is_null(res)) {
    json_t *rid = json_object_get(res, "id"), *rtype = json_object_get(res, "type");
    /* The resource is always a Data of the call's tool: a type that says
     * otherwise would have a policy scoped to it silently not apply. */
    if (!json_is_object(res) || !json_is_string(rid) || json_string_length(rid) == 0 ||
        json_string_length(rid) > 1024 ||
        (rtype && (!json_is_string(rtype) || strcmp(json_string_value(rtype), "Data") != 0)))
      return wd_gov__err(resp, 400, "invalid_field", "resource",
                         "field 'resource' must be {type: \"Data\", id} with a non-empty id "
                         "(type may be left out)");
    res_id = json_string_value(rid);
  }
  json_t *args = json_object_get(req->json, "args");
  if (args && !json_is_object(args) && !json_is_null(args))
    return wd_gov__err(resp, 400, "invalid_field", "args", "field 'args' must be an object");
  /* The evidence record holds the arguments: bound them so it always
   * can (json_dumpb without a buffer only measures). */
  if (json_object_size(args) > 0 &&
      json_dumpb(args, NULL, 0, JSON_COMPACT) > WD_LIMIT_CALL_ARGS_BYTES)
    return wd_http_resp_error(resp, 400, "invalid_field", "args",
                              "field 'args' must be at most %u bytes as JSON",
                              WD_LIMIT_CALL_ARGS_BYTES);
  if (deeper_than(args, WD_LIMIT_CALL_ARGS_DEPTH))
    return wd_http_resp_error(resp, 400, "invalid_field", "args",
                              "field 'args' must nest at most %u levels deep",
                              WD_LIMIT_CALL_ARGS_DEPTH);

  int64_t now = wd_gov__now_ms();
  wd_gov__ltask *lt = NULL;
  wd_call_verdict verdict = WD_CALL_NOT_OPEN;
  int64_t before = 0;
  unsigned gen = 0;
  wd_task t = {0};
  wd_session ss;
  memset(&ss, 0, sizeof ss);
  /* A forgotten entry means the task changed after the auth check: look
   * again, so an end that returned before this point is seen. */
  for (int tries = 0; tries < 2 && verdict == WD_CALL_NOT_OPEN && !rc; tries++) {
    wd_gov__live_put(g->live, lt);
    lt = NULL;
    rc = wd_gov__live_get(g->live, w->task_id, &lt);
    if (rc == -WD_E_NOTFOUND)
      return wd_gov__err(resp, 401, "unauthorized", NULL, "task token revoked or task ended");
    if (rc) return rc;
    pthread_mutex_lock(&lt->mu);
    if (lt->dead) {
      pthread_mutex_unlock(&lt->mu);
      continue;
    }
    /* The token may have been revoked while the body arrived (an intent
     * change leaves the task open), so it is looked at again here. */
    int live = 0;
    if ((rc = wd_gov__token_live(g, lt, w->jti, &live)) != 0 || !live) {
      tries = 2;
    } else if (now >= lt->task.expires_ms) {
      verdict = WD_CALL_EXPIRED;
    } else if (lt->task.calls >= lt->task.budget) {
      verdict = WD_CALL_BUDGET;
    } else {
      before = lt->task.calls;
      gen = lt->ss_gen;
      if ((rc = wd_gov__live_snapshot(lt, &t, &ss)) == 0) {
        lt->task.calls++;
        verdict = WD_CALL_OK;
      }
    }
    pthread_mutex_unlock(&lt->mu);
  }
  if (rc || verdict != WD_CALL_OK) wd_gov__live_put(g->live, lt);
  if (rc) return rc;
  switch (verdict) {
  case WD_CALL_OK: break;
  case WD_CALL_NOT_OPEN:
    return wd_gov__err(resp, 401, "unauthorized", NULL, "task token revoked or task ended");
  case WD_CALL_EXPIRED: return wd_gov__refuse_expired(g, resp, w->task_id);
  case WD_CALL_BUDGET:
    (void)wd_gov__end_task(g, w->task_id, WD_TASK_EXHAUSTED, "budget exhausted", "warden");
    return wd_gov__err(resp, 401, "unauthorized", NULL, "task budget exhausted");
  }

  char action[140];
  (void)snprintf(action, sizeof action, "%s.%s", tool, op);
  wd_gov__decision d;
  wd_gov__snap s;
  wd_gov__snap_get(g, &s);
  t.calls = before;
  int cls_unstated = !cls;
  if (cls_unstated) cls = ceiling_of(&t);
  wd_gov__call call = {tool, op, cls, dest, env, res_id, args};
  int internal = wd_gov__decide_in(g, &s, &w->agent, &t, &ss, action, &call, NULL, &d);
  if (internal) d.allow = 0;
  /* The session learns what an allowed call touched; a set that cannot
   * grow means a data-flow rule could miss a value, so deny. The lock is
   * held until the record is queued: an end, intent change or quarantine
   * forgets the entry under it, so it either lands first and this call is
   * denied, or its own records queue after this one. */
  pthread_mutex_lock(&lt->mu);
  int ended = lt->dead;
  if (ended) d.allow = 0;
  /* Another call of the task grew its session, or was denied, while this
   * one was decided on the session before it: two calls in flight could
   * each pass a data-flow rule the other makes them fail. Decide again
   * on the session as it is now, under the lock, which is rare. */
  if (d.allow && lt->ss_gen != gen) {
    wd_task t2 = {0};
    wd_session ss2;
    memset(&ss2, 0, sizeof ss2);
    if ((internal = wd_gov__live_snapshot(lt, &t2, &ss2)) == 0) {
      wd_store_task_free(&t);
      wd_store_session_free(&ss);
      t = t2;
      ss = ss2;
      t.calls = before;
      if (cls_unstated) call.classification = cls = ceiling_of(&t);
      wd_gov__decision_clear(&d);
      internal = wd_gov__decide_in(g, &s, &w->agent, &t, &ss, action, &call, NULL, &d);
    } else {
      wd_store_task_free(&t2);
      wd_store_session_free(&ss2);
    }
    if (internal) d.allow = 0;
  }
  unsigned added = 0;
  int full = 0;
  if (d.allow && (rc = wd_gov__live_touch(lt, tool, cls, dest, &added)) != 0) {
    d.allow = 0;
    internal = rc;
    full = rc == -WD_E_TOOBIG;
  }
  if (!d.allow) {
    lt->task.denials++;
    lt->ss_gen++;
  }
  /* An error list that cannot grow is left empty; the record still says deny. */
  int lost = ended ? wd_gov__decision_error(
                         &d, "", "the task ended or its token was replaced during the call: denied")
                   : 0;
  if (internal && !lost) {
    char why[192];
    (void)snprintf(why, sizeof why,
                   "the task's session is full (a set of its tools, classifications or "
                   "destinations holds %u values, or all of them %u bytes): denied",
                   WD_LIMIT_STORE_SESSION_SET, WD_LIMIT_SESSION_BYTES);
    lost = wd_gov__decision_error(&d, "", full ? why : "internal error: denied");
  }
  if (!internal) internal = lost;
  wd_buf p;
  wd_buf_init(&p, WD_LIMIT_AUDIT_PAYLOAD_BYTES);
  int prc = evidence(&p, &call, action, &d, w->jti, before + 1);
  /* One durable write: the record, the proof's jti and the session change. */
  wd_store_fx fx[2];
  size_t nfx = 0;
  memset(fx, 0, sizeof fx);
  if (w->proof_jti) {
    fx[nfx].kind = WD_STORE_FX_DPOP;
    fx[nfx].jti = w->proof_jti;
    fx[nfx++].exp_ms = w->proof_exp_ms;
  }
  fx[nfx].kind = WD_STORE_FX_CALL;
  fx[nfx].task_id = w->task_id;
  fx[nfx].allowed = d.allow;
  /* Values the session already held are in the store already. */
  fx[nfx].tool = added & 1u ? tool : NULL;
  fx[nfx].classification = added & 2u ? cls : NULL;
  fx[nfx++].destination = added & 4u ? dest : NULL;
  authz_wait *aw = aw_new(req);
  if (aw) {
    aw->allow = d.allow;
    aw->policy_deny = !d.allow && !internal && !ended;
    if (answer_head(&aw->answer, &d)) prc = -WD_E_NOMEM;
    aw->before = before;
    aw->budget = t.budget;
    aw->now = now;
    w->wait = aw;
  }
  wd_gov__decision_clear(&d);
  wd_gov__snap_put(&s);
  wd_store_task_free(&t);
  wd_store_session_free(&ss);
  if (aw && !prc) {
    /* The worker thread serves other connections while the record waits
     * for its group commit; decided() wakes this request. */
    wd_http_suspend(req);
    aw->refs++; /* the callback's */
    size_t plen = wd_buf_len(&p);
    rc = wd_audit_append_canon_async(g->audit, WD_AUDIT_AUTHZ_DECISION, w->agent.id, w->task_id,
                                     wd_buf_take(&p), plen, fx, nfx, decided, aw);
    if (rc) aw->refs--; /* never queued: no callback */
  }
  pthread_mutex_unlock(&lt->mu);
  wd_gov__live_put(g->live, lt);
  /* A touch that ran out of memory may have grown some sets: reload. And
   * a denial recorded on a forgotten entry may be missing from an entry
   * loaded meanwhile (its load waited only for records queued before
   * it): forget that one too, so the next load waits for this record. */
  if (internal == -WD_E_NOMEM || ended || !aw || prc) wd_gov__live_forget(g->live, w->task_id);
  wd_buf_free(&p);
  if (!aw || prc) return -WD_E_NOMEM;
  if (rc) {
    aw->rc = rc;
    wd_http_resume(req);
  }
  return WD_HTTP_SUSPENDED;
}

void wd_gov__policy_denied(wd_gov *g, const char *agent_id, int64_t now, uint64_t standing) {
  uint64_t trip = denial_trips(g, agent_id, now, standing);
  if (!trip) return;
  /* A status change since the trip (an earlier trip's quarantine, then
   * perhaps an admin's release) settles it: calls that came in while the
   * agent was being quarantined must not quarantine it again, least of
   * all after its release. Trips wait for each other to see that. */
  pthread_mutex_lock(&g->autoq_lock);
  pthread_mutex_lock(&g->deny_lock);
  /* (A mark below the trip's is one memory ran out to set.) */
  int current = mark_locked(g, agent_id) <= trip;
  pthread_mutex_unlock(&g->deny_lock);
  if (current) {
    char why[128];
    (void)snprintf(why, sizeof why, "auto: %u denials within %lld s", g->q_denials,
                   (long long)(g->q_window_ms / 1000));
    (void)wd_gov__set_agent_status(g, agent_id, WD_AGENT_QUARANTINED, why, "warden",
                                   WD_AUDIT_AGENT_QUARANTINED);
  }
  pthread_mutex_unlock(&g->autoq_lock);
}

/* The second half, once the record is durable (or failed). */
static int answer(wd_gov *g, wd_http_resp *resp, wd_gov__who *w) {
  authz_wait *aw = w->wait;
  int rc = aw->rc;
  if (!rc) {
    w->proof_jti = NULL; /* written with the record */
    rc = wd_buf_addf(&aw->answer, "\"%lld\"}", (long long)aw->seq);
  }
  /* The live entry counted what the store did not take: reload it. */
  if (aw->rc) wd_gov__live_forget(g->live, w->task_id);
  /* Unrecorded decisions are never answered: a log failure is a 500. */
  if (rc) return rc;
  size_t len = wd_buf_len(&aw->answer);
  rc = wd_http_resp_text(resp, 200, wd_buf_take(&aw->answer), len);
  if (aw->allow)
    WD_GOV__COUNT(g, allow);
  else
    WD_GOV__COUNT(g, deny);
  if (!aw->allow && !aw->policy_deny) WD_GOV__COUNT(g, failed_closed);
  /* The rule is about the agent's conduct: a call the server failed to
   * decide, or one that raced with its task's end, says nothing of it. */
  if (aw->policy_deny) wd_gov__policy_denied(g, w->agent.id, aw->now, w->standing);
  if (aw->budget > 0 && aw->before + 1 >= aw->budget)
    (void)wd_gov__end_task(g, w->task_id, WD_TASK_EXHAUSTED, "budget exhausted", "warden");
  return rc;
}

int wd_gov__h_authorize(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  wd_gov__who *w = req->auth_ctx;
  int rc;
  if (req->resumed && w && w->wait) {
    rc = answer(g, resp, w);
  } else {
    rc = authorize(g, req, resp, w);
    if (rc == WD_HTTP_SUSPENDED) return rc;
  }
  /* Whatever the answer, the proof is spent: a refusal still records it. */
  int frc = wd_gov__proof_flush(g, w);
  return rc ? rc : frc;
}

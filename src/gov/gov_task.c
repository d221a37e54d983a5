/* SPDX-License-Identifier: Apache-2.0
 *
 * The agent side: enrolment with a join token, the task lifecycle (open,
 * renew, intent change, complete/fail/cancel) and the task tokens it
 * issues. Allowed task-level decisions are recorded in the lifecycle
 * record they cause (task.opened, token.renewed, task.intent_changed);
 * denied ones get an authz.decision record of their own.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "gov/gov_int.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"

#define TASK_TTL_DEFAULT_S  900
#define TASK_TTL_MAX_S      86400
#define TASK_BUDGET_DEFAULT 100

static const char *const CLASSES[] = {"public", "internal", "confidential", "secret"};

int wd_gov__classification_rank(const char *c) {
  for (int i = 0; c && i < 4; i++)
    if (strcmp(c, CLASSES[i]) == 0) return i;
  return -1;
}

const char *wd_gov__classification_name(int rank) {
  return rank >= 0 && rank < 4 ? CLASSES[rank] : NULL;
}

static wd_gov__who *who(wd_http_req *req) { return req->auth_ctx; }

static json_t *decision_json(const wd_gov__decision *d, const char *action) {
  return json_pack("{s:s, s:s, s:o, s:o, s:I, s:s}", "action", action, "decision",
                   d->allow ? "allow" : "deny", "policies",
                   wd_gov__decision_list_json(&d->policies), "errors",
                   wd_gov__decision_list_json(&d->errors), "policy_version", (json_int_t)d->version,
                   "context_sha256", d->ctx_digest);
}

/* The 403 of a task-level decision that denied; seq is its record. */
static int denied_answer(wd_http_resp *resp, const wd_gov__decision *d, const char *action,
                         int64_t seq) {
  char sid[32];
  (void)snprintf(sid, sizeof sid, "%lld", (long long)seq);
  json_t *body = json_pack("{s:{s:s, s:s}, s:s, s:o, s:o, s:I, s:s}", "error", "code",
                           "policy_denied", "message", action, "decision", "deny", "policies",
                           wd_gov__decision_list_json(&d->policies), "errors",
                           wd_gov__decision_list_json(&d->errors), "policy_version",
                           (json_int_t)d->version, "decision_id", sid);
  return body ? wd_http_resp_json(resp, 403, body) : -WD_E_NOMEM;
}

static int deny_task_level(wd_gov *g, wd_http_resp *resp, const wd_gov__who *w, const char *task,
                           const wd_gov__decision *d, const char *action) {
  const wd_agent *a = &w->agent;
  json_t *p = decision_json(d, action);
  int64_t seq = 0;
  int rc = p ? wd_gov__log(g, WD_AUDIT_AUTHZ_DECISION, a->id, task, p, &seq) : -WD_E_NOMEM;
  json_decref(p);
  if (rc) return rc;
  rc = denied_answer(resp, d, action, seq);
  wd_gov__policy_denied(g, a->id, wd_gov__now_ms(), w->standing);
  return rc;
}

/* A task token minted for t, with its evidence payload, before anything
 * is stored. */
typedef struct grant {
  wd_ident_minted m;
  json_t *payload; /* {"jti", "exp", "jkt"} */
  wd_store_fx fx;  /* the token's row, for its record to carry */
} grant;

static void grant_clear(grant *gr) {
  wd_ident_secret_free(gr->m.token);
  json_decref(gr->payload);
  memset(gr, 0, sizeof *gr);
}

static int grant_mint(wd_gov *g, const wd_agent *a, const wd_task *t, int64_t now, grant *gr) {
  memset(gr, 0, sizeof *gr);
  int64_t left = (t->expires_ms - now) / 1000;
  int64_t ttl = g->token_ttl_s < left ? g->token_ttl_s : left;
  if (ttl < 1) ttl = 1;
  json_t *tools = json_loads(t->expected_tools ? t->expected_tools : "[]", 0, NULL);
  json_t *scope = json_pack("{s:s, s:o, s:s}", "purpose", t->purpose, "tools",
                            tools ? tools : json_array(), "ceiling", t->ceiling);
  if (!scope) return -WD_E_NOMEM;
  wd_ident_token_params p = {.iss = g->issuer,
                             .sub = a->id,
                             .aud = g->audience,
                             .task_id = t->id,
                             .scope = scope,
                             .cnf_jkt = a->jkt,
                             .now = now / 1000,
                             .ttl = ttl};
  pthread_rwlock_rdlock(&g->keys_lock);
  int rc = wd_ident_token_mint(g->keys, &p, &gr->m);
  pthread_rwlock_unlock(&g->keys_lock);
  json_decref(scope);
  if (rc) return rc;
  gr->payload =
      json_pack("{s:s, s:I, s:s}", "jti", gr->m.jti, "exp", (json_int_t)gr->m.exp, "jkt", a->jkt);
  gr->fx = (wd_store_fx){.kind = WD_STORE_FX_TOKEN,
                         .jti = gr->m.jti,
                         .task_id = t->id,
                         .exp_ms = gr->m.exp * 1000,
                         .now_ms = now};
  return gr->payload ? 0 : -WD_E_NOMEM;
}

/* The response members that hand the token over. */
static int grant_answer(const grant *gr, json_t *resp_body) {
  if (json_object_set_new(resp_body, "token", json_string(gr->m.token)) != 0 ||
      json_object_set_new(resp_body, "token_type", json_string("DPoP")) != 0 ||
      json_object_set_new(resp_body, "expires_at", json_integer(gr->m.exp)) != 0)
    return -WD_E_NOMEM;
  return 0;
}

/* A renewal's token replaces the task's earlier ones: their revocation
 * (only while the token the request came with is still live) and the new
 * token with its record are written in one transaction, under the task's
 * fence, so after the answer no call passes on an earlier token and a
 * failure leaves them as they were. The new token's record carries the
 * decision (stolen) that allowed it; *seq gets that record's number. */
static int renew_grant(wd_gov *g, const wd_agent *a, const wd_task *t, json_t *resp_body,
                       json_t *decision, const char *bearer_jti, int64_t *seq) {
  int64_t now = wd_gov__now_ms();
  grant gr;
  int rc = grant_mint(g, a, t, now, &gr);
  if (rc || json_object_set_new(gr.payload, "decision", decision) != 0) {
    if (rc) json_decref(decision);
    rc = rc ? rc : -WD_E_NOMEM;
  }
  json_t *rv = json_pack("{s:s, s:s}", "scope", "task", "reason", "renewed");
  if (!rc && !rv) rc = -WD_E_NOMEM;
  wd_store_fx fr = {
      .kind = WD_STORE_FX_TASK_REVOKE, .task_id = t->id, .bearer_jti = bearer_jti, .now_ms = now};
  wd_audit_entry e[2] = {
      {.type = WD_AUDIT_TOKEN_REVOKED, .payload = rv, .fx = &fr, .nfx = 1},
      {.type = WD_AUDIT_TOKEN_RENEWED, .payload = gr.payload, .fx = &gr.fx, .nfx = 1}};
  /* The answer is ready before the commit: once the earlier tokens are
   * revoked, failing to hand over the new one would leave the task with
   * none. */
  if (!rc) rc = grant_answer(&gr, resp_body);
  int fenced = !rc && (rc = wd_gov__live_fence(g->live, t->id)) == 0;
  if (!rc) rc = wd_audit_append_group(g->audit, a->id, t->id, e, 2);
  if (!rc) *seq = e[1].seq;
  /* Fenced, the entry is dead for the calls that hold it: the next
   * request reloads it, with the earlier tokens revoked or not. */
  if (fenced) wd_gov__live_forget(g->live, t->id);
  json_decref(rv);
  grant_clear(&gr);
  return rc;
}

/* ---- enrolment ------------------------------------------------------------------ */

int wd_gov__h_enroll(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  int rc = 0;
  /* No auth callback on this route to refuse it while the service drains. */
  if (atomic_load(&g->draining))
    return wd_http_resp_error(resp, 503, "unavailable", NULL, "server is stopping");
  /* No recheck either, which refuses a body that is not an object on the
   * other routes: an array would read as an object missing 'agent'. */
  if (req->json && !json_is_object(req->json))
    return wd_gov__err(resp, 400, "bad_request", NULL, "body must be a JSON object");
  const char *name, *jt;
  if (wd_gov__str(req, resp, "agent", 1, &name, &rc)) return rc;
  if (wd_gov__str(req, resp, "join_token", 1, &jt, &rc)) return rc;
  json_t *jwk = json_object_get(req->json, "public_jwk");
  if (!jwk)
    return wd_gov__err(resp, 400, "missing_field", "public_jwk", "missing field 'public_jwk'");
  char id[512];
  if (wd_gov__spiffe(g, name, id, sizeof id) != 0)
    return wd_gov__err(resp, 404, "not_found", "agent", "no such agent");
  wd_agent a = {0};
  rc = wd_store_agent_get(g->store, id, &a);
  if (rc == -WD_E_NOTFOUND) return wd_gov__err(resp, 404, "not_found", "agent", "no such agent");
  if (rc) return rc;
  int rekey = a.jkt != NULL; /* a key is enrolled already: this replaces it */
  wd_store_agent_free(&a);
  wd_ident_key *k = NULL;
  wd_ident_diag d;
  rc = wd_ident_key_from_jwk_json(jwk, &k, &d);
  if (rc == -WD_E_VALIDATE)
    return wd_http_resp_error(resp, 400, "invalid_field", "public_jwk",
                              "field 'public_jwk' is not an Ed25519 or P-256 public key: %s",
                              d.msg);
  if (rc) return rc;
  char *jtxt = NULL;
  char hash[WD_IDENT_HASH_HEX_LEN + 1];
  char jkt[WD_IDENT_JKT_LEN + 1];
  memcpy(jkt, wd_ident_key_jkt(k), sizeof jkt);
  rc = wd_ident_key_to_jwk(k, NULL, &jtxt);
  wd_ident_key_free(k);
  if (!rc) rc = wd_ident_secret_hash(jt, strlen(jt), hash);
  /* A bad token is refused here, not by the log's group commit, where
   * its refusal would cost the calls sharing the batch a retry. */
  if (!rc) rc = wd_store_join_check(g->store, hash, wd_gov__now_ms(), id);
  /* Only a join token's holder gets this far, so only one makes the
   * server verify a signature for a key it does not know yet. */
  int refused = rc ? 0 : wd_gov__enrol_proof(g, req, resp, jkt);
  if (refused) {
    wd_free(jtxt);
    return refused < 0 ? refused : 0;
  }
  /* The token's use, the key's binding and the record in one
   * transaction: no agent is ever enrolled without its record. */
  json_t *p =
      rc ? NULL : json_pack("{s:s, s:s, s:s}", "agent", id, "jkt", jkt, "method", "join_token");
  if (!rc && !p) rc = -WD_E_NOMEM;
  wd_store_fx fx = {.kind = WD_STORE_FX_ENROL,
                    .token_hash = hash,
                    .jwk = jtxt,
                    .jkt = jkt,
                    .agent_id = id,
                    .now_ms = wd_gov__now_ms()};
  wd_audit_entry e = {.type = WD_AUDIT_AGENT_ENROLLED, .payload = p, .fx = &fx, .nfx = 1};
  /* A new key for an enrolled agent replaces the old one: the agent is
   * fenced while the change is written and its live entries forgotten
   * after, so no call or renewal signed with the old key passes on a
   * cached binding. Openings already past their fence check finish first
   * (open_lock), and the tasks of the old key, which nothing can use or
   * end any more, are ended with their records. */
  int fenced = 0;
  if (!rc) {
    pthread_rwlock_wrlock(&g->open_lock);
    fenced = (rc = wd_gov__live_fence_agent(g->live, id)) == 0;
    pthread_rwlock_unlock(&g->open_lock);
  }
  if (!rc) rc = wd_audit_append_group(g->audit, id, NULL, &e, 1);
  unsigned ended = 0;
  if (!rc && rekey) (void)wd_gov__end_agent_tasks(g, id, "agent key replaced", "warden", &ended);
  if (fenced) wd_gov__live_unfence_agent(g->live, id);
  wd_free(jtxt);
  json_decref(p);
  if (rc == -WD_E_NOTFOUND || rc == -WD_E_EXISTS || rc == -WD_E_INVAL)
    return wd_gov__err(resp, 401, "unauthorized", "join_token",
                       rc == -WD_E_NOTFOUND ? "unknown join token"
                       : rc == -WD_E_EXISTS ? "join token already used or key already enrolled"
                                            : "join token expired or agent not enrollable");
  if (rc) return rc;
  if ((rc = wd_store_agent_get(g->store, id, &a)) != 0) return rc;
  json_t *body = json_pack("{s:s, s:s, s:s}", "agent_id", a.id, "jkt", jkt, "status",
                           wd_agent_status_name(a.status));
  wd_store_agent_free(&a);
  return body ? wd_http_resp_json(resp, 200, body) : -WD_E_NOMEM;
}

/* ---- tasks ------------------------------------------------------------------------ */

static int int_field(wd_http_req *req, wd_http_resp *resp, const char *name, json_int_t def,
                     json_int_t lo, json_int_t hi, json_int_t *out, int *rc) {
  json_t *v = json_object_get(req->json, name);
  *out = def;
  if (!v || json_is_null(v)) return 0;
  if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
    *rc = wd_http_resp_error(resp, 400, "invalid_field", name,
                             "field '%s' must be an integer from %lld to %lld", name, (long long)lo,
                             (long long)hi);
    return 1;
  }
  *out = json_integer_value(v);
  return 0;
}

/* A task's tools: an array of at most WD_LIMIT_TASK_TOOLS names, each
 * 1 to WD_LIMIT_TASK_NAME_BYTES bytes. 1 (and a 400 in *rc) when not. */
static int tools_refused(wd_http_resp *resp, const json_t *tools, int *rc) {
  size_t i;
  const json_t *tv;
  int ok = json_is_array(tools) && json_array_size(tools) <= WD_LIMIT_TASK_TOOLS;
  json_array_foreach(tools, i, tv) {
    if (!json_is_string(tv) || json_string_length(tv) == 0 ||
        json_string_length(tv) > WD_LIMIT_TASK_NAME_BYTES)
      ok = 0;
  }
  if (ok) return 0;
  *rc = wd_http_resp_error(resp, 400, "invalid_field", "tools",
                           "field 'tools' must be an array of at most %u tool names of 1 to %u "
                           "bytes",
                           WD_LIMIT_TASK_TOOLS, WD_LIMIT_TASK_NAME_BYTES);
  return 1;
}

/* A purpose is a short category: 1 to WD_LIMIT_TASK_NAME_BYTES bytes. */
static int purpose_refused(wd_http_resp *resp, const char *purpose, int *rc) {
  size_t n = strlen(purpose);
  if (n > 0 && n <= WD_LIMIT_TASK_NAME_BYTES) return 0;
  *rc = wd_http_resp_error(resp, 400, "invalid_field", "purpose",
                           "field 'purpose' must be a short category of 1 to %u bytes",
                           WD_LIMIT_TASK_NAME_BYTES);
  return 1;
}

int wd_gov__h_task_open(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  wd_gov__who *w = who(req);
  int rc = 0;
  if (!json_is_object(req->json))
    return wd_gov__err(resp, 400, "bad_request", NULL, "body must be a JSON object");
  const char *intent, *purpose, *ceiling, *obo;
  if (wd_gov__str(req, resp, "intent", 1, &intent, &rc)) return rc;
  if (wd_gov__str(req, resp, "purpose", 1, &purpose, &rc)) return rc;
  json_t *tools = json_object_get(req->json, "tools");
  if (!tools) return wd_gov__err(resp, 400, "missing_field", "tools", "missing field 'tools'");
  if (tools_refused(resp, tools, &rc) || purpose_refused(resp, purpose, &rc)) return rc;
  if (wd_gov__str(req, resp, "classification_ceiling", 1, &ceiling, &rc)) return rc;
  if (wd_gov__classification_rank(ceiling) < 0)
    return wd_gov__err(resp, 400, "invalid_field", "classification_ceiling",
                       "field 'classification_ceiling' must be public, internal, confidential "
                       "or secret");
  if (wd_gov__str(req, resp, "on_behalf_of", 0, &obo, &rc)) return rc;
  json_int_t ttl, budget;
  if (int_field(req, resp, "ttl_seconds", TASK_TTL_DEFAULT_S, 1, TASK_TTL_MAX_S, &ttl, &rc))
    return rc;
  if (int_field(req, resp, "budget", TASK_BUDGET_DEFAULT, 0, 1000000000, &budget, &rc)) return rc;

  json_malloc_t jm;
  json_free_t jf;
  json_get_alloc_funcs(&jm, &jf);
  char *tools_j = json_dumps(tools, JSON_COMPACT);
  char *tid = NULL;
  if (!tools_j) return -WD_E_NOMEM;
  if ((rc = wd_ident_random_token(16, &tid)) != 0) {
    jf(tools_j);
    return rc;
  }
  char id[64];
  (void)snprintf(id, sizeof id, "t_%s", tid);
  wd_free(tid);
  int64_t now = wd_gov__now_ms();
  wd_task t = {.id = id,
               .agent_id = w->agent.id,
               .intent = wd_gov__lend(intent),
               .purpose = wd_gov__lend(purpose),
               .expected_tools = tools_j,
               .ceiling = wd_gov__lend(ceiling),
               .on_behalf_of = wd_gov__lend(obo),
               .created_ms = now,
               .expires_ms = now + (int64_t)ttl * 1000,
               .budget = budget};
  wd_gov__snap s;
  wd_gov__snap_get(g, &s);
  wd_gov__decision d;
  grant gr;
  memset(&gr, 0, sizeof gr);
  json_t *body = NULL, *p = NULL;
  rc = wd_gov__decide(g, &s, &w->agent, &t, "task.open", NULL, NULL, &d);
  if (rc) goto out;
  if (!d.allow) {
    rc = deny_task_level(g, resp, w, NULL, &d, "task.open");
    goto out;
  }
  /* Everything that can fail in memory happens first; the task, its
   * token and their two records are then written in one transaction, so
   * a failure leaves no task behind. */
  p = json_pack("{s:s, s:s, s:o, s:s, s:s?, s:I, s:I, s:o}", "intent", intent, "purpose", purpose,
                "tools", json_deep_copy(tools), "ceiling", ceiling, "on_behalf_of", obo,
                "ttl_seconds", ttl, "budget", budget, "decision", decision_json(&d, "task.open"));
  if (!p) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  if ((rc = grant_mint(g, &w->agent, &t, now, &gr)) != 0) goto out;
  wd_store_fx fo = {
      .kind = WD_STORE_FX_TASK_OPEN, .task = &t, .ttl_ms = (int64_t)ttl * 1000, .now_ms = now};
  wd_audit_entry e[2] = {
      {.type = WD_AUDIT_TASK_OPENED, .payload = p, .fx = &fo, .nfx = 1},
      {.type = WD_AUDIT_TOKEN_ISSUED, .payload = gr.payload, .fx = &gr.fx, .nfx = 1}};
  pthread_rwlock_rdlock(&g->open_lock);
  if (wd_gov__live_agent_fenced(g->live, w->agent.id))
    rc = -WD_E_INVAL; /* being quarantined or retired */
  else
    rc = wd_audit_append_group(g->audit, w->agent.id, id, e, 2);
  pthread_rwlock_unlock(&g->open_lock);
  if (rc == -WD_E_INVAL) {
    rc = wd_gov__err(resp, 403, "forbidden", NULL, "agent is not active");
    goto out;
  }
  if (rc == -WD_E_FULL) {
    rc = wd_http_resp_error(resp, 429, "too_many_tasks", NULL,
                            "the agent has %u open tasks, the most it may have: end one first",
                            WD_LIMIT_STORE_OPEN_TASKS);
    goto out;
  }
  if (rc) goto out;
  WD_GOV__COUNT(g, tasks_opened);
  char sid[32];
  (void)snprintf(sid, sizeof sid, "%lld", (long long)e[0].seq);
  body = json_pack("{s:s, s:s, s:I}", "task_id", id, "decision_id", sid, "policy_version",
                   (json_int_t)d.version);
  rc = body ? grant_answer(&gr, body) : -WD_E_NOMEM;
  if (!rc) {
    rc = wd_http_resp_json(resp, 201, body);
    body = NULL;
  }
out:
  grant_clear(&gr);
  json_decref(body);
  json_decref(p);
  wd_gov__decision_clear(&d);
  wd_gov__snap_put(&s);
  jf(tools_j);
  return rc;
}

/* Loads the task of the path for the caller: the admin, or the agent
 * whose token names it (the auth callback checked the id). */
static int load_task(wd_gov *g, wd_http_req *req, wd_http_resp *resp, wd_task *t, int *rc) {
  const char *id = wd_http_param(req, "id");
  *rc = wd_store_task_get(g->store, id, t);
  if (*rc == -WD_E_NOTFOUND) {
    *rc = wd_gov__err(resp, 404, "not_found", "id", "no such task");
    return 1;
  }
  if (*rc) return 1;
  wd_gov__who *w = who(req);
  if (!w->admin && (!w->has_agent || strcmp(t->agent_id, w->agent.id) != 0)) {
    wd_store_task_free(t);
    *rc = wd_gov__err(resp, 401, "unauthorized", NULL, "not this agent's task");
    return 1;
  }
  return 0;
}

/* A task past its TTL gets no new credential, whether or not the reaper
 * has ended it yet. Returns 1 with the answer in *rc. */
static int expired(wd_gov *g, wd_http_resp *resp, const wd_task *t, int *rc) {
  if (wd_gov__now_ms() < t->expires_ms) return 0;
  *rc = wd_gov__refuse_expired(g, resp, t->id);
  return 1;
}

int wd_gov__h_task_get(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_task t = {0};
  int rc = 0;
  if (load_task(svc, req, resp, &t, &rc)) return rc;
  json_t *body = wd_gov__task_json(&t);
  wd_store_task_free(&t);
  return body ? wd_http_resp_json(resp, 200, body) : -WD_E_NOMEM;
}

static int end_route(wd_http_req *req, wd_http_resp *resp, wd_gov *g, wd_task_status st) {
  wd_task t = {0};
  int rc = 0;
  const char *reason = NULL;
  if (wd_gov__str(req, resp, "reason", 0, &reason, &rc)) return rc;
  if (load_task(g, req, resp, &t, &rc)) return rc;
  wd_gov__who *w = who(req);
  char why[600];
  (void)snprintf(why, sizeof why, "%s%s%s", wd_task_status_name(st), reason ? ": " : "",
                 reason ? reason : "");
  rc = wd_gov__end_task(g, t.id, st, why, w->admin ? "admin" : w->agent.id);
  if (rc == -WD_E_INVAL) {
    /* Ended by someone else since it was loaded: say how it ended. */
    wd_task now = {0};
    int gr = wd_store_task_get(g->store, t.id, &now);
    rc = wd_http_resp_error(resp, 409, "conflict", "status", "task already %s",
                            wd_task_status_name(gr ? t.status : now.status));
    wd_store_task_free(&now);
    wd_store_task_free(&t);
    return rc;
  }
  char id[128];
  (void)snprintf(id, sizeof id, "%s", t.id);
  wd_store_task_free(&t);
  if (rc) return rc;
  if ((rc = wd_store_task_get(g->store, id, &t)) != 0) return rc;
  json_t *body = wd_gov__task_json(&t);
  wd_store_task_free(&t);
  return body ? wd_http_resp_json(resp, 200, body) : -WD_E_NOMEM;
}

int wd_gov__h_task_complete(wd_http_req *req, wd_http_resp *resp, void *svc) {
  return end_route(req, resp, svc, WD_TASK_COMPLETED);
}
int wd_gov__h_task_fail(wd_http_req *req, wd_http_resp *resp, void *svc) {
  return end_route(req, resp, svc, WD_TASK_FAILED);
}
int wd_gov__h_task_cancel(wd_http_req *req, wd_http_resp *resp, void *svc) {
  return end_route(req, resp, svc, WD_TASK_CANCELLED);
}

int wd_gov__h_task_renew(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  wd_gov__who *w = who(req);
  wd_task t = {0};
  int rc = 0;
  if (!w->has_agent) return wd_gov__err(resp, 401, "unauthorized", NULL, "agent token required");
  if (load_task(g, req, resp, &t, &rc)) return rc;
  if (expired(g, resp, &t, &rc)) {
    wd_store_task_free(&t);
    return rc;
  }
  wd_gov__snap s;
  wd_gov__snap_get(g, &s);
  wd_gov__decision d;
  json_t *body = NULL;
  rc = wd_gov__decide(g, &s, &w->agent, &t, "task.renew", NULL, NULL, &d);
  if (rc) goto out;
  if (!d.allow) {
    rc = deny_task_level(g, resp, w, t.id, &d, "task.renew");
    goto out;
  }
  body = json_pack("{s:I}", "policy_version", (json_int_t)d.version);
  json_t *dj = decision_json(&d, "task.renew");
  /* The renewal counts only if the token it came with is still good when
   * its record commits: an intent change, end or stop that got in first
   * revoked it, and its decision was made on what they changed. */
  int64_t seq = 0;
  if (body && dj) {
    rc = renew_grant(g, &w->agent, &t, body, dj, w->jti, &seq);
  } else {
    json_decref(dj);
    rc = -WD_E_NOMEM;
  }
  if (rc == -WD_E_INVAL) {
    rc = wd_gov__err(resp, 401, "unauthorized", NULL, "task token revoked or task ended");
    goto out;
  }
  char sid[32];
  (void)snprintf(sid, sizeof sid, "%lld", (long long)seq);
  if (!rc && json_object_set_new(body, "decision_id", json_string(sid)) != 0) rc = -WD_E_NOMEM;
  if (!rc) {
    rc = wd_http_resp_json(resp, 200, body);
    body = NULL;
  }
out:
  json_decref(body);
  wd_gov__decision_clear(&d);
  wd_gov__snap_put(&s);
  wd_store_task_free(&t);
  return rc;
}

/* A stored tools list (JSON array text) as a new JSON value; an unreadable
 * one reads as no tools, as in the token scope. */
static json_t *tools_value(const char *text) {
  json_t *v = json_loads(text ? text : "[]", 0, NULL);
  if (v && !json_is_array(v)) {
    json_decref(v);
    v = NULL;
  }
  return v ? v : json_array();
}

/* The "tools" member of an intent change, checked as h_task_open checks
 * it. *out gets the compact JSON text (free with jansson's free), or NULL
 * when the member is absent or null (keep the task's tools). Returns 1
 * when the answer is an error (*rc). */
static int intent_tools(wd_http_req *req, wd_http_resp *resp, char **out, int *rc) {
  *out = NULL;
  json_t *tools = json_object_get(req->json, "tools");
  if (!tools || json_is_null(tools)) return 0;
  if (tools_refused(resp, tools, rc)) return 1;
  *out = json_dumps(tools, JSON_COMPACT);
  if (!*out) {
    *rc = -WD_E_NOMEM;
    return 1;
  }
  return 0;
}

int wd_gov__h_task_intent(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  wd_gov__who *w = who(req);
  wd_task t = {0};
  int rc = 0;
  const char *intent, *purpose;
  char *tools_j = NULL;
  json_malloc_t jm;
  json_free_t jf;
  json_get_alloc_funcs(&jm, &jf);
  if (!w->has_agent) return wd_gov__err(resp, 401, "unauthorized", NULL, "agent token required");
  if (wd_gov__str(req, resp, "intent", 1, &intent, &rc)) return rc;
  if (wd_gov__str(req, resp, "purpose", 0, &purpose, &rc)) return rc;
  /* A stated purpose replaces the task's, so it must be one (as at
   * opening); absent or null keeps it. */
  if (purpose && purpose_refused(resp, purpose, &rc)) return rc;
  if (intent_tools(req, resp, &tools_j, &rc)) return rc;
  if (load_task(g, req, resp, &t, &rc)) {
    jf(tools_j);
    return rc;
  }
  if (expired(g, resp, &t, &rc)) {
    wd_store_task_free(&t);
    jf(tools_j);
    return rc;
  }
  /* The change, the revocation of the current credential (whatever the
   * decision), the decision's record and any new token are written in
   * one transaction; the fence keeps every call on the old credential
   * out from here on. The decision sees the task as it will be: the new
   * intent, purpose and tools, lent into the loaded task and given back
   * before it is freed. */
  char *prev = t.intent, *prev_purpose = t.purpose, *prev_tools = t.expected_tools;
  t.intent = wd_gov__lend(intent);
  if (purpose) t.purpose = wd_gov__lend(purpose);
  if (tools_j) t.expected_tools = tools_j;
  wd_gov__snap s;
  wd_gov__snap_get(g, &s);
  wd_gov__decision d;
  memset(&d, 0, sizeof d);
  grant gr;
  memset(&gr, 0, sizeof gr);
  int64_t now = wd_gov__now_ms();
  json_t *body = NULL, *p = NULL;
  json_t *rv = json_pack("{s:s, s:s}", "scope", "task", "reason", "intent change");
  int fenced = (rc = wd_gov__live_fence(g->live, t.id)) == 0;
  if (!rc) rc = wd_gov__decide(g, &s, &w->agent, &t, "task.change_intent", NULL, prev, &d);
  if (!rc)
    p = json_pack("{s:s, s:s, s:s?, s:s?, s:o, s:o, s:o}", "previous_intent", prev, "intent",
                  intent, "previous_purpose", prev_purpose, "purpose", t.purpose, "previous_tools",
                  tools_value(prev_tools), "tools", tools_value(t.expected_tools), "decision",
                  decision_json(&d, "task.change_intent"));
  if (!rc && (!p || !rv)) rc = -WD_E_NOMEM;
  if (!rc && d.allow) rc = grant_mint(g, &w->agent, &t, now, &gr);
  /* The revocation comes first and only while the presented token is
   * live; a denied change is only a decision, and the task keeps its
   * intent. */
  wd_store_fx fr = {
      .kind = WD_STORE_FX_TASK_REVOKE, .task_id = t.id, .bearer_jti = w->jti, .now_ms = now};
  wd_store_fx fi = {.kind = WD_STORE_FX_TASK_INTENT,
                    .task_id = t.id,
                    .intent = intent,
                    .purpose = purpose,
                    .expected_tools = tools_j,
                    .now_ms = now};
  wd_audit_entry e[3] = {
      {.type = WD_AUDIT_TOKEN_REVOKED, .payload = rv, .fx = &fr, .nfx = 1},
      {.type = d.allow ? WD_AUDIT_TASK_INTENT_CHANGED : WD_AUDIT_AUTHZ_DECISION,
       .payload = p,
       .fx = d.allow ? &fi : NULL,
       .nfx = d.allow ? 1 : 0},
      {.type = WD_AUDIT_TOKEN_ISSUED, .payload = gr.payload, .fx = &gr.fx, .nfx = 1}};
  if (!rc) rc = wd_audit_append_group(g->audit, w->agent.id, t.id, e, d.allow ? 3 : 2);
  if (rc && !wd_gov__refused_by_store(rc)) {
    /* Whatever failed, the current credential must not outlive the
     * request: revoke the task's tokens in the store alone, record that
     * if the log still can, and answer the failure. The intent stays as
     * it was. */
    if (wd_store_token_revoke_task(g->store, t.id, now, NULL) == 0 && rv)
      (void)wd_gov__log(g, WD_AUDIT_TOKEN_REVOKED, w->agent.id, t.id, rv, NULL);
  }
  /* The store changed under the per-call path's live entry (old token
   * verdicts, old tools): the next request must reload it. */
  if (fenced || rc) wd_gov__live_forget(g->live, t.id);
  json_decref(rv);
  if (rc == -WD_E_INVAL) {
    rc = wd_gov__err(resp, 401, "unauthorized", NULL, "task token revoked or task ended");
    goto out;
  }
  if (rc) goto out;
  if (!d.allow) {
    rc = denied_answer(resp, &d, "task.change_intent", e[1].seq);
    wd_gov__policy_denied(g, w->agent.id, now, w->standing);
    goto out;
  }
  char sid[32];
  (void)snprintf(sid, sizeof sid, "%lld", (long long)e[1].seq);
  body = json_pack("{s:s, s:s, s:I}", "task_id", t.id, "decision_id", sid, "policy_version",
                   (json_int_t)d.version);
  rc = body ? grant_answer(&gr, body) : -WD_E_NOMEM;
  if (!rc) {
    rc = wd_http_resp_json(resp, 200, body);
    body = NULL;
  }
out:
  t.intent = prev;
  t.purpose = prev_purpose;
  t.expected_tools = prev_tools;
  grant_clear(&gr);
  json_decref(body);
  json_decref(p);
  wd_gov__decision_clear(&d);
  wd_gov__snap_put(&s);
  wd_store_task_free(&t);
  jf(tools_j);
  return rc;
}

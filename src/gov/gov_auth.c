/* SPDX-License-Identifier: Apache-2.0
 *
 * Who is calling: the HTTP layer's auth callback. Admin routes take the
 * admin bearer token (constant-time hash compare); agent routes take a
 * task token with a DPoP proof, or, to open a task, a bare DPoP proof
 * whose key thumbprint names an enrolled agent. The two kinds never mix:
 * an agent credential on an admin route and the admin token on an
 * agent-only route are both 401. Everything the handler needs is copied
 * into the request arena.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gov/gov_int.h"
#include "util/wd_alloc.h"

/* Fills resp with the refusal and returns 1, or a failure to fill it. */
static int refuse(wd_http_resp *resp, unsigned status, const char *code, const char *field,
                  const char *msg) {
  int rc = wd_gov__err(resp, status, code, field, msg);
  return rc ? rc : 1;
}

static int unauthorized(wd_http_resp *resp, const char *msg) {
  return refuse(resp, 401, "unauthorized", NULL, msg);
}

/* A 401 for the DPoP proof rather than the token: the challenge says so
 * (RFC 9449 section 7.1), and a client knows to make a fresh proof. */
static int bad_proof(wd_http_resp *resp, const char *field, const char *msg) {
  wd_http_resp_challenge(resp, "invalid_dpop_proof");
  return refuse(resp, 401, "unauthorized", field, msg);
}

static int forbidden(wd_http_resp *resp, const char *msg) {
  return refuse(resp, 403, "forbidden", NULL, msg);
}

static const char *prefixed(const char *h, const char *scheme) {
  size_t n = strlen(scheme);
  if (!h || strncasecmp(h, scheme, n) != 0 || h[n] != ' ') return NULL;
  h += n;
  while (*h == ' ')
    h++;
  return *h ? h : NULL;
}

static char *adup(wd_arena *a, const char *s) {
  return s ? wd_arena_strndup(a, s, strlen(s)) : NULL;
}

/* Copies the agent's strings into the request arena. */
static int keep_agent(wd_http_req *req, wd_gov__who *w, const wd_agent *a) {
  w->agent = *a;
  w->agent.id = adup(req->arena, a->id);
  w->agent.name = adup(req->arena, a->name);
  w->agent.owner = adup(req->arena, a->owner);
  w->agent.environment = adup(req->arena, a->environment);
  w->agent.attrs = adup(req->arena, a->attrs ? a->attrs : "{}");
  w->agent.jwk = adup(req->arena, a->jwk);
  w->agent.jkt = adup(req->arena, a->jkt);
  if (!w->agent.id || !w->agent.name || !w->agent.owner || !w->agent.environment || !w->agent.attrs)
    return -WD_E_NOMEM;
  w->has_agent = 1;
  return 0;
}

/* The URL the agent must have signed: behind a proxy the public base URL
 * the agents use, else this server's scheme and the Host it was asked
 * for. */
static int make_htu(const wd_gov *g, const wd_http_req *req, char *out, size_t len) {
  int n;
  if (g->public_url[0]) {
    n = snprintf(out, len, "%s", g->public_url);
  } else {
    const char *host = wd_http_header(req, "Host");
    if (!host || !*host) return -WD_E_INVAL;
    n = snprintf(out, len, "%s://%s", g->tls ? "https" : "http", host);
  }
  if (n < 0 || (size_t)n >= len) return -WD_E_TOOBIG;
  /* The path arrives percent-decoded: what a URI path cannot hold as it
   * is goes back to %XX, so a decoded `?` or `#` is not taken for the
   * end of the path the proof must name. */
  static const char hex[] = "0123456789ABCDEF";
  size_t o = (size_t)n;
  for (const unsigned char *p = (const unsigned char *)req->path; *p; p++) {
    int plain = isalnum(*p) || strchr("-._~!$&'()*+,;=:@/", *p);
    if (o + (plain ? 1 : 3) >= len) return -WD_E_TOOBIG;
    if (plain) {
      out[o++] = (char)*p;
    } else {
      out[o++] = '%';
      out[o++] = hex[*p >> 4];
      out[o++] = hex[*p & 15];
    }
  }
  out[o] = '\0';
  return 0;
}

/* A proof without a token (POST /v1/tasks): the proof's own key is the
 * credential, so it must verify, name this request and be fresh. */
static int bare_proof(wd_ident_keycache *kc, const char *proof, const char *htm, const char *htu,
                      int64_t now, char jkt[WD_IDENT_JKT_LEN + 1],
                      char jti[WD_IDENT_DPOP_JTI_MAX + 1], int64_t *iat) {
  wd_ident_jws j;
  wd_ident_key *k = NULL;
  int rc = wd_ident_jws_decode(proof, strlen(proof), &j, NULL);
  if (rc) return rc;
  const json_t *jwk = json_object_get(j.header, "jwk");
  rc = -WD_E_VALIDATE;
  if (!j.typ || strcmp(j.typ, WD_IDENT_DPOP_TYP) != 0 || !jwk) goto out;
  if ((rc = wd_ident_key_from_jwk_cached(kc, jwk, &k, NULL)) != 0) goto out;
  if ((rc = wd_ident_jws_verify(&j, k, NULL)) != 0) goto out;
  rc = -WD_E_VALIDATE;
  const char *pj = json_string_value(json_object_get(j.payload, "jti"));
  const char *pm = json_string_value(json_object_get(j.payload, "htm"));
  const char *pu = json_string_value(json_object_get(j.payload, "htu"));
  const json_t *pi = json_object_get(j.payload, "iat");
  if (!pj || !*pj || strlen(pj) > WD_IDENT_DPOP_JTI_MAX || !pm || !pu || !json_is_integer(pi))
    goto out;
  int64_t t = (int64_t)json_integer_value(pi);
  int same = 0;
  if ((rc = wd_ident_htu_same(pu, htu, &same)) != 0) goto out;
  rc = -WD_E_VALIDATE;
  if (strcmp(pm, htm) != 0 || !same || t < now - WD_IDENT_DPOP_WINDOW ||
      t > now + WD_IDENT_LEEWAY_DEFAULT)
    goto out;
  memcpy(jkt, wd_ident_key_jkt(k), WD_IDENT_JKT_LEN + 1);
  memcpy(jti, pj, strlen(pj) + 1);
  *iat = t;
  rc = 0;
out:
  wd_ident_key_free(k);
  wd_ident_jws_clear(&j);
  return rc;
}

/* Whether a proof's jti is new (1) or a replay (0). The replay cache
 * answers (it was loaded with the store's live jtis at start); the store
 * answers when the cache is full. With defer, a new jti is left in
 * w->proof_jti for the handler to make durable with its record. */
static int fresh_jti(wd_gov *g, wd_http_req *req, wd_gov__who *w, const char *jti, int64_t iat,
                     int defer) {
  int64_t now = wd_gov__now_ms();
  int64_t exp_ms = (iat + WD_IDENT_DPOP_WINDOW + WD_IDENT_LEEWAY_DEFAULT) * 1000;
  int r = wd_gov__replay_check(g->replay, jti, exp_ms, now);
  if (r == 0 || (r < 0 && r != -WD_E_TOOBIG)) return r;
  if (r == 1 && defer) {
    w->proof_jti = adup(req->arena, jti);
    w->proof_exp_ms = exp_ms;
    return w->proof_jti ? 1 : -WD_E_NOMEM;
  }
  int is_new = 0;
  int rc = wd_store_dpop_seen(g->store, jti, exp_ms, &is_new);
  return rc ? rc : is_new;
}

int wd_gov__proof_flush(wd_gov *g, wd_gov__who *w) {
  if (!w || !w->proof_jti) return 0;
  int is_new = 0;
  int rc = wd_store_dpop_seen(g->store, w->proof_jti, w->proof_exp_ms, &is_new);
  if (!rc) w->proof_jti = NULL;
  return rc;
}

static int agent_status_ok(wd_http_resp *resp, const wd_agent *a) {
  if (a->status == WD_AGENT_ACTIVE) return 0;
  return forbidden(resp,
                   a->status == WD_AGENT_RETIRED ? "agent is retired" : "agent is quarantined");
}

/* bare_proof for this request: 0, 1 when refused (resp filled: bad_msg,
 * naming field, for a proof that does not hold), or the server's failure. */
static int request_proof(wd_gov *g, wd_http_req *req, wd_http_resp *resp, const char *proof,
                         const char *field, const char *bad_msg, char jkt[WD_IDENT_JKT_LEN + 1],
                         char jti[WD_IDENT_DPOP_JTI_MAX + 1], int64_t *iat) {
  char htu[2048];
  if (make_htu(g, req, htu, sizeof htu) != 0) return unauthorized(resp, "no Host header");
  int rc = bare_proof(g->keycache, proof, req->method, htu, wd_gov__now_ms() / 1000, jkt, jti, iat);
  if (rc == -WD_E_NOMEM || rc == -WD_E_INTERNAL) return rc; /* the server's failure */
  return rc ? bad_proof(resp, field, bad_msg) : 0;
}

static int auth_bare(wd_gov *g, wd_http_req *req, wd_http_resp *resp, wd_gov__who *w,
                     const char *proof) {
  if (strcmp(req->method, "POST") != 0 || strcmp(req->path, "/v1/tasks") != 0)
    return unauthorized(resp, "this route needs a task token");
  char jkt[WD_IDENT_JKT_LEN + 1], jti[WD_IDENT_DPOP_JTI_MAX + 1];
  int64_t iat = 0;
  int rc = request_proof(g, req, resp, proof, NULL, "invalid DPoP proof", jkt, jti, &iat);
  if (rc) return rc;
  wd_agent a = {0};
  rc = wd_store_agent_get_by_jkt(g->store, jkt, &a);
  if (rc == -WD_E_NOTFOUND) return unauthorized(resp, "unknown agent key");
  if (rc) return rc;
  rc = keep_agent(req, w, &a);
  wd_store_agent_free(&a);
  if (rc) return rc;
  if ((rc = fresh_jti(g, req, w, jti, iat, 0)) < 0) return rc;
  if (rc == 0) return bad_proof(resp, NULL, "DPoP proof replayed");
  return agent_status_ok(resp, &w->agent);
}

int wd_gov__enrol_proof(wd_gov *g, wd_http_req *req, wd_http_resp *resp, const char *jkt) {
  static const char bad[] =
      "the DPoP proof does not name this request or is not signed by the key in public_jwk";
  const char *proof = wd_http_header(req, "DPoP");
  if (!proof)
    return refuse(resp, 401, "unauthorized", "DPoP",
                  "enrolment needs a DPoP proof signed by the key it enrols");
  char pjkt[WD_IDENT_JKT_LEN + 1], jti[WD_IDENT_DPOP_JTI_MAX + 1];
  int64_t iat = 0;
  int rc = request_proof(g, req, resp, proof, "DPoP", bad, pjkt, jti, &iat);
  if (rc) return rc;
  if (strcmp(pjkt, jkt) != 0) return refuse(resp, 401, "unauthorized", "DPoP", bad);
  if ((rc = fresh_jti(g, req, NULL, jti, iat, 0)) < 0) return rc;
  return rc == 0 ? bad_proof(resp, NULL, "DPoP proof replayed") : 0;
}

/* With the task's live entry locked: the checks the store used to make on
 * every call (agent, key binding, agent status, token revocation). */
static int check_live(wd_gov *g, wd_http_req *req, wd_http_resp *resp, wd_gov__who *w,
                      wd_gov__ltask *lt, const wd_ident_claims *c, int *refused) {
  if (strcmp(lt->task.agent_id, c->sub) != 0) {
    *refused = unauthorized(resp, "token does not match its task");
    return 0;
  }
  if (!lt->agent.jkt || strcmp(lt->agent.jkt, c->cnf_jkt) != 0) {
    *refused = unauthorized(resp, "token not bound to the agent's key");
    return 0;
  }
  int rc = keep_agent(req, w, &lt->agent);
  if (rc) return rc;
  if ((*refused = agent_status_ok(resp, &w->agent)) != 0) return 0;
  int revoked = 1;
  if ((rc = wd_gov__live_token_revoked(g->live, lt, c->jti, &revoked)) != 0) return rc;
  if (revoked || lt->task.status != WD_TASK_OPEN)
    *refused = unauthorized(resp, "task token revoked or task ended");
  return 0;
}

static int auth_token(wd_gov *g, wd_http_req *req, wd_http_resp *resp, wd_gov__who *w,
                      const char *tok, const char *proof) {
  int64_t now = wd_gov__now_ms() / 1000;
  wd_ident_verify_opts vo = {
      .iss = g->issuer, .aud = g->audience, .now = now, .leeway = 5, .cache = g->sigcache};
  wd_ident_claims c;
  memset(&c, 0, sizeof c);
  wd_ident_diag d;
  pthread_rwlock_rdlock(&g->keys_lock);
  int rc = wd_ident_token_verify(g->keys, tok, strlen(tok), &vo, &c, &d);
  pthread_rwlock_unlock(&g->keys_lock);
  if (rc == -WD_E_VALIDATE) return unauthorized(resp, d.msg[0] ? d.msg : "invalid task token");
  if (rc) return rc;
  char htu[2048];
  wd_ident_dpop_result dr;
  wd_gov__ltask *lt = NULL;
  int refused = 0;
  if (make_htu(g, req, htu, sizeof htu) != 0) {
    refused = unauthorized(resp, "no Host header");
    goto out;
  }
  wd_ident_dpop_opts po = {.htm = req->method,
                           .htu = htu,
                           .access_token = tok,
                           .cnf_jkt = c.cnf_jkt,
                           .now = now,
                           .window = WD_IDENT_DPOP_WINDOW,
                           .leeway = -1,
                           .keys = g->keycache};
  rc = wd_ident_dpop_verify(proof, proof ? strlen(proof) : 0, &po, &dr, &d);
  if (rc == -WD_E_VALIDATE) {
    refused = bad_proof(resp, NULL, d.msg[0] ? d.msg : wd_ident_reason_msg(d.reason));
    rc = 0;
    goto out;
  }
  if (rc) goto out;
  /* No cache window: the live entry is forgotten before any end, intent
   * change or status change returns, so this sees every one of them. */
  rc = wd_gov__live_get(g->live, c.task_id, &lt);
  if (rc == -WD_E_NOTFOUND) {
    rc = 0;
    refused = unauthorized(resp, "task token revoked or task ended");
    goto out;
  }
  if (rc) goto out;
  pthread_mutex_lock(&lt->mu);
  rc = check_live(g, req, resp, w, lt, &c, &refused);
  pthread_mutex_unlock(&lt->mu);
  if (rc || refused) goto out;
  int defer = strcmp(req->path, "/v1/authorize") == 0;
  if ((rc = fresh_jti(g, req, w, dr.jti, dr.iat, defer)) < 0) goto out;
  if (rc == 0) {
    refused = bad_proof(resp, NULL, "DPoP proof replayed");
    goto out;
  }
  rc = 0;
  const char *pid = wd_http_param(req, "id");
  if (pid && strcmp(pid, c.task_id) != 0) {
    refused = unauthorized(resp, "token belongs to another task");
    goto out;
  }
  w->has_token = 1;
  w->jti = adup(req->arena, c.jti);
  w->task_id = adup(req->arena, c.task_id);
  w->exp = c.exp;
  if (!w->jti || !w->task_id) rc = -WD_E_NOMEM;
out:
  wd_gov__live_put(g->live, lt);
  wd_ident_claims_clear(&c);
  /* A refusal after the replay check still spent the proof. */
  if (refused || rc) (void)wd_gov__proof_flush(g, w);
  return rc ? rc : refused;
}

/* Routes where the admin token may stand in for the agent. */
static int admin_may_act(const wd_http_req *req) {
  if (strncmp(req->path, "/v1/tasks/", 10) != 0) return 0;
  if (strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) return 1;
  size_t n = strlen(req->path);
  static const char *const ends[] = {"/complete", "/fail", "/cancel"};
  for (size_t i = 0; i < 3; i++) {
    size_t e = strlen(ends[i]);
    if (n > e && strcmp(req->path + n - e, ends[i]) == 0) return 1;
  }
  return 0;
}

int wd_gov__auth(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  if (atomic_load(&g->draining)) {
    if (wd_http_resp_error(resp, 503, "unavailable", NULL, "server is stopping") < 0)
      return -WD_E_NOMEM;
    return 1;
  }
  wd_gov__who *w = wd_arena_calloc(req->arena, 1, sizeof *w);
  if (!w) return -WD_E_NOMEM;
  req->auth_ctx = w;
  /* Before the agent is read: a status change after this drops the
   * request's denial from the auto-quarantine count. */
  w->standing = atomic_load(&g->status_gen);
  const char *authz = wd_http_header(req, "Authorization");
  const char *proof = wd_http_header(req, "DPoP");
  const char *bearer = prefixed(authz, "Bearer");
  if (req->auth == WD_HTTP_AUTH_ADMIN || (bearer && admin_may_act(req))) {
    if (!bearer || proof) return unauthorized(resp, "admin token required");
    if (!wd_gov__admin_check(g, bearer)) return unauthorized(resp, "invalid admin token");
    w->admin = 1;
    return 0;
  }
  if (req->auth != WD_HTTP_AUTH_AGENT) return unauthorized(resp, "no credentials accepted");
  const char *tok = prefixed(authz, "DPoP");
  if (tok) return auth_token(g, req, resp, w, tok, proof);
  if (authz) return unauthorized(resp, "agent credentials required");
  if (!proof) return unauthorized(resp, "DPoP proof required");
  return auth_bare(g, req, resp, w, proof);
}

int wd_gov__token_live(wd_gov *g, wd_gov__ltask *lt, const char *jti, int *ok) {
  int revoked = 1;
  int rc = wd_gov__live_token_revoked(g->live, lt, jti, &revoked);
  *ok = !rc && !revoked && lt->task.status == WD_TASK_OPEN && lt->agent.status == WD_AGENT_ACTIVE;
  return rc;
}

int wd_gov__recheck(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  wd_gov__who *w = req->auth_ctx;
  if (!w) return -WD_E_INTERNAL;
  /* Every body the API takes is an object: any other would read as one
   * without fields, and a route with only optional fields would act. */
  if (req->json && !json_is_object(req->json)) {
    (void)wd_gov__proof_flush(g, w);
    return refuse(resp, 400, "bad_request", NULL, "body must be a JSON object");
  }
  if (w->admin) {
    const char *bearer = prefixed(wd_http_header(req, "Authorization"), "Bearer");
    if (!bearer || !wd_gov__admin_check(g, bearer))
      return unauthorized(resp, "invalid admin token");
    return 0;
  }
  /* A bare proof opens a task: the store refuses one for a stopped agent. */
  if (!w->has_token) return 0;
  wd_gov__ltask *lt = NULL;
  int ok = 0;
  int rc = wd_gov__live_get(g->live, w->task_id, &lt);
  if (rc == -WD_E_NOTFOUND) {
    rc = 0;
  } else if (!rc) {
    pthread_mutex_lock(&lt->mu);
    rc = wd_gov__token_live(g, lt, w->jti, &ok);
    pthread_mutex_unlock(&lt->mu);
  }
  wd_gov__live_put(g->live, lt);
  if (ok) return 0;
  /* Refused or failed, the proof is spent: make its jti durable. */
  (void)wd_gov__proof_flush(g, w);
  return rc ? rc : unauthorized(resp, "task token revoked or task ended");
}

int wd_gov__h_jwks(wd_http_req *req, wd_http_resp *resp, void *svc) {
  (void)req;
  wd_gov *g = svc;
  char *txt = NULL;
  pthread_rwlock_rdlock(&g->keys_lock);
  int rc = wd_ident_keyset_jwks(g->keys, wd_gov__now_ms() / 1000, &txt);
  pthread_rwlock_unlock(&g->keys_lock);
  if (rc) return rc;
  json_t *j = json_loads(txt, 0, NULL);
  wd_free(txt);
  if (!j) return -WD_E_NOMEM;
  return wd_http_resp_json(resp, 200, j);
}

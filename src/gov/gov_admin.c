/* SPDX-License-Identifier: Apache-2.0
 *
 * Admin routes: agents (register, list, show, quarantine, release,
 * retire), join tokens, the policy set (GET/PUT), and the evidence log
 * (verify, task trace). Every change is logged with actor "admin".
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gov/gov_int.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"

#define TRY(x)                                                                                     \
  do {                                                                                             \
    if (x) return rc;                                                                              \
  } while (0)

int wd_gov_agent_name_chars(const char *s) {
  size_t n = s ? strlen(s) : 0;
  if (n == 0 || n > 128) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return 0;
  }
  return 1;
}

/* The name is the last segment of the agent's SPIFFE ID, whose path
 * segments may not be dot segments; in a URL path they would not even
 * reach the agent. */
static int valid_name(const char *s) {
  return wd_gov_agent_name_chars(s) && strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* The attributes the request mapping reads (gov_decide.c), and what each
 * must hold: one of another type would be stored, and then ignored
 * without a word at every decision. */
static const struct mapped_attr {
  const char *name;
  int list; /* an array of strings, else a string */
  const char *what;
} mapped_attrs[] = {
    {"team", 0, "a string: the agent's Team"},
    {"owner_team", 0, "a string: the owner's Team"},
    {"team_members", 1, "an array of strings: the users who may be on_behalf_of"},
};

/* What keeps v out of the registration record: 1 for a number with a
 * fraction or an exponent (the evidence log's canonical JSON has no
 * exact form for one), 2 for nesting more than limit arrays and objects
 * deep (v itself is the first level); 0 when it can be kept. */
static int attr_unkeepable(const json_t *v, unsigned limit) {
  if (json_is_real(v)) return 1;
  if (!json_is_object(v) && !json_is_array(v)) return 0;
  if (limit == 0) return 2;
  int bad = 0;
  if (json_is_array(v)) {
    for (size_t i = 0; !bad && i < json_array_size(v); i++)
      bad = attr_unkeepable(json_array_get(v, i), limit - 1);
    return bad;
  }
  const char *k;
  json_t *m;
  json_object_foreach((json_t *)(uintptr_t)v, k, m) {
    if ((bad = attr_unkeepable(m, limit - 1)) != 0) break;
  }
  return bad;
}

/* Checks the attributes object a, answering a 400 that names the member
 * at fault (returns 1). A member's name shows in the field only when it
 * is short, printable ASCII; else the field is the whole object. */
static int attrs_refused(const json_t *a, wd_http_resp *resp, int *rc) {
  for (size_t i = 0; i < sizeof mapped_attrs / sizeof mapped_attrs[0]; i++) {
    const struct mapped_attr *m = &mapped_attrs[i];
    const json_t *v = json_object_get(a, m->name);
    int ok = !v || (!m->list && json_is_string(v)) || (m->list && json_is_array(v));
    for (size_t j = 0; ok && m->list && j < json_array_size(v); j++)
      ok = json_is_string(json_array_get(v, j));
    if (ok) continue;
    char field[64];
    (void)snprintf(field, sizeof field, "attributes.%s", m->name);
    *rc = wd_http_resp_error(resp, 400, "invalid_field", field, "field '%s' must be %s", field,
                             m->what);
    return 1;
  }
  const char *k;
  json_t *v;
  json_object_foreach((json_t *)(uintptr_t)a, k, v) {
    /* The object is the first level, its members the second. */
    int why = attr_unkeepable(v, WD_LIMIT_GOV_ATTRS_DEPTH - 1);
    if (!why) continue;
    char field[96];
    size_t n = strlen(k);
    int plain = n <= 64;
    for (size_t j = 0; plain && j < n; j++)
      plain = k[j] >= 0x20 && k[j] < 0x7f;
    (void)snprintf(field, sizeof field, "attributes%s%s", plain ? "." : "", plain ? k : "");
    if (why == 1)
      *rc =
          wd_http_resp_error(resp, 400, "invalid_field", field,
                             "field '%s' holds a number with a fraction or an exponent: attribute "
                             "numbers must be integers (the evidence log keeps no other kind "
                             "exactly)",
                             field);
    else
      *rc = wd_http_resp_error(resp, 400, "invalid_field", field,
                               "field '%s' nests too deep: attributes nest at most %u levels",
                               field, WD_LIMIT_GOV_ATTRS_DEPTH);
    return 1;
  }
  return 0;
}

int wd_gov__h_agent_create(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  int rc = 0;
  const char *name, *owner, *tier, *env;
  if (!json_is_object(req->json))
    return wd_gov__err(resp, 400, "bad_request", NULL, "body must be a JSON object");
  TRY(wd_gov__str(req, resp, "name", 1, &name, &rc));
  TRY(wd_gov__str(req, resp, "owner", 1, &owner, &rc));
  TRY(wd_gov__str(req, resp, "risk_tier", 1, &tier, &rc));
  TRY(wd_gov__str(req, resp, "environment", 1, &env, &rc));
  if (!valid_name(name))
    return wd_gov__err(resp, 400, "invalid_field", "name",
                       "field 'name' must be 1-128 characters of [A-Za-z0-9._-], not . or ..");
  wd_agent a = {0};
  if (wd_agent_tier_parse(tier, &a.tier) != 0)
    return wd_gov__err(resp, 400, "invalid_field", "risk_tier",
                       "field 'risk_tier' must be read_only, standard or high_impact");
  json_t *attrs = json_object_get(req->json, "attributes");
  if (attrs && !json_is_object(attrs) && !json_is_null(attrs))
    return wd_gov__err(resp, 400, "invalid_field", "attributes",
                       "field 'attributes' must be an object");
  /* Refused here, naming the member, rather than by the store or the
   * log, whose refusal could only say that something was wrong. */
  if (json_is_object(attrs) && attrs_refused(attrs, resp, &rc)) return rc;
  json_t *empty = json_is_object(attrs) ? NULL : json_object();
  char *atxt = json_dumps(empty ? empty : attrs, JSON_COMPACT | JSON_SORT_KEYS);
  json_decref(empty);
  json_malloc_t jmalloc;
  json_free_t jfree;
  json_get_alloc_funcs(&jmalloc, &jfree);
  char id[512];
  if (!atxt) return -WD_E_NOMEM;
  /* The store's bound on a field, on the text it would keep. */
  if (strlen(atxt) > WD_LIMIT_STORE_FIELD_BYTES) {
    jfree(atxt);
    return wd_http_resp_error(resp, 400, "invalid_field", "attributes",
                              "field 'attributes' must be at most %u bytes as compact JSON",
                              WD_LIMIT_STORE_FIELD_BYTES);
  }
  if (wd_gov__spiffe(g, name, id, sizeof id) != 0) {
    jfree(atxt);
    return wd_gov__err(resp, 400, "invalid_field", "name", "field 'name' is too long");
  }
  a.id = id;
  a.name = wd_gov__lend(name);
  a.owner = wd_gov__lend(owner);
  a.environment = wd_gov__lend(env);
  a.attrs = atxt;
  a.status = WD_AGENT_PENDING;
  a.created_ms = a.updated_ms = wd_gov__now_ms();
  /* A name in use is refused here rather than by the log's group commit,
   * where its refusal would cost the records sharing the batch a retry. */
  wd_agent got = {0};
  rc = wd_store_agent_get(g->store, id, &got);
  wd_store_agent_free(&got);
  if (rc == 0) rc = -WD_E_EXISTS;
  if (rc == -WD_E_NOTFOUND) rc = 0;
  /* The agent and its record in one transaction. */
  json_t *body = rc ? NULL : wd_gov__agent_json(&a);
  if (!rc && !body) rc = -WD_E_NOMEM;
  wd_store_fx fx = {.kind = WD_STORE_FX_AGENT_REGISTER, .agent = &a, .now_ms = a.created_ms};
  wd_audit_entry e = {.type = WD_AUDIT_AGENT_REGISTERED, .payload = body, .fx = &fx, .nfx = 1};
  if (!rc) rc = wd_audit_append_group(g->audit, "admin", NULL, &e, 1);
  jfree(atxt); /* json_dumps output: jansson's allocator */
  if (rc) json_decref(body);
  if (rc == -WD_E_EXISTS) return wd_gov__err(resp, 409, "conflict", "name", "agent exists");
  if (rc == -WD_E_INVAL || rc == -WD_E_TOOBIG)
    return wd_gov__err(resp, 400, "invalid_field", NULL, "invalid agent fields");
  if (rc) return rc;
  return wd_http_resp_json(resp, 201, body);
}

/* A query parameter as an integer in [lo, hi], else def when absent;
 * 1 (and a 400 in resp) when malformed. */
static int query_int(wd_http_req *req, wd_http_resp *resp, const char *name, long long lo,
                     long long hi, long long def, long long *out, int *rc) {
  const char *v = wd_http_query(req, name);
  *out = def;
  if (!v) return 0;
  char *end = NULL;
  errno = 0;
  long long n = strtoll(v, &end, 10);
  if (*v < '0' || *v > '9' || *end || errno || n < lo || n > hi) {
    *rc = wd_http_resp_error(resp, 400, "invalid_field", name,
                             "query parameter '%s' must be an integer from %lld to %lld", name, lo,
                             hi);
    return 1;
  }
  *out = n;
  return 0;
}

/* One page of agents in name order, from after the name in `after`.
 * Paging by key rather than by offset keeps a deep page one index range
 * read, and registrations between pages neither repeat an agent nor
 * skip one that was there all along. */
int wd_gov__h_agent_list(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  long long limit = 0;
  int rc = 0;
  const char *after = wd_http_query(req, "after");
  /* Checked as a name, so that a typo fails loudly rather than page
   * from somewhere else. */
  if (after && !wd_gov_agent_name_chars(after))
    return wd_gov__err(resp, 400, "invalid_field", "after",
                       "query parameter 'after' must be an agent name: 1-128 characters of "
                       "[A-Za-z0-9._-]");
  if (query_int(req, resp, "limit", 1, WD_LIMIT_STORE_LIST_ROWS, WD_LIMIT_STORE_LIST_ROWS, &limit,
                &rc))
    return rc;
  wd_agent_list l = {0};
  json_t *arr = NULL, *next = NULL;
  if ((rc = wd_store_agent_list(g->store, after, (size_t)limit, &l)) != 0) return rc;
  rc = -WD_E_NOMEM;
  if (!(arr = json_array())) goto cleanup;
  /* Each agent may hold 64 KiB of attributes: a page also ends once its
   * agents' text passes a bound, so that 10,000 of them cannot make one
   * answer of hundreds of megabytes. */
  size_t n = 0, bytes = 0;
  while (n < l.n && (n == 0 || bytes < WD_LIMIT_GOV_AGENT_PAGE)) {
    const wd_agent *a = &l.items[n];
    bytes += strlen(a->id) + strlen(a->owner) + strlen(a->environment) +
             (a->attrs ? strlen(a->attrs) : 0) + (a->jwk ? strlen(a->jwk) : 0);
    if (json_array_append_new(arr, wd_gov__agent_json(a)) != 0) goto cleanup;
    n++;
  }
  int more = n && (l.more || n < l.n);
  next = more ? json_string(l.items[n - 1].name) : json_null();
  if (!next) goto cleanup;
  json_t *body = json_pack("{s:o, s:b, s:o}", "agents", arr, "truncated", more, "next", next);
  arr = next = NULL;
  rc = body ? wd_http_resp_json(resp, 200, body) : -WD_E_NOMEM;
cleanup:
  json_decref(arr);
  json_decref(next);
  wd_store_agent_list_free(&l);
  return rc;
}

/* Loads the agent named in the path, or answers 404 (returns 1). */
static int load_agent(wd_gov *g, wd_http_req *req, wd_http_resp *resp, wd_agent *a, int *rc) {
  char id[512];
  const char *name = wd_http_param(req, "name");
  if (!name || wd_gov__spiffe(g, name, id, sizeof id) != 0) {
    *rc = wd_gov__err(resp, 404, "not_found", "name", "no such agent");
    return 1;
  }
  *rc = wd_store_agent_get(g->store, id, a);
  if (*rc == -WD_E_NOTFOUND) {
    *rc = wd_gov__err(resp, 404, "not_found", "name", "no such agent");
    return 1;
  }
  return *rc != 0;
}

int wd_gov__h_agent_get(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_agent a = {0};
  int rc = 0;
  if (load_agent(svc, req, resp, &a, &rc)) return rc;
  json_t *body = wd_gov__agent_json(&a);
  wd_store_agent_free(&a);
  return body ? wd_http_resp_json(resp, 200, body) : -WD_E_NOMEM;
}

/* The agent's open tasks, oldest first: what an incident responder ends
 * one by one, or all at once with a quarantine. */
int wd_gov__h_agent_tasks(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  wd_agent a = {0};
  wd_strlist ids = {0};
  json_t *arr = NULL;
  int rc = 0;
  if (load_agent(g, req, resp, &a, &rc)) return rc;
  if ((rc = wd_store_task_list_open(g->store, a.id, WD_LIMIT_GOV_TASK_LIST + 1, &ids)) != 0)
    goto cleanup;
  rc = -WD_E_NOMEM;
  if (!(arr = json_array())) goto cleanup;
  for (size_t i = 0; i < ids.n && i < WD_LIMIT_GOV_TASK_LIST; i++) {
    wd_task t = {0};
    rc = wd_store_task_get(g->store, ids.v[i], &t);
    if (rc == -WD_E_NOTFOUND) continue;
    if (rc) goto cleanup;
    json_t *tj = wd_gov__task_json(&t);
    wd_store_task_free(&t);
    if (!tj || json_array_append_new(arr, tj) != 0) {
      rc = -WD_E_NOMEM;
      goto cleanup;
    }
  }
  json_t *body = json_pack("{s:s, s:o, s:b}", "agent_id", a.id, "tasks", arr, "truncated",
                           ids.n > WD_LIMIT_GOV_TASK_LIST);
  arr = NULL;
  rc = body ? wd_http_resp_json(resp, 200, body) : -WD_E_NOMEM;
cleanup:
  json_decref(arr);
  wd_strlist_free(&ids);
  wd_store_agent_free(&a);
  return rc;
}

int wd_gov__h_join_token(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  wd_agent a = {0};
  int rc = 0;
  if (load_agent(g, req, resp, &a, &rc)) return rc;
  if (a.status == WD_AGENT_RETIRED) {
    wd_store_agent_free(&a);
    return wd_gov__err(resp, 409, "conflict", "status", "agent is retired");
  }
  json_int_t ttl = 600;
  json_t *v = json_is_object(req->json) ? json_object_get(req->json, "ttl_seconds") : NULL;
  if (v && !json_is_null(v)) {
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 3600) {
      wd_store_agent_free(&a);
      return wd_gov__err(resp, 400, "invalid_field", "ttl_seconds",
                         "field 'ttl_seconds' must be an integer from 1 to 3600");
    }
    ttl = json_integer_value(v);
  }
  char *tok = NULL;
  char hash[WD_IDENT_HASH_HEX_LEN + 1];
  int64_t now = wd_gov__now_ms(), exp = now + (int64_t)ttl * 1000;
  rc = wd_ident_random_token(32, &tok);
  if (!rc) rc = wd_ident_secret_hash(tok, strlen(tok), hash);
  json_t *p = rc ? NULL
                 : json_pack("{s:s, s:s, s:I}", "action", "join_token.created", "agent", a.id,
                             "expires_ms", (json_int_t)exp);
  if (!rc && !p) rc = -WD_E_NOMEM;
  /* The token and its record in one transaction. */
  wd_store_fx fx = {.kind = WD_STORE_FX_JOIN,
                    .token_hash = hash,
                    .agent_name = a.name,
                    .exp_ms = exp,
                    .now_ms = now};
  wd_audit_entry e = {.type = WD_AUDIT_ADMIN_ACTION, .payload = p, .fx = &fx, .nfx = 1};
  if (!rc) rc = wd_audit_append_group(g->audit, "admin", NULL, &e, 1);
  json_decref(p);
  wd_store_agent_free(&a);
  json_t *body =
      rc ? NULL : json_pack("{s:s, s:I}", "token", tok, "expires_at", (json_int_t)(exp / 1000));
  wd_ident_secret_free(tok);
  if (rc) return rc;
  return body ? wd_http_resp_json(resp, 201, body) : -WD_E_NOMEM;
}

static int set_status(wd_http_req *req, wd_http_resp *resp, wd_gov *g, wd_agent_status st,
                      wd_audit_type t, int need_reason) {
  wd_agent a = {0};
  int rc = 0;
  const char *reason = NULL;
  if (wd_gov__str(req, resp, "reason", need_reason, &reason, &rc)) return rc;
  if (load_agent(g, req, resp, &a, &rc)) return rc;
  /* A change the agent's status does not allow is -WD_E_STATE, judged
   * again where it is written against another admin's change meanwhile. */
  rc = wd_gov__set_agent_status(g, a.id, st, reason ? reason : "", "admin", t);
  wd_agent got = {0};
  if (!rc || rc == -WD_E_STATE) {
    int grc = wd_store_agent_get(g->store, a.id, &got);
    if (grc) rc = grc;
  }
  wd_store_agent_free(&a);
  if (rc == -WD_E_STATE) {
    rc = wd_http_resp_error(resp, 409, "conflict", "status", "agent is %s",
                            wd_agent_status_name(got.status));
    wd_store_agent_free(&got);
    return rc;
  }
  if (rc) return rc;
  json_t *body = wd_gov__agent_json(&got);
  wd_store_agent_free(&got);
  return body ? wd_http_resp_json(resp, 200, body) : -WD_E_NOMEM;
}

int wd_gov__h_quarantine(wd_http_req *req, wd_http_resp *resp, void *svc) {
  return set_status(req, resp, svc, WD_AGENT_QUARANTINED, WD_AUDIT_AGENT_QUARANTINED, 1);
}
int wd_gov__h_release(wd_http_req *req, wd_http_resp *resp, void *svc) {
  return set_status(req, resp, svc, WD_AGENT_ACTIVE, WD_AUDIT_AGENT_RELEASED, 1);
}
int wd_gov__h_retire(wd_http_req *req, wd_http_resp *resp, void *svc) {
  return set_status(req, resp, svc, WD_AGENT_RETIRED, WD_AUDIT_AGENT_RETIRED, 0);
}

/* ---- policies ------------------------------------------------------------------------- */

int wd_gov__h_policies_get(wd_http_req *req, wd_http_resp *resp, void *svc) {
  (void)req;
  wd_gov *g = svc;
  wd_gov__snap s;
  wd_gov__snap_get(g, &s);
  wd_policy_version v = {0};
  int rc = wd_store_policy_get(g->store, s.version, &v);
  json_t *body = NULL;
  if (!rc) {
    body = json_pack("{s:I, s:s, s:I}", "version", (json_int_t)s.version, "policies", v.text,
                     "count", (json_int_t)cedar_policyset_count(s.ps));
    if (!body) rc = -WD_E_NOMEM;
  }
  wd_store_policy_free(&v);
  wd_gov__snap_put(&s);
  return rc ? rc : wd_http_resp_json(resp, 200, body);
}

int wd_gov__h_policies_put(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  int rc = 0;
  /* A policy set is larger than other fields: up to a whole body. */
  const json_t *pv = json_is_object(req->json) ? json_object_get(req->json, "policies") : NULL;
  if (!pv || json_is_null(pv))
    return wd_gov__err(resp, 400, "missing_field", "policies", "missing field 'policies'");
  const char *text = json_string_value(pv);
  size_t len = text ? json_string_length(pv) : 0;
  if (!text || len == 0 || strlen(text) != len || len > WD_LIMIT_STORE_POLICY_BYTES)
    return wd_gov__err(resp, 400, "invalid_field", "policies",
                       "field 'policies' must be non-empty Cedar text without NUL");
  cedar_policyset *ps = NULL;
  json_t *diags = NULL;
  rc = wd_gov__build_policies(g, text, len, NULL, &ps, &diags);
  if (rc == -WD_E_PARSE || rc == -WD_E_VALIDATE) {
    /* The active set is untouched: an invalid set never replaces it. */
    json_t *body = json_pack("{s:{s:s, s:s, s:s, s:o}}", "error", "code",
                             rc == -WD_E_PARSE ? "policy_parse" : "policy_invalid", "message",
                             rc == -WD_E_PARSE ? "the policies do not parse"
                                               : "the policies do not validate against the schema",
                             "field", "policies", "diagnostics", diags ? diags : json_array());
    return body ? wd_http_resp_json(resp, 422, body) : -WD_E_NOMEM;
  }
  json_decref(diags);
  if (rc) return rc;
  int64_t v = 0;
  pthread_mutex_lock(&g->put_lock);
  rc = wd_gov__activate(g, text, len, ps, 0, "admin", &v);
  pthread_mutex_unlock(&g->put_lock);
  cedar_policyset_unref(ps);
  if (rc) return rc;
  json_t *body = json_pack("{s:I}", "version", (json_int_t)v);
  return body ? wd_http_resp_json(resp, 200, body) : -WD_E_NOMEM;
}

/* ---- the evidence log ------------------------------------------------------------------- */

int wd_gov__h_audit_verify(wd_http_req *req, wd_http_resp *resp, void *svc) {
  (void)req;
  wd_gov *g = svc;
  wd_audit_report rep;
  memset(&rep, 0, sizeof rep);
  int rc = wd_audit_verify(g->store, &rep);
  if (rc && rc != -WD_E_VALIDATE) return rc;
  /* The last seq and hash let an operator compare the tail with a hash
   * kept elsewhere: a log cut short after its last record still chains. */
  json_t *body = json_pack("{s:b, s:I, s:I, s:s?}", "ok", rc == 0, "records",
                           (json_int_t)rep.records, "last_seq", (json_int_t)rep.last_seq,
                           "last_hash", rep.last_seq ? rep.last_hash : NULL);
  if (body && rc) {
    json_t *fb = json_pack("{s:I, s:s}", "seq", (json_int_t)rep.bad_seq, "reason", rep.reason);
    if (!fb || json_object_set_new(body, "first_broken", fb) != 0) {
      json_decref(body);
      body = NULL;
    }
  }
  return body ? wd_http_resp_json(resp, 200, body) : -WD_E_NOMEM;
}

/* One record as the API shows it: the exported line's members, with the
 * payload as an object. */
/* A record as JSON; one whose stored text holds a NUL byte names that
 * column in "damaged", since what is shown of it is cut short there. */
static json_t *record_obj(const wd_audit_row *r) {
  json_t *pl = json_loads(r->payload ? r->payload : "{}", 0, NULL);
  return json_pack("{s:I, s:s, s:s, s:s, s:s?, s:o, s:s, s:s, s:s*}", "seq", (json_int_t)r->seq,
                   "time", r->time, "type", r->type, "actor", r->actor, "task", r->task, "payload",
                   pl ? pl : json_object(), "prev_hash", r->prev_hash, "hash", r->hash, "damaged",
                   r->cut);
}

/* A row outside the chain (not wd_audit_seq_ok) is no evidence, so a
 * reader that meets one shows nothing rather than leave it out unsaid. */
static int outside_chain(wd_http_resp *resp, int64_t seq) {
  return wd_http_resp_error(
      resp, 500, "log_damaged", "seq",
      "the evidence log holds a row with seq %lld, outside the chain, which "
      "is not shown as evidence (GET /v1/audit/verify reports the log broken)",
      (long long)seq);
}

int wd_gov__h_audit_task(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  const char *id = wd_http_param(req, "id");
  /* Task ids are printable ASCII: any other byte names no task, and one
   * that is not UTF-8 could not be echoed in the answer either. */
  for (const unsigned char *p = (const unsigned char *)id; *p; p++)
    if (*p < 0x21 || *p > 0x7e) return wd_gov__err(resp, 404, "not_found", "task", "no such task");
  wd_audit_records recs = {0};
  int rc = wd_audit_trace(g->store, id, &recs);
  if (rc == -WD_E_VALIDATE) return outside_chain(resp, recs.outside);
  if (rc) return rc;
  json_t *arr = json_array();
  for (size_t i = 0; arr && i < recs.n; i++) {
    json_t *o = record_obj(&recs.v[i]);
    if (!o || json_array_append_new(arr, o) != 0) {
      json_decref(arr);
      arr = NULL;
    }
  }
  wd_audit_records_free(&recs);
  if (!arr) return -WD_E_NOMEM;
  json_t *body = json_pack("{s:s, s:o}", "task", id, "records", arr);
  return body ? wd_http_resp_json(resp, 200, body) : -WD_E_NOMEM;
}

typedef struct page {
  json_t *records;
  size_t limit;
  int64_t next;    /* the first record left for the next page; 0: none */
  int64_t outside; /* a row outside the chain that stopped the page */
} page;

static int page_row(void *ctx, const wd_audit_row *r) {
  page *p = ctx;
  if (json_array_size(p->records) >= p->limit) {
    p->next = r->seq; /* a row outside the chain fails the page that holds it */
    return 1;         /* stops the scan */
  }
  if (!wd_audit_seq_ok(r->seq)) {
    p->outside = r->seq;
    return -WD_E_VALIDATE;
  }
  json_t *o = record_obj(r);
  return o && json_array_append_new(p->records, o) == 0 ? 0 : -WD_E_NOMEM;
}

int wd_gov__h_audit_records(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  long long from = 1, limit = 0;
  int rc = 0;
  if (query_int(req, resp, "from", 1, INT64_MAX, 1, &from, &rc) ||
      query_int(req, resp, "limit", 1, WD_LIMIT_AUDIT_PAGE_ROWS, WD_LIMIT_AUDIT_PAGE_ROWS, &limit,
                &rc))
    return rc;
  page p = {.records = json_array(), .limit = (size_t)limit};
  if (!p.records) return -WD_E_NOMEM;
  /* The first page starts at the first row, as the offline export does:
   * one below 1 stops it. */
  rc = wd_store_audit_scan(g->store, NULL, from > 1 ? (int64_t)from : INT64_MIN, page_row, &p);
  if (rc < 0) {
    json_decref(p.records);
    return rc == -WD_E_VALIDATE ? outside_chain(resp, p.outside) : rc;
  }
  json_t *body = json_pack("{s:o, s:o}", "records", p.records, "next",
                           p.next ? json_integer((json_int_t)p.next) : json_null());
  return body ? wd_http_resp_json(resp, 200, body) : -WD_E_NOMEM;
}

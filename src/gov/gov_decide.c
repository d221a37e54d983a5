/* SPDX-License-Identifier: Apache-2.0
 *
 * One decision: the mapping of docs/policies/README.md from an agent, a
 * task, its session and (for tool calls) the call to a Cedar request and
 * entity store, then cedar_authorize in strict mode unless the deployment
 * chose Cedar's own semantics.
 *
 * Entities the service has no registry for yet are derived, and the rules
 * are documented in docs/api/openapi.yaml (x-request-mapping):
 *   - the agent's team is attributes.team (else "default"); its owner is a
 *     User in attributes.owner_team when set, else in the team;
 *   - an on_behalf_of user is in the team when it is the owner or listed in
 *     attributes.team_members, else in no team;
 *   - a Tool has risk 0 and external false;
 *   - a Destination is internal when it is "local" or ends in ".internal"
 *     or ".local"; any other destination is external, so the data-flow
 *     rule fails closed on names Warden does not know (a call that names
 *     none has "unspecified");
 *   - classification_rank and ceiling_rank are 0 (public) to 3 (secret),
 *     so a policy can compare a call's data with the task's ceiling;
 *   - risk = tier base (read_only 10, standard 30, high_impact 50) + 10 per
 *     denial so far in the task, at most 100.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gov/gov_int.h"
#include "gov/gov_text.h"
#include "util/wd_alloc.h"

void wd_gov__decision_clear(wd_gov__decision *d) {
  wd_buf_free(&d->policies);
  wd_buf_free(&d->errors);
  memset(d, 0, sizeof *d);
}

static void decision_init(wd_gov__decision *d, int64_t version) {
  memset(d, 0, sizeof *d);
  wd_buf_init(&d->policies, WD_LIMIT_AUDIT_PAYLOAD_BYTES);
  wd_buf_init(&d->errors, WD_LIMIT_AUDIT_PAYLOAD_BYTES);
  d->version = version;
}

/* Appends {"k1":v1,"k2":v2} with k1 < k2, v2 null when NULL. A failed
 * append leaves the list empty (wd_buf drops what it held), never with
 * half a member. */
static int pair(wd_buf *list, const char *k1, const char *v1, const char *k2, const char *v2) {
  int rc;
  if ((wd_buf_len(list) && (rc = wd_buf_addc(list, ','))) || (rc = wd_buf_adds(list, "{\"")) ||
      (rc = wd_buf_adds(list, k1)) || (rc = wd_buf_adds(list, "\":")) ||
      (rc = wd_audit_canon_str(list, v1, strlen(v1))) || (rc = wd_buf_adds(list, ",\"")) ||
      (rc = wd_buf_adds(list, k2)) || (rc = wd_buf_adds(list, "\":")))
    return rc;
  if ((rc = v2 ? wd_audit_canon_str(list, v2, strlen(v2)) : wd_buf_adds(list, "null"))) return rc;
  return wd_buf_addc(list, '}');
}

int wd_gov__decision_error(wd_gov__decision *d, const char *policy, const char *message) {
  return pair(&d->errors, "message", message, "policy", policy);
}

int wd_gov__decision_list(wd_buf *b, const wd_buf *list) {
  int rc = wd_buf_addc(b, '[');
  if (!rc && wd_buf_len(list)) rc = wd_buf_add(b, wd_buf_str(list), wd_buf_len(list));
  return rc ? rc : wd_buf_addc(b, ']');
}

json_t *wd_gov__decision_list_json(const wd_buf *list) {
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_AUDIT_PAYLOAD_BYTES + 2);
  json_t *j = wd_gov__decision_list(&b, list) ? NULL : json_loads(wd_buf_str(&b), 0, NULL);
  wd_buf_free(&b);
  return j;
}

static int dest_external(const char *d) {
  size_t n = strcspn(d, ":"); /* the host: a port says nothing of where it is */
  if (strcmp(d, "local") == 0) return 0;
  if (n > 9 && strncmp(d + n - 9, ".internal", 9) == 0) return 0;
  if (n > 6 && strncmp(d + n - 6, ".local", 6) == 0) return 0;
  return 1;
}

static int64_t tier_base(wd_agent_tier t) {
  switch (t) {
  case WD_TIER_READ_ONLY: return 10;
  case WD_TIER_STANDARD: return 30;
  case WD_TIER_HIGH_IMPACT: return 50;
  }
  return 100;
}

static int in_members(const json_t *attrs, const char *user) {
  const json_t *m = json_object_get(attrs, "team_members");
  size_t i;
  const json_t *v;
  json_array_foreach(m, i, v) {
    if (json_is_string(v) && strcmp(json_string_value(v), user) == 0) return 1;
  }
  return 0;
}

/* ---- entities ------------------------------------------------------------------ */

static void plain(wd_gov__ents *e, const char *type, const char *id) {
  if (!wd_gov__ents_begin(e, type, id)) return;
  wd_gov__jw_raw(&e->w, "{}");
  wd_gov__ents_end(e, NULL, 0);
}

static void tool(wd_gov__ents *e, const char *name) {
  if (!wd_gov__ents_begin(e, "Tool", name)) return;
  wd_gov__jw_raw(&e->w, "{\"risk\":0,\"external\":false}");
  wd_gov__ents_end(e, NULL, 0);
}

static void dest(wd_gov__ents *e, const char *name) {
  if (!wd_gov__ents_begin(e, "Destination", name)) return;
  wd_gov__jw_raw(&e->w, dest_external(name) ? "{\"external\":true}" : "{\"external\":false}");
  wd_gov__ents_end(e, NULL, 0);
}

static void user(wd_gov__ents *e, const char *name, const char *team) {
  if (!wd_gov__ents_begin(e, "User", name)) return;
  wd_gov__jw_raw(&e->w, "{\"name\":");
  wd_gov__jw_str(&e->w, name);
  wd_gov__jw_raw(&e->w, "}");
  const char *parent[2] = {"Team", team};
  wd_gov__ents_end(e, parent, team ? 1 : 0);
}

static void agent(wd_gov__ents *e, const wd_agent *a, const char *team) {
  if (!wd_gov__ents_begin(e, "Agent", a->id)) return;
  wd_gov__jw *w = &e->w;
  wd_gov__jw_raw(w, "{\"name\":");
  wd_gov__jw_str(w, a->name);
  wd_gov__jw_raw(w, ",\"owner\":");
  wd_gov__jw_eref(w, "User", a->owner);
  wd_gov__jw_raw(w, ",\"team\":");
  wd_gov__jw_eref(w, "Team", team);
  wd_gov__jw_raw(w, ",\"tier\":");
  wd_gov__jw_str(w, wd_agent_tier_name(a->tier));
  wd_gov__jw_raw(w, ",\"environment\":");
  wd_gov__jw_str(w, a->environment);
  wd_gov__jw_raw(w, ",\"status\":");
  wd_gov__jw_str(w, wd_agent_status_name(a->status));
  wd_gov__jw_raw(w, "}");
  wd_gov__ents_end(e, NULL, 0);
}

/* ---- context (keys in sorted order: its text is hashed) ------------------------- */

static int by_key(const void *x, const void *y) {
  return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The call's arguments the action's context declares, sorted by name. */
static void call_args(wd_gov__jw *w, const cedar_schema *schema, const char *action,
                      const json_t *args) {
  static const char *const path[] = {"call", "args"};
  size_t n = json_is_object(args) ? json_object_size(args) : 0, k = 0;
  const char **keys = n ? wd_calloc(n, sizeof *keys) : NULL;
  if (n && !keys) {
    w->rc = w->rc ? w->rc : -WD_E_NOMEM;
    return;
  }
  const char *key;
  const json_t *v;
  json_object_foreach((json_t *)(uintptr_t)args, key, v) {
    if (cedar_schema_context_declares(schema, action, path, 2, key)) keys[k++] = key;
  }
  if (k > 1) qsort(keys, k, sizeof *keys, by_key);
  wd_gov__jw_raw(w, "{");
  for (size_t i = 0; i < k; i++) {
    wd_gov__jw_key(w, keys[i], i == 0);
    wd_gov__jw_json(w, json_object_get(args, keys[i]));
  }
  wd_gov__jw_raw(w, "}");
  wd_free(keys);
}

static void erefs(wd_gov__jw *w, const char *type, const wd_strlist *l) {
  wd_gov__jw_raw(w, "[");
  for (size_t i = 0; i < l->n; i++) {
    if (i) wd_gov__jw_raw(w, ",");
    wd_gov__jw_eref(w, type, l->v[i]);
  }
  wd_gov__jw_raw(w, "]");
}

typedef struct ctx_in {
  const wd_task *t;
  const wd_session *ss; /* NULL for task.open */
  const json_t *tools;  /* the task's expected tools (array of strings) */
  const wd_gov__call *call;
  const char *action, *previous_intent;
  int64_t risk, age_ms, now_ms;
} ctx_in;

/* Whether the action's context declares record.name: attributes added
 * after a deployment wrote its schema reach Cedar only once it declares
 * them (its records are closed, so an undeclared one denies everything). */
static int declares(const cedar_schema *schema, const char *action, const char *record,
                    const char *name) {
  const char *path[1] = {record};
  return cedar_schema_context_declares(schema, action, path, 1, name);
}

static void context(wd_gov__jw *w, const cedar_schema *schema, const ctx_in *in) {
  const wd_task *t = in->t;
  wd_gov__jw_raw(w, "{");
  if (in->call) {
    const wd_gov__call *c = in->call;
    wd_gov__jw_raw(w, "\"call\":{\"args\":");
    call_args(w, schema, in->action, c->args);
    wd_gov__jw_raw(w, ",\"classification\":");
    wd_gov__jw_str(w, c->classification);
    if (declares(schema, in->action, "call", "classification_rank")) {
      wd_gov__jw_raw(w, ",\"classification_rank\":");
      wd_gov__jw_int(w, wd_gov__classification_rank(c->classification));
    }
    wd_gov__jw_raw(w, ",\"destination\":");
    wd_gov__jw_eref(w, "Destination", c->destination);
    wd_gov__jw_raw(w, ",\"environment\":");
    wd_gov__jw_str(w, c->environment);
    wd_gov__jw_raw(w, ",\"operation\":");
    wd_gov__jw_str(w, c->operation);
    wd_gov__jw_raw(w, ",\"tool\":");
    wd_gov__jw_eref(w, "Tool", c->tool);
    wd_gov__jw_raw(w, "},");
  }
  if (in->previous_intent) {
    wd_gov__jw_raw(w, "\"previous_intent\":");
    wd_gov__jw_str(w, in->previous_intent);
    wd_gov__jw_raw(w, ",");
  }
  wd_gov__jw_raw(w, "\"risk\":");
  wd_gov__jw_int(w, in->risk);
  static const wd_strlist none = {NULL, 0};
  const wd_session *ss = in->ss;
  wd_gov__jw_raw(w, ",\"session\":{\"calls\":");
  wd_gov__jw_int(w, ss ? ss->calls : 0);
  wd_gov__jw_raw(w, ",\"classifications\":[");
  for (size_t i = 0; ss && i < ss->classifications.n; i++) {
    if (i) wd_gov__jw_raw(w, ",");
    wd_gov__jw_str(w, ss->classifications.v[i]);
  }
  wd_gov__jw_raw(w, "],\"denials\":");
  wd_gov__jw_int(w, ss ? ss->denials : 0);
  wd_gov__jw_raw(w, ",\"destinations\":");
  erefs(w, "Destination", ss ? &ss->destinations : &none);
  wd_gov__jw_raw(w, ",\"tools\":");
  erefs(w, "Tool", ss ? &ss->tools : &none);
  char dur[32];
  (void)snprintf(dur, sizeof dur, "%lldms", (long long)in->age_ms);
  wd_gov__jw_raw(w, "},\"task\":{\"age\":");
  wd_gov__jw_extn(w, "duration", dur);
  wd_gov__jw_raw(w, ",\"budget_left\":");
  wd_gov__jw_int(w, t->budget - t->calls);
  wd_gov__jw_raw(w, ",\"calls\":");
  wd_gov__jw_int(w, t->calls);
  wd_gov__jw_raw(w, ",\"ceiling\":");
  wd_gov__jw_str(w, t->ceiling);
  if (declares(schema, in->action, "task", "ceiling_rank")) {
    wd_gov__jw_raw(w, ",\"ceiling_rank\":");
    wd_gov__jw_int(w, wd_gov__classification_rank(t->ceiling));
  }
  wd_gov__jw_raw(w, ",\"id\":");
  wd_gov__jw_str(w, t->id);
  wd_gov__jw_raw(w, ",\"intent\":");
  wd_gov__jw_str(w, t->intent);
  if (t->on_behalf_of) {
    wd_gov__jw_raw(w, ",\"on_behalf_of\":");
    wd_gov__jw_eref(w, "User", t->on_behalf_of);
  }
  wd_gov__jw_raw(w, ",\"purpose\":");
  wd_gov__jw_str(w, t->purpose);
  wd_gov__jw_raw(w, ",\"tools\":[");
  size_t i, k = 0;
  const json_t *v;
  json_array_foreach(in->tools, i, v) {
    if (!json_is_string(v)) continue;
    if (k++) wd_gov__jw_raw(w, ",");
    wd_gov__jw_eref(w, "Tool", json_string_value(v));
  }
  char ts[32];
  time_t secs = (time_t)(in->now_ms / 1000);
  struct tm tmv;
  (void)gmtime_r(&secs, &tmv);
  (void)strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  wd_gov__jw_raw(w, "]},\"time\":");
  wd_gov__jw_extn(w, "datetime", ts);
  wd_gov__jw_raw(w, "}");
}

/* ---- the decision ---------------------------------------------------------------- */

int wd_gov__request_text(const cedar_schema *schema, const wd_agent *a, const wd_task *t,
                         const wd_session *ss, const json_t *tools, const char *action,
                         const wd_gov__call *call, const char *previous_intent, int64_t now,
                         wd_gov__jw *ctx, wd_gov__jw *rq) {
  int is_open = strcmp(action, "task.open") == 0;
  int64_t age = is_open ? 0 : now - t->created_ms;
  int64_t risk = tier_base(a->tier) + 10 * (ss ? ss->denials : 0);
  ctx_in in = {
      t, ss, tools, call, action, previous_intent, risk > 100 ? 100 : risk, age < 0 ? 0 : age, now};
  context(ctx, schema, &in);
  wd_gov__jw_raw(rq, "{\"principal\":");
  wd_gov__jw_uid(rq, "Agent", a->id);
  wd_gov__jw_raw(rq, ",\"action\":");
  wd_gov__jw_uid(rq, "Action", action);
  wd_gov__jw_raw(rq, ",\"resource\":");
  if (!call)
    wd_gov__jw_uid(rq, "Task", t->id);
  else if (call->res_id)
    wd_gov__jw_uid(rq, "Data", call->res_id);
  else
    wd_gov__jw_uid(rq, "Tool", call->tool);
  wd_gov__jw_raw(rq, ",\"context\":");
  if (!ctx->rc) wd_gov__jw_raw(rq, wd_buf_str(&ctx->b));
  wd_gov__jw_raw(rq, "}");
  return ctx->rc ? ctx->rc : rq->rc;
}

int wd_gov__decide(wd_gov *g, const wd_gov__snap *snap, const wd_agent *a, const wd_task *t,
                   const char *action, const wd_gov__call *call, const char *previous_intent,
                   wd_gov__decision *out) {
  return wd_gov__decide_in(g, snap, a, t, NULL, action, call, previous_intent, out);
}

/* Writes the entities of the decision into e. */
static void entities(wd_gov__ents *e, const wd_agent *a, const wd_task *t, const wd_session *ss,
                     const json_t *attrs, const json_t *tools, const wd_gov__call *call) {
  const char *team = json_string_value(json_object_get(attrs, "team"));
  if (!team) team = "default";
  const char *oteam = json_string_value(json_object_get(attrs, "owner_team"));
  if (!oteam) oteam = team;
  plain(e, "Team", team);
  plain(e, "Team", oteam);
  user(e, a->owner, oteam);
  if (t->on_behalf_of && strcmp(t->on_behalf_of, a->owner) != 0)
    user(e, t->on_behalf_of, in_members(attrs, t->on_behalf_of) ? team : NULL);
  agent(e, a, team);
  size_t i;
  const json_t *v;
  json_array_foreach(tools, i, v) {
    if (json_is_string(v)) tool(e, json_string_value(v));
  }
  for (i = 0; ss && i < ss->tools.n; i++)
    tool(e, ss->tools.v[i]);
  for (i = 0; ss && i < ss->destinations.n; i++)
    dest(e, ss->destinations.v[i]);
  if (!call) {
    plain(e, "Task", t->id);
    return;
  }
  tool(e, call->tool);
  dest(e, call->destination);
  if (call->res_id && wd_gov__ents_begin(e, "Data", call->res_id)) {
    wd_gov__jw_raw(&e->w, "{\"classification\":");
    wd_gov__jw_str(&e->w, call->classification);
    wd_gov__jw_raw(&e->w, "}");
    const char *parent[2] = {"Tool", call->tool};
    wd_gov__ents_end(e, parent, 1);
  }
}

/* Reads the engine's answer into out. The lists are bounded, so that
 * the decision's record can always be written: a set where thousands of
 * forbids error would otherwise make a record too large to keep, and a
 * denial without its record. */
static int collect(const wd_gov__snap *snap, const cedar_response *res, wd_gov__decision *out) {
  out->allow = cedar_response_decision(res) == CEDAR_ALLOW;
  size_t np = cedar_response_reason_count(res), ne = cedar_response_error_count(res);
  for (size_t i = 0; i < np && i < WD_LIMIT_DECISION_ITEMS; i++) {
    const char *pid = cedar_response_reason(res, i);
    const char *why = cedar_policyset_annotation(snap->ps, pid, "reason");
    int rc = pair(&out->policies, "id", pid, "reason", why);
    if (rc) return rc;
  }
  for (size_t i = 0; i < ne && i < WD_LIMIT_DECISION_ITEMS; i++) {
    int rc = wd_gov__decision_error(out, cedar_response_error_policy(res, i),
                                    cedar_response_error_message(res, i));
    if (rc) return rc;
  }
  out->npolicies = (unsigned)np;
  out->nerrors = (unsigned)ne;
  char more[96];
  int rc = 0;
  if (np > WD_LIMIT_DECISION_ITEMS) {
    (void)snprintf(more, sizeof more, "%zu more determining policies not listed",
                   np - WD_LIMIT_DECISION_ITEMS);
    rc = pair(&out->policies, "id", "", "reason", more);
  }
  if (!rc && ne > WD_LIMIT_DECISION_ITEMS) {
    (void)snprintf(more, sizeof more, "%zu more errors not listed", ne - WD_LIMIT_DECISION_ITEMS);
    rc = wd_gov__decision_error(out, "", more);
  }
  return rc;
}

int wd_gov__decide_in(wd_gov *g, const wd_gov__snap *snap, const wd_agent *a, const wd_task *t,
                      const wd_session *given, const char *action, const wd_gov__call *call,
                      const char *previous_intent, wd_gov__decision *out) {
  decision_init(out, snap->version);
  int rc = 0;
  int is_open = strcmp(action, "task.open") == 0;
  wd_session ss;
  memset(&ss, 0, sizeof ss);
  const wd_session *sp = given;
  wd_gov__ents e;
  wd_gov__jw ctx, rq;
  wd_gov__jw_init(&ctx);
  wd_gov__jw_init(&rq);
  json_t *attrs = NULL, *tools = NULL;
  const cedar_entities *es = NULL;
  wd_gov__entref *es_ref = NULL;
  cedar_request *req = NULL;
  cedar_response *res = NULL;
  cedar_diags *d = NULL;
  if ((rc = wd_gov__ents_init(&e)) != 0) goto out;
  if (!sp && !is_open) {
    if ((rc = wd_store_task_session(g->store, t->id, &ss)) != 0) goto out;
    sp = &ss;
  }
  attrs = json_loads(a->attrs ? a->attrs : "{}", 0, NULL);
  tools = json_loads(t->expected_tools ? t->expected_tools : "[]", 0, NULL);
  if (!json_is_object(attrs)) {
    json_decref(attrs);
    attrs = json_object();
  }
  if (!attrs) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  entities(&e, a, t, sp, attrs, tools, call);
  const char *ents_txt = wd_gov__ents_text(&e);
  if (!ents_txt) {
    rc = e.w.rc ? e.w.rc : -WD_E_NOMEM;
    goto out;
  }
  if ((rc = wd_gov__request_text(g->schema, a, t, sp, tools, action, call, previous_intent,
                                 wd_gov__now_ms(), &ctx, &rq)) != 0)
    goto out;
  const char *ctx_txt = wd_buf_str(&ctx.b);
  if ((rc = wd_ident_secret_hash(ctx_txt, wd_buf_len(&ctx.b), out->ctx_digest)) != 0) goto out;
  if (!(d = cedar_diags_new())) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  /* A request the schema rejects (an unknown tool action, a context of the
   * wrong shape) is denied and the reason listed, never skipped. */
  rc = wd_gov__entcache_get(g->entcache, ents_txt, strlen(ents_txt), &es, &es_ref, d);
  if (!rc) rc = cedar_request_from_json(wd_buf_str(&rq.b), wd_buf_len(&rq.b), g->schema, &req, d);
  if (rc && rc != -WD_E_NOMEM) {
    const cedar_diag *d0 = cedar_diags_count(d) ? cedar_diags_get(d, 0) : NULL;
    rc = wd_gov__decision_error(out, "", d0 ? d0->msg : "request does not match the schema");
    out->allow = 0;
    goto out;
  }
  if (rc) goto out;
  cedar_authz_opts ao = {.strict_forbid = g->strict};
  if ((rc = cedar_authorize(snap->ps, es, req, &ao, &res)) != 0) goto out;
  rc = collect(snap, res, out);
out:
  if (rc) out->allow = 0; /* fail closed */
  cedar_diags_free(d);
  cedar_response_free(res);
  cedar_request_free(req);
  wd_gov__entref_release(es_ref);
  wd_gov__ents_free(&e);
  wd_gov__jw_free(&ctx);
  wd_gov__jw_free(&rq);
  json_decref(attrs);
  json_decref(tools);
  if (sp == &ss) wd_store_session_free(&ss);
  return rc;
}

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
 *     rule fails closed on names Warden does not know;
 *   - risk = tier base (read_only 10, standard 30, high_impact 50) + 10 per
 *     denial so far in the task, at most 100.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gov/gov_int.h"
#include "util/wd_alloc.h"

void wd_gov__decision_clear(wd_gov__decision *d) {
  json_decref(d->policies);
  json_decref(d->errors);
  memset(d, 0, sizeof *d);
}

static json_t *uid(const char *type, const char *id) {
  return json_pack("{s:s, s:s}", "type", type, "id", id);
}

static json_t *eref(const char *type, const char *id) {
  return json_pack("{s:o}", "__entity", uid(type, id));
}

static json_t *extn(const char *fn, const char *arg) {
  return json_pack("{s:{s:s, s:s}}", "__extn", "fn", fn, "arg", arg);
}

static int dest_external(const char *d) {
  size_t n = strlen(d);
  if (strcmp(d, "local") == 0) return 0;
  if (n > 9 && strcmp(d + n - 9, ".internal") == 0) return 0;
  if (n > 6 && strcmp(d + n - 6, ".local") == 0) return 0;
  return 1;
}

/* Adds an entity once (seen is {"Type::id": true}). */
static int add_entity(json_t *ents, json_t *seen, const char *type, const char *id, json_t *attrs,
                      json_t *parents) {
  char key[1200];
  (void)snprintf(key, sizeof key, "%s::%s", type, id);
  if (json_object_get(seen, key)) {
    json_decref(attrs);
    json_decref(parents);
    return 0;
  }
  json_t *e = json_pack("{s:o, s:o, s:o}", "uid", uid(type, id), "attrs",
                        attrs ? attrs : json_object(), "parents", parents ? parents : json_array());
  if (!e || json_array_append_new(ents, e) != 0 || json_object_set_new(seen, key, json_true()) != 0)
    return -WD_E_NOMEM;
  return 0;
}

static int add_tool(json_t *ents, json_t *seen, const char *name) {
  return add_entity(ents, seen, "Tool", name, json_pack("{s:i, s:b}", "risk", 0, "external", 0),
                    NULL);
}

static int add_dest(json_t *ents, json_t *seen, const char *name) {
  return add_entity(ents, seen, "Destination", name,
                    json_pack("{s:b}", "external", dest_external(name)), NULL);
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

/* Compact text of j from our allocator; sorted keys only where the text
 * is hashed (sorting costs a visible share of a decision). */
static char *dumps(const json_t *j, size_t flags) {
  flags |= JSON_COMPACT;
  size_t n = json_dumpb(j, NULL, 0, flags);
  char *c = n ? wd_malloc(n + 1) : NULL;
  if (!c || json_dumpb(j, c, n, flags) != n) {
    wd_free(c);
    return NULL;
  }
  c[n] = '\0';
  return c;
}

/* The request text: rq (an object without context) with the context text
 * spliced in, so the context is encoded once. */
static char *request_text(const json_t *rq, const char *ctx_txt) {
  char *head = dumps(rq, 0);
  if (!head) return NULL;
  size_t hn = strlen(head), cn = strlen(ctx_txt);
  static const char key[] = ",\"context\":";
  char *t = hn >= 2 ? wd_malloc(hn - 1 + sizeof key - 1 + cn + 2) : NULL;
  if (t) {
    char *p = t;
    memcpy(p, head, hn - 1); /* without the closing brace */
    p += hn - 1;
    memcpy(p, key, sizeof key - 1);
    p += sizeof key - 1;
    memcpy(p, ctx_txt, cn);
    p += cn;
    *p++ = '}';
    *p = '\0';
  }
  wd_free(head);
  return t;
}

int wd_gov__decide(wd_gov *g, const wd_gov__snap *snap, const wd_agent *a, const wd_task *t,
                   const char *action, const wd_gov__call *call, const char *previous_intent,
                   wd_gov__decision *out) {
  return wd_gov__decide_in(g, snap, a, t, NULL, action, call, previous_intent, out);
}

int wd_gov__decide_in(wd_gov *g, const wd_gov__snap *snap, const wd_agent *a, const wd_task *t,
                      const wd_session *given, const char *action, const wd_gov__call *call,
                      const char *previous_intent, wd_gov__decision *out) {
  memset(out, 0, sizeof *out);
  out->version = snap->version;
  int rc = 0;
  int is_task_action = strncmp(action, "task.", 5) == 0;
  wd_session ss;
  memset(&ss, 0, sizeof ss);
  int have_ss = 0;
  json_t *ents = json_array(), *seen = json_object(), *attrs = NULL, *ctx = NULL, *rq = NULL;
  char *ents_txt = NULL, *rq_txt = NULL, *ctx_txt = NULL;
  cedar_entities *es = NULL;
  cedar_request *req = NULL;
  cedar_response *res = NULL;
  if (!ents || !seen) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  if (given) {
    ss = *given;
    have_ss = 2; /* borrowed */
  } else if (strcmp(action, "task.open") != 0) {
    if ((rc = wd_store_task_session(g->store, t->id, &ss)) != 0) goto out;
    have_ss = 1;
  }
  attrs = json_loads(a->attrs ? a->attrs : "{}", 0, NULL);
  if (!json_is_object(attrs)) {
    json_decref(attrs);
    attrs = json_object();
  }
  const char *team = json_string_value(json_object_get(attrs, "team"));
  if (!team) team = "default";
  const char *oteam = json_string_value(json_object_get(attrs, "owner_team"));
  if (!oteam) oteam = team;

  rc = add_entity(ents, seen, "Team", team, NULL, NULL);
  if (!rc && strcmp(oteam, team) != 0) rc = add_entity(ents, seen, "Team", oteam, NULL, NULL);
  if (!rc)
    rc = add_entity(ents, seen, "User", a->owner, json_pack("{s:s}", "name", a->owner),
                    json_pack("[o]", uid("Team", oteam)));
  if (!rc && t->on_behalf_of && strcmp(t->on_behalf_of, a->owner) != 0)
    rc = add_entity(
        ents, seen, "User", t->on_behalf_of, json_pack("{s:s}", "name", t->on_behalf_of),
        in_members(attrs, t->on_behalf_of) ? json_pack("[o]", uid("Team", team)) : json_array());
  if (!rc)
    rc = add_entity(ents, seen, "Agent", a->id,
                    json_pack("{s:s, s:o, s:o, s:s, s:s, s:s}", "name", a->name, "owner",
                              eref("User", a->owner), "team", eref("Team", team), "tier",
                              wd_agent_tier_name(a->tier), "environment", a->environment, "status",
                              wd_agent_status_name(a->status)),
                    NULL);
  if (rc) goto out;

  /* context.task */
  json_t *tools = json_loads(t->expected_tools ? t->expected_tools : "[]", 0, NULL);
  json_t *trefs = json_array();
  size_t i;
  json_t *tv;
  json_array_foreach(tools, i, tv) {
    if (!json_is_string(tv)) continue;
    if ((rc = add_tool(ents, seen, json_string_value(tv))) != 0) break;
    if (json_array_append_new(trefs, eref("Tool", json_string_value(tv))) != 0) rc = -WD_E_NOMEM;
  }
  json_decref(tools);
  int64_t now = wd_gov__now_ms();
  int64_t age = is_task_action && strcmp(action, "task.open") == 0 ? 0 : now - t->created_ms;
  if (age < 0) age = 0;
  char dur[64];
  (void)snprintf(dur, sizeof dur, "%lldms", (long long)age);
  json_t *task = json_pack("{s:s, s:s, s:s, s:o, s:I, s:I, s:o, s:s}", "id", t->id, "intent",
                           t->intent, "purpose", t->purpose, "age", extn("duration", dur), "calls",
                           (json_int_t)t->calls, "budget_left", (json_int_t)(t->budget - t->calls),
                           "tools", trefs, "ceiling", t->ceiling);
  if (task && t->on_behalf_of &&
      json_object_set_new(task, "on_behalf_of", eref("User", t->on_behalf_of)) != 0)
    rc = -WD_E_NOMEM;

  /* context.session: over the calls before this one */
  json_t *stools = json_array(), *scls = json_array(), *sdest = json_array();
  for (i = 0; have_ss && !rc && i < ss.tools.n; i++) {
    rc = add_tool(ents, seen, ss.tools.v[i]);
    if (!rc && json_array_append_new(stools, eref("Tool", ss.tools.v[i])) != 0) rc = -WD_E_NOMEM;
  }
  for (i = 0; have_ss && !rc && i < ss.classifications.n; i++)
    if (json_array_append_new(scls, json_string(ss.classifications.v[i])) != 0) rc = -WD_E_NOMEM;
  for (i = 0; have_ss && !rc && i < ss.destinations.n; i++) {
    rc = add_dest(ents, seen, ss.destinations.v[i]);
    if (!rc && json_array_append_new(sdest, eref("Destination", ss.destinations.v[i])) != 0)
      rc = -WD_E_NOMEM;
  }
  int64_t denials = have_ss ? ss.denials : 0;
  json_t *session = json_pack("{s:o, s:o, s:o, s:I, s:I}", "tools", stools, "classifications", scls,
                              "destinations", sdest, "calls", (json_int_t)(have_ss ? ss.calls : 0),
                              "denials", (json_int_t)denials);
  int64_t risk = tier_base(a->tier) + 10 * denials;
  if (risk > 100) risk = 100;
  char ts[32];
  time_t secs = (time_t)(now / 1000);
  struct tm tmv;
  (void)gmtime_r(&secs, &tmv);
  (void)strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tmv);
  ctx = json_pack("{s:o, s:o, s:o, s:I}", "task", task, "session", session, "time",
                  extn("datetime", ts), "risk", (json_int_t)risk);
  if (!ctx || rc) {
    rc = rc ? rc : -WD_E_NOMEM;
    goto out;
  }
  if (previous_intent &&
      json_object_set_new(ctx, "previous_intent", json_string(previous_intent)) != 0) {
    rc = -WD_E_NOMEM;
    goto out;
  }

  /* context.call and the resource */
  json_t *resource = NULL;
  if (call) {
    if ((rc = add_tool(ents, seen, call->tool)) != 0) goto out;
    if ((rc = add_dest(ents, seen, call->destination)) != 0) goto out;
    json_t *c =
        json_pack("{s:o, s:s, s:s, s:o, s:s, s:{}}", "tool", eref("Tool", call->tool), "operation",
                  call->operation, "classification", call->classification, "destination",
                  eref("Destination", call->destination), "environment", call->environment, "args");
    if (!c || json_object_set_new(ctx, "call", c) != 0) {
      rc = -WD_E_NOMEM;
      goto out;
    }
    if (call->res_id) {
      rc = add_entity(ents, seen, "Data", call->res_id,
                      json_pack("{s:s}", "classification", call->classification),
                      json_pack("[o]", uid("Tool", call->tool)));
      resource = uid("Data", call->res_id);
    } else {
      resource = uid("Tool", call->tool);
    }
  } else {
    rc = add_entity(ents, seen, "Task", t->id, NULL, NULL);
    resource = uid("Task", t->id);
  }
  rq = json_pack("{s:o, s:o, s:o}", "principal", uid("Agent", a->id), "action",
                 uid("Action", action), "resource", resource);
  if (rc || !rq) {
    rc = rc ? rc : -WD_E_NOMEM;
    goto out;
  }
  ents_txt = dumps(ents, 0);
  ctx_txt = dumps(ctx, JSON_SORT_KEYS);
  rq_txt = ctx_txt ? request_text(rq, ctx_txt) : NULL;
  if (!ents_txt || !rq_txt || !ctx_txt) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  if ((rc = wd_ident_secret_hash(ctx_txt, strlen(ctx_txt), out->ctx_digest)) != 0) goto out;
  out->policies = json_array();
  out->errors = json_array();
  if (!out->policies || !out->errors) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  /* A request the schema rejects (an unknown tool action, a context of the
   * wrong shape) is denied and the reason listed, never skipped. */
  cedar_diags *d = cedar_diags_new();
  if (!d) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  rc = cedar_entities_from_json(ents_txt, strlen(ents_txt), g->schema, &es, d);
  if (!rc) rc = cedar_request_from_json(rq_txt, strlen(rq_txt), g->schema, &req, d);
  if (rc == -WD_E_NOMEM) {
    cedar_diags_free(d);
    goto out;
  }
  if (rc) {
    const cedar_diag *d0 = cedar_diags_count(d) ? cedar_diags_get(d, 0) : NULL;
    json_t *e = json_pack("{s:s, s:s}", "policy", "", "message",
                          d0 ? d0->msg : "request does not match the schema");
    cedar_diags_free(d);
    if (!e || json_array_append_new(out->errors, e) != 0)
      rc = -WD_E_NOMEM;
    else
      rc = 0;
    out->allow = 0;
    goto out;
  }
  cedar_diags_free(d);
  cedar_authz_opts ao = {.strict_forbid = g->strict};
  if ((rc = cedar_authorize(snap->ps, es, req, &ao, &res)) != 0) goto out;
  out->allow = cedar_response_decision(res) == CEDAR_ALLOW;
  for (i = 0; i < cedar_response_reason_count(res); i++) {
    const char *pid = cedar_response_reason(res, i);
    const char *why = cedar_policyset_annotation(snap->ps, pid, "reason");
    json_t *p = json_pack("{s:s, s:s?}", "id", pid, "reason", why);
    if (!p || json_array_append_new(out->policies, p) != 0) {
      rc = -WD_E_NOMEM;
      goto out;
    }
  }
  for (i = 0; i < cedar_response_error_count(res); i++) {
    json_t *e = json_pack("{s:s, s:s}", "policy", cedar_response_error_policy(res, i), "message",
                          cedar_response_error_message(res, i));
    if (!e || json_array_append_new(out->errors, e) != 0) {
      rc = -WD_E_NOMEM;
      goto out;
    }
  }
out:
  if (rc) out->allow = 0; /* fail closed */
  cedar_response_free(res);
  cedar_request_free(req);
  cedar_entities_free(es);
  wd_free(ents_txt);
  wd_free(rq_txt);
  wd_free(ctx_txt);
  json_decref(rq);
  json_decref(ctx);
  json_decref(attrs);
  json_decref(ents);
  json_decref(seen);
  if (have_ss == 1) wd_store_session_free(&ss);
  return rc;
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * The JSON policy format (EST) on the way out: one policy as an EST
 * object, and a whole policy set as {"staticPolicies", "templates",
 * "templateLinks"}. Also the public entry point that reads a document of
 * either shape into a builder; the per-policy reader is est_read.c.
 *
 * The output follows the reference implementation's policyToJson: like
 * patterns list one literal per character, the collection builtins use
 * {"left","right"} while extension functions use {"name": [args]}.
 * `e has a.b` reaches us already desugared, so it is written that way.
 */
#include <string.h>

#include "../util/wd_alloc.h"
#include "format_int.h"

#define EST_MAX_DEPTH WD_LIMIT_EVAL_DEPTH

/* Sets k on o, taking v; returns o, or NULL (freeing o) when v is NULL or
 * the set fails. Lets builders chain without leaking on OOM. */
static json_t *with(json_t *o, const char *k, json_t *v) {
  if (!o || !v || json_object_set_new(o, k, v) != 0) {
    json_decref(o);
    if (!o) json_decref(v);
    return NULL;
  }
  return o;
}

static json_t *jstr(cedar__str s) { return json_stringn(s.p ? s.p : "", s.n); }

static json_t *uid_json(const cedar__uid *u) {
  return with(with(json_object(), "type", jstr(u->type)), "id", jstr(u->id));
}

static json_t *push(json_t *arr, json_t *v) {
  if (!arr || !v || json_array_append_new(arr, v) != 0) {
    json_decref(arr);
    if (!arr) json_decref(v);
    return NULL;
  }
  return arr;
}

static json_t *lit_json(const cedar__val *v) {
  switch (v->kind) {
  case CEDAR__V_BOOL: return json_boolean(v->u.b);
  case CEDAR__V_LONG: return json_integer((json_int_t)v->u.i);
  case CEDAR__V_STRING: return jstr(v->u.s);
  case CEDAR__V_ENTITY: return with(json_object(), "__entity", uid_json(v->u.uid));
  case CEDAR__V_SET:
  case CEDAR__V_RECORD:
  case CEDAR__V_DECIMAL:
  case CEDAR__V_IPADDR:
  case CEDAR__V_DATETIME:
  case CEDAR__V_DURATION: return cedar__val_to_json(v);
  }
  return NULL;
}

/* Length of the UTF-8 sequence starting with byte c (1 for stray bytes). */
static uint32_t utf8_len(unsigned char c) {
  if (c >= 0xf0) return 4;
  if (c >= 0xe0) return 3;
  if (c >= 0xc0) return 2;
  return 1;
}

static json_t *pattern_json(const cedar__patelem *pat, uint32_t n) {
  json_t *arr = json_array();
  for (uint32_t i = 0; i < n && arr; i++) {
    if (pat[i].wild) {
      arr = push(arr, json_string("Wildcard"));
      continue;
    }
    cedar__str s = pat[i].lit;
    for (uint32_t j = 0; j < s.n && arr;) {
      uint32_t k = utf8_len((unsigned char)s.p[j]);
      if (k > s.n - j) k = s.n - j;
      arr = push(arr, with(json_object(), "Literal", json_stringn(s.p + j, k)));
      j += k;
    }
  }
  return arr;
}

static json_t *expr_json(const cedar__expr *e, uint32_t depth);

static json_t *lr(const cedar__expr *l, const cedar__expr *r, uint32_t depth) {
  return with(with(json_object(), "left", expr_json(l, depth)), "right", expr_json(r, depth));
}

static json_t *call_json(const cedar__expr *e, uint32_t depth) {
  const char *name = cedar__fmt_fn_name(e->u.call.fn);
  const cedar__expr *const *a = e->u.call.args;
  switch (e->u.call.fn) {
  case CEDAR__F_CONTAINS:
  case CEDAR__F_CONTAINS_ALL:
  case CEDAR__F_CONTAINS_ANY:
  case CEDAR__F_GET_TAG:
  case CEDAR__F_HAS_TAG:
    if (e->u.call.n != 2) return NULL;
    return with(json_object(), name, lr(a[0], a[1], depth));
  case CEDAR__F_IS_EMPTY:
    if (e->u.call.n != 1) return NULL;
    return with(json_object(), name, with(json_object(), "arg", expr_json(a[0], depth)));
  case CEDAR__F_DECIMAL:
  case CEDAR__F_LESS_THAN:
  case CEDAR__F_LESS_THAN_OR_EQUAL:
  case CEDAR__F_GREATER_THAN:
  case CEDAR__F_GREATER_THAN_OR_EQUAL:
  case CEDAR__F_IP:
  case CEDAR__F_IS_IPV4:
  case CEDAR__F_IS_IPV6:
  case CEDAR__F_IS_LOOPBACK:
  case CEDAR__F_IS_MULTICAST:
  case CEDAR__F_IS_IN_RANGE:
  case CEDAR__F_DATETIME:
  case CEDAR__F_DURATION:
  case CEDAR__F_OFFSET:
  case CEDAR__F_DURATION_SINCE:
  case CEDAR__F_TO_DATE:
  case CEDAR__F_TO_TIME:
  case CEDAR__F_TO_MILLISECONDS:
  case CEDAR__F_TO_SECONDS:
  case CEDAR__F_TO_MINUTES:
  case CEDAR__F_TO_HOURS:
  case CEDAR__F_TO_DAYS:
  case CEDAR__F__COUNT: break;
  }
  json_t *arr = json_array();
  for (uint32_t i = 0; i < e->u.call.n && arr; i++)
    arr = push(arr, expr_json(a[i], depth));
  return with(json_object(), name, arr);
}

static json_t *expr_json(const cedar__expr *e, uint32_t depth) {
  if (!e || ++depth > EST_MAX_DEPTH) return NULL;
  switch (e->kind) {
  case CEDAR__X_LIT: return with(json_object(), "Value", lit_json(&e->u.lit));
  case CEDAR__X_VAR: {
    static const char *const names[] = {"principal", "action", "resource", "context"};
    if ((unsigned)e->u.var >= 4) return NULL;
    return with(json_object(), "Var", json_string(names[e->u.var]));
  }
  case CEDAR__X_IF: {
    json_t *o = with(json_object(), "if", expr_json(e->u.op.a, depth));
    o = with(o, "then", expr_json(e->u.op.b, depth));
    o = with(o, "else", expr_json(e->u.op.c, depth));
    return with(json_object(), "if-then-else", o);
  }
  case CEDAR__X_NOT:
  case CEDAR__X_NEG:
    return with(json_object(), e->kind == CEDAR__X_NOT ? "!" : "neg",
                with(json_object(), "arg", expr_json(e->u.op.a, depth)));
  case CEDAR__X_AND:
  case CEDAR__X_OR:
  case CEDAR__X_EQ:
  case CEDAR__X_NE:
  case CEDAR__X_LT:
  case CEDAR__X_LE:
  case CEDAR__X_GT:
  case CEDAR__X_GE:
  case CEDAR__X_IN:
  case CEDAR__X_ADD:
  case CEDAR__X_SUB:
  case CEDAR__X_MUL:
    return with(json_object(), cedar__fmt_binop(e->kind), lr(e->u.op.a, e->u.op.b, depth));
  case CEDAR__X_HAS:
  case CEDAR__X_GETATTR: {
    json_t *o = with(json_object(), "left", expr_json(e->u.attr.e, depth));
    o = with(o, "attr", jstr(e->u.attr.attr));
    return with(json_object(), e->kind == CEDAR__X_HAS ? "has" : ".", o);
  }
  case CEDAR__X_LIKE: {
    json_t *o = with(json_object(), "left", expr_json(e->u.like.e, depth));
    o = with(o, "pattern", pattern_json(e->u.like.pat, e->u.like.n));
    return with(json_object(), "like", o);
  }
  case CEDAR__X_IS: {
    json_t *o = with(json_object(), "left", expr_json(e->u.is.e, depth));
    o = with(o, "entity_type", jstr(e->u.is.type));
    if (e->u.is.in) o = with(o, "in", expr_json(e->u.is.in, depth));
    return with(json_object(), "is", o);
  }
  case CEDAR__X_SET: {
    json_t *arr = json_array();
    for (uint32_t i = 0; i < e->u.list.n && arr; i++)
      arr = push(arr, expr_json(e->u.list.items[i], depth));
    return with(json_object(), "Set", arr);
  }
  case CEDAR__X_RECORD: {
    json_t *o = json_object();
    for (uint32_t i = 0; i < e->u.rec.n && o; i++) {
      json_t *v = expr_json(e->u.rec.vals[i], depth);
      cedar__str k = e->u.rec.keys[i];
      if (!v || json_object_setn_new(o, k.p ? k.p : "", k.n, v) != 0) {
        json_decref(o);
        o = NULL;
      }
    }
    return with(json_object(), "Record", o);
  }
  case CEDAR__X_CALL: return call_json(e, depth);
  }
  return NULL;
}

static json_t *target_json(const cedar__scope *s, const cedar__policy *p, json_t *o) {
  if (s->slot == CEDAR__SLOT_NONE) return with(o, "entity", s->uid ? uid_json(s->uid) : NULL);
  if ((unsigned)s->slot < 2 && p->slot_vals[s->slot])
    return with(o, "entity", uid_json(p->slot_vals[s->slot]));
  return with(o, "slot", json_string(s->slot == CEDAR__SLOT_RESOURCE ? "?resource" : "?principal"));
}

static json_t *scope_json(const cedar__scope *s, const cedar__policy *p) {
  json_t *o = json_object();
  switch (s->kind) {
  case CEDAR__SC_ANY: return with(o, "op", json_string("All"));
  case CEDAR__SC_EQ: return target_json(s, p, with(o, "op", json_string("==")));
  case CEDAR__SC_IN: return target_json(s, p, with(o, "op", json_string("in")));
  case CEDAR__SC_IS:
  case CEDAR__SC_IS_IN:
    o = with(with(o, "op", json_string("is")), "entity_type", jstr(s->type));
    if (s->kind == CEDAR__SC_IS_IN) o = with(o, "in", target_json(s, p, json_object()));
    return o;
  case CEDAR__SC_IN_SET: {
    /* The reference writes `action in [A]` as `action in A`. */
    if (s->nuids == 1)
      return with(with(o, "op", json_string("in")), "entity", uid_json(s->uids[0]));
    json_t *arr = json_array();
    for (uint32_t i = 0; i < s->nuids && arr; i++)
      arr = push(arr, uid_json(s->uids[i]));
    return with(with(o, "op", json_string("in")), "entities", arr);
  }
  }
  json_decref(o);
  return NULL;
}

json_t *cedar__est_from_policy(const cedar__policy *p) {
  if (!p) return NULL;
  json_t *o =
      with(json_object(), "effect", json_string(p->effect == CEDAR__FORBID ? "forbid" : "permit"));
  o = with(o, "principal", scope_json(&p->principal, p));
  o = with(o, "action", scope_json(&p->action, p));
  o = with(o, "resource", scope_json(&p->resource, p));
  json_t *conds = json_array();
  for (uint32_t i = 0; i < p->nconds && conds; i++) {
    json_t *c = with(json_object(), "kind", json_string(p->conds[i].is_when ? "when" : "unless"));
    conds = push(conds, with(c, "body", expr_json(p->conds[i].e, 0)));
  }
  o = with(o, "conditions", conds);
  if (p->nannots > 0) {
    json_t *an = json_object();
    for (uint32_t i = 0; i < p->nannots && an; i++) {
      const cedar__annot *a = &p->annots[i];
      json_t *v = a->has_val ? jstr(a->val) : json_null();
      if (!v || json_object_setn_new(an, a->key.p ? a->key.p : "", a->key.n, v) != 0) {
        json_decref(an);
        an = NULL;
      }
    }
    o = with(o, "annotations", an);
  }
  return o;
}

static json_t *link_json(const cedar__policy *p) {
  json_t *vals = json_object();
  if (p->slot_vals[0]) vals = with(vals, "?principal", uid_json(p->slot_vals[0]));
  if (p->slot_vals[1]) vals = with(vals, "?resource", uid_json(p->slot_vals[1]));
  json_t *o = with(json_object(), "templateId", jstr(p->template_id));
  o = with(o, "newId", jstr(p->id));
  return with(o, "values", vals);
}

static int set_policy(json_t *obj, const cedar__policy *p) {
  json_t *v = cedar__est_from_policy(p);
  if (!v) return -WD_E_NOMEM;
  return json_object_setn_new(obj, p->id.p ? p->id.p : "", p->id.n, v) == 0 ? 0 : -WD_E_NOMEM;
}

int cedar_policyset_to_est(const cedar_policyset *ps, char **out) {
  if (!ps || !out) return -WD_E_INVAL;
  *out = NULL;
  int rc = 0;
  json_t *stat = json_object(), *tmpl = json_object(), *links = json_array();
  if (!stat || !tmpl || !links) rc = -WD_E_NOMEM;
  for (uint32_t i = 0; i < ps->npolicies && rc == 0; i++) {
    const cedar__policy *p = ps->policies[i];
    if (p->template_id.n > 0) {
      json_t *l = link_json(p);
      rc = l && json_array_append_new(links, l) == 0 ? 0 : -WD_E_NOMEM;
    } else {
      rc = set_policy(stat, p);
    }
  }
  for (uint32_t i = 0; i < ps->ntemplates && rc == 0; i++)
    rc = set_policy(tmpl, ps->templates[i]);
  json_t *doc = NULL;
  if (rc == 0) {
    doc = with(with(with(json_object(), "staticPolicies", stat), "templates", tmpl),
               "templateLinks", links);
    stat = tmpl = links = NULL;
    if (!doc) rc = -WD_E_NOMEM;
  }
  if (rc == 0) {
    /* Copy so the caller can release with cedar_free whatever allocator
     * jansson was built with. */
    json_malloc_t jmalloc;
    json_free_t jfree;
    json_get_alloc_funcs(&jmalloc, &jfree);
    char *s = json_dumps(doc, JSON_COMPACT);
    if (!s) rc = -WD_E_NOMEM;
    if (s) {
      *out = wd_strdup(s);
      jfree(s);
      if (!*out) rc = -WD_E_NOMEM;
    }
  }
  json_decref(doc);
  json_decref(stat);
  json_decref(tmpl);
  json_decref(links);
  return rc;
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Reads Cedar's JSON schema format into the resolved schema model of
 * cedar_schema.h: namespaces applied, common types inlined, every entity
 * and action reference checked. The .cedarschema reader produces this
 * same JSON and then comes through here, so both formats resolve names by
 * exactly one set of rules.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_schema.h"

/* Each level of a type costs up to two levels of recursion here. */
#define MAX_TYPE_DEPTH (2u * WD_LIMIT_SCHEMA_DEPTH)

typedef struct resolver {
  wd_arena *a;
  cedar_diags *diags;
  wd_map *entities;     /* fq entity name -> (void*)1 */
  wd_map *commons_raw;  /* fq common name -> const json_t* */
  wd_map *commons_ns;   /* fq common name -> const char* namespace */
  wd_map *commons_done; /* fq common name -> cedar__type*, or &in_progress */
  int errors;
  const cedar__schema_loc *loc; /* may be NULL: the input was JSON */
  const json_t *decl;           /* declaration being resolved, for locations */
} resolver;

static char in_progress;

static const cedar__span *span_of(const resolver *r, const json_t *j) {
  if (!r->loc || !r->loc->spans || !j) return NULL;
  return wd_map_get(r->loc->spans, &j, sizeof j);
}

/* Reports at node when the text reader recorded where it came from, else
 * at the declaration being resolved, else without a location. */
static int vfail(resolver *r, const json_t *node, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int vfail(resolver *r, const json_t *node, const char *fmt, va_list ap) {
  char msg[CEDAR_DIAG_MSG];
  vsnprintf(msg, sizeof msg, fmt, ap);
  r->errors++;
  const cedar__span *sp = span_of(r, node);
  if (!sp) sp = span_of(r, r->decl);
  if (sp)
    return cedar__diag_at(r->diags, r->loc->src, r->loc->len, -WD_E_VALIDATE, sp->off, sp->len,
                          "%s", msg);
  return cedar__diag(r->diags, -WD_E_VALIDATE, "%s", msg);
}

static int fail(resolver *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_at(resolver *r, const json_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(resolver *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vfail(r, NULL, fmt, ap);
  va_end(ap);
  return rc;
}

static int fail_at(resolver *r, const json_t *node, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vfail(r, node, fmt, ap);
  va_end(ap);
  return rc;
}

static const char *fq(resolver *r, const char *ns, const char *name) {
  if (!ns[0]) return wd_arena_strndup(r->a, name, strlen(name));
  size_t n = strlen(ns) + 2 + strlen(name);
  char *s = wd_arena_alloc(r->a, n + 1);
  if (!s) return NULL;
  snprintf(s, n + 1, "%s::%s", ns, name);
  return s;
}

static cedar__str arena_str(resolver *r, const char *s) {
  cedar__str out = {wd_arena_strndup(r->a, s, strlen(s)), (uint32_t)strlen(s)};
  return out;
}

static int has_key(wd_map *m, const char *k) { return wd_map_get(m, k, strlen(k)) != NULL; }

/* Entity names: an unqualified name means the current namespace first,
 * then the empty one. */
static const char *resolve_entity(resolver *r, const char *ns, const char *name) {
  if (!strstr(name, "::") && ns[0]) {
    const char *q = fq(r, ns, name);
    if (q && has_key(r->entities, q)) return q;
  }
  return has_key(r->entities, name) ? name : NULL;
}

static const cedar__type *prim(resolver *r, cedar__tkind k, const char *ext) {
  cedar__type *t = wd_arena_calloc(r->a, 1, sizeof *t);
  if (!t) return NULL;
  t->kind = k;
  if (ext) t->name = arena_str(r, ext);
  return t;
}

static const cedar__type *builtin(resolver *r, const char *name) {
  if (strncmp(name, "__cedar::", 9) == 0) name += 9;
  if (!strcmp(name, "Long")) return prim(r, CEDAR__T_LONG, NULL);
  if (!strcmp(name, "String")) return prim(r, CEDAR__T_STRING, NULL);
  if (!strcmp(name, "Bool") || !strcmp(name, "Boolean")) return prim(r, CEDAR__T_BOOL, NULL);
  if (!strcmp(name, "decimal") || !strcmp(name, "ipaddr") || !strcmp(name, "datetime") ||
      !strcmp(name, "duration"))
    return prim(r, CEDAR__T_EXT, name);
  return NULL;
}

static const cedar__type *resolve(resolver *r, const char *ns, const json_t *j, const char *path,
                                  unsigned depth);

static const cedar__type *resolve_common(resolver *r, const char *q, const char *path,
                                         unsigned depth) {
  void *done = wd_map_get(r->commons_done, q, strlen(q));
  if (done == &in_progress) {
    fail(r, "%s: common type `%s` refers to itself", path, q);
    return NULL;
  }
  if (done) return done;
  const json_t *raw = wd_map_get(r->commons_raw, q, strlen(q));
  const char *cns = wd_map_get(r->commons_ns, q, strlen(q));
  if (wd_map_put(r->commons_done, q, strlen(q), &in_progress)) return NULL;
  const cedar__type *t = resolve(r, cns, raw, path, depth + 1);
  if (!t) return NULL;
  if (wd_map_put(r->commons_done, q, strlen(q), (void *)(uintptr_t)t)) return NULL;
  return t;
}

/* The Cedar-format rule: common type in this namespace, entity type in
 * this namespace, then the same two in the empty namespace, then builtins. */
static const cedar__type *resolve_name(resolver *r, const char *ns, const char *name,
                                       int allow_common, int allow_entity, const char *path,
                                       unsigned depth, const json_t *at) {
  const char *cands[2] = {NULL, name};
  if (!strstr(name, "::") && ns[0]) cands[0] = fq(r, ns, name);
  for (int i = 0; i < 2; i++) {
    const char *q = cands[i];
    if (!q) continue;
    if (allow_common && has_key(r->commons_raw, q)) return resolve_common(r, q, path, depth);
    if (allow_entity && has_key(r->entities, q)) {
      cedar__type *t = wd_arena_calloc(r->a, 1, sizeof *t);
      if (!t) return NULL;
      t->kind = CEDAR__T_ENTITY;
      t->name = arena_str(r, q);
      return t;
    }
  }
  const cedar__type *b = allow_common ? builtin(r, name) : NULL;
  if (!b) fail_at(r, at, "%s: unknown type `%s`", path, name);
  return b;
}

static int cmp_attr(const void *x, const void *y) {
  return cedar__str_cmp(((const cedar__tattr *)x)->name, ((const cedar__tattr *)y)->name);
}

static const cedar__type *resolve_record(resolver *r, const char *ns, const json_t *j,
                                         const char *path, unsigned depth) {
  const json_t *attrs = json_object_get(j, "attributes");
  if (attrs && !json_is_object(attrs)) {
    fail(r, "%s: %s", path, "`attributes` must be an object");
    return NULL;
  }
  cedar__type *t = wd_arena_calloc(r->a, 1, sizeof *t);
  if (!t) return NULL;
  t->kind = CEDAR__T_RECORD;
  t->open = json_is_true(json_object_get(j, "additionalAttributes"));
  size_t n = attrs ? json_object_size(attrs) : 0;
  cedar__tattr *as = wd_arena_calloc(r->a, n ? n : 1, sizeof *as);
  if (!as) return NULL;
  const char *k;
  const json_t *v;
  size_t i = 0;
  if (attrs) {
    size_t kn;
    json_object_keylen_foreach((json_t *)(uintptr_t)attrs, k, kn, v) {
      char sub[512];
      snprintf(sub, sizeof sub, "%s.%s", path, k);
      const json_t *req = json_object_get(v, "required");
      if (req && !json_is_boolean(req)) {
        fail(r, "%s: %s", sub, "`required` must be true or false");
        return NULL;
      }
      /* Attribute names may hold NUL bytes. */
      as[i].name.p = wd_arena_memdup(r->a, k, kn + 1);
      as[i].name.n = (uint32_t)kn;
      as[i].required = req ? json_is_true(req) : 1;
      as[i].type = resolve(r, ns, v, sub, depth + 1);
      if (!as[i].type) return NULL;
      i++;
    }
  }
  qsort(as, n, sizeof *as, cmp_attr);
  t->attrs = as;
  t->nattrs = (uint32_t)n;
  return t;
}

static const cedar__type *resolve(resolver *r, const char *ns, const json_t *j, const char *path,
                                  unsigned depth) {
  if (depth > MAX_TYPE_DEPTH) {
    fail_at(r, j, "%s: %s", path, "type nested too deeply");
    return NULL;
  }
  if (!json_is_object(j)) {
    fail(r, "%s: %s", path, "expected a type object with a `type` field");
    return NULL;
  }
  const char *ty = json_string_value(json_object_get(j, "type"));
  const char *name = json_string_value(json_object_get(j, "name"));
  if (!ty) {
    fail(r, "%s: %s", path, "missing string field `type`");
    return NULL;
  }
  if (!strcmp(ty, "String")) return prim(r, CEDAR__T_STRING, NULL);
  if (!strcmp(ty, "Long")) return prim(r, CEDAR__T_LONG, NULL);
  if (!strcmp(ty, "Boolean")) return prim(r, CEDAR__T_BOOL, NULL);
  if (!strcmp(ty, "Record")) return resolve_record(r, ns, j, path, depth);
  if (!strcmp(ty, "Set")) {
    char sub[512];
    snprintf(sub, sizeof sub, "%s.element", path);
    const cedar__type *e = resolve(r, ns, json_object_get(j, "element"), sub, depth + 1);
    if (!e) return NULL;
    cedar__type *t = wd_arena_calloc(r->a, 1, sizeof *t);
    if (!t) return NULL;
    t->kind = CEDAR__T_SET;
    t->elem = e;
    return t;
  }
  if (!strcmp(ty, "Entity") || !strcmp(ty, "Extension") || !strcmp(ty, "EntityOrCommon")) {
    if (!name) {
      fail(r, "%s: `%s` type needs a string field `name`", path, ty);
      return NULL;
    }
    if (ty[1] == 'x') {
      const cedar__type *b = builtin(r, name);
      if (!b || b->kind != CEDAR__T_EXT) fail(r, "%s: unknown extension type `%s`", path, name);
      return b && b->kind == CEDAR__T_EXT ? b : NULL;
    }
    int common = !strcmp(ty, "EntityOrCommon");
    return resolve_name(r, ns, name, common, 1, path, depth, j);
  }
  return resolve_name(r, ns, ty, 1, 0, path, depth, j);
}

/* ---- declarations ---------------------------------------------------------- */

static int collect(resolver *r, const json_t *root) {
  const char *ns;
  const json_t *body;
  json_object_foreach((json_t *)(uintptr_t)root, ns, body) {
    if (!json_is_object(body)) {
      fail(r, "namespace `%s`: %s", ns, "expected an object");
      continue;
    }
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)(uintptr_t)body, k, v) {
      if (strcmp(k, "entityTypes") && strcmp(k, "actions") && strcmp(k, "commonTypes") &&
          strcmp(k, "annotations"))
        fail(r, "namespace `%s`: unknown field `%s`", ns, k);
    }
    const json_t *ets = json_object_get(body, "entityTypes");
    const json_t *acts = json_object_get(body, "actions");
    if (!json_is_object(ets) || !json_is_object(acts)) {
      fail(r, "namespace `%s`: %s", ns, "`entityTypes` and `actions` must both be objects");
      continue;
    }
    json_object_foreach((json_t *)(uintptr_t)ets, k, v) {
      r->decl = v;
      const char *q = fq(r, ns, k);
      if (!q) return -WD_E_NOMEM;
      if (wd_map_add(r->entities, q, strlen(q), (void *)1))
        fail(r, "entity type `%s`%s", q, " is declared twice");
    }
    const json_t *cts = json_object_get(body, "commonTypes");
    if (cts && !json_is_object(cts))
      fail(r, "namespace `%s`: %s", ns, "`commonTypes` must be an object");
    if (!json_is_object(cts)) continue;
    json_object_foreach((json_t *)(uintptr_t)cts, k, v) {
      r->decl = v;
      const char *q = fq(r, ns, k);
      if (!q) return -WD_E_NOMEM;
      if (builtin(r, k) || !strcmp(k, "Set") || !strcmp(k, "Record") || !strcmp(k, "Entity") ||
          !strcmp(k, "Extension") || !strcmp(k, "EntityOrCommon")) {
        fail(r, "common type `%s`%s", q, ": the name is reserved");
        continue;
      }
      if (wd_map_add(r->commons_raw, q, strlen(q), (void *)(uintptr_t)v) ||
          wd_map_put(r->commons_ns, q, strlen(q), (void *)(uintptr_t)ns))
        fail(r, "common type `%s`%s", q, " is declared twice");
    }
  }
  return 0;
}

/* A named namespace may not redeclare a type or action of the empty one:
 * an unqualified name would then mean two things. */
static void check_shadowing(resolver *r, const json_t *root) {
  const json_t *top = json_object_get(root, "");
  const json_t *top_et = json_object_get(top, "entityTypes");
  const json_t *top_ct = json_object_get(top, "commonTypes");
  const json_t *top_ac = json_object_get(top, "actions");
  const char *ns, *k;
  const json_t *body, *v;
  if (!json_is_object(top)) return;
  json_object_foreach((json_t *)(uintptr_t)root, ns, body) {
    if (!ns[0] || !json_is_object(body)) continue;
    static const char *const types[2] = {"entityTypes", "commonTypes"};
    for (int i = 0; i < 2; i++) {
      json_object_foreach(json_object_get(body, types[i]), k, v) {
        if (!json_object_get(top_et, k) && !json_object_get(top_ct, k)) continue;
        r->decl = v;
        fail(r, "definition of `%s::%s` illegally shadows the existing definition of `%s`", ns, k,
             k);
      }
    }
    json_object_foreach(json_object_get(body, "actions"), k, v) {
      if (!json_object_get(top_ac, k)) continue;
      r->decl = v;
      fail(r,
           "definition of `%s::Action::\"%s\"` illegally shadows the existing definition of "
           "`Action::\"%s\"`",
           ns, k, k);
    }
  }
  r->decl = NULL;
}

static int name_list(resolver *r, const char *ns, const json_t *arr, const char *path,
                     const cedar__str **out, uint32_t *n) {
  *out = NULL;
  *n = 0;
  if (!arr) return 0;
  if (!json_is_array(arr)) return fail(r, "%s: %s", path, "expected an array of entity type names");
  size_t cnt = json_array_size(arr);
  cedar__str *names = wd_arena_calloc(r->a, cnt ? cnt : 1, sizeof *names);
  if (!names) return -WD_E_NOMEM;
  for (size_t i = 0; i < cnt; i++) {
    const char *nm = json_string_value(json_array_get(arr, i));
    const char *q = nm ? resolve_entity(r, ns, nm) : NULL;
    if (!q) {
      fail_at(r, json_array_get(arr, i), "%s: unknown entity type `%s`", path,
              nm ? nm : "(not a string)");
      continue;
    }
    names[i] = arena_str(r, q);
  }
  *out = names;
  *n = (uint32_t)cnt;
  return 0;
}

static int build_entity(resolver *r, const char *ns, const char *k, const json_t *v,
                        cedar__sentity *e) {
  char path[512];
  const char *q = fq(r, ns, k);
  if (!q) return -WD_E_NOMEM;
  snprintf(path, sizeof path, "entity type `%s`", q);
  r->decl = v;
  if (!json_is_object(v)) return fail(r, "%s: %s", path, "expected an object");
  const char *f;
  const json_t *fv;
  json_object_foreach((json_t *)(uintptr_t)v, f, fv) {
    if (strcmp(f, "memberOfTypes") && strcmp(f, "shape") && strcmp(f, "tags") &&
        strcmp(f, "enum") && strcmp(f, "annotations"))
      fail(r, "%s: unknown field `%s`", path, f);
  }
  e->name = arena_str(r, q);
  int rc = name_list(r, ns, json_object_get(v, "memberOfTypes"), path, &e->parents, &e->nparents);
  if (rc) return rc;
  const json_t *shape = json_object_get(v, "shape");
  e->shape = shape ? resolve(r, ns, shape, path, 0) : NULL;
  if (shape && e->shape && e->shape->kind != CEDAR__T_RECORD)
    fail(r, "%s: %s", path, "`shape` must be a record type");
  if (!e->shape || e->shape->kind != CEDAR__T_RECORD) {
    cedar__type *empty = wd_arena_calloc(r->a, 1, sizeof *empty);
    if (!empty) return -WD_E_NOMEM;
    empty->kind = CEDAR__T_RECORD;
    e->shape = empty;
  }
  const json_t *tags = json_object_get(v, "tags");
  if (tags) e->tags = resolve(r, ns, tags, path, 0);
  const json_t *en = json_object_get(v, "enum");
  if (en) {
    if (!json_is_array(en) || json_array_size(en) == 0)
      return fail(r, "%s: %s", path, "`enum` must be a non-empty array of strings");
    size_t cnt = json_array_size(en);
    cedar__str *ids = wd_arena_calloc(r->a, cnt, sizeof *ids);
    if (!ids) return -WD_E_NOMEM;
    for (size_t i = 0; i < cnt; i++) {
      const json_t *s = json_array_get(en, i);
      if (!json_is_string(s)) return fail(r, "%s: %s", path, "`enum` must hold strings only");
      ids[i].p = wd_arena_memdup(r->a, json_string_value(s), json_string_length(s));
      ids[i].n = (uint32_t)json_string_length(s);
    }
    e->is_enum = 1;
    e->enum_ids = ids;
    e->nenum = (uint32_t)cnt;
  }
  return 0;
}

static const cedar__uid *action_uid(resolver *r, const char *ns, const char *type, const char *id,
                                    size_t idlen) {
  const char *t = type;
  if (!t)
    t = fq(r, ns, "Action");
  else if (!strstr(t, "::") && ns[0])
    t = fq(r, ns, t);
  if (!t) return NULL;
  cedar__str ts = {t, (uint32_t)strlen(t)}, is = {id, (uint32_t)idlen};
  return cedar__uid_new(r->a, ts, is);
}

static int build_action(resolver *r, const char *ns, const char *k, size_t klen, const json_t *v,
                        cedar__saction *act) {
  char path[512];
  snprintf(path, sizeof path, "action `%s`", k);
  r->decl = v;
  act->uid = action_uid(r, ns, NULL, k, klen); /* ids may hold NUL bytes */
  if (!act->uid) return -WD_E_NOMEM;
  if (json_is_null(v)) v = NULL;
  if (v && !json_is_object(v)) return fail(r, "%s: %s", path, "expected an object");
  const json_t *mo = v ? json_object_get(v, "memberOf") : NULL;
  if (mo) {
    if (!json_is_array(mo)) return fail(r, "%s: %s", path, "`memberOf` must be an array");
    size_t cnt = json_array_size(mo);
    const cedar__uid **ps = wd_arena_calloc(r->a, cnt ? cnt : 1, sizeof *ps);
    if (!ps) return -WD_E_NOMEM;
    for (size_t i = 0; i < cnt; i++) {
      const json_t *m = json_array_get(mo, i);
      const json_t *id = json_object_get(m, "id");
      if (!json_is_string(id))
        return fail(r, "%s: %s", path, "`memberOf` entries need a string `id`");
      ps[i] = action_uid(r, ns, json_string_value(json_object_get(m, "type")),
                         json_string_value(id), json_string_length(id));
      if (!ps[i]) return -WD_E_NOMEM;
    }
    act->parents = ps;
    act->nparents = (uint32_t)cnt;
  }
  const json_t *ap = v ? json_object_get(v, "appliesTo") : NULL;
  act->has_applies = ap && !json_is_null(ap);
  if (act->has_applies) {
    int rc = name_list(r, ns, json_object_get(ap, "principalTypes"), path, &act->principals,
                       &act->nprincipals);
    if (!rc)
      rc = name_list(r, ns, json_object_get(ap, "resourceTypes"), path, &act->resources,
                     &act->nresources);
    if (rc) return rc;
    const json_t *ctx = json_object_get(ap, "context");
    if (ctx) {
      act->context = resolve(r, ns, ctx, path, 0);
      if (act->context && act->context->kind != CEDAR__T_RECORD)
        fail(r, "%s: %s", path, "`context` must be a record type");
    }
  }
  if (!act->context || act->context->kind != CEDAR__T_RECORD) {
    cedar__type *empty = wd_arena_calloc(r->a, 1, sizeof *empty);
    if (!empty) return -WD_E_NOMEM;
    empty->kind = CEDAR__T_RECORD;
    act->context = empty;
  }
  return 0;
}

static size_t uid_key(const cedar__uid *u, char *buf, size_t cap) {
  size_t n = (size_t)u->type.n + 1 + u->id.n;
  if (n > cap) return 0;
  memcpy(buf, u->type.p, u->type.n);
  buf[u->type.n] = '\0';
  memcpy(buf + u->type.n + 1, u->id.p, u->id.n);
  return n;
}

static int index_schema(resolver *r, cedar_schema *s) {
  r->decl = NULL;
  for (uint32_t i = 0; i < s->nentities; i++) {
    cedar__sentity *e = &s->entities[i];
    if (wd_map_put(s->entity_by_name, e->name.p, e->name.n, e)) return -WD_E_NOMEM;
  }
  for (uint32_t i = 0; i < s->nactions; i++) {
    cedar__saction *a = &s->actions[i];
    size_t n = (size_t)a->uid->type.n + 1 + a->uid->id.n;
    char *key = wd_arena_alloc(r->a, n);
    if (!key) return -WD_E_NOMEM;
    uid_key(a->uid, key, n);
    if (wd_map_add(s->action_by_key, key, n, a))
      fail(r, "action `%.*s` is declared twice", (int)a->uid->id.n, a->uid->id.p);
  }
  for (uint32_t i = 0; i < s->nactions; i++) {
    cedar__saction *a = &s->actions[i];
    for (uint32_t j = 0; j < a->nparents; j++) {
      if (!cedar__schema_action(s, a->parents[j]))
        fail(r, "action `%s`: member of undeclared action `%s`",
             wd_arena_strndup(r->a, a->uid->id.p, a->uid->id.n),
             wd_arena_strndup(r->a, a->parents[j]->id.p, a->parents[j]->id.n));
    }
  }
  return 0;
}

const cedar__sentity *cedar__schema_entity(const cedar_schema *s, cedar__str name) {
  return s ? wd_map_get(s->entity_by_name, name.p, name.n) : NULL;
}

const cedar__saction *cedar__schema_action(const cedar_schema *s, const cedar__uid *uid) {
  char buf[4096];
  size_t n = s ? uid_key(uid, buf, sizeof buf) : 0;
  return n ? wd_map_get(s->action_by_key, buf, n) : NULL;
}

void cedar_schema_free(cedar_schema *s) {
  if (!s) return;
  wd_map_free(s->entity_by_name);
  wd_map_free(s->action_by_key);
  wd_arena_free(s->arena);
  wd_free(s);
}

int cedar__schema_build(const json_t *root, cedar_schema **out, cedar_diags *diags) {
  return cedar__schema_build_loc(root, NULL, out, diags);
}

int cedar__schema_build_loc(const json_t *root, const cedar__schema_loc *loc, cedar_schema **out,
                            cedar_diags *diags) {
  *out = NULL;
  if (!json_is_object(root))
    return cedar__diag(diags, -WD_E_VALIDATE, "schema: expected an object of namespaces");
  resolver r = {0};
  r.diags = diags;
  r.loc = loc;
  int rc = -WD_E_NOMEM;
  cedar_schema *s = wd_calloc(1, sizeof *s);
  if (!s) return rc;
  s->arena = wd_arena_new(WD_LIMIT_JSON_BYTES);
  s->entity_by_name = wd_map_new();
  s->action_by_key = wd_map_new();
  r.a = s->arena;
  r.entities = wd_map_new();
  r.commons_raw = wd_map_new();
  r.commons_ns = wd_map_new();
  r.commons_done = wd_map_new();
  if (!s->arena || !s->entity_by_name || !s->action_by_key || !r.entities || !r.commons_raw ||
      !r.commons_ns || !r.commons_done)
    goto out;
  if ((rc = collect(&r, root))) goto out;
  check_shadowing(&r, root);
  /* Resolve every common type, used or not, so a broken one is reported. */
  size_t it = 0;
  const void *ck;
  size_t cklen;
  while (wd_map_next(r.commons_raw, &it, &ck, &cklen, NULL)) {
    char path[300];
    snprintf(path, sizeof path, "common type `%.*s`", (int)cklen, (const char *)ck);
    r.decl = wd_map_get(r.commons_raw, ck, cklen);
    (void)resolve_common(&r, ck, path, 0);
  }
  size_t ne = 0, na = 0;
  const char *ns;
  const json_t *body;
  json_object_foreach((json_t *)(uintptr_t)root, ns, body) {
    ne += json_object_size(json_object_get(body, "entityTypes"));
    na += json_object_size(json_object_get(body, "actions"));
  }
  rc = -WD_E_NOMEM;
  s->entities = wd_arena_calloc(s->arena, ne ? ne : 1, sizeof *s->entities);
  s->actions = wd_arena_calloc(s->arena, na ? na : 1, sizeof *s->actions);
  if (!s->entities || !s->actions) goto out;
  json_object_foreach((json_t *)(uintptr_t)root, ns, body) {
    const char *k;
    const json_t *v;
    json_t *ets = json_object_get(body, "entityTypes");
    json_object_foreach(ets, k, v) {
      if ((rc = build_entity(&r, ns, k, v, &s->entities[s->nentities++])) == -WD_E_NOMEM) goto out;
    }
    json_t *acts = json_object_get(body, "actions");
    size_t klen;
    json_object_keylen_foreach(acts, k, klen, v) {
      if ((rc = build_action(&r, ns, k, klen, v, &s->actions[s->nactions++])) == -WD_E_NOMEM)
        goto out;
    }
  }
  if ((rc = index_schema(&r, s))) goto out;
  rc = r.errors ? -WD_E_VALIDATE : 0;
out:
  wd_map_free(r.entities);
  wd_map_free(r.commons_raw);
  wd_map_free(r.commons_ns);
  wd_map_free(r.commons_done);
  if (rc) {
    cedar_schema_free(s);
    return rc;
  }
  *out = s;
  return 0;
}

int cedar_schema_from_json(const char *json, size_t len, cedar_schema **out, cedar_diags *diags) {
  json_t *root = NULL;
  *out = NULL;
  int rc = cedar__json_load(json, len, &root, diags);
  if (rc) return rc;
  rc = cedar__schema_build(root, out, diags);
  json_decref(root);
  return rc;
}

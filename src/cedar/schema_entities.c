/* SPDX-License-Identifier: Apache-2.0
 *
 * Schema-directed reading of Cedar JSON values and the conformance of
 * entities to a schema. With a schema, the JSON format is read by the
 * declared types: {"type","id"} is an entity reference where an entity is
 * expected, and "10.0.0.1" is an ipaddr where an ipaddr is expected. Every
 * value is then checked against its type. The untyped value format is
 * json.c's; request checks are schema_request.c's.
 */
#include <stddef.h>
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_schema_ent.h"
#include "json_path.h"

typedef struct tconv {
  wd_arena *a;
  const cedar_schema *s;
  cedar_diags *d;
  const char *who; /* "" or " (in ...)" */
  cedar__jpath path;
} tconv;

/* ---- names for messages --------------------------------------------- */

static void type_name(wd_buf *b, const cedar__type *t, uint32_t depth) {
  int rc = 0;
  if (depth > 4) {
    rc = wd_buf_adds(b, "..");
    (void)rc;
    return;
  }
  switch (t->kind) {
  case CEDAR__T_BOOL: rc = wd_buf_adds(b, "Bool"); break;
  case CEDAR__T_LONG: rc = wd_buf_adds(b, "Long"); break;
  case CEDAR__T_STRING: rc = wd_buf_adds(b, "String"); break;
  case CEDAR__T_ENTITY:
  case CEDAR__T_EXT: rc = wd_buf_add(b, t->name.p, t->name.n); break;
  case CEDAR__T_SET:
    rc = wd_buf_adds(b, "Set<");
    type_name(b, t->elem, depth + 1);
    rc = wd_buf_addc(b, '>');
    break;
  case CEDAR__T_RECORD:
    rc = wd_buf_adds(b, "{");
    for (uint32_t i = 0; i < t->nattrs && i < 4; i++) {
      rc = wd_buf_addf(b, "%s%.*s%s: ", i ? ", " : "", (int)t->attrs[i].name.n, t->attrs[i].name.p,
                       t->attrs[i].required ? "" : "?");
      type_name(b, t->attrs[i].type, depth + 1);
    }
    rc = wd_buf_adds(b, t->nattrs > 4 ? ", ..}" : "}");
    break;
  }
  (void)rc; /* a clipped name is still a useful message */
}

static void val_text(wd_buf *b, const cedar__val *v) {
  if (v->kind == CEDAR__V_ENTITY) {
    int rc = wd_buf_addf(b, "entity of type `%.*s` ", (int)v->u.uid->type.n, v->u.uid->type.p);
    (void)rc;
  } else {
    int rc = wd_buf_addf(b, "%s ", cedar__vkind_name(v->kind));
    (void)rc;
  }
  int rc = cedar__val_print(b, v);
  (void)rc;
}

static int mismatch(tconv *c, const cedar__type *t, const cedar__val *v) {
  wd_buf tb, vb;
  wd_buf_init(&tb, 96);
  wd_buf_init(&vb, 96);
  type_name(&tb, t, 0);
  val_text(&vb, v);
  int rc = cedar__diag(c->d, -WD_E_JSON, "%s%s: type mismatch: expected %s, found %s", c->path.buf,
                       c->who, wd_buf_str(&tb) ? wd_buf_str(&tb) : "?",
                       wd_buf_str(&vb) ? wd_buf_str(&vb) : "?");
  wd_buf_free(&tb);
  wd_buf_free(&vb);
  return rc;
}

/* ---- enum entities ---------------------------------------------------- */

int cedar__schema_enum_ok(const cedar__sentity *se, cedar__str id) {
  if (!se || !se->is_enum) return 1;
  for (uint32_t i = 0; i < se->nenum; i++)
    if (cedar__str_eq(se->enum_ids[i], id)) return 1;
  return 0;
}

static int enum_error(cedar_diags *d, const char *path, const char *who, const cedar__uid *u) {
  return cedar__diag(
      d, -WD_E_JSON, "%s%s: entity type `%.*s` is an enumeration and `%.*s` is not one of its ids",
      path, who, (int)u->type.n, u->type.p, u->id.n > 64 ? 64 : (int)u->id.n, u->id.p);
}

/* ---- typed conversion ------------------------------------------------- */

static int tconv_val(tconv *c, const json_t *j, const cedar__type *t, uint32_t depth,
                     cedar__val *out);

static int untyped(tconv *c, const json_t *j, cedar__val *out) {
  return cedar__json_val(c->a, j, c->path.buf, out, c->d);
}

/* Each extension type, its constructor and the kind of its values. */
static int ext_ctor(const cedar__type *t, cedar__fn *out, cedar__vkind *kind) {
  static const struct {
    const char *name;
    cedar__fn fn;
    cedar__vkind kind;
  } map[] = {{"decimal", CEDAR__F_DECIMAL, CEDAR__V_DECIMAL},
             {"ipaddr", CEDAR__F_IP, CEDAR__V_IPADDR},
             {"datetime", CEDAR__F_DATETIME, CEDAR__V_DATETIME},
             {"duration", CEDAR__F_DURATION, CEDAR__V_DURATION}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
    if (cedar__str_eq(t->name, cedar__cstr(map[i].name))) {
      *out = map[i].fn;
      *kind = map[i].kind;
      return 0;
    }
  }
  return -1;
}

const char *cedar__schema_ext_fn(const cedar__type *t) {
  cedar__fn f;
  cedar__vkind kind;
  return ext_ctor(t, &f, &kind) == 0 ? cedar__fn_table[f].name : NULL;
}

static int unknown_ext(cedar_diags *d, const char *path, const cedar__type *t) {
  return cedar__diag(d, -WD_E_INTERNAL, "%s: unknown extension type `%.*s`", path, (int)t->name.n,
                     t->name.p);
}

int cedar__schema_ext_literal(wd_arena *a, const cedar__type *t, cedar__str lit, const char *path,
                              const char *who, cedar__val *out, cedar_diags *d) {
  cedar__fn f;
  cedar__vkind kind;
  if (ext_ctor(t, &f, &kind) != 0) return unknown_ext(d, path, t);
  cedar__val arg;
  memset(&arg, 0, sizeof arg);
  arg.kind = CEDAR__V_STRING;
  arg.u.s = lit;
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  cx.arena = a;
  const cedar__fninfo *fi = &cedar__fn_table[f];
  if (!fi->impl)
    return cedar__diag(d, -WD_E_INTERNAL, "%s: extension `%s` is not available", path, fi->name);
  int rc = fi->impl(&cx, &arg, out);
  if (rc == -WD_E_EVAL)
    return cedar__diag(d, -WD_E_EVAL, "%s%s: %s", path, who ? who : "",
                       cx.err[0] ? cx.err : "invalid extension literal");
  return rc;
}

/* The reference reads an extension-typed value in three spellings: the
 * {"__extn": ..} escape, the bare {"fn", "arg"} escape, and the literal's
 * string alone, which goes through the type's constructor. */
static int conv_ext(tconv *c, const json_t *j, const cedar__type *t, cedar__val *out) {
  cedar__fn f;
  cedar__vkind kind;
  int rc;
  if (ext_ctor(t, &f, &kind) != 0) return unknown_ext(c->d, c->path.buf, t);
  if (json_is_string(j)) {
    size_t n = json_string_length(j);
    if (n > UINT32_MAX) return cedar__diag(c->d, -WD_E_TOOBIG, "%s: string too long", c->path.buf);
    cedar__str lit = {json_string_value(j), (uint32_t)n};
    return cedar__schema_ext_literal(c->a, t, lit, c->path.buf, c->who, out, c->d);
  }
  if (json_is_object(j) && json_object_size(j) == 2 && json_is_string(json_object_get(j, "fn")) &&
      json_object_get(j, "arg")) {
    json_t *wrap = json_pack("{sO}", "__extn", (json_t *)(uintptr_t)j);
    if (!wrap) return -WD_E_NOMEM;
    rc = untyped(c, wrap, out);
    json_decref(wrap);
  } else {
    rc = untyped(c, j, out);
  }
  if (rc) return rc;
  return out->kind == kind ? 0 : mismatch(c, t, out);
}

static int conv_entity(tconv *c, const json_t *j, const cedar__type *t, cedar__val *out) {
  const json_t *inner = j;
  if (json_is_object(j) && json_object_size(j) == 1 && json_object_get(j, "__entity"))
    inner = json_object_get(j, "__entity");
  if (json_is_object(inner) && json_is_string(json_object_get(inner, "type")) &&
      json_is_string(json_object_get(inner, "id"))) {
    const cedar__uid *u;
    int rc = cedar__json_uid(c->a, inner, c->path.buf, &u, c->d);
    if (rc) return rc;
    memset(out, 0, sizeof *out);
    out->kind = CEDAR__V_ENTITY;
    out->u.uid = u;
  } else {
    int rc = untyped(c, j, out);
    if (rc) return rc;
  }
  if (out->kind != CEDAR__V_ENTITY || !cedar__str_eq(out->u.uid->type, t->name))
    return mismatch(c, t, out);
  if (!cedar__schema_enum_ok(cedar__schema_entity(c->s, t->name), out->u.uid->id))
    return enum_error(c->d, c->path.buf, c->who, out->u.uid);
  return 0;
}

static int conv_set(tconv *c, const json_t *j, const cedar__type *t, uint32_t depth,
                    cedar__val *out) {
  if (!json_is_array(j)) {
    int rc = untyped(c, j, out);
    return rc ? rc : mismatch(c, t, out);
  }
  size_t n = json_array_size(j);
  if (n > UINT32_MAX) return cedar__diag(c->d, -WD_E_TOOBIG, "%s: set too large", c->path.buf);
  if (n == 0) return cedar__set_make(c->a, NULL, 0, out);
  cedar__val *tmp = wd_malloc(n * sizeof *tmp);
  if (!tmp) return -WD_E_NOMEM;
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    size_t saved = cedar__jpath_index(&c->path, i);
    rc = tconv_val(c, json_array_get(j, i), t->elem, depth + 1, &tmp[i]);
    cedar__jpath_pop(&c->path, saved);
  }
  if (rc == 0) rc = cedar__set_make(c->a, tmp, (uint32_t)n, out);
  wd_free(tmp);
  return rc;
}

_Static_assert(offsetof(cedar__tattr, name) == 0, "cedar__str_find reads the name first");

static const cedar__tattr *find_attr(const cedar__type *t, cedar__str name) {
  uint32_t i;
  return cedar__str_find(t->attrs, sizeof *t->attrs, t->nattrs, name, &i) ? &t->attrs[i] : NULL;
}

static int conv_record(tconv *c, const json_t *j, const cedar__type *t, uint32_t depth,
                       cedar__val *out) {
  if (!json_is_object(j)) {
    int rc = untyped(c, j, out);
    return rc ? rc : mismatch(c, t, out);
  }
  size_t n = json_object_size(j);
  if (n > UINT32_MAX) return cedar__diag(c->d, -WD_E_TOOBIG, "%s: record too large", c->path.buf);
  cedar__str *keys = wd_malloc((n ? n : 1) * sizeof *keys);
  cedar__val *vals = wd_malloc((n ? n : 1) * sizeof *vals);
  int rc = (keys && vals) ? 0 : -WD_E_NOMEM;
  uint32_t i = 0;
  const char *k;
  size_t klen;
  json_t *v;
  json_object_keylen_foreach((json_t *)(uintptr_t)j, k, klen, v) {
    if (rc || i >= n) break;
    const cedar__tattr *ta = find_attr(t, (cedar__str){k, (uint32_t)klen});
    size_t saved = cedar__jpath_key(&c->path, k, klen);
    if (!ta && !t->open) {
      rc = cedar__diag(c->d, -WD_E_JSON,
                       "%s%s: attribute `%.*s` should not exist according to the schema",
                       c->path.buf, c->who, klen > 64 ? 64 : (int)klen, k);
    } else {
      char *kc = wd_arena_memdup(c->a, k, klen + 1);
      if (!kc) rc = -WD_E_NOMEM;
      keys[i].p = kc;
      keys[i].n = (uint32_t)klen;
      if (rc == 0) rc = tconv_val(c, v, ta ? ta->type : NULL, depth + 1, &vals[i]);
    }
    cedar__jpath_pop(&c->path, saved);
    i++;
  }
  for (uint32_t a = 0; a < t->nattrs && rc == 0; a++) {
    const cedar__tattr *ta = &t->attrs[a];
    if (ta->required && !json_object_getn(j, ta->name.p, ta->name.n))
      rc = cedar__diag(c->d, -WD_E_JSON, "%s%s: required attribute `%.*s` is missing", c->path.buf,
                       c->who, (int)ta->name.n, ta->name.p);
  }
  if (rc == 0) rc = cedar__rec_make(c->a, keys, vals, i, out, NULL);
  wd_free(keys);
  wd_free(vals);
  return rc;
}

static int tconv_val(tconv *c, const json_t *j, const cedar__type *t, uint32_t depth,
                     cedar__val *out) {
  if (depth > WD_LIMIT_JSON_DEPTH)
    return cedar__diag(c->d, -WD_E_TOOBIG, "%s: value nested deeper than %u levels", c->path.buf,
                       WD_LIMIT_JSON_DEPTH);
  if (!t) return untyped(c, j, out);
  int rc;
  switch (t->kind) {
  case CEDAR__T_BOOL:
    rc = untyped(c, j, out);
    return rc ? rc : out->kind == CEDAR__V_BOOL ? 0 : mismatch(c, t, out);
  case CEDAR__T_LONG:
    rc = untyped(c, j, out);
    return rc ? rc : out->kind == CEDAR__V_LONG ? 0 : mismatch(c, t, out);
  case CEDAR__T_STRING:
    rc = untyped(c, j, out);
    return rc ? rc : out->kind == CEDAR__V_STRING ? 0 : mismatch(c, t, out);
  case CEDAR__T_ENTITY: return conv_entity(c, j, t, out);
  case CEDAR__T_EXT: return conv_ext(c, j, t, out);
  case CEDAR__T_SET: return conv_set(c, j, t, depth, out);
  case CEDAR__T_RECORD: return conv_record(c, j, t, depth, out);
  }
  return -WD_E_INTERNAL;
}

int cedar__schema_json_val(wd_arena *a, const cedar_schema *s, const json_t *j,
                           const cedar__type *t, const char *path, const char *who, cedar__val *out,
                           cedar_diags *d) {
  tconv c;
  char whobuf[160] = "";
  c.a = a;
  c.s = s;
  c.d = d;
  if (who && who[0]) {
    wd_buf b;
    wd_buf_init(&b, sizeof whobuf - 1);
    if (wd_buf_addf(&b, " (%s)", who) == 0 && wd_buf_str(&b))
      memcpy(whobuf, wd_buf_str(&b), wd_buf_len(&b) + 1);
    wd_buf_free(&b);
  }
  c.who = whobuf;
  cedar__jpath_init(&c.path, path);
  return tconv_val(&c, j, t, 0, out);
}

/* ---- entities --------------------------------------------------------- */

int cedar__schema_is_action_type(cedar__str type) {
  static const char act[] = "Action";
  uint32_t n = (uint32_t)(sizeof act - 1);
  if (type.n < n || memcmp(type.p + type.n - n, act, n) != 0) return 0;
  return type.n == n || (type.n >= n + 2 && type.p[type.n - n - 1] == ':');
}

static int uid_str(const cedar__uid *u, char *out, size_t cap) {
  wd_buf b;
  wd_buf_init(&b, cap - 1);
  int rc = cedar__uid_print(&b, u);
  size_t n = wd_buf_str(&b) ? wd_buf_len(&b) : 0;
  memcpy(out, n ? wd_buf_str(&b) : "", n);
  out[n] = '\0';
  wd_buf_free(&b);
  return rc;
}

/* Marks every ancestor of sa in seen (indexes into s->actions) and
 * returns how many there are. The walk is iterative and visits each
 * action once, so hierarchies of any depth (or a cycle) are safe. */
static uint32_t action_closure(const cedar_schema *s, const cedar__saction *sa, uint8_t *seen,
                               uint32_t *stack) {
  uint32_t count = 0, sp = 0;
  stack[sp++] = (uint32_t)(sa - s->actions);
  while (sp) {
    const cedar__saction *cur = &s->actions[stack[--sp]];
    for (uint32_t k = 0; k < cur->nparents; k++) {
      const cedar__saction *p = cedar__schema_action(s, cur->parents[k]);
      if (!p) continue;
      uint32_t i = (uint32_t)(p - s->actions);
      if (seen[i]) continue;
      seen[i] = 1;
      count++;
      stack[sp++] = i;
    }
  }
  return count;
}

int cedar__schema_check_action(const cedar_schema *s, const cedar__entity *e,
                               const cedar__uid *const *anc, uint32_t nanc, cedar_diags *d) {
  char u[128];
  (void)uid_str(e->uid, u, sizeof u);
  const cedar__saction *sa = cedar__schema_action(s, e->uid);
  if (!sa)
    return cedar__diag(d, -WD_E_JSON,
                       "entities: found action entity `%s`, but it is not declared as an action "
                       "in the schema",
                       u);
  uint8_t *seen = wd_calloc(s->nactions, 1);
  uint32_t *stack = wd_malloc(s->nactions * sizeof *stack);
  int rc = seen && stack ? 0 : -WD_E_NOMEM;
  if (rc == 0) {
    /* Equal sets: as many declared ancestors as found ones, and each found
     * one declared (the found ones are distinct). */
    int same =
        e->attrs.u.rec.n == 0 && e->tags.u.rec.n == 0 && action_closure(s, sa, seen, stack) == nanc;
    for (uint32_t i = 0; same && i < nanc; i++) {
      const cedar__saction *p = cedar__schema_action(s, anc[i]);
      same = p && seen[p - s->actions];
    }
    if (!same)
      rc = cedar__diag(d, -WD_E_JSON,
                       "entities: definition of action `%s` does not match its schema "
                       "declaration (it must have no attributes, and its ancestors must be "
                       "the declared ones)",
                       u);
  }
  wd_free(seen);
  wd_free(stack);
  return rc;
}

int cedar__schema_check_entity(const cedar_schema *s, const cedar__entity *e, const char *path,
                               cedar_diags *d) {
  char u[128];
  /* Actions are checked once the hierarchy is closed. */
  if (cedar__schema_is_action_type(e->uid->type) && !cedar__schema_entity(s, e->uid->type))
    return 0;
  const cedar__sentity *se = cedar__schema_entity(s, e->uid->type);
  (void)uid_str(e->uid, u, sizeof u);
  if (!se)
    return cedar__diag(d, -WD_E_JSON,
                       "%s: entity `%s` has type `%.*s`, which is not declared in the schema", path,
                       u, (int)e->uid->type.n, e->uid->type.p);
  if (!cedar__schema_enum_ok(se, e->uid->id)) return enum_error(d, path, "", e->uid);
  for (uint32_t i = 0; i < e->nparents; i++) {
    const cedar__uid *p = e->parents[i];
    int ok = 0;
    for (uint32_t k = 0; k < se->nparents && !ok; k++)
      ok = cedar__str_eq(se->parents[k], p->type);
    if (!ok) {
      char pu[128];
      (void)uid_str(p, pu, sizeof pu);
      return cedar__diag(d, -WD_E_JSON,
                         "%s.parents[%u]: `%s` is not allowed to have an ancestor of type `%.*s` "
                         "according to the schema (parent `%s`)",
                         path, i, u, (int)p->type.n, p->type.p, pu);
    }
    if (!cedar__schema_enum_ok(cedar__schema_entity(s, p->type), p->id))
      return enum_error(d, path, "", p);
  }
  return 0;
}

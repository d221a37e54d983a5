/* SPDX-License-Identifier: Apache-2.0
 *
 * A request read straight from its JSON text against the schema, with no
 * JSON tree in between. Building and freeing a tree cost more than the
 * authorization itself for a governed tool call. This reader takes only
 * the plain spelling of a valid request. Anything else (another key
 * order, an escape form, an undeclared attribute, any error) makes it
 * decline, and request.c reads the text the general way, which is also
 * where every error message comes from. So this file never words an
 * error, and a request it accepts is the one the general reader would
 * have built.
 */
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_schema_ent.h"
#include "json_lex.h"
#include "json_path.h"

typedef struct rt {
  cedar__jlex x;
  wd_arena *a;
  const cedar_schema *s;
} rt;

#define DECLINE CEDAR__DECLINE

/* Declines on a lexical error, keeps out of memory. */
static int lexed(rt *p, int r) {
  if (r == 0) return 0;
  return p->x.err == cedar__jlex_oom ? -WD_E_NOMEM : DECLINE;
}

static int peek(rt *p, char c) {
  cedar__jlex_skip_ws(&p->x);
  return p->x.i < p->x.n && p->x.s[p->x.i] == c;
}

static int take(rt *p, char c) {
  if (!peek(p, c)) return 0;
  p->x.i++;
  return 1;
}

/* A string at the cursor into the scratch buffer. */
static int str(rt *p) {
  if (!take(p, '"')) return DECLINE;
  return lexed(p, cedar__jlex_string(&p->x));
}

/* A key and its colon; the key is left in the scratch buffer. */
static int key(rt *p) {
  int rc = str(p);
  if (rc) return rc;
  return take(p, ':') ? 0 : DECLINE;
}

static int scratch_is(const rt *p, const char *w) {
  size_t n = strlen(w);
  return p->x.sbn == n && memcmp(p->x.sb, w, n) == 0;
}

static int arena_str(rt *p, cedar__str *out) {
  char *c = wd_arena_strndup(p->a, p->x.sb ? p->x.sb : "", p->x.sbn);
  if (!c) return -WD_E_NOMEM;
  out->p = c;
  out->n = (uint32_t)p->x.sbn;
  return 0;
}

/* {"type": T, "id": I} in either order, or the same inside
 * {"__entity": ..}; nothing else. */
static int uid_obj(rt *p, int escaped, const cedar__uid **out) {
  cedar__str parts[2] = {{NULL, 0}, {NULL, 0}}; /* type, id */
  int rc;
  if (!take(p, '{')) return DECLINE;
  if ((rc = key(p)) != 0) return rc;
  if (!escaped && scratch_is(p, "__entity")) {
    if ((rc = uid_obj(p, 1, out)) != 0) return rc;
    return take(p, '}') ? 0 : DECLINE;
  }
  for (int k = 0;; k++) {
    int which = scratch_is(p, "type") ? 0 : scratch_is(p, "id") ? 1 : -1;
    if (which < 0 || parts[which].p) return DECLINE;
    if ((rc = str(p)) != 0 || (rc = arena_str(p, &parts[which])) != 0) return rc;
    if (k == 1) break;
    if (!take(p, ',')) return DECLINE;
    if ((rc = key(p)) != 0) return rc;
  }
  if (!take(p, '}') || cedar__json_name_problem(parts[0].p, parts[0].n)) return DECLINE;
  /* The parts are arena copies already: cedar__uid_new would copy again. */
  cedar__uid *u = wd_arena_alloc(p->a, sizeof *u);
  if (!u) return -WD_E_NOMEM;
  u->type = parts[0];
  u->id = parts[1];
  *out = u;
  return 0;
}

static int val(rt *p, const cedar__type *t, uint32_t depth, cedar__val *out);

/* The literal's string alone, or {"__extn": {"fn": F, "arg": "literal"}}
 * (either order) where F is the type's own constructor. */
static int ext_val(rt *p, const cedar__type *t, cedar__val *out) {
  cedar__str lit = {NULL, 0};
  int rc;
  if (take(p, '{')) {
    const char *ctor = cedar__schema_ext_fn(t);
    int have_fn = 0;
    if ((rc = key(p)) != 0) return rc;
    if (!ctor || !scratch_is(p, "__extn") || !take(p, '{')) return DECLINE;
    for (int k = 0; k < 2; k++) {
      if (k && !take(p, ',')) return DECLINE;
      if ((rc = key(p)) != 0) return rc;
      if (scratch_is(p, "fn") && !have_fn) {
        if ((rc = str(p)) != 0) return rc;
        if (!scratch_is(p, ctor)) return DECLINE;
        have_fn = 1;
      } else if (scratch_is(p, "arg") && !lit.p) {
        if ((rc = str(p)) != 0 || (rc = arena_str(p, &lit)) != 0) return rc;
      } else {
        return DECLINE;
      }
    }
    if (!take(p, '}') || !take(p, '}')) return DECLINE;
  } else {
    if ((rc = str(p)) != 0) return rc;
    lit = (cedar__str){p->x.sb ? p->x.sb : "", (uint32_t)p->x.sbn};
  }
  rc = cedar__schema_ext_literal(p->a, t, lit, "", NULL, out, NULL);
  return rc == -WD_E_NOMEM ? rc : rc ? DECLINE : 0;
}

static int set_val(rt *p, const cedar__type *t, uint32_t depth, cedar__val *out) {
  cedar__val *tmp = NULL;
  uint32_t n = 0, cap = 0;
  int rc = 0;
  if (!take(p, '[')) return DECLINE;
  if (!take(p, ']')) {
    do {
      if (n == cap) {
        uint32_t nc = cap ? cap * 2 : 8;
        cedar__val *g = wd_realloc(tmp, (size_t)nc * sizeof *g);
        if (!g) {
          rc = -WD_E_NOMEM;
          goto out;
        }
        tmp = g;
        cap = nc;
      }
      if ((rc = val(p, t->elem, depth + 1, &tmp[n])) != 0) goto out;
      n++;
    } while (take(p, ','));
    if (!take(p, ']')) {
      rc = DECLINE;
      goto out;
    }
  }
  rc = cedar__set_make(p->a, tmp, n, out);
out:
  wd_free(tmp);
  return rc;
}

/* Every key a declared attribute, once; every required one present. The
 * declared attributes are sorted as records are, so the record is laid
 * out in their order. */
static int rec_val(rt *p, const cedar__type *t, uint32_t depth, cedar__val *out) {
  uint32_t na = t->nattrs, n = 0;
  /* Records of a request context are small; larger ones go to the heap. */
  cedar__val vbuf[16];
  unsigned char sbuf[16] = {0};
  int small = na <= 16;
  cedar__val *vals = small ? vbuf : wd_calloc(na, sizeof *vals);
  unsigned char *seen = small ? sbuf : wd_calloc(na, 1);
  int rc = vals && seen ? 0 : -WD_E_NOMEM;
  if (!rc && !take(p, '{')) rc = DECLINE;
  if (rc) goto out;
  if (!take(p, '}')) {
    do {
      uint32_t at;
      if ((rc = key(p)) != 0) goto out;
      cedar__str k = {p->x.sb ? p->x.sb : "", (uint32_t)p->x.sbn};
      if (!cedar__str_find(t->attrs, sizeof *t->attrs, na, k, &at) || seen[at]) {
        rc = DECLINE;
        goto out;
      }
      seen[at] = 1;
      n++;
      if ((rc = val(p, t->attrs[at].type, depth + 1, &vals[at])) != 0) goto out;
    } while (take(p, ','));
    if (!take(p, '}')) {
      rc = DECLINE;
      goto out;
    }
  }
  cedar__str *ks = n ? wd_arena_alloc(p->a, (size_t)n * sizeof *ks) : NULL;
  cedar__val *vs = n ? wd_arena_alloc(p->a, (size_t)n * sizeof *vs) : NULL;
  if (n && (!ks || !vs)) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  for (uint32_t i = 0, j = 0; i < na; i++) {
    if (!seen[i]) {
      if (t->attrs[i].required) {
        rc = DECLINE;
        goto out;
      }
      continue;
    }
    char *c = wd_arena_strndup(p->a, t->attrs[i].name.p, t->attrs[i].name.n);
    if (!c) {
      rc = -WD_E_NOMEM;
      goto out;
    }
    ks[j] = (cedar__str){c, t->attrs[i].name.n};
    vs[j++] = vals[i];
  }
  memset(out, 0, sizeof *out);
  out->kind = CEDAR__V_RECORD;
  out->u.rec.k = ks;
  out->u.rec.v = vs;
  out->u.rec.n = n;
out:
  if (!small) {
    wd_free(vals);
    wd_free(seen);
  }
  return rc;
}

static int val(rt *p, const cedar__type *t, uint32_t depth, cedar__val *out) {
  int rc;
  if (!t || depth > WD_LIMIT_JSON_DEPTH) return DECLINE;
  memset(out, 0, sizeof *out);
  cedar__jlex_skip_ws(&p->x);
  switch (t->kind) {
  case CEDAR__T_BOOL:
    out->kind = CEDAR__V_BOOL;
    if (cedar__jlex_lit(&p->x, "true"))
      out->u.b = 1;
    else if (!cedar__jlex_lit(&p->x, "false"))
      return DECLINE;
    return 0;
  case CEDAR__T_LONG: {
    double dv;
    int real;
    if ((rc = lexed(p, cedar__jlex_number(&p->x, &out->u.i, &dv, &real))) != 0) return rc;
    out->kind = CEDAR__V_LONG;
    return real ? DECLINE : 0;
  }
  case CEDAR__T_STRING:
    if ((rc = str(p)) != 0) return rc;
    out->kind = CEDAR__V_STRING;
    return arena_str(p, &out->u.s);
  case CEDAR__T_ENTITY: {
    const cedar__uid *u;
    if ((rc = uid_obj(p, 0, &u)) != 0) return rc;
    if (!cedar__str_eq(u->type, t->name) ||
        !cedar__schema_enum_ok(cedar__schema_entity(p->s, t->name), u->id))
      return DECLINE;
    out->kind = CEDAR__V_ENTITY;
    out->u.uid = u;
    return 0;
  }
  case CEDAR__T_EXT: return ext_val(p, t, out);
  case CEDAR__T_SET: return set_val(p, t, depth, out);
  case CEDAR__T_RECORD: return rec_val(p, t, depth, out);
  }
  return DECLINE;
}

/* A request uid: Cedar syntax in a string, or a uid object. */
static int req_uid(rt *p, cedar__val *out) {
  const cedar__uid *u = NULL;
  int rc;
  if (peek(p, '"')) {
    if ((rc = str(p)) != 0) return rc;
    rc = cedar__parse_uid(p->a, p->x.sb ? p->x.sb : "", p->x.sbn, &u, NULL);
    if (rc) return rc == -WD_E_NOMEM ? rc : DECLINE;
  } else if ((rc = uid_obj(p, 0, &u)) != 0) {
    return rc;
  }
  memset(out, 0, sizeof *out);
  out->kind = CEDAR__V_ENTITY;
  out->u.uid = u;
  return 0;
}

static int request(rt *p, cedar_request *rq) {
  static const char *const order[] = {"principal", "action", "resource", "context"};
  cedar__val *slot[] = {&rq->principal, &rq->action, &rq->resource};
  int rc;
  if (!take(p, '{')) return DECLINE;
  for (int k = 0; k < 4; k++) {
    if (k && !take(p, ',')) return DECLINE;
    if ((rc = key(p)) != 0) return rc;
    if (!scratch_is(p, order[k])) return DECLINE;
    if (k < 3) {
      if ((rc = req_uid(p, slot[k])) != 0) return rc;
      continue;
    }
    rc = cedar__schema_check_request(p->s, rq, NULL);
    if (rc) return rc == -WD_E_NOMEM ? rc : DECLINE;
    const cedar__type *t = cedar__schema_context_type(p->s, rq->action.u.uid, NULL);
    if (!t || t->kind != CEDAR__T_RECORD) return DECLINE;
    if ((rc = val(p, t, 0, &rq->context)) != 0) return rc;
  }
  if (!take(p, '}')) return DECLINE;
  cedar__jlex_skip_ws(&p->x);
  return p->x.i == p->x.n ? 0 : DECLINE;
}

int cedar__request_from_text(const char *json, size_t len, const cedar_schema *schema,
                             cedar_request **out) {
  *out = NULL;
  if (!json || !schema || len > WD_LIMIT_JSON_BYTES) return DECLINE;
  cedar_request *rq = cedar__request_alloc();
  if (!rq) return -WD_E_NOMEM;
  rt p;
  memset(&p, 0, sizeof p);
  p.x.s = json;
  p.x.n = len;
  p.a = rq->arena;
  p.s = schema;
  int rc = request(&p, rq);
  wd_free(p.x.sb);
  if (rc) {
    cedar_request_free(rq);
    return rc;
  }
  *out = rq;
  return 0;
}

static int same_val(const cedar__val *a, const cedar__val *b) {
  if (!cedar__val_eq(a, b)) return 0;
  wd_buf x, y;
  wd_buf_init(&x, WD_LIMIT_VALUE_BYTES);
  wd_buf_init(&y, WD_LIMIT_VALUE_BYTES);
  int same = cedar__val_print(&x, a) == 0 && cedar__val_print(&y, b) == 0 &&
             wd_buf_len(&x) == wd_buf_len(&y) &&
             memcmp(wd_buf_str(&x) ? wd_buf_str(&x) : "", wd_buf_str(&y) ? wd_buf_str(&y) : "",
                    wd_buf_len(&x)) == 0;
  wd_buf_free(&x);
  wd_buf_free(&y);
  return same;
}

int cedar__request_same(const cedar_request *a, const cedar_request *b) {
  return same_val(&a->principal, &b->principal) && same_val(&a->action, &b->action) &&
         same_val(&a->resource, &b->resource) && same_val(&a->context, &b->context);
}

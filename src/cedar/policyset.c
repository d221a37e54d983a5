/* SPDX-License-Identifier: Apache-2.0
 *
 * Policy sets: the builder that collects policies, templates and links,
 * and the immutable, reference-counted set it produces. Parsing belongs to
 * parse*.c and est.c, the scope index to index.c, decisions to authz.c.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_int.h"

/* Growable array of policy pointers. */
typedef struct plist {
  cedar__policy **v;
  uint32_t n, cap;
} plist;

struct cedar_psbuilder {
  wd_arena *arena; /* every policy and AST node added so far */
  plist policies;  /* static and linked */
  plist templates;
  wd_map *by_id;
  uint32_t next_index; /* N of the next default id policyN */
  uint32_t next_pos;   /* order of addition over everything */
};

static int plist_push(plist *l, cedar__policy *p) {
  if (l->n == l->cap) {
    uint32_t ncap = l->cap ? l->cap * 2 : 16;
    cedar__policy **nv = wd_realloc(l->v, (size_t)ncap * sizeof *nv);
    if (!nv) return -WD_E_NOMEM;
    l->v = nv;
    l->cap = ncap;
  }
  l->v[l->n++] = p;
  return 0;
}

static int builder_init(cedar_psbuilder *b) {
  memset(b, 0, sizeof *b);
  b->arena = wd_arena_new(WD_LIMIT_POLICYSET_BYTES);
  b->by_id = wd_map_new();
  return b->arena && b->by_id ? 0 : -WD_E_NOMEM;
}

static void builder_release(cedar_psbuilder *b) {
  wd_arena_free(b->arena);
  wd_map_free(b->by_id);
  wd_free(b->policies.v);
  wd_free(b->templates.v);
  memset(b, 0, sizeof *b);
}

cedar_psbuilder *cedar_psbuilder_new(void) {
  cedar_psbuilder *b = wd_malloc(sizeof *b);
  if (!b) return NULL;
  if (builder_init(b)) {
    builder_release(b);
    wd_free(b);
    return NULL;
  }
  return b;
}

void cedar_psbuilder_free(cedar_psbuilder *b) {
  if (!b) return;
  builder_release(b);
  wd_free(b);
}

wd_arena *cedar__psbuilder_arena(cedar_psbuilder *b) { return b ? b->arena : NULL; }

uint32_t cedar__psbuilder_next_index(const cedar_psbuilder *b) { return b ? b->next_index : 0; }

/* Public accessors hand out C strings, so ids and annotation values get
 * NUL-terminated copies in the builder arena. */
static int terminate(wd_arena *a, cedar__str *s) {
  char *c = wd_arena_strndup(a, s->p ? s->p : "", s->n);
  if (!c) return -WD_E_NOMEM;
  s->p = c;
  return 0;
}

static int normalize(cedar_psbuilder *b, cedar__policy *p) {
  if (terminate(b->arena, &p->id)) return -WD_E_NOMEM;
  if (p->nannots == 0) return 0;
  cedar__annot *an = wd_arena_memdup(b->arena, p->annots, (size_t)p->nannots * sizeof *an);
  if (!an) return -WD_E_NOMEM;
  for (uint32_t i = 0; i < p->nannots; i++)
    if (terminate(b->arena, &an[i].key) || terminate(b->arena, &an[i].val)) return -WD_E_NOMEM;
  p->annots = an;
  return 0;
}

static int dup_id(cedar_diags *diags, const cedar__policy *p) {
  cedar_diag g;
  memset(&g, 0, sizeof g);
  g.code = -WD_E_EXISTS;
  g.off = p->off;
  g.len = p->len;
  snprintf(g.msg, sizeof g.msg, "duplicate policy id `%.*s`", (int)(p->id.n > 200 ? 200 : p->id.n),
           p->id.p);
  snprintf(g.policy_id, sizeof g.policy_id, "%.*s", (int)(p->id.n > 63 ? 63 : p->id.n), p->id.p);
  return cedar__diag_push(diags, &g);
}

int cedar__psbuilder_add(cedar_psbuilder *b, cedar__policy *p, cedar_diags *diags) {
  if (!b || !p) return -WD_E_INVAL;
  if (b->policies.n + b->templates.n >= WD_LIMIT_POLICY_COUNT)
    return cedar__diag(diags, -WD_E_TOOBIG, "more than %u policies", WD_LIMIT_POLICY_COUNT);
  if (wd_map_get(b->by_id, p->id.p, p->id.n)) return dup_id(diags, p);
  int rc = normalize(b, p);
  if (rc) return rc;
  plist *l = p->is_template ? &b->templates : &b->policies;
  if ((rc = plist_push(l, p))) return rc;
  if ((rc = wd_map_add(b->by_id, p->id.p, p->id.n, p))) {
    l->n--;
    return rc;
  }
  p->pos = b->next_pos++;
  return 0;
}

/* Removes the last n additions (used to undo a partially added batch). */
static void unwind(cedar_psbuilder *b, cedar__policy **ps, uint32_t n) {
  for (uint32_t i = n; i-- > 0;) {
    plist *l = ps[i]->is_template ? &b->templates : &b->policies;
    l->n--;
    b->next_pos--;
  }
  /* wd_map has no delete: rebuild it from what remains. */
  wd_map *m = wd_map_new();
  if (!m) return;
  for (uint32_t i = 0; i < b->policies.n; i++)
    if (wd_map_add(m, b->policies.v[i]->id.p, b->policies.v[i]->id.n, b->policies.v[i])) break;
  for (uint32_t i = 0; i < b->templates.n; i++)
    if (wd_map_add(m, b->templates.v[i]->id.p, b->templates.v[i]->id.n, b->templates.v[i])) break;
  wd_map_free(b->by_id);
  b->by_id = m;
}

int cedar_psbuilder_add_text(cedar_psbuilder *b, const char *src, size_t len, cedar_diags *diags) {
  if (!b || (!src && len)) return -WD_E_INVAL;
  if (len > WD_LIMIT_POLICY_TEXT_BYTES)
    return cedar__diag(diags, -WD_E_TOOBIG, "policy text exceeds %u bytes",
                       WD_LIMIT_POLICY_TEXT_BYTES);
  cedar__policy **ps = NULL;
  uint32_t n = 0;
  int rc = cedar__parse_policies(b->arena, src ? src : "", len, b->next_index, &ps, &n, diags);
  /* Running out of memory says nothing about the text: never call it a
   * syntax error. */
  if (rc) return rc == -WD_E_NOMEM ? rc : -WD_E_PARSE;
  /* Keep the text so later diagnostics (validation) can give line and column. */
  const char *copy = n ? wd_arena_memdup(b->arena, src ? src : "", len ? len : 1) : NULL;
  if (n && !copy) return -WD_E_NOMEM;
  for (uint32_t i = 0; i < n; i++) {
    ps[i]->src = copy;
    ps[i]->srclen = (uint32_t)len;
  }
  /* All or nothing: check every id before adding any. */
  wd_map *batch = wd_map_new();
  if (!batch) return -WD_E_NOMEM;
  int bad = 0;
  for (uint32_t i = 0; i < n; i++) {
    int taken = wd_map_get(b->by_id, ps[i]->id.p, ps[i]->id.n) != NULL;
    if (!taken) {
      rc = wd_map_add(batch, ps[i]->id.p, ps[i]->id.n, ps[i]);
      if (rc && rc != -WD_E_EXISTS) {
        wd_map_free(batch);
        return rc;
      }
      taken = rc == -WD_E_EXISTS;
    }
    if (taken) {
      cedar_diag g;
      memset(&g, 0, sizeof g);
      g.code = -WD_E_PARSE;
      g.off = ps[i]->off;
      g.len = ps[i]->len;
      if (!cedar__diags_full(diags)) cedar__locate(src, len, g.off, &g.line, &g.col);
      snprintf(g.msg, sizeof g.msg, "duplicate policy id `%.*s`",
               (int)(ps[i]->id.n > 200 ? 200 : ps[i]->id.n), ps[i]->id.p);
      cedar__diag_push(diags, &g);
      bad = 1;
    }
  }
  wd_map_free(batch);
  if (bad) return -WD_E_PARSE;
  for (uint32_t i = 0; i < n; i++) {
    rc = cedar__psbuilder_add(b, ps[i], diags);
    if (rc) {
      unwind(b, ps, i);
      return rc == -WD_E_EXISTS ? -WD_E_PARSE : rc;
    }
  }
  b->next_index += n;
  return 0;
}

static int link_slot(cedar_psbuilder *b, const cedar__policy *t, cedar__slot slot, const char *text,
                     const cedar__uid **out, cedar_diags *diags) {
  const char *name = slot == CEDAR__SLOT_PRINCIPAL ? "?principal" : "?resource";
  int used = (slot == CEDAR__SLOT_PRINCIPAL ? t->principal.slot : t->resource.slot) == slot;
  *out = NULL;
  if (used && !text)
    return cedar__diag(diags, -WD_E_INVAL, "template `%s` needs a value for %s", t->id.p, name);
  if (!used && text)
    return cedar__diag(diags, -WD_E_INVAL, "template `%s` has no slot %s", t->id.p, name);
  if (!text) return 0;
  int rc = cedar__parse_uid(b->arena, text, strlen(text), out, diags);
  return rc ? -WD_E_INVAL : 0;
}

int cedar_psbuilder_link(cedar_psbuilder *b, const char *template_id, const char *new_id,
                         const char *principal, const char *resource, cedar_diags *diags) {
  if (!b || !template_id || !new_id) return -WD_E_INVAL;
  cedar__policy *t = wd_map_get(b->by_id, template_id, strlen(template_id));
  if (!t || !t->is_template)
    return cedar__diag(diags, -WD_E_NOTFOUND, "no template with id `%s`", template_id);
  if (wd_map_get(b->by_id, new_id, strlen(new_id)))
    return cedar__diag(diags, -WD_E_EXISTS, "duplicate policy id `%s`", new_id);
  const cedar__uid *pv = NULL, *rv = NULL;
  int rc = link_slot(b, t, CEDAR__SLOT_PRINCIPAL, principal, &pv, diags);
  if (rc == 0) rc = link_slot(b, t, CEDAR__SLOT_RESOURCE, resource, &rv, diags);
  if (rc) return rc;
  cedar__policy *p = wd_arena_memdup(b->arena, t, sizeof *t);
  if (!p) return -WD_E_NOMEM;
  p->id = cedar__cstr(new_id);
  p->is_template = 0;
  p->template_id = t->id;
  p->slot_vals[0] = pv;
  p->slot_vals[1] = rv;
  return cedar__psbuilder_add(b, p, diags);
}

static void ps_free(cedar_policyset *ps) {
  cedar__index_free(ps->index);
  wd_map_free(ps->by_id);
  wd_free(ps->policies);
  wd_free(ps->templates);
  wd_arena_free(ps->arena);
  wd_free(ps);
}

int cedar_psbuilder_build(cedar_psbuilder *b, cedar_policyset **out) {
  if (!b || !out) return -WD_E_INVAL;
  *out = NULL;
  cedar_psbuilder fresh;
  cedar_policyset *ps = wd_calloc(1, sizeof *ps);
  int rc = builder_init(&fresh);
  if (!ps || rc) goto fail;
  atomic_init(&ps->refs, 1);
  ps->arena = b->arena;
  ps->policies = b->policies.v;
  ps->npolicies = b->policies.n;
  ps->templates = b->templates.v;
  ps->ntemplates = b->templates.n;
  ps->by_id = b->by_id;
  if ((rc = cedar__index_build(ps, &ps->index))) goto fail;
  /* The set now owns the builder's memory; the builder starts over but
   * keeps numbering, so default ids stay unique if it is reused. */
  fresh.next_index = b->next_index;
  *b = fresh;
  *out = ps;
  return 0;
fail:
  builder_release(&fresh);
  wd_free(ps);
  return rc ? rc : -WD_E_NOMEM;
}

int cedar_policyset_parse(const char *src, size_t len, cedar_policyset **out, cedar_diags *diags) {
  if (!out) return -WD_E_INVAL;
  *out = NULL;
  cedar_psbuilder *b = cedar_psbuilder_new();
  if (!b) return -WD_E_NOMEM;
  int rc = cedar_psbuilder_add_text(b, src, len, diags);
  if (rc == 0) rc = cedar_psbuilder_build(b, out);
  cedar_psbuilder_free(b);
  return rc;
}

cedar_policyset *cedar_policyset_ref(cedar_policyset *ps) {
  if (ps) atomic_fetch_add_explicit(&ps->refs, 1, memory_order_relaxed);
  return ps;
}

void cedar_policyset_unref(cedar_policyset *ps) {
  if (!ps) return;
  /* acq_rel: the last owner must see every other owner's reads finished. */
  if (atomic_fetch_sub_explicit(&ps->refs, 1, memory_order_acq_rel) == 1) ps_free(ps);
}

size_t cedar_policyset_count(const cedar_policyset *ps) { return ps ? ps->npolicies : 0; }

const char *cedar_policyset_policy_id(const cedar_policyset *ps, size_t i) {
  if (!ps || i >= ps->npolicies) return NULL;
  return ps->policies[i]->id.p;
}

const char *cedar_policyset_annotation(const cedar_policyset *ps, const char *id, const char *key) {
  if (!ps || !id || !key) return NULL;
  const cedar__policy *p = wd_map_get(ps->by_id, id, strlen(id));
  if (!p) return NULL;
  cedar__str k = cedar__cstr(key);
  for (uint32_t i = 0; i < p->nannots; i++)
    if (cedar__str_eq(p->annots[i].key, k) == 1) return p->annots[i].val.p;
  return NULL;
}

int cedar_policyset_policy_pos(const cedar_policyset *ps, const char *id, uint32_t *line,
                               uint32_t *col) {
  *line = *col = 0;
  if (!ps || !id) return -WD_E_NOTFOUND;
  const cedar__policy *p = wd_map_get(ps->by_id, id, strlen(id));
  /* A link shares its template's text but is not where the text is. */
  if (!p || !p->src || p->template_id.n) return -WD_E_NOTFOUND;
  cedar__locate(p->src, p->srclen, p->off, line, col);
  return 0;
}

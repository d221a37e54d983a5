/* SPDX-License-Identifier: Apache-2.0
 *
 * The entity store: loads Cedar's entities JSON array, interns every uid it
 * mentions (entities and their parents) in one hash table, and computes the
 * transitive closure of the hierarchy once, so that lookups and `in` cost a
 * hash probe and a binary search with no allocation. Converting individual
 * JSON values is json.c's job. With a schema, values are read by their
 * declared types and every entity is checked against the schema
 * (schema_entities.c), and the schema's actions join the store, as the
 * reference adds them.
 */
#include <stdlib.h>
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_int.h"
#include "cedar_schema_ent.h"
#include "json_path.h"

typedef struct node {
  const cedar__uid *uid;
  uint64_t hash;
  int64_t ent; /* index into es->ents, or -1 for a parent not in the store */
} node;

typedef struct ent {
  cedar__entity pub;
  uint32_t node;
  const uint32_t *pnodes; /* direct parents as node ids, sorted, unique */
  uint32_t npnodes;
  const uint32_t *anc; /* every ancestor as node ids, sorted, unique */
  uint32_t nanc;
} ent;

struct cedar_entities {
  wd_arena *arena;
  node *nodes;
  uint32_t nnodes, capnodes;
  uint32_t *slots; /* node index + 1; 0 is empty */
  uint32_t nslots; /* power of two, or 0 */
  ent *ents;
  uint32_t nents;
  const cedar_schema *schema; /* while loading only; NULL without one */
};

/* ---- the uid table ---------------------------------------------------- */

static uint64_t uid_hash(const cedar__uid *u) {
  uint64_t h = wd_hash_bytes(u->type.p, u->type.n, 0x9e3779b97f4a7c15ull);
  return wd_hash_bytes(u->id.p, u->id.n, h);
}

static int64_t node_find(const cedar_entities *es, const cedar__uid *u, uint64_t h) {
  if (es->nslots == 0) return -1;
  uint32_t mask = es->nslots - 1;
  for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
    uint32_t s = es->slots[i];
    if (s == 0) return -1;
    const node *nd = &es->nodes[s - 1];
    if (nd->hash == h && cedar__uid_eq(nd->uid, u)) return (int64_t)(s - 1);
  }
}

static int grow_slots(cedar_entities *es) {
  uint32_t n = es->nslots ? es->nslots * 2 : 64;
  uint32_t *s = wd_calloc(n, sizeof *s);
  if (!s) return -WD_E_NOMEM;
  for (uint32_t k = 0; k < es->nnodes; k++) {
    uint32_t i = (uint32_t)es->nodes[k].hash & (n - 1);
    while (s[i])
      i = (i + 1) & (n - 1);
    s[i] = k + 1;
  }
  wd_free(es->slots);
  es->slots = s;
  es->nslots = n;
  return 0;
}

/* Returns the node id of u, adding it (as "not in the store") if new. */
static int node_intern(cedar_entities *es, const cedar__uid *u, uint32_t *out, cedar_diags *d) {
  uint64_t h = uid_hash(u);
  int64_t f = node_find(es, u, h);
  if (f >= 0) {
    *out = (uint32_t)f;
    return 0;
  }
  if (es->nnodes >= WD_LIMIT_ENTITY_COUNT)
    return cedar__diag(d, -WD_E_TOOBIG, "entities: more than %u distinct entity uids",
                       WD_LIMIT_ENTITY_COUNT);
  if ((uint64_t)(es->nnodes + 1) * 2 > es->nslots) {
    int rc = grow_slots(es);
    if (rc) return rc;
  }
  if (es->nnodes == es->capnodes) {
    uint32_t nc = es->capnodes ? es->capnodes * 2 : 64;
    node *nn = wd_realloc(es->nodes, (size_t)nc * sizeof *nn);
    if (!nn) return -WD_E_NOMEM;
    es->nodes = nn;
    es->capnodes = nc;
  }
  uint32_t k = es->nnodes++;
  es->nodes[k].uid = u;
  es->nodes[k].hash = h;
  es->nodes[k].ent = -1;
  uint32_t mask = es->nslots - 1;
  uint32_t i = (uint32_t)h & mask;
  while (es->slots[i])
    i = (i + 1) & mask;
  es->slots[i] = k + 1;
  *out = k;
  return 0;
}

/* ---- lookups used on every request ------------------------------------ */

static const ent *ent_of(const cedar_entities *es, const cedar__uid *u) {
  if (!es || !u) return NULL;
  int64_t k = node_find(es, u, uid_hash(u));
  if (k < 0 || es->nodes[k].ent < 0) return NULL;
  return &es->ents[es->nodes[k].ent];
}

const cedar__entity *cedar__entities_find(const cedar_entities *es, const cedar__uid *uid) {
  const ent *e = ent_of(es, uid);
  return e ? &e->pub : NULL;
}

static int has_u32(const uint32_t *v, uint32_t n, uint32_t x) {
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (v[mid] == x) return 1;
    if (v[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return 0;
}

int cedar__entities_in(const cedar_entities *es, const cedar__uid *a, const cedar__uid *b) {
  if (cedar__uid_eq(a, b)) return 1;
  const ent *e = ent_of(es, a);
  if (!e || e->nanc == 0) return 0;
  int64_t nb = node_find(es, b, uid_hash(b));
  return nb >= 0 && has_u32(e->anc, e->nanc, (uint32_t)nb);
}

/* ---- store lifetime ----------------------------------------------------- */

cedar_entities *cedar_entities_empty(void) {
  cedar_entities *es = wd_calloc(1, sizeof *es);
  if (!es) return NULL;
  es->arena = wd_arena_new(WD_LIMIT_ENTITY_STORE_BYTES);
  if (!es->arena) {
    wd_free(es);
    return NULL;
  }
  return es;
}

void cedar_entities_free(cedar_entities *es) {
  if (!es) return;
  wd_arena_free(es->arena);
  wd_free(es->nodes);
  wd_free(es->slots);
  wd_free(es->ents);
  wd_free(es);
}

size_t cedar_entities_count(const cedar_entities *es) { return es ? es->nents : 0; }

/* ---- loading ------------------------------------------------------------ */

static int u32_qcmp(const void *x, const void *y) {
  uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
  return a < b ? -1 : a > b;
}

/* Sorts v[0..n) and drops duplicates; returns the new length. */
static uint32_t sort_unique(uint32_t *v, uint32_t n) {
  if (n < 2) return n;
  qsort(v, n, sizeof *v, u32_qcmp);
  uint32_t m = 1;
  for (uint32_t i = 1; i < n; i++) {
    if (v[i] != v[m - 1]) v[m++] = v[i];
  }
  return m;
}

static int uid_text(const cedar__uid *u, char *out, size_t cap) {
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_DIAG_MSG);
  int rc = cedar__uid_print(&b, u);
  size_t n = rc == 0 ? wd_buf_len(&b) : 0;
  if (n >= cap) n = cap - 1;
  memcpy(out, wd_buf_str(&b), n);
  out[n] = '\0';
  wd_buf_free(&b);
  return rc;
}

/* Tags against the schema: each value has the declared tag type, and a
 * type without tags has none. */
static int load_tags_typed(cedar_entities *es, const json_t *j, const cedar__sentity *se,
                           const char *who, cedar__jpath *path, cedar__val *out, cedar_diags *d) {
  size_t n = json_object_size(j);
  if (n > 0 && !se->tags)
    return cedar__diag(d, -WD_E_JSON,
                       "%s (%s): found tags, but no tags should exist on this entity according "
                       "to the schema",
                       path->buf, who);
  if (n > UINT32_MAX) return cedar__diag(d, -WD_E_TOOBIG, "%s: too many tags", path->buf);
  cedar__str *keys = wd_malloc((n ? n : 1) * sizeof *keys);
  cedar__val *vals = wd_malloc((n ? n : 1) * sizeof *vals);
  int rc = keys && vals ? 0 : -WD_E_NOMEM;
  uint32_t i = 0;
  const char *k;
  size_t klen;
  json_t *v;
  json_object_keylen_foreach((json_t *)(uintptr_t)j, k, klen, v) {
    if (rc || i >= n) break;
    keys[i].p = wd_arena_memdup(es->arena, k, klen + 1);
    keys[i].n = (uint32_t)klen;
    if (!keys[i].p) rc = -WD_E_NOMEM;
    size_t saved = cedar__jpath_key(path, k, klen);
    if (rc == 0)
      rc = cedar__schema_json_val(es->arena, es->schema, v, se->tags, path->buf, who, &vals[i], d);
    cedar__jpath_pop(path, saved);
    i++;
  }
  if (rc == 0) rc = cedar__rec_make(es->arena, keys, vals, i, out, NULL);
  wd_free(keys);
  wd_free(vals);
  return rc;
}

/* Record-valued member; only "tags" may be absent, meaning {}. With a
 * schema, se (NULL for actions and undeclared types, which
 * cedar__schema_check_entity reports) directs how values are read. */
static int load_record(cedar_entities *es, const json_t *obj, const char *key, cedar__jpath *path,
                       const cedar__sentity *se, const cedar__uid *uid, cedar__val *out,
                       cedar_diags *d) {
  const json_t *j = json_object_get(obj, key);
  size_t saved = cedar__jpath_key(path, key, strlen(key));
  int rc = 0;
  char who[160] = "";
  if (se) {
    wd_buf b;
    wd_buf_init(&b, sizeof who - 1);
    if (wd_buf_adds(&b, "of ") == 0 && cedar__uid_print(&b, uid) == 0 && wd_buf_str(&b))
      memcpy(who, wd_buf_str(&b), wd_buf_len(&b) + 1);
    wd_buf_free(&b);
  }
  int tags = strcmp(key, "tags") == 0;
  if (j && !json_is_object(j))
    rc = cedar__diag(d, -WD_E_JSON, "%s: expected an object, found %s", path->buf,
                     cedar__json_kind(j));
  else if (se && tags && j)
    rc = load_tags_typed(es, j, se, who, path, out, d);
  else if (se && tags)
    rc = cedar__rec_make(es->arena, NULL, NULL, 0, out, NULL);
  else if (se) {
    /* Absent attrs are {} here, so required attributes are still missing. */
    json_t *empty = j ? NULL : json_object();
    rc = j || empty ? cedar__schema_json_val(es->arena, es->schema, j ? j : empty, se->shape,
                                             path->buf, who, out, d)
                    : -WD_E_NOMEM;
    json_decref(empty);
  } else if (!j)
    rc = cedar__rec_make(es->arena, NULL, NULL, 0, out, NULL);
  else
    rc = cedar__json_val(es->arena, j, path->buf, out, d);
  cedar__jpath_pop(path, saved);
  return rc;
}

static int load_parents(cedar_entities *es, const json_t *obj, cedar__jpath *path, ent *e,
                        cedar_diags *d) {
  const json_t *j = json_object_get(obj, "parents");
  size_t saved = cedar__jpath_key(path, "parents", 7);
  int rc = 0;
  if (j && !json_is_array(j)) {
    rc = cedar__diag(d, -WD_E_JSON, "%s: expected an array, found %s", path->buf,
                     cedar__json_kind(j));
    goto out;
  }
  size_t n = j ? json_array_size(j) : 0;
  if (n > WD_LIMIT_ENTITY_COUNT) {
    rc = cedar__diag(d, -WD_E_TOOBIG, "%s: too many parents", path->buf);
    goto out;
  }
  const cedar__uid **ps = n ? wd_arena_alloc(es->arena, n * sizeof *ps) : NULL;
  uint32_t *pn = n ? wd_arena_alloc(es->arena, n * sizeof *pn) : NULL;
  if (n && (!ps || !pn)) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  for (size_t i = 0; i < n && rc == 0; i++) {
    size_t s2 = cedar__jpath_index(path, i);
    rc = cedar__json_uid(es->arena, json_array_get(j, i), path->buf, &ps[i], d);
    if (rc == 0) rc = node_intern(es, ps[i], &pn[i], d);
    cedar__jpath_pop(path, s2);
  }
  if (rc) goto out;
  e->pub.parents = (const cedar__uid *const *)ps;
  e->pub.nparents = (uint32_t)n;
  e->pnodes = pn;
  e->npnodes = sort_unique(pn, (uint32_t)n);
out:
  cedar__jpath_pop(path, saved);
  return rc;
}

static int same_entity(const ent *a, const ent *b) {
  if (a->npnodes != b->npnodes) return 0;
  if (a->npnodes && memcmp(a->pnodes, b->pnodes, a->npnodes * sizeof *a->pnodes) != 0) return 0;
  return cedar__val_eq(&a->pub.attrs, &b->pub.attrs) && cedar__val_eq(&a->pub.tags, &b->pub.tags);
}

static int load_one(cedar_entities *es, const json_t *obj, size_t idx, cedar_diags *d) {
  cedar__jpath path;
  cedar__jpath_init(&path, "entities");
  cedar__jpath_index(&path, idx);
  if (!json_is_object(obj))
    return cedar__diag(d, -WD_E_JSON, "%s: expected an entity object, found %s", path.buf,
                       cedar__json_kind(obj));
  /* "attrs" and "parents" are required, as the reference requires them:
   * an entity that silently lost its parents would lose its permissions. */
  static const char *const required[] = {"uid", "attrs", "parents"};
  for (size_t k = 0; k < sizeof required / sizeof required[0]; k++)
    if (!json_object_get(obj, required[k]))
      return cedar__diag(d, -WD_E_JSON, "%s: missing field \"%s\"", path.buf, required[k]);
  const json_t *uj = json_object_get(obj, "uid");
  ent *e = &es->ents[es->nents];
  memset(e, 0, sizeof *e);
  size_t saved = cedar__jpath_key(&path, "uid", 3);
  int rc = cedar__json_uid(es->arena, uj, path.buf, &e->pub.uid, d);
  cedar__jpath_pop(&path, saved);
  if (rc == 0) rc = node_intern(es, e->pub.uid, &e->node, d);
  const cedar__sentity *se =
      rc == 0 && es->schema ? cedar__schema_entity(es->schema, e->pub.uid->type) : NULL;
  if (rc == 0) rc = load_record(es, obj, "attrs", &path, se, e->pub.uid, &e->pub.attrs, d);
  if (rc == 0) rc = load_record(es, obj, "tags", &path, se, e->pub.uid, &e->pub.tags, d);
  if (rc == 0) rc = load_parents(es, obj, &path, e, d);
  if (rc == 0 && es->schema) rc = cedar__schema_check_entity(es->schema, &e->pub, path.buf, d);
  if (rc) return rc;
  node *nd = &es->nodes[e->node];
  if (nd->ent >= 0) {
    /* The reference accepts a repeated entry only when it is identical. */
    if (same_entity(&es->ents[nd->ent], e)) return 0;
    char u[128];
    (void)uid_text(e->pub.uid, u, sizeof u);
    return cedar__diag(d, -WD_E_EXISTS, "%s: duplicate entity entry `%s`", path.buf, u);
  }
  nd->ent = es->nents++;
  return 0;
}

/* Depth-first over the parent graph with an explicit stack (hierarchies
 * may be deeper than the C stack); a node's ancestors are its parents and
 * their ancestors, merged once its parents are done. */
static int closure(cedar_entities *es, cedar_diags *d) {
  int rc = 0;
  uint8_t *state = wd_calloc(es->nnodes ? es->nnodes : 1, 1); /* 0 new, 1 open, 2 done */
  uint32_t *stack = wd_malloc((es->nnodes ? es->nnodes : 1) * sizeof *stack);
  uint32_t *pos = wd_calloc(es->nnodes ? es->nnodes : 1, sizeof *pos);
  uint32_t *tmp = NULL;
  size_t tmpcap = 0;
  if (!state || !stack || !pos) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  for (uint32_t root = 0; root < es->nents; root++) {
    uint32_t r = es->ents[root].node;
    if (state[r]) continue;
    uint32_t sp = 0;
    stack[sp++] = r;
    state[r] = 1;
    while (sp) {
      uint32_t v = stack[sp - 1];
      ent *e = &es->ents[es->nodes[v].ent];
      if (pos[v] < e->npnodes) {
        uint32_t p = e->pnodes[pos[v]++];
        if (es->nodes[p].ent < 0 || state[p] == 2) continue;
        if (state[p] == 1) {
          char u[128];
          (void)uid_text(es->nodes[p].uid, u, sizeof u);
          rc = cedar__diag(d, -WD_E_CYCLE,
                           "entities: the entity hierarchy has a cycle containing `%s`", u);
          goto out;
        }
        state[p] = 1;
        stack[sp++] = p;
        continue;
      }
      size_t total = 0;
      for (uint32_t i = 0; i < e->npnodes; i++) {
        int64_t pe = es->nodes[e->pnodes[i]].ent;
        total += 1 + (pe >= 0 ? es->ents[pe].nanc : 0);
      }
      if (total > UINT32_MAX) {
        rc = cedar__diag(d, -WD_E_TOOBIG, "entities: hierarchy too large");
        goto out;
      }
      if (total > tmpcap) {
        uint32_t *t = wd_realloc(tmp, total * sizeof *t);
        if (!t) {
          rc = -WD_E_NOMEM;
          goto out;
        }
        tmp = t;
        tmpcap = total;
      }
      size_t k = 0;
      for (uint32_t i = 0; i < e->npnodes; i++) {
        int64_t pe = es->nodes[e->pnodes[i]].ent;
        tmp[k++] = e->pnodes[i];
        if (pe >= 0 && es->ents[pe].nanc) {
          memcpy(tmp + k, es->ents[pe].anc, es->ents[pe].nanc * sizeof *tmp);
          k += es->ents[pe].nanc;
        }
      }
      uint32_t m = sort_unique(tmp, (uint32_t)k);
      if (m) {
        e->anc = wd_arena_memdup(es->arena, tmp, m * sizeof *tmp);
        if (!e->anc) {
          rc = cedar__diag(d, -WD_E_TOOBIG, "entities: the transitive closure exceeds %u bytes",
                           WD_LIMIT_ENTITY_STORE_BYTES);
          goto out;
        }
      }
      e->nanc = m;
      state[v] = 2;
      sp--;
    }
  }
out:
  wd_free(state);
  wd_free(stack);
  wd_free(pos);
  wd_free(tmp);
  return rc;
}

/* Every action entity of the data against its declaration. */
static int check_actions(cedar_entities *es, cedar_diags *d) {
  const cedar__uid **anc = NULL;
  uint32_t cap = 0;
  int rc = 0;
  for (uint32_t i = 0; i < es->nents && rc == 0; i++) {
    const ent *e = &es->ents[i];
    if (!cedar__schema_is_action_type(e->pub.uid->type) ||
        cedar__schema_entity(es->schema, e->pub.uid->type))
      continue;
    if (e->nanc > cap) {
      const cedar__uid **na = wd_realloc(anc, e->nanc * sizeof *na);
      if (!na) {
        rc = -WD_E_NOMEM;
        break;
      }
      anc = na;
      cap = e->nanc;
    }
    for (uint32_t k = 0; k < e->nanc; k++)
      anc[k] = es->nodes[e->anc[k]].uid;
    rc = cedar__schema_check_action(es->schema, &e->pub, anc, e->nanc, d);
  }
  wd_free(anc);
  return rc;
}

/* The schema's actions are entities of every store read with it, with
 * their declared parents; an action also in the data was already checked
 * to match its declaration. */
static int add_schema_actions(cedar_entities *es, cedar_diags *d) {
  const cedar_schema *s = es->schema;
  for (uint32_t i = 0; i < s->nactions; i++) {
    const cedar__saction *sa = &s->actions[i];
    uint32_t k;
    int rc = node_intern(es, sa->uid, &k, d);
    if (rc) return rc;
    if (es->nodes[k].ent >= 0) continue;
    ent *e = &es->ents[es->nents];
    memset(e, 0, sizeof *e);
    e->pub.uid = sa->uid;
    e->node = k;
    e->pub.parents = sa->parents;
    e->pub.nparents = sa->nparents;
    rc = cedar__rec_make(es->arena, NULL, NULL, 0, &e->pub.attrs, NULL);
    if (rc == 0) rc = cedar__rec_make(es->arena, NULL, NULL, 0, &e->pub.tags, NULL);
    uint32_t *pn = sa->nparents ? wd_arena_alloc(es->arena, sa->nparents * sizeof *pn) : NULL;
    if (rc == 0 && sa->nparents && !pn) rc = -WD_E_NOMEM;
    for (uint32_t p = 0; rc == 0 && p < sa->nparents; p++)
      rc = node_intern(es, sa->parents[p], &pn[p], d);
    if (rc) return rc;
    e->pnodes = pn;
    e->npnodes = sort_unique(pn, sa->nparents);
    es->nodes[k].ent = es->nents++;
  }
  return 0;
}

int cedar_entities_from_json(const char *json, size_t len, const cedar_schema *schema,
                             cedar_entities **out, cedar_diags *diags) {
  json_t *root = NULL;
  cedar_entities *es = NULL;
  int rc;
  if (!out) return -WD_E_INVAL;
  *out = NULL;
  rc = cedar__json_load(json, len, &root, diags);
  if (rc) goto fail;
  if (!json_is_array(root)) {
    rc = cedar__diag(diags, -WD_E_JSON, "entities: expected an array, found %s",
                     cedar__json_kind(root));
    goto fail;
  }
  size_t n = json_array_size(root);
  if (n > WD_LIMIT_ENTITY_COUNT) {
    rc = cedar__diag(diags, -WD_E_TOOBIG, "entities: %zu entities exceed the limit of %u", n,
                     WD_LIMIT_ENTITY_COUNT);
    goto fail;
  }
  size_t nact = schema ? schema->nactions : 0;
  es = cedar_entities_empty();
  if (!es || !(es->ents = wd_calloc(n + nact ? n + nact : 1, sizeof *es->ents))) {
    rc = -WD_E_NOMEM;
    goto fail;
  }
  es->schema = schema;
  for (size_t i = 0; i < n; i++) {
    rc = load_one(es, json_array_get(root, i), i, diags);
    if (rc) goto fail;
  }
  rc = closure(es, diags);
  if (rc == 0 && schema) rc = check_actions(es, diags);
  /* The schema's actions join after the check, which (as the reference's)
   * sees only the hierarchy the data gives; then the closure is redone. */
  if (rc == 0 && schema && schema->nactions) {
    rc = add_schema_actions(es, diags);
    if (rc == 0) rc = closure(es, diags);
  }
  es->schema = NULL;
  if (rc) goto fail;
  json_decref(root);
  *out = es;
  return 0;
fail:
  if (rc == -WD_E_NOMEM && cedar_diags_count(diags) == 0)
    (void)cedar__diag(diags, rc, "entities: out of memory");
  json_decref(root);
  cedar_entities_free(es);
  return rc;
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * The value model's algebra: ordering and equality of strings, uids and
 * values, and the constructors that keep sets and records canonical
 * (sorted, no duplicates). Printing and JSON output live in value_print.c;
 * evaluation semantics (type errors, arithmetic) live in eval.c.
 */
#include <stdlib.h>
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_int.h"

int cedar__str_cmp(cedar__str a, cedar__str b) {
  uint32_t n = a.n < b.n ? a.n : b.n;
  int c = n ? memcmp(a.p, b.p, n) : 0;
  if (c) return c < 0 ? -1 : 1;
  if (a.n == b.n) return 0;
  return a.n < b.n ? -1 : 1;
}

int cedar__str_eq(cedar__str a, cedar__str b) {
  return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

cedar__str cedar__cstr(const char *s) {
  cedar__str r = {s ? s : "", 0};
  if (s) {
    size_t n = strlen(s);
    r.n = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
  }
  return r;
}

int cedar__uid_eq(const cedar__uid *a, const cedar__uid *b) {
  if (a == b) return 1;
  return cedar__str_eq(a->id, b->id) && cedar__str_eq(a->type, b->type);
}

int cedar__uid_cmp(const cedar__uid *a, const cedar__uid *b) {
  if (a == b) return 0;
  int c = cedar__str_cmp(a->type, b->type);
  return c ? c : cedar__str_cmp(a->id, b->id);
}

static int cmp_i64(int64_t a, int64_t b) { return a < b ? -1 : a > b; }

static int cmp_ip(const cedar__ip *a, const cedar__ip *b) {
  if (a->v6 != b->v6) return a->v6 < b->v6 ? -1 : 1;
  int c = memcmp(a->addr, b->addr, a->v6 ? 16 : 4);
  if (c) return c < 0 ? -1 : 1;
  /* Cedar's ip equality includes the prefix: 10.0.0.1/8 != 10.0.0.1/16. */
  return a->prefix < b->prefix ? -1 : a->prefix > b->prefix;
}

int cedar__val_cmp(const cedar__val *a, const cedar__val *b) {
  if (a->kind != b->kind) return a->kind < b->kind ? -1 : 1;
  switch (a->kind) {
  case CEDAR__V_BOOL: return (a->u.b != 0) - (b->u.b != 0);
  case CEDAR__V_LONG:
  case CEDAR__V_DECIMAL:
  case CEDAR__V_DATETIME:
  case CEDAR__V_DURATION: return cmp_i64(a->u.i, b->u.i);
  case CEDAR__V_STRING: return cedar__str_cmp(a->u.s, b->u.s);
  case CEDAR__V_ENTITY: return cedar__uid_cmp(a->u.uid, b->u.uid);
  case CEDAR__V_SET: {
    uint32_t n = a->u.set.n < b->u.set.n ? a->u.set.n : b->u.set.n;
    for (uint32_t i = 0; i < n; i++) {
      int c = cedar__val_cmp(&a->u.set.v[i], &b->u.set.v[i]);
      if (c) return c;
    }
    return a->u.set.n < b->u.set.n ? -1 : a->u.set.n > b->u.set.n;
  }
  case CEDAR__V_RECORD: {
    uint32_t n = a->u.rec.n < b->u.rec.n ? a->u.rec.n : b->u.rec.n;
    for (uint32_t i = 0; i < n; i++) {
      int c = cedar__str_cmp(a->u.rec.k[i], b->u.rec.k[i]);
      if (c) return c;
      c = cedar__val_cmp(&a->u.rec.v[i], &b->u.rec.v[i]);
      if (c) return c;
    }
    return a->u.rec.n < b->u.rec.n ? -1 : a->u.rec.n > b->u.rec.n;
  }
  case CEDAR__V_IPADDR: return cmp_ip(&a->u.ip, &b->u.ip);
  }
  return 0;
}

int cedar__val_eq(const cedar__val *a, const cedar__val *b) {
  if (a->kind != b->kind) return 0;
  switch (a->kind) {
  case CEDAR__V_SET:
    if (a->u.set.n != b->u.set.n) return 0;
    break;
  case CEDAR__V_RECORD:
    if (a->u.rec.n != b->u.rec.n) return 0;
    break;
  case CEDAR__V_BOOL:
  case CEDAR__V_LONG:
  case CEDAR__V_STRING:
  case CEDAR__V_ENTITY:
  case CEDAR__V_DECIMAL:
  case CEDAR__V_IPADDR:
  case CEDAR__V_DATETIME:
  case CEDAR__V_DURATION: break;
  }
  /* Canonical sets and records make structural equality a comparison. */
  return cedar__val_cmp(a, b) == 0;
}

static int val_qcmp(const void *x, const void *y) { return cedar__val_cmp(x, y); }

int cedar__set_make(wd_arena *a, const cedar__val *vals, uint32_t n, cedar__val *out) {
  out->kind = CEDAR__V_SET;
  out->u.set.v = NULL;
  out->u.set.n = 0;
  if (n == 0) return 0;
  cedar__val *v = wd_arena_memdup(a, vals, (size_t)n * sizeof *v);
  if (!v) return -WD_E_NOMEM;
  qsort(v, n, sizeof *v, val_qcmp);
  uint32_t m = 1;
  for (uint32_t i = 1; i < n; i++) {
    if (cedar__val_cmp(&v[m - 1], &v[i]) != 0) v[m++] = v[i];
  }
  out->u.set.v = v;
  out->u.set.n = m;
  return 0;
}

typedef struct kv {
  cedar__str k;
  const cedar__val *v;
  uint32_t idx;
} kv;

static int kv_qcmp(const void *x, const void *y) {
  const kv *a = x, *b = y;
  int c = cedar__str_cmp(a->k, b->k);
  if (c) return c;
  return a->idx < b->idx ? -1 : a->idx > b->idx;
}

int cedar__key_order(const cedar__str *keys, uint32_t n, uint32_t *ord) {
  /* Most records in policies are small: sorted in place, no allocation
   * on a decision's path. */
  if (n <= 16) {
    for (uint32_t i = 0; i < n; i++) {
      uint32_t j = i;
      for (; j > 0 && cedar__str_cmp(keys[ord[j - 1]], keys[i]) > 0; j--)
        ord[j] = ord[j - 1];
      ord[j] = i;
    }
    return 0;
  }
  kv *tmp = wd_malloc((size_t)n * sizeof *tmp);
  if (!tmp) return -WD_E_NOMEM;
  for (uint32_t i = 0; i < n; i++)
    tmp[i] = (kv){.k = keys[i], .idx = i};
  qsort(tmp, n, sizeof *tmp, kv_qcmp);
  for (uint32_t i = 0; i < n; i++)
    ord[i] = tmp[i].idx;
  wd_free(tmp);
  return 0;
}

int cedar__rec_make(wd_arena *a, const cedar__str *keys, const cedar__val *vals, uint32_t n,
                    cedar__val *out, uint32_t *dup_index) {
  int rc = 0;
  kv *tmp = NULL;
  out->kind = CEDAR__V_RECORD;
  out->u.rec.k = NULL;
  out->u.rec.v = NULL;
  out->u.rec.n = 0;
  if (n == 0) return 0;
  cedar__str *k = wd_arena_alloc(a, (size_t)n * sizeof *k);
  cedar__val *v = wd_arena_alloc(a, (size_t)n * sizeof *v);
  tmp = wd_malloc((size_t)n * sizeof *tmp);
  if (!k || !v || !tmp) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  for (uint32_t i = 0; i < n; i++) {
    tmp[i].k = keys[i];
    tmp[i].v = &vals[i];
    tmp[i].idx = i;
  }
  qsort(tmp, n, sizeof *tmp, kv_qcmp);
  for (uint32_t i = 0; i < n; i++) {
    if (i > 0 && cedar__str_eq(tmp[i - 1].k, tmp[i].k)) {
      /* Sorting by index among equal keys makes this the later duplicate. */
      if (dup_index) *dup_index = tmp[i].idx;
      rc = -WD_E_EXISTS;
      goto out;
    }
    k[i] = tmp[i].k;
    v[i] = *tmp[i].v;
  }
  out->u.rec.k = k;
  out->u.rec.v = v;
  out->u.rec.n = n;
out:
  wd_free(tmp);
  return rc;
}

int cedar__str_find(const void *base, size_t stride, uint32_t n, cedar__str key, uint32_t *at) {
  uint32_t lo = 0, hi = n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    const cedar__str *name = (const cedar__str *)(const void *)((const char *)base + mid * stride);
    int c = cedar__str_cmp(*name, key);
    if (c == 0) {
      *at = mid;
      return 1;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return 0;
}

const cedar__val *cedar__rec_get(const cedar__val *rec, cedar__str key) {
  if (!rec || rec->kind != CEDAR__V_RECORD) return NULL;
  uint32_t i;
  return cedar__str_find(rec->u.rec.k, sizeof *rec->u.rec.k, rec->u.rec.n, key, &i)
             ? &rec->u.rec.v[i]
             : NULL;
}

int cedar__set_has(const cedar__val *set, const cedar__val *v) {
  if (!set || set->kind != CEDAR__V_SET) return 0;
  uint32_t lo = 0, hi = set->u.set.n;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int c = cedar__val_cmp(&set->u.set.v[mid], v);
    if (c == 0) return 1;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return 0;
}

const cedar__uid *cedar__uid_new(wd_arena *a, cedar__str type, cedar__str id) {
  cedar__uid *u = wd_arena_alloc(a, sizeof *u);
  char *t = wd_arena_strndup(a, type.p ? type.p : "", type.n);
  char *i = wd_arena_strndup(a, id.p ? id.p : "", id.n);
  if (!u || !t || !i) return NULL;
  u->type.p = t;
  u->type.n = type.n;
  u->id.p = i;
  u->id.n = id.n;
  return u;
}

const char *cedar__vkind_name(cedar__vkind k) {
  switch (k) {
  case CEDAR__V_BOOL: return "bool";
  case CEDAR__V_LONG: return "long";
  case CEDAR__V_STRING: return "string";
  case CEDAR__V_ENTITY: return "entity";
  case CEDAR__V_SET: return "set";
  case CEDAR__V_RECORD: return "record";
  case CEDAR__V_DECIMAL: return "decimal";
  case CEDAR__V_IPADDR: return "ipaddr";
  case CEDAR__V_DATETIME: return "datetime";
  case CEDAR__V_DURATION: return "duration";
  }
  return "unknown";
}

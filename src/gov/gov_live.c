/* SPDX-License-Identifier: Apache-2.0
 *
 * The live state of gov_live.h: a sharded open-addressing replay cache of
 * jti fingerprints, and a chained table of live task entries with counted
 * references. Not the policy of when to use them: that is gov_auth.c and
 * gov_authz.c.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>

#include "gov/gov_live.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"
#include "util/wd_map.h"
#include "warden/err.h"

/* ---- replay cache ------------------------------------------------------------ */

#define SHARDS   64u
#define SLOTS_0  1024u
#define SLOT_MAX (WD_LIMIT_GOV_REPLAY_ENTRIES / SHARDS)

typedef struct fp_slot {
  uint64_t a, b; /* two seeded hashes of the jti; a == 0 marks a free slot */
  int64_t exp_ms;
} fp_slot;

typedef struct shard {
  pthread_mutex_t mu;
  fp_slot *slot;
  size_t cap, used;
} shard;

struct wd_gov__replay {
  uint64_t seed[2]; /* random per process, so fingerprints cannot be aimed */
  /* The latest expiry of a jti the cache could not hold, which only the
   * store knows: until then a jti new here may not be new there. */
  _Atomic int64_t store_until;
  shard sh[SHARDS];
};

int wd_gov__replay_new(wd_gov__replay **out) {
  *out = NULL;
  wd_gov__replay *r = wd_calloc(1, sizeof *r);
  if (!r) return -WD_E_NOMEM;
  atomic_init(&r->store_until, 0);
  if (getrandom(r->seed, sizeof r->seed, 0) != (ssize_t)sizeof r->seed) {
    wd_free(r);
    return -WD_E_INTERNAL;
  }
  for (size_t i = 0; i < SHARDS; i++) {
    if (pthread_mutex_init(&r->sh[i].mu, NULL) != 0) {
      while (i--)
        pthread_mutex_destroy(&r->sh[i].mu);
      wd_free(r);
      return -WD_E_INTERNAL;
    }
  }
  *out = r;
  return 0;
}

void wd_gov__replay_free(wd_gov__replay *r) {
  if (!r) return;
  for (size_t i = 0; i < SHARDS; i++) {
    pthread_mutex_destroy(&r->sh[i].mu);
    wd_free(r->sh[i].slot);
  }
  wd_free(r);
}

static fp_slot *probe(fp_slot *t, size_t cap, uint64_t a, uint64_t b) {
  size_t i = (size_t)b & (cap - 1);
  while (t[i].a && !(t[i].a == a && t[i].b == b))
    i = (i + 1) & (cap - 1);
  return &t[i];
}

/* Rebuilds the shard without expired entries, growing it when live ones
 * fill more than half. Returns -WD_E_TOOBIG when it cannot make room. */
static int rebuild(shard *s, int64_t now_ms) {
  size_t live = 0;
  for (size_t i = 0; i < s->cap; i++)
    live += s->slot[i].a && s->slot[i].exp_ms > now_ms;
  size_t cap = s->cap ? s->cap : SLOTS_0;
  while (live * 2 >= cap && cap < SLOT_MAX)
    cap *= 2;
  if ((live + 1) * 10 > cap * 7) return -WD_E_TOOBIG;
  fp_slot *t = wd_calloc(cap, sizeof *t);
  if (!t) return -WD_E_NOMEM;
  for (size_t i = 0; i < s->cap; i++)
    if (s->slot[i].a && s->slot[i].exp_ms > now_ms)
      *probe(t, cap, s->slot[i].a, s->slot[i].b) = s->slot[i];
  wd_free(s->slot);
  s->slot = t;
  s->cap = cap;
  s->used = live;
  return 0;
}

static void store_judges(wd_gov__replay *r, int64_t exp_ms) {
  int64_t cur = atomic_load(&r->store_until);
  while (cur < exp_ms && !atomic_compare_exchange_weak(&r->store_until, &cur, exp_ms)) {
  }
}

int wd_gov__replay_check(wd_gov__replay *r, const char *jti, int64_t exp_ms, int64_t now_ms) {
  size_t n = strlen(jti);
  uint64_t a = wd_hash_bytes(jti, n, r->seed[0]) | 1u, b = wd_hash_bytes(jti, n, r->seed[1]);
  shard *s = &r->sh[(a >> 1) % SHARDS];
  int rc;
  pthread_mutex_lock(&s->mu);
  /* A jti already here is refused even when the shard is full: a full
   * shard must not turn a replay into a question for the store. */
  fp_slot *e = s->slot ? probe(s->slot, s->cap, a, b) : NULL;
  if (e && e->a && e->exp_ms > now_ms) {
    rc = 0;
    goto out;
  }
  if (!s->slot || (s->used + 1) * 10 > s->cap * 7) {
    if ((rc = rebuild(s, now_ms)) != 0) {
      if (rc == -WD_E_TOOBIG) store_judges(r, exp_ms);
      goto out;
    }
    e = probe(s->slot, s->cap, a, b);
  }
  if (!e->a) s->used++;
  e->a = a;
  e->b = b;
  e->exp_ms = exp_ms;
  rc = now_ms < atomic_load(&r->store_until) ? -WD_E_TOOBIG : 1;
out:
  pthread_mutex_unlock(&s->mu);
  return rc;
}

/* ---- live tasks ----------------------------------------------------------------- */

#define BUCKETS 1024u

struct wd_gov__live {
  wd_store *store; /* borrowed */
  wd_audit *audit; /* borrowed, may be NULL */
  pthread_mutex_t mu;
  wd_gov__ltask *b[BUCKETS];
  uint64_t gen[BUCKETS]; /* bumped by every forget in the bucket */
  size_t count;
  struct agent_fence *fences; /* agents whose status is changing */
  size_t nfences;
};

/* Counted: two stops of one agent may overlap. */
typedef struct agent_fence {
  struct agent_fence *next;
  unsigned refs;
  char *agent_id;
} agent_fence;

int wd_gov__live_new(wd_store *store, wd_audit *audit, wd_gov__live **out) {
  *out = NULL;
  wd_gov__live *l = wd_calloc(1, sizeof *l);
  if (!l) return -WD_E_NOMEM;
  if (pthread_mutex_init(&l->mu, NULL) != 0) {
    wd_free(l);
    return -WD_E_INTERNAL;
  }
  l->store = store;
  l->audit = audit;
  *out = l;
  return 0;
}

static void entry_free(wd_gov__ltask *t) {
  if (!t) return;
  pthread_mutex_destroy(&t->mu);
  wd_store_task_free(&t->task);
  wd_store_agent_free(&t->agent);
  wd_store_session_free(&t->ss);
  wd_free(t);
}

void wd_gov__live_free(wd_gov__live *l) {
  if (!l) return;
  for (agent_fence *f = l->fences, *next; f; f = next) {
    next = f->next;
    wd_free(f->agent_id);
    wd_free(f);
  }
  for (size_t i = 0; i < BUCKETS; i++) {
    for (wd_gov__ltask *t = l->b[i], *next; t; t = next) {
      next = t->next;
      entry_free(t);
    }
  }
  pthread_mutex_destroy(&l->mu);
  wd_free(l);
}

static size_t bucket_of(const char *id) {
  return (size_t)(wd_hash_bytes(id, strlen(id), 0x5157u) % BUCKETS);
}

static wd_gov__ltask *find(wd_gov__live *l, size_t bi, const char *id) {
  for (wd_gov__ltask *t = l->b[bi]; t; t = t->next)
    if (strcmp(t->task.id, id) == 0) return t;
  return NULL;
}

static void unlink_entry(wd_gov__live *l, size_t bi, wd_gov__ltask *t) {
  for (wd_gov__ltask **pp = &l->b[bi]; *pp; pp = &(*pp)->next) {
    if (*pp == t) {
      *pp = t->next;
      break;
    }
  }
  t->next = NULL;
  t->fenced = 0; /* out of the table: the last put frees it */
  l->count--;
  l->gen[bi]++;
  pthread_mutex_lock(&t->mu);
  t->dead = 1;
  pthread_mutex_unlock(&t->mu);
  if (t->refs == 0) entry_free(t);
}

/* At the limit, drops entries nobody holds; their state is in the store. */
static void make_room(wd_gov__live *l) {
  for (size_t i = 0; i < BUCKETS && l->count >= WD_LIMIT_GOV_LIVE_TASKS; i++) {
    for (wd_gov__ltask *t = l->b[i], *next; t; t = next) {
      next = t->next;
      if (t->refs == 0 && !t->fenced) unlink_entry(l, i, t);
    }
  }
}

static agent_fence **fence_of(wd_gov__live *l, const char *agent_id) {
  agent_fence **pp = &l->fences;
  while (*pp && strcmp((*pp)->agent_id, agent_id) != 0)
    pp = &(*pp)->next;
  return pp;
}

static int load(wd_gov__live *l, const char *id, wd_gov__ltask **out) {
  wd_gov__ltask *t = wd_calloc(1, sizeof *t);
  int rc;
  *out = NULL;
  if (!t) return -WD_E_NOMEM;
  if (pthread_mutex_init(&t->mu, NULL) != 0) {
    wd_free(t);
    return -WD_E_INTERNAL;
  }
  wd_audit_barrier(l->audit);
  if ((rc = wd_store_task_get(l->store, id, &t->task)) == 0 &&
      (rc = wd_store_agent_get(l->store, t->task.agent_id, &t->agent)) == 0 &&
      (rc = wd_store_task_session(l->store, id, &t->ss)) == 0) {
    /* The session read is the later one: its counts are the freshest. */
    t->task.calls = t->ss.calls;
    t->task.denials = t->ss.denials;
    *out = t;
    return 0;
  }
  entry_free(t);
  return rc;
}

int wd_gov__live_get(wd_gov__live *l, const char *id, wd_gov__ltask **out) {
  size_t bi = bucket_of(id);
  *out = NULL;
  for (int tries = 0; tries < 8; tries++) {
    pthread_mutex_lock(&l->mu);
    wd_gov__ltask *t = find(l, bi, id);
    if (t && t->fenced) {
      pthread_mutex_unlock(&l->mu);
      return -WD_E_NOTFOUND; /* ending or changing: no call may start on it */
    }
    if (t) {
      t->refs++;
      pthread_mutex_unlock(&l->mu);
      *out = t;
      return 0;
    }
    uint64_t gen = l->gen[bi];
    pthread_mutex_unlock(&l->mu);

    int rc = load(l, id, &t);
    if (rc) return rc;

    pthread_mutex_lock(&l->mu);
    wd_gov__ltask *other = find(l, bi, id);
    if (other || l->gen[bi] != gen) {
      /* Someone loaded it first, or the store changed under our read. */
      pthread_mutex_unlock(&l->mu);
      entry_free(t);
      continue;
    }
    if (l->nfences && *fence_of(l, t->task.agent_id)) {
      pthread_mutex_unlock(&l->mu);
      entry_free(t);
      return -WD_E_NOTFOUND; /* its agent is being stopped */
    }
    if (l->count >= WD_LIMIT_GOV_LIVE_TASKS) make_room(l);
    t->next = l->b[bi];
    l->b[bi] = t;
    l->count++;
    t->refs = 1;
    pthread_mutex_unlock(&l->mu);
    *out = t;
    return 0;
  }
  return -WD_E_INTERNAL; /* the store kept changing under the load */
}

void wd_gov__live_put(wd_gov__live *l, wd_gov__ltask *t) {
  if (!t) return;
  pthread_mutex_lock(&l->mu);
  int gone = --t->refs == 0 && t->dead && !t->fenced; /* a fenced one is still linked */
  pthread_mutex_unlock(&l->mu);
  if (gone) entry_free(t);
}

void wd_gov__live_forget(wd_gov__live *l, const char *id) {
  size_t bi = bucket_of(id);
  pthread_mutex_lock(&l->mu);
  wd_gov__ltask *t = find(l, bi, id);
  if (t)
    unlink_entry(l, bi, t);
  else
    l->gen[bi]++;
  pthread_mutex_unlock(&l->mu);
}

int wd_gov__live_fence(wd_gov__live *l, const char *id) {
  size_t bi = bucket_of(id);
  pthread_mutex_lock(&l->mu);
  wd_gov__ltask *t = find(l, bi, id);
  if (!t) {
    /* A placeholder, so that a get finds the fence instead of loading. */
    t = wd_calloc(1, sizeof *t);
    if (t && pthread_mutex_init(&t->mu, NULL) != 0) {
      wd_free(t);
      t = NULL;
    }
    if (t && !(t->task.id = wd_strdup(id))) {
      entry_free(t);
      t = NULL;
    }
    if (!t) {
      pthread_mutex_unlock(&l->mu);
      return -WD_E_NOMEM;
    }
    t->next = l->b[bi];
    l->b[bi] = t;
    l->count++;
  }
  t->fenced = 1;
  l->gen[bi]++; /* a load already reading the store keeps nothing */
  /* Under the entry's lock: a call past its check queues its record
   * before this returns, and any later one sees the entry dead. */
  pthread_mutex_lock(&t->mu);
  t->dead = 1;
  pthread_mutex_unlock(&t->mu);
  pthread_mutex_unlock(&l->mu);
  return 0;
}

/* With l->mu held. */
static void forget_agent_locked(wd_gov__live *l, const char *agent_id) {
  for (size_t i = 0; i < BUCKETS; i++) {
    /* Any load in flight may be of this agent's task. */
    l->gen[i]++;
    for (wd_gov__ltask *t = l->b[i], *next; t; t = next) {
      next = t->next;
      /* A fenced entry (a placeholder has no agent at all) is already dead
       * and stays in the table until its fence holder forgets it: lifting
       * the fence here would let a load read the store before the change
       * it guards is written. */
      if (t->task.agent_id && !t->fenced && strcmp(t->task.agent_id, agent_id) == 0)
        unlink_entry(l, i, t);
    }
  }
}

void wd_gov__live_forget_agent(wd_gov__live *l, const char *agent_id) {
  pthread_mutex_lock(&l->mu);
  forget_agent_locked(l, agent_id);
  pthread_mutex_unlock(&l->mu);
}

int wd_gov__live_fence_agent(wd_gov__live *l, const char *agent_id) {
  pthread_mutex_lock(&l->mu);
  agent_fence *f = *fence_of(l, agent_id);
  int rc = 0;
  if (f) {
    f->refs++;
  } else if (l->nfences >= WD_LIMIT_GOV_AGENT_FENCES) {
    rc = -WD_E_TOOBIG;
  } else if (!(f = wd_calloc(1, sizeof *f)) || !(f->agent_id = wd_strdup(agent_id))) {
    wd_free(f);
    rc = -WD_E_NOMEM;
  } else {
    f->refs = 1;
    f->next = l->fences;
    l->fences = f;
    l->nfences++;
  }
  /* Unlinking marks each entry dead under its lock: a call past its
   * check has queued its record by now, and later ones see it dead. */
  if (!rc) forget_agent_locked(l, agent_id);
  pthread_mutex_unlock(&l->mu);
  return rc;
}

int wd_gov__live_agent_fenced(wd_gov__live *l, const char *agent_id) {
  pthread_mutex_lock(&l->mu);
  int fenced = l->nfences && *fence_of(l, agent_id) != NULL;
  pthread_mutex_unlock(&l->mu);
  return fenced;
}

void wd_gov__live_unfence_agent(wd_gov__live *l, const char *agent_id) {
  pthread_mutex_lock(&l->mu);
  agent_fence **pp = fence_of(l, agent_id), *f = *pp;
  if (f && --f->refs == 0) {
    *pp = f->next;
    l->nfences--;
    wd_free(f->agent_id);
    wd_free(f);
  }
  forget_agent_locked(l, agent_id);
  pthread_mutex_unlock(&l->mu);
}

int wd_gov__live_token_revoked(wd_gov__live *l, wd_gov__ltask *t, const char *jti, int *revoked) {
  size_t n = strlen(jti);
  for (unsigned i = 0; i < t->ntok; i++) {
    if (strcmp(t->tok[i].jti, jti) == 0) {
      *revoked = t->tok[i].revoked;
      return 0;
    }
  }
  int rc = wd_store_token_is_revoked(l->store, jti, revoked);
  if (rc == -WD_E_NOTFOUND) rc = 0, *revoked = 1;
  if (rc) return rc;
  if (n < sizeof t->tok[0].jti) {
    unsigned i = t->ntok < WD_GOV__LIVE_TOKENS ? t->ntok++ : (unsigned)(n % WD_GOV__LIVE_TOKENS);
    memcpy(t->tok[i].jti, jti, n + 1);
    t->tok[i].revoked = *revoked;
  }
  return 0;
}

/* Where v is or would go in the sorted set l; *found when present. */
static size_t set_find(const wd_strlist *l, const char *v, int *found) {
  size_t lo = 0, hi = l->n;
  *found = 0;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(l->v[mid], v);
    if (c == 0) {
      *found = 1;
      return mid;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Inserts v into the sorted set l unless present; 1 when inserted. */
static int set_add(wd_strlist *l, const char *v) {
  int found;
  size_t at = set_find(l, v, &found);
  if (found) return 0;
  if (l->n >= WD_LIMIT_STORE_SESSION_SET) return -WD_E_TOOBIG;
  char *copy = wd_strdup(v);
  char **nv = copy ? wd_realloc(l->v, (l->n + 1) * sizeof *nv) : NULL;
  if (!nv) {
    wd_free(copy);
    return -WD_E_NOMEM;
  }
  l->v = nv;
  memmove(l->v + at + 1, l->v + at, (l->n - at) * sizeof *nv);
  l->v[at] = copy;
  l->n++;
  return 1;
}

/* Counted only when a value is new, which a task's calls rarely are. */
static size_t session_bytes(wd_strlist *const set[3]) {
  size_t n = 0;
  for (unsigned i = 0; i < 3; i++)
    for (size_t j = 0; j < set[i]->n; j++)
      n += strlen(set[i]->v[j]);
  return n;
}

int wd_gov__live_touch(wd_gov__ltask *t, const char *tool, const char *cls, const char *dest,
                       unsigned *added) {
  const char *v[3] = {tool, cls, dest};
  wd_strlist *set[3] = {&t->ss.tools, &t->ss.classifications, &t->ss.destinations};
  unsigned grew = 0;
  size_t adding = 0;
  /* All or nothing: a call refused for a full set must leave no value
   * behind, or a later call would skip writing it to the store. */
  for (unsigned i = 0; i < 3; i++) {
    int found = 1;
    if (v[i]) (void)set_find(set[i], v[i], &found);
    if (found) continue;
    if (set[i]->n >= WD_LIMIT_STORE_SESSION_SET) return -WD_E_TOOBIG;
    adding += strlen(v[i]);
  }
  if (adding && session_bytes(set) + adding > WD_LIMIT_SESSION_BYTES) return -WD_E_TOOBIG;
  for (unsigned i = 0; i < 3; i++) {
    int r = v[i] ? set_add(set[i], v[i]) : 0;
    if (r < 0) return r; /* out of memory: the caller denies and forgets the entry */
    if (r) grew |= 1u << i;
  }
  if (grew) t->ss_gen++;
  if (added) *added = grew;
  return 0;
}

static int dup_list(const wd_strlist *in, wd_strlist *out) {
  out->n = 0;
  out->v = in->n ? wd_calloc(in->n, sizeof *out->v) : NULL;
  if (in->n && !out->v) return -WD_E_NOMEM;
  for (size_t i = 0; i < in->n; i++, out->n++)
    if (!(out->v[i] = wd_strdup(in->v[i]))) return -WD_E_NOMEM;
  return 0;
}

static int dup_str(const char *in, char **out) {
  *out = NULL;
  if (!in) return 0;
  return (*out = wd_strdup(in)) ? 0 : -WD_E_NOMEM;
}

int wd_gov__live_snapshot(const wd_gov__ltask *t, wd_task *task, wd_session *ss) {
  const wd_task *s = &t->task;
  memset(ss, 0, sizeof *ss);
  *task = *s;
  task->end_reason = NULL;
  int rc = dup_str(s->id, &task->id);
  task->agent_id = task->intent = task->purpose = task->expected_tools = NULL;
  task->ceiling = task->on_behalf_of = NULL;
  if (!rc) rc = dup_str(s->agent_id, &task->agent_id);
  if (!rc) rc = dup_str(s->intent, &task->intent);
  if (!rc) rc = dup_str(s->purpose, &task->purpose);
  if (!rc) rc = dup_str(s->expected_tools, &task->expected_tools);
  if (!rc) rc = dup_str(s->ceiling, &task->ceiling);
  if (!rc) rc = dup_str(s->on_behalf_of, &task->on_behalf_of);
  if (!rc) rc = dup_list(&t->ss.tools, &ss->tools);
  if (!rc) rc = dup_list(&t->ss.classifications, &ss->classifications);
  if (!rc) rc = dup_list(&t->ss.destinations, &ss->destinations);
  ss->calls = s->calls;
  ss->denials = s->denials;
  if (rc) {
    wd_store_task_free(task);
    wd_store_session_free(ss);
  }
  return rc;
}

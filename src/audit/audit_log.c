/* SPDX-License-Identifier: Apache-2.0
 *
 * The appender with group commit. A caller builds its pending record on
 * its own stack, queues it and waits on a condition variable. Whoever
 * finds no commit in progress becomes the committer: it takes everything
 * queued (up to WD_LIMIT_AUDIT_BATCH), assigns seq, time, prev_hash and
 * hash in queue order, writes the batch in one transaction, and wakes
 * everybody. A caller returns only once its own record is durable, yet
 * N concurrent callers cost about one fsync instead of N.
 */
#include <pthread.h>
#include <string.h>

#include "audit/audit_int.h"
#include "util/wd_alloc.h"

typedef struct pending {
  struct pending *next;
  wd_audit_type type;
  const char *actor;     /* borrowed from the waiting caller */
  const char *task;      /* borrowed, may be NULL */
  const char *payload;   /* canonical text, borrowed */
  const wd_store_fx *fx; /* borrowed effects written with the record */
  size_t nfx;
  int64_t seq; /* set by the committer */
  int rc;      /* set by the committer */
  int done;
} pending;

struct wd_audit {
  wd_store *store; /* borrowed */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pending *head, *tail; /* queue of records not yet taken by a committer */
  int committing;       /* a committer is writing; only it touches the chain */
  int tail_known;       /* last_seq/last_hash mirror the store */
  int64_t last_seq;
  char last_hash[65];
  uint64_t n_records, n_commits;
};

int wd_audit_open(wd_store *store, wd_audit **out) {
  wd_audit *a;
  if (!store || !out) return -WD_E_INVAL;
  *out = NULL;
  a = wd_calloc(1, sizeof *a);
  if (!a) return -WD_E_NOMEM;
  if (pthread_mutex_init(&a->mu, NULL)) {
    wd_free(a);
    return -WD_E_INTERNAL;
  }
  if (pthread_cond_init(&a->cv, NULL)) {
    pthread_mutex_destroy(&a->mu);
    wd_free(a);
    return -WD_E_INTERNAL;
  }
  a->store = store;
  *out = a;
  return 0;
}

void wd_audit_close(wd_audit *a) {
  if (!a) return;
  pthread_cond_destroy(&a->cv);
  pthread_mutex_destroy(&a->mu);
  wd_free(a);
}

void wd_audit_stats(wd_audit *a, uint64_t *records, uint64_t *commits) {
  if (!a) return;
  pthread_mutex_lock(&a->mu);
  if (records) *records = a->n_records;
  if (commits) *commits = a->n_commits;
  pthread_mutex_unlock(&a->mu);
}

/* Writes the batch; runs without the lock while a->committing is set, so
 * the chain state is ours alone. */
static int commit_batch(wd_audit *a, pending *batch, size_t n) {
  wd_audit_row *rows = wd_calloc(n, sizeof *rows);
  char(*times)[WD_AUDIT_TIME_LEN + 1] = wd_calloc(n, sizeof *times);
  char(*hashes)[65] = wd_calloc(n, sizeof *hashes);
  wd_store_fx *fx = NULL;
  size_t nfx = 0;
  pending *p = batch;
  int rc = 0;
  for (pending *q = batch; q; q = q->next)
    nfx += q->nfx;
  if (nfx && !(fx = wd_calloc(nfx, sizeof *fx))) rc = -WD_E_NOMEM;
  if (rc || !rows || !times || !hashes) {
    rc = -WD_E_NOMEM;
    goto out;
  }
  if (!a->tail_known) {
    if ((rc = wd_store_audit_tail(a->store, &a->last_seq, a->last_hash))) goto out;
    if (a->last_seq == 0) memcpy(a->last_hash, WD_AUDIT_GENESIS, 65);
    a->tail_known = 1;
  }
  nfx = 0;
  for (size_t i = 0; i < n; i++, p = p->next) {
    wd_audit_row *r = &rows[i];
    if (p->nfx) memcpy(fx + nfx, p->fx, p->nfx * sizeof *fx);
    nfx += p->nfx;
    wd_audit__now(times[i]);
    r->seq = a->last_seq + 1 + (int64_t)i;
    r->time = times[i];
    r->type = (char *)(uintptr_t)wd_audit_type_name(p->type);
    r->actor = (char *)(uintptr_t)p->actor;
    r->task = (char *)(uintptr_t)p->task;
    r->payload = (char *)(uintptr_t)p->payload;
    r->prev_hash = i ? hashes[i - 1] : a->last_hash;
    if ((rc = wd_audit__hash(r, hashes[i]))) goto out;
    r->hash = hashes[i];
  }
  if ((rc = wd_store_audit_append_fx(a->store, rows, n, fx, nfx))) goto out;
  a->last_seq += (int64_t)n;
  memcpy(a->last_hash, hashes[n - 1], 65);
  p = batch;
  for (size_t i = 0; i < n; i++, p = p->next)
    p->seq = rows[i].seq;
out:
  if (rc) a->tail_known = 0; /* another writer may have moved the tail: re-read it */
  wd_free(rows);
  wd_free(times);
  wd_free(hashes);
  wd_free(fx);
  return rc;
}

static int enqueue_and_wait(wd_audit *a, pending *me) {
  pthread_mutex_lock(&a->mu);
  if (a->tail)
    a->tail->next = me;
  else
    a->head = me;
  a->tail = me;
  while (!me->done) {
    if (a->committing) {
      pthread_cond_wait(&a->cv, &a->mu);
      continue;
    }
    /* Become the committer for what is queued now. */
    pending *batch = a->head, *last = batch;
    size_t n = 1;
    while (last->next && n < WD_LIMIT_AUDIT_BATCH) {
      last = last->next;
      n++;
    }
    a->head = last->next;
    if (!a->head) a->tail = NULL;
    last->next = NULL;
    a->committing = 1;
    pthread_mutex_unlock(&a->mu);

    int rc = commit_batch(a, batch, n);

    pthread_mutex_lock(&a->mu);
    for (pending *p = batch; p; p = p->next) {
      p->rc = rc;
      p->done = 1;
    }
    if (rc == 0) {
      a->n_records += n;
      a->n_commits++;
    }
    a->committing = 0;
    pthread_cond_broadcast(&a->cv);
  }
  pthread_mutex_unlock(&a->mu);
  return me->rc;
}

static int check_text(const char *s, int optional) {
  size_t n;
  if (!s) return optional ? 0 : -WD_E_INVAL;
  n = strlen(s);
  if (n > WD_LIMIT_STORE_FIELD_BYTES) return -WD_E_TOOBIG;
  return wd_audit__utf8_ok(s, n) ? 0 : -WD_E_INVAL;
}

static int append_canon(wd_audit *a, wd_audit_type type, const char *actor, const char *task,
                        const char *canon, const wd_store_fx *fx, size_t nfx, int64_t *seq) {
  pending me = {.type = type, .actor = actor, .task = task, .payload = canon, .fx = fx, .nfx = nfx};
  int rc = enqueue_and_wait(a, &me);
  if (rc == 0 && seq) *seq = me.seq;
  return rc;
}

int wd_audit_append(wd_audit *a, wd_audit_type type, const char *actor, const char *task,
                    const char *payload, int64_t *seq) {
  char *canon = NULL;
  int rc;
  if (seq) *seq = 0;
  if (!a || (unsigned)type >= WD_AUDIT__TYPE_COUNT || !*(actor ? actor : "")) return -WD_E_INVAL;
  if ((rc = check_text(actor, 0)) || (rc = check_text(task, 1))) return rc;
  if (!payload) payload = "{}";
  if ((rc = wd_audit__canon_payload(payload, strlen(payload), &canon))) return rc;
  rc = append_canon(a, type, actor, task, canon, NULL, 0, seq);
  wd_free(canon);
  return rc;
}

int wd_audit_append_json(wd_audit *a, wd_audit_type type, const char *actor, const char *task,
                         const json_t *payload, int64_t *seq) {
  return wd_audit_append_json_fx(a, type, actor, task, payload, NULL, 0, seq);
}

int wd_audit_append_json_fx(wd_audit *a, wd_audit_type type, const char *actor, const char *task,
                            const json_t *payload, const wd_store_fx *fx, size_t nfx,
                            int64_t *seq) {
  wd_buf b;
  char *canon;
  int rc;
  if (seq) *seq = 0;
  if (!a || (unsigned)type >= WD_AUDIT__TYPE_COUNT || !actor || !*actor ||
      (payload && !json_is_object(payload)) || (nfx && !fx) || nfx > 2)
    return -WD_E_INVAL;
  if ((rc = check_text(actor, 0)) || (rc = check_text(task, 1))) return rc;
  wd_buf_init(&b, WD_LIMIT_AUDIT_PAYLOAD_BYTES);
  rc = payload ? wd_audit__canon_value(payload, &b, 0) : wd_buf_adds(&b, "{}");
  if (rc) {
    wd_buf_free(&b);
    return rc;
  }
  if (!(canon = wd_buf_take(&b))) return -WD_E_NOMEM;
  rc = append_canon(a, type, actor, task, canon, fx, nfx, seq);
  wd_free(canon);
  return rc;
}

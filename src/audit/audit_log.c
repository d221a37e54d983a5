/* SPDX-License-Identifier: Apache-2.0
 *
 * The appender with group commit. Callers queue pending records; one
 * committer thread per log takes everything queued (up to
 * WD_LIMIT_AUDIT_BATCH records, in whole groups), assigns seq, time, prev_hash and hash in queue
 * order, writes the batch and its store effects in one transaction, and
 * then completes every record of the batch: a synchronous caller is woken,
 * an asynchronous one gets its callback. A record is complete only once it
 * is durable, yet N concurrent records cost about one fsync instead of N.
 * The thread exists so that a caller need not wait at all (the HTTP
 * layer parks the request instead of a worker thread).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "audit/audit_int.h"
#include "util/wd_alloc.h"

typedef struct pending {
  struct pending *next;
  wd_audit_type type;
  const char *actor;   /* borrowed from the caller */
  const char *task;    /* borrowed, may be NULL */
  const char *payload; /* canonical text; owned when cb is set */
  wd_store_fx fx[2];   /* copies; their strings are borrowed */
  size_t nfx;
  wd_audit_done_cb cb; /* NULL: a synchronous caller waits for done */
  void *ctx;
  int64_t seq; /* set by the committer */
  int rc;      /* set by the committer */
  int done;
  int joined; /* the next record belongs to the same group: same batch, same fate */
} pending;

struct wd_audit {
  wd_store *store; /* borrowed */
  pthread_mutex_t mu;
  pthread_cond_t work;  /* the committer waits here for records */
  pthread_cond_t done;  /* synchronous callers wait here */
  pending *head, *tail; /* records not yet taken by the committer */
  size_t queued;        /* records in head..tail */
  size_t last_batch;    /* records in the committer's previous batch */
  int gathering;        /* the committer sleeps in gather(): no need to wake it */
  int stop;
  pthread_t thread;
  int tail_known; /* last_seq/last_hash mirror the store; committer only */
  int64_t last_seq;
  char last_hash[65];
  uint64_t n_records, n_commits;
  uint64_t n_failed;             /* records the store failed to write */
  int last_error;                /* the last such failure's code */
  int failing;                   /* the last batch given to the store failed ... */
  int64_t failed_at_us;          /* ... at this CLOCK_MONOTONIC time */
  uint64_t n_queued, n_finished; /* every record ever queued, and completed */
};

static void *committer_main(void *arg);

_Static_assert(WD_LIMIT_AUDIT_GROUP <= WD_LIMIT_AUDIT_BATCH, "a group must fit in one batch");

int wd_audit_open(wd_store *store, wd_audit **out) {
  wd_audit *a;
  if (!store || !out) return -WD_E_INVAL;
  *out = NULL;
  a = wd_calloc(1, sizeof *a);
  if (!a) return -WD_E_NOMEM;
  int m = pthread_mutex_init(&a->mu, NULL) == 0;
  int w = m && pthread_cond_init(&a->work, NULL) == 0;
  int d = w && pthread_cond_init(&a->done, NULL) == 0;
  a->store = store;
  if (!d || pthread_create(&a->thread, NULL, committer_main, a) != 0) {
    if (d) pthread_cond_destroy(&a->done);
    if (w) pthread_cond_destroy(&a->work);
    if (m) pthread_mutex_destroy(&a->mu);
    wd_free(a);
    return -WD_E_INTERNAL;
  }
  *out = a;
  return 0;
}

void wd_audit_close(wd_audit *a) {
  if (!a) return;
  pthread_mutex_lock(&a->mu);
  a->stop = 1;
  pthread_cond_signal(&a->work);
  pthread_mutex_unlock(&a->mu);
  pthread_join(a->thread, NULL);
  pthread_cond_destroy(&a->work);
  pthread_cond_destroy(&a->done);
  pthread_mutex_destroy(&a->mu);
  wd_free(a);
}

void wd_audit_stats(wd_audit *a, uint64_t *records, uint64_t *commits, uint64_t *failed,
                    int *last_error) {
  if (!a) return;
  pthread_mutex_lock(&a->mu);
  if (records) *records = a->n_records;
  if (commits) *commits = a->n_commits;
  if (failed) *failed = a->n_failed;
  if (last_error) *last_error = a->last_error;
  pthread_mutex_unlock(&a->mu);
}

static int64_t mono_us(void);

int wd_audit_failing(wd_audit *a, unsigned hold_ms, int *last_error) {
  if (!a) return 0;
  pthread_mutex_lock(&a->mu);
  int r = a->failing && mono_us() - a->failed_at_us < (int64_t)hold_ms * 1000;
  if (r && last_error) *last_error = a->last_error;
  pthread_mutex_unlock(&a->mu);
  return r;
}

/* A refused effect (a task already ended, an agent quarantined a moment
 * before) is an answer; these are the store failing. */
static int is_failure(int rc) {
  return rc == -WD_E_IO || rc == -WD_E_STORE || rc == -WD_E_CORRUPT || rc == -WD_E_NOMEM ||
         rc == -WD_E_INTERNAL;
}

/* Writes records v[0..n); runs without the lock while a->committing is
 * set, so the chain state is ours alone. When an effect failed, *culprit
 * is its record (else NULL). */
static int commit_batch(wd_audit *a, pending **v, size_t n, pending **culprit) {
  wd_audit_row *rows = wd_calloc(n, sizeof *rows);
  char(*times)[WD_AUDIT_TIME_LEN + 1] = wd_calloc(n, sizeof *times);
  char(*hashes)[65] = wd_calloc(n, sizeof *hashes);
  wd_store_fx *fx = NULL;
  size_t nfx = 0, bad = 0;
  int rc = 0;
  *culprit = NULL;
  for (size_t i = 0; i < n; i++)
    nfx += v[i]->nfx;
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
  /* A tail no append wrote (a row below 1 or past 2^53 put there around
   * the log): numbering on from it would write records no verifier
   * accepts, and overflow at INT64_MAX. A storage failure: it needs an
   * operator. */
  if (a->last_seq < 0 || a->last_seq > WD_AUDIT_SEQ_MAX - (int64_t)n) {
    rc = -WD_E_STORE;
    goto out;
  }
  nfx = 0;
  for (size_t i = 0; i < n; i++) {
    const pending *p = v[i];
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
  if ((rc = wd_store_audit_append_fx_at(a->store, rows, n, fx, nfx, &bad))) {
    for (size_t i = 0, k = 0; bad < nfx && i < n && !*culprit; k += v[i++]->nfx)
      if (bad < k + v[i]->nfx) *culprit = v[i];
    goto out;
  }
  a->last_seq += (int64_t)n;
  memcpy(a->last_hash, hashes[n - 1], 65);
  for (size_t i = 0; i < n; i++)
    v[i]->seq = rows[i].seq;
out:
  if (rc) a->tail_known = 0; /* another writer may have moved the tail: re-read it */
  wd_free(rows);
  wd_free(times);
  wd_free(hashes);
  wd_free(fx);
  return rc;
}

/* Completes a committed batch: wakes the synchronous callers and runs the
 * callbacks (outside the lock: a callback may take other locks). */
static void finish(wd_audit *a, pending *batch, size_t n, unsigned commits) {
  pending *async = NULL;
  size_t written = 0, failed = 0;
  int last = 0;
  for (pending *p = batch; p; p = p->next) {
    written += p->rc == 0;
    if (is_failure(p->rc)) {
      failed++;
      last = p->rc;
    }
  }
  pthread_mutex_lock(&a->mu);
  for (pending *p = batch, *next; p; p = next) {
    next = p->next; /* INVARIANT: a synchronous p may vanish once done is set */
    if (p->cb) {
      p->next = async;
      async = p;
    } else {
      p->done = 1;
    }
  }
  a->n_records += written;
  a->n_commits += commits;
  a->n_failed += failed;
  if (last) {
    a->last_error = last;
    a->failing = 1;
    a->failed_at_us = mono_us();
  } else if (written) {
    a->failing = 0;
  }
  a->n_finished += n;
  pthread_cond_broadcast(&a->done);
  pthread_mutex_unlock(&a->mu);
  for (pending *p = async, *next; p; p = next) {
    next = p->next;
    p->cb(p->ctx, p->rc, p->rc ? 0 : p->seq);
    wd_free((char *)(uintptr_t)p->payload);
    wd_free(p);
  }
}

/* Commits the batch; when an effect is refused (a task opened for an
 * agent quarantined a moment before, a task ended twice at once), its
 * group fails alone and the rest is written without it: each refusal
 * costs one more transaction, never one per group. Returns the
 * transactions that committed. */
static unsigned commit_groups(wd_audit *a, pending *batch, size_t n) {
  pending **v = wd_calloc(n, sizeof *v);
  size_t m = 0;
  unsigned commits = 0;
  if (!v) {
    for (pending *p = batch; p; p = p->next)
      p->rc = -WD_E_NOMEM;
    return 0;
  }
  for (pending *p = batch; p; p = p->next)
    v[m++] = p;
  while (m) {
    pending *culprit = NULL;
    int rc = commit_batch(a, v, m, &culprit);
    size_t at = 0;
    while (culprit && v[at] != culprit)
      at++;
    if (rc == 0 || !culprit) {
      for (size_t i = 0; i < m; i++)
        v[i]->rc = rc;
      commits += rc == 0;
      break;
    }
    size_t lo = at, hi = at + 1; /* the culprit's group: v[lo..hi) */
    while (lo > 0 && v[lo - 1]->joined)
      lo--;
    while (hi < m && v[hi - 1]->joined)
      hi++;
    for (size_t i = lo; i < hi; i++)
      v[i]->rc = rc;
    memmove(v + lo, v + hi, (m - hi) * sizeof *v);
    m -= hi - lo;
  }
  wd_free(v);
  return commits;
}

static int64_t mono_us(void) {
  struct timespec ts;
  (void)clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Under concurrent load (the previous batch held more than one record),
 * waits while records keep arriving, so that more records share a
 * commit's fixed cost: its fsync, and the pages every batch rewrites (the
 * log's last leaf and its index, the task's row). With the workers busy
 * the queue is short whenever a commit ends, and committing at once made
 * batches of a handful. Waits WD_LIMIT_AUDIT_COMMIT_WAIT_US at most, and
 * stops after WD_LIMIT_AUDIT_COMMIT_GAP_US with nothing new; a lone
 * record is committed at once. Called with a->mu held. */
static void gather(wd_audit *a) {
  if (a->last_batch < 2) return;
  int64_t start = mono_us(), now = start, end = start + WD_LIMIT_AUDIT_COMMIT_WAIT_US;
  /* Appenders leave the committer asleep meanwhile: a wake-up per record
   * cost more than the wait saved. It looks at the queue once a gap. */
  a->gathering = 1;
  while (!a->stop && a->queued < WD_LIMIT_AUDIT_BATCH && now < end) {
    size_t before = a->queued;
    int64_t until =
        now + WD_LIMIT_AUDIT_COMMIT_GAP_US < end ? now + WD_LIMIT_AUDIT_COMMIT_GAP_US : end;
    /* The condition variable's clock is CLOCK_REALTIME; only the span
     * matters here, taken from the monotonic clock. */
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ns = ts.tv_nsec + (until - now) * 1000;
    ts.tv_sec += (time_t)(ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    while (!a->stop && pthread_cond_timedwait(&a->work, &a->mu, &ts) == 0) {
    }
    if (a->queued == before) break; /* a gap: whoever was in flight is in */
    now = mono_us();
  }
  a->gathering = 0;
}

static void *committer_main(void *arg) {
  wd_audit *a = arg;
  pthread_mutex_lock(&a->mu);
  for (;;) {
    while (!a->head && !a->stop)
      pthread_cond_wait(&a->work, &a->mu);
    if (!a->head) break; /* stopping with nothing queued */
    gather(a);
    pending *batch = a->head, *last = NULL;
    size_t n = 0;
    /* Whole groups only, and only while they fit: a batch never holds
     * more than WD_LIMIT_AUDIT_BATCH records, which is all the store
     * takes in one call (a group is queued at once, never cut short). */
    for (pending *p = batch; p;) {
      pending *end = p;
      size_t g = 1;
      while (end->joined && end->next) {
        end = end->next;
        g++;
      }
      if (n && n + g > WD_LIMIT_AUDIT_BATCH) break;
      n += g;
      last = end;
      p = end->next;
    }
    if (!last) continue; /* never: a->head was not NULL */
    a->head = last->next;
    if (!a->head) a->tail = NULL;
    last->next = NULL;
    a->queued -= n;
    a->last_batch = n;
    pthread_mutex_unlock(&a->mu);
    unsigned commits = commit_groups(a, batch, n);
    finish(a, batch, n, commits);
    pthread_mutex_lock(&a->mu);
  }
  pthread_mutex_unlock(&a->mu);
  return NULL;
}

static void enqueue(wd_audit *a, pending *p) {
  if (a->tail)
    a->tail->next = p;
  else
    a->head = p;
  a->tail = p;
  a->queued++;
  a->n_queued++;
  if (!a->gathering) pthread_cond_signal(&a->work);
}

/* Batches complete in queue order, so the completed count passing the
 * queued count seen on entry means every record queued before is done. */
void wd_audit_barrier(wd_audit *a) {
  if (!a) return;
  pthread_mutex_lock(&a->mu);
  uint64_t ticket = a->n_queued;
  while (a->n_finished < ticket)
    pthread_cond_wait(&a->done, &a->mu);
  pthread_mutex_unlock(&a->mu);
}

static int check_text(const char *s, int optional) {
  size_t n;
  if (!s) return optional ? 0 : -WD_E_INVAL;
  n = strlen(s);
  if (n > WD_LIMIT_STORE_FIELD_BYTES) return -WD_E_TOOBIG;
  return wd_audit__utf8_ok(s, n) ? 0 : -WD_E_INVAL;
}

/* Queues me[0..n) (on the caller's stack) and waits for them: a group
 * completes in one batch, so its last record done means all. Returns
 * the group's outcome. */
static int append_waiting(wd_audit *a, pending *me, size_t n) {
  pthread_mutex_lock(&a->mu);
  for (size_t i = 0; i < n; i++)
    enqueue(a, &me[i]);
  while (!me[n - 1].done)
    pthread_cond_wait(&a->done, &a->mu);
  pthread_mutex_unlock(&a->mu);
  return me[n - 1].rc;
}

static int append_canon(wd_audit *a, wd_audit_type type, const char *actor, const char *task,
                        const char *canon, const wd_store_fx *fx, size_t nfx, int64_t *seq) {
  pending me = {.type = type, .actor = actor, .task = task, .payload = canon, .nfx = nfx};
  if (nfx) memcpy(me.fx, fx, nfx * sizeof *fx);
  int rc = append_waiting(a, &me, 1);
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
  if ((rc = wd_audit__canon_payload(payload, strlen(payload), 0, &canon))) return rc;
  rc = append_canon(a, type, actor, task, canon, NULL, 0, seq);
  wd_free(canon);
  return rc;
}

int wd_audit_append_json(wd_audit *a, wd_audit_type type, const char *actor, const char *task,
                         const json_t *payload, int64_t *seq) {
  return wd_audit_append_json_fx(a, type, actor, task, payload, NULL, 0, seq);
}

static int canon_json(wd_audit *a, wd_audit_type type, const char *actor, const char *task,
                      const json_t *payload, const wd_store_fx *fx, size_t nfx, char **out) {
  wd_buf b;
  int rc;
  *out = NULL;
  if (!a || (unsigned)type >= WD_AUDIT__TYPE_COUNT || !actor || !*actor ||
      (payload && !json_is_object(payload)) || (nfx && !fx) || nfx > 2)
    return -WD_E_INVAL;
  if ((rc = check_text(actor, 0)) || (rc = check_text(task, 1))) return rc;
  wd_buf_init(&b, WD_LIMIT_AUDIT_PAYLOAD_BYTES);
  rc = payload ? wd_audit__canon_value(payload, &b, 0, 0) : wd_buf_adds(&b, "{}");
  if (rc) {
    wd_buf_free(&b);
    return rc;
  }
  return (*out = wd_buf_take(&b)) ? 0 : -WD_E_NOMEM;
}

int wd_audit_append_json_fx(wd_audit *a, wd_audit_type type, const char *actor, const char *task,
                            const json_t *payload, const wd_store_fx *fx, size_t nfx,
                            int64_t *seq) {
  char *canon;
  if (seq) *seq = 0;
  int rc = canon_json(a, type, actor, task, payload, fx, nfx, &canon);
  if (rc) return rc;
  rc = append_canon(a, type, actor, task, canon, fx, nfx, seq);
  wd_free(canon);
  return rc;
}

int wd_audit_append_group(wd_audit *a, const char *actor, const char *task, wd_audit_entry *e,
                          size_t n) {
  pending me[WD_LIMIT_AUDIT_GROUP];
  int rc = 0;
  if (!e || n == 0) return -WD_E_INVAL;
  if (n > WD_LIMIT_AUDIT_GROUP) return -WD_E_TOOBIG;
  memset(me, 0, sizeof me);
  for (size_t i = 0; i < n && !rc; i++) {
    char *canon = NULL;
    e[i].seq = 0;
    rc = canon_json(a, e[i].type, actor, task, e[i].payload, e[i].fx, e[i].nfx, &canon);
    me[i] = (pending){.type = e[i].type,
                      .actor = actor,
                      .task = task,
                      .payload = canon,
                      .nfx = e[i].nfx,
                      .joined = i + 1 < n};
    if (!rc && e[i].nfx) memcpy(me[i].fx, e[i].fx, e[i].nfx * sizeof *e[i].fx);
  }
  if (!rc) rc = append_waiting(a, me, n);
  for (size_t i = 0; i < n && !rc; i++)
    e[i].seq = me[i].seq;
  for (size_t i = 0; i < n; i++)
    wd_free((char *)(uintptr_t)me[i].payload);
  return rc;
}

/* Queues an owned canonical payload; frees it when the record is refused. */
static int enqueue_async(wd_audit *a, wd_audit_type type, const char *actor, const char *task,
                         char *canon, const wd_store_fx *fx, size_t nfx, wd_audit_done_cb cb,
                         void *ctx) {
  pending *p = wd_calloc(1, sizeof *p);
  if (!p) {
    wd_free(canon);
    return -WD_E_NOMEM;
  }
  p->type = type;
  p->actor = actor;
  p->task = task;
  p->payload = canon;
  p->nfx = nfx;
  if (nfx) memcpy(p->fx, fx, nfx * sizeof *fx);
  p->cb = cb;
  p->ctx = ctx;
  pthread_mutex_lock(&a->mu);
  enqueue(a, p);
  pthread_mutex_unlock(&a->mu);
  return 0;
}

int wd_audit_append_json_async(wd_audit *a, wd_audit_type type, const char *actor, const char *task,
                               const json_t *payload, const wd_store_fx *fx, size_t nfx,
                               wd_audit_done_cb cb, void *ctx) {
  char *canon;
  if (!cb) return -WD_E_INVAL;
  int rc = canon_json(a, type, actor, task, payload, fx, nfx, &canon);
  if (rc) return rc;
  return enqueue_async(a, type, actor, task, canon, fx, nfx, cb, ctx);
}

/* Whether text is exactly its own canonical encoding. Only builds with
 * assertions pay for this: a caller that writes canonical text does so to
 * skip the parse. */
static int canon_checked(const char *text, size_t len) {
#ifdef NDEBUG
  (void)text;
  (void)len;
  return 1;
#else
  char *again = NULL;
  int same = wd_audit__canon_payload(text, len, WD_AUDIT__STORED, &again) == 0 &&
             strlen(again) == len && memcmp(again, text, len) == 0;
  wd_free(again);
  return same;
#endif
}

int wd_audit_append_canon_async(wd_audit *a, wd_audit_type type, const char *actor,
                                const char *task, char *canon, size_t len, const wd_store_fx *fx,
                                size_t nfx, wd_audit_done_cb cb, void *ctx) {
  int rc = 0;
  if (!a || !cb || !canon || (unsigned)type >= WD_AUDIT__TYPE_COUNT || !actor || !*actor ||
      (nfx && !fx) || nfx > 2 || len < 2 || canon[0] != '{' || canon[len - 1] != '}' ||
      strlen(canon) != len)
    rc = -WD_E_INVAL;
  else if (len > WD_LIMIT_AUDIT_PAYLOAD_BYTES)
    rc = -WD_E_TOOBIG;
  else if (!(rc = check_text(actor, 0)) && !(rc = check_text(task, 1)) &&
           !canon_checked(canon, len))
    rc = -WD_E_INVAL;
  if (rc) {
    wd_free(canon);
    return rc;
  }
  return enqueue_async(a, type, actor, task, canon, fx, nfx, cb, ctx);
}

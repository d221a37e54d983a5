/* SPDX-License-Identifier: Apache-2.0
 *
 * Group commit for the SQLite backend's hot writes (the per-call budget
 * counter, session updates, the DPoP replay cache, evidence rows). With
 * synchronous=FULL every commit costs an fsync (about 1.5 ms on the CI
 * disk), so one transaction per call would cap the service at a few
 * hundred writes per second. Instead a caller queues a job and waits;
 * whoever finds no commit running becomes the committer, runs every
 * queued job inside one transaction (each behind its own savepoint, so a
 * failing job leaves the others intact), commits once and wakes them all.
 * Every caller still returns only after its own write is durable.
 */
#include "store/store_sqlite_int.h"

typedef struct sq_job {
  struct sq_job *next;
  sq_job_fn fn;
  void *arg;
  int rc;
  int done;
} sq_job;

/* Runs one job behind a savepoint; returns non-zero only when the shared
 * transaction itself is lost (the whole batch fails). */
static int run_job(sq_conn *c, sq_job *j) {
  int rc = wd_store__sq_simple(c, SQ_SAVEPOINT);
  if (rc) return rc;
  j->rc = j->fn(c, j->arg);
  if (sqlite3_get_autocommit(c->db))
    return j->rc ? j->rc : -WD_E_STORE; /* SQLite rolled the transaction back */
  if (j->rc && (rc = wd_store__sq_simple(c, SQ_ROLLBACK_TO))) return rc;
  return wd_store__sq_simple(c, SQ_RELEASE);
}

static int commit_batch(sq_store *s, sq_job *batch) {
  sq_conn *c = NULL;
  int rc;
  if ((rc = wd_store__sq_acquire(s, &c))) return rc;
  if ((rc = wd_store__sq_begin(c)) == 0) {
    for (sq_job *j = batch; j && rc == 0; j = j->next)
      rc = run_job(c, j);
    rc = wd_store__sq_end(c, rc);
  }
  wd_store__sq_release(s, c);
  return rc;
}

int wd_store__sq_grouped(sq_store *s, sq_job_fn fn, void *arg) {
  sq_job me = {.fn = fn, .arg = arg};
  pthread_mutex_lock(&s->mu);
  if (s->gtail)
    s->gtail->next = &me;
  else
    s->ghead = &me;
  s->gtail = &me;
  while (!me.done) {
    if (s->gbusy) {
      pthread_cond_wait(&s->gcv, &s->mu);
      continue;
    }
    sq_job *batch = s->ghead;
    s->ghead = s->gtail = NULL;
    s->gbusy = 1;
    pthread_mutex_unlock(&s->mu);

    int rc = commit_batch(s, batch);

    pthread_mutex_lock(&s->mu);
    for (sq_job *j = batch, *next; j; j = next) {
      next = j->next; /* INVARIANT: j may return (and vanish) once done is set and mu released */
      if (rc) j->rc = rc;
      j->done = 1;
      s->gjobs++;
    }
    s->gcommits++;
    s->gbusy = 0;
    pthread_cond_broadcast(&s->gcv);
  }
  pthread_mutex_unlock(&s->mu);
  return me.rc;
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Private to src/gov: the live state of the per-call path, kept in memory
 * so that a decision costs no store read and one durable write.
 *
 * - The replay cache remembers every DPoP proof jti until its window ends.
 *   It answers the single-use question atomically in memory; the jti is
 *   made durable with the request's evidence record (or at once, on routes
 *   that write no record), so a restart still refuses a replay.
 * - Live tasks: for each task in use, its row, its agent, its session
 *   sets and the revocation verdicts of its tokens, loaded from the store
 *   on first use. Calls and session changes are made here first and
 *   reach the store as effects of the decision record.
 *
 * The store stays the truth. Every change made to a task or an agent
 * outside the per-call path (end, intent change, quarantine, release) is
 * written to the store first and then forgets the live entry, so the next
 * request reloads it; a loader that raced with such a change sees the
 * bucket's generation move and reloads. This holds while one process
 * writes the store, which `warden serve` enforces with a lock on the
 * data directory.
 */
#ifndef WD_GOV_LIVE_H
#define WD_GOV_LIVE_H

#include <pthread.h>
#include <stdint.h>

#include "audit/wd_audit.h"
#include "store/wd_store.h"

/* ---- replay cache ---- */

typedef struct wd_gov__replay wd_gov__replay;

int wd_gov__replay_new(wd_gov__replay **out);
void wd_gov__replay_free(wd_gov__replay *r);
/* Records jti until exp_ms. Returns 1 when it was new, 0 for a replay,
 * -WD_E_TOOBIG when the cache cannot tell (the caller then asks the
 * store): it is full of live entries, or a jti it could not hold, which
 * only the store saw, may still be live. */
int wd_gov__replay_check(wd_gov__replay *r, const char *jti, int64_t exp_ms, int64_t now_ms);

/* ---- live tasks ---- */

#define WD_GOV__LIVE_TOKENS 8 /* token verdicts remembered per task */

/* One task in use. Fields below mu are guarded by it; a holder of a
 * reference may lock it. Strings are owned by the entry. */
typedef struct wd_gov__ltask {
  pthread_mutex_t mu;
  int dead;       /* forgotten: the store changed; reload before use */
  int fenced;     /* guarded by the table's lock: a change is being written */
  wd_task task;   /* calls and denials are the live counts */
  wd_agent agent; /* the task's agent as loaded */
  wd_session ss;  /* sets only; counts live in task */
  struct {
    char jti[64];
    int revoked;
  } tok[WD_GOV__LIVE_TOKENS];
  unsigned ntok;
  unsigned ss_gen; /* moves when a session set grows or a call is denied */
  /* Table links, guarded by the table's lock. */
  unsigned refs;
  struct wd_gov__ltask *next;
} wd_gov__ltask;

typedef struct wd_gov__live wd_gov__live;

/* store and audit are borrowed. Before a load reads the store, every
 * record already queued on audit (NULL: none) is waited for: a call's
 * counts and session values reach the store with its record, and an
 * entry dropped or forgotten while its calls' records were in flight
 * must not reload without them. */
int wd_gov__live_new(wd_store *store, wd_audit *audit, wd_gov__live **out);
void wd_gov__live_free(wd_gov__live *l);
/* A counted reference to the live entry of task id, loaded on a miss.
 * -WD_E_NOTFOUND for an unknown task. Release with wd_gov__live_put. */
int wd_gov__live_get(wd_gov__live *l, const char *id, wd_gov__ltask **out);
/* Releases a reference; NULL is a no-op. Never call with t->mu held. */
void wd_gov__live_put(wd_gov__live *l, wd_gov__ltask *t);
/* Forgets the entry of a task whose stored state just changed. */
void wd_gov__live_forget(wd_gov__live *l, const char *id);
/* Fences task id while a change to it is written through the log, where
 * it lands only with a group commit: a call holding the entry sees it
 * dead, and until wd_gov__live_forget every get answers -WD_E_NOTFOUND
 * and no load is kept (a load would read the store before the change).
 * So no call is allowed after the change's records. -WD_E_NOMEM. */
int wd_gov__live_fence(wd_gov__live *l, const char *id);
/* Forgets every entry of an agent (status change, quarantine). */
void wd_gov__live_forget_agent(wd_gov__live *l, const char *agent_id);
/* wd_gov__live_fence for every task of an agent, present or loaded later,
 * while its stop is written through the log: a task opened in the
 * meantime gets no call allowed after the stop's record either. Lifted
 * (and the agent forgotten) by wd_gov__live_unfence_agent, once per
 * successful fence. -WD_E_NOMEM, or -WD_E_TOOBIG past
 * WD_LIMIT_GOV_AGENT_FENCES agents at once. */
int wd_gov__live_fence_agent(wd_gov__live *l, const char *agent_id);
void wd_gov__live_unfence_agent(wd_gov__live *l, const char *agent_id);
/* 1 while agent_id is fenced. */
int wd_gov__live_agent_fenced(wd_gov__live *l, const char *agent_id);
/* With t->mu held: whether token jti of this task is revoked, asking the
 * store once per token. Returns 0 and *revoked, or a store error. */
int wd_gov__live_token_revoked(wd_gov__live *l, wd_gov__ltask *t, const char *jti, int *revoked);
/* With t->mu held: adds an allowed call's values to the session sets;
 * added (may be NULL) gets a bit per set that grew (1 tool, 2
 * classification, 4 destination), so only news need writing to the store.
 * -WD_E_TOOBIG when a set is full (the caller denies), -WD_E_NOMEM. */
int wd_gov__live_touch(wd_gov__ltask *t, const char *tool, const char *cls, const char *dest,
                       unsigned *added);
/* With t->mu held: owned copies of the task and session for a decision
 * made without the lock (free with wd_store_task_free and
 * wd_store_session_free). */
int wd_gov__live_snapshot(const wd_gov__ltask *t, wd_task *task, wd_session *ss);

#endif

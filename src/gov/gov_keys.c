/* SPDX-License-Identifier: Apache-2.0
 *
 * Warden's signing keys: a new key at every start (unless the set is
 * full), and periodic rotation while the service runs. Every interval a
 * thread builds a NEW keyset (a copy loaded from <data>/keys, which always
 * mirrors the set being served), rotates and prunes the copy, saves it
 * (0600, atomically), logs key.rotated and only then swaps it in under
 * the keys_lock write lock; the old set is freed after the swap. A failed
 * save leaves the served set, the files on disk and the log as they were.
 * A failed record puts the served set back on disk, so no key signs
 * anything the log does not account for: no half state.
 *
 * Old keys stay valid for WD_IDENT_TOKEN_TTL_MAX plus leeway after their
 * retirement, so every token they signed verifies until it expires. A
 * rotation never evicts a still-valid key: when the set is full (an
 * interval far below the overlap) the round is skipped, and a start in
 * that state keeps serving the active key instead of making a new one.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gov/gov_int.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"

/* After a failed round, retry sooner than a whole interval. */
#define RETRY_S 60u

struct wd_gov__keyrot {
  pthread_t thread;
  int started;
  unsigned interval_s;
  pthread_mutex_t mu;  /* guards stopping */
  pthread_cond_t cond; /* on CLOCK_MONOTONIC: wall-clock jumps do not skew the period */
  int stopping;
  pthread_mutex_t busy; /* serialises rotations (the thread and tests) */
};

static void keys_dir(const wd_gov *g, char *out, size_t len) {
  (void)snprintf(out, len, "%s/keys", g->data_dir);
}

/* The served set's active kid, into out; 0 when there is none. */
static int active_kid(wd_gov *g, char out[WD_IDENT_JKT_LEN + 1]) {
  pthread_rwlock_rdlock(&g->keys_lock);
  const wd_ident_key *k = wd_ident_keyset_active(g->keys);
  if (k) (void)snprintf(out, WD_IDENT_JKT_LEN + 1, "%s", wd_ident_key_jkt(k));
  pthread_rwlock_unlock(&g->keys_lock);
  return k != NULL;
}

/* Saves next, the rotated set, and records it; when the record fails,
 * saves restore (the set before the rotation) in its place and returns the
 * failure. *swap says whether next must now be served: it is on disk and
 * recorded, or on disk and restore could not be put back (memory must
 * not split from disk). */
static int commit_set(wd_gov *g, const wd_ident_keyset *next, const wd_ident_keyset *restore,
                      const char *dir, const char *prev, const char *reason, int *swap) {
  *swap = 0;
  /* Until the manifest lands the old manifest names the old files, so a
   * failed save leaves the directory describing the served set. */
  int rc = wd_ident_keyset_save(next, dir);
  if (rc) return rc;
  json_t *p = json_pack("{s:s, s:s, s:s}", "action", "key.rotated", "kid",
                        wd_ident_key_jkt(wd_ident_keyset_active(next)), "reason", reason);
  if (p && *prev && json_object_set_new(p, "previous", json_string(prev)) != 0) {
    json_decref(p);
    p = NULL;
  }
  /* The record goes before the swap, so no token signed by the new key
   * precedes it in the log. */
  rc = p ? wd_gov__log(g, WD_AUDIT_ADMIN_ACTION, "warden", NULL, p, NULL) : -WD_E_NOMEM;
  json_decref(p);
  if (rc == 0 || !restore || wd_ident_keyset_save(restore, dir) != 0) *swap = 1;
  return rc;
}

static int rotate_locked(wd_gov *g, int64_t now) {
  char dir[4200], prev[WD_IDENT_JKT_LEN + 1] = "";
  keys_dir(g, dir, sizeof dir);
  wd_ident_keyset *next = NULL;
  int rc = wd_ident_keyset_load(dir, &next), swap = 0;
  if (rc) goto out;
  /* The copy must be the set being served; anything else means the
   * directory changed under us, and rotating it would serve a set nobody
   * has verified. */
  const wd_ident_key *disk = wd_ident_keyset_active(next);
  if (!active_kid(g, prev) || !disk || strcmp(prev, wd_ident_key_jkt(disk)) != 0) {
    rc = -WD_E_VALIDATE;
    goto out;
  }
  wd_ident_keyset_prune(next, now);
  if (wd_ident_keyset_count(next) >= WD_LIMIT_KEYSET_KEYS) {
    /* Rotating now would evict a key that live tokens still need. */
    rc = -WD_E_TOOBIG;
    goto out;
  }
  if ((rc = wd_ident_keyset_rotate(next, now, WD_IDENT_TOKEN_TTL_MAX)) != 0) goto out;
  /* Only this thread (under busy) replaces g->keys, so reading it here
   * needs no more than the read lock. */
  pthread_rwlock_rdlock(&g->keys_lock);
  rc = commit_set(g, next, g->keys, dir, prev, "interval", &swap);
  pthread_rwlock_unlock(&g->keys_lock);
  if (!swap) goto out;
  pthread_rwlock_wrlock(&g->keys_lock);
  wd_ident_keyset *old = g->keys;
  g->keys = next;
  pthread_rwlock_unlock(&g->keys_lock);
  /* Readers use keys only inside the read lock, so nothing borrows old. */
  next = old;
out:
  wd_ident_keyset_free(next);
  return rc;
}

int wd_gov__keys_load(wd_gov *g, char *err, size_t errlen) {
  char dir[4200], why[1024] = "";
  keys_dir(g, dir, sizeof dir);
  wd_ident_keyset *ks = NULL;
  int rc = wd_ident_keyset_load_diag(dir, &ks, why, sizeof why);
  /* Only a keys/ without a manifest is a first start: a manifest whose
   * keys cannot be read would otherwise be replaced by a new set, and
   * every token the lost keys signed would silently stop verifying. */
  if (rc == -WD_E_NOTFOUND) rc = wd_ident_keyset_new(&ks);
  if (rc && why[0])
    WD_GOV__FAIL(rc,
                 "cannot set up signing keys: %s. Restore it from a backup of %s; or, accepting "
                 "that every token the saved keys signed stops verifying, move %s aside and "
                 "start again to make a new keyset",
                 why, dir, dir);
  if (rc) WD_GOV__FAIL(rc, "cannot set up signing keys in %s: %s", dir, wd_strerror(rc));
  g->keys = ks;
  ks = NULL;
cleanup:
  wd_ident_keyset_free(ks);
  return rc;
}

int wd_gov__keys_renew(wd_gov *g) {
  char dir[4200], prev[WD_IDENT_JKT_LEN + 1] = "";
  keys_dir(g, dir, sizeof dir);
  int64_t now = wd_gov__now_ms() / 1000;
  wd_ident_keyset *ks = NULL;
  int rc = wd_ident_keyset_load(dir, &ks), swap = 0;
  if (rc == -WD_E_NOTFOUND) rc = wd_ident_keyset_new(&ks);
  if (rc) goto out;
  /* The copy must be the set loaded at start (wd_gov__keys_load). */
  const wd_ident_key *disk = wd_ident_keyset_active(ks);
  int served = active_kid(g, prev);
  if (served != (disk != NULL) || (disk && strcmp(prev, wd_ident_key_jkt(disk)) != 0)) {
    rc = -WD_E_VALIDATE;
    goto out;
  }
  wd_ident_keyset_prune(ks, now);
  /* A new key at every start; the previous one verifies until the longest
   * token it could have signed has expired. Restarts far faster than that
   * overlap fill the set, and rotating a full set would evict a key that
   * live tokens need: then, like a rotation round, the start keeps
   * serving the active key (recorded when it was made) and makes neither
   * a key nor a record. A full set pruned nothing, so the disk already
   * holds exactly the set served. */
  if (wd_ident_keyset_count(ks) >= WD_LIMIT_KEYSET_KEYS) goto out;
  if ((rc = wd_ident_keyset_rotate(ks, now, WD_IDENT_TOKEN_TTL_MAX)) != 0) goto out;
  /* No rotation thread runs yet: g->keys changes only here. */
  rc = commit_set(g, ks, served ? g->keys : NULL, dir, prev, "start", &swap);
  if (!swap) goto out;
  pthread_rwlock_wrlock(&g->keys_lock);
  wd_ident_keyset *old = g->keys;
  g->keys = ks;
  pthread_rwlock_unlock(&g->keys_lock);
  ks = old;
out:
  wd_ident_keyset_free(ks);
  return rc;
}

int wd_gov__keys_rotate(wd_gov *g, int64_t now) {
  if (!g || !g->keyrot) return -WD_E_INVAL;
  pthread_mutex_lock(&g->keyrot->busy);
  int rc = rotate_locked(g, now);
  pthread_mutex_unlock(&g->keyrot->busy);
  return rc;
}

static void *rot_main(void *arg) {
  wd_gov *g = arg;
  struct wd_gov__keyrot *r = g->keyrot;
  struct timespec due;
  (void)clock_gettime(CLOCK_MONOTONIC, &due);
  unsigned wait_s = r->interval_s;
  pthread_mutex_lock(&r->mu);
  while (!r->stopping) {
    due.tv_sec += (time_t)wait_s;
    while (!r->stopping && pthread_cond_timedwait(&r->cond, &r->mu, &due) != ETIMEDOUT) {
    }
    if (r->stopping) break;
    pthread_mutex_unlock(&r->mu);
    int rc = wd_gov__keys_rotate(g, wd_gov__now_ms() / 1000);
    /* A failed round keeps serving the old key and tries again soon. */
    wait_s = rc == 0 || r->interval_s < RETRY_S ? r->interval_s : RETRY_S;
    struct timespec now;
    (void)clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > due.tv_sec) due = now; /* a slow round does not cause a burst */
    pthread_mutex_lock(&r->mu);
  }
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

int wd_gov__keys_start(wd_gov *g, unsigned interval_s) {
  struct wd_gov__keyrot *r = wd_calloc(1, sizeof *r);
  if (!r) return -WD_E_NOMEM;
  r->interval_s = interval_s ? interval_s : WD_GOV_KEY_ROTATION_DEFAULT_S;
  int rc = -WD_E_INTERNAL;
  if (wd_gov__cond_init_monotonic(&r->cond) != 0) goto fail_alloc;
  pthread_mutex_init(&r->mu, NULL);
  pthread_mutex_init(&r->busy, NULL);
  g->keyrot = r;
  if (pthread_create(&r->thread, NULL, rot_main, g) != 0) {
    wd_gov__keys_stop(g);
    return rc;
  }
  r->started = 1;
  return 0;
fail_alloc:
  wd_free(r);
  return rc;
}

void wd_gov__keys_stop(wd_gov *g) {
  struct wd_gov__keyrot *r = g ? g->keyrot : NULL;
  if (!r) return;
  if (r->started) {
    pthread_mutex_lock(&r->mu);
    r->stopping = 1;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
  }
  g->keyrot = NULL;
  pthread_mutex_destroy(&r->mu);
  pthread_mutex_destroy(&r->busy);
  pthread_cond_destroy(&r->cond);
  wd_free(r);
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * For unit tests over a real SQLite store: a database path in a fresh
 * temporary directory, its removal with every file SQLite keeps beside
 * it, a fixture holding an open store there, and an enrolled agent to
 * run tasks for. Include after cmocka.h.
 */
#ifndef WD_TEST_STORE_FIXTURE_H
#define WD_TEST_STORE_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "store/wd_store.h"

/* Makes /tmp/wd_<tag>_XXXXXX and puts <dir>/warden.db in path: 0, or -1. */
static inline int tmp_db_make(char dir[64], char path[128], const char *tag) {
  snprintf(dir, 64, "/tmp/wd_%s_XXXXXX", tag);
  if (!mkdtemp(dir)) return -1;
  snprintf(path, 128, "%s/warden.db", dir);
  return 0;
}

/* Removes the database at path with its WAL, shared-memory and journal
 * files, then dir (NULL: keep it). */
static inline void tmp_db_remove(const char *dir, const char *path) {
  static const char *const suffix[] = {"", "-wal", "-shm", "-journal"};
  char p[160];
  for (size_t i = 0; i < 4; i++) {
    snprintf(p, sizeof p, "%s%s", path, suffix[i]);
    unlink(p);
  }
  if (dir) rmdir(dir);
}

/* A cmocka fixture: a fresh store in its own temporary directory. */
typedef struct store_fixture {
  char dir[64];
  char path[128];
  wd_store *s;
} store_fixture;

static inline int store_fixture_setup(void **state, const char *tag) {
  store_fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  if (tmp_db_make(f->dir, f->path, tag) != 0 || wd_store_open(f->path, 0, &f->s) != 0) {
    free(f);
    return -1;
  }
  *state = f;
  return 0;
}

static inline int store_fixture_teardown(void **state) {
  store_fixture *f = *state;
  wd_store_close(f->s);
  tmp_db_remove(f->dir, f->path);
  free(f);
  return 0;
}

/* Registers agent name (owner alice, no attributes) at now and enrolls it
 * with join token h-<name> and key jkt-<name>, which makes it active. */
static inline void enrolled_agent(wd_store *s, const char *name, int64_t now) {
  char id[128], hash[64], jkt[64];
  snprintf(id, sizeof id, "spiffe://example.org/agent/%s", name);
  wd_agent a = {.id = id,
                .name = (char *)(uintptr_t)name,
                .owner = "alice",
                .tier = WD_TIER_STANDARD,
                .environment = "prod",
                .attrs = "{}",
                .status = WD_AGENT_PENDING};
  assert_int_equal(wd_store_agent_register(s, &a, now), 0);
  snprintf(hash, sizeof hash, "h-%s", name);
  snprintf(jkt, sizeof jkt, "jkt-%s", name);
  assert_int_equal(wd_store_join_create(s, hash, name, now + 60000, now), 0);
  assert_int_equal(wd_store_join_consume(s, hash, "{\"kty\":\"OKP\"}", jkt, now, NULL), 0);
}

/* Appends one evidence row of type (task may be NULL) carrying fx[0..nfx)
 * after the stored tail, its seq shifted by seq_shift (0: the next one),
 * with a placeholder hash; returns what the store says. */
static inline int append_row_fx(wd_store *s, const char *type, const char *task,
                                const wd_store_fx *fx, size_t nfx, int64_t seq_shift) {
  int64_t seq = 0;
  char tail[65], hash[65];
  static const char zero[] = "0000000000000000000000000000000000000000000000000000000000000000";
  assert_int_equal(wd_store_audit_tail(s, &seq, tail), 0);
  snprintf(hash, sizeof hash, "%064lld", (long long)(seq + 1));
  wd_audit_row r = {.seq = seq + 1 + seq_shift,
                    .time = "2026-01-01T00:00:00.000Z",
                    .type = (char *)(uintptr_t)type,
                    .actor = "a",
                    .task = (char *)(uintptr_t)task,
                    .payload = "{}",
                    .prev_hash = (char *)(uintptr_t)(seq ? tail : zero),
                    .hash = hash};
  return wd_store_audit_append_fx(s, &r, 1, fx, nfx);
}

#endif

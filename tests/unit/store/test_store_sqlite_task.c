/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of wd_store_task_list_open on SQLite, the list quarantine
 * walks to revoke an agent's tasks: exactly the agent's OPEN tasks (every
 * way of ending excluded; an intent change or a passed TTL not yet reaped
 * still open; quarantine leaving none), oldest first by creation and not
 * by id, max respected, exact agent ids, and the same list after a reopen.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/wd_store.h"
#include "util/wd_limits.h"
#include "warden/err.h"
#include "store_fixture.h"

#define NOW      1700000000000LL
#define ID(name) "spiffe://example.org/agent/" name

typedef store_fixture fixture;

static int setup(void **state) { return store_fixture_setup(state, "storetask"); }

static int teardown(void **state) { return store_fixture_teardown(state); }

/* Registers and enrolls agent name (ACTIVE), once. */
static void agent(wd_store *s, const char *name) { enrolled_agent(s, name, NOW); }

static void task(wd_store *s, const char *name, const char *id, int64_t created, int64_t ttl) {
  char aid[128];
  snprintf(aid, sizeof aid, "spiffe://example.org/agent/%s", name);
  wd_task t = {.id = (char *)(uintptr_t)id,
               .agent_id = aid,
               .intent = "i",
               .purpose = "p",
               .expected_tools = "[]",
               .ceiling = "internal",
               .budget = 10};
  assert_int_equal(wd_store_task_create(s, &t, ttl, created), 0);
}

/* The agent's open task ids, in order, must be exactly want[0..n). */
static void expect_open(wd_store *s, const char *agent_id, size_t max, const char *const *want,
                        size_t n) {
  wd_strlist l = {(char **)(uintptr_t)1, 99}; /* garbage: the call must reset it */
  assert_int_equal(wd_store_task_list_open(s, agent_id, max, &l), 0);
  if (l.n != n) {
    for (size_t i = 0; i < l.n; i++)
      print_error("got[%zu] = %s\n", i, l.v[i]);
  }
  assert_int_equal(l.n, n);
  for (size_t i = 0; i < n; i++)
    assert_string_equal(l.v[i], want[i]);
  wd_strlist_free(&l);
}

/* Two agents with open and ended tasks; ids chosen so that creation
 * order and id order disagree. */
static void only_open_oldest_first(void **state) {
  fixture *f = *state;
  agent(f->s, "a");
  agent(f->s, "b");
  task(f->s, "a", "z-first", NOW, 60000);
  task(f->s, "b", "b-1", NOW + 1, 60000);
  task(f->s, "a", "m-second", NOW + 10, 60000);
  task(f->s, "a", "done-c", NOW + 11, 60000);
  task(f->s, "a", "done-f", NOW + 12, 60000);
  task(f->s, "a", "done-x", NOW + 13, 60000);
  task(f->s, "a", "done-e", NOW + 14, 60000);
  task(f->s, "a", "done-b", NOW + 15, 60000);
  task(f->s, "a", "done-r", NOW + 16, 60000);
  task(f->s, "a", "a-third", NOW + 20, 60000);
  task(f->s, "b", "b-done", NOW + 21, 60000);
  assert_int_equal(wd_store_task_end(f->s, "done-c", WD_TASK_COMPLETED, "ok", NOW + 30), 0);
  assert_int_equal(wd_store_task_end(f->s, "done-f", WD_TASK_FAILED, "x", NOW + 30), 0);
  assert_int_equal(wd_store_task_end(f->s, "done-x", WD_TASK_CANCELLED, "x", NOW + 30), 0);
  assert_int_equal(wd_store_task_end(f->s, "done-e", WD_TASK_EXPIRED, "ttl", NOW + 30), 0);
  assert_int_equal(wd_store_task_end(f->s, "done-b", WD_TASK_EXHAUSTED, "budget", NOW + 30), 0);
  assert_int_equal(wd_store_task_end(f->s, "done-r", WD_TASK_REVOKED, "quarantine", NOW + 30), 0);
  assert_int_equal(wd_store_task_end(f->s, "b-done", WD_TASK_COMPLETED, "ok", NOW + 30), 0);

  static const char *const a_open[] = {"z-first", "m-second", "a-third"};
  expect_open(f->s, ID("a"), 10, a_open, 3);
  expect_open(f->s, ID("a"), WD_LIMIT_STORE_LIST_ROWS + 5, a_open, 3); /* capped, not refused */
  expect_open(f->s, ID("a"), 2, a_open, 2);
  expect_open(f->s, ID("a"), 1, a_open, 1);
  expect_open(f->s, ID("a"), 0, NULL, 0);
  static const char *const b_open[] = {"b-1"};
  expect_open(f->s, ID("b"), 10, b_open, 1);

  /* Ending one in the middle keeps the order of the rest. */
  assert_int_equal(wd_store_task_end(f->s, "m-second", WD_TASK_CANCELLED, "x", NOW + 40), 0);
  static const char *const a_left[] = {"z-first", "a-third"};
  expect_open(f->s, ID("a"), 10, a_left, 2);
}

/* An agent without tasks, one whose tasks all ended, an unknown agent,
 * and ids that only share a prefix: all n = 0. */
static void none(void **state) {
  fixture *f = *state;
  agent(f->s, "ab");
  agent(f->s, "idle");
  agent(f->s, "finished");
  task(f->s, "ab", "t-ab", NOW, 60000);
  task(f->s, "finished", "t-f", NOW, 60000);
  assert_int_equal(wd_store_task_end(f->s, "t-f", WD_TASK_COMPLETED, "ok", NOW + 1), 0);
  expect_open(f->s, ID("idle"), 10, NULL, 0);
  expect_open(f->s, ID("finished"), 10, NULL, 0);
  expect_open(f->s, ID("nobody"), 10, NULL, 0);
  expect_open(f->s, ID("a"), 10, NULL, 0);
  expect_open(f->s, ID("ab%"), 10, NULL, 0);
  expect_open(f->s, ID("AB"), 10, NULL, 0);
  expect_open(f->s, "", 10, NULL, 0);
  static const char *const ab[] = {"t-ab"};
  expect_open(f->s, ID("ab"), 10, ab, 1);
  wd_strlist l;
  assert_int_equal(wd_store_task_list_open(f->s, NULL, 10, &l), -WD_E_INVAL);
  assert_int_equal(wd_store_task_list_open(NULL, ID("ab"), 10, &l), -WD_E_INVAL);
  assert_int_equal(wd_store_task_list_open(f->s, ID("ab"), 10, NULL), -WD_E_INVAL);
}

/* Still OPEN in the store, so still listed: a task past its TTL the
 * reaper has not ended yet (quarantine must revoke it too) and a task
 * whose intent changed. Same creation time: ties go by id. Quarantine
 * then ends every one of them. */
static void still_open(void **state) {
  fixture *f = *state;
  agent(f->s, "q");
  task(f->s, "q", "t-2", NOW, 1);
  task(f->s, "q", "t-1", NOW, 60000);
  task(f->s, "q", "t-3", NOW, 60000);
  assert_int_equal(wd_store_task_set_intent(f->s, "t-3", "other", NULL, NULL, NOW + 5), 0);
  static const char *const all[] = {"t-1", "t-2", "t-3"};
  expect_open(f->s, ID("q"), 10, all, 3);
  wd_strlist l;
  assert_int_equal(wd_store_task_list_expired(f->s, NOW + 10, 10, &l), 0);
  assert_int_equal(l.n, 1);
  assert_string_equal(l.v[0], "t-2");
  wd_strlist_free(&l);
  /* Quarantine ends them all in the store: none left to list. */
  unsigned ended = 0;
  assert_int_equal(
      wd_store_agent_set_status(f->s, ID("q"), WD_AGENT_QUARANTINED, "test", NOW + 20, &ended), 0);
  assert_int_equal(ended, 3);
  expect_open(f->s, ID("q"), 10, NULL, 0);
}

/* The list is the store's state, not a cache: a reopened store gives
 * the same answer. */
static void survives_reopen(void **state) {
  fixture *f = *state;
  agent(f->s, "r");
  task(f->s, "r", "r-2", NOW + 2, 60000);
  task(f->s, "r", "r-1", NOW + 1, 60000);
  task(f->s, "r", "r-0", NOW + 3, 60000);
  assert_int_equal(wd_store_task_end(f->s, "r-0", WD_TASK_REVOKED, "admin", NOW + 4), 0);
  wd_store_close(f->s);
  f->s = NULL;
  assert_int_equal(wd_store_open(f->path, 0, &f->s), 0);
  static const char *const want[] = {"r-1", "r-2"};
  expect_open(f->s, ID("r"), 10, want, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(only_open_oldest_first, setup, teardown),
      cmocka_unit_test_setup_teardown(none, setup, teardown),
      cmocka_unit_test_setup_teardown(still_open, setup, teardown),
      cmocka_unit_test_setup_teardown(survives_reopen, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of retention on a real SQLite file: a plan counts the tasks
 * that ended before a cutoff (with their tokens and session rows) and the
 * join tokens that expired before it, oldest first; its effect removes
 * exactly those rows with the record that says so, and nothing when the
 * rows differ from the plan. Open tasks, agents and the evidence rows
 * stay.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/wd_store.h"
#include "util/wd_limits.h"
#include "store_fixture.h"

#define NOW  1700000000000LL
#define HOUR 3600000LL

typedef store_fixture fixture;

static int setup(void **state) { return store_fixture_setup(state, "prune"); }

static int teardown(void **state) { return store_fixture_teardown(state); }

static const char AGENT[] = "spiffe://example.org/agent/bot";

/* A task of bot opened at created with one token; ended at ended unless
 * 0, after one allowed call that put a tool and a destination in its
 * session. */
static void task_at(wd_store *s, const char *id, int64_t created, int64_t ended) {
  wd_task t = {.id = (char *)(uintptr_t)id,
               .agent_id = (char *)(uintptr_t)AGENT,
               .intent = "i",
               .purpose = "p",
               .expected_tools = "[]",
               .ceiling = "internal",
               .budget = 10};
  char jti[64];
  snprintf(jti, sizeof jti, "jti-%s", id);
  assert_int_equal(wd_store_task_create(s, &t, HOUR, created), 0);
  assert_int_equal(wd_store_token_record(s, jti, id, created + 300000, created), 0);
  assert_int_equal(wd_store_task_record_call(s, id, "fs", NULL, "local", 1), 0);
  if (ended) assert_int_equal(wd_store_task_end(s, id, WD_TASK_COMPLETED, "done", ended), 0);
}

static int append(wd_store *s, const wd_store_fx *fx) {
  return append_row_fx(s, "store.pruned", NULL, fx, 1, 0);
}

static int64_t tail_seq(wd_store *s) {
  int64_t seq = 0;
  char tail[65];
  assert_int_equal(wd_store_audit_tail(s, &seq, tail), 0);
  return seq;
}

static int task_exists(wd_store *s, const char *id) {
  wd_task t = {0};
  int rc = wd_store_task_get(s, id, &t);
  wd_store_task_free(&t);
  assert_true(rc == 0 || rc == -WD_E_NOTFOUND);
  return rc == 0;
}

static void plan_counts_what_ended_before_the_cutoff(void **state) {
  fixture *f = *state;
  enrolled_agent(f->s, "bot", NOW);
  task_at(f->s, "old1", NOW, NOW + HOUR);
  task_at(f->s, "old2", NOW, NOW + 2 * HOUR);
  task_at(f->s, "late", NOW, NOW + 5 * HOUR);
  task_at(f->s, "open", NOW, 0);
  assert_int_equal(wd_store_join_create(f->s, "j-old", "bot", NOW + HOUR, NOW), 0);
  assert_int_equal(wd_store_join_create(f->s, "j-new", "bot", NOW + 9 * HOUR, NOW), 0);

  wd_store_prune p;
  assert_int_equal(wd_store_prune_plan(f->s, NOW + 3 * HOUR, 100, &p), 0);
  assert_int_equal(p.before_ms, NOW + 3 * HOUR);
  assert_int_equal(p.tasks, 2);
  assert_int_equal(p.tokens, 2);
  assert_int_equal(p.session_rows, 4); /* a tool and a destination each */
  /* The enrolment's token (expired at NOW + 60 s) and j-old. */
  assert_int_equal(p.join_tokens, 2);

  wd_store_fx fx = {.kind = WD_STORE_FX_PRUNE, .prune = p};
  int64_t seq = tail_seq(f->s);
  assert_int_equal(append(f->s, &fx), 0);
  assert_int_equal(tail_seq(f->s), seq + 1);
  assert_false(task_exists(f->s, "old1"));
  assert_false(task_exists(f->s, "old2"));
  assert_true(task_exists(f->s, "late"));
  assert_true(task_exists(f->s, "open"));
  /* A removed task's token reads as revoked, as an unknown one does. */
  int revoked = 0;
  assert_int_equal(wd_store_token_is_revoked(f->s, "jti-old1", &revoked), -WD_E_NOTFOUND);
  assert_int_equal(revoked, 1);
  assert_int_equal(wd_store_token_is_revoked(f->s, "jti-open", &revoked), 0);
  assert_int_equal(revoked, 0);
  wd_session ss;
  assert_int_equal(wd_store_task_session(f->s, "late", &ss), 0);
  assert_int_equal(ss.tools.n, 1);
  wd_store_session_free(&ss);
  assert_int_equal(wd_store_join_check(f->s, "j-old", NOW + 3 * HOUR, AGENT), -WD_E_NOTFOUND);
  assert_int_equal(wd_store_join_check(f->s, "j-new", NOW + 3 * HOUR, AGENT), 0);

  /* Nothing is left before that cutoff. */
  assert_int_equal(wd_store_prune_plan(f->s, NOW + 3 * HOUR, 100, &p), 0);
  assert_int_equal(p.tasks + p.tokens + p.session_rows + p.join_tokens, 0);
}

/* A pass is bounded by rows, not tasks: each task here holds four (itself,
 * a token, a tool and a destination). */
static void a_pass_takes_the_oldest_first(void **state) {
  fixture *f = *state;
  enrolled_agent(f->s, "bot", NOW);
  task_at(f->s, "b", NOW, NOW + 2 * HOUR);
  task_at(f->s, "a", NOW, NOW + 1 * HOUR);
  task_at(f->s, "c", NOW, 0); /* renewed six times before it ended */
  for (int i = 0; i < 6; i++) {
    char jti[16];
    snprintf(jti, sizeof jti, "c-%d", i);
    assert_int_equal(wd_store_token_record(f->s, jti, "c", NOW + HOUR, NOW), 0);
  }
  assert_int_equal(wd_store_task_end(f->s, "c", WD_TASK_COMPLETED, "done", NOW + 3 * HOUR), 0);
  wd_store_prune p;
  assert_int_equal(wd_store_prune_plan(f->s, NOW + 4 * HOUR, 11, &p), 0);
  assert_int_equal(p.tasks, 2);
  assert_int_equal(p.tokens, 2);
  assert_int_equal(p.session_rows, 4);
  assert_int_equal(p.join_tokens, 1);
  assert_true(p.more);
  wd_store_fx fx = {.kind = WD_STORE_FX_PRUNE, .prune = p};
  assert_int_equal(append(f->s, &fx), 0);
  assert_false(task_exists(f->s, "a"));
  assert_false(task_exists(f->s, "b"));
  assert_true(task_exists(f->s, "c"));
  /* A task that holds more than a pass (c: itself, 7 tokens, 2 session
   * values) goes in parts: its tokens, a pass's worth at a time, then
   * the task with what is left once that fits. */
  task_at(f->s, "d", NOW, NOW + 3 * HOUR + 1);
  static const struct {
    uint32_t tasks, tokens, session_rows;
    const char *task;
  } passes[] = {{0, 4, 0, "c"}, {0, 3, 0, "c"}, {1, 0, 2, ""}, {1, 1, 2, ""}};
  for (size_t i = 0; i < sizeof passes / sizeof passes[0]; i++) {
    assert_int_equal(wd_store_prune_plan(f->s, NOW + 4 * HOUR, 4, &p), 0);
    assert_int_equal(p.tasks, passes[i].tasks);
    assert_int_equal(p.tokens, passes[i].tokens);
    assert_int_equal(p.session_rows, passes[i].session_rows);
    assert_string_equal(p.task, passes[i].task);
    assert_int_equal(p.part, passes[i].task[0] != '\0');
    assert_int_equal(p.join_tokens, 0); /* they waited for the part passes and went before */
    assert_int_equal(p.more, i + 1 < sizeof passes / sizeof passes[0]);
    fx.prune = p;
    assert_int_equal(append(f->s, &fx), 0);
  }
  assert_false(task_exists(f->s, "c"));
  assert_false(task_exists(f->s, "d"));
  /* Then its session values, once its tokens are gone. */
  task_at(f->s, "s", NOW, 0);
  assert_int_equal(wd_store_task_record_call(f->s, "s", "t2", "c2", "d2", 1), 0);
  assert_int_equal(wd_store_task_end(f->s, "s", WD_TASK_COMPLETED, "done", NOW + HOUR), 0);
  static const struct {
    uint32_t tasks, tokens, session_rows;
  } parts[] = {{0, 1, 0}, {0, 0, 4}, {1, 0, 1}};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    assert_int_equal(wd_store_prune_plan(f->s, NOW + 4 * HOUR, 4, &p), 0);
    assert_int_equal(p.tasks, parts[i].tasks);
    assert_int_equal(p.tokens, parts[i].tokens);
    assert_int_equal(p.session_rows, parts[i].session_rows);
    fx.prune = p;
    assert_int_equal(append(f->s, &fx), 0);
  }
  assert_false(task_exists(f->s, "s"));
  /* A part taken for a task that is not there, or not ended, is no pass. */
  task_at(f->s, "e", NOW, 0);
  fx.prune = (wd_store_prune){.before_ms = NOW + 4 * HOUR, .tokens = 1, .part = 1};
  assert_int_equal(append(f->s, &fx), -WD_E_STATE);
  assert_true(task_exists(f->s, "e"));
}

/* A task id too long for the plan to name still goes in parts: the
 * parts find their task by its place, not its name. */
static void a_long_id_goes_in_parts_too(void **state) {
  fixture *f = *state;
  char id[80];
  memset(id, 'x', sizeof id - 1);
  id[sizeof id - 1] = '\0';
  enrolled_agent(f->s, "bot", NOW);
  task_at(f->s, id, NOW, 0);
  for (int i = 0; i < 5; i++) {
    char jti[16];
    snprintf(jti, sizeof jti, "long-%d", i);
    assert_int_equal(wd_store_token_record(f->s, jti, id, NOW + HOUR, NOW), 0);
  }
  assert_int_equal(wd_store_task_end(f->s, id, WD_TASK_COMPLETED, "done", NOW + HOUR), 0);
  wd_store_prune p;
  assert_int_equal(wd_store_prune_plan(f->s, NOW + 2 * HOUR, 4, &p), 0);
  assert_true(p.part);
  assert_string_equal(p.task, "");
  assert_int_equal(p.tokens, 4);
  wd_store_fx fx = {.kind = WD_STORE_FX_PRUNE, .prune = p};
  assert_int_equal(append(f->s, &fx), 0);
  assert_int_equal(wd_store_prune_plan(f->s, NOW + 2 * HOUR, 4, &p), 0);
  assert_true(p.part);
  assert_int_equal(p.tokens, 2); /* six in all */
  fx.prune = p;
  assert_int_equal(append(f->s, &fx), 0);
  assert_int_equal(wd_store_prune_plan(f->s, NOW + 2 * HOUR, 4, &p), 0);
  assert_false(p.part);
  assert_int_equal(p.tasks, 1);
  assert_int_equal(p.session_rows, 2);
  fx.prune = p;
  assert_int_equal(append(f->s, &fx), 0);
  assert_false(task_exists(f->s, id));
}

static void a_stale_plan_removes_nothing(void **state) {
  fixture *f = *state;
  enrolled_agent(f->s, "bot", NOW);
  task_at(f->s, "a", NOW, NOW + HOUR);
  task_at(f->s, "b", NOW, NOW + HOUR);
  wd_store_prune p;
  assert_int_equal(wd_store_prune_plan(f->s, NOW + 2 * HOUR, 100, &p), 0);
  assert_int_equal(p.tasks, 2);
  /* Another pruner got there first: a plan for one task removed it. */
  wd_store_prune one;
  assert_int_equal(wd_store_prune_plan(f->s, NOW + 2 * HOUR, 1, &one), 0);
  wd_store_fx fx1 = {.kind = WD_STORE_FX_PRUNE, .prune = one};
  assert_int_equal(append(f->s, &fx1), 0);
  int64_t seq = tail_seq(f->s);
  wd_store_fx fx = {.kind = WD_STORE_FX_PRUNE, .prune = p};
  assert_int_equal(append(f->s, &fx), -WD_E_STATE);
  /* Neither the record nor any row went. */
  assert_int_equal(tail_seq(f->s), seq);
  assert_true(task_exists(f->s, "b"));
  wd_session ss;
  assert_int_equal(wd_store_task_session(f->s, "b", &ss), 0);
  assert_int_equal(ss.tools.n, 1);
  wd_store_session_free(&ss);
  /* Counts with no tasks are a plan no store makes. */
  wd_store_fx odd = {.kind = WD_STORE_FX_PRUNE,
                     .prune = {.before_ms = NOW + 2 * HOUR, .tokens = 1}};
  assert_int_equal(append(f->s, &odd), -WD_E_STATE);
  assert_int_equal(tail_seq(f->s), seq);
}

static void limits_and_arguments(void **state) {
  fixture *f = *state;
  wd_store_prune p;
  assert_int_equal(wd_store_prune_plan(NULL, NOW, 1, &p), -WD_E_INVAL);
  assert_int_equal(wd_store_prune_plan(f->s, NOW, 1, NULL), -WD_E_INVAL);
  assert_int_equal(wd_store_prune_plan(f->s, NOW, 0, &p), 0);
  assert_int_equal(p.tasks + p.join_tokens, 0);
  /* A pass larger than the limit is refused before the store sees it. */
  wd_store_fx big = {.kind = WD_STORE_FX_PRUNE,
                     .prune = {.before_ms = NOW, .tasks = WD_LIMIT_STORE_PRUNE_ROWS + 1}};
  assert_int_equal(append(f->s, &big), -WD_E_INVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(plan_counts_what_ended_before_the_cutoff, setup, teardown),
      cmocka_unit_test_setup_teardown(a_pass_takes_the_oldest_first, setup, teardown),
      cmocka_unit_test_setup_teardown(a_long_id_goes_in_parts_too, setup, teardown),
      cmocka_unit_test_setup_teardown(a_stale_plan_removes_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(limits_and_arguments, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

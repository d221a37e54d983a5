/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the scope index: on random policy sets and requests over
 * a random entity hierarchy, the policies whose scope matches among the
 * index's candidates are exactly those a linear scan finds, each once and
 * in order; and a big set of principal-pinned policies yields one
 * candidate per request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"
#include "util/wd_buf.h"

static uint32_t rng = 12345;
static uint32_t rnd(uint32_t n) {
  rng = rng * 1103515245u + 12345u;
  return (rng >> 8) % n;
}

typedef struct seen {
  const cedar__policy *v[4096];
  size_t n;
  cedar__evalctx *cx;
  int calls;
} seen;

static int collect(void *arg, const cedar__policy *p) {
  seen *s = arg;
  s->calls++;
  if (s->n && s->v[s->n - 1]->pos >= p->pos) return -WD_E_INTERNAL; /* order, no dups */
  if (cedar__scope_matches(s->cx, p) && s->n < 4096) s->v[s->n++] = p;
  return 0;
}

static const char *UID_P[] = {"User::\"u0\"", "User::\"u1\"", "Group::\"g0\"", "Group::\"g1\""};
static const char *UID_A[] = {"Action::\"a0\"", "Action::\"a1\"", "Action::\"all\""};
static const char *UID_R[] = {"Doc::\"d0\"", "Doc::\"d1\"", "Folder::\"f0\""};

static int scope(wd_buf *b, const char *var, const char **uids, uint32_t nu, int is_action) {
  switch (rnd(is_action ? 4 : 5)) {
  case 0: return wd_buf_addf(b, "%s", var);
  case 1: return wd_buf_addf(b, "%s == %s", var, uids[rnd(nu)]);
  case 2: return wd_buf_addf(b, "%s in %s", var, uids[rnd(nu)]);
  case 3:
    if (is_action) return wd_buf_addf(b, "%s in [%s, %s]", var, uids[rnd(nu)], uids[rnd(nu)]);
    return wd_buf_addf(b, "%s is %s", var, uids[rnd(nu)][0] == 'U' ? "User" : "Doc");
  default: return wd_buf_addf(b, "%s is %s in %s", var, rnd(2) ? "User" : "Doc", uids[rnd(nu)]);
  }
}

static const char ENTITIES[] =
    "[{\"uid\":{\"type\":\"User\",\"id\":\"u0\"},\"attrs\":{},\"parents\":[{\"type\":\"Group\","
    "\"id\":\"g0\"}]},"
    " {\"uid\":{\"type\":\"User\",\"id\":\"u1\"},\"attrs\":{},\"parents\":[{\"type\":\"Group\","
    "\"id\":\"g1\"},{\"type\":\"Group\",\"id\":\"g0\"}]},"
    " {\"uid\":{\"type\":\"Group\",\"id\":\"g1\"},\"attrs\":{},\"parents\":[{\"type\":\"Group\","
    "\"id\":\"g0\"}]},"
    " {\"uid\":{\"type\":\"Action\",\"id\":\"a0\"},\"attrs\":{},\"parents\":[{\"type\":\"Action\","
    "\"id\":\"all\"}]},"
    " {\"uid\":{\"type\":\"Doc\",\"id\":\"d0\"},\"attrs\":{},\"parents\":[{\"type\":\"Folder\","
    "\"id\":\"f0\"}]}]";

static void matches_linear_scan(void **state) {
  (void)state;
  cedar_entities *es = NULL;
  assert_int_equal(cedar_entities_from_json(ENTITIES, strlen(ENTITIES), NULL, &es, NULL), 0);
  int bad = 0;
  for (int round = 0; round < 40; round++) {
    wd_buf b;
    wd_buf_init(&b, 1u << 20);
    uint32_t np = 1 + rnd(60);
    for (uint32_t i = 0; i < np; i++) {
      int rc = wd_buf_adds(&b, rnd(2) ? "permit(" : "forbid(");
      if (!rc) rc = scope(&b, "principal", UID_P, 4, 0);
      if (!rc) rc = wd_buf_adds(&b, ", ");
      if (!rc) rc = scope(&b, "action", UID_A, 3, 1);
      if (!rc) rc = wd_buf_adds(&b, ", ");
      if (!rc) rc = scope(&b, "resource", UID_R, 3, 0);
      if (!rc) rc = wd_buf_adds(&b, ");\n");
      assert_int_equal(rc, 0);
    }
    cedar_policyset *ps = NULL;
    int rc = cedar_policyset_parse(wd_buf_str(&b), wd_buf_len(&b), &ps, NULL);
    assert_int_equal(rc, 0);
    wd_arena *a = wd_arena_new(1u << 20);
    for (int q = 0; q < 20; q++) {
      cedar_request rq;
      memset(&rq, 0, sizeof rq);
      rq.principal.kind = rq.action.kind = rq.resource.kind = CEDAR__V_ENTITY;
      const char *pid[] = {"u0", "u1", "u9"};
      const char *aid[] = {"a0", "a1", "all"};
      const char *rid[] = {"d0", "d1", "f0"};
      rq.principal.u.uid =
          cedar__uid_new(a, cedar__cstr(rnd(4) ? "User" : "Group"), cedar__cstr(pid[rnd(3)]));
      rq.action.u.uid = cedar__uid_new(a, cedar__cstr("Action"), cedar__cstr(aid[rnd(3)]));
      rq.resource.u.uid = cedar__uid_new(a, cedar__cstr("Doc"), cedar__cstr(rid[rnd(3)]));
      rq.context.kind = CEDAR__V_RECORD;
      cedar__evalctx cx;
      memset(&cx, 0, sizeof cx);
      cx.arena = a;
      cx.es = es;
      cx.rq = &rq;
      seen s;
      memset(&s, 0, sizeof s);
      s.cx = &cx;
      rc = cedar__index_candidates(ps->index, es, &rq, &cx, NULL, collect, &s);
      size_t k = 0, mismatch = rc != 0;
      for (uint32_t i = 0; i < ps->npolicies; i++) {
        if (!cedar__scope_matches(&cx, ps->policies[i])) continue;
        if (k >= s.n || s.v[k] != ps->policies[i]) mismatch = 1;
        k++;
      }
      if (mismatch || k != s.n) {
        print_error("round %d query %d: rc=%d index found %zu, scan %zu\n%s", round, q, rc, s.n, k,
                    wd_buf_str(&b));
        bad++;
      }
    }
    wd_arena_free(a);
    cedar_policyset_unref(ps);
    wd_buf_free(&b);
  }
  cedar_entities_free(es);
  assert_int_equal(bad, 0);
}

/* Parses the policies in b and asks the index for the candidates of
 * ptype::pid calling Action::"call" on Tool::tid: every candidate must
 * come once and in order (collect), and want of them, all matching. */
static void candidates_of(const wd_buf *b, const cedar_entities *es, const char *ptype,
                          const char *pid, const char *tid, int want) {
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_policyset_parse(wd_buf_str(b), wd_buf_len(b), &ps, NULL), 0);
  wd_arena *a = wd_arena_new(1u << 20);
  cedar_request rq;
  memset(&rq, 0, sizeof rq);
  rq.principal.kind = rq.action.kind = rq.resource.kind = CEDAR__V_ENTITY;
  rq.principal.u.uid = cedar__uid_new(a, cedar__cstr(ptype), cedar__cstr(pid));
  rq.action.u.uid = cedar__uid_new(a, cedar__cstr("Action"), cedar__cstr("call"));
  rq.resource.u.uid = cedar__uid_new(a, cedar__cstr("Tool"), cedar__cstr(tid));
  rq.context.kind = CEDAR__V_RECORD;
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  cx.arena = a;
  cx.rq = &rq;
  cx.es = es;
  static seen s;
  memset(&s, 0, sizeof s);
  s.cx = &cx;
  assert_int_equal(cedar__index_candidates(ps->index, es, &rq, &cx, NULL, collect, &s), 0);
  assert_int_equal(s.calls, want);
  assert_int_equal(s.n, want);
  wd_arena_free(a);
  cedar_policyset_unref(ps);
}

static void pinned_principals_give_one_candidate(void **state) {
  (void)state;
  wd_buf b;
  wd_buf_init(&b, 64u << 20);
  for (int i = 0; i < 10000; i++)
    assert_int_equal(wd_buf_addf(&b,
                                 "permit(principal == Agent::\"a%d\", action == Action::\"call\", "
                                 "resource == Tool::\"t%d\") when { context.n > %d };\n",
                                 i, i % 50, i),
                     0);
  candidates_of(&b, NULL, "Agent", "a4242", "t42", 1);
  wd_buf_free(&b);
}

/* A principal 50 groups deep (past the walk's small queue and its linear
 * check) and 200 candidates (past the gathered list's small array, and
 * placed by position rather than sorted): every policy comes once, in
 * order, and one scoped to a group outside the chain does not. */
static void deep_ancestry_many_candidates(void **state) {
  (void)state;
  wd_buf b;
  wd_buf_init(&b, 1u << 20);
  assert_int_equal(wd_buf_adds(&b, "[{\"uid\":{\"type\":\"User\",\"id\":\"u\"},\"attrs\":{},"
                                   "\"parents\":[{\"type\":\"Group\",\"id\":\"g0\"}]}"),
                   0);
  for (int i = 0; i < 50; i++)
    assert_int_equal(wd_buf_addf(&b,
                                 ",{\"uid\":{\"type\":\"Group\",\"id\":\"g%d\"},\"attrs\":{},"
                                 "\"parents\":[{\"type\":\"Group\",\"id\":\"g%d\"}]}",
                                 i, i + 1),
                     0);
  assert_int_equal(wd_buf_adds(&b, "]"), 0);
  cedar_entities *es = NULL;
  assert_int_equal(cedar_entities_from_json(wd_buf_str(&b), wd_buf_len(&b), NULL, &es, NULL), 0);
  wd_buf_reset(&b);
  for (int i = 0; i < 200; i++)
    assert_int_equal(
        wd_buf_addf(&b, "permit(principal in Group::\"g%d\", action, resource);\n", i % 50), 0);
  assert_int_equal(
      wd_buf_adds(&b, "permit(principal in Group::\"elsewhere\", action, resource);\n"), 0);
  candidates_of(&b, es, "User", "u", "t", 200);
  cedar_entities_free(es);
  wd_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(matches_linear_scan),
      cmocka_unit_test(pinned_principals_give_one_candidate),
      cmocka_unit_test(deep_ancestry_many_candidates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

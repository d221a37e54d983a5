/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for guards: on random policy sets whose conditions start with
 * `path == literal` (paths that exist, are missing, or are not records;
 * literals of every kind; either side of the ==), the authorizer's
 * decision, determining policies and errors equal those of evaluating
 * every policy in order, in strict and in Cedar mode; policies sharing a
 * path are recognized as one guard; a thousand guarded forbids decide
 * like the one whose literal matches; and the index files a guarded
 * policy under the shorter of its literal's and its action's lists.
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

static uint32_t rng = 2024;
static uint32_t rnd(uint32_t n) {
  rng = rng * 1103515245u + 12345u;
  return (rng >> 8) % n;
}

static const char *const PATHS[] = {"context.op",        "context.call.tool", "context.n",
                                    "context.missing",   "context.op.deeper", "principal.team",
                                    "resource.owner.id", "context.flag"};
static const char *const LITS[] = {"\"read\"", "\"write\"", "\"fs\"",          "3",   "-1",
                                   "true",     "false",     "User::\"alice\"", "\"\""};
static const char *const TAILS[] = {"", " && context.n > 2", " && 1 + \"x\" == 2",
                                    " && principal.nope"};

static int guarded(wd_buf *b, uint32_t i) {
  const char *path = PATHS[rnd(8)], *lit = LITS[rnd(9)], *tail = TAILS[rnd(4)];
  int rc = wd_buf_addf(b, "@id(\"p%u\")\n%s(principal, action, resource)", i,
                       rnd(2) ? "permit" : "forbid");
  switch (rnd(5)) {
  case 0: break; /* no condition */
  case 1: rc = rc ? rc : wd_buf_addf(b, " when { %s == %s%s }", lit, path, tail); break;
  case 2: rc = rc ? rc : wd_buf_addf(b, " unless { %s == %s }", path, lit); break;
  default: rc = rc ? rc : wd_buf_addf(b, " when { %s == %s%s }", path, lit, tail); break;
  }
  return rc ? rc : wd_buf_adds(b, ";\n");
}

static const char *const CONTEXTS[] = {
    "{\"op\":\"read\",\"call\":{\"tool\":\"fs\"},\"n\":3,\"flag\":true}",
    "{\"op\":\"write\",\"call\":{\"tool\":\"db\"},\"n\":-1,\"flag\":false}",
    "{\"op\":{\"deeper\":\"read\"},\"call\":\"fs\",\"n\":\"3\"}",
    "{}",
};

static const char ENTITIES[] =
    "[{\"uid\":{\"type\":\"User\",\"id\":\"alice\"},\"attrs\":{\"team\":\"write\"},\"parents\":[]},"
    " {\"uid\":{\"type\":\"Doc\",\"id\":\"d\"},\"attrs\":{\"owner\":{\"__entity\":{\"type\":"
    "\"User\",\"id\":\"alice\"}}},\"parents\":[]}]";

/* What evaluating every policy in order concludes. */
static void linear(const cedar_policyset *ps, const cedar_entities *es, const cedar_request *rq,
                   int strict, wd_buf *out) {
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  cx.es = es;
  cx.rq = rq;
  cx.arena = wd_arena_new(1u << 20);
  assert_non_null(cx.arena);
  wd_buf permits, forbids, errors;
  wd_buf_init(&permits, 1u << 16);
  wd_buf_init(&forbids, 1u << 16);
  wd_buf_init(&errors, 1u << 16);
  for (uint32_t i = 0; i < ps->npolicies; i++) {
    const cedar__policy *p = ps->policies[i];
    int sat = 0;
    cx.depth = 0;
    int rc = cedar__policy_eval(&cx, p, &sat);
    if (rc == -WD_E_EVAL) {
      assert_int_equal(wd_buf_addf(&errors, " %.*s", (int)p->id.n, p->id.p), 0);
      if (strict && p->effect == CEDAR__FORBID)
        assert_int_equal(wd_buf_addf(&forbids, " %.*s", (int)p->id.n, p->id.p), 0);
      continue;
    }
    assert_int_equal(rc, 0);
    if (sat)
      assert_int_equal(wd_buf_addf(p->effect == CEDAR__FORBID ? &forbids : &permits, " %.*s",
                                   (int)p->id.n, p->id.p),
                       0);
  }
  int allow = wd_buf_len(&permits) > 0 && wd_buf_len(&forbids) == 0;
  assert_int_equal(wd_buf_addf(out, "%s |%s |%s", allow ? "allow" : "deny",
                               allow ? wd_buf_str(&permits) : wd_buf_str(&forbids),
                               wd_buf_len(&errors) ? wd_buf_str(&errors) : ""),
                   0);
  wd_buf_free(&permits);
  wd_buf_free(&forbids);
  wd_buf_free(&errors);
  wd_arena_free(cx.arena);
}

static void decided(const cedar_response *r, wd_buf *out) {
  int allow = cedar_response_decision(r) == CEDAR_ALLOW;
  assert_int_equal(wd_buf_addf(out, "%s |", allow ? "allow" : "deny"), 0);
  for (size_t i = 0; i < cedar_response_reason_count(r); i++)
    assert_int_equal(wd_buf_addf(out, " %s", cedar_response_reason(r, i)), 0);
  assert_int_equal(wd_buf_adds(out, " |"), 0);
  for (size_t i = 0; i < cedar_response_error_count(r); i++)
    assert_int_equal(wd_buf_addf(out, " %s", cedar_response_error_policy(r, i)), 0);
}

static void same_as_linear_scan(void **state) {
  (void)state;
  cedar_entities *es = NULL;
  assert_int_equal(cedar_entities_from_json(ENTITIES, strlen(ENTITIES), NULL, &es, NULL), 0);
  for (int round = 0; round < 200; round++) {
    wd_buf src;
    wd_buf_init(&src, 1u << 20);
    uint32_t np = 1 + rnd(40);
    for (uint32_t i = 0; i < np; i++)
      assert_int_equal(guarded(&src, i), 0);
    cedar_psbuilder *b = cedar_psbuilder_new();
    cedar_policyset *ps = NULL;
    assert_int_equal(cedar_psbuilder_add_text(b, wd_buf_str(&src), wd_buf_len(&src), NULL), 0);
    assert_int_equal(cedar_psbuilder_build(b, &ps), 0);
    for (size_t c = 0; c < sizeof CONTEXTS / sizeof CONTEXTS[0]; c++) {
      cedar_request *rq = NULL;
      assert_int_equal(cedar_request_new("User::\"alice\"", "Action::\"read\"", "Doc::\"d\"",
                                         CONTEXTS[c], strlen(CONTEXTS[c]), NULL, &rq, NULL),
                       0);
      for (int strict = 0; strict < 2; strict++) {
        cedar_authz_opts opts = {.strict_forbid = strict};
        cedar_response *r = NULL;
        assert_int_equal(cedar_authorize(ps, es, rq, &opts, &r), 0);
        wd_buf got, want;
        wd_buf_init(&got, 1u << 16);
        wd_buf_init(&want, 1u << 16);
        decided(r, &got);
        linear(ps, es, rq, strict, &want);
        if (strcmp(wd_buf_str(&got), wd_buf_str(&want)) != 0)
          fail_msg("round %d context %zu strict %d:\n%s\ngot  %s\nwant %s", round, c, strict,
                   wd_buf_str(&src), wd_buf_str(&got), wd_buf_str(&want));
        wd_buf_free(&got);
        wd_buf_free(&want);
        cedar_response_free(r);
      }
      cedar_request_free(rq);
    }
    cedar_policyset_unref(ps);
    cedar_psbuilder_free(b);
    wd_buf_free(&src);
  }
  cedar_entities_free(es);
}

static void shared_paths(void **state) {
  (void)state;
  const char *src =
      "permit(principal, action, resource) when { context.op == \"a\" };"
      "permit(principal, action, resource) when { \"b\" == context.op && true };"
      "permit(principal, action, resource) when { context.call.tool == 1 };"
      "permit(principal, action, resource) when { context.op == context.x };"
      "permit(principal, action, resource) unless { context.op == \"a\" };"
      "permit(principal, action, resource) when { true } when { context.op == \"a\" };";
  cedar_psbuilder *b = cedar_psbuilder_new();
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_psbuilder_add_text(b, src, strlen(src), NULL), 0);
  assert_int_equal(cedar_psbuilder_build(b, &ps), 0);
  const cedar__guards *g = cedar__index_guards(ps->index);
  assert_non_null(g);
  assert_int_equal(g->npaths, 2); /* context.op, context.call.tool */
  assert_int_equal(g->by_pos[0].path, g->by_pos[1].path);
  assert_int_not_equal(g->by_pos[0].path, 0);
  assert_int_not_equal(g->by_pos[2].path, 0);
  assert_int_not_equal(g->by_pos[2].path, g->by_pos[0].path);
  for (uint32_t i = 3; i < 6; i++)
    assert_int_equal(g->by_pos[i].path, 0);
  cedar_policyset_unref(ps);
  cedar_psbuilder_free(b);
}

/* The shape of the service benchmark: many forbids on one context path. */
static void many_guarded_forbids(void **state) {
  (void)state;
  wd_buf src;
  wd_buf_init(&src, 1u << 20);
  assert_int_equal(wd_buf_adds(&src, "@id(\"base\") permit(principal, action, resource);\n"), 0);
  for (int i = 0; i < 1000; i++)
    assert_int_equal(wd_buf_addf(&src,
                                 "@id(\"op-%d\") forbid(principal, action, resource) "
                                 "when { context.call.operation == \"op-%d\" };\n",
                                 i, i),
                     0);
  cedar_psbuilder *b = cedar_psbuilder_new();
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_psbuilder_add_text(b, wd_buf_str(&src), wd_buf_len(&src), NULL), 0);
  assert_int_equal(cedar_psbuilder_build(b, &ps), 0);
  assert_int_equal(cedar__index_guards(ps->index)->npaths, 1);
  static const struct {
    const char *ctx;
    cedar_decision want;
    const char *why;
    size_t nerr;
  } rows[] = {
      {"{\"call\":{\"operation\":\"read\"}}", CEDAR_ALLOW, "base", 0},
      {"{\"call\":{\"operation\":\"op-517\"}}", CEDAR_DENY, "op-517", 0},
      /* the path errors: every forbid is evaluated, errs and (strict) forbids */
      {"{\"call\":{}}", CEDAR_DENY, "op-0", 1000},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar_request *rq = NULL;
    assert_int_equal(cedar_request_new("A::\"a\"", "Action::\"x\"", "T::\"t\"", rows[i].ctx,
                                       strlen(rows[i].ctx), NULL, &rq, NULL),
                     0);
    cedar_authz_opts opts = {.strict_forbid = 1};
    cedar_response *r = NULL;
    assert_int_equal(cedar_authorize(ps, NULL, rq, &opts, &r), 0);
    assert_int_equal(cedar_response_decision(r), rows[i].want);
    assert_string_equal(cedar_response_reason(r, 0), rows[i].why);
    assert_int_equal(cedar_response_error_count(r), rows[i].nerr);
    cedar_response_free(r);
    cedar_request_free(rq);
  }
  cedar_policyset_unref(ps);
  cedar_psbuilder_free(b);
  wd_buf_free(&src);
}

static int count_visit(void *arg, const cedar__policy *p) {
  (void)p;
  (*(int *)arg)++;
  return 0;
}

/* How many candidates the index hands out for one request. */
static int candidates(const cedar_policyset *ps, const char *action, const char *ctx) {
  cedar_request *rq = NULL;
  assert_int_equal(
      cedar_request_new("A::\"a\"", action, "T::\"t\"", ctx, strlen(ctx), NULL, &rq, NULL), 0);
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  cx.arena = wd_arena_new(1u << 20);
  cx.rq = rq;
  cedar__guardmemo *memo = NULL;
  int n = 0;
  assert_int_equal(cedar__index_candidates(ps->index, NULL, rq, &cx, &memo, count_visit, &n), 0);
  wd_arena_free(cx.arena);
  cedar_request_free(rq);
  return n;
}

static cedar_policyset *build(const char *fmt, int count) {
  wd_buf src;
  wd_buf_init(&src, 1u << 22);
  for (int i = 0; i < count; i++)
    assert_int_equal(wd_buf_addf(&src, fmt, i, i), 0);
  cedar_policyset *ps = NULL;
  assert_int_equal(cedar_policyset_parse(wd_buf_str(&src), wd_buf_len(&src), &ps, NULL), 0);
  wd_buf_free(&src);
  return ps;
}

/* A guarded policy is filed under the shorter of its lists: its literal
 * when many policies share its action, its action when many share its
 * literal; a path that errors hands out every policy filed by it. */
static void filing_takes_the_shorter_list(void **state) {
  (void)state;
  cedar_policyset *per_op = build("forbid(principal, action in Action::\"tool\", resource) when "
                                  "{ context.op == \"op-%d\" && %d > 0 };\n",
                                  1000);
  assert_int_equal(candidates(per_op, "Action::\"tool\"", "{\"op\":\"op-7\"}"), 1);
  assert_int_equal(candidates(per_op, "Action::\"tool\"", "{\"op\":\"read\"}"), 0);
  assert_int_equal(candidates(per_op, "Action::\"tool\"", "{\"op\":7}"), 0);
  assert_int_equal(candidates(per_op, "Action::\"tool\"", "{}"), 1000);
  cedar_policyset_unref(per_op);
  cedar_policyset *per_action = build("permit(principal, action == Action::\"a%d\", resource) "
                                      "when { context.op == \"same\" && %d > 0 };\n",
                                      1000);
  assert_int_equal(candidates(per_action, "Action::\"a7\"", "{\"op\":\"same\"}"), 1);
  assert_int_equal(candidates(per_action, "Action::\"a7\"", "{}"), 1);
  cedar_policyset_unref(per_action);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(filing_takes_the_shorter_list),
      cmocka_unit_test(same_as_linear_scan),
      cmocka_unit_test(shared_paths),
      cmocka_unit_test(many_guarded_forbids),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

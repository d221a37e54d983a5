/* SPDX-License-Identifier: Apache-2.0
 *
 * The authorizer: Allow iff some permit is satisfied and no forbid is,
 * default Deny, with the determining policies and the policies that
 * errored. It asks the scope index for candidates and evaluates only
 * those. Any internal failure is returned as an error, never as Allow.
 */
#include <string.h>

#include "../util/wd_alloc.h"
#include "cedar_int.h"

typedef struct perr {
  const char *policy;
  const char *msg;
} perr;

struct cedar_response {
  cedar_decision decision;
  wd_arena *arena; /* owns the arrays and copies of every string below */
  const char **reasons;
  size_t nreasons;
  perr *errors;
  size_t nerrors;
};

/* A list of policies in candidate (hence policy) order. */
typedef struct plist {
  const cedar__policy **v;
  const char **msg; /* only for the error list */
  size_t n, cap;
} plist;

typedef struct run {
  cedar__evalctx cx;
  const cedar__guards *guards;
  cedar__guardmemo *memo;
  int strict_forbid;
  plist permits, forbids, errors;
} run;

static int plist_add(plist *l, const cedar__policy *p, const char *msg) {
  if (l->n == l->cap) {
    size_t ncap = l->cap ? l->cap * 2 : 8;
    const cedar__policy **nv = wd_realloc(l->v, ncap * sizeof *nv);
    if (!nv) return -WD_E_NOMEM;
    l->v = nv;
    const char **nm = wd_realloc(l->msg, ncap * sizeof *nm);
    if (!nm) return -WD_E_NOMEM;
    l->msg = nm;
    l->cap = ncap;
  }
  l->v[l->n] = p;
  l->msg[l->n] = msg;
  l->n++;
  return 0;
}

static void plist_free(plist *l) {
  wd_free(l->v);
  wd_free(l->msg);
}

static int visit(void *arg, const cedar__policy *p) {
  run *r = arg;
  int sat = 0;
  int rc = cedar__guard_false(r->guards, &r->cx, &r->memo, p);
  if (rc) return rc < 0 ? rc : 0;
  r->cx.depth = 0;
  r->cx.err[0] = '\0';
  rc = cedar__policy_eval(&r->cx, p, &sat);
  if (rc == -WD_E_EVAL) {
    char *msg = wd_arena_strndup(r->cx.arena, r->cx.err, strlen(r->cx.err));
    if (!msg) return -WD_E_NOMEM;
    if ((rc = plist_add(&r->errors, p, msg))) return rc;
    /* Fail closed on request: an erroring forbid still forbids. */
    if (r->strict_forbid && p->effect == CEDAR__FORBID) return plist_add(&r->forbids, p, NULL);
    return 0;
  }
  if (rc || !sat) return rc;
  return plist_add(p->effect == CEDAR__FORBID ? &r->forbids : &r->permits, p, NULL);
}

static const char *keep(wd_arena *a, cedar__str s) {
  return wd_arena_strndup(a, s.p ? s.p : "", s.n);
}

static int respond(const run *r, cedar_response **out) {
  cedar_response *res = wd_calloc(1, sizeof *res);
  if (!res) return -WD_E_NOMEM;
  res->decision = r->permits.n > 0 && r->forbids.n == 0 ? CEDAR_ALLOW : CEDAR_DENY;
  const plist *why = res->decision == CEDAR_ALLOW ? &r->permits : &r->forbids;
  res->arena = wd_arena_new(WD_LIMIT_VALUE_BYTES);
  if (!res->arena) goto nomem;
  if (why->n) {
    res->reasons = wd_arena_alloc(res->arena, why->n * sizeof *res->reasons);
    if (!res->reasons) goto nomem;
    for (size_t i = 0; i < why->n; i++)
      if (!(res->reasons[i] = keep(res->arena, why->v[i]->id))) goto nomem;
    res->nreasons = why->n;
  }
  if (r->errors.n) {
    res->errors = wd_arena_alloc(res->arena, r->errors.n * sizeof *res->errors);
    if (!res->errors) goto nomem;
    for (size_t i = 0; i < r->errors.n; i++) {
      res->errors[i].policy = keep(res->arena, r->errors.v[i]->id);
      res->errors[i].msg = keep(res->arena, cedar__cstr(r->errors.msg[i]));
      if (!res->errors[i].policy || !res->errors[i].msg) goto nomem;
    }
    res->nerrors = r->errors.n;
  }
  *out = res;
  return 0;
nomem:
  cedar_response_free(res);
  return -WD_E_NOMEM;
}

int cedar_authorize(const cedar_policyset *ps, const cedar_entities *es, const cedar_request *rq,
                    const cedar_authz_opts *opts, cedar_response **out) {
  if (!out) return -WD_E_INVAL;
  *out = NULL;
  if (!ps || !rq) return -WD_E_INVAL;
  run r;
  memset(&r, 0, sizeof r);
  r.cx.es = es;
  r.cx.rq = rq;
  r.strict_forbid = opts && opts->strict_forbid;
  r.guards = cedar__index_guards(ps->index);
  int rc = -WD_E_NOMEM;
  r.cx.arena = wd_arena_new(WD_LIMIT_VALUE_BYTES);
  if (!r.cx.arena) goto done;
  rc = cedar__index_candidates(ps->index, es, rq, &r.cx, &r.memo, visit, &r);
  if (rc == 0) rc = respond(&r, out);
done:
  plist_free(&r.permits);
  plist_free(&r.forbids);
  plist_free(&r.errors);
  wd_arena_free(r.cx.arena);
  return rc;
}

cedar_decision cedar_response_decision(const cedar_response *r) {
  return r ? r->decision : CEDAR_DENY;
}

size_t cedar_response_reason_count(const cedar_response *r) { return r ? r->nreasons : 0; }

const char *cedar_response_reason(const cedar_response *r, size_t i) {
  return r && i < r->nreasons ? r->reasons[i] : NULL;
}

size_t cedar_response_error_count(const cedar_response *r) { return r ? r->nerrors : 0; }

const char *cedar_response_error_policy(const cedar_response *r, size_t i) {
  return r && i < r->nerrors ? r->errors[i].policy : NULL;
}

const char *cedar_response_error_message(const cedar_response *r, size_t i) {
  return r && i < r->nerrors ? r->errors[i].msg : NULL;
}

void cedar_response_free(cedar_response *r) {
  if (!r) return;
  wd_arena_free(r->arena);
  wd_free(r);
}

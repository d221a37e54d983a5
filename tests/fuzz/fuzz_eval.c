/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target for the evaluator and authorizer: the input is Cedar text,
 * evaluated as one expression and, separately, authorized as a policy
 * set against a fixed request. Whatever the input, evaluation must end
 * in a value or a clean error, never a crash, leak or unbounded work.
 */
#include <stdint.h>
#include <string.h>

#include "cedar/cedar_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0; /* keep each run fast; depth is what matters */
  const char *src = (const char *)data;
  wd_arena *a = wd_arena_new(1u << 20);
  if (!a) return 0;
  cedar_request rq;
  memset(&rq, 0, sizeof rq);
  rq.arena = a;
  rq.principal.kind = rq.action.kind = rq.resource.kind = CEDAR__V_ENTITY;
  rq.principal.u.uid = cedar__uid_new(a, cedar__cstr("User"), cedar__cstr("alice"));
  rq.action.u.uid = cedar__uid_new(a, cedar__cstr("Action"), cedar__cstr("read"));
  rq.resource.u.uid = cedar__uid_new(a, cedar__cstr("Doc"), cedar__cstr("d"));
  rq.context.kind = CEDAR__V_RECORD;
  if (!rq.principal.u.uid || !rq.action.u.uid || !rq.resource.u.uid) goto out;

  char *val = NULL;
  if (cedar_evaluate(src, size, NULL, &rq, &val, NULL) == 0 && !val) __builtin_trap();
  cedar_free(val);

  cedar_policyset *ps = NULL;
  if (cedar_policyset_parse(src, size, &ps, NULL) == 0) {
    cedar_response *r = NULL;
    cedar_authz_opts strict = {1};
    for (int k = 0; k < 2; k++) {
      int rc = cedar_authorize(ps, NULL, &rq, k ? &strict : NULL, &r);
      if (rc == 0) {
        /* Allow needs a satisfied permit, which must be among the reasons. */
        if (cedar_response_decision(r) == CEDAR_ALLOW && cedar_response_reason_count(r) == 0)
          __builtin_trap();
        cedar_response_free(r);
        r = NULL;
      }
    }
    cedar_policyset_unref(ps);
  }
out:
  wd_arena_free(a);
  return 0;
}

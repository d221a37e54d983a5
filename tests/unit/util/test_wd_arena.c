/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the arena: alignment, large allocations, the byte cap,
 * and reuse after clear.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/wd_alloc.h"
#include "util/wd_arena.h"

static void aligned_and_distinct(void **state) {
  (void)state;
  wd_arena *a = wd_arena_new(1 << 20);
  assert_non_null(a);
  char *prev = NULL;
  for (size_t n = 1; n < 300; n += 7) {
    char *p = wd_arena_alloc(a, n);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 16, 0);
    memset(p, 0xAB, n);
    assert_ptr_not_equal(p, prev);
    prev = p;
  }
  char *big = wd_arena_alloc(a, 100000); /* larger than any chunk so far */
  assert_non_null(big);
  memset(big, 1, 100000);
  wd_arena_free(a);
}

static void cap_refuses(void **state) {
  (void)state;
  wd_arena *a = wd_arena_new(1000);
  assert_non_null(wd_arena_alloc(a, 900));
  assert_null(wd_arena_alloc(a, 200));
  assert_null(wd_arena_alloc(a, SIZE_MAX));
  assert_null(wd_arena_calloc(a, SIZE_MAX / 2, 4));
  wd_arena_clear(a);
  assert_int_equal(wd_arena_used(a), 0);
  assert_non_null(wd_arena_alloc(a, 900));
  wd_arena_free(a);
  wd_arena_free(NULL);
}

static void strndup_copies(void **state) {
  (void)state;
  wd_arena *a = wd_arena_new(1 << 16);
  char *s = wd_arena_strndup(a, "hello world", 5);
  assert_string_equal(s, "hello");
  wd_arena_free(a);
}

static void oom_is_reported(void **state) {
  (void)state;
  wd_arena *a = wd_arena_new(1 << 20);
  wd_test_fail_alloc_after(0);
  void *p = wd_arena_alloc(a, 10);
  wd_test_fail_alloc_after(-1);
  assert_null(p);
  wd_arena_free(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(aligned_and_distinct),
      cmocka_unit_test(cap_refuses),
      cmocka_unit_test(strndup_copies),
      cmocka_unit_test(oom_is_reported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

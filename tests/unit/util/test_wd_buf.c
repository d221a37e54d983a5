/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the capped buffer: growth, the hard cap, and that a failed
 * append leaves an empty buffer rather than half a result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "warden/err.h"

static void grows_and_terminates(void **state) {
  (void)state;
  wd_buf b;
  wd_buf_init(&b, 1 << 20);
  assert_string_equal(wd_buf_str(&b), "");
  for (int i = 0; i < 1000; i++)
    assert_int_equal(wd_buf_addf(&b, "%d,", i % 10), 0);
  assert_int_equal(wd_buf_len(&b), 2000);
  assert_memory_equal(wd_buf_str(&b), "0,1,2,", 6);
  char *s = wd_buf_take(&b);
  assert_int_equal(strlen(s), 2000);
  wd_free(s);
  assert_int_equal(wd_buf_len(&b), 0);
}

static void cap_is_hard(void **state) {
  (void)state;
  wd_buf b;
  wd_buf_init(&b, 8);
  assert_int_equal(wd_buf_adds(&b, "12345678"), 0);
  assert_int_equal(wd_buf_addc(&b, 'x'), -WD_E_TOOBIG);
  /* INVARIANT: a failed append frees the buffer. */
  assert_int_equal(wd_buf_len(&b), 0);
  assert_string_equal(wd_buf_str(&b), "");
  wd_buf_free(&b);
}

static void allocation_failure_resets(void **state) {
  (void)state;
  wd_buf b;
  wd_buf_init(&b, 1 << 20);
  assert_int_equal(wd_buf_adds(&b, "abc"), 0);
  wd_test_fail_alloc_after(0);
  int rc =
      wd_buf_add(&b, "0123456789012345678901234567890123456789012345678901234567890123456789", 70);
  wd_test_fail_alloc_after(-1);
  assert_int_equal(rc, -WD_E_NOMEM);
  assert_int_equal(wd_buf_len(&b), 0);
  wd_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(grows_and_terminates),
      cmocka_unit_test(cap_is_hard),
      cmocka_unit_test(allocation_failure_resets),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

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

/* Longer than a buffer's first allocation, so appending it must grow. */
static const char past_first[300] = {'0'};

static void allocation_failure_resets(void **state) {
  (void)state;
  wd_buf b;
  wd_buf_init(&b, 1 << 20);
  assert_int_equal(wd_buf_adds(&b, "abc"), 0);
  wd_test_fail_alloc_after(0);
  int rc = wd_buf_add(&b, past_first, sizeof past_first);
  wd_test_fail_alloc_after(-1);
  assert_int_equal(rc, -WD_E_NOMEM);
  assert_int_equal(wd_buf_len(&b), 0);
  wd_buf_free(&b);
}

/* A failure sticks: an append after it fails the same way, so a caller
 * that missed one failure cannot go on to hand out the tail of a result;
 * reset or free makes the buffer usable again. */
static void failure_sticks(void **state) {
  (void)state;
  wd_buf b;
  wd_buf_init(&b, 1 << 20);
  assert_int_equal(wd_buf_adds(&b, "{\"token\""), 0);
  wd_test_fail_alloc_once(0);
  int rc = wd_buf_add(&b, past_first, sizeof past_first);
  wd_test_fail_alloc_once(-1);
  assert_int_equal(rc, -WD_E_NOMEM);
  assert_int_equal(wd_buf_adds(&b, ":1796639519}"), -WD_E_NOMEM);
  assert_int_equal(wd_buf_addc(&b, 'x'), -WD_E_NOMEM);
  assert_int_equal(wd_buf_addf(&b, "%d", 7), -WD_E_NOMEM);
  assert_int_equal(wd_buf_len(&b), 0);
  assert_null(wd_buf_take(&b));
  wd_buf_reset(&b);
  assert_int_equal(wd_buf_adds(&b, "ok"), 0);
  assert_string_equal(wd_buf_str(&b), "ok");
  wd_buf_free(&b);
  wd_buf_init(&b, 2);
  assert_int_equal(wd_buf_adds(&b, "abc"), -WD_E_TOOBIG);
  assert_int_equal(wd_buf_adds(&b, "a"), -WD_E_TOOBIG);
  wd_buf_free(&b);
  assert_int_equal(wd_buf_adds(&b, "a"), 0);
  wd_buf_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(grows_and_terminates),
      cmocka_unit_test(cap_is_hard),
      cmocka_unit_test(allocation_failure_resets),
      cmocka_unit_test(failure_sticks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

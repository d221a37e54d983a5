/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the hash map: insert, replace, reject duplicates, growth,
 * iteration, and keys with embedded NULs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "util/wd_map.h"
#include "warden/err.h"

static void put_get_grow(void **state) {
  (void)state;
  static char keys[5000][16];
  wd_map *m = wd_map_new();
  assert_non_null(m);
  for (int i = 0; i < 5000; i++) {
    snprintf(keys[i], sizeof keys[i], "k%d", i);
    assert_int_equal(wd_map_put(m, keys[i], strlen(keys[i]), &keys[i]), 0);
  }
  assert_int_equal(wd_map_count(m), 5000);
  for (int i = 0; i < 5000; i++)
    assert_ptr_equal(wd_map_get(m, keys[i], strlen(keys[i])), &keys[i]);
  assert_null(wd_map_get(m, "missing", 7));
  size_t it = 0, seen = 0;
  while (wd_map_next(m, &it, NULL, NULL, NULL))
    seen++;
  assert_int_equal(seen, 5000);
  wd_map_free(m);
}

static void add_rejects_duplicates(void **state) {
  (void)state;
  wd_map *m = wd_map_new();
  int a = 1, b = 2;
  assert_int_equal(wd_map_add(m, "x\0y", 3, &a), 0);
  assert_int_equal(wd_map_add(m, "x\0y", 3, &b), -WD_E_EXISTS);
  assert_int_equal(wd_map_add(m, "x\0z", 3, &b), 0);
  assert_ptr_equal(wd_map_get(m, "x\0y", 3), &a);
  assert_int_equal(wd_map_put(m, "x\0y", 3, &b), 0);
  assert_ptr_equal(wd_map_get(m, "x\0y", 3), &b);
  assert_int_equal(wd_map_add(m, "", 0, &a), 0);
  assert_ptr_equal(wd_map_get(m, "", 0), &a);
  wd_map_free(m);
  wd_map_free(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(put_get_grow),
      cmocka_unit_test(add_rejects_duplicates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests of wd_store_backup on a real SQLite file: the copy is a
 * store that opens and holds what was committed, made 0600 and never
 * over an existing file; a copy that cannot be made leaves no file.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "store/wd_store.h"
#include "util/wd_alloc.h"
#include "store_fixture.h"

#define NOW 1700000000000LL

typedef store_fixture fixture;

static int setup(void **state) { return store_fixture_setup(state, "backup"); }

static int teardown(void **state) { return store_fixture_teardown(state); }

static void copy_opens_with_the_state(void **state) {
  fixture *f = *state;
  enrolled_agent(f->s, "bot", NOW);
  assert_int_equal(wd_store_setting_put(f->s, "k", "v", 0), 0);
  char copy[160];
  snprintf(copy, sizeof copy, "%s/copy.db", f->dir);
  assert_int_equal(wd_store_backup(f->s, copy), 0);
  struct stat sb;
  assert_int_equal(stat(copy, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);
  /* Writes after the copy stay out of it. */
  assert_int_equal(wd_store_setting_put(f->s, "k", "later", 0), 0);
  wd_store *c = NULL;
  assert_int_equal(wd_store_open(copy, 0, &c), 0);
  char *v = NULL;
  assert_int_equal(wd_store_setting_get(c, "k", &v), 0);
  assert_string_equal(v, "v");
  wd_free(v);
  wd_agent a = {0};
  assert_int_equal(wd_store_agent_get(c, "spiffe://example.org/agent/bot", &a), 0);
  assert_int_equal(a.status, WD_AGENT_ACTIVE);
  wd_store_agent_free(&a);
  int ver = 0;
  assert_int_equal(wd_store_schema_version(c, &ver), 0);
  assert_true(ver > 0);
  wd_store_close(c);

  /* Never over a file that is there, which stays as it was. */
  assert_int_equal(wd_store_backup(f->s, copy), -WD_E_EXISTS);
  assert_int_equal(wd_store_open(copy, WD_STORE_READONLY, &c), 0);
  assert_int_equal(wd_store_setting_get(c, "k", &v), 0);
  assert_string_equal(v, "v");
  wd_free(v);
  wd_store_close(c);
  tmp_db_remove(NULL, copy);

  char nowhere[200];
  snprintf(nowhere, sizeof nowhere, "%s/no/such/dir.db", f->dir);
  assert_int_equal(wd_store_backup(f->s, nowhere), -WD_E_IO);
  assert_int_equal(wd_store_backup(f->s, ""), -WD_E_INVAL);
  assert_int_equal(wd_store_backup(NULL, copy), -WD_E_INVAL);
  assert_int_not_equal(stat(copy, &sb), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(copy_opens_with_the_state, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

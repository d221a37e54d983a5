/* SPDX-License-Identifier: Apache-2.0
 *
 * A real write failure for tests: files of this process may not grow
 * past a few bytes, so every write beyond fails with EFBIG (SIGXFSZ is
 * ignored, as `warden serve` ignores it). Include after cmocka.h.
 */
#ifndef WD_TEST_FSIZE_H
#define WD_TEST_FSIZE_H

#include <signal.h>
#include <sys/resource.h>

/* Caps this process's file size at bytes; returns the limit to restore
 * with fsize_restore. */
static inline struct rlimit fsize_cap(rlim_t bytes) {
  struct rlimit old, small;
  assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
  small = old;
  small.rlim_cur = bytes;
  (void)signal(SIGXFSZ, SIG_IGN);
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
  return old;
}

static inline void fsize_restore(struct rlimit old) {
  assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
}

#endif

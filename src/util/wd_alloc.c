/* SPDX-License-Identifier: Apache-2.0
 *
 * Allocation wrappers with a fault-injection hook for tests.
 */
#include "wd_alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_after = -1;

void wd_test_fail_alloc_after(long n) { atomic_store(&fail_after, n); }

static atomic_long fail_once = -1;

void wd_test_fail_alloc_once(long n) { atomic_store(&fail_once, n); }

static int should_fail(void) {
  long v = atomic_load(&fail_once);
  while (v >= 0)
    if (atomic_compare_exchange_weak(&fail_once, &v, v - 1)) {
      if (v == 0) return 1;
      break;
    }
  v = atomic_load(&fail_after);
  while (v >= 0) {
    if (v == 0) return 1;
    if (atomic_compare_exchange_weak(&fail_after, &v, v - 1)) return 0;
  }
  return 0;
}

void *wd_malloc(size_t n) {
  if (should_fail()) return NULL;
  return malloc(n ? n : 1);
}

void *wd_calloc(size_t count, size_t size) {
  if (should_fail()) return NULL;
  return calloc(count ? count : 1, size ? size : 1);
}

void *wd_realloc(void *p, size_t n) {
  if (should_fail()) return NULL;
  return realloc(p, n ? n : 1);
}

void wd_free(void *p) { free(p); }

char *wd_strndup(const char *s, size_t n) {
  char *d = wd_malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *wd_strdup(const char *s) { return wd_strndup(s, strlen(s)); }

/* SPDX-License-Identifier: Apache-2.0
 *
 * The project's allocator. All heap memory goes through these wrappers so
 * that tests can make the Nth allocation fail (wd_test_fail_alloc_after) and
 * check that every path fails closed without leaking.
 */
#ifndef WD_ALLOC_H
#define WD_ALLOC_H

#include <stddef.h>

/* Returns owned memory (free with wd_free), or NULL on failure. */
void *wd_malloc(size_t n);
/* Returns owned zeroed memory (free with wd_free), or NULL on failure or overflow. */
void *wd_calloc(size_t count, size_t size);
/* Resizes p; on failure returns NULL and p stays valid and owned by the caller. */
void *wd_realloc(void *p, size_t n);
/* Frees p; NULL is a no-op. */
void wd_free(void *p);
/* Returns an owned NUL-terminated copy of s[0..n) (free with wd_free). */
char *wd_strndup(const char *s, size_t n);
/* Returns an owned copy of the NUL-terminated s (free with wd_free). */
char *wd_strdup(const char *s);

/* Test hook: after n more successful allocations every allocation fails;
 * n < 0 disables the hook. */
void wd_test_fail_alloc_after(long n);
/* Test hook: the allocation after n more successful ones fails, and only
 * that one; n < 0 disables the hook. */
void wd_test_fail_alloc_once(long n);

#endif

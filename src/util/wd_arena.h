/* SPDX-License-Identifier: Apache-2.0
 *
 * A bump allocator for data that dies together: one request, one parsed
 * policy set. Allocations are 16-byte aligned and are never freed one by
 * one; wd_arena_clear releases them all. Every arena has a byte cap.
 */
#ifndef WD_ARENA_H
#define WD_ARENA_H

#include <stddef.h>

typedef struct wd_arena wd_arena;

/* Returns an owned arena that refuses to grow past cap bytes (free with
 * wd_arena_free), or NULL when out of memory. */
wd_arena *wd_arena_new(size_t cap);
/* Frees the arena and everything allocated from it; NULL is a no-op. */
void wd_arena_free(wd_arena *a);
/* Releases every allocation but keeps the first chunk for reuse. */
void wd_arena_clear(wd_arena *a);
/* Returns arena-owned memory (valid until the arena is cleared), or NULL
 * when out of memory or past the cap. */
void *wd_arena_alloc(wd_arena *a, size_t n);
/* Like wd_arena_alloc, zeroed. */
void *wd_arena_calloc(wd_arena *a, size_t count, size_t size);
/* Returns an arena-owned NUL-terminated copy of s[0..n). */
char *wd_arena_strndup(wd_arena *a, const char *s, size_t n);
/* Returns an arena-owned copy of p[0..n). */
void *wd_arena_memdup(wd_arena *a, const void *p, size_t n);
/* Bytes handed out since the last clear. */
size_t wd_arena_used(const wd_arena *a);

#endif

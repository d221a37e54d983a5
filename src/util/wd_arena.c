/* SPDX-License-Identifier: Apache-2.0
 *
 * Chunked bump allocator. Chunks double in size up to 1 MiB; a request
 * larger than a chunk gets a chunk of its own.
 */
#include "wd_arena.h"

#include <stdint.h>
#include <string.h>

#include "wd_alloc.h"

#define ARENA_ALIGN       16u
#define ARENA_FIRST_CHUNK 4096u
#define ARENA_MAX_CHUNK   (1u << 20)

typedef struct chunk {
  struct chunk *next;
  size_t size; /* usable bytes after the header */
  size_t used;
  _Alignas(16) unsigned char data[];
} chunk;

struct wd_arena {
  chunk *head;      /* current chunk; older chunks follow */
  size_t cap;       /* hard limit on bytes handed out */
  size_t used;      /* bytes handed out since last clear */
  size_t next_size; /* size of the next chunk to allocate */
};

wd_arena *wd_arena_new(size_t cap) {
  wd_arena *a = wd_calloc(1, sizeof *a);
  if (!a) return NULL;
  a->cap = cap;
  a->next_size = ARENA_FIRST_CHUNK;
  return a;
}

static void free_chunks(chunk *c) {
  while (c) {
    chunk *n = c->next;
    wd_free(c);
    c = n;
  }
}

void wd_arena_free(wd_arena *a) {
  if (!a) return;
  free_chunks(a->head);
  wd_free(a);
}

void wd_arena_clear(wd_arena *a) {
  if (!a || !a->head) return;
  chunk *last = a->head;
  while (last->next)
    last = last->next;
  /* Keep the oldest (first) chunk: it is the common case's whole footprint. */
  chunk *c = a->head;
  while (c != last) {
    chunk *n = c->next;
    wd_free(c);
    c = n;
  }
  last->used = 0;
  a->head = last;
  a->used = 0;
}

void *wd_arena_alloc(wd_arena *a, size_t n) {
  if (!a) return NULL;
  size_t need = (n + (ARENA_ALIGN - 1)) & ~(size_t)(ARENA_ALIGN - 1);
  if (need < n || need > a->cap || a->used > a->cap - need) return NULL;
  chunk *c = a->head;
  if (!c || c->size - c->used < need) {
    size_t sz = a->next_size;
    if (sz < need) sz = need;
    chunk *nc = wd_malloc(sizeof *nc + sz);
    if (!nc) return NULL;
    nc->size = sz;
    nc->used = 0;
    nc->next = a->head;
    a->head = nc;
    if (a->next_size < ARENA_MAX_CHUNK) a->next_size *= 2;
    c = nc;
  }
  void *p = c->data + c->used;
  c->used += need;
  a->used += need;
  return p;
}

void *wd_arena_calloc(wd_arena *a, size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  void *p = wd_arena_alloc(a, count * size);
  if (p) memset(p, 0, count * size);
  return p;
}

void *wd_arena_memdup(wd_arena *a, const void *p, size_t n) {
  void *d = wd_arena_alloc(a, n);
  if (d && n) memcpy(d, p, n);
  return d;
}

char *wd_arena_strndup(wd_arena *a, const char *s, size_t n) {
  if (n == SIZE_MAX) return NULL;
  char *d = wd_arena_alloc(a, n + 1);
  if (!d) return NULL;
  if (n) memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

size_t wd_arena_used(const wd_arena *a) { return a ? a->used : 0; }

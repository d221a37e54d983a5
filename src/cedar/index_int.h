/* SPDX-License-Identifier: Apache-2.0
 *
 * The scope index's layout, shared by its builder (index.c) and its
 * lookup (index_query.c). Everything is owned by the index's arena or
 * maps, freed by cedar__index_free.
 */
#ifndef CEDAR_INDEX_INT_H
#define CEDAR_INDEX_INT_H

#include "cedar_int.h"

enum { DIM_PRINCIPAL, DIM_ACTION, DIM_RESOURCE, DIM__COUNT };

typedef struct node {
  const cedar__policy *p;
  struct node *next;
} node;

struct cedar__index {
  wd_arena *arena;            /* keys and nodes */
  wd_map *by_uid[DIM__COUNT]; /* encoded uid -> node list */
  node *always;
  cedar__guards guards;
  /* Policies the scope would file under their action or on "always", and
   * which have a guard, may be filed by guard instead, so that those whose
   * literal differs from the request's value are never gathered: by_lit
   * maps (path id, literal) keys (lit_key) to node lists, and by_path
   * lists every such policy by path id, for a path that errors. */
  wd_map *by_lit;
  node **by_path;
};

/* A uid as one byte string (type length, type, id; ids may hold NULs):
 * its length, and the bytes written into k[0..len). */
size_t cedar__index_key_len(const cedar__uid *u);
void cedar__index_key_fill(unsigned char *k, const cedar__uid *u);
/* The key of a guard path's value: the path id, then the value's key
 * (cedar__guard_key, whose 1 means "equal to no literal"). */
int cedar__index_lit_key(uint32_t path, const cedar__val *v, wd_buf *k);

#endif

/* SPDX-License-Identifier: Apache-2.0
 *
 * The table of callable functions and methods. PARTIAL: impls are filled
 * in by the extension work; lookup is final.
 */
#include <string.h>

#include "cedar_int.h"

const cedar__fninfo cedar__fn_table[CEDAR__F__COUNT] = {
#define XX(id, nm, method, ar) [CEDAR__F_##id] = {nm, method, ar, NULL},
    CEDAR__FN_MAP(XX)
#undef XX
};

int cedar__fn_lookup(const char *name, size_t n, int is_method) {
  for (int i = 0; i < CEDAR__F__COUNT; i++) {
    const cedar__fninfo *f = &cedar__fn_table[i];
    if (f->is_method == (is_method != 0) && strlen(f->name) == n && memcmp(f->name, name, n) == 0)
      return i;
  }
  return -1;
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * The property the DPoP payload's flat reader must keep, shared by its unit
 * test and its fuzz target: when it takes a text, jansson reads the same
 * text as an object with the same claims. Declining is always allowed.
 */
#ifndef WD_TEST_DPOP_CLAIMS_AGREE_H
#define WD_TEST_DPOP_CLAIMS_AGREE_H

#include <string.h>

#include "ident/ident_int.h"

static int claim_same(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* 1 when taken, 0 when declined, -1 when the two readings differ. */
static int dpop_claims_agree(const char *s, size_t n) {
  static char copy[WD_LIMIT_JWS_PART_BYTES];
  if (n > sizeof copy) return 0;
  memcpy(copy, s, n);
  wd_ident__dpop_claims flat, tree;
  int took = wd_ident__dpop_claims_flat(copy, n, &flat);
  if (!took) return memcmp(copy, s, n) == 0 ? 0 : -1; /* untouched for jansson */
  json_t *j = wd_ident__json_object(s, n);
  if (!j) return -1;
  wd_ident__dpop_claims_tree(j, &tree);
  int same = claim_same(flat.jti, tree.jti) && claim_same(flat.htm, tree.htm) &&
             claim_same(flat.htu, tree.htu) && claim_same(flat.ath, tree.ath) &&
             flat.has_iat == tree.has_iat && (!flat.has_iat || flat.iat == tree.iat);
  json_decref(j);
  return same ? 1 : -1;
}

#endif

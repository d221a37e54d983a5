/* SPDX-License-Identifier: Apache-2.0
 *
 * The credential headers of a test request made with libcurl: an
 * Authorization value and a DPoP proof, each when given.
 */
#ifndef WD_TEST_AUTH_HEADERS_H
#define WD_TEST_AUTH_HEADERS_H

#include <stdio.h>

#include <curl/curl.h>

/* Appends "Authorization: auth" and "DPoP: dpop" (each when not NULL) to
 * hs; curl copies them. Returns the list. */
static inline struct curl_slist *auth_headers(struct curl_slist *hs, const char *auth,
                                              const char *dpop) {
  char h[16384];
  if (auth) {
    (void)snprintf(h, sizeof h, "Authorization: %s", auth);
    hs = curl_slist_append(hs, h);
  }
  if (dpop) {
    (void)snprintf(h, sizeof h, "DPoP: %s", dpop);
    hs = curl_slist_append(hs, h);
  }
  return hs;
}

#endif

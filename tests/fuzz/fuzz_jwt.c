/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target for the identity module's parsers of attacker input: the
 * compact JWS decoder, task-token verification against a fixed keyset,
 * DPoP proof verification (which also imports the header's JWK), JWK
 * import and strict base64url. The whole input is tried as each; none
 * may crash, leak or accept garbage as a valid token.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ident/wd_ident.h"
#include "util/wd_alloc.h"

#define NOW INT64_C(1700000000)

static wd_ident_keyset *keyset(void) {
  static wd_ident_keyset *ks;
  if (!ks && (wd_ident_keyset_new(&ks) != 0 || wd_ident_keyset_rotate(ks, NOW, 0) != 0)) abort();
  return ks;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *s = (const char *)data;
  wd_ident_diag d;

  wd_ident_jws j;
  if (wd_ident_jws_decode(s, size, &j, &d) == 0) {
    if (!j.header || !j.payload) abort();
    wd_ident_jws_clear(&j);
  }

  wd_ident_verify_opts vo = {
      .iss = "https://warden.example", .aud = "warden", .now = NOW, .leeway = -1};
  wd_ident_claims c;
  /* Nothing the fuzzer writes can carry our signature. */
  if (wd_ident_token_verify(keyset(), s, size, &vo, &c, &d) == 0) abort();

  wd_ident_dpop_opts po = {.htm = "POST",
                           .htu = "https://warden.example/v1/authorize",
                           .access_token = "t",
                           .cnf_jkt = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k",
                           .now = NOW,
                           .leeway = -1};
  wd_ident_dpop_result r;
  if (wd_ident_dpop_verify(s, size, &po, &r, &d) == 0 && strlen(r.jkt) != WD_IDENT_JKT_LEN) abort();

  wd_ident_key *k = NULL;
  if (wd_ident_key_from_jwk(s, size, &k, &d) == 0 && wd_ident_key_has_private(k)) abort();
  wd_ident_key_free(k);

  uint8_t out[WD_LIMIT_JWS_BYTES];
  size_t n = 0;
  if (size <= WD_LIMIT_JWS_BYTES && wd_ident_b64url_decode(s, size, out, sizeof out, &n) == 0) {
    /* Strict decoding means re-encoding gives back the input exactly. */
    char *enc = wd_malloc(wd_ident_b64url_enclen(n) + 1);
    if (enc) {
      if (wd_ident_b64url_encode(out, n, enc, wd_ident_b64url_enclen(n) + 1) != 0 ||
          strlen(enc) != size || memcmp(enc, s, size) != 0)
        abort();
      wd_free(enc);
    }
  }
  return 0;
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * The admin token: made at first start, rotated by an admin call
 * (POST /v1/admin/token), or reset offline by the operator of a stopped
 * server when it is lost (`warden admin reset-token`). Only its SHA-256
 * is kept, and the hash always enters the store in the same transaction
 * as the record that says who changed it: no admin token exists that the
 * evidence log does not account for.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gov/gov_int.h"
#include "util/wd_alloc.h"
#include "util/wd_buf.h"
#include "util/wd_limits.h"

int wd_gov__admin_token_unsendable(const char *tok) {
  for (const unsigned char *p = (const unsigned char *)tok; *p; p++)
    if (*p < 0x21 || *p > 0x7e) return 1;
  return 0;
}

int wd_gov__admin_token_usable(const char *tok) {
  return strlen(tok) >= WD_LIMIT_ADMIN_TOKEN_MIN_CHARS && !wd_gov__admin_token_unsendable(tok);
}

double wd_gov__admin_token_bits(const char *tok) {
  unsigned char seen[256] = {0};
  size_t len = 0, distinct = 0;
  for (const unsigned char *p = (const unsigned char *)tok; *p; p++, len++)
    if (!seen[*p]) {
      seen[*p] = 1;
      distinct++;
    }
  return distinct > 1 ? (double)len * log2((double)distinct) : 0.0;
}

int wd_gov__admin_token_issue(wd_audit *a, const char *given, int first, const char *actor,
                              const json_t *payload, char hash[WD_IDENT_HASH_HEX_LEN + 1],
                              char **token) {
  char *tok = NULL;
  int rc;
  *token = NULL;
  if (given && *given && !wd_gov__admin_token_usable(given)) return -WD_E_INVAL;
  if (given && *given)
    rc = (tok = wd_strdup(given)) ? 0 : -WD_E_NOMEM;
  else
    rc = wd_ident_random_token(32, &tok);
  if (rc) return rc;
  rc = wd_ident_secret_hash(tok, strlen(tok), hash);
  wd_store_fx fx = {.kind = WD_STORE_FX_SETTING,
                    .key = WD_SETTING_ADMIN_TOKEN_HASH,
                    .value = hash,
                    .only_if_absent = first};
  wd_audit_entry e = {.type = WD_AUDIT_ADMIN_ACTION, .payload = payload, .fx = &fx, .nfx = 1};
  if (!rc) rc = wd_audit_append_group(a, actor, NULL, &e, 1);
  if (rc) {
    wd_ident_secret_free(tok);
    wd_ident_cleanse(hash, WD_IDENT_HASH_HEX_LEN + 1);
    return rc;
  }
  *token = tok;
  return 0;
}

int wd_gov__admin_check(wd_gov *g, const char *bearer) {
  char h[WD_IDENT_HASH_HEX_LEN + 1];
  pthread_mutex_lock(&g->admin_lock);
  memcpy(h, g->admin_hash, sizeof h);
  pthread_mutex_unlock(&g->admin_lock);
  int ok = wd_ident_secret_check(bearer, strlen(bearer), h);
  wd_ident_cleanse(h, sizeof h);
  return ok;
}

int wd_gov__h_admin_token(wd_http_req *req, wd_http_resp *resp, void *svc) {
  wd_gov *g = svc;
  const char *reason = NULL;
  int rc = 0;
  if (wd_gov__str(req, resp, "reason", 0, &reason, &rc)) return rc;
  char hash[WD_IDENT_HASH_HEX_LEN + 1], *fresh = NULL, *tok = NULL, *text = NULL;
  json_t *p =
      json_pack("{s:s, s:s}", "action", "admin_token.rotated", "reason", reason ? reason : "");
  if (!p) return -WD_E_NOMEM;
  /* The answer is written before the change: once the new hash is in,
   * losing the only copy of the token to a failed allocation would lock
   * every admin out. */
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_HTTP_BODY_BYTES);
  if ((rc = wd_ident_random_token(32, &fresh)) == 0)
    rc = wd_buf_addf(&b, "{\"token\":\"%s\"}", fresh);
  size_t len = wd_buf_len(&b);
  if (!rc && !(text = wd_buf_take(&b))) rc = -WD_E_NOMEM;
  /* Held across the record so that the hash served is the last one
   * written; only admin calls wait on it. */
  pthread_mutex_lock(&g->admin_lock);
  if (!rc) rc = wd_gov__admin_token_issue(g->audit, fresh, 0, "admin", p, hash, &tok);
  if (!rc) memcpy(g->admin_hash, hash, sizeof hash);
  pthread_mutex_unlock(&g->admin_lock);
  json_decref(p);
  wd_ident_cleanse(hash, sizeof hash);
  wd_ident_secret_free(fresh);
  wd_ident_secret_free(tok);
  wd_buf_free(&b);
  if (rc) {
    wd_ident_secret_free(text);
    return rc;
  }
  return wd_http_resp_text(resp, 201, text, len);
}

int wd_gov_admin_reset(const char *data_dir, const char *by, char **token, char *err,
                       size_t errlen) {
  int rc = 0, fd = -1;
  wd_store *st = NULL;
  wd_audit *a = NULL;
  json_t *p = NULL;
  *token = NULL;
  if (!data_dir || !*data_dir || !by) return -WD_E_INVAL;
  rc = wd_gov__open_state(data_dir, 0, 0, &fd, &st, &a, err, errlen);
  if (rc == -WD_E_EXISTS)
    WD_GOV__FAIL(rc,
                 "%s is in use by a running warden serve: stop it first, or rotate the token "
                 "with the admin API",
                 data_dir);
  if (rc) goto cleanup;
  if (!(p = json_pack("{s:s, s:s}", "action", "admin_token.reset", "by", by)))
    WD_GOV__FAIL(-WD_E_NOMEM, "out of memory");
  char hash[WD_IDENT_HASH_HEX_LEN + 1];
  rc = wd_gov__admin_token_issue(a, NULL, 0, "operator", p, hash, token);
  wd_ident_cleanse(hash, sizeof hash);
  if (rc) WD_GOV__FAIL(rc, "cannot record the new admin token: %s", wd_strerror(rc));
cleanup:
  json_decref(p);
  /* Every append returned durable, so closing the log loses nothing. */
  wd_audit_close(a);
  wd_store_close(st);
  if (fd >= 0) (void)close(fd);
  return rc;
}

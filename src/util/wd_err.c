/* SPDX-License-Identifier: Apache-2.0
 *
 * Names and messages for the error table in warden/err.h.
 */
#include "warden/err.h"

static int norm(int err) { return err < 0 ? -err : err; }

const char *wd_err_name(int err) {
  switch ((wd_err)norm(err)) {
  case WD_OK: return "WD_OK";
#define XX(code, msg)                                                                              \
  case WD_E_##code: return "WD_E_" #code;
    WD_ERR_MAP(XX)
#undef XX
  case WD_E__COUNT: break;
  }
  return "WD_E_UNKNOWN";
}

const char *wd_strerror(int err) {
  switch ((wd_err)norm(err)) {
  case WD_OK: return "success";
#define XX(code, msg)                                                                              \
  case WD_E_##code: return msg;
    WD_ERR_MAP(XX)
#undef XX
  case WD_E__COUNT: break;
  }
  return "unknown error";
}

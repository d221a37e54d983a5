/* SPDX-License-Identifier: Apache-2.0
 *
 * Warden's single error table. Every fallible function in the project
 * returns 0 on success or a negated code from this table; the table
 * generates the enum, the names and the messages so they cannot drift.
 */
#ifndef WARDEN_ERR_H
#define WARDEN_ERR_H

#include "warden/export.h"

#define WD_ERR_MAP(XX)                                                                             \
  XX(NOMEM, "out of memory")                                                                       \
  XX(TOOBIG, "input exceeds a limit")                                                              \
  XX(PARSE, "syntax error")                                                                        \
  XX(JSON, "malformed JSON")                                                                       \
  XX(INVAL, "invalid argument")                                                                    \
  XX(NOTFOUND, "not found")                                                                        \
  XX(EXISTS, "already exists")                                                                     \
  XX(EVAL, "evaluation error")                                                                     \
  XX(TYPE, "type error")                                                                           \
  XX(OVERFLOW, "integer overflow")                                                                 \
  XX(CYCLE, "cycle in entity hierarchy")                                                           \
  XX(IO, "input/output error")                                                                     \
  XX(STORE, "storage error")                                                                       \
  XX(VALIDATE, "validation failed")                                                                \
  XX(INTERNAL, "internal error")                                                                   \
  XX(FULL, "at the most allowed")                                                                  \
  XX(CORRUPT, "the database file is damaged, or is not a database")                                \
  XX(VERSION, "the database was written by a newer Warden")                                        \
  XX(FOREIGN, "the database holds tables but is not a Warden database")                            \
  XX(STATE, "not allowed in the current state")

typedef enum {
  WD_OK = 0,
#define XX(code, msg) WD_E_##code,
  WD_ERR_MAP(XX)
#undef XX
      WD_E__COUNT
} wd_err;

/* Returns a static string naming the code ("WD_E_NOMEM"); accepts 0 or -code. */
WD_EXTERN const char *wd_err_name(int err);
/* Returns a static human-readable message; accepts 0 or -code. */
WD_EXTERN const char *wd_strerror(int err);

#endif

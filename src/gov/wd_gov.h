/* SPDX-License-Identifier: Apache-2.0
 *
 * The governance service behind `warden serve`: agents, join-token
 * enrolment, tasks with short-lived DPoP-bound task tokens, per-call Cedar
 * authorization, revocation, and the evidence log. It opens the store, the
 * log, the signing keyset and the policy set under one data directory and
 * serves docs/api/README.md on the HTTP layer. Nothing here prints or
 * touches signals: `warden serve` (src/cli/serve.c) is the front end.
 */
#ifndef WD_GOV_H
#define WD_GOV_H

#include <stddef.h>
#include <stdint.h>

#include "warden/export.h"

/* Everything the service needs; strings are borrowed for wd_gov_start. */
typedef struct wd_gov_opts {
  const char *data_dir;     /* required: warden.db, keys/ live here */
  const char *policy_dir;   /* *.cedar files; NULL or "" = docs/policies */
  const char *schema_path;  /* NULL or "" = <policy_dir>/governance.cedarschema */
  const char *trust_domain; /* NULL = "warden.local" */
  const char *audience;     /* task-token aud; NULL = "warden" */
  const char *admin_token;  /* initial admin token (first start only); NULL = generate */
  const char *tls_cert;     /* PEM certificate chain file: serve HTTPS; NULL or "" = HTTP */
  const char *tls_key;      /* its PEM private key file (both or neither) */
  const char *public_url;   /* base URL agents use in DPoP htu; NULL or "" = scheme://Host */
  const char *access_log;   /* a JSON line per request to this file; "-" = stderr; NULL = none */
  const char *host;         /* NULL = 127.0.0.1 */
  uint16_t port;            /* 0 = ephemeral */
  unsigned threads, max_connections, conn_timeout_s;
  unsigned max_per_ip; /* connections from one address; 0 = no limit */
  size_t max_body;
  int pure_cedar;               /* non-zero: a forbid that errors is skipped (Cedar semantics) */
  unsigned token_ttl_s;         /* 0 = 300; at most 900 */
  unsigned quarantine_denials;  /* auto-quarantine after N denials; 0 = off */
  unsigned quarantine_window_s; /* ... within this many seconds; 0 = 60 */
  unsigned reaper_interval_ms;  /* 0 = 1000 */
  /* Seconds between signing-key rotations while serving (besides the one
   * at every start); 0 = WD_GOV_KEY_ROTATION_DEFAULT_S. Production values
   * are hours: below ~62 s the keyset (WD_LIMIT_KEYSET_KEYS keys, each
   * kept 930 s after retirement) fills up and rounds are skipped. */
  unsigned key_rotation_s;
  /* Seconds an ended task's rows and an expired join token are kept
   * before the reaper removes them (wd_store_prune_plan), each pass under
   * a store.pruned record; 0 = kept forever. */
  unsigned retention_s;
  /* Called during wd_gov_start with a one-line warning for the operator
   * (msg borrowed for the call), since the service never prints: a given
   * admin token that is not the stored one, a certificate out of its
   * validity period. NULL = warnings are dropped. */
  void (*warn)(void *ctx, const char *msg);
  void *warn_ctx;
} wd_gov_opts;

#define WD_GOV_KEY_ROTATION_DEFAULT_S 86400u /* one day */

typedef struct wd_gov wd_gov;

/* Opens the state and starts serving. On success *out is owned (free with
 * wd_gov_free) and, on the first start when no admin token was given,
 * *new_admin_token is the generated token (owned; free with
 * wd_ident_secret_free; print it once), else NULL. On failure err (at most
 * errlen bytes) says why; an invalid policy set refuses to start
 * (-WD_E_VALIDATE or -WD_E_PARSE). */
int wd_gov_start(const wd_gov_opts *o, wd_gov **out, char **new_admin_token, char *err,
                 size_t errlen) WD_WUR;
/* The bound port. */
uint16_t wd_gov_port(const wd_gov *g);
/* Graceful stop: finishes in-flight requests (up to wait_ms), stops the
 * reaper and the key rotation. Returns 0 or -WD_E_INTERNAL when requests
 * already being handled were cut off (see wd_http_server_shutdown). */
int wd_gov_shutdown(wd_gov *g, unsigned wait_ms);
/* Shuts down if needed and frees everything; NULL is a no-op. */
void wd_gov_free(wd_gov *g);

/* Evidence records the store failed to write since the start (a call
 * waiting on one is refused with a 500), and the last failure's error
 * code (0: none). For the operator's warning: the service itself never
 * prints. */
uint64_t wd_gov_log_failures(wd_gov *g, int *last_error);

/* Reopens the access log at its path (after a rotation moved the file);
 * the old file stays in use when the new one cannot be opened (-WD_E_IO). */
int wd_gov_reopen_logs(wd_gov *g);

/* For an operator who lost the admin token: with the server stopped (its
 * lock on data_dir is taken here, -WD_E_EXISTS while it runs), makes a
 * new admin token, recorded as admin.action admin_token.reset by
 * "operator" naming by (borrowed: who asked, e.g. the Unix user). The old
 * token stops working. On success *token is owned (free with
 * wd_ident_secret_free; print it once); on failure err says why. */
int wd_gov_admin_reset(const char *data_dir, const char *by, char **token, char *err,
                       size_t errlen) WD_WUR;

/* 1 when s is 1-128 characters of [A-Za-z0-9._-], what every agent name
 * is made of (a name is also neither "." nor ".."); 0 for NULL. Safe in
 * a URL query as it is. */
int wd_gov_agent_name_chars(const char *s);

/* What a backup copied, and how its evidence log verified. */
typedef struct wd_gov_backup_report {
  unsigned keys;      /* signing keys copied */
  int64_t records;    /* records of the copied log that verified */
  int64_t last_seq;   /* the last of them (0: none) */
  char last_hash[65]; /* its hash */
  int64_t bad_seq;    /* 0 when the copied chain is intact; else where it breaks */
  char reason[256];   /* why, when it breaks */
} wd_gov_backup_report;

/* Copies the state under data_dir into dest, a new directory made 0700:
 * the database as of one moment (wd_store_backup) and then the signing
 * keys, so the copy holds every key its tokens name. A server may go on
 * running on data_dir meanwhile. Then verifies the copied log into *rep.
 * A copy that fails leaves no dest behind. Returns 0 (whether or not the
 * chain verifies: see rep->bad_seq), or an error with err saying why;
 * -WD_E_EXISTS when dest exists. */
int wd_gov_backup(const char *data_dir, const char *dest, wd_gov_backup_report *rep, char *err,
                  size_t errlen) WD_WUR;

#endif

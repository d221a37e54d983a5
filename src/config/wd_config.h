/* SPDX-License-Identifier: Apache-2.0
 *
 * Configuration of `warden serve`: one struct with defaults, filled from
 * three sources in increasing precedence: a JSON config file (--config FILE
 * or WARDEN_CONFIG), WARDEN_* environment variables, then command-line
 * flags. Every key lives in one table (config.c) that names it in all three
 * forms. Unknown file keys and flags are errors naming the key; unknown
 * WARDEN_* variables are ignored because client tools share the prefix
 * (WARDEN_URL). This module parses and validates; it opens nothing else.
 */
#ifndef WD_CONFIG_H
#define WD_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "warden/export.h"

#define WD_CONFIG_PATH_MAX               4096
#define WD_CONFIG_KEY_ROTATION_DEFAULT_S 86400u     /* one day */
#define WD_CONFIG_KEY_ROTATION_MAX_S     31536000u  /* one year */
#define WD_CONFIG_RETENTION_DEFAULT_S    2592000u   /* 30 days */
#define WD_CONFIG_RETENTION_MAX_S        315360000u /* ten years */

typedef struct wd_config {
  char listen_host[64];                /* numeric IPv4 or IPv6 address */
  uint16_t listen_port;                /* 0 = pick a free port */
  char data_dir[WD_CONFIG_PATH_MAX];   /* state directory */
  char policy_dir[WD_CONFIG_PATH_MAX]; /* .cedar files; "" = none */
  char admin_token[256];               /* initial admin token; secret; "" = generate */
  char trust_domain[256];              /* SPIFFE trust domain */
  unsigned threads;                    /* HTTP worker threads */
  unsigned max_connections;
  unsigned per_ip_connections; /* from one address; 0 = no limit */
  unsigned connection_timeout_s;
  unsigned shutdown_timeout_s; /* wait for in-flight requests */
  size_t max_body_bytes;
  char config_file[WD_CONFIG_PATH_MAX]; /* the file that was read, or "" */
  char schema_path[WD_CONFIG_PATH_MAX]; /* "" = <policy_dir>/governance.cedarschema */
  char audience[256];                   /* task-token aud; "" = "warden" */
  unsigned pure_cedar;                  /* 1: Cedar semantics (an erroring forbid is skipped) */
  unsigned token_ttl_s;                 /* task-token lifetime; 0 = 300 */
  unsigned quarantine_denials;          /* auto-quarantine after N denials; 0 = off */
  unsigned quarantine_window_s;         /* ... within this window; 0 = 60 */
  unsigned key_rotation_s;              /* signing-key rotation period; default 86400 */
  unsigned retention_s;                 /* keep ended tasks and expired join tokens; 0 = forever */
  char tls_cert[WD_CONFIG_PATH_MAX];    /* PEM certificate chain; "" = plain HTTP */
  char tls_key[WD_CONFIG_PATH_MAX];     /* its PEM private key; both or neither */
  char public_url[1024]; /* the base URL agents use (a TLS proxy's); "" = this server's */
  char access_log[WD_CONFIG_PATH_MAX]; /* a JSON line per request; "-" = stderr; "" = none */
} wd_config;

/* Fills c with the defaults (127.0.0.1:8080, ./var, warden.local, ...). */
void wd_config_defaults(wd_config *c);
/* Overwrites the secret fields with zeros; call before c goes away. */
void wd_config_clear(wd_config *c);

/* The whole pipeline: defaults, then the file named by --config or
 * WARDEN_CONFIG, then envp (NULL-terminated "K=V" strings; NULL = none),
 * then argv[0..argc) (flags only, no program name). Returns 0, or
 * -WD_E_INVAL / -WD_E_IO / -WD_E_JSON / -WD_E_TOOBIG with err (at most
 * errlen bytes, NUL-terminated) naming the source and key. */
int wd_config_load(wd_config *c, int argc, char *const *argv, char *const *envp, char *err,
                   size_t errlen) WD_WUR;

/* The single steps, for tests and for callers with their own order. Each
 * returns 0 or a negative code with err filled. */
int wd_config_apply_json(wd_config *c, const char *text, size_t len, const char *origin, char *err,
                         size_t errlen) WD_WUR;
int wd_config_apply_file(wd_config *c, const char *path, char *err, size_t errlen) WD_WUR;
int wd_config_apply_env(wd_config *c, char *const *envp, char *err, size_t errlen) WD_WUR;
int wd_config_apply_flags(wd_config *c, int argc, char *const *argv, char *err,
                          size_t errlen) WD_WUR;
/* Cross-field checks after all sources are applied. */
int wd_config_validate(const wd_config *c, char *err, size_t errlen) WD_WUR;

/* Parses "ADDR:PORT", "[V6]:PORT" or "localhost:PORT" into host and port.
 * Returns 0 or -WD_E_INVAL. */
int wd_config_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port) WD_WUR;

/* Writes a usage paragraph listing every key (flag, variable, file key). */
size_t wd_config_help(char *out, size_t len);

#endif

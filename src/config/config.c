/* SPDX-License-Identifier: Apache-2.0
 *
 * The configuration key table and the three sources that fill wd_config:
 * a JSON file, WARDEN_* environment variables and flags. Every key is one
 * row: its file key, variable, flag, kind, bounds and field. Values are
 * checked as they are set, so an error names the source that gave the bad
 * value. Not the server: nothing here binds, opens directories or reads
 * the admin token's meaning.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "config/wd_config.h"
#include "util/wd_alloc.h"
#include "util/wd_fs.h"
#include "util/wd_limits.h"
#include "warden/err.h"

typedef enum { K_LISTEN, K_STR, K_UINT, K_SIZE } kind;

typedef struct key {
  const char *file; /* key in the JSON file */
  const char *env;  /* environment variable */
  const char *flag; /* flag; NULL = not settable by flag (secrets) */
  kind k;
  size_t off; /* field offset */
  size_t cap; /* K_STR: field size */
  unsigned long min, max;
  const char *help;
} key;

#define F(field) offsetof(wd_config, field)
#define S(field) sizeof(((wd_config *)0)->field)

static const key KEYS[] = {
    {"listen", "WARDEN_LISTEN", "--listen", K_LISTEN, 0, 0, 0, 0, "ADDR:PORT to listen on"},
    {"data", "WARDEN_DATA", "--data", K_STR, F(data_dir), S(data_dir), 1, 0,
     "directory for the service state"},
    {"policy_dir", "WARDEN_POLICY_DIR", "--policy-dir", K_STR, F(policy_dir), S(policy_dir), 0, 0,
     "directory of .cedar policy files"},
    {"admin_token", "WARDEN_ADMIN_TOKEN", NULL, K_STR, F(admin_token), S(admin_token), 0, 0,
     "initial admin token (never a flag: argv is visible to other users)"},
    {"trust_domain", "WARDEN_TRUST_DOMAIN", "--trust-domain", K_STR, F(trust_domain),
     S(trust_domain), 1, 0, "SPIFFE trust domain of agent ids"},
    {"threads", "WARDEN_THREADS", "--threads", K_UINT, F(threads), 0, 1, WD_LIMIT_HTTP_THREADS,
     "HTTP worker threads"},
    {"max_connections", "WARDEN_MAX_CONNECTIONS", "--max-connections", K_UINT, F(max_connections),
     0, 1, WD_LIMIT_HTTP_CONNECTIONS, "concurrent connections"},
    {"per_ip_connections", "WARDEN_PER_IP_CONNECTIONS", "--per-ip-connections", K_UINT,
     F(per_ip_connections), 0, 0, WD_LIMIT_HTTP_CONNECTIONS,
     "concurrent connections from one address (0 = no limit; raise it behind a proxy)"},
    {"connection_timeout", "WARDEN_CONNECTION_TIMEOUT", "--connection-timeout", K_UINT,
     F(connection_timeout_s), 0, 1, WD_LIMIT_HTTP_CONN_TIMEOUT_S, "idle connection timeout (s)"},
    {"shutdown_timeout", "WARDEN_SHUTDOWN_TIMEOUT", "--shutdown-timeout", K_UINT,
     F(shutdown_timeout_s), 0, 0, WD_LIMIT_HTTP_SHUTDOWN_WAIT_S,
     "wait for in-flight requests at shutdown (s)"},
    {"max_body_bytes", "WARDEN_MAX_BODY_BYTES", "--max-body-bytes", K_SIZE, F(max_body_bytes), 0, 1,
     WD_LIMIT_HTTP_BODY_BYTES, "largest request body"},
    {"schema", "WARDEN_SCHEMA", "--schema", K_STR, F(schema_path), S(schema_path), 0, 0,
     "governance schema (.cedarschema); default <policy_dir>/governance.cedarschema"},
    {"audience", "WARDEN_AUDIENCE", "--audience", K_STR, F(audience), S(audience), 0, 0,
     "aud of task tokens (default warden)"},
    {"pure_cedar", "WARDEN_PURE_CEDAR", "--pure-cedar", K_UINT, F(pure_cedar), 0, 0, 1,
     "1: Cedar semantics instead of strict mode (an erroring forbid is skipped)"},
    {"token_ttl", "WARDEN_TOKEN_TTL", "--token-ttl", K_UINT, F(token_ttl_s), 0, 1, 900,
     "task-token lifetime (s), default 300"},
    {"quarantine_denials", "WARDEN_QUARANTINE_DENIALS", "--quarantine-denials", K_UINT,
     F(quarantine_denials), 0, 0, 1000000,
     "auto-quarantine after N policy denials: calls, task openings, renewals and intent changes (0 "
     "= off)"},
    {"quarantine_window", "WARDEN_QUARANTINE_WINDOW", "--quarantine-window", K_UINT,
     F(quarantine_window_s), 0, 1, 86400, "window of the auto-quarantine rule (s), default 60"},
    /* Seconds down to 1 for tests; production periods are hours (below ~62 s
     * the keyset fills with still-valid keys and rounds are skipped). */
    {"key_rotation", "WARDEN_KEY_ROTATION", "--key-rotation", K_UINT, F(key_rotation_s), 0, 1,
     WD_CONFIG_KEY_ROTATION_MAX_S,
     "signing-key rotation period (s), default 86400 (hours in production)"},
    {"retention", "WARDEN_RETENTION", "--retention", K_UINT, F(retention_s), 0, 0,
     WD_CONFIG_RETENTION_MAX_S,
     "keep an ended task's rows and an expired join token this long (s), default 2592000 (30 "
     "days); 0 = forever; the evidence log is never pruned"},
    {"tls_cert", "WARDEN_TLS_CERT", "--tls-cert", K_STR, F(tls_cert), S(tls_cert), 0, 0,
     "serve HTTPS with this PEM certificate chain (with --tls-key)"},
    {"tls_key", "WARDEN_TLS_KEY", "--tls-key", K_STR, F(tls_key), S(tls_key), 0, 0,
     "the certificate's PEM private key"},
    {"public_url", "WARDEN_PUBLIC_URL", "--public-url", K_STR, F(public_url), S(public_url), 0, 0,
     "base URL agents use, as DPoP proofs name it (behind a TLS proxy: https://...)"},
    {"access_log", "WARDEN_ACCESS_LOG", "--access-log", K_STR, F(access_log), S(access_log), 0, 0,
     "a JSON line per request to this file (- = stderr); SIGHUP reopens it"},
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])

static int fail(char *err, size_t len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t len, int code, const char *fmt, ...) {
  if (err && len) {
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(err, len, fmt, ap);
    va_end(ap);
  }
  return code;
}

void wd_config_defaults(wd_config *c) {
  memset(c, 0, sizeof *c);
  memcpy(c->listen_host, "127.0.0.1", sizeof "127.0.0.1");
  c->listen_port = 8080;
  memcpy(c->data_dir, "./var", sizeof "./var");
  memcpy(c->trust_domain, "warden.local", sizeof "warden.local");
  c->threads = 2;
  c->max_connections = WD_LIMIT_HTTP_CONNECTIONS;
  /* One peer holding every connection (idle ones last the timeout) would
   * shut every other agent out. */
  c->per_ip_connections = WD_LIMIT_HTTP_CONNECTIONS / 4;
  c->connection_timeout_s = WD_LIMIT_HTTP_CONN_TIMEOUT_S;
  c->shutdown_timeout_s = 10;
  c->max_body_bytes = WD_LIMIT_HTTP_BODY_BYTES;
  memcpy(c->policy_dir, "docs/policies", sizeof "docs/policies");
  c->token_ttl_s = 300;
  c->quarantine_window_s = 60;
  c->key_rotation_s = WD_CONFIG_KEY_ROTATION_DEFAULT_S;
  c->retention_s = WD_CONFIG_RETENTION_DEFAULT_S;
}

void wd_config_clear(wd_config *c) {
  volatile char *p = c->admin_token;
  for (size_t i = 0; i < sizeof c->admin_token; i++)
    p[i] = 0;
}

int wd_config_parse_listen(const char *s, char *host, size_t hostlen, uint16_t *port) {
  const char *colon = strrchr(s, ':');
  if (!colon || colon == s) return -WD_E_INVAL;
  const char *h = s;
  size_t hl = (size_t)(colon - s);
  if (h[0] == '[') {
    if (hl < 3 || h[hl - 1] != ']') return -WD_E_INVAL;
    h++;
    hl -= 2;
  }
  char buf[64];
  if (hl >= sizeof buf) return -WD_E_INVAL;
  memcpy(buf, h, hl);
  buf[hl] = '\0';
  if (strcmp(buf, "localhost") == 0) memcpy(buf, "127.0.0.1", sizeof "127.0.0.1");
  unsigned char tmp[16];
  int v4 = inet_pton(AF_INET, buf, tmp) == 1;
  int v6 = !v4 && inet_pton(AF_INET6, buf, tmp) == 1;
  if (!v4 && !v6) return -WD_E_INVAL;
  if (v6 && s[0] != '[') return -WD_E_INVAL; /* "::1:80" is ambiguous */
  const char *p = colon + 1;
  if (*p == '\0' || strlen(p) > 5) return -WD_E_INVAL;
  unsigned long v = 0;
  for (; *p; p++) {
    if (*p < '0' || *p > '9') return -WD_E_INVAL;
    v = v * 10 + (unsigned long)(*p - '0');
  }
  if (v > 65535 || strlen(buf) + 1 > hostlen) return -WD_E_INVAL;
  memcpy(host, buf, strlen(buf) + 1);
  *port = (uint16_t)v;
  return 0;
}

static int parse_ulong(const char *s, unsigned long *out) {
  if (!s[0] || strlen(s) > 19) return -1;
  unsigned long v = 0;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (unsigned long)(*p - '0');
  }
  *out = v;
  return 0;
}

/* A SPIFFE trust domain: lowercase letters, digits, '.', '-', '_'. */
static int valid_trust_domain(const char *s) {
  if (!s[0]) return 0;
  for (const char *p = s; *p; p++) {
    char ch = *p;
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
          ch == '_'))
      return 0;
  }
  return 1;
}

/* Sets one key from text; src names the source ("flag --threads"). */
static int set_key(wd_config *c, const key *k, const char *v, const char *src, char *err,
                   size_t len) {
  char *base = (char *)c;
  switch (k->k) {
  case K_LISTEN:
    if (wd_config_parse_listen(v, c->listen_host, sizeof c->listen_host, &c->listen_port) < 0)
      return fail(err, len, -WD_E_INVAL,
                  "%s: invalid listen address '%s' (want ADDR:PORT, [IPV6]:PORT or "
                  "localhost:PORT, port 0-65535)",
                  src, v);
    return 0;
  case K_STR: {
    size_t n = strlen(v);
    if (n >= k->cap)
      return fail(err, len, -WD_E_TOOBIG, "%s: value longer than %zu bytes", src, k->cap - 1);
    if (k->min && n == 0) return fail(err, len, -WD_E_INVAL, "%s: must not be empty", src);
    if (k->off == F(trust_domain) && !valid_trust_domain(v))
      return fail(err, len, -WD_E_INVAL,
                  "%s: invalid trust domain '%s' (lowercase letters, digits, '.', '-', '_')", src,
                  v);
    /* The token travels in an Authorization header, which the client
     * builds only from visible ASCII: any other byte would lock the
     * admin out. Its value is never echoed. */
    if (k->off == F(admin_token)) {
      for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x21 || (unsigned char)v[i] > 0x7e)
          return fail(err, len, -WD_E_INVAL,
                      "%s: character %zu is a space, a control character or not ASCII; an "
                      "admin token is sent in an HTTP header and may hold only visible ASCII "
                      "(letters, digits, punctuation)",
                      src, i + 1);
      if (n > 0 && n < WD_LIMIT_ADMIN_TOKEN_MIN_CHARS)
        return fail(err, len, -WD_E_INVAL,
                    "%s: has %zu characters; an admin token needs at least %u (or leave it "
                    "unset to have one generated)",
                    src, n, WD_LIMIT_ADMIN_TOKEN_MIN_CHARS);
    }
    memcpy(base + k->off, v, n + 1);
    return 0;
  }
  case K_UINT:
  case K_SIZE: {
    unsigned long u = 0;
    if (parse_ulong(v, &u) < 0 || u < k->min || u > k->max)
      return fail(err, len, -WD_E_INVAL, "%s: must be an integer from %lu to %lu, got '%s'", src,
                  k->min, k->max, v);
    if (k->k == K_UINT) {
      unsigned x = (unsigned)u;
      memcpy(base + k->off, &x, sizeof x);
    } else {
      size_t x = (size_t)u;
      memcpy(base + k->off, &x, sizeof x);
    }
    return 0;
  }
  }
  return fail(err, len, -WD_E_INTERNAL, "%s: unknown key kind", src);
}

/* wd_config_apply_json; *secret (when non-NULL) is set to 1 when the text
 * gives a secret key (one without a flag) a non-empty value. */
static int apply_json(wd_config *c, const char *text, size_t tlen, const char *origin, char *err,
                      size_t len, int *secret) {
  if (tlen > WD_LIMIT_CONFIG_FILE_BYTES)
    return fail(err, len, -WD_E_TOOBIG, "%s: larger than %u bytes", origin,
                WD_LIMIT_CONFIG_FILE_BYTES);
  json_error_t je;
  json_t *root = json_loadb(text, tlen, JSON_REJECT_DUPLICATES, &je);
  if (!root)
    return fail(err, len, -WD_E_JSON, "%s: malformed JSON at line %d, column %d: %s", origin,
                je.line, je.column, je.text);
  int rc = 0;
  if (!json_is_object(root)) {
    rc = fail(err, len, -WD_E_INVAL, "%s: must be a JSON object", origin);
    goto out;
  }
  const char *name;
  json_t *val;
  json_object_foreach(root, name, val) {
    const key *k = NULL;
    for (size_t i = 0; i < NKEYS; i++)
      if (strcmp(KEYS[i].file, name) == 0) k = &KEYS[i];
    if (!k) {
      rc = fail(err, len, -WD_E_INVAL, "%s: unknown key '%s'", origin, name);
      goto out;
    }
    char src[WD_CONFIG_PATH_MAX + 64];
    (void)snprintf(src, sizeof src, "%s: key '%s'", origin, name);
    char num[32];
    const char *v = NULL;
    if (k->k == K_UINT || k->k == K_SIZE) {
      if (!json_is_integer(val) || json_integer_value(val) < 0) {
        rc = fail(err, len, -WD_E_INVAL, "%s: must be a non-negative integer", src);
        goto out;
      }
      (void)snprintf(num, sizeof num, "%lld", (long long)json_integer_value(val));
      v = num;
    } else {
      if (!json_is_string(val)) {
        rc = fail(err, len, -WD_E_INVAL, "%s: must be a string", src);
        goto out;
      }
      v = json_string_value(val);
      if (strlen(v) != json_string_length(val)) {
        rc = fail(err, len, -WD_E_INVAL, "%s: contains a NUL byte", src);
        goto out;
      }
    }
    rc = set_key(c, k, v, src, err, len);
    if (rc < 0) goto out;
    if (secret && !k->flag && *v) *secret = 1;
  }
out:
  json_decref(root);
  return rc;
}

int wd_config_apply_json(wd_config *c, const char *text, size_t tlen, const char *origin, char *err,
                         size_t len) {
  return apply_json(c, text, tlen, origin, err, len, NULL);
}

/* Reads the config file at path into buf (at most cap bytes, *n set) and
 * checks it first: a regular file (a FIFO cannot hang the start) that
 * only its owner (this user or root) may change, since it can set
 * policy_dir or pure_cedar. */
static int read_config(const char *path, const char *origin, char *buf, size_t cap, size_t *n,
                       struct stat *st, char *err, size_t len) {
  int fd = -1;
  int rc = wd_fs_open_regular(AT_FDCWD, path, &fd, st);
  *n = 0;
  if (rc == -WD_E_INVAL) return fail(err, len, rc, "%s: not a regular file", origin);
  if (rc) return fail(err, len, -WD_E_IO, "%s: cannot open: %s", origin, strerror(errno));
  if (!wd_fs_owned_here(st)) {
    rc = fail(err, len, -WD_E_INVAL,
              "%s belongs to uid %u, not to this user (uid %u) or root: another user could "
              "change the server's settings; chown it to the user that runs warden serve",
              origin, (unsigned)st->st_uid, (unsigned)geteuid());
  } else if (!wd_fs_owner_only_write(st)) {
    rc = fail(err, len, -WD_E_INVAL,
              "%s: other users may change it (mode %04o) and with it the policy directory; "
              "chmod go-w %s",
              origin, (unsigned)(st->st_mode & 07777), path);
  }
  while (!rc && *n < cap) {
    ssize_t k = read(fd, buf + *n, cap - *n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) rc = fail(err, len, -WD_E_IO, "%s: read error: %s", origin, strerror(errno));
    if (k <= 0) break;
    *n += (size_t)k;
  }
  (void)close(fd);
  return rc;
}

int wd_config_apply_file(wd_config *c, const char *path, char *err, size_t len) {
  char origin[WD_CONFIG_PATH_MAX + 16];
  (void)snprintf(origin, sizeof origin, "config file %s", path);
  if (strlen(path) >= sizeof c->config_file)
    return fail(err, len, -WD_E_TOOBIG, "%s: path too long", origin);
  char *buf = wd_malloc(WD_LIMIT_CONFIG_FILE_BYTES + 1u);
  if (!buf) return fail(err, len, -WD_E_NOMEM, "%s: out of memory", origin);
  struct stat st;
  size_t n = 0;
  int secret = 0;
  int rc = read_config(path, origin, buf, WD_LIMIT_CONFIG_FILE_BYTES + 1u, &n, &st, err, len);
  if (rc == 0) rc = apply_json(c, buf, n, origin, err, len, &secret);
  /* A file holding the admin token is as secret as the token. */
  if (rc == 0 && secret && (st.st_mode & (S_IRGRP | S_IROTH))) {
    wd_config_clear(c);
    rc = fail(err, len, -WD_E_INVAL,
              "%s sets admin_token but other users may read it (mode %04o): chmod 600 %s, or "
              "pass the token in WARDEN_ADMIN_TOKEN instead",
              origin, (unsigned)(st.st_mode & 07777), path);
  }
  wd_free(buf);
  if (rc == 0) memcpy(c->config_file, path, strlen(path) + 1);
  return rc;
}

int wd_config_apply_env(wd_config *c, char *const *envp, char *err, size_t len) {
  if (!envp) return 0;
  for (size_t i = 0; i < NKEYS; i++) {
    const key *k = &KEYS[i];
    size_t nl = strlen(k->env);
    for (char *const *e = envp; *e; e++) {
      if (strncmp(*e, k->env, nl) != 0 || (*e)[nl] != '=') continue;
      char src[64];
      (void)snprintf(src, sizeof src, "environment %s", k->env);
      int rc = set_key(c, k, *e + nl + 1, src, err, len);
      if (rc < 0) return rc;
    }
  }
  return 0;
}

/* Accepts "--name=value" and "--name value". --config is skipped here:
 * wd_config_load reads the file before the environment. */
int wd_config_apply_flags(wd_config *c, int argc, char *const *argv, char *err, size_t len) {
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    const char *eq = strchr(a, '=');
    size_t nl = eq ? (size_t)(eq - a) : strlen(a);
    const key *k = NULL;
    int is_config = nl == 8 && strncmp(a, "--config", 8) == 0;
    for (size_t j = 0; j < NKEYS && !is_config; j++)
      if (KEYS[j].flag && strlen(KEYS[j].flag) == nl && strncmp(KEYS[j].flag, a, nl) == 0)
        k = &KEYS[j];
    if (!k && !is_config) {
      if (strncmp(a, "--admin-token", 13) == 0)
        return fail(err, len, -WD_E_INVAL,
                    "unknown flag '%.*s': pass the admin token in WARDEN_ADMIN_TOKEN or the "
                    "config file, not on the command line",
                    (int)nl, a);
      return fail(err, len, -WD_E_INVAL, "unknown flag '%.*s'", (int)nl, a);
    }
    const char *v = eq ? eq + 1 : NULL;
    if (!v) {
      if (i + 1 >= argc) return fail(err, len, -WD_E_INVAL, "flag %.*s needs a value", (int)nl, a);
      v = argv[++i];
    }
    if (is_config) continue;
    char src[64];
    (void)snprintf(src, sizeof src, "flag %s", k->flag);
    int rc = set_key(c, k, v, src, err, len);
    if (rc < 0) return rc;
  }
  return 0;
}

/* Why u is not a base URL agents can use, or NULL: http(s)://, a host
 * name, IPv4 or [IPv6] address, an optional port 1-65535 and a path, with
 * no user or password, query or fragment. */
static const char *bad_public_url(const char *u) {
  size_t skip = strncmp(u, "https://", 8) == 0 ? 8 : strncmp(u, "http://", 7) == 0 ? 7 : 0;
  if (!skip) return "must start with http:// or https://";
  for (const char *p = u; *p; p++)
    if (*p == '?' || *p == '#' || (unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
      return "must not hold a query, a fragment, a space or a control character";
  const char *h = u + skip;
  size_t alen = strcspn(h, "/");
  if (memchr(h, '@', alen)) return "must not hold a user or password";
  const char *end = h + alen, *port = NULL;
  if (*h == '[') {
    const char *close = memchr(h, ']', alen);
    if (!close) return "has an IPv6 address without its closing ']'";
    char a[64];
    unsigned char bin[16];
    size_t al = (size_t)(close - h - 1);
    if (al >= sizeof a) return "has an invalid IPv6 address";
    memcpy(a, h + 1, al);
    a[al] = '\0';
    if (inet_pton(AF_INET6, a, bin) != 1) return "has an invalid IPv6 address";
    if (close + 1 != end && close[1] != ':') return "has text after the IPv6 address";
    if (close + 1 != end) port = close + 2;
  } else {
    const char *colon = memchr(h, ':', alen);
    const char *hend = colon ? colon : end;
    if (hend == h) return "needs a host";
    for (const char *p = h; p < hend; p++)
      if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '.' || *p == '-' || *p == '_'))
        return "has an invalid host (letters, digits, '.', '-', '_', or an [IPv6] address)";
    if (colon) port = colon + 1;
  }
  if (port) {
    unsigned long v = 0;
    if (port == end || end - port > 5) return "has an invalid port (want 1-65535)";
    for (const char *p = port; p < end; p++) {
      if (*p < '0' || *p > '9') return "has an invalid port (want 1-65535)";
      v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v < 1 || v > 65535) return "has an invalid port (want 1-65535)";
  }
  return NULL;
}

int wd_config_validate(const wd_config *c, char *err, size_t len) {
  if (!c->data_dir[0]) return fail(err, len, -WD_E_INVAL, "data: must not be empty");
  if (!valid_trust_domain(c->trust_domain))
    return fail(err, len, -WD_E_INVAL, "trust_domain: invalid '%s'", c->trust_domain);
  if (c->threads < 1 || c->threads > WD_LIMIT_HTTP_THREADS)
    return fail(err, len, -WD_E_INVAL, "threads: out of range");
  if (c->max_connections < c->threads)
    return fail(err, len, -WD_E_INVAL,
                "max_connections (%u) must be at least threads (%u): each worker thread "
                "gets a share of the limit",
                c->max_connections, c->threads);
  if (!c->tls_cert[0] != !c->tls_key[0])
    return fail(err, len, -WD_E_INVAL, "%s: needs %s too (HTTPS takes both)",
                c->tls_cert[0] ? "tls_cert" : "tls_key", c->tls_cert[0] ? "tls_key" : "tls_cert");
  const char *why = c->public_url[0] ? bad_public_url(c->public_url) : NULL;
  /* A URL with an '@' may hold a password: it is not repeated. */
  if (why && strchr(c->public_url, '@')) return fail(err, len, -WD_E_INVAL, "public_url: %s", why);
  if (why) return fail(err, len, -WD_E_INVAL, "public_url: '%s' %s", c->public_url, why);
  return 0;
}

/* The config file named by the last --config flag, else WARDEN_CONFIG. */
static const char *config_path(int argc, char *const *argv, char *const *envp) {
  const char *path = NULL;
  for (int i = 0; i < argc; i++) {
    if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
      path = argv[++i];
    else if (strncmp(argv[i], "--config=", 9) == 0)
      path = argv[i] + 9;
  }
  if (path || !envp) return path;
  for (char *const *e = envp; *e; e++)
    if (strncmp(*e, "WARDEN_CONFIG=", 14) == 0) path = *e + 14;
  return path;
}

int wd_config_load(wd_config *c, int argc, char *const *argv, char *const *envp, char *err,
                   size_t len) {
  if (err && len) err[0] = '\0';
  wd_config_defaults(c);
  const char *path = config_path(argc, argv, envp);
  int rc = 0;
  if (path && (rc = wd_config_apply_file(c, path, err, len)) < 0) goto fail;
  if ((rc = wd_config_apply_env(c, envp, err, len)) < 0) goto fail;
  if ((rc = wd_config_apply_flags(c, argc, argv, err, len)) < 0) goto fail;
  if ((rc = wd_config_validate(c, err, len)) < 0) goto fail;
  return 0;
fail:
  wd_config_clear(c);
  return rc;
}

size_t wd_config_help(char *out, size_t len) {
  size_t used = 0;
  for (size_t i = 0; i < NKEYS && used < len; i++) {
    const key *k = &KEYS[i];
    int n = snprintf(out + used, len - used, "  %-22s %-26s %-18s %s\n",
                     k->flag ? k->flag : "(no flag)", k->env, k->file, k->help);
    if (n < 0) break;
    used += (size_t)n;
  }
  if (used >= len && len) used = len - 1;
  return used;
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Tests of src/config/config.c: defaults, the precedence file < environment
 * < flags, that every bad value or unknown key is an error naming its
 * source and key, and that a file holding the admin token must be closed
 * to other users.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <grp.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/wd_config.h"
#include "util/wd_limits.h"
#include "warden/err.h"

static char tmpfile_path[64];

static const char *write_file(const char *text) {
  snprintf(tmpfile_path, sizeof tmpfile_path, "/tmp/wd_config_test_%ld.json", (long)getpid());
  FILE *f = fopen(tmpfile_path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  assert_int_equal(chmod(tmpfile_path, 0600), 0);
  return tmpfile_path;
}

/* A config file that sets admin_token is refused when group or other
 * may read it; one without the token, or with it empty, is not. */
static void secret_file_mode(void **state) {
  (void)state;
  const char *path =
      write_file("{\"data\": \"/d\", \"admin_token\": \"from-file-0123456789abcdef0123456789\"}");
  char cfgflag[96];
  snprintf(cfgflag, sizeof cfgflag, "--config=%s", path);
  char *argv[] = {cfgflag, NULL};
  wd_config c;
  char err[512] = "", want[512];
  assert_int_equal(wd_config_load(&c, 1, argv, NULL, err, sizeof err), 0);
  assert_string_equal(c.admin_token, "from-file-0123456789abcdef0123456789");
  wd_config_clear(&c);
  assert_int_equal(chmod(path, 0640), 0);
  assert_int_equal(wd_config_load(&c, 1, argv, NULL, err, sizeof err), -WD_E_INVAL);
  snprintf(want, sizeof want,
           "config file %s sets admin_token but other users may read it (mode 0640): chmod 600 "
           "%s, or pass the token in WARDEN_ADMIN_TOKEN instead",
           path, path);
  assert_string_equal(err, want);
  assert_string_equal(c.admin_token, "");
  path = write_file("{\"data\": \"/d\", \"admin_token\": \"\"}");
  assert_int_equal(chmod(path, 0644), 0);
  assert_int_equal(wd_config_load(&c, 1, argv, NULL, err, sizeof err), 0);
  path = write_file("{\"data\": \"/d\"}");
  assert_int_equal(chmod(path, 0644), 0);
  assert_int_equal(wd_config_load(&c, 1, argv, NULL, err, sizeof err), 0);
  assert_string_equal(c.data_dir, "/d");
  unlink(path);
}

static void defaults(void **state) {
  (void)state;
  wd_config c;
  char err[256];
  char *argv[] = {NULL};
  assert_int_equal(wd_config_load(&c, 0, argv, NULL, err, sizeof err), 0);
  assert_string_equal(c.listen_host, "127.0.0.1");
  assert_int_equal(c.listen_port, 8080);
  assert_string_equal(c.data_dir, "./var");
  assert_string_equal(c.trust_domain, "warden.local");
  assert_string_equal(c.admin_token, "");
  assert_int_equal(c.threads, 2);
  assert_int_equal(c.key_rotation_s, 86400);
  assert_int_equal(c.retention_s, 30u * 86400u);
  assert_int_equal(c.per_ip_connections, WD_LIMIT_HTTP_CONNECTIONS / 4);
  char *off[] = {"--per-ip-connections=0", NULL};
  assert_int_equal(wd_config_load(&c, 1, off, NULL, err, sizeof err), 0);
  assert_int_equal(c.per_ip_connections, 0);
}

/* The key rotation period in its three forms; flags win. */
static void key_rotation(void **state) {
  (void)state;
  const char *path = write_file("{\"key_rotation\": 3600}");
  char cfgflag[96];
  snprintf(cfgflag, sizeof cfgflag, "--config=%s", path);
  char *argv[] = {cfgflag, NULL};
  wd_config c;
  char err[256] = "";
  assert_int_equal(wd_config_load(&c, 1, argv, NULL, err, sizeof err), 0);
  assert_int_equal(c.key_rotation_s, 3600);
  char *env[] = {"WARDEN_KEY_ROTATION=7200", NULL};
  assert_int_equal(wd_config_load(&c, 1, argv, env, err, sizeof err), 0);
  assert_int_equal(c.key_rotation_s, 7200);
  char *argv2[] = {cfgflag, "--key-rotation", "1", NULL};
  assert_int_equal(wd_config_load(&c, 3, argv2, env, err, sizeof err), 0);
  assert_int_equal(c.key_rotation_s, 1);
  unlink(path);
}

/* Retention: 0 keeps rows for ever; past ten years is a bad setting,
 * named. */
static void retention(void **state) {
  (void)state;
  wd_config c;
  char err[256] = "";
  char *argv[] = {"--retention", "0", NULL};
  assert_int_equal(wd_config_load(&c, 2, argv, NULL, err, sizeof err), 0);
  assert_int_equal(c.retention_s, 0);
  char *env[] = {"WARDEN_RETENTION=3600", NULL};
  assert_int_equal(wd_config_load(&c, 0, argv, env, err, sizeof err), 0);
  assert_int_equal(c.retention_s, 3600);
  char *big[] = {"--retention", "315360001", NULL};
  assert_int_equal(wd_config_load(&c, 2, big, NULL, err, sizeof err), -WD_E_INVAL);
  assert_non_null(strstr(err, "--retention"));
}

/* HTTPS and the public URL in their three forms. */
static void tls_and_public_url(void **state) {
  (void)state;
  const char *path =
      write_file("{\"tls_cert\": \"/etc/w/cert.pem\", \"tls_key\": \"/etc/w/key.pem\"}");
  char cfgflag[96];
  snprintf(cfgflag, sizeof cfgflag, "--config=%s", path);
  char *env[] = {"WARDEN_PUBLIC_URL=https://warden.example.com/agents", NULL};
  char *argv[] = {cfgflag, "--tls-key", "/run/key.pem", NULL};
  wd_config c;
  char err[256] = "";
  assert_int_equal(wd_config_load(&c, 3, argv, env, err, sizeof err), 0);
  assert_string_equal(c.tls_cert, "/etc/w/cert.pem");
  assert_string_equal(c.tls_key, "/run/key.pem");
  assert_string_equal(c.public_url, "https://warden.example.com/agents");
  unlink(path);
}

static void precedence(void **state) {
  (void)state;
  const char *path = write_file("{\"listen\": \"127.0.0.1:1000\", \"data\": \"/file\","
                                " \"trust_domain\": \"file.example\", \"threads\": 3,"
                                " \"admin_token\": \"from-file-0123456789abcdef0123456789\"}");
  char cfgflag[96];
  snprintf(cfgflag, sizeof cfgflag, "--config=%s", path);
  char *env[] = {"WARDEN_LISTEN=[::1]:2000", "WARDEN_DATA=/env", "WARDEN_URL=http://x",
                 "WARDEN_ADMIN_TOKEN=from-env-0123456789abcdef0123456789", NULL};
  char *argv[] = {cfgflag, "--listen", "localhost:0", "--threads=4", NULL};
  wd_config c;
  char err[256] = "";
  int rc = wd_config_load(&c, 4, argv, env, err, sizeof err);
  if (rc) fprintf(stderr, "%s\n", err);
  assert_int_equal(rc, 0);
  assert_string_equal(c.listen_host, "127.0.0.1"); /* flag beats env beats file */
  assert_int_equal(c.listen_port, 0);
  assert_string_equal(c.data_dir, "/env");             /* env beats file */
  assert_string_equal(c.trust_domain, "file.example"); /* file beats default */
  assert_int_equal(c.threads, 4);
  assert_string_equal(c.admin_token, "from-env-0123456789abcdef0123456789");
  assert_string_equal(c.config_file, path);
  wd_config_clear(&c);
  assert_string_equal(c.admin_token, "");

  /* WARDEN_CONFIG names the file when no flag does; env still wins over it. */
  char cfgenv[96];
  snprintf(cfgenv, sizeof cfgenv, "WARDEN_CONFIG=%s", path);
  char *env2[] = {cfgenv, "WARDEN_THREADS=5", NULL};
  rc = wd_config_load(&c, 0, argv, env2, err, sizeof err);
  assert_int_equal(rc, 0);
  assert_int_equal(c.listen_port, 1000);
  assert_int_equal(c.threads, 5);
  assert_string_equal(c.data_dir, "/file");
  unlink(path);
}

typedef struct erow {
  const char *file; /* NULL: no file */
  const char *env;  /* one variable, or NULL */
  const char *flag; /* one flag word, or NULL */
  const char *flag2;
  int rc;
  const char *msg; /* exact, with "FILE" standing for the file's origin prefix */
} erow;

static void errors(void **state) {
  (void)state;
  static const erow rows[] = {
      {NULL, NULL, "--bogus", NULL, -WD_E_INVAL, "unknown flag '--bogus'"},
      {NULL, NULL, "--bogus=1", NULL, -WD_E_INVAL, "unknown flag '--bogus'"},
      {NULL, NULL, "--admin-token=x", NULL, -WD_E_INVAL,
       "unknown flag '--admin-token': pass the admin token in WARDEN_ADMIN_TOKEN or the config "
       "file, not on the command line"},
      {NULL, NULL, "--listen", NULL, -WD_E_INVAL, "flag --listen needs a value"},
      {NULL, NULL, "--listen", "8080", -WD_E_INVAL,
       "flag --listen: invalid listen address '8080' (want ADDR:PORT, [IPV6]:PORT or "
       "localhost:PORT, port 0-65535)"},
      {NULL, NULL, "--listen=1.2.3.4:65536", NULL, -WD_E_INVAL,
       "flag --listen: invalid listen address '1.2.3.4:65536' (want ADDR:PORT, [IPV6]:PORT or "
       "localhost:PORT, port 0-65535)"},
      {NULL, NULL, "--listen=::1:80", NULL, -WD_E_INVAL,
       "flag --listen: invalid listen address '::1:80' (want ADDR:PORT, [IPV6]:PORT or "
       "localhost:PORT, port 0-65535)"},
      {NULL, NULL, "--threads=0", NULL, -WD_E_INVAL,
       "flag --threads: must be an integer from 1 to 64, got '0'"},
      {NULL, "WARDEN_THREADS=x", NULL, NULL, -WD_E_INVAL,
       "environment WARDEN_THREADS: must be an integer from 1 to 64, got 'x'"},
      {NULL, "WARDEN_TRUST_DOMAIN=Bad Domain", NULL, NULL, -WD_E_INVAL,
       "environment WARDEN_TRUST_DOMAIN: invalid trust domain 'Bad Domain' (lowercase letters, "
       "digits, '.', '-', '_')"},
      {NULL, "WARDEN_DATA=", NULL, NULL, -WD_E_INVAL, "environment WARDEN_DATA: must not be empty"},
      {NULL, NULL, "--key-rotation=0", NULL, -WD_E_INVAL,
       "flag --key-rotation: must be an integer from 1 to 31536000, got '0'"},
      {NULL, "WARDEN_KEY_ROTATION=1d", NULL, NULL, -WD_E_INVAL,
       "environment WARDEN_KEY_ROTATION: must be an integer from 1 to 31536000, got '1d'"},
      {NULL, NULL, "--max-body-bytes=99999999", NULL, -WD_E_INVAL,
       "flag --max-body-bytes: must be an integer from 1 to 1048576, got '99999999'"},
      {NULL, NULL, "--threads=8", "--max-connections=4", -WD_E_INVAL,
       "max_connections (4) must be at least threads (8): each worker thread gets a share of "
       "the limit"},
      {NULL, NULL, "--tls-cert=c.pem", NULL, -WD_E_INVAL,
       "tls_cert: needs tls_key too (HTTPS takes both)"},
      {NULL, "WARDEN_TLS_KEY=k.pem", NULL, NULL, -WD_E_INVAL,
       "tls_key: needs tls_cert too (HTTPS takes both)"},
      {NULL, NULL, "--public-url=warden.example.com", NULL, -WD_E_INVAL,
       "public_url: 'warden.example.com' must start with http:// or https://"},
      {NULL, "WARDEN_PUBLIC_URL=https://w.example/?x=1", NULL, NULL, -WD_E_INVAL,
       "public_url: 'https://w.example/?x=1' must not hold a query, a fragment, a space or a "
       "control character"},
      {NULL, NULL, "--public-url=https://host:abc/", NULL, -WD_E_INVAL,
       "public_url: 'https://host:abc/' has an invalid port (want 1-65535)"},
      {NULL, NULL, "--public-url=https://host:99999", NULL, -WD_E_INVAL,
       "public_url: 'https://host:99999' has an invalid port (want 1-65535)"},
      {NULL, NULL, "--public-url=https://host:/a", NULL, -WD_E_INVAL,
       "public_url: 'https://host:/a' has an invalid port (want 1-65535)"},
      {NULL, NULL, "--public-url=https://[::1", NULL, -WD_E_INVAL,
       "public_url: 'https://[::1' has an IPv6 address without its closing ']'"},
      {NULL, NULL, "--public-url=https://[::1]x", NULL, -WD_E_INVAL,
       "public_url: 'https://[::1]x' has text after the IPv6 address"},
      {NULL, NULL, "--public-url=https://[nope]:1", NULL, -WD_E_INVAL,
       "public_url: 'https://[nope]:1' has an invalid IPv6 address"},
      {NULL, NULL, "--public-url=https://", NULL, -WD_E_INVAL,
       "public_url: 'https://' needs a host"},
      {NULL, NULL, "--public-url=https://ho$t/", NULL, -WD_E_INVAL,
       "public_url: 'https://ho$t/' has an invalid host (letters, digits, '.', '-', '_', or an "
       "[IPv6] address)"},
      /* The password is not repeated. */
      {NULL, NULL, "--public-url=https://user:pw@host", NULL, -WD_E_INVAL,
       "public_url: must not hold a user or password"},
      {NULL, "WARDEN_ADMIN_TOKEN=0123456789abcdef0123456789abcdef\n", NULL, NULL, -WD_E_INVAL,
       "environment WARDEN_ADMIN_TOKEN: character 33 is a space, a control character or not "
       "ASCII; an admin token is sent in an HTTP header and may hold only visible ASCII (letters, "
       "digits, punctuation)"},
      {NULL, "WARDEN_ADMIN_TOKEN=0123456789abcdef0123456789abcde", NULL, NULL, -WD_E_INVAL,
       "environment WARDEN_ADMIN_TOKEN: has 31 characters; an admin token needs at least 32 (or "
       "leave it unset to have one generated)"},
      {NULL, "WARDEN_ADMIN_TOKEN=                                        ", NULL, NULL, -WD_E_INVAL,
       "environment WARDEN_ADMIN_TOKEN: character 1 is a space, a control character or not "
       "ASCII; an admin token is sent in an HTTP header and may hold only visible ASCII (letters, "
       "digits, punctuation)"},
      {"{\"admin_token\": \"0123456789abcdef0123456789abcdef\u00e9\"}", NULL, NULL, NULL,
       -WD_E_INVAL,
       "FILE: key 'admin_token': character 33 is a space, a control character or not ASCII; an "
       "admin token is sent in an HTTP header and may hold only visible ASCII (letters, digits, "
       "punctuation)"},
      {"{\"listen\": \"127.0.0.1:1\", \"colour\": 1}", NULL, NULL, NULL, -WD_E_INVAL,
       "FILE: unknown key 'colour'"},
      {"{\"threads\": \"2\"}", NULL, NULL, NULL, -WD_E_INVAL,
       "FILE: key 'threads': must be a non-negative integer"},
      {"{\"data\": 5}", NULL, NULL, NULL, -WD_E_INVAL, "FILE: key 'data': must be a string"},
      {"[1]", NULL, NULL, NULL, -WD_E_INVAL, "FILE: must be a JSON object"},
      {"{\n \"data\": }", NULL, NULL, NULL, -WD_E_JSON,
       "FILE: malformed JSON at line 2, column 10: unexpected token near '}'"},
      {"{\"data\": \"a\", \"data\": \"b\"}", NULL, NULL, NULL, -WD_E_JSON,
       "FILE: malformed JSON at line 1, column 20: duplicate object key near '\"data\"'"},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const erow *w = &rows[i];
    char *argv[4] = {NULL};
    int argc = 0;
    char cfgflag[96];
    char want[512];
    if (w->file) {
      const char *p = write_file(w->file);
      snprintf(cfgflag, sizeof cfgflag, "--config=%s", p);
      argv[argc++] = cfgflag;
      snprintf(want, sizeof want, "config file %s%s", p, w->msg + 4);
    } else {
      snprintf(want, sizeof want, "%s", w->msg);
    }
    if (w->flag) argv[argc++] = (char *)(uintptr_t)w->flag;
    if (w->flag2) argv[argc++] = (char *)(uintptr_t)w->flag2;
    char *env[] = {(char *)(uintptr_t)w->env, NULL};
    wd_config c;
    char err[512] = "";
    int rc = wd_config_load(&c, argc, argv, env, err, sizeof err);
    if (rc != w->rc || strcmp(err, want) != 0) {
      fprintf(stderr, "row %zu: rc %d err '%s'\n   want rc %d err '%s'\n", i, rc, err, w->rc, want);
      fails++;
    }
  }
  unlink(tmpfile_path);
  char *argv[] = {"--config", "/nonexistent/x.json", NULL};
  wd_config c;
  char err[256];
  assert_int_equal(wd_config_load(&c, 2, argv, NULL, err, sizeof err), -WD_E_IO);
  assert_string_equal(err,
                      "config file /nonexistent/x.json: cannot open: No such file or directory");
  assert_int_equal(fails, 0);
}

/* A config file can set policy_dir and pure_cedar: one that another user
 * may change is refused, and so is anything but a regular file (a FIFO
 * would hang the start in open()). */
static void file_owner_and_mode(void **state) {
  (void)state;
  const char *path = write_file("{\"data\": \"/d\"}");
  char cfgflag[96];
  snprintf(cfgflag, sizeof cfgflag, "--config=%s", path);
  char *argv[] = {cfgflag, NULL};
  wd_config c;
  char err[512] = "", want[512];
  static const mode_t bad[] = {0666, 0620, 0602};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    /* Group-writable is refused for a group that others may be in: one
     * that is not this process's (only root can give the file one). */
    if ((bad[i] & S_IWGRP) && !(bad[i] & S_IWOTH)) {
      if (geteuid() != 0) continue;
      assert_int_equal(chown(path, (uid_t)-1, 65534), 0);
    }
    assert_int_equal(chmod(path, bad[i]), 0);
    assert_int_equal(wd_config_load(&c, 1, argv, NULL, err, sizeof err), -WD_E_INVAL);
    snprintf(want, sizeof want,
             "config file %s: other users may change it (mode %04o) and with it the policy "
             "directory; chmod go-w %s",
             path, (unsigned)bad[i], path);
    assert_string_equal(err, want);
  }
  assert_int_equal(chown(path, (uid_t)-1, getegid()), 0);
  assert_int_equal(chmod(path, 0644), 0);
  assert_int_equal(wd_config_load(&c, 1, argv, NULL, err, sizeof err), 0);
  /* A checkout under umask 002 by a user with a private group. */
  struct group *own = getgrgid(getegid());
  if (own && !own->gr_mem[0]) {
    assert_int_equal(chmod(path, 0664), 0);
    assert_int_equal(wd_config_load(&c, 1, argv, NULL, err, sizeof err), 0);
    assert_int_equal(chmod(path, 0644), 0);
  }
  if (geteuid() == 0) {
    assert_int_equal(chown(path, 4321, 4321), 0);
    assert_int_equal(wd_config_load(&c, 1, argv, NULL, err, sizeof err), -WD_E_INVAL);
    snprintf(want, sizeof want,
             "config file %s belongs to uid 4321, not to this user (uid 0) or root: another user "
             "could change the server's settings; chown it to the user that runs warden serve",
             path);
    assert_string_equal(err, want);
  }
  unlink(path);
  assert_int_equal(mkfifo(path, 0600), 0);
  assert_int_equal(wd_config_load(&c, 1, argv, NULL, err, sizeof err), -WD_E_INVAL);
  snprintf(want, sizeof want, "config file %s: not a regular file", path);
  assert_string_equal(err, want);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults),           cmocka_unit_test(precedence),
      cmocka_unit_test(key_rotation),       cmocka_unit_test(retention),
      cmocka_unit_test(tls_and_public_url), cmocka_unit_test(errors),
      cmocka_unit_test(secret_file_mode),   cmocka_unit_test(file_owner_and_mode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

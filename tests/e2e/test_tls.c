/* SPDX-License-Identifier: Apache-2.0
 *
 * Warden over HTTPS and behind a TLS proxy, against a real server:
 * - with --tls-cert and --tls-key (here WARDEN_TLS_CERT / _KEY) it serves
 *   HTTPS only: an agent enrols, opens a task and is allowed a call, every
 *   proof naming the https URL; the CLI trusts a private CA through
 *   WARDEN_CA_FILE and refuses the server without it; plain HTTP to the
 *   port gets no answer; a key file other users may read stops the start
 *   with a message saying so;
 * - with --public-url (WARDEN_PUBLIC_URL) and plain HTTP, as behind a
 *   proxy that ends TLS, proofs must name the public URL: those do
 *   everything, and a proof naming the address the server listens on is
 *   refused.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../support/tls_cert.h"
#include "e2e.h"

static char dir[64], cert_path[128], key_path[128];

static int setup(void **state) {
  (void)state;
  char *cert = NULL, *key = NULL;
  (void)snprintf(dir, sizeof dir, "/tmp/wd-e2e-tls-XXXXXX");
  if (!mkdtemp(dir) || tls_cert_make(&cert, &key) != 0) return -1;
  (void)snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
  (void)snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
  int rc =
      tls_cert_write(cert_path, cert) || tls_cert_write(key_path, key) || chmod(key_path, 0600) != 0
          ? -1
          : 0;
  free(cert);
  free(key);
  return rc;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  (void)snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* `warden agent list` against s; ca: WARDEN_CA_FILE or unset. */
static int cli_list(const e2e_server *s, const char *ca) {
  char cmd[512];
  (void)snprintf(cmd, sizeof cmd, "%s agent list >/dev/null 2>&1", WD_E2E_WARDEN);
  assert_int_equal(setenv("WARDEN_URL", s->url, 1), 0);
  assert_int_equal(setenv("WARDEN_ADMIN_TOKEN", E2E_ADMIN_TOKEN, 1), 0);
  if (ca)
    assert_int_equal(setenv("WARDEN_CA_FILE", ca, 1), 0);
  else
    assert_int_equal(unsetenv("WARDEN_CA_FILE"), 0);
  int st = system(cmd);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The agent's whole path: task, one allowed call. */
static void agent_works(e2e_server *s, e2e_agent *a) {
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(s, a, 10, 300, &t), 201);
  e2e_resp r;
  assert_int_equal(e2e_authorize(NULL, s, a->key, t.token, E2E_CALL_OK, &r), 200);
  assert_string_equal(e2e_decision(&r), "allow");
  e2e_resp_clear(&r);
  e2e_task_clear(&t);
}

static void test_https(void **state) {
  (void)state;
  e2e_server s;
  memset(&s, 0, sizeof s);
  assert_int_equal(setenv("WARDEN_TLS_CERT", cert_path, 1), 0);
  assert_int_equal(setenv("WARDEN_TLS_KEY", key_path, 1), 0);
  (void)snprintf(s.ca_file, sizeof s.ca_file, "%s", cert_path);
  assert_int_equal(e2e_server_start(&s), 0);
  assert_int_equal(strncmp(s.url, "https://127.0.0.1:", 18), 0);

  e2e_agent a;
  assert_int_equal(e2e_agent_enroll(&s, "tls-bot", "standard", &a), 0);
  agent_works(&s, &a);
  assert_int_equal(cli_list(&s, cert_path), 0);
  assert_int_equal(cli_list(&s, NULL), 1); /* not a CA the system trusts */

  e2e_server plain = s;
  (void)snprintf(plain.url, sizeof plain.url, "http://%.100s", s.url + strlen("https://"));
  e2e_resp r;
  assert_int_equal(e2e_http(NULL, &plain, "GET", "/healthz", NULL, NULL, NULL, 0, &r), -1);
  e2e_agent_clear(&a);
  assert_int_equal(e2e_server_stop(&s), 0);

  /* A key other users may read is refused, and the start says why. */
  assert_int_equal(chmod(key_path, 0644), 0);
  assert_int_equal(e2e_server_start(&s), -1);
  char errf[400], buf[4096] = "";
  (void)snprintf(errf, sizeof errf, "%s/server.err", s.root);
  FILE *f = fopen(errf, "r");
  assert_non_null(f);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  assert_non_null(strstr(buf, "other users may read it"));
  assert_int_equal(chmod(key_path, 0600), 0);
  e2e_server_cleanup(&s);
  assert_int_equal(unsetenv("WARDEN_TLS_CERT"), 0);
  assert_int_equal(unsetenv("WARDEN_TLS_KEY"), 0);
}

static void test_public_url(void **state) {
  (void)state;
  e2e_server s;
  memset(&s, 0, sizeof s);
  assert_int_equal(setenv("WARDEN_PUBLIC_URL", "https://warden.example.test/", 1), 0);
  (void)snprintf(s.public_url, sizeof s.public_url, "https://warden.example.test");
  assert_int_equal(e2e_server_start(&s), 0);
  e2e_agent a;
  assert_int_equal(e2e_agent_enroll(&s, "proxied-bot", "standard", &a), 0);
  agent_works(&s, &a);

  /* Proofs for the address the server listens on name the wrong URL. */
  s.public_url[0] = '\0';
  e2e_task t;
  assert_int_equal(e2e_task_open_simple(&s, &a, 10, 300, &t), 401);
  e2e_agent_clear(&a);
  assert_int_equal(e2e_server_stop(&s), 0);
  e2e_server_cleanup(&s);
  assert_int_equal(unsetenv("WARDEN_PUBLIC_URL"), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_https),
      cmocka_unit_test(test_public_url),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

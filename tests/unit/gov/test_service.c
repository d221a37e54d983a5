/* SPDX-License-Identifier: Apache-2.0
 *
 * The governance service in-process on 127.0.0.1:0 with a temp data
 * directory and the starter pack, driven over HTTP with libcurl and
 * wd_ident (keys, DPoP proofs): register -> join token -> enroll -> open
 * task -> allowed call -> denied call -> complete -> old token refused ->
 * the trace holds the chain; plus credential separation, proof replay and
 * an invalid policy set that never replaces the active one.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <curl/curl.h>

#include "gov/wd_gov.h"
#include "ident/wd_ident.h"
#include "util/wd_alloc.h"

#define ADMIN "unit-admin-token-0123456789abcdef0123"

static wd_gov *gov;
static char url[64];
static char dir[128];
static wd_ident_key *key;

typedef struct resp {
  long status;
  json_t *body;
  char raw[65536];
  size_t len;
} resp;

static size_t on_data(char *p, size_t sz, size_t n, void *ud) {
  resp *r = ud;
  size_t k = sz * n;
  if (r->len + k >= sizeof r->raw) k = sizeof r->raw - 1 - r->len;
  memcpy(r->raw + r->len, p, k);
  r->len += k;
  r->raw[r->len] = '\0';
  return sz * n;
}

static void http(const char *method, const char *path, const char *auth, const char *dpop,
                 const char *body, resp *r) {
  memset(r, 0, sizeof *r);
  CURL *c = curl_easy_init();
  assert_non_null(c);
  char u[512], h1[9000], h2[9000];
  (void)snprintf(u, sizeof u, "%s%s", url, path);
  struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
  if (auth) {
    (void)snprintf(h1, sizeof h1, "Authorization: %s", auth);
    hs = curl_slist_append(hs, h1);
  }
  if (dpop) {
    (void)snprintf(h2, sizeof h2, "DPoP: %s", dpop);
    hs = curl_slist_append(hs, h2);
  }
  curl_easy_setopt(c, CURLOPT_URL, u);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
  if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all(hs);
  curl_easy_cleanup(c);
  r->body = json_loads(r->raw, 0, NULL);
}

static void clear(resp *r) { json_decref(r->body); }

static void admin(const char *method, const char *path, const char *body, resp *r) {
  http(method, path, "Bearer " ADMIN, NULL, body, r);
}

static char *proof(const char *method, const char *path, const char *token) {
  char htu[512];
  (void)snprintf(htu, sizeof htu, "%s%s", url, path);
  char *p = NULL;
  assert_int_equal(wd_ident_dpop_make(key, method, htu, token, (int64_t)time(NULL), &p), 0);
  return p;
}

static void call(const char *method, const char *path, const char *token, const char *body,
                 resp *r) {
  char *p = proof(method, path, token);
  char auth[8192];
  (void)snprintf(auth, sizeof auth, "DPoP %s", token);
  http(method, path, auth, p, body, r);
  wd_free(p);
}

static const char *str(const resp *r, const char *k) {
  return json_string_value(json_object_get(r->body, k));
}

static int setup(void **state) {
  (void)state;
  (void)snprintf(dir, sizeof dir, "/tmp/wd-gov-unit-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  wd_gov_opts o;
  memset(&o, 0, sizeof o);
  char data[200];
  (void)snprintf(data, sizeof data, "%s/var", dir);
  o.data_dir = data;
  o.policy_dir = WD_TEST_DATA "/../../docs/policies";
  o.admin_token = ADMIN;
  o.quarantine_denials = 100;
  char err[512] = "";
  char *gen = NULL;
  int rc = wd_gov_start(&o, &gov, &gen, err, sizeof err);
  if (rc) {
    fprintf(stderr, "start: %s\n", err);
    return -1;
  }
  if (gen) return -1; /* the given token is used, nothing generated */
  (void)snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)wd_gov_port(gov));
  return wd_ident_key_generate(WD_IDENT_KEY_ED25519, &key);
}

static int teardown(void **state) {
  (void)state;
  wd_ident_key_free(key);
  int rc = wd_gov_shutdown(gov, 5000);
  wd_gov_free(gov);
  char cmd[256];
  (void)snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) return -1;
  return rc;
}

#define CALL_OK  "{\"tool\":\"fs\",\"operation\":\"read\",\"classification\":\"internal\"}"
#define CALL_BAD "{\"tool\":\"shell\",\"operation\":\"exec\"}"

static void test_lifecycle(void **state) {
  (void)state;
  resp r;
  admin("POST", "/v1/agents",
        "{\"name\":\"alpha\",\"owner\":\"alice\",\"risk_tier\":\"standard\","
        "\"environment\":\"prod\",\"attributes\":{\"team\":\"payments\"}}",
        &r);
  assert_int_equal(r.status, 201);
  assert_string_equal(str(&r, "id"), "spiffe://warden.local/agent/alpha");
  assert_string_equal(str(&r, "status"), "pending");
  clear(&r);

  admin("POST", "/v1/agents/alpha/join-tokens", "{\"ttl_seconds\":120}", &r);
  assert_int_equal(r.status, 201);
  char jt[256];
  (void)snprintf(jt, sizeof jt, "%s", str(&r, "token"));
  clear(&r);

  char *jwk = NULL, body[2048];
  assert_int_equal(wd_ident_key_to_jwk(key, NULL, &jwk), 0);
  (void)snprintf(body, sizeof body, "{\"agent\":\"alpha\",\"join_token\":\"%s\",\"public_jwk\":%s}",
                 jt, jwk);
  http("POST", "/v1/enroll", NULL, NULL, body, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(str(&r, "jkt"), wd_ident_key_jkt(key));
  clear(&r);
  /* Single use. */
  http("POST", "/v1/enroll", NULL, NULL, body, &r);
  assert_int_equal(r.status, 401);
  clear(&r);
  wd_free(jwk);

  /* Open a task with a bare proof. */
  char *p = proof("POST", "/v1/tasks", NULL);
  http("POST", "/v1/tasks", NULL, p,
       "{\"intent\":\"summarise the report\",\"purpose\":\"reporting\",\"tools\":[\"fs\",\"http\"],"
       "\"classification_ceiling\":\"secret\",\"budget\":10,\"ttl_seconds\":600}",
       &r);
  assert_int_equal(r.status, 201);
  assert_string_equal(str(&r, "token_type"), "DPoP");
  char task[128], tok[4096];
  (void)snprintf(task, sizeof task, "%s", str(&r, "task_id"));
  (void)snprintf(tok, sizeof tok, "%s", str(&r, "token"));
  clear(&r);
  /* The same proof again is a replay. */
  http("POST", "/v1/tasks", NULL, p, "{}", &r);
  assert_int_equal(r.status, 401);
  clear(&r);
  wd_free(p);

  call("POST", "/v1/authorize", tok, CALL_OK, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(str(&r, "decision"), "allow");
  assert_non_null(str(&r, "decision_id"));
  clear(&r);

  call("POST", "/v1/authorize", tok, CALL_BAD, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(str(&r, "decision"), "deny");
  clear(&r);

  /* A missing field is named. */
  call("POST", "/v1/authorize", tok, "{\"operation\":\"read\"}", &r);
  assert_int_equal(r.status, 400);
  assert_string_equal(json_string_value(json_object_get(json_object_get(r.body, "error"), "field")),
                      "tool");
  clear(&r);

  /* Credentials never cross: admin token on an agent route, agent token
   * on an admin route. */
  http("POST", "/v1/authorize", "Bearer " ADMIN, NULL, CALL_OK, &r);
  assert_int_equal(r.status, 401);
  clear(&r);
  call("GET", "/v1/agents", tok, NULL, &r);
  assert_int_equal(r.status, 401);
  clear(&r);

  char path[256];
  (void)snprintf(path, sizeof path, "/v1/tasks/%s/complete", task);
  call("POST", path, tok, "{\"reason\":\"done\"}", &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(str(&r, "status"), "completed");
  clear(&r);

  call("POST", "/v1/authorize", tok, CALL_OK, &r);
  assert_int_equal(r.status, 401);
  clear(&r);

  (void)snprintf(path, sizeof path, "/v1/audit/tasks/%s", task);
  admin("GET", path, NULL, &r);
  assert_int_equal(r.status, 200);
  const char *want[] = {"task.opened",    "token.issued",  "authz.decision",
                        "authz.decision", "token.revoked", "task.ended"};
  json_t *recs = json_object_get(r.body, "records");
  assert_int_equal(json_array_size(recs), 6);
  for (size_t i = 0; i < 6; i++)
    assert_string_equal(json_string_value(json_object_get(json_array_get(recs, i), "type")),
                        want[i]);
  clear(&r);

  admin("GET", "/v1/audit/verify", NULL, &r);
  assert_int_equal(r.status, 200);
  assert_true(json_is_true(json_object_get(r.body, "ok")));
  clear(&r);
}

static void test_invalid_policy_kept_out(void **state) {
  (void)state;
  resp r;
  admin("GET", "/v1/policies", NULL, &r);
  json_int_t v = json_integer_value(json_object_get(r.body, "version"));
  clear(&r);
  admin("PUT", "/v1/policies", "{\"policies\":\"permit(principal, action, resource) when { 1 };\"}",
        &r);
  assert_int_equal(r.status, 422);
  clear(&r);
  admin("PUT", "/v1/policies", "{\"policies\":\"permit(principal,\"}", &r);
  assert_int_equal(r.status, 422);
  clear(&r);
  admin("GET", "/v1/policies", NULL, &r);
  assert_int_equal(json_integer_value(json_object_get(r.body, "version")), v);
  clear(&r);
}

int main(void) {
  curl_global_init(CURL_GLOBAL_ALL);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lifecycle),
      cmocka_unit_test(test_invalid_policy_kept_out),
  };
  int rc = cmocka_run_group_tests(tests, setup, teardown);
  curl_global_cleanup();
  return rc;
}

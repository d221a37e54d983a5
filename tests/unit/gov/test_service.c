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

#include "audit/wd_audit.h"
#include "gov/wd_gov.h"
#include "ident/wd_ident.h"
#include "store/wd_store.h"
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

/* One request; a connection the server drops gives a curl error, not a
 * failed assertion. */
static CURLcode try_http(const char *method, const char *path, const char *auth, const char *dpop,
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
  CURLcode cc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all(hs);
  curl_easy_cleanup(c);
  r->body = json_loads(r->raw, 0, NULL);
  return cc;
}

static void http(const char *method, const char *path, const char *auth, const char *dpop,
                 const char *body, resp *r) {
  assert_int_equal(try_http(method, path, auth, dpop, body, r), CURLE_OK);
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
  /* Fewer than the allocation sweeps deny: a failure is not the agent's. */
  o.quarantine_denials = 20;
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

/* Registers agent name and enrols it with key; body gets the enrolment
 * request, which a second use must be refused. */
static void enrol(const char *name, char *body, size_t size) {
  resp r;
  char req[512];
  (void)snprintf(req, sizeof req,
                 "{\"name\":\"%s\",\"owner\":\"alice\",\"risk_tier\":\"standard\","
                 "\"environment\":\"prod\",\"attributes\":{\"team\":\"payments\"}}",
                 name);
  admin("POST", "/v1/agents", req, &r);
  assert_int_equal(r.status, 201);
  (void)snprintf(req, sizeof req, "spiffe://warden.local/agent/%s", name);
  assert_string_equal(str(&r, "id"), req);
  assert_string_equal(str(&r, "status"), "pending");
  clear(&r);

  (void)snprintf(req, sizeof req, "/v1/agents/%s/join-tokens", name);
  admin("POST", req, "{\"ttl_seconds\":120}", &r);
  assert_int_equal(r.status, 201);
  char jt[256];
  (void)snprintf(jt, sizeof jt, "%s", str(&r, "token"));
  clear(&r);

  char *jwk = NULL;
  assert_int_equal(wd_ident_key_to_jwk(key, NULL, &jwk), 0);
  (void)snprintf(body, size, "{\"agent\":\"%s\",\"join_token\":\"%s\",\"public_jwk\":%s}", name, jt,
                 jwk);
  wd_free(jwk);
  http("POST", "/v1/enroll", NULL, NULL, body, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(str(&r, "jkt"), wd_ident_key_jkt(key));
  clear(&r);
}

/* Opens a task for the enrolled key with a bare proof; returns the proof
 * (owned) so that a replay can be tried. */
static char *open_task(int budget, char *task, size_t tsize, char *tok, size_t ksize) {
  resp r;
  char body[512];
  (void)snprintf(body, sizeof body,
                 "{\"intent\":\"summarise the report\",\"purpose\":\"reporting\","
                 "\"tools\":[\"fs\",\"http\"],\"classification_ceiling\":\"secret\","
                 "\"budget\":%d,\"ttl_seconds\":600}",
                 budget);
  char *p = proof("POST", "/v1/tasks", NULL);
  http("POST", "/v1/tasks", NULL, p, body, &r);
  assert_int_equal(r.status, 201);
  assert_string_equal(str(&r, "token_type"), "DPoP");
  (void)snprintf(task, tsize, "%s", str(&r, "task_id"));
  (void)snprintf(tok, ksize, "%s", str(&r, "token"));
  clear(&r);
  return p;
}

static void test_lifecycle(void **state) {
  (void)state;
  resp r;
  char body[2048];
  enrol("alpha", body, sizeof body);
  /* Single use. */
  http("POST", "/v1/enroll", NULL, NULL, body, &r);
  assert_int_equal(r.status, 401);
  clear(&r);

  char task[128], tok[4096];
  char *p = open_task(10, task, sizeof task, tok, sizeof tok);
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

/* Sweeps the failure point of the allocation hook inject (one allocation,
 * or every one from then on) across a call, until five calls in a row
 * get past it; answers[decision id] = the decision of each 200. */
static int sweep(const char *tok, void (*inject)(long), json_t *answers) {
  resp r;
  char auth[4200];
  (void)snprintf(auth, sizeof auth, "DPoP %s", tok);
  int clean = 0, failed = 0;
  for (long n = 0; n < 5000 && clean < 5; n++) {
    char *p = proof("POST", "/v1/authorize", tok);
    inject(n);
    CURLcode cc = try_http("POST", "/v1/authorize", auth, p, CALL_OK, &r);
    inject(-1);
    wd_free(p);
    const char *d = cc == CURLE_OK && r.status == 200 ? str(&r, "decision") : NULL;
    if (d) {
      assert_non_null(str(&r, "decision_id"));
      assert_int_equal(json_object_set_new(answers, str(&r, "decision_id"), json_string(d)), 0);
    } else if (cc == CURLE_OK) {
      /* The server's failure, never the credential's (a 401 would send
       * the agent to fix a credential that is fine). */
      assert_int_equal(r.status, 500);
    }
    if (d && strcmp(d, "allow") == 0) {
      clean++;
    } else {
      clean = 0;
      failed++;
    }
    clear(&r);
  }
  assert_int_equal(clean, 5);
  return failed;
}

/* Each allocation of a call made to fail in turn, alone and with every
 * one after it: the server never crashes or leaks (ASan), answers each
 * call with a decision, a 500 or a dropped connection, answers no
 * decision that its log does not hold (an internal failure is a recorded
 * deny or an error, never an allow), and serves the next call normally. */
static void test_authorize_out_of_memory(void **state) {
  (void)state;
  resp r;
  char body[2048], task[128], tok[4096];
  wd_ident_key *first = key; /* one key per agent: proof() signs with key */
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &key), 0);
  enrol("oom", body, sizeof body);
  wd_free(open_task(5000, task, sizeof task, tok, sizeof tok));
  json_t *answers = json_object();
  assert_non_null(answers);
  assert_true(sweep(tok, wd_test_fail_alloc_after, answers) > 0);
  assert_true(sweep(tok, wd_test_fail_alloc_once, answers) > 0);

  char path[256];
  (void)snprintf(path, sizeof path, "/v1/audit/tasks/%s", task);
  admin("GET", path, NULL, &r);
  assert_int_equal(r.status, 200);
  size_t i, denied = 0;
  json_t *rec;
  json_array_foreach(json_object_get(r.body, "records"), i, rec) {
    char seq[32];
    (void)snprintf(seq, sizeof seq, "%lld",
                   (long long)json_integer_value(json_object_get(rec, "seq")));
    const char *d = json_string_value(json_object_get(json_object_get(rec, "payload"), "decision"));
    json_t *a = json_object_get(answers, seq);
    if (a) {
      assert_string_equal(d, json_string_value(a));
      denied += strcmp(d, "deny") == 0;
      assert_int_equal(json_object_del(answers, seq), 0);
    }
  }
  assert_int_equal(json_object_size(answers), 0); /* every answer was recorded */
  assert_true(denied > 20); /* fail closed: recorded denies, past the quarantine rule's count */
  json_decref(answers);
  clear(&r);

  admin("GET", "/v1/audit/verify", NULL, &r);
  assert_true(json_is_true(json_object_get(r.body, "ok")));
  clear(&r);
  wd_ident_key_free(key);
  key = first;
}

/* Whether the evidence of task id holds its opening and its token. */
static int task_whole(const char *id) {
  resp r;
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/audit/tasks/%s", id);
  admin("GET", path, NULL, &r);
  int opened = 0, issued = 0;
  size_t i;
  json_t *rec;
  json_array_foreach(json_object_get(r.body, "records"), i, rec) {
    const char *type = json_string_value(json_object_get(rec, "type"));
    opened += strcmp(type, "task.opened") == 0;
    issued += strcmp(type, "token.issued") == 0;
  }
  clear(&r);
  return opened == 1 && issued == 1;
}

/* Open tasks of agent name, read from the service's database; each must
 * have its whole evidence. */
static size_t open_tasks(const char *name) {
  char db[256], id[128];
  (void)snprintf(db, sizeof db, "sqlite:%s/var/warden.db", dir);
  (void)snprintf(id, sizeof id, "spiffe://warden.local/agent/%s", name);
  wd_store *st = NULL;
  assert_int_equal(wd_store_open(db, WD_STORE_READONLY, &st), 0);
  wd_strlist l = {0};
  assert_int_equal(wd_store_task_list_open(st, id, 1000, &l), 0);
  wd_store_close(st);
  size_t n = l.n, whole = 0;
  for (size_t i = 0; i < n; i++)
    whole += (size_t)task_whole(l.v[i]);
  wd_strlist_free(&l);
  assert_int_equal(whole, n);
  return n;
}

/* Opening a task with each allocation made to fail in turn, alone and
 * with every later one: a task is opened whole (the task, its token and
 * both records) or not at all. An answer can still be lost after the
 * commit (as on a dropped connection), so there may be more open tasks
 * than 201s, never fewer, and never one without its evidence. */
static void test_task_open_out_of_memory(void **state) {
  (void)state;
  resp r;
  char body[2048];
  wd_ident_key *first = key;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &key), 0);
  enrol("oomtask", body, sizeof body);
  void (*const hooks[2])(long) = {wd_test_fail_alloc_after, wd_test_fail_alloc_once};
  size_t answered = 0, before = 0;
  int refused = 0;
  for (int h = 0; h < 2; h++) {
    int clean = 0;
    for (long n = 0; n < 5000 && clean < 3; n++) {
      char *p = proof("POST", "/v1/tasks", NULL);
      hooks[h](n);
      CURLcode cc = try_http("POST", "/v1/tasks", NULL, p,
                             "{\"intent\":\"i\",\"purpose\":\"p\",\"tools\":[\"fs\"],"
                             "\"classification_ceiling\":\"internal\",\"budget\":5}",
                             &r);
      hooks[h](-1);
      wd_free(p);
      int ok = cc == CURLE_OK && r.status == 201;
      if (cc == CURLE_OK && !ok && r.status != 500)
        print_error("failure point %ld: %s\n", n, r.raw);
      if (cc == CURLE_OK && !ok) assert_int_equal(r.status, 500);
      clear(&r);
      size_t now = open_tasks("oomtask");
      answered += (size_t)ok;
      assert_true(now >= answered && now <= before + 1);
      refused += now == before;
      clean = ok ? clean + 1 : 0;
      before = now;
    }
    assert_int_equal(clean, 3);
  }
  assert_true(refused > 0);
  wd_ident_key_free(key);
  key = first;
}

/* The records of task id of type. */
static int count_records(const char *id, const char *type) {
  resp r;
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/audit/tasks/%s", id);
  admin("GET", path, NULL, &r);
  int n = 0;
  size_t i;
  json_t *rec;
  json_array_foreach(json_object_get(r.body, "records"), i, rec) {
    n += strcmp(json_string_value(json_object_get(rec, "type")), type) == 0;
  }
  clear(&r);
  return n;
}

/* Task id as stored; free with wd_store_task_free. */
static void stored_task(const char *id, wd_task *t) {
  char db[256];
  (void)snprintf(db, sizeof db, "sqlite:%s/var/warden.db", dir);
  wd_store *st = NULL;
  assert_int_equal(wd_store_open(db, WD_STORE_READONLY, &st), 0);
  assert_int_equal(wd_store_task_get(st, id, t), 0);
  wd_store_close(st);
}

static int task_is_open(const char *id) {
  wd_task t = {0};
  stored_task(id, &t);
  int open = t.status == WD_TASK_OPEN;
  wd_store_task_free(&t);
  return open;
}

/* Completing a task with each allocation made to fail in turn: a 200
 * means the task ended with both its records and its token is refused;
 * a task that stays open has no end record; a failure never crashes or
 * leaks. (When the log itself fails, the end still reaches the store:
 * a revocation does not wait for the log.) */
static void test_task_end_out_of_memory(void **state) {
  (void)state;
  resp r;
  char body[2048], task[128], tok[4096], auth[4200], path[256];
  wd_ident_key *first = key;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &key), 0);
  enrol("oomend", body, sizeof body);
  void (*const hooks[2])(long) = {wd_test_fail_alloc_after, wd_test_fail_alloc_once};
  int refused = 0;
  for (int h = 0; h < 2; h++) {
    int clean = 0;
    for (long n = 0; n < 5000 && clean < 3; n++) {
      wd_free(open_task(5, task, sizeof task, tok, sizeof tok));
      (void)snprintf(path, sizeof path, "/v1/tasks/%s/complete", task);
      (void)snprintf(auth, sizeof auth, "DPoP %s", tok);
      char *p = proof("POST", path, tok);
      hooks[h](n);
      CURLcode cc = try_http("POST", path, auth, p, "{\"reason\":\"done\"}", &r);
      hooks[h](-1);
      wd_free(p);
      int ok = cc == CURLE_OK && r.status == 200;
      if (cc == CURLE_OK && !ok) assert_int_equal(r.status, 500);
      clear(&r);
      int open = task_is_open(task), ended = count_records(task, "task.ended");
      if (ok) {
        assert_false(open);
        assert_int_equal(ended, 1);
        assert_int_equal(count_records(task, "token.revoked"), 1);
        call("POST", "/v1/authorize", tok, CALL_OK, &r);
        assert_int_equal(r.status, 401);
        clear(&r);
      }
      if (open) assert_int_equal(ended, 0);
      refused += !ok;
      clean = ok ? clean + 1 : 0;
    }
    assert_int_equal(clean, 3);
  }
  assert_true(refused > 0);
  wd_ident_key_free(key);
  key = first;
}

/* Changing a task's intent with each allocation made to fail in turn:
 * the change is stored with its record or not at all, it always revokes
 * the old credential, a revocation on record holds, a 200 hands over a
 * working new token, and nothing crashes or leaks. */
static void test_intent_change_out_of_memory(void **state) {
  (void)state;
  resp r;
  char body[2048], task[128], tok[4096], auth[4200], path[256];
  wd_ident_key *first = key;
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_P256, &key), 0);
  enrol("oomintent", body, sizeof body);
  void (*const hooks[2])(long) = {wd_test_fail_alloc_after, wd_test_fail_alloc_once};
  int refused = 0;
  for (int h = 0; h < 2; h++) {
    int clean = 0;
    for (long n = 0; n < 5000 && clean < 3; n++) {
      wd_free(open_task(50, task, sizeof task, tok, sizeof tok));
      (void)snprintf(path, sizeof path, "/v1/tasks/%s/intent", task);
      (void)snprintf(auth, sizeof auth, "DPoP %s", tok);
      char *p = proof("POST", path, tok);
      hooks[h](n);
      CURLcode cc = try_http("POST", path, auth, p, "{\"intent\":\"new plan\"}", &r);
      hooks[h](-1);
      wd_free(p);
      int ok = cc == CURLE_OK && r.status == 200;
      if (cc == CURLE_OK && !ok) assert_int_equal(r.status, 500);
      char fresh[4096] = "";
      if (ok) (void)snprintf(fresh, sizeof fresh, "%s", str(&r, "token"));
      clear(&r);
      wd_task t = {0};
      stored_task(task, &t);
      int changed = strcmp(t.intent, "new plan") == 0;
      wd_store_task_free(&t);
      int recorded = count_records(task, "task.intent_changed");
      if (ok) assert_true(changed && *fresh);
      assert_int_equal(recorded, changed); /* a change is stored with its record, or not at all */
      /* The old credential dies with the change, and a revocation on
       * record holds. */
      if (changed || count_records(task, "token.revoked") > 0) {
        call("POST", "/v1/authorize", tok, CALL_OK, &r);
        assert_int_equal(r.status, 401);
        clear(&r);
      }
      if (ok) {
        call("POST", "/v1/authorize", fresh, CALL_OK, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(str(&r, "decision"), "allow");
        clear(&r);
      }
      refused += !ok;
      clean = ok ? clean + 1 : 0;
    }
    assert_int_equal(clean, 3);
  }
  assert_true(refused > 0);
  wd_ident_key_free(key);
  key = first;
}

static int write_line(void *ctx, const char *line, size_t len) {
  return fwrite(line, 1, len, ctx) == len ? 0 : -1;
}

/* Records of type in the whole log whose line holds id. */
static int agent_records(const char *id, const char *type) {
  char db[256];
  (void)snprintf(db, sizeof db, "sqlite:%s/var/warden.db", dir);
  wd_store *st = NULL;
  assert_int_equal(wd_store_open(db, WD_STORE_READONLY, &st), 0);
  int n = 0;
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  int rc = wd_audit_export(st, NULL, write_line, f);
  fclose(f);
  wd_store_close(st);
  assert_int_equal(rc, 0);
  char want[256];
  (void)snprintf(want, sizeof want, "\"type\":\"%s\"", type);
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
    n += strstr(line, want) && strstr(line, id);
  free(buf);
  return n;
}

/* Enrolling with each allocation made to fail in turn: an agent holds a
 * key exactly when the log holds its enrolment. */
/* Registers agent name (id gets its SPIFFE ID) with a key of its own and
 * a join token; body gets its enrolment request. */
static void fresh_agent(const char *name, char *id, size_t idsize, char *body, size_t size) {
  resp r;
  char req[256], *jwk = NULL;
  wd_ident_key *k = NULL; /* one key per agent */
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &k), 0);
  assert_int_equal(wd_ident_key_to_jwk(k, NULL, &jwk), 0);
  wd_ident_key_free(k);
  (void)snprintf(req, sizeof req,
                 "{\"name\":\"%s\",\"owner\":\"alice\",\"risk_tier\":\"standard\","
                 "\"environment\":\"prod\"}",
                 name);
  admin("POST", "/v1/agents", req, &r);
  assert_int_equal(r.status, 201);
  (void)snprintf(id, idsize, "%s", str(&r, "id"));
  clear(&r);
  (void)snprintf(req, sizeof req, "/v1/agents/%s/join-tokens", name);
  admin("POST", req, "{\"ttl_seconds\":120}", &r);
  assert_int_equal(r.status, 201);
  (void)snprintf(body, size, "{\"agent\":\"%s\",\"join_token\":\"%s\",\"public_jwk\":%s}", name,
                 str(&r, "token"), jwk);
  clear(&r);
  wd_free(jwk);
}

static void test_enrol_out_of_memory(void **state) {
  (void)state;
  resp r;
  char req[512], body[2048], id[128];
  void (*const hooks[2])(long) = {wd_test_fail_alloc_after, wd_test_fail_alloc_once};
  int refused = 0, agents = 0;
  for (int h = 0; h < 2; h++) {
    int clean = 0;
    for (long n = 0; n < 5000 && clean < 3; n++) {
      char name[32];
      (void)snprintf(name, sizeof name, "enr%d", agents++);
      fresh_agent(name, id, sizeof id, body, sizeof body);
      hooks[h](n);
      CURLcode cc = try_http("POST", "/v1/enroll", NULL, NULL, body, &r);
      hooks[h](-1);
      int ok = cc == CURLE_OK && r.status == 200;
      if (cc == CURLE_OK && !ok) assert_int_equal(r.status, 500);
      clear(&r);
      (void)snprintf(req, sizeof req, "/v1/agents/%s", name);
      admin("GET", req, NULL, &r);
      int bound = json_is_string(json_object_get(r.body, "jkt"));
      clear(&r);
      if (ok) assert_true(bound);
      assert_int_equal(agent_records(id, "agent.enrolled"), bound);
      refused += !ok;
      clean = ok ? clean + 1 : 0;
    }
    assert_int_equal(clean, 3);
  }
  assert_true(refused > 0);
}

/* Replacing the policy set with each allocation made to fail in turn
 * (the same policies with a new comment each time): the active version
 * always has its policy.activated record, a 200 names the version now
 * active, and a failure is a 500, never a parse or validation error. */
static void test_policy_put_out_of_memory(void **state) {
  (void)state;
  resp r;
  admin("GET", "/v1/policies", NULL, &r);
  assert_int_equal(r.status, 200);
  char *text = strdup(str(&r, "policies"));
  assert_non_null(text);
  clear(&r);
  void (*const hooks[2])(long) = {wd_test_fail_alloc_after, wd_test_fail_alloc_once};
  int refused = 0;
  for (int h = 0; h < 2; h++) {
    int clean = 0;
    for (long n = 0; n < 100000 && clean < 3; n++) {
      char note[64];
      (void)snprintf(note, sizeof note, "\n// sweep %d %ld\n", h, n);
      size_t len = strlen(text) + strlen(note) + 1;
      char *pol = malloc(len);
      assert_non_null(pol);
      (void)snprintf(pol, len, "%s%s", text, note);
      json_t *bj = json_pack("{s:s}", "policies", pol);
      char *body = json_dumps(bj, JSON_COMPACT);
      json_decref(bj);
      free(pol);
      hooks[h](n);
      CURLcode cc = try_http("PUT", "/v1/policies", "Bearer " ADMIN, NULL, body, &r);
      hooks[h](-1);
      free(body);
      int ok = cc == CURLE_OK && r.status == 200;
      if (cc == CURLE_OK && !ok && r.status != 500)
        print_error("failure point %ld: %s\n", n, r.raw);
      if (cc == CURLE_OK && !ok) assert_int_equal(r.status, 500);
      json_int_t said = ok ? json_integer_value(json_object_get(r.body, "version")) : 0;
      clear(&r);
      admin("GET", "/v1/policies", NULL, &r);
      json_int_t active = json_integer_value(json_object_get(r.body, "version"));
      clear(&r);
      if (ok) assert_int_equal(active, said);
      char want[64];
      (void)snprintf(want, sizeof want, "\"version\":%lld", (long long)active);
      assert_int_equal(agent_records(want, "policy.activated"), 1);
      refused += !ok;
      clean = ok ? clean + 1 : 0;
    }
    assert_int_equal(clean, 3);
  }
  assert_true(refused > 0);
  free(text);
}

static const char *agent_status(const char *name) {
  static char st[32];
  resp r;
  char path[128];
  (void)snprintf(path, sizeof path, "/v1/agents/%s", name);
  admin("GET", path, NULL, &r);
  (void)snprintf(st, sizeof st, "%s", str(&r, "status"));
  clear(&r);
  return st;
}

/* Quarantine and release with each allocation made to fail in turn: a
 * release is stored with its record or not at all; a quarantine on
 * record holds, and a 200 means quarantined and recorded (a quarantine
 * the log cannot take still reaches the store: a stop does not wait for
 * the log). */
static void test_agent_status_out_of_memory(void **state) {
  (void)state;
  resp r;
  char req[256], id[128];
  void (*const hooks[2])(long) = {wd_test_fail_alloc_after, wd_test_fail_alloc_once};
  int refused = 0, agents = 0;
  for (int h = 0; h < 2; h++) {
    int clean = 0;
    for (long n = 0; n < 5000 && clean < 3; n++) {
      char name[32], body[2048];
      (void)snprintf(name, sizeof name, "st%d", agents++);
      fresh_agent(name, id, sizeof id, body, sizeof body);
      http("POST", "/v1/enroll", NULL, NULL, body, &r);
      assert_int_equal(r.status, 200);
      clear(&r);
      int ok = 1;
      for (int step = 0; step < 2; step++) {
        (void)snprintf(req, sizeof req, "/v1/agents/%s/%s", name, step ? "release" : "quarantine");
        hooks[h](n);
        CURLcode cc = try_http("POST", req, "Bearer " ADMIN, NULL, "{\"reason\":\"sweep\"}", &r);
        hooks[h](-1);
        int got = cc == CURLE_OK && r.status == 200;
        if (cc == CURLE_OK && !got && r.status != 500)
          print_error("failure point %ld, step %d: %s\n", n, step, r.raw);
        if (cc == CURLE_OK && !got) assert_int_equal(r.status, 500);
        clear(&r);
        const char *st = agent_status(name);
        int quarantined = strcmp(st, "quarantined") == 0;
        int q = agent_records(id, "agent.quarantined"), rl = agent_records(id, "agent.released");
        if (step == 0) {
          if (got) assert_true(quarantined && q == 1);
          if (q) assert_true(quarantined);
        } else {
          assert_int_equal(rl, !quarantined); /* a release goes with its record */
          if (got) assert_false(quarantined);
        }
        ok = ok && got;
        if (!quarantined && step == 0) break; /* nothing to release */
      }
      refused += !ok;
      clean = ok ? clean + 1 : 0;
    }
    assert_int_equal(clean, 3);
  }
  assert_true(refused > 0);
}

/* Registering an agent and making its join token with each allocation
 * made to fail in turn: an agent exists exactly when its registration is
 * on record, and a join token handed out is on record and works. */
static void test_register_out_of_memory(void **state) {
  (void)state;
  resp r;
  char req[256], id[128], body[2048];
  void (*const hooks[2])(long) = {wd_test_fail_alloc_after, wd_test_fail_alloc_once};
  int refused = 0, agents = 0;
  for (int h = 0; h < 2; h++) {
    int clean = 0;
    for (long n = 0; n < 5000 && clean < 3; n++) {
      char name[32];
      (void)snprintf(name, sizeof name, "reg%d", agents++);
      (void)snprintf(id, sizeof id, "spiffe://warden.local/agent/%s", name);
      (void)snprintf(req, sizeof req,
                     "{\"name\":\"%s\",\"owner\":\"alice\",\"risk_tier\":\"standard\","
                     "\"environment\":\"prod\"}",
                     name);
      hooks[h](n);
      CURLcode cc = try_http("POST", "/v1/agents", "Bearer " ADMIN, NULL, req, &r);
      hooks[h](-1);
      int ok = cc == CURLE_OK && r.status == 201;
      if (cc == CURLE_OK && !ok) assert_int_equal(r.status, 500);
      clear(&r);
      (void)snprintf(req, sizeof req, "/v1/agents/%s", name);
      admin("GET", req, NULL, &r);
      int exists = r.status == 200;
      clear(&r);
      if (ok) assert_true(exists);
      assert_int_equal(agent_records(id, "agent.registered"), exists);
      if (exists) {
        (void)snprintf(req, sizeof req, "/v1/agents/%s/join-tokens", name);
        hooks[h](n);
        cc = try_http("POST", req, "Bearer " ADMIN, NULL, "{\"ttl_seconds\":120}", &r);
        hooks[h](-1);
        int made = cc == CURLE_OK && r.status == 201;
        if (cc == CURLE_OK && !made) assert_int_equal(r.status, 500);
        char *jwk = NULL;
        wd_ident_key *k = NULL;
        assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &k), 0);
        assert_int_equal(wd_ident_key_to_jwk(k, NULL, &jwk), 0);
        wd_ident_key_free(k);
        if (made)
          (void)snprintf(body, sizeof body,
                         "{\"agent\":\"%s\",\"join_token\":\"%s\",\"public_jwk\":%s}", name,
                         str(&r, "token"), jwk);
        wd_free(jwk);
        clear(&r);
        assert_true(agent_records(id, "admin.action") >= made); /* join_token.created */
        if (made) {
          http("POST", "/v1/enroll", NULL, NULL, body, &r);
          if (r.status != 200) print_error("hook %d, failure point %ld: %s\n", h, n, r.raw);
          assert_int_equal(r.status, 200);
          clear(&r);
        }
        ok = ok && made;
      }
      refused += !ok;
      clean = ok ? clean + 1 : 0;
    }
    assert_int_equal(clean, 3);
  }
  assert_true(refused > 0);
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
      cmocka_unit_test(test_authorize_out_of_memory),
      cmocka_unit_test(test_task_open_out_of_memory),
      cmocka_unit_test(test_task_end_out_of_memory),
      cmocka_unit_test(test_intent_change_out_of_memory),
      cmocka_unit_test(test_enrol_out_of_memory),
      cmocka_unit_test(test_policy_put_out_of_memory),
      cmocka_unit_test(test_agent_status_out_of_memory),
      cmocka_unit_test(test_register_out_of_memory),
  };
  int rc = cmocka_run_group_tests(tests, setup, teardown);
  curl_global_cleanup();
  return rc;
}

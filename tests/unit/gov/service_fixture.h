/* SPDX-License-Identifier: Apache-2.0
 *
 * For unit tests of the governance service in-process: the service on
 * 127.0.0.1:0 with a temporary data directory and the starter pack (the
 * group setup and teardown), requests (service_client.h) with DPoP proofs made
 * by wd_ident, agents and tasks set up through the API, and reads of
 * what the service stored and recorded. Include after cmocka.h.
 */
#ifndef WD_TEST_SERVICE_FIXTURE_H
#define WD_TEST_SERVICE_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "service_client.h"

#include "audit/wd_audit.h"
#include "gov/wd_gov.h"
#include "ident/wd_ident.h"
#include "store/wd_store.h"
#include "util/wd_alloc.h"

static wd_gov *gov;
static char dir[128];
static wd_ident_key *key;

/* A fresh DPoP proof by k for a request (owned). */
static inline char *proof_by(const wd_ident_key *k, const char *method, const char *path,
                             const char *token) {
  char htu[512];
  (void)snprintf(htu, sizeof htu, "%s%s", url, path);
  char *p = NULL;
  assert_int_equal(wd_ident_dpop_make(k, method, htu, token, (int64_t)time(NULL), &p), 0);
  return p;
}

static inline char *proof(const char *method, const char *path, const char *token) {
  return proof_by(key, method, path, token);
}

static inline void call(const char *method, const char *path, const char *token, const char *body,
                        resp *r) {
  char *p = proof(method, path, token);
  char auth[8192];
  (void)snprintf(auth, sizeof auth, "DPoP %s", token);
  http(method, path, auth, p, body, r);
  wd_free(p);
}

static inline const char *str(const resp *r, const char *k) {
  return json_string_value(json_object_get(r->body, k));
}

static inline int setup(void **state) {
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
#ifdef WD_FIXTURE_QUARANTINE_DENIALS
  o.quarantine_denials = WD_FIXTURE_QUARANTINE_DENIALS; /* a test that denies by the dozen */
#else
  o.quarantine_denials = 20;
#endif
#ifdef WD_FIXTURE_REAPER_MS
  o.reaper_interval_ms = WD_FIXTURE_REAPER_MS; /* a test that must beat the reaper */
#endif
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

static inline int teardown(void **state) {
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

/* Makes a join token for agent name; body gets the enrolment request
 * with key k's JWK. */
static inline void register_agent_token(const char *name, const wd_ident_key *k, char *body,
                                        size_t size) {
  resp r;
  char req[512], *jwk = NULL;
  (void)snprintf(req, sizeof req, "/v1/agents/%s/join-tokens", name);
  admin("POST", req, "{\"ttl_seconds\":120}", &r);
  assert_int_equal(r.status, 201);
  assert_int_equal(wd_ident_key_to_jwk(k, NULL, &jwk), 0);
  (void)snprintf(body, size, "{\"agent\":\"%s\",\"join_token\":\"%s\",\"public_jwk\":%s}", name,
                 str(&r, "token"), jwk);
  wd_free(jwk);
  clear(&r);
}

/* Registers agent name (pending, of team payments) and makes a join
 * token for it; body gets the enrolment request with key k's JWK. */
static inline void register_agent(const char *name, const wd_ident_key *k, char *body,
                                  size_t size) {
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
  register_agent_token(name, k, body, size);
}

/* POST /v1/enroll with body and a fresh proof of possession by key. */
static inline void enrol_post(const char *body, resp *r) {
  char *p = proof("POST", "/v1/enroll", NULL);
  http("POST", "/v1/enroll", NULL, p, body, r);
  wd_free(p);
}

/* Registers agent name and enrols it with key; body gets the enrolment
 * request, which a second use must be refused. */
static inline void enrol(const char *name, char *body, size_t size) {
  resp r;
  register_agent(name, key, body, size);
  enrol_post(body, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(str(&r, "jkt"), wd_ident_key_jkt(key));
  clear(&r);
}

/* Opens a task for the enrolled key with a bare proof; returns the proof
 * (owned) so that a replay can be tried. */
static inline char *open_task(int budget, char *task, size_t tsize, char *tok, size_t ksize) {
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

/* Whether the evidence of task id holds its opening and its token. */
static inline int task_whole(const char *id) {
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
static inline size_t open_tasks(const char *name) {
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

/* The records of task id of type. */
static inline int count_records(const char *id, const char *type) {
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
static inline void stored_task(const char *id, wd_task *t) {
  char db[256];
  (void)snprintf(db, sizeof db, "sqlite:%s/var/warden.db", dir);
  wd_store *st = NULL;
  assert_int_equal(wd_store_open(db, WD_STORE_READONLY, &st), 0);
  assert_int_equal(wd_store_task_get(st, id, t), 0);
  wd_store_close(st);
}

static inline int task_is_open(const char *id) {
  wd_task t = {0};
  stored_task(id, &t);
  int open = t.status == WD_TASK_OPEN;
  wd_store_task_free(&t);
  return open;
}

static inline int write_line(void *ctx, const char *line, size_t len) {
  return fwrite(line, 1, len, ctx) == len ? 0 : -1;
}

/* Records of type in the whole log whose line holds id. */
static inline int agent_records(const char *id, const char *type) {
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

/* Registers agent name (id gets its SPIFFE ID) with a key of its own and
 * a join token; body gets its enrolment request. */
/* ... and *pop gets its enrolment's proof of possession (owned). */
static inline void fresh_agent(const char *name, char *id, size_t idsize, char *body, size_t size,
                               char **pop) {
  wd_ident_key *k = NULL; /* one key per agent */
  assert_int_equal(wd_ident_key_generate(WD_IDENT_KEY_ED25519, &k), 0);
  register_agent(name, k, body, size);
  *pop = proof_by(k, "POST", "/v1/enroll", NULL);
  wd_ident_key_free(k);
  (void)snprintf(id, idsize, "spiffe://warden.local/agent/%s", name);
}

static inline const char *agent_status(const char *name) {
  static char st[32];
  resp r;
  char path[128];
  (void)snprintf(path, sizeof path, "/v1/agents/%s", name);
  admin("GET", path, NULL, &r);
  (void)snprintf(st, sizeof st, "%s", str(&r, "status"));
  clear(&r);
  return st;
}

#endif

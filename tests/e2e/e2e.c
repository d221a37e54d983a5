/* SPDX-License-Identifier: Apache-2.0
 *
 * The end-to-end harness (see e2e.h). Test code: it prints diagnostics to
 * stderr so a failing run says what the server answered.
 */
#define _DEFAULT_SOURCE
#include "e2e.h"

#include "../support/auth_headers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit/wd_audit.h"
#include "store/wd_store.h"
#include "util/wd_alloc.h"

#ifndef WD_E2E_WARDEN
#error "WD_E2E_WARDEN must name the warden binary"
#endif
#ifndef WD_E2E_SRC
#error "WD_E2E_SRC must name the source tree"
#endif

int64_t e2e_now(void) { return (int64_t)time(NULL); }

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* ---- the server process ---------------------------------------------------- */

static int read_file(const char *path, char *buf, size_t len) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, len - 1, f);
  buf[n] = 0;
  (void)fclose(f);
  return 0;
}

/* The last len - 1 bytes of a file, where a dying server writes. */
static int read_tail(const char *path, char *buf, size_t len) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  if (fseek(f, 0, SEEK_END) == 0) {
    long size = ftell(f);
    (void)fseek(f, size > (long)len - 1 ? size - ((long)len - 1) : 0, SEEK_SET);
  }
  size_t n = fread(buf, 1, len - 1, f);
  buf[n] = 0;
  (void)fclose(f);
  return 0;
}

int e2e_server_start(e2e_server *s) {
  if (s->root[0] == 0) {
    char tmpl[] = "/tmp/wd-e2e-XXXXXX";
    if (!mkdtemp(tmpl)) {
      perror("mkdtemp");
      return -1;
    }
    (void)snprintf(s->root, sizeof s->root, "%s", tmpl);
    (void)snprintf(s->data, sizeof s->data, "%s/var", s->root);
  }
  char out[512], err[512];
  (void)snprintf(out, sizeof out, "%s/server.out", s->root);
  (void)snprintf(err, sizeof err, "%s/server.err", s->root);
  (void)unlink(out);
  (void)fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(err, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fo < 0 || fe < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0) _exit(127);
    if (chdir(WD_E2E_SRC) != 0) _exit(127);
    (void)setenv("WARDEN_ADMIN_TOKEN", E2E_ADMIN_TOKEN, 1);
    (void)setenv("ASAN_OPTIONS", "detect_leaks=0", 0);
    execl(WD_E2E_WARDEN, "warden", "serve", "--listen", s->listen[0] ? s->listen : "127.0.0.1:0",
          "--data", s->data, "--policy-dir",
          s->policy_dir[0] ? s->policy_dir : WD_E2E_SRC "/docs/policies", (char *)NULL);
    _exit(127);
  }
  s->pid = pid;
  char buf[4096];
  for (int i = 0; i < 600; i++) { /* up to 30 s: a sanitizer build starts slowly */
    if (read_file(out, buf, sizeof buf) == 0) {
      const char *p = strstr(buf, "http://");
      if (!p) p = strstr(buf, "https://");
      const char *nl = p ? strchr(p, '\n') : NULL;
      if (p && nl && (size_t)(nl - p) < sizeof s->url) {
        (void)snprintf(s->url, sizeof s->url, "%.*s", (int)(nl - p), p);
        return 0;
      }
    }
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      s->pid = 0;
      if (read_file(err, buf, sizeof buf) == 0) fprintf(stderr, "server died:\n%s\n", buf);
      return -1;
    }
    sleep_ms(50);
  }
  fprintf(stderr, "server printed no URL\n");
  (void)kill(pid, SIGKILL);
  (void)waitpid(pid, NULL, 0);
  s->pid = 0;
  return -1;
}

int e2e_server_stop(e2e_server *s) {
  if (s->pid <= 0) return -1;
  (void)kill(s->pid, SIGTERM);
  int st = 0;
  for (int i = 0; i < 600; i++) {
    pid_t r = waitpid(s->pid, &st, WNOHANG);
    if (r == s->pid) {
      s->pid = 0;
      int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
      /* A stop that did not end cleanly says what the server said last. */
      char err[512], buf[4096];
      (void)snprintf(err, sizeof err, "%s/server.err", s->root);
      if (code != 0 && read_tail(err, buf, sizeof buf) == 0)
        fprintf(stderr, "server stopped with %d:\n%s\n", code, buf);
      return code;
    }
    sleep_ms(50);
  }
  (void)kill(s->pid, SIGKILL);
  (void)waitpid(s->pid, NULL, 0);
  s->pid = 0;
  return -1;
}

void e2e_server_cleanup(e2e_server *s) {
  if (s->pid > 0) (void)e2e_server_stop(s);
  if (s->root[0] && getenv("WD_E2E_KEEP") == NULL) {
    char cmd[600];
    (void)snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", s->root);
  }
  s->root[0] = 0;
}

/* ---- HTTP --------------------------------------------------------------------- */

typedef struct sink {
  char *p;
  size_t n, cap;
} sink;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud) {
  sink *b = ud;
  size_t n = size * nmemb;
  if (b->n + n + 1 > b->cap) {
    size_t cap = (b->n + n + 1) * 2;
    char *q = wd_malloc(cap);
    if (!q) return 0;
    if (b->p) memcpy(q, b->p, b->n);
    wd_free(b->p);
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, ptr, n);
  b->n += n;
  b->p[b->n] = 0;
  return n;
}

void e2e_resp_clear(e2e_resp *r) {
  json_decref(r->body);
  r->body = NULL;
  wd_free(r->text);
  r->text = NULL;
  r->status = 0;
}

static const char *err_member(const e2e_resp *r, const char *k) {
  json_t *e = json_object_get(r->body, "error");
  const char *v = json_string_value(json_object_get(e, k));
  return v ? v : "";
}
const char *e2e_err_code(const e2e_resp *r) { return err_member(r, "code"); }
const char *e2e_err_field(const e2e_resp *r) { return err_member(r, "field"); }

int e2e_http(CURL *curl, const e2e_server *s, const char *method, const char *path,
             const char *auth, const char *dpop, const char *body, size_t body_len, e2e_resp *out) {
  memset(out, 0, sizeof *out);
  CURL *c = curl ? curl : curl_easy_init();
  if (!c) return -1;
  char url[1024];
  (void)snprintf(url, sizeof url, "%s%s", s->url, path);
  struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
  hs = auth_headers(curl_slist_append(hs, "Expect:"), auth, dpop);
  sink b = {0};
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  if (s->ca_file[0]) curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
  } else if (strcmp(method, "GET") == 0) {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
  } else {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
  }
  CURLcode rc = curl_easy_perform(c);
  int ret = -1;
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    if (b.p) out->body = json_loadb(b.p, b.n, 0, NULL);
    out->text = b.p;
    b.p = NULL;
    ret = 0;
  } else {
    fprintf(stderr, "%s %s: %s\n", method, path, curl_easy_strerror(rc));
  }
  /* Reset the per-request options so a reused handle keeps only its
   * connection. */
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  curl_slist_free_all(hs);
  wd_free(b.p);
  if (!curl) curl_easy_cleanup(c);
  return ret;
}

int e2e_admin(const e2e_server *s, const char *method, const char *path, const char *body,
              e2e_resp *out) {
  return e2e_http(NULL, s, method, path, "Bearer " E2E_ADMIN_TOKEN, NULL, body,
                  body ? strlen(body) : 0, out);
}

/* ---- agents and tasks --------------------------------------------------------- */

void e2e_agent_clear(e2e_agent *a) {
  wd_ident_key_free(a->key);
  a->key = NULL;
}

void e2e_task_clear(e2e_task *t) {
  wd_free(t->token);
  t->token = NULL;
}

static char *proof(const e2e_server *s, const wd_ident_key *key, const char *method,
                   const char *path, const char *token) {
  char htu[1024];
  (void)snprintf(htu, sizeof htu, "%s%s", s->public_url[0] ? s->public_url : s->url, path);
  char *p = NULL;
  if (wd_ident_dpop_make(key, method, htu, token, e2e_now(), &p) < 0) return NULL;
  return p;
}

int e2e_agent_enroll(const e2e_server *s, const char *name, const char *tier, e2e_agent *a) {
  memset(a, 0, sizeof *a);
  (void)snprintf(a->name, sizeof a->name, "%s", name);
  e2e_resp r;
  char body[1024], path[256];
  (void)snprintf(body, sizeof body,
                 "{\"name\":\"%s\",\"owner\":\"alice\",\"risk_tier\":\"%s\","
                 "\"environment\":\"prod\",\"attributes\":{\"team\":\"payments\"}}",
                 name, tier);
  if (e2e_admin(s, "POST", "/v1/agents", body, &r) < 0 || r.status != 201) {
    fprintf(stderr, "register %s: %ld\n", name, r.status);
    e2e_resp_clear(&r);
    return -1;
  }
  e2e_resp_clear(&r);
  (void)snprintf(path, sizeof path, "/v1/agents/%s/join-tokens", name);
  if (e2e_admin(s, "POST", path, "{}", &r) < 0 || r.status != 201) {
    fprintf(stderr, "join token %s: %ld\n", name, r.status);
    e2e_resp_clear(&r);
    return -1;
  }
  char jt[512];
  const char *tok = json_string_value(json_object_get(r.body, "token"));
  (void)snprintf(jt, sizeof jt, "%s", tok ? tok : "");
  e2e_resp_clear(&r);
  char *jwk = NULL;
  if (wd_ident_key_generate(WD_IDENT_KEY_ED25519, &a->key) < 0 ||
      wd_ident_key_to_jwk(a->key, NULL, &jwk) < 0)
    return -1;
  (void)snprintf(body, sizeof body, "{\"agent\":\"%s\",\"join_token\":\"%s\",\"public_jwk\":%s}",
                 name, jt, jwk);
  wd_free(jwk);
  /* The proof that this side holds the key it enrols. */
  char *pop = proof(s, a->key, "POST", "/v1/enroll", NULL);
  if (!pop) return -1;
  int sent = e2e_http(NULL, s, "POST", "/v1/enroll", NULL, pop, body, strlen(body), &r);
  wd_free(pop);
  if (sent < 0 || (r.status != 200 && r.status != 201)) {
    fprintf(stderr, "enroll %s: %ld\n", name, r.status);
    e2e_resp_clear(&r);
    return -1;
  }
  const char *id = json_string_value(json_object_get(r.body, "agent_id"));
  (void)snprintf(a->id, sizeof a->id, "%s", id ? id : "");
  e2e_resp_clear(&r);
  return 0;
}

long e2e_task_open(const e2e_server *s, const wd_ident_key *key, const char *body, e2e_task *t,
                   e2e_resp *out) {
  memset(t, 0, sizeof *t);
  char *p = proof(s, key, "POST", "/v1/tasks", NULL);
  if (!p) return -1;
  int rc = e2e_http(NULL, s, "POST", "/v1/tasks", NULL, p, body, strlen(body), out);
  wd_free(p);
  if (rc < 0) return -1;
  if (out->status == 201) {
    const char *id = json_string_value(json_object_get(out->body, "task_id"));
    const char *tok = json_string_value(json_object_get(out->body, "token"));
    if (!id || !tok) return -1;
    (void)snprintf(t->id, sizeof t->id, "%s", id);
    size_t n = strlen(tok);
    t->token = wd_malloc(n + 1);
    if (!t->token) return -1;
    memcpy(t->token, tok, n + 1);
  }
  return out->status;
}

long e2e_task_open_simple(const e2e_server *s, const e2e_agent *a, long budget, long ttl,
                          e2e_task *t) {
  char body[512];
  (void)snprintf(body, sizeof body,
                 "{\"intent\":\"summarise the quarterly report\",\"purpose\":\"reporting\","
                 "\"tools\":[\"fs\",\"http\"],\"classification_ceiling\":\"secret\","
                 "\"budget\":%ld,\"ttl_seconds\":%ld}",
                 budget, ttl);
  e2e_resp r;
  long st = e2e_task_open(s, a->key, body, t, &r);
  if (st != 201) fprintf(stderr, "task open for %s: %ld\n", a->name, st);
  e2e_resp_clear(&r);
  return st;
}

int e2e_task_call(CURL *curl, const e2e_server *s, const wd_ident_key *key, const char *token,
                  const char *method, const char *path, const char *body, e2e_resp *out) {
  char *p = proof(s, key, method, path, token);
  if (!p) return -1;
  char auth[8192];
  (void)snprintf(auth, sizeof auth, "DPoP %s", token);
  int rc = e2e_http(curl, s, method, path, auth, p, body, body ? strlen(body) : 0, out);
  wd_free(p);
  return rc;
}

long e2e_authorize(CURL *curl, const e2e_server *s, const wd_ident_key *key, const char *token,
                   const char *body, e2e_resp *out) {
  if (e2e_task_call(curl, s, key, token, "POST", "/v1/authorize", body, out) < 0) return -1;
  return out->status;
}

const char *e2e_decision(const e2e_resp *r) {
  const char *d = json_string_value(json_object_get(r->body, "decision"));
  return d ? d : "";
}

int e2e_has_policy(const e2e_resp *r, const char *id) {
  json_t *ps = json_object_get(r->body, "policies");
  size_t i;
  json_t *p;
  json_array_foreach(ps, i, p) {
    const char *pid = json_string_value(json_object_get(p, "id"));
    if (pid && strcmp(pid, id) == 0) return 1;
  }
  return 0;
}

/* ---- the evidence log --------------------------------------------------------- */

long e2e_audit_count(const e2e_server *s, const char *task, const char *type) {
  char path[256];
  (void)snprintf(path, sizeof path, "/v1/audit/tasks/%s", task);
  e2e_resp r;
  if (e2e_admin(s, "GET", path, NULL, &r) < 0 || r.status != 200) {
    e2e_resp_clear(&r);
    return -1;
  }
  long n = 0;
  json_t *recs = json_object_get(r.body, "records");
  size_t i;
  json_t *rec;
  json_array_foreach(recs, i, rec) {
    const char *t = json_string_value(json_object_get(rec, "type"));
    if (!type || (t && strcmp(t, type) == 0)) n++;
  }
  int ok = json_is_array(recs);
  e2e_resp_clear(&r);
  return ok ? n : -1;
}

int e2e_audit_verify(const e2e_server *s, long *records) {
  e2e_resp r;
  if (e2e_admin(s, "GET", "/v1/audit/verify", NULL, &r) < 0 || r.status != 200) {
    e2e_resp_clear(&r);
    return -1;
  }
  int ok = json_is_true(json_object_get(r.body, "ok"));
  if (records) *records = (long)json_integer_value(json_object_get(r.body, "records"));
  e2e_resp_clear(&r);
  return ok;
}

/* The SQLite file in the data directory: the one file named *.db,
 * *.sqlite or *.sqlite3. */
static int find_db(const e2e_server *s, char *path, size_t len) {
  DIR *d = opendir(s->data);
  if (!d) return -1;
  struct dirent *e;
  int found = -1;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    const char *exts[] = {".db", ".sqlite", ".sqlite3"};
    for (size_t i = 0; i < 3 && found < 0; i++) {
      size_t m = strlen(exts[i]);
      if (n > m && strcmp(e->d_name + n - m, exts[i]) == 0) {
        (void)snprintf(path, len, "%s/%s", s->data, e->d_name);
        found = 0;
      }
    }
  }
  (void)closedir(d);
  return found;
}

typedef struct counter {
  const char *type;
  long n;
} counter;

static int count_row(void *ctx, const wd_audit_row *row) {
  counter *c = ctx;
  if (!c->type || strcmp(row->type, c->type) == 0) c->n++;
  return 0;
}

int e2e_offline_verify(const e2e_server *s, const char *type, long *count) {
  char path[512];
  if (find_db(s, path, sizeof path) < 0) {
    fprintf(stderr, "no SQLite file in %s\n", s->data);
    return -1;
  }
  wd_audit_report rep;
  memset(&rep, 0, sizeof rep);
  int rc = wd_audit_verify_file(path, &rep);
  if (rc < 0) {
    fprintf(stderr, "offline verify: broken at %lld: %s\n", (long long)rep.bad_seq, rep.reason);
    return -1;
  }
  wd_store *st = NULL;
  if (wd_store_open(path, WD_STORE_READONLY, &st) < 0) return -1;
  counter c = {type, 0};
  rc = wd_store_audit_scan(st, NULL, 1, count_row, &c);
  wd_store_close(st);
  if (rc < 0) return -1;
  if (count) *count = c.n;
  return 0;
}

int e2e_start_with_agent(e2e_server *s, const char *name, const char *tier, e2e_agent *a) {
  if (e2e_server_start(s) < 0) return -1;
  return e2e_agent_enroll(s, name, tier, a);
}

int e2e_stop_with_agent(e2e_server *s, e2e_agent *a) {
  e2e_agent_clear(a);
  int rc = e2e_server_stop(s);
  e2e_server_cleanup(s);
  return rc == 0 ? 0 : -1;
}

int e2e_cli(const e2e_server *s, const char *token, const char *args, char *out, size_t cap) {
  char cmd[1024];
  (void)snprintf(cmd, sizeof cmd, "%s %s", WD_E2E_WARDEN, args);
  out[0] = '\0';
  if (setenv("WARDEN_URL", s->url, 1) != 0 || setenv("WARDEN_ADMIN_TOKEN", token, 1) != 0 ||
      setenv("ASAN_OPTIONS", "detect_leaks=0", 0) != 0)
    return -1;
  FILE *f = popen(cmd, "r");
  if (!f) return -1;
  size_t n = fread(out, 1, cap - 1, f);
  out[n] = '\0';
  char rest[256];
  while (fread(rest, 1, sizeof rest, f) > 0) {
  }
  int st = pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

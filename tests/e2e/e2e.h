/* SPDX-License-Identifier: Apache-2.0
 *
 * Harness for the end-to-end suite: starts a real `warden serve` process
 * (path from WD_E2E_WARDEN) on 127.0.0.1 port 0 with a fresh data
 * directory and WARDEN_ADMIN_TOKEN, talks to it over HTTP with libcurl,
 * plays agents with wd_ident keys and DPoP proofs, and reads the evidence
 * log through the admin API or offline from the SQLite file.
 *
 * Ownership: every struct here is embedded by the caller and released
 * with its *_clear / *_stop function; json_t members are owned references.
 */
#ifndef WD_E2E_H
#define WD_E2E_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ident/wd_ident.h"

#define E2E_ADMIN_TOKEN "e2e-admin-token-0123456789abcdef0123456789"
/* An authorize body the starter pack allows for a task with tool fs. */
#define E2E_CALL_OK                                                                                \
  "{\"tool\":\"fs\",\"operation\":\"read\",\"classification\":\"internal\",\"destination\":"       \
  "\"local\",\"environment\":\"prod\"}"

typedef struct e2e_server {
  pid_t pid;
  char root[256];       /* temp dir holding var/ and the server's output */
  char data[300];       /* the --data directory */
  char url[128];        /* "http://127.0.0.1:PORT" */
  char listen[64];      /* "" = 127.0.0.1:0; a restart may ask for the previous port */
  char policy_dir[256]; /* "" = the repository's docs/policies */
  char ca_file[300];    /* "" = none; an https server's certificate, trusted by e2e_http */
  char public_url[128]; /* "" = url; the base of the agents' DPoP htu */
} e2e_server;

/* Creates a fresh temp root (when root is "") and starts the server on
 * root/var. Returns 0, or -1 after printing why. */
int e2e_server_start(e2e_server *s);
/* SIGTERM, then waits; returns the exit status (0 = clean), -1 on timeout
 * (the process is then killed). Keeps root for a restart. */
int e2e_server_stop(e2e_server *s);
/* Removes root (call after the last stop). */
void e2e_server_cleanup(e2e_server *s);

typedef struct e2e_resp {
  long status;
  json_t *body; /* owned; NULL when the body is not JSON */
  char *text;   /* owned; the body as sent, NUL-terminated; NULL when empty */
} e2e_resp;
void e2e_resp_clear(e2e_resp *r);
/* The error code / field of a refusal body, or "" when absent. */
const char *e2e_err_code(const e2e_resp *r);
const char *e2e_err_field(const e2e_resp *r);

/* One request. curl may be NULL (a handle is made for the call). auth and
 * dpop are header values (NULL = none); body NULL = no body. */
int e2e_http(CURL *curl, const e2e_server *s, const char *method, const char *path,
             const char *auth, const char *dpop, const char *body, size_t body_len, e2e_resp *out);
/* An admin call; body is JSON text or NULL. */
int e2e_admin(const e2e_server *s, const char *method, const char *path, const char *body,
              e2e_resp *out);

typedef struct e2e_agent {
  char name[64];
  char id[256];
  wd_ident_key *key; /* owned */
} e2e_agent;
/* Registers name with the tier, makes a join token and enrolls a fresh
 * Ed25519 key. Returns 0 or -1. */
int e2e_agent_enroll(const e2e_server *s, const char *name, const char *tier, e2e_agent *a);
/* The common fixture: a fresh server with one enrolled agent, and its end
 * (the agent cleared, the server stopped by SIGTERM and its files removed;
 * -1 unless the server exited cleanly). */
int e2e_start_with_agent(e2e_server *s, const char *name, const char *tier, e2e_agent *a);
int e2e_stop_with_agent(e2e_server *s, e2e_agent *a);
void e2e_agent_clear(e2e_agent *a);

typedef struct e2e_task {
  char id[128];
  char *token; /* owned */
} e2e_task;
void e2e_task_clear(e2e_task *t);
/* POST /v1/tasks with a proof by key; body is the JSON text. Fills t on
 * 201. Returns the HTTP status (or -1). */
long e2e_task_open(const e2e_server *s, const wd_ident_key *key, const char *body, e2e_task *t,
                   e2e_resp *out);
/* A default task: tools fs and http, ceiling secret, the budget given. */
long e2e_task_open_simple(const e2e_server *s, const e2e_agent *a, long budget, long ttl,
                          e2e_task *t);
/* A request within a task: Authorization: DPoP token plus a fresh proof
 * by key for method and path. */
int e2e_task_call(CURL *curl, const e2e_server *s, const wd_ident_key *key, const char *token,
                  const char *method, const char *path, const char *body, e2e_resp *out);
/* POST /v1/authorize; returns the status; *decision gets "allow"/"deny"
 * (borrowed from out) when 200. */
long e2e_authorize(CURL *curl, const e2e_server *s, const wd_ident_key *key, const char *token,
                   const char *body, e2e_resp *out);
const char *e2e_decision(const e2e_resp *r);
/* 1 when the 200 answer lists the policy id among its determining policies. */
int e2e_has_policy(const e2e_resp *r, const char *id);

/* Counts the task's records of a type ("authz.decision"; NULL = all)
 * through GET /v1/audit/tasks/{id}; -1 on failure. */
long e2e_audit_count(const e2e_server *s, const char *task, const char *type);
/* GET /v1/audit/verify: 1 when ok, with *records; 0 when broken; -1. */
int e2e_audit_verify(const e2e_server *s, long *records);
/* Offline, on the stopped (or running) server's SQLite file: verifies the
 * chain and counts the records of a type (NULL = all). 0 when intact. */
int e2e_offline_verify(const e2e_server *s, const char *type, long *count);

/* Runs `warden ARGS` (a shell command line) against s with
 * WARDEN_ADMIN_TOKEN = token; its standard output into out (cap bytes,
 * cut there), the rest read and dropped. Returns the exit status, or -1
 * when it could not run. */
int e2e_cli(const e2e_server *s, const char *token, const char *args, char *out, size_t cap);

int64_t e2e_now(void);

#endif

/* SPDX-License-Identifier: Apache-2.0
 *
 * Shared plumbing of the client commands (`warden agent|task|authorize|
 * audit`): option parsing, the server URL and admin token, one HTTP call
 * over libcurl with JSON in and out, DPoP proofs made with the agent's key,
 * the agent-side files (key, enrolment record, task token), and the way
 * server refusals are printed and turned into exit statuses. This is
 * front-end code: it prints to stderr. It is not a general HTTP library;
 * the API it speaks is docs/api/README.md.
 */
#ifndef WD_CLI_CLIENT_H
#define WD_CLI_CLIENT_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <jansson.h>

#include "cli/cli_util.h"
#include "ident/wd_ident.h"

/* Exit statuses of every client command (documented in each --help). */
enum {
  CL_OK = 0,     /* done; ALLOW */
  CL_ERR = 1,    /* error: network, bad input, unexpected answer */
  CL_DENY = 2,   /* DENY, or the server refused the credentials (401) or the act (403) */
  CL_BROKEN = 3, /* audit verify: the chain is broken */
  CL_USAGE = 64
};

/* ---- the server ------------------------------------------------------------------- */

/* Where the server is; fill with cl_ctx_init. */
typedef struct cl_ctx {
  char url[1024];   /* base URL without a trailing '/' */
  char shown[1024]; /* url without any user:password@, for messages and files */
  int loopback;     /* the host is 127.0.0.0/8, ::1 or localhost */
  const char *cmd;  /* borrowed: "warden agent register", prefixes messages */
} cl_ctx;

/* Takes the URL from url_opt (may be NULL), else WARDEN_URL. Prints and
 * returns CL_USAGE when there is none, it is not http(s), or it is
 * http:// to a host other than loopback: every call carries a credential,
 * which must not cross a network in the clear (WARDEN_INSECURE_HTTP=1
 * allows it anyway). */
int cl_ctx_init(cl_ctx *c, const char *cmd, const char *url_opt);

/* 1 when host (no brackets) is localhost, an IPv4 address in 127.0.0.0/8,
 * ::1, or an IPv4-mapped IPv6 address in 127.0.0.0/8. */
int cl_host_is_loopback(const char *host);

/* A server answer. body is owned (json_decref); it is a JSON object
 * whenever cl_call returned 0 with a 2xx status, and may be NULL (not
 * JSON) for any other status. */
typedef struct cl_resp {
  long status;
  json_t *body;
  int unsent; /* the request never reached a server: no name, no connection, no TLS */
} cl_resp;

void cl_resp_clear(cl_resp *r);

/* One request: method and path (starting with '/') relative to the base
 * URL (https is verified against the system CAs, or WARDEN_CA_FILE), an
 * optional body (borrowed; sent as JSON), optional Authorization
 * and DPoP header values (borrowed). Returns 0 when an HTTP answer came
 * back (whatever its status; a 2xx one with a JSON object), else prints
 * why and returns CL_ERR; out->status is then still set when an answer
 * came back. */
int cl_call(const cl_ctx *c, const char *method, const char *path, const json_t *body,
            const char *authz, const char *dpop, cl_resp *out);

/* 1 when s holds a control character (below 0x20, or 0x7f): a
 * credential with one cannot go into an HTTP header. */
int cl_has_ctl(const char *s);

/* An admin call: the token comes from WARDEN_ADMIN_TOKEN only (argv is
 * visible to other users). Prints and returns CL_USAGE when it is unset
 * or holds a control character. */
int cl_admin(const cl_ctx *c, const char *method, const char *path, const json_t *body,
             cl_resp *out);

/* An agent call with a fresh DPoP proof signed by key (borrowed), with
 * htm = method and htu = base URL + path; when token is non-NULL it is
 * sent as "Authorization: DPoP <token>" and the proof carries its ath. */
int cl_agent(const cl_ctx *c, const wd_ident_key *key, const char *token, const char *method,
             const char *path, const json_t *body, cl_resp *out);

/* 1 for a 2xx answer. */
int cl_ok(const cl_resp *r);

/* Prints a non-2xx answer: the server's {"error":{code,message,field}} when
 * there is one, plus any determining policies of a 403. Returns the exit
 * status it maps to: CL_DENY for 401 and 403, else CL_ERR. */
int cl_fail(const cl_ctx *c, const cl_resp *r);

/* Owned JSON text of v (free with wd_free), or NULL when out of memory. */
char *cl_json_dumps(const json_t *v, size_t flags);

/* Prints v as indented JSON on stdout, with a newline. */
void cl_print_json(const json_t *v);

/* Flushes stdout and checks that everything written to it arrived: a
 * secret shown once (a token) or an export must not be lost behind a
 * zero exit status when stdout is a full disk or a closed pipe. Returns
 * CL_OK, or CL_ERR after printing "cannot write <what> to standard
 * output". */
int cl_flush_stdout(const char *cmd, const char *what);

/* Writes prefix, segment percent-encoded as one path segment (all of it
 * when it is "." or "..", which would otherwise be a dot segment), then
 * suffix (may be NULL) into out[0..cap). Returns
 * CL_USAGE after printing when it does not fit. */
int cl_path(const cl_ctx *c, char *out, size_t cap, const char *prefix, const char *segment,
            const char *suffix);

/* ---- agent-side files ------------------------------------------------------------- */

/* The default key file of an agent: $HOME/.config/warden/<name>.key.
 * Returns 0, or CL_ERR when HOME is unset or the path does not fit. */
int cl_default_key_path(const char *name, char *out, size_t cap);

/* The token file that goes with a key file: F with ".key" replaced by
 * ".token" (F + ".token" when F does not end in ".key"). */
int cl_token_path(const char *key_path, char *out, size_t cap);

/* Loads a PEM key file (private or public). Like every file of the
 * agent's secrets it is refused when what it names (a link is followed)
 * is not a regular file, belongs to another user than this one or root,
 * or gives group or other users any access (mode & 077), as ssh refuses
 * an exposed private key.
 * Prints and returns CL_ERR on failure; owned *out (wd_ident_key_free). */
int cl_read_key_file(const cl_ctx *c, const char *path, wd_ident_key **out);

/* Loads the agent key named by key_opt, or by the default path of
 * agent_opt, or by WARDEN_AGENT_KEY. Prints and returns CL_USAGE when none
 * is given, CL_ERR when it cannot be read. Owned *out (wd_ident_key_free);
 * path (cap bytes) receives the file used. */
int cl_load_agent_key(const cl_ctx *c, const char *key_opt, const char *agent_opt,
                      wd_ident_key **out, char *path, size_t cap);

/* Writes text and a newline to path with mode 0600, atomically (temporary
 * file in the same directory, fsync, rename). Returns 0 or CL_ERR after
 * printing. */
int cl_write_secret(const cl_ctx *c, const char *path, const char *text);

/* Reads a token file (surrounding whitespace trimmed), with the checks of
 * cl_read_key_file. Owned *out (wd_ident_secret_free). Returns 0, or
 * CL_USAGE (a control character within the token) or CL_ERR after
 * printing. */
int cl_read_token(const cl_ctx *c, const char *path, char **out);

/* The task_id claim of a task token, read without verifying it (the
 * server verifies; this only saves the user from retyping the id). */
int cl_token_task_id(const char *token, char *out, size_t cap);

/* ---- shared printing ------------------------------------------------------------- */

/* Prints "  policy <id>: <reason>" for each element of a "policies" array
 * and "  error ..." for each element of an "errors" array of obj. */
void cl_print_policies(FILE *f, const json_t *obj);

/* Strings of a JSON value for display: a string as is, else compact JSON.
 * Writes into out[0..cap), truncating with "...". */
void cl_json_text(const json_t *v, char *out, size_t cap);

/* A time for display: an integer (Unix seconds) as UTC RFC 3339, anything
 * else as cl_json_text does. */
void cl_time_text(const json_t *v, char *out, size_t cap);

/* The opening every subcommand family shares: with no subcommand, or
 * --help / -h, prints usage (to stderr when the subcommand is missing)
 * and returns 1 with the exit status in *rc; else 0. */
int cl_family_help(int argc, char **argv, void (*usage)(FILE *out), int *rc);

/* cli_parse_opts for one subcommand's options, and what every family does
 * with its outcome: returns 1 when the command is over (a usage error, or
 * --help, printed to stdout), with the exit status in *rc; else 0. opts
 * may be the family's whole table: takes names the options this
 * subcommand uses (see cli_only_opts), or is NULL for all of them. */
int cl_parse_sub(const char *cmd, int argc, char **argv, const cli_opt *opts, const char *takes,
                 const char **pos, size_t max_pos, size_t *npos, void (*usage)(FILE *out), int *rc);

/* 1 when s is a record hash as the log writes it: 64 lowercase hex digits. */
int cl_is_hash(const char *s);
/* Parses SEQ:HASH, a record as verify prints it to keep (seq from 1 to
 * 2^53, hash as cl_is_hash): 0, or -1 when s is not that. */
int cl_seq_hash(const char *s, long long *seq, char hash[65]);

/* A subcommand of a family and the options it uses (cl_parse_sub's takes). */
typedef struct cl_sub {
  const char *name, *takes;
} cl_sub;

/* The options subcommand sub of family takes, from subs[0..n); NULL, after
 * saying it is unknown and printing the family's usage, for none. */
const char *cl_sub_takes(const char *family, const cl_sub *subs, size_t n, const char *sub,
                         void (*usage)(FILE *out));

/* ---- the evidence log as JSON lines (client_audit_export.c) ------------------------ */

/* Writes the log from record from (0 or 1: all) to stdout as JSON lines:
 * from the SQLite file db when it is non-NULL, else paged from the server
 * at url (NULL = WARDEN_URL). Returns an exit status. */
int cl_audit_export(const char *cmd, const char *url, const char *db, int64_t from);
/* Checks an exported file (or a piece of one, which must follow anchor
 * when given: SEQ:HASH, or a bare HASH whose seq is then unknown) and
 * prints the result, the last hash and the anchor for the next piece.
 * Exit status: 0 intact, CL_BROKEN broken, CL_ERR unreadable, CL_USAGE a
 * bad anchor. */
int cl_audit_verify_file(const char *cmd, const char *path, const char *anchor);
/* 1 when a record object (as the API and an offline trace give it) holds
 * every field, is in canonical form and matches its own hash. Its links
 * to the records around it are verify's to check. */
int cl_audit_record_intact(const json_t *o);
/* Prints how a whole log checked out (records, and where it breaks, or
 * the hash to keep elsewhere): CL_OK intact, CL_BROKEN broken. */
int cl_verify_report(int64_t records, int64_t bad_seq, const char *reason, const char *last_hash);

#endif

/* SPDX-License-Identifier: Apache-2.0
 *
 * `warden admin rotate-token` (through a running server, with the current
 * token) and `warden admin reset-token` (offline, on the data directory
 * of a stopped server, for a lost token). Either prints the new token
 * alone on stdout, once, so a script can capture it. `warden admin
 * backup` copies a data directory, running server or not.
 */
#define _POSIX_C_SOURCE 200809L
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_util.h"
#include "cli/client.h"
#include "gov/wd_gov.h"
#include "warden/err.h"

static void usage(FILE *out) {
  fputs("usage: warden admin <subcommand> [options]\n"
        "\n"
        "  rotate-token [--reason R] [--url URL]\n"
        "        replace the admin token through the server (WARDEN_ADMIN_TOKEN\n"
        "        holds the current one); the old token is refused from then on\n"
        "  reset-token --data DIR\n"
        "        for a lost token: with the server stopped, write a new token\n"
        "        into DIR's state, recorded in the evidence log\n"
        "  backup --data DIR --to NEWDIR\n"
        "        copy DIR's state (the database as of one moment, then the\n"
        "        signing keys) into NEWDIR, made 0700, while the server runs or\n"
        "        not; then verify the copied evidence log. Start a server on\n"
        "        NEWDIR (or a copy of it) to restore\n"
        "\n"
        "The new token is printed once on stdout; only its hash is kept.\n"
        "Exit status: 0 ok, 2 refused (HTTP 401/403), 1 error, 3 the copied\n"
        "log does not verify, 64 usage.\n",
        out);
}

/* The new token is already in force when it reaches here, and only its
 * hash is kept: if it cannot be shown, say so loudly and how to recover
 * (reset-token on the stopped server), never exit 0. */
static int put_token(const char *cmd, const char *tok, const char *data) {
  if (!tok) {
    fprintf(stderr, "%s: the answer has no token\n", cmd);
    return CL_ERR;
  }
  puts(tok);
  if (cl_flush_stdout(cmd, "the new admin token") != CL_OK) {
    if (data)
      fprintf(stderr,
              "%s: the new admin token is lost; run `warden admin reset-token --data %s` "
              "again\n",
              cmd, data);
    else
      fprintf(stderr,
              "%s: the new admin token is lost and the old one no longer works; stop the server "
              "and run `warden admin reset-token --data DIR` on its data directory to make "
              "another\n",
              cmd);
    return CL_ERR;
  }
  fprintf(stderr, "warden: new admin token (shown once); the old one no longer works\n");
  return CL_OK;
}

static int do_rotate(const char *cmd, const char *url, const char *reason) {
  cl_ctx c;
  int rc = cl_ctx_init(&c, cmd, url);
  if (rc != 0) return rc;
  json_t *body = json_object();
  if (!body || (reason && json_object_set_new(body, "reason", json_string(reason)) != 0)) {
    json_decref(body);
    fprintf(stderr, "%s: bad --reason (not UTF-8?)\n", cmd);
    return CL_USAGE;
  }
  cl_resp r;
  rc = cl_admin(&c, "POST", "/v1/admin/token", body, &r);
  json_decref(body);
  if (rc != 0) return rc;
  rc = cl_ok(&r) ? put_token(cmd, json_string_value(json_object_get(r.body, "token")), NULL)
                 : cl_fail(&c, &r);
  cl_resp_clear(&r);
  return rc;
}

static int do_reset(const char *cmd, const char *data) {
  if (!data || !*data) {
    fprintf(stderr, "%s: give --data DIR (the stopped server's data directory)\n", cmd);
    return CL_USAGE;
  }
  char by[300];
  const struct passwd *pw = getpwuid(geteuid());
  (void)snprintf(by, sizeof by, "%s (uid %ld)", pw && pw->pw_name ? pw->pw_name : "?",
                 (long)geteuid());
  char err[512] = "", *tok = NULL;
  int rc = wd_gov_admin_reset(data, by, &tok, err, sizeof err);
  if (rc) {
    fprintf(stderr, "%s: %s\n", cmd, *err ? err : wd_strerror(rc));
    return CL_ERR;
  }
  rc = put_token(cmd, tok, data);
  wd_ident_secret_free(tok);
  return rc;
}

static int do_backup(const char *cmd, const char *data, const char *to) {
  if (!data || !*data || !to || !*to) {
    fprintf(stderr, "%s: give --data DIR and --to NEWDIR\n", cmd);
    return CL_USAGE;
  }
  char err[512] = "";
  wd_gov_backup_report rep;
  int rc = wd_gov_backup(data, to, &rep, err, sizeof err);
  if (rc) {
    fprintf(stderr, "%s: %s\n", cmd, *err ? err : wd_strerror(rc));
    return CL_ERR;
  }
  printf("backup: %s (warden.db and %u signing key%s)\n", to, rep.keys, rep.keys == 1 ? "" : "s");
  rc = cl_verify_report(rep.records, rep.bad_seq, rep.reason, rep.last_hash);
  if (rc == CL_BROKEN)
    fprintf(stderr, "%s: the copied evidence log does not verify, as the original would not\n",
            cmd);
  int frc = cl_flush_stdout(cmd, "the backup's report");
  if (frc != CL_OK)
    fprintf(stderr, "%s: the copy in %s is complete; only its report was lost\n", cmd, to);
  return frc != CL_OK ? frc : rc;
}

int wd_cli_admin(int argc, char **argv) {
  int hrc = 0;
  if (cl_family_help(argc, argv, usage, &hrc)) return hrc;
  const char *sub = argv[1], *url = NULL, *data = NULL, *reason = NULL, *to = NULL;
  char cmd[64];
  (void)snprintf(cmd, sizeof cmd, "warden admin %s", sub);
  const cli_opt opts[] = {
      CLI_ARG("--url", NULL, &url),
      CLI_ARG("--data", NULL, &data),
      CLI_ARG("--reason", NULL, &reason),
      CLI_ARG("--to", NULL, &to),
      CLI_END,
  };
  const char *pos[1] = {NULL};
  size_t npos = 0;
  int rc = 0;
  /* Each subcommand refuses the other's options below, by name. */
  if (cl_parse_sub(cmd, argc - 1, argv + 1, opts, NULL, pos, 1, &npos, usage, &rc)) return rc;
  if (npos) {
    fprintf(stderr, "%s: takes no argument\n", cmd);
    return CL_USAGE;
  }
  if (strcmp(sub, "backup") == 0) {
    if (url || reason) {
      fprintf(stderr, "%s: takes only --data DIR and --to NEWDIR\n", cmd);
      return CL_USAGE;
    }
    return do_backup(cmd, data, to);
  }
  if (to) {
    fprintf(stderr, "%s: --to is for backup\n", cmd);
    return CL_USAGE;
  }
  if (strcmp(sub, "rotate-token") == 0) {
    if (data) {
      fprintf(stderr, "%s: --data is for reset-token\n", cmd);
      return CL_USAGE;
    }
    return do_rotate(cmd, url, reason);
  }
  if (strcmp(sub, "reset-token") == 0) {
    if (url || reason) {
      fprintf(stderr, "%s: takes only --data DIR\n", cmd);
      return CL_USAGE;
    }
    return do_reset(cmd, data);
  }
  fprintf(stderr, "warden admin: unknown subcommand '%s'\n", sub);
  usage(stderr);
  return CL_USAGE;
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * `warden task ...` and `warden authorize`: the agent side of a task. The
 * agent's key signs a fresh DPoP proof for every request (htm, htu, and
 * ath over the task token), the task token lives in a 0600 file next to
 * the key, and the task id is read back from the token so that a script
 * does not have to carry it around. An admin may end or show any task
 * with --admin (WARDEN_ADMIN_TOKEN).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_util.h"
#include "cli/client.h"
#include "util/wd_alloc.h"
#include "warden/err.h"

#define AGENT_HELP                                                                                 \
  "  --agent-key F     the agent's key file (or --agent NAME for\n"                                \
  "                    ~/.config/warden/NAME.key, or $WARDEN_AGENT_KEY)\n"                         \
  "  --token-file F    the task token (default: the key file with .token\n"                        \
  "                    for .key); written 0600\n"                                                  \
  "  --url URL         the server (default: $WARDEN_URL; an https server\n"                        \
  "                    with a private CA: WARDEN_CA_FILE=ca.pem)\n"

#define EXIT_HELP                                                                                  \
  "Exit status: 0 ok or ALLOW, 2 DENY or refused (HTTP 401/403), 1 error, 64 usage.\n"

static void task_usage(FILE *out) {
  fputs("usage: warden task <subcommand> [options]\n"
        "\n"
        "  open --intent I --purpose P --tools a,b --classification C\n"
        "       [--on-behalf-of U] [--ttl S] [--budget N] [--print-token] [--json]\n"
        "                      open a task (a task.open decision); prints the task id\n"
        "                      and saves the token\n"
        "  renew [TASK]        a fresh task.renew decision and a new token (the old one dies)\n"
        "  intent [TASK] --intent I [--purpose P] [--tools a,b]\n"
        "                      change the intent: the current token is revoked at\n"
        "                      once, a new one is saved if task.change_intent allows;\n"
        "                      a stated purpose or tools list replaces the task's\n"
        "  complete|fail|cancel [TASK] [--reason R]\n"
        "                      end the task; its tokens are revoked\n"
        "  show [TASK]         print the task\n"
        "\n"
        "TASK defaults to the task of the saved token. With --admin, end or show\n"
        "any TASK with WARDEN_ADMIN_TOKEN instead of the agent's credentials.\n"
        "\n" AGENT_HELP EXIT_HELP,
        out);
}

static void authorize_usage(FILE *out) {
  fputs("usage: warden authorize --tool T --operation O [--resource Data::id]\n"
        "         [--args JSON] [--classification C] [--destination D]\n"
        "         [--environment E] [--json]\n"
        "\n"
        "Asks the server whether the task may make this call (POST /v1/authorize)\n"
        "and prints ALLOW or DENY with the determining policies and their reasons,\n"
        "the policy-set version and the decision id.\n"
        "  --classification C  public|internal|confidential|secret (default: the\n"
        "                      task's ceiling)\n"
        "  --destination D     local, or the host the call sends to (default:\n"
        "                      unspecified, which policies treat as external)\n"
        "\n" AGENT_HELP EXIT_HELP,
        out);
}

typedef struct task_args {
  const char *url, *key, *agent, *token_file;
  const char *intent, *purpose, *tools, *classification, *obo, *ttl, *budget, *reason;
  const char *tool, *operation, *resource, *args, *destination, *environment;
  int print_token, json, admin;
} task_args;

/* The agent's credentials for one command; release with creds_clear. */
typedef struct creds {
  wd_ident_key *key;
  char key_path[4096];
  char token_path[4096];
  char *token; /* NULL before a task is open */
  char task_id[256];
} creds;

static void creds_clear(creds *k) {
  wd_ident_key_free(k->key);
  wd_ident_secret_free(k->token);
  memset(k, 0, sizeof *k);
}

static int load_creds(const cl_ctx *c, const task_args *a, int want_token, creds *k) {
  memset(k, 0, sizeof *k);
  int rc = cl_load_agent_key(c, a->key, a->agent, &k->key, k->key_path, sizeof k->key_path);
  if (rc != 0) return rc;
  if (a->token_file) {
    int n = snprintf(k->token_path, sizeof k->token_path, "%s", a->token_file);
    if (n < 0 || (size_t)n >= sizeof k->token_path) {
      fprintf(stderr, "%s: --token-file path too long (at most %zu bytes)\n", c->cmd,
              sizeof k->token_path - 1);
      return CL_USAGE;
    }
  } else if (cl_token_path(k->key_path, k->token_path, sizeof k->token_path) != 0) {
    fprintf(stderr, "%s: key path too long\n", c->cmd);
    return CL_USAGE;
  }
  if (!want_token) return 0;
  rc = cl_read_token(c, k->token_path, &k->token);
  if (rc != 0) return rc;
  if (cl_token_task_id(k->token, k->task_id, sizeof k->task_id) != 0) {
    fprintf(stderr, "%s: %s does not hold a task token\n", c->cmd, k->token_path);
    return CL_ERR;
  }
  return 0;
}

/* "a,b" → ["a","b"]; empty items are refused. Owned result or NULL. */
static json_t *split_list(const cl_ctx *c, const char *s) {
  json_t *arr = json_array();
  if (!arr) return NULL;
  const char *p = s;
  for (;;) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    if (n == 0 || json_array_append_new(arr, json_stringn(p, n)) != 0) {
      fprintf(stderr, "%s: bad list '%s' (want a,b,c)\n", c->cmd, s);
      json_decref(arr);
      return NULL;
    }
    if (!e) break;
    p = e + 1;
  }
  return arr;
}

/* Sets key to a positive integer parsed from s (when s is non-NULL). */
static int set_count(const cl_ctx *c, json_t *o, const char *key, const char *opt, const char *s) {
  if (!s) return 0;
  long long v = 0;
  if (cli_parse_count(s, 1, &v) != 0) {
    fprintf(stderr, "%s: %s wants a positive integer, got '%s'\n", c->cmd, opt, s);
    return CL_USAGE;
  }
  return json_object_set_new(o, key, json_integer((json_int_t)v)) == 0 ? 0 : CL_ERR;
}

static int set_str(const cl_ctx *c, json_t *o, const char *key, const char *s) {
  if (!s) return 0;
  if (json_object_set_new(o, key, json_string(s)) != 0) {
    fprintf(stderr, "%s: %s is not valid UTF-8\n", c->cmd, key);
    return CL_USAGE;
  }
  return 0;
}

/* Saves the token of a 2xx answer ({token, expires_at, ...}) and reports. */
static int save_token(const cl_ctx *c, const task_args *a, creds *k, const json_t *body,
                      const char *what) {
  const char *tok = json_string_value(json_object_get(body, "token"));
  if (!tok) {
    fprintf(stderr, "%s: the answer has no token\n", c->cmd);
    return CL_ERR;
  }
  int rc = cl_write_secret(c, k->token_path, tok);
  if (rc != 0) {
    /* The server has issued it (and revoked any token before it): showing
     * it is the only way left not to lose it. */
    puts(tok);
    if (cl_flush_stdout(c->cmd, "the task token") == CL_OK)
      fprintf(stderr,
              "%s: %s, but its token could not be saved; it is printed on standard output "
              "instead: write it to %s (mode 0600) yourself\n",
              c->cmd, what, k->token_path);
    else
      fprintf(stderr, "%s: %s, but its token is lost; end the task and open another\n", c->cmd,
              what);
    return CL_ERR;
  }
  char exp[64], did[128];
  cl_time_text(json_object_get(body, "expires_at"), exp, sizeof exp);
  cl_json_text(json_object_get(body, "decision_id"), did, sizeof did);
  fprintf(stderr, "warden: %s; token saved to %s (expires %s%s%s)\n", what, k->token_path,
          *exp ? exp : "?", *did ? ", decision " : "", did);
  /* Asked for on standard output (a script reads it there): not written
   * is a failure, though the saved file still holds it. */
  if (a->print_token) {
    puts(tok);
    if (cl_flush_stdout(c->cmd, "the task token") != CL_OK) return CL_ERR;
  }
  return 0;
}

static int do_open(const cl_ctx *c, const task_args *a) {
  if (!a->intent || !a->purpose || !a->tools || !a->classification) {
    fprintf(stderr, "%s: --intent, --purpose, --tools and --classification are required\n", c->cmd);
    return CL_USAGE;
  }
  creds k;
  int rc = load_creds(c, a, 0, &k);
  json_t *body = NULL, *tools = NULL;
  cl_resp r = {0, NULL, 0};
  if (rc != 0) goto out;
  rc = CL_USAGE;
  if (!(tools = split_list(c, a->tools))) goto out;
  if (!(body = json_object())) goto out;
  if (set_str(c, body, "intent", a->intent) || set_str(c, body, "purpose", a->purpose) ||
      json_object_set(body, "tools", tools) != 0 ||
      set_str(c, body, "classification_ceiling", a->classification) ||
      set_str(c, body, "on_behalf_of", a->obo) ||
      set_count(c, body, "ttl_seconds", "--ttl", a->ttl) ||
      set_count(c, body, "budget", "--budget", a->budget))
    goto out;
  rc = cl_agent(c, k.key, NULL, "POST", "/v1/tasks", body, &r);
  if (rc != 0) goto out;
  if (!cl_ok(&r)) {
    rc = cl_fail(c, &r);
    goto out;
  }
  const char *id = json_string_value(json_object_get(r.body, "task_id"));
  if (a->json)
    cl_print_json(r.body);
  else
    printf("%s\n", id ? id : "");
  char what[400];
  (void)snprintf(what, sizeof what, "task %s opened", id ? id : "?");
  rc = save_token(c, a, &k, r.body, what);
out:
  cl_resp_clear(&r);
  json_decref(body);
  json_decref(tools);
  creds_clear(&k);
  return rc;
}

/* renew, intent, complete, fail, cancel and show: one call on /v1/tasks/ID. */
static int do_task_call(const cl_ctx *c, const char *sub, const char *task, const task_args *a) {
  int is_show = strcmp(sub, "show") == 0;
  int is_end =
      strcmp(sub, "complete") == 0 || strcmp(sub, "fail") == 0 || strcmp(sub, "cancel") == 0;
  int new_token = strcmp(sub, "renew") == 0 || strcmp(sub, "intent") == 0;
  if (a->admin && !task) {
    fprintf(stderr, "%s: with --admin, name the TASK\n", c->cmd);
    return CL_USAGE;
  }
  if (strcmp(sub, "intent") == 0 && !a->intent) {
    fprintf(stderr, "%s: --intent is required\n", c->cmd);
    return CL_USAGE;
  }
  creds k;
  memset(&k, 0, sizeof k);
  json_t *body = NULL;
  cl_resp r = {0, NULL, 0};
  int rc = 0;
  if (!a->admin && (rc = load_creds(c, a, 1, &k)) != 0) goto out;
  if (!task) task = k.task_id;
  char path[1024], suffix[32];
  (void)snprintf(suffix, sizeof suffix, "%s%s", is_show ? "" : "/", is_show ? "" : sub);
  if ((rc = cl_path(c, path, sizeof path, "/v1/tasks/", task, suffix)) != 0) goto out;
  if (!is_show) {
    rc = CL_USAGE;
    if (!(body = json_object())) goto out;
    if (set_str(c, body, "reason", is_end ? a->reason : NULL)) goto out;
    if (strcmp(sub, "intent") == 0) {
      json_t *tools = NULL;
      if (a->tools && !(tools = split_list(c, a->tools))) goto out;
      if (tools && json_object_set_new(body, "tools", tools) != 0) goto out;
      if (set_str(c, body, "intent", a->intent) || set_str(c, body, "purpose", a->purpose))
        goto out;
    }
  }
  const char *method = is_show ? "GET" : "POST";
  rc = a->admin ? cl_admin(c, method, path, body, &r)
                : cl_agent(c, k.key, k.token, method, path, body, &r);
  if (rc != 0) goto out;
  if (!cl_ok(&r)) {
    rc = cl_fail(c, &r);
    if (strcmp(sub, "intent") == 0 && r.status == 403)
      fprintf(stderr, "warden: the old token of task %s is revoked\n", task);
    goto out;
  }
  if (new_token) {
    char what[400];
    (void)snprintf(what, sizeof what, "task %s %s", task,
                   strcmp(sub, "renew") == 0 ? "renewed" : "has a new intent");
    rc = save_token(c, a, &k, r.body, what);
    if (a->json) cl_print_json(r.body);
  } else if (is_end && !a->json) {
    char st[64];
    cl_json_text(json_object_get(r.body, "status"), st, sizeof st);
    printf("%s %s\n", task, *st ? st : sub);
  } else {
    cl_print_json(r.body);
  }
out:
  cl_resp_clear(&r);
  json_decref(body);
  creds_clear(&k);
  return rc;
}

#define AGENT_OPTS "--url --agent-key --agent --token-file "

/* cl_parse_sub over the options of the task and authorize commands, of
 * which this one uses takes. */
static int task_opts(const char *cmd, int argc, char **argv, const char *takes, task_args *a,
                     const char **pos, size_t *npos, void (*usage)(FILE *out), int *rc) {
  const cli_opt opts[] = {
      CLI_ARG("--url", NULL, &a->url),
      CLI_ARG("--agent-key", NULL, &a->key),
      CLI_ARG("--agent", NULL, &a->agent),
      CLI_ARG("--token-file", NULL, &a->token_file),
      CLI_ARG("--intent", NULL, &a->intent),
      CLI_ARG("--purpose", NULL, &a->purpose),
      CLI_ARG("--tools", NULL, &a->tools),
      CLI_ARG("--classification", NULL, &a->classification),
      CLI_ARG("--on-behalf-of", NULL, &a->obo),
      CLI_ARG("--ttl", NULL, &a->ttl),
      CLI_ARG("--budget", NULL, &a->budget),
      CLI_ARG("--reason", NULL, &a->reason),
      CLI_ARG("--tool", NULL, &a->tool),
      CLI_ARG("--operation", NULL, &a->operation),
      CLI_ARG("--resource", NULL, &a->resource),
      CLI_ARG("--args", NULL, &a->args),
      CLI_ARG("--destination", NULL, &a->destination),
      CLI_ARG("--environment", NULL, &a->environment),
      CLI_FLAG("--print-token", NULL, &a->print_token),
      CLI_FLAG("--json", NULL, &a->json),
      CLI_FLAG("--admin", NULL, &a->admin),
      CLI_END,
  };
  if (cl_parse_sub(cmd, argc, argv, opts, takes, pos, 1, npos, usage, rc)) return 1;
  /* An admin acts with WARDEN_ADMIN_TOKEN alone. */
  if (a->admin && (a->key || a->agent || a->token_file)) {
    fprintf(stderr, "%s: --admin acts with WARDEN_ADMIN_TOKEN, not the agent's files\n", cmd);
    *rc = CL_USAGE;
    return 1;
  }
  return 0;
}

int wd_cli_task(int argc, char **argv) {
  int hrc = 0;
  if (cl_family_help(argc, argv, task_usage, &hrc)) return hrc;
  const char *sub = argv[1];
  /* Each subcommand and the options it uses; any other is refused. */
  static const cl_sub subs[] = {
      {"open", AGENT_OPTS "--intent --purpose --tools --classification --on-behalf-of --ttl "
                          "--budget --print-token --json"},
      {"renew", AGENT_OPTS "--print-token --json"},
      {"intent", AGENT_OPTS "--intent --purpose --tools --print-token --json"},
      {"complete", AGENT_OPTS "--reason --admin --json"},
      {"fail", AGENT_OPTS "--reason --admin --json"},
      {"cancel", AGENT_OPTS "--reason --admin --json"},
      {"show", AGENT_OPTS "--admin"},
  };
  const char *takes = cl_sub_takes("task", subs, sizeof subs / sizeof subs[0], sub, task_usage);
  if (!takes) return CL_USAGE;
  char cmd[64];
  (void)snprintf(cmd, sizeof cmd, "warden task %s", sub);
  task_args a;
  memset(&a, 0, sizeof a);
  const char *pos[1] = {NULL};
  size_t npos = 0;
  int rc = 0;
  if (task_opts(cmd, argc - 1, argv + 1, takes, &a, pos, &npos, task_usage, &rc)) return rc;
  cl_ctx c;
  if ((rc = cl_ctx_init(&c, cmd, a.url)) != 0) return rc;
  if (strcmp(sub, "open") == 0) {
    if (npos) {
      fprintf(stderr, "%s: takes no TASK\n", cmd);
      return CL_USAGE;
    }
    return do_open(&c, &a);
  }
  return do_task_call(&c, sub, npos ? pos[0] : NULL, &a);
}

/* ---- authorize ------------------------------------------------------------------ */

/* "Type::id" or Type::"id" → {"type","id"}; the last "::" splits, so
 * namespaced types work. */
static json_t *parse_resource(const cl_ctx *c, const char *s) {
  const char *sep = NULL;
  for (const char *p = strstr(s, "::"); p; p = strstr(p + 2, "::")) {
    if (p[2] == '"') {
      sep = p;
      break;
    }
    sep = p;
  }
  if (!sep || sep == s || sep[2] == '\0') {
    fprintf(stderr, "%s: --resource wants Type::id, got '%s'\n", c->cmd, s);
    return NULL;
  }
  const char *id = sep + 2;
  size_t idn = strlen(id);
  if (idn >= 2 && id[0] == '"' && id[idn - 1] == '"') {
    id++;
    idn -= 2;
  }
  json_t *res = json_pack("{s:s%, s:s%}", "type", s, (size_t)(sep - s), "id", id, idn);
  if (!res) fprintf(stderr, "%s: --resource is not valid UTF-8\n", c->cmd);
  return res;
}

int wd_cli_authorize(int argc, char **argv) {
  const char *cmd = "warden authorize";
  task_args a;
  memset(&a, 0, sizeof a);
  const char *pos[1] = {NULL};
  size_t npos = 0;
  int rc = 0;
  static const char takes[] = AGENT_OPTS "--tool --operation --resource --args --classification "
                                         "--destination --environment --json";
  if (task_opts(cmd, argc, argv, takes, &a, pos, &npos, authorize_usage, &rc)) return rc;
  if (npos) {
    fprintf(stderr, "%s: unexpected argument '%s'\n", cmd, pos[0]);
    return CL_USAGE;
  }
  if (!a.tool || !a.operation) {
    fprintf(stderr, "%s: --tool and --operation are required\n", cmd);
    authorize_usage(stderr);
    return CL_USAGE;
  }
  cl_ctx c;
  if ((rc = cl_ctx_init(&c, cmd, a.url)) != 0) return rc;
  creds k;
  json_t *body = NULL;
  cl_resp r = {0, NULL, 0};
  if ((rc = load_creds(&c, &a, 1, &k)) != 0) goto out;
  rc = CL_USAGE;
  if (!(body = json_object())) goto out;
  if (set_str(&c, body, "tool", a.tool) || set_str(&c, body, "operation", a.operation) ||
      set_str(&c, body, "classification", a.classification) ||
      set_str(&c, body, "destination", a.destination) ||
      set_str(&c, body, "environment", a.environment))
    goto out;
  if (a.resource) {
    json_t *res = parse_resource(&c, a.resource);
    if (!res || json_object_set_new(body, "resource", res) != 0) goto out;
  }
  if (a.args) {
    json_error_t je;
    json_t *args = json_loads(a.args, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(args)) {
      fprintf(stderr, "%s: --args wants a JSON object: %s\n", cmd,
              args ? "not an object" : je.text);
      json_decref(args);
      goto out;
    }
    if (json_object_set_new(body, "args", args) != 0) goto out;
  }
  rc = cl_agent(&c, k.key, k.token, "POST", "/v1/authorize", body, &r);
  if (rc != 0) goto out;
  if (!cl_ok(&r)) {
    rc = cl_fail(&c, &r);
    goto out;
  }
  const char *d = json_string_value(json_object_get(r.body, "decision"));
  int allow = d && strcmp(d, "allow") == 0;
  if (a.json) {
    cl_print_json(r.body);
  } else {
    char did[128], ver[64];
    cl_json_text(json_object_get(r.body, "decision_id"), did, sizeof did);
    cl_json_text(json_object_get(r.body, "policy_version"), ver, sizeof ver);
    printf("%s %s.%s\n", allow ? "ALLOW" : "DENY", a.tool, a.operation);
    cl_print_policies(stdout, r.body);
    if (!allow && json_array_size(json_object_get(r.body, "policies")) == 0)
      printf("  no policy permits this call (default deny)\n");
    printf("  decision %s, policy version %s\n", *did ? did : "?", *ver ? ver : "?");
  }
  /* Anything but an explicit allow is a deny: fail closed on odd answers. */
  rc = allow ? CL_OK : CL_DENY;
out:
  cl_resp_clear(&r);
  json_decref(body);
  creds_clear(&k);
  return rc;
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * `warden agent ...`: the admin's agent commands (register, list, show,
 * tasks, quarantine, release, retire, join-token) and the agent side of
 * enrolment (enroll: make a key, keep it in a 0600 file, present it with
 * the join token). Each maps to one route of docs/api/README.md.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_util.h"
#include "cli/client.h"
#include "gov/wd_gov.h"
#include "util/wd_alloc.h"
#include "util/wd_limits.h"
#include "warden/err.h"

#define COMMON_HELP                                                                                \
  "  --url URL       the server (default: $WARDEN_URL; an https server with a\n"                   \
  "                  private CA: WARDEN_CA_FILE=ca.pem)\n"                                         \
  "Admin commands read the admin token from WARDEN_ADMIN_TOKEN (never a flag).\n"                  \
  "Exit status: 0 ok, 2 refused or denied (HTTP 401/403), 1 error, 64 usage.\n"

static void usage(FILE *out) {
  fputs("usage: warden agent <subcommand> [options]\n"
        "\n"
        "admin (WARDEN_ADMIN_TOKEN):\n"
        "  register NAME --owner O --tier read_only|standard|high_impact --env E\n"
        "           [--attr k=v]... [--attr-json k=JSON]...\n"
        "                                register an agent; --attr sets a string\n"
        "                                (--attr team=payments), --attr-json any JSON\n"
        "                                value, e.g. a list: --attr-json\n"
        "                                'team_members=[\"bob\",\"carol\"]' (numbers\n"
        "                                must be integers)\n"
        "  list [--json] [--page-size N] list every agent, asking the server for N at a\n"
        "                                time (default and most: 10000)\n"
        "  show NAME                     print one agent\n"
        "  tasks NAME [--json]           list its open tasks (end one with\n"
        "                                `warden task cancel --admin ID`)\n"
        "  quarantine NAME --reason R    revoke all its tasks and refuse new ones\n"
        "  release NAME --reason R       lift a quarantine\n"
        "  retire NAME [--reason R]      revoke its tasks for good\n"
        "  join-token NAME [--ttl S]     print a one-time enrolment token\n"
        "\n"
        "agent side:\n"
        "  enroll NAME [--key-file F] [--alg ed25519|p256] [--reuse-key]\n"
        "           make a key (kept 0600 in F, default ~/.config/warden/NAME.key),\n"
        "           enrol it with the join token in $WARDEN_JOIN_TOKEN, and save the\n"
        "           agent id next to it in F.json (--join-token T works too, but\n"
        "           other local users can read it in the process list)\n"
        "\n" COMMON_HELP,
        out);
}

typedef struct agent_args {
  const char *url, *owner, *tier, *env, *reason, *ttl, *join, *key_file, *alg, *page_size;
  const char *attrs[WD_LIMIT_CLI_MULTI], *attrs_json[WD_LIMIT_CLI_MULTI];
  size_t nattrs, nattrs_json;
  int json, reuse;
} agent_args;

/* ---- admin ------------------------------------------------------------------ */

static void show_agent_row(const json_t *a) {
  const char *f[] = {"name", "status", "risk_tier", "environment", "owner", "id"};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
    char v[256];
    cl_json_text(json_object_get(a, f[i]), v, sizeof v);
    printf(i ? "  %-12s" : "%-20s", *v ? v : "-");
  }
  putchar('\n');
}

/* One --attr (as_json 0: the value is a string) or --attr-json (the
 * value is JSON text) into attrs. Prints and returns CL_USAGE when it is
 * malformed or names a key given before. */
static int add_attr(const cl_ctx *c, json_t *attrs, const char *arg, int as_json) {
  const char *opt = as_json ? "--attr-json" : "--attr";
  const char *eq = strchr(arg, '=');
  if (!eq || eq == arg) {
    fprintf(stderr, "%s: %s wants key=%s, got '%s'\n", c->cmd, opt, as_json ? "JSON" : "value",
            arg);
    return CL_USAGE;
  }
  char key[256];
  size_t kn = (size_t)(eq - arg);
  if (kn >= sizeof key) {
    fprintf(stderr, "%s: attribute name too long\n", c->cmd);
    return CL_USAGE;
  }
  memcpy(key, arg, kn);
  key[kn] = '\0';
  /* A second value would silently replace the first. */
  if (json_object_get(attrs, key)) {
    fprintf(stderr, "%s: attribute %s given twice\n", c->cmd, key);
    return CL_USAGE;
  }
  /* --attr makes a string, which the server refuses for a list: say
   * here how to give one. */
  if (!as_json && strcmp(key, "team_members") == 0) {
    fprintf(stderr,
            "%s: team_members is a list of users: give it as JSON, e.g. --attr-json "
            "'team_members=[\"%s\"]'\n",
            c->cmd, eq + 1);
    return CL_USAGE;
  }
  json_t *v = NULL;
  if (as_json) {
    json_error_t err;
    v = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (!v) {
      fprintf(stderr, "%s: --attr-json %s: not JSON: %s\n", c->cmd, key, err.text);
      return CL_USAGE;
    }
  } else if (!(v = json_string(eq + 1))) {
    fprintf(stderr, "%s: attribute %s is not valid UTF-8\n", c->cmd, key);
    return CL_USAGE;
  }
  if (json_object_set_new(attrs, key, v) != 0) {
    fprintf(stderr, "%s: attribute name %s is not valid UTF-8\n", c->cmd, key);
    return CL_USAGE;
  }
  return CL_OK;
}

static int do_register(const cl_ctx *c, const char *name, const agent_args *a) {
  if (!a->owner || !a->tier || !a->env) {
    fprintf(stderr, "%s: --owner, --tier and --env are required\n", c->cmd);
    return CL_USAGE;
  }
  json_t *attrs = json_object();
  json_t *body = NULL;
  int rc = CL_ERR;
  if (!attrs) goto out;
  for (size_t i = 0; i < a->nattrs; i++)
    if ((rc = add_attr(c, attrs, a->attrs[i], 0)) != CL_OK) goto out;
  for (size_t i = 0; i < a->nattrs_json; i++)
    if ((rc = add_attr(c, attrs, a->attrs_json[i], 1)) != CL_OK) goto out;
  rc = CL_ERR;
  body = json_pack("{s:s, s:s, s:s, s:s, s:O}", "name", name, "owner", a->owner, "risk_tier",
                   a->tier, "environment", a->env, "attributes", attrs);
  if (!body) {
    fprintf(stderr, "%s: arguments are not valid UTF-8\n", c->cmd);
    goto out;
  }
  cl_resp r;
  rc = cl_admin(c, "POST", "/v1/agents", body, &r);
  if (rc == 0) {
    if (cl_ok(&r)) {
      cl_print_json(r.body);
    } else {
      rc = cl_fail(c, &r);
    }
  }
  cl_resp_clear(&r);
out:
  json_decref(attrs);
  json_decref(body);
  return rc;
}

/* One page of GET /v1/agents after `after` ("" for the first, which
 * prints the header): its agents printed, or added to all (--json).
 * after gets the page's next, or "" after the last page. */
static int list_page(const cl_ctx *c, long long limit, char *after, size_t cap, json_t *all) {
  char path[256];
  int n = snprintf(path, sizeof path, "/v1/agents?limit=%lld%s%s", limit, *after ? "&after=" : "",
                   after);
  if (n < 0 || (size_t)n >= sizeof path) return CL_ERR;
  cl_resp r;
  int rc = cl_admin(c, "GET", path, NULL, &r);
  if (rc != 0) return rc;
  const json_t *agents = json_object_get(r.body, "agents");
  const char *next = json_string_value(json_object_get(r.body, "next"));
  int more = json_is_true(json_object_get(r.body, "truncated"));
  if (!cl_ok(&r)) {
    rc = cl_fail(c, &r);
    goto out;
  }
  if (!json_is_array(agents)) {
    fprintf(stderr, "%s: the answer has no agents\n", c->cmd);
    rc = CL_ERR;
    goto out;
  }
  if (!all && !*after)
    printf("%-20s  %-12s  %-12s  %-12s  %-12s  %s\n", "NAME", "STATUS", "TIER", "ENV", "OWNER",
           "ID");
  size_t i;
  json_t *ag;
  json_array_foreach(agents, i, ag) {
    if (!all)
      show_agent_row(ag);
    else if (json_array_append(all, ag) != 0)
      rc = CL_ERR;
  }
  /* A next that does not move past this page would loop for ever. */
  if (more && (!wd_gov_agent_name_chars(next) || strlen(next) >= cap || strcmp(next, after) <= 0)) {
    fprintf(stderr, "%s: the server's next page (after %s) does not follow this one\n", c->cmd,
            next ? next : "null");
    rc = CL_ERR;
    goto out;
  }
  (void)snprintf(after, cap, "%s", more ? next : "");
out:
  cl_resp_clear(&r);
  return rc;
}

/* Every agent, page by page, each page after the last name of the one
 * before: a registry past one page's worth is listed in full, never cut
 * short without a word. */
static int do_list(const cl_ctx *c, const agent_args *a) {
  long long limit = WD_LIMIT_STORE_LIST_ROWS;
  if (a->page_size &&
      (cli_parse_count(a->page_size, 1, &limit) != 0 || limit > WD_LIMIT_STORE_LIST_ROWS)) {
    fprintf(stderr, "%s: --page-size wants a number from 1 to %u\n", c->cmd,
            WD_LIMIT_STORE_LIST_ROWS);
    return CL_USAGE;
  }
  json_t *all = a->json ? json_array() : NULL;
  if (a->json && !all) return CL_ERR;
  char after[256] = "";
  int rc;
  do {
    rc = list_page(c, limit, after, sizeof after, all);
  } while (rc == CL_OK && *after);
  if (rc == CL_OK && all) {
    /* The shape of one answer, with every page's agents. */
    json_t *body = json_pack("{s:O}", "agents", all);
    if (body) cl_print_json(body);
    rc = body ? CL_OK : CL_ERR;
    json_decref(body);
  }
  json_decref(all);
  return rc;
}

/* One open task a line; expires_ms as Unix seconds for cl_time_text. */
static void show_task_row(const json_t *t) {
  char id[128], purpose[80], intent[256], exp[64];
  json_t *secs = json_integer(json_integer_value(json_object_get(t, "expires_ms")) / 1000);
  cl_json_text(json_object_get(t, "id"), id, sizeof id);
  cl_json_text(json_object_get(t, "purpose"), purpose, sizeof purpose);
  cl_json_text(json_object_get(t, "intent"), intent, sizeof intent);
  cl_time_text(secs, exp, sizeof exp);
  json_decref(secs);
  printf("%-36s  %-20s  %5lld/%-7lld  %-16s  %s\n", id, exp,
         (long long)json_integer_value(json_object_get(t, "calls")),
         (long long)json_integer_value(json_object_get(t, "budget")), purpose, intent);
}

static int do_tasks(const cl_ctx *c, const char *name, const agent_args *a) {
  char path[1024];
  int rc = cl_path(c, path, sizeof path, "/v1/agents/", name, "/tasks");
  if (rc != 0) return rc;
  cl_resp r;
  if ((rc = cl_admin(c, "GET", path, NULL, &r)) != 0) return rc;
  if (!cl_ok(&r)) {
    rc = cl_fail(c, &r);
  } else if (a->json) {
    cl_print_json(r.body);
  } else {
    printf("%-36s  %-20s  %13s  %-16s  %s\n", "TASK", "EXPIRES", "CALLS/BUDGET", "PURPOSE",
           "INTENT");
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(r.body, "tasks"), i, t) show_task_row(t);
    if (json_is_true(json_object_get(r.body, "truncated")))
      fprintf(stderr, "%s: more open tasks than listed (the oldest are shown)\n", c->cmd);
  }
  cl_resp_clear(&r);
  return rc;
}

/* GET /v1/agents/NAME, or POST /v1/agents/NAME/<action> with {reason}. */
static int do_agent_call(const cl_ctx *c, const char *name, const char *action, const char *reason,
                         const json_t *extra) {
  char path[1024];
  char suffix[64];
  (void)snprintf(suffix, sizeof suffix, "%s%s", action ? "/" : "", action ? action : "");
  int rc = cl_path(c, path, sizeof path, "/v1/agents/", name, suffix);
  if (rc != 0) return rc;
  json_t *body = NULL;
  if (action) {
    body = extra ? json_deep_copy(extra) : json_object();
    if (!body || (reason && json_object_set_new(body, "reason", json_string(reason)) != 0)) {
      json_decref(body);
      fprintf(stderr, "%s: bad --reason (not UTF-8?)\n", c->cmd);
      return CL_USAGE;
    }
  }
  cl_resp r;
  rc = cl_admin(c, action ? "POST" : "GET", path, body, &r);
  json_decref(body);
  if (rc != 0) return rc;
  if (!cl_ok(&r)) {
    rc = cl_fail(c, &r);
  } else if (action && strcmp(action, "join-tokens") == 0) {
    /* The token alone on stdout, so a script can capture it. */
    const char *tok = json_string_value(json_object_get(r.body, "token"));
    if (!tok) {
      fprintf(stderr, "%s: the answer has no token\n", c->cmd);
      rc = CL_ERR;
    } else {
      char exp[64];
      cl_time_text(json_object_get(r.body, "expires_at"), exp, sizeof exp);
      puts(tok);
      if (cl_flush_stdout(c->cmd, "the join token") != CL_OK) {
        fprintf(stderr, "%s: the join token for %s is lost (it expires %s unused); make another\n",
                c->cmd, name, exp);
        rc = CL_ERR;
      } else {
        fprintf(stderr, "warden: one-time join token for %s, expires %s\n", name, exp);
      }
    }
  } else {
    cl_print_json(r.body);
  }
  cl_resp_clear(&r);
  return rc;
}

/* ---- enrol ------------------------------------------------------------------ */

/* mkdir -p of the key file's directory, with 0700 for what it creates. */
static int make_parent(const char *path) {
  char dir[4096];
  int n = snprintf(dir, sizeof dir, "%s", path);
  if (n < 0 || (size_t)n >= sizeof dir) return -1;
  char *slash = strrchr(dir, '/');
  if (!slash || slash == dir) return 0;
  *slash = '\0';
  for (char *p = dir + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return mkdir(dir, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

static int do_enroll(const cl_ctx *c, const char *name, const agent_args *a) {
  const char *join = a->join ? a->join : getenv("WARDEN_JOIN_TOKEN");
  if (!join || !*join) {
    fprintf(stderr, "%s: set WARDEN_JOIN_TOKEN to the join token (or give --join-token T)\n",
            c->cmd);
    return CL_USAGE;
  }
  wd_ident_keytype type = WD_IDENT_KEY_ED25519;
  if (a->alg && strcmp(a->alg, "p256") == 0) {
    type = WD_IDENT_KEY_P256;
  } else if (a->alg && strcmp(a->alg, "ed25519") != 0) {
    fprintf(stderr, "%s: --alg is ed25519 or p256\n", c->cmd);
    return CL_USAGE;
  }
  char path[4096], meta[4200];
  if (a->key_file) {
    int n = snprintf(path, sizeof path, "%s", a->key_file);
    if (n < 0 || (size_t)n >= sizeof path) {
      fprintf(stderr, "%s: --key-file path too long (at most %zu bytes)\n", c->cmd,
              sizeof path - 1);
      return CL_USAGE;
    }
  } else if (cl_default_key_path(name, path, sizeof path) != 0) {
    fprintf(stderr, "%s: cannot form the default key path (is HOME set?); use --key-file\n",
            c->cmd);
    return CL_USAGE;
  }
  (void)snprintf(meta, sizeof meta, "%s.json", path);

  wd_ident_key *key = NULL;
  json_t *jwk = NULL, *body = NULL, *rec = NULL;
  char *rec_text = NULL;
  int created = 0, rc = CL_ERR;
  cl_resp r = {0, NULL, 0};
  if (access(path, F_OK) == 0) {
    if (!a->reuse) {
      fprintf(stderr,
              "%s: %s exists; pass --reuse-key to enrol that key, or choose another --key-file\n",
              c->cmd, path);
      return CL_ERR;
    }
    if (cl_read_key_file(c, path, &key) != 0) return CL_ERR;
    /* Checked before the join token is spent on a key that cannot sign. */
    if (!wd_ident_key_has_private(key)) {
      fprintf(stderr,
              "%s: %s holds only a public key; the agent must sign with it: give the private "
              "key's file\n",
              c->cmd, path);
      wd_ident_key_free(key);
      return CL_ERR;
    }
  } else {
    int gr = wd_ident_key_generate(type, &key);
    if (gr < 0) {
      fprintf(stderr, "%s: cannot generate a key: %s\n", c->cmd, wd_strerror(gr));
      return CL_ERR;
    }
    /* Save before enrolling, so an agent the server knows never lacks its key. */
    if (make_parent(path) != 0 || (gr = wd_ident_key_save(key, path)) < 0) {
      fprintf(stderr, "%s: cannot save the key to %s\n", c->cmd, path);
      goto out;
    }
    created = 1;
  }
  if (wd_ident_key_to_jwk_json(key, NULL, &jwk) < 0) {
    fprintf(stderr, "%s: cannot export the public key\n", c->cmd);
    goto out;
  }
  body = json_pack("{s:s, s:s, s:O}", "agent", name, "join_token", join, "public_jwk", jwk);
  if (!body) {
    fprintf(stderr, "%s: bad arguments (not UTF-8?)\n", c->cmd);
    goto out;
  }
  /* The proof shows the server that this side holds the key it enrols. */
  rc = cl_agent(c, key, NULL, "POST", "/v1/enroll", body, &r);
  /* Only a refusal (4xx), or a request that never reached a server, says
   * the server did not take the key. Without an answer, with a server
   * error, or with a success that cannot be read, it may have enrolled
   * it (a timeout after the commit): deleting the key then would leave
   * the agent bound to a key that no longer exists. */
  int refused = r.status >= 400 && r.status < 500;
  if (created && !r.unsent && !refused && (rc != 0 || !cl_ok(&r))) {
    created = 0;
    fprintf(stderr,
            "%s: kept the key %s: the server may have enrolled it; check with `warden agent "
            "show %s`, then retry with --reuse-key (and a new join token if needed)\n",
            c->cmd, path, name);
  }
  if (rc != 0) goto out;
  if (!cl_ok(&r)) {
    rc = cl_fail(c, &r);
    goto out;
  }
  const char *id = json_string_value(json_object_get(r.body, "agent_id"));
  rec = json_pack("{s:s, s:s?, s:s, s:s, s:s}", "agent", name, "agent_id", id, "jkt",
                  wd_ident_key_jkt(key), "key_file", path, "url", c->shown);
  rec_text = rec ? cl_json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
  if (!rec_text || cl_write_secret(c, meta, rec_text) != 0) {
    fprintf(stderr, "%s: enrolled, but could not save %s\n", c->cmd, meta);
    rc = CL_ERR;
    created = 0; /* the server knows this key now: keep it */
    goto out;
  }
  created = 0;
  printf("%s\n", id ? id : "");
  fprintf(stderr, "warden: enrolled %s (key %s, thumbprint %s)\n", name, path,
          wd_ident_key_jkt(key));
  rc = CL_OK;
out:
  /* A key the server refused is useless; remove it so a retry with a new
   * join token starts clean. */
  if (created) (void)unlink(path);
  wd_free(rec_text);
  cl_resp_clear(&r);
  json_decref(rec);
  json_decref(body);
  json_decref(jwk);
  wd_ident_key_free(key);
  return rc;
}

int wd_cli_agent(int argc, char **argv) {
  int hrc = 0;
  if (cl_family_help(argc, argv, usage, &hrc)) return hrc;
  const char *sub = argv[1];
  /* Each subcommand and the options it uses; any other is refused. */
  static const cl_sub subs[] = {
      {"register", "--url --owner --tier --env --attr --attr-json"},
      {"list", "--url --json --page-size"},
      {"show", "--url"},
      {"tasks", "--url --json"},
      {"quarantine", "--url --reason"},
      {"release", "--url --reason"},
      {"retire", "--url --reason"},
      {"enroll", "--url --join-token --key-file --alg --reuse-key"},
      {"join-token", "--url --ttl"},
  };
  const char *takes = cl_sub_takes("agent", subs, sizeof subs / sizeof subs[0], sub, usage);
  if (!takes) return CL_USAGE;
  char cmd[64];
  (void)snprintf(cmd, sizeof cmd, "warden agent %s", sub);
  agent_args a;
  memset(&a, 0, sizeof a);
  const cli_opt opts[] = {
      CLI_ARG("--url", NULL, &a.url),
      CLI_ARG("--owner", NULL, &a.owner),
      CLI_ARG("--tier", NULL, &a.tier),
      CLI_ARG("--env", NULL, &a.env),
      CLI_MULTI("--attr", a.attrs, &a.nattrs),
      CLI_MULTI("--attr-json", a.attrs_json, &a.nattrs_json),
      CLI_ARG("--reason", NULL, &a.reason),
      CLI_ARG("--ttl", NULL, &a.ttl),
      CLI_ARG("--join-token", NULL, &a.join),
      CLI_ARG("--key-file", NULL, &a.key_file),
      CLI_ARG("--alg", NULL, &a.alg),
      CLI_ARG("--page-size", NULL, &a.page_size),
      CLI_FLAG("--json", NULL, &a.json),
      CLI_FLAG("--reuse-key", NULL, &a.reuse),
      CLI_END,
  };
  const char *pos[2];
  size_t npos = 0;
  int rc = 0;
  if (cl_parse_sub(cmd, argc - 1, argv + 1, opts, takes, pos, 2, &npos, usage, &rc)) return rc;
  int wants_name = strcmp(sub, "list") != 0;
  if ((wants_name && npos != 1) || (!wants_name && npos != 0)) {
    fprintf(stderr, "%s: %s\n", cmd, wants_name ? "give one agent NAME" : "takes no NAME");
    return CL_USAGE;
  }
  cl_ctx c;
  rc = cl_ctx_init(&c, cmd, a.url);
  if (rc != 0) return rc;
  if (strcmp(sub, "register") == 0) return do_register(&c, pos[0], &a);
  if (strcmp(sub, "list") == 0) return do_list(&c, &a);
  if (strcmp(sub, "show") == 0) return do_agent_call(&c, pos[0], NULL, NULL, NULL);
  if (strcmp(sub, "tasks") == 0) return do_tasks(&c, pos[0], &a);
  if (strcmp(sub, "enroll") == 0) return do_enroll(&c, pos[0], &a);
  if (strcmp(sub, "quarantine") == 0 || strcmp(sub, "release") == 0 || strcmp(sub, "retire") == 0) {
    if (!a.reason && strcmp(sub, "retire") != 0) {
      fprintf(stderr, "%s: --reason is required (it goes into the evidence log)\n", cmd);
      return CL_USAGE;
    }
    return do_agent_call(&c, pos[0], sub, a.reason, NULL);
  }
  /* join-token: the only subcommand left. */
  json_t *extra = json_object();
  if (!extra) return CL_ERR;
  if (a.ttl) {
    long long ttl = 0;
    if (cli_parse_count(a.ttl, 1, &ttl) != 0) {
      fprintf(stderr, "%s: --ttl wants a positive number of seconds\n", cmd);
      json_decref(extra);
      return CL_USAGE;
    }
    (void)json_object_set_new(extra, "ttl_seconds", json_integer((json_int_t)ttl));
  }
  rc = do_agent_call(&c, pos[0], "join-tokens", NULL, extra);
  json_decref(extra);
  return rc;
}

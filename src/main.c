/* SPDX-License-Identifier: Apache-2.0
 *
 * warden: one binary, many subcommands. This file only dispatches; each
 * subcommand family lives in src/cli/.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_util.h"

static void usage(FILE *out) {
  fputs("usage: warden <command> [args]\n"
        "\n"
        "commands:\n"
        "  cedar     policy tools: authorize, evaluate, check-parse, format,\n"
        "            translate-policy, validate, translate-schema\n"
        "  serve     run the governance service (HTTP API)\n"
        "  agent     register, list, quarantine agents; enroll (agent side)\n"
        "  task      open, renew, change intent, end a task (agent side)\n"
        "  authorize ask the server before a tool call: ALLOW (0) or DENY (2)\n"
        "  audit     verify or export the evidence log; trace a task's evidence\n"
        "  admin     rotate the admin token; reset a lost one offline; back up the state\n"
        "  version   print the version\n"
        "\n"
        "Run 'warden <command> --help' for the options of a command.\n",
        out);
}

static int dispatch(int argc, char **argv) {
  const char *cmd = argv[1];
  if (strcmp(cmd, "cedar") == 0) return wd_cli_cedar(argc - 1, argv + 1);
  if (strcmp(cmd, "serve") == 0) return wd_cli_serve(argc - 1, argv + 1);
  if (strcmp(cmd, "agent") == 0) return wd_cli_agent(argc - 1, argv + 1);
  if (strcmp(cmd, "task") == 0) return wd_cli_task(argc - 1, argv + 1);
  if (strcmp(cmd, "authorize") == 0) return wd_cli_authorize(argc - 1, argv + 1);
  if (strcmp(cmd, "audit") == 0) return wd_cli_audit(argc - 1, argv + 1);
  if (strcmp(cmd, "admin") == 0) return wd_cli_admin(argc - 1, argv + 1);
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    puts("warden " WD_VERSION);
    return 0;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "warden: unknown command '%s'\n", cmd);
  usage(stderr);
  return 64;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 64;
  }
  int rc = dispatch(argc, argv);
  /* Output lost to a full disk or a closed pipe fails the command, whatever
   * it decided (a DENY too): a script would otherwise read a short answer
   * behind a status that says it is whole. Commands that print a secret
   * check this themselves first, to say what was lost. */
  char name[128];
  int sub = argc > 2 && argv[2][0] != '-';
  (void)snprintf(name, sizeof name, "warden %s%s%s", argv[1], sub ? " " : "", sub ? argv[2] : "");
  return cli_check_stdout(name, "the output") == CLI_OK ? rc : CLI_ERR;
}

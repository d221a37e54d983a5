/* SPDX-License-Identifier: Apache-2.0
 *
 * Entry points of the CLI subcommand families. Each takes argv with argv[0]
 * naming the family and returns the process exit status.
 */
#ifndef WD_CLI_H
#define WD_CLI_H

#define WD_VERSION "0.1.0"

/* warden cedar ...: exit 0 on success/ALLOW, 2 on DENY, 1 on errors, 64 on usage. */
int wd_cli_cedar(int argc, char **argv);
/* warden cedar translate-schema (argv[0] is the subcommand name). */
int wd_cli_cedar_translate_schema(int argc, char **argv);
/* warden cedar validate: 0 valid, 3 findings, 1 bad input, 64 usage. */
int wd_cli_cedar_validate(int argc, char **argv);
/* warden serve: runs the service until SIGTERM; exit 0 after a clean stop, 64 on bad config. */
int wd_cli_serve(int argc, char **argv);

/* The client commands talk to a running server (src/cli/client*.c). Exit 0
 * ok/ALLOW, 2 DENY or refused (HTTP 401/403), 1 error, 64 usage; audit
 * verify exits 3 on a broken chain. */
int wd_cli_agent(int argc, char **argv);
int wd_cli_task(int argc, char **argv);
int wd_cli_authorize(int argc, char **argv);
int wd_cli_audit(int argc, char **argv);
/* warden admin rotate-token (online) and reset-token (offline). */
int wd_cli_admin(int argc, char **argv);

#endif

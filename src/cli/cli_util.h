/* SPDX-License-Identifier: Apache-2.0
 *
 * Helpers shared by the CLI subcommands: a tiny option parser, capped file
 * reading with clear messages, atomic file replacement and diagnostic
 * printing. This is front-end code: unlike the engine, it prints to
 * stderr. It is not a general-purpose library.
 */
#ifndef WD_CLI_UTIL_H
#define WD_CLI_UTIL_H

#include <stddef.h>

#include "warden/cedar.h"

/* Exit statuses shared by every subcommand. */
enum { CLI_OK = 0, CLI_ERR = 1, CLI_DENY = 2, CLI_USAGE = 64 };

/* One accepted option. A flag (has_arg 0) sets *flag to 1; an option with
 * an argument stores a borrowed argv pointer in *val. */
typedef struct cli_opt {
  const char *name;  /* "--policies" */
  const char *alias; /* "-p", or NULL */
  int has_arg;
  const char **val;
  int *flag;
  const char **multi; /* repeatable: values appended here instead of *val */
  size_t *nmulti;     /* ... counted here, at most WD_LIMIT_CLI_MULTI */
} cli_opt;

/* Table rows, so every row sets every field (-Wmissing-field-initializers). */
#define CLI_ARG(name, alias, ptr)                                                                  \
  { name, alias, 1, ptr, NULL, NULL, NULL }
#define CLI_FLAG(name, alias, ptr)                                                                 \
  { name, alias, 0, NULL, ptr, NULL, NULL }
#define CLI_MULTI(name, arr, count)                                                                \
  { name, NULL, 1, NULL, NULL, arr, count }
#define CLI_END                                                                                    \
  { NULL, NULL, 0, NULL, NULL, NULL, NULL }

/* Parses argv[1..argc) against opts (terminated by a zero entry). Words
 * that are not options are collected into pos (up to max_pos, count in
 * *npos). Accepts "--name value" and "--name=value"; "--" ends options.
 * Sets *help when -h/--help is seen. Returns 0, or CLI_USAGE after
 * printing what is wrong. */
int cli_parse_opts(const char *cmd, int argc, char **argv, const cli_opt *opts, const char **pos,
                   size_t max_pos, size_t *npos, int *help);

/* Flushes stdout and checks that everything written to it arrived.
 * Returns CLI_OK, or CLI_ERR after printing "<cmd>: cannot write <what>
 * to standard output: <reason>" (only the first time: a later check of
 * the same failure is silent). */
int cli_check_stdout(const char *cmd, const char *what);

/* After cli_parse_opts with one table shared by several subcommands:
 * CLI_OK, or CLI_USAGE after printing when an option of opts was given
 * (a flag set, a value stored, values counted) that is not among the
 * space-separated names in takes ("--url --json"), so that an option of
 * another subcommand is refused rather than ignored. */
int cli_only_opts(const char *cmd, const cli_opt *opts, const char *takes);

/* CLI_OK when format (--policy-format) is NULL, "cedar" or "json", else
 * CLI_USAGE after printing. */
int cli_policy_format(const char *cmd, const char *format);

/* Reads a whole file (or stdin for "-") up to cap bytes into an owned,
 * NUL-terminated buffer (free with wd_free). Prints a message naming the
 * file on failure and returns -WD_E_IO, -WD_E_TOOBIG or -WD_E_NOMEM. */
int cli_read_file(const char *path, size_t cap, char **out, size_t *len);

/* Replaces path with data atomically (temp file in the same directory,
 * fsync, rename), keeping its mode. A symbolic link is followed and its
 * target replaced; a file the user may not write is refused. Prints a
 * message on failure and returns -WD_E_IO. */
int cli_write_atomic(const char *path, const char *data, size_t len);

/* Prints every diagnostic in d to stderr, rendered against src (may be
 * NULL) under the name file. Falls back to a plain message when d is
 * empty so that a failure is never silent. */
void cli_print_diags(const cedar_diags *d, const char *file, const char *src, size_t len, int rc);

/* One direction of a translate-* command: converts src (len
 * bytes) into an owned string (cedar_free),
 * reporting problems into d. */
typedef int (*cli_translate_fn)(const char *src, size_t len, int to_json, char **out,
                                cedar_diags *d);

/* What differs between the translate-* commands; the option handling,
 * reading and printing around it are shared by cli_translate. */
typedef struct cli_translate_spec {
  const char *cmd;        /* "translate-policy" */
  const char *file_opt;   /* "--policies" */
  const char *file_alias; /* "-p" */
  const char *usage;      /* printed for --help */
  size_t text_cap;        /* input cap for cedar-to-json; JSON uses its own */
  cli_translate_fn run;
} cli_translate_spec;

/* Runs a translate-* command: --direction cedar-to-json|json-to-cedar, one
 * input (option, positional or stdin), result on stdout. Returns an exit
 * status. */
int cli_translate(const cli_translate_spec *s, int argc, char **argv);

/* CLI_OK, or CLI_USAGE after printing when more than one of files[0..n)
 * (NULL entries allowed) is "-": standard input can be read once. cmd is
 * the cedar subcommand ("validate"). */
int cli_one_stdin_of(const char *cmd, const char *const *files, size_t n);

/* Parses s as a number written in plain decimal digits (no sign, no
 * spaces), at least min and no larger than LLONG_MAX, into *out.
 * Returns 0, or -1 (nothing printed) when s is anything else. */
int cli_parse_count(const char *s, long long min, long long *out);

/* 1 if s ends with suffix. */
int cli_ends_with(const char *s, const char *suffix);

#endif

/* SPDX-License-Identifier: Apache-2.0
 *
 * What the `warden cedar` subcommand files share: loading the inputs of
 * a decision (policies, template links, entities, request) and the entry
 * point of each subcommand. Private to src/cli/.
 */
#ifndef WD_CLI_CEDAR_H
#define WD_CLI_CEDAR_H

#include "warden/cedar.h"

/* Request inputs as given on the command line (borrowed argv strings). */
typedef struct cli_inputs {
  const char *policies;        /* --policies */
  const char *policy_format;   /* --policy-format cedar|json, or NULL to guess */
  const char *template_linked; /* --template-linked */
  const char *entities;        /* --entities */
  const char *request_json;    /* --request-json */
  const char *principal, *action, *resource;
  const char *context;    /* --context: a file holding a JSON object */
  const char *schema;     /* --schema: .cedarschema text, or JSON if it ends in .json */
  const cedar_schema *sc; /* loaded from schema by cli_load_schema; NULL without */
} cli_inputs;

/* Loads the policy set named by in->policies (Cedar text, or EST JSON when
 * the format says so or the file ends in .json) plus template links.
 * Prints diagnostics; returns 0 with *out owned, or an error. */
int cli_load_policies(const cli_inputs *in, cedar_policyset **out);
/* cli_load_policies that also gives back the policy text it read, so
 * that standard input is read once: owned *text (wd_free) and its length,
 * set on success. */
int cli_load_policies_text(const cli_inputs *in, cedar_policyset **out, char **text,
                           size_t *text_len);
/* CLI_OK, or CLI_USAGE after printing when more than one of the files of
 * in is "-": standard input can be read once. */
int cli_one_stdin(const char *cmd, const cli_inputs *in);
/* Loads in->schema (NULL when none was given). Prints diagnostics. */
int cli_load_schema(const cli_inputs *in, cedar_schema **out);
/* Loads in->entities, or an empty store when it is NULL; with in->sc the
 * entities are read and validated against the schema. */
int cli_load_entities(const cli_inputs *in, cedar_entities **out);
/* Builds the request from --request-json or the four uid/context flags,
 * validated against in->sc when there is one. When allow_partial is set,
 * missing uids get placeholders (evaluate). */
int cli_load_request(const cli_inputs *in, int allow_partial, cedar_request **out);

int cli_cedar_authorize(int argc, char **argv);
int cli_cedar_evaluate(int argc, char **argv);
int cli_cedar_check_parse(int argc, char **argv);
int cli_cedar_format(int argc, char **argv);
int cli_cedar_translate(int argc, char **argv);

#endif

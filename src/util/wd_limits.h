/* SPDX-License-Identifier: Apache-2.0
 *
 * Every hard limit on attacker-controlled input, in one place (in the
 * spirit of SQLite's sqliteLimit.h). Exceeding one is a clear error
 * (-WD_E_TOOBIG with a diagnostic), never a crash or a silent truncation.
 */
#ifndef WD_LIMITS_H
#define WD_LIMITS_H

/* Cedar policy text */
#define WD_LIMIT_POLICY_TEXT_BYTES (64u * 1024u * 1024u) /* one policy file */
#define WD_LIMIT_POLICY_COUNT      1000000u              /* policies in a set */
#define WD_LIMIT_EXPR_DEPTH        256u                  /* nesting of expressions while parsing */
#define WD_LIMIT_IDENT_BYTES       4096u                 /* one identifier */
#define WD_LIMIT_STRING_BYTES      (1u << 20)            /* one string literal, after escapes */
#define WD_LIMIT_PARSE_ERRORS      100u                  /* diagnostics kept per parse */
#define WD_LIMIT_ANNOTATIONS       256u                  /* annotations on one policy */
#define WD_LIMIT_POLICYSET_BYTES   (1024u << 20)         /* arena of one policy set */
#define WD_LIMIT_SCHEMA_TEXT_BYTES (64u * 1024u * 1024u) /* one .cedarschema file */
#define WD_LIMIT_SCHEMA_DEPTH      64u /* nesting of Set<> and records in a schema type */

/* JSON documents (entities, requests, contexts, EST) */
#define WD_LIMIT_JSON_BYTES (256u * 1024u * 1024u)
#define WD_LIMIT_JSON_DEPTH 256u
#define WD_LIMIT_JSON_PARSE_DEPTH                                                                  \
  2048u /* nesting of JSON text (EST nests 2 levels per expression) */
#define WD_LIMIT_ENTITY_COUNT       10000000u
#define WD_LIMIT_ENTITY_STORE_BYTES (1024u * 1024u * 1024u) /* arena of one entity store */

/* Evaluation */
#define WD_LIMIT_EVAL_DEPTH        1024u        /* recursion while evaluating */
#define WD_LIMIT_VALUE_BYTES       (256u << 20) /* arena budget for one request */
#define WD_LIMIT_VALIDATE_FINDINGS 32u          /* distinct validator findings kept per policy */

/* Growable buffers default cap */
#define WD_LIMIT_BUF_DEFAULT (64u * 1024u * 1024u)
#define WD_LIMIT_DIAG_MSG    256u

#endif

/* SPDX-License-Identifier: Apache-2.0
 *
 * Warden's Cedar policy engine: parse policies, load entities and
 * requests, authorize, evaluate. This is an independent C implementation
 * of the Cedar language that aims to agree with the reference
 * implementation on every decision.
 *
 * Conventions: functions return 0 or a negated wd_err code. Objects are
 * opaque, created by a constructor and released by the matching free or
 * unref function, which accepts NULL. Diagnostics go into a caller-owned
 * cedar_diags; nothing here prints or aborts.
 */
#ifndef WARDEN_CEDAR_H
#define WARDEN_CEDAR_H

#include <stddef.h>
#include <stdint.h>

#include "warden/err.h"
#include "warden/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Diagnostics ------------------------------------------------------- */

#define CEDAR_DIAG_MSG 256

typedef enum { CEDAR_SEV_ERROR = 0, CEDAR_SEV_WARNING = 1 } cedar_severity;

typedef struct cedar_diag {
  int code;                 /* -WD_E_xxx */
  cedar_severity sev;       /* error or warning */
  uint32_t off, len;        /* byte span into the source; len 0 for a point */
  uint32_t line, col;       /* 1-based; 0 when the source is not text (JSON path errors) */
  char msg[CEDAR_DIAG_MSG]; /* what is wrong, and for JSON inputs where (a path) */
  char policy_id[64];       /* the policy concerned, or "" */
} cedar_diag;

typedef struct cedar_diags cedar_diags;

/* Returns an owned, empty list (free with cedar_diags_free), or NULL. */
WD_EXTERN cedar_diags *cedar_diags_new(void);
WD_EXTERN void cedar_diags_free(cedar_diags *d);
WD_EXTERN void cedar_diags_clear(cedar_diags *d);
WD_EXTERN size_t cedar_diags_count(const cedar_diags *d);
/* Returns a borrowed pointer valid until the list changes. */
WD_EXTERN const cedar_diag *cedar_diags_get(const cedar_diags *d, size_t i);
/* Renders every diagnostic as "file:line:col: error: msg", the source line
 * and a caret underline. Borrows all inputs; returns owned text (free with
 * cedar_free), or NULL when out of memory. src may be NULL. */
WD_EXTERN char *cedar_diags_render(const cedar_diags *d, const char *filename, const char *src,
                                   size_t len);

/* Frees memory returned as "owned (free with cedar_free)". */
WD_EXTERN void cedar_free(void *p);

/* ---- Policy sets --------------------------------------------------------- */

typedef struct cedar_policyset cedar_policyset; /* immutable, refcounted */
typedef struct cedar_psbuilder cedar_psbuilder;

/* Returns an owned builder (free with cedar_psbuilder_free), or NULL. */
WD_EXTERN cedar_psbuilder *cedar_psbuilder_new(void);
WD_EXTERN void cedar_psbuilder_free(cedar_psbuilder *b);
/* Parses Cedar text and adds its policies and templates. Ids are policy0,
 * policy1, ... across everything added so far, unless @id("x") renames a
 * policy. Borrows src. On any error nothing is added, every error is
 * appended to diags (when non-NULL), and -WD_E_PARSE is returned. */
WD_EXTERN int cedar_psbuilder_add_text(cedar_psbuilder *b, const char *src, size_t len,
                                       cedar_diags *diags) WD_WUR;
/* Parses the JSON policy format (EST): either one policy, or a policy set
 * {"staticPolicies":{...},"templates":{...},"templateLinks":[...]}. */
WD_EXTERN int cedar_psbuilder_add_est(cedar_psbuilder *b, const char *json, size_t len,
                                      cedar_diags *diags) WD_WUR;
/* Links template_id under new_id. principal and resource are entity uids in
 * Cedar syntax (User::"alice"), NULL for a slot the template does not use. */
WD_EXTERN int cedar_psbuilder_link(cedar_psbuilder *b, const char *template_id, const char *new_id,
                                   const char *principal, const char *resource,
                                   cedar_diags *diags) WD_WUR;
/* Builds the immutable set. On success *out is owned (release with
 * cedar_policyset_unref) and the builder is left empty but reusable. */
WD_EXTERN int cedar_psbuilder_build(cedar_psbuilder *b, cedar_policyset **out) WD_WUR;

/* Convenience: builder + add_text + build. */
WD_EXTERN int cedar_policyset_parse(const char *src, size_t len, cedar_policyset **out,
                                    cedar_diags *diags) WD_WUR;
/* Takes a new reference; returns ps. Safe from any thread. */
WD_EXTERN cedar_policyset *cedar_policyset_ref(cedar_policyset *ps);
/* Drops a reference; the last one frees the set. NULL is a no-op. */
WD_EXTERN void cedar_policyset_unref(cedar_policyset *ps);
/* Number of policies that take part in decisions (static and linked). */
WD_EXTERN size_t cedar_policyset_count(const cedar_policyset *ps);
/* Borrowed id of the i-th policy, valid while the set lives. */
WD_EXTERN const char *cedar_policyset_policy_id(const cedar_policyset *ps, size_t i);
/* Borrowed value of annotation key on policy id, or NULL. */
WD_EXTERN const char *cedar_policyset_annotation(const cedar_policyset *ps, const char *id,
                                                 const char *key);
/* Where policy or template id starts (its first annotation, else its
 * effect) in the text it was parsed from: 1-based *line and *col, columns
 * counted in characters. 0 when it is found there, -WD_E_NOTFOUND when the
 * set has no such id or the policy has no text (JSON, a template link). */
WD_EXTERN int cedar_policyset_policy_pos(const cedar_policyset *ps, const char *id, uint32_t *line,
                                         uint32_t *col) WD_WUR;
/* Canonical Cedar text of all templates and static policies, in source
 * order. Returns owned text in *out (free with cedar_free). */
WD_EXTERN int cedar_policyset_format(const cedar_policyset *ps, char **out) WD_WUR;
/* The set as EST JSON. Returns owned text in *out (free with cedar_free). */
WD_EXTERN int cedar_policyset_to_est(const cedar_policyset *ps, char **out) WD_WUR;

/* Formats Cedar source text canonically, keeping its comments. Returns
 * owned text in *out (free with cedar_free); on parse errors fills diags. */
WD_EXTERN int cedar_format_source(const char *src, size_t len, char **out,
                                  cedar_diags *diags) WD_WUR;

/* ---- Schemas (the schema issue fills this in) ---------------------------- */

typedef struct cedar_schema cedar_schema;

/* Reads a schema in Cedar's JSON format. On success *out is owned (free
 * with cedar_schema_free); on failure every problem is in diags. */
WD_EXTERN int cedar_schema_from_json(const char *json, size_t len, cedar_schema **out,
                                     cedar_diags *diags) WD_WUR;
WD_EXTERN void cedar_schema_free(cedar_schema *s);
/* Whether the context of action Action::"action_id" declares attribute
 * name in the record reached by path[0..depth) (e.g. {"call", "args"}):
 * 1 when declared or the record is open, 0 otherwise (an unknown action,
 * a path that is not a record, or a closed record without it). Lets a
 * caller pass on only the attributes a request may carry. */
WD_EXTERN int cedar_schema_context_declares(const cedar_schema *s, const char *action_id,
                                            const char *const *path, size_t depth,
                                            const char *name);
/* Reads a schema in the Cedar schema format (.cedarschema text). Syntax
 * errors and resolution errors (unknown types, ...) all carry a line and
 * column. On success *out is owned (free with cedar_schema_free). */
WD_EXTERN int cedar_schema_parse(const char *src, size_t len, cedar_schema **out,
                                 cedar_diags *diags) WD_WUR;
/* Translates .cedarschema text into the JSON schema format (pretty-printed),
 * and back. The schema must be valid. On success *out is owned text (free
 * with cedar_free). */
WD_EXTERN int cedar_schema_text_to_json(const char *src, size_t len, char **out,
                                        cedar_diags *diags) WD_WUR;
WD_EXTERN int cedar_schema_json_to_text(const char *json, size_t len, char **out,
                                        cedar_diags *diags) WD_WUR;
/* Validates every static policy and template of ps against s in Cedar's
 * strict mode. Returns 0 when all type-check, -WD_E_VALIDATE when there are
 * findings (each an error diagnostic with policy_id and the byte span of
 * the offending expression; warnings, such as impossible policies, do not
 * fail validation), or another code when out of memory. */
WD_EXTERN int cedar_validate(const cedar_schema *s, const cedar_policyset *ps,
                             cedar_diags *diags) WD_WUR;

/* ---- Entities and requests ----------------------------------------------- */

typedef struct cedar_entities cedar_entities; /* immutable once loaded */
typedef struct cedar_request cedar_request;

/* Parses an entities JSON array. schema may be NULL. The transitive closure
 * of the hierarchy is computed here; cycles and duplicate uids are errors.
 * On success *out is owned (free with cedar_entities_free). */
WD_EXTERN int cedar_entities_from_json(const char *json, size_t len, const cedar_schema *schema,
                                       cedar_entities **out, cedar_diags *diags) WD_WUR;
/* Returns an owned empty entity store, or NULL. */
WD_EXTERN cedar_entities *cedar_entities_empty(void);
WD_EXTERN void cedar_entities_free(cedar_entities *es);
WD_EXTERN size_t cedar_entities_count(const cedar_entities *es);

/* Parses {"principal":UID,"action":UID,"resource":UID,"context":{...}}
 * where UID is {"type":..,"id":..}, {"__entity":{..}} or Cedar text
 * "User::\"alice\"". Other keys are ignored. On success *out is owned
 * (free with cedar_request_free). */
WD_EXTERN int cedar_request_from_json(const char *json, size_t len, const cedar_schema *schema,
                                      cedar_request **out, cedar_diags *diags) WD_WUR;
/* Builds a request from Cedar-syntax uids and a context JSON object
 * (context may be NULL for {}). Borrows all inputs. */
WD_EXTERN int cedar_request_new(const char *principal, const char *action, const char *resource,
                                const char *context_json, size_t context_len,
                                const cedar_schema *schema, cedar_request **out,
                                cedar_diags *diags) WD_WUR;
WD_EXTERN void cedar_request_free(cedar_request *rq);

/* ---- Authorization -------------------------------------------------------- */

typedef enum { CEDAR_DENY = 0, CEDAR_ALLOW = 1 } cedar_decision;

typedef struct cedar_authz_opts {
  /* Fail closed: a forbid policy whose condition errors counts as a
   * satisfied forbid (Deny, and it is listed among the reasons and errors).
   * Cedar's own semantics skip it; 0 keeps Cedar's semantics. */
  int strict_forbid;
} cedar_authz_opts;

typedef struct cedar_response cedar_response;

/* Decides rq against ps and es. opts may be NULL (Cedar semantics). es may
 * be NULL (no entities). Borrows everything. On success *out is owned (free
 * with cedar_response_free). On failure (out of memory) *out is NULL and the
 * caller must treat the request as denied. */
WD_EXTERN int cedar_authorize(const cedar_policyset *ps, const cedar_entities *es,
                              const cedar_request *rq, const cedar_authz_opts *opts,
                              cedar_response **out) WD_WUR;
WD_EXTERN cedar_decision cedar_response_decision(const cedar_response *r);
/* Determining policies: satisfied forbids on Deny, satisfied permits on
 * Allow; sorted by policy position in the set. Borrowed strings. */
WD_EXTERN size_t cedar_response_reason_count(const cedar_response *r);
WD_EXTERN const char *cedar_response_reason(const cedar_response *r, size_t i);
/* Policies whose evaluation errored, with the message. Borrowed strings. */
WD_EXTERN size_t cedar_response_error_count(const cedar_response *r);
WD_EXTERN const char *cedar_response_error_policy(const cedar_response *r, size_t i);
WD_EXTERN const char *cedar_response_error_message(const cedar_response *r, size_t i);
WD_EXTERN void cedar_response_free(cedar_response *r);

/* Evaluates a Cedar expression against a request and entities (es may be
 * NULL). On success *out is the value in Cedar syntax (owned, free with
 * cedar_free). Parse errors and evaluation errors go into diags. */
WD_EXTERN int cedar_evaluate(const char *expr, size_t len, const cedar_entities *es,
                             const cedar_request *rq, char **out, cedar_diags *diags) WD_WUR;

#ifdef __cplusplus
}
#endif
#endif

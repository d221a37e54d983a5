/* SPDX-License-Identifier: Apache-2.0
 *
 * The C side of the differential test: reads one JSON case per line on
 * stdin, {"policies":"<cedar text>","entities":"<entities JSON text>",
 * "requests":["<request JSON text>",...]}, decides every request with the
 * public engine API and writes one JSON line per case:
 * {"parse_ok":b,"entities_ok":b,"results":[{"request_ok":b,"decision":..,
 * "reasons":[..],"errors":[..],"messages":[..]}]}.
 *
 * With --validate it checks policies against a schema instead: each line is
 * {"schema":"<.cedarschema text>","policies":"<cedar text>"} and each answer
 * {"schema_ok":b,"parse_ok":b,"valid":b,"errors":[policy ids],
 * "messages":[..],"warnings":[policy ids]}.
 *
 * The documents travel inside JSON strings so that big integers reach the
 * engine byte for byte. This file uses only include/warden/cedar.h (and
 * jansson for the envelope); it is not a CLI and knows nothing of the
 * reference implementation, which lives in compare.js.
 */
#define _POSIX_C_SOURCE 200809L

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "warden/cedar.h"

/* Appends a borrowed C string to a JSON array; NULL becomes "". */
static int push_str(json_t *arr, const char *s) {
  return json_array_append_new(arr, json_string(s ? s : ""));
}

static json_t *decide(const cedar_policyset *ps, const cedar_entities *es, const char *rq_text,
                      size_t rq_len) {
  json_t *res = json_object();
  cedar_request *rq = NULL;
  cedar_response *rsp = NULL;
  if (!res) return NULL;
  if (cedar_request_from_json(rq_text, rq_len, NULL, &rq, NULL) != 0 || !rq) {
    json_object_set_new(res, "request_ok", json_false());
    goto out;
  }
  json_object_set_new(res, "request_ok", json_true());
  if (cedar_authorize(ps, es, rq, NULL, &rsp) != 0 || !rsp) {
    /* The contract says: treat as denied. Mark it so a diff shows why. */
    json_object_set_new(res, "decision", json_string("deny"));
    json_object_set_new(res, "authorize_failed", json_true());
    json_object_set_new(res, "reasons", json_array());
    json_object_set_new(res, "errors", json_array());
    goto out;
  }
  json_object_set_new(res, "decision",
                      json_string(cedar_response_decision(rsp) == CEDAR_ALLOW ? "allow" : "deny"));
  json_t *reasons = json_array();
  json_t *errors = json_array();
  json_t *msgs = json_array();
  for (size_t i = 0; i < cedar_response_reason_count(rsp); i++)
    push_str(reasons, cedar_response_reason(rsp, i));
  for (size_t i = 0; i < cedar_response_error_count(rsp); i++) {
    push_str(errors, cedar_response_error_policy(rsp, i));
    push_str(msgs, cedar_response_error_message(rsp, i));
  }
  json_object_set_new(res, "reasons", reasons);
  json_object_set_new(res, "errors", errors);
  json_object_set_new(res, "messages", msgs);
out:
  cedar_response_free(rsp);
  cedar_request_free(rq);
  return res;
}

/* Returns the first diagnostic's message, so a failed parse can be read
 * in the comparator's report without rerunning anything. */
static json_t *first_diag(const cedar_diags *d) {
  if (!d || cedar_diags_count(d) == 0) return json_string("");
  const cedar_diag *g = cedar_diags_get(d, 0);
  return json_string(g ? g->msg : "");
}

/* Validation mode: one error entry per error diagnostic, so the comparator
 * sees every policy that failed and why. */
static json_t *validate_case(const json_t *c) {
  json_t *out = json_object();
  cedar_diags *diags = cedar_diags_new();
  cedar_schema *sc = NULL;
  cedar_policyset *ps = NULL;
  const json_t *sch = json_object_get(c, "schema");
  const json_t *pol = json_object_get(c, "policies");
  if (!out || !diags) goto fail;
  if (!json_is_string(sch) || !json_is_string(pol)) {
    json_object_set_new(out, "bad_case", json_true());
    goto done;
  }
  int src = cedar_schema_parse(json_string_value(sch), json_string_length(sch), &sc, diags);
  json_object_set_new(out, "schema_ok", json_boolean(src == 0 && sc));
  if (src != 0 || !sc) {
    json_object_set_new(out, "schema_error", first_diag(diags));
    goto done;
  }
  cedar_diags_clear(diags);
  int prc = cedar_policyset_parse(json_string_value(pol), json_string_length(pol), &ps, diags);
  json_object_set_new(out, "parse_ok", json_boolean(prc == 0 && ps));
  if (prc != 0 || !ps) {
    json_object_set_new(out, "parse_error", first_diag(diags));
    goto done;
  }
  cedar_diags_clear(diags);
  int vrc = cedar_validate(sc, ps, diags);
  if (vrc != 0 && vrc != -WD_E_VALIDATE)
    json_object_set_new(out, "validate_failed", json_integer(vrc));
  json_object_set_new(out, "valid", json_boolean(vrc == 0));
  json_t *errors = json_array();
  json_t *msgs = json_array();
  json_t *warns = json_array();
  for (size_t i = 0; i < cedar_diags_count(diags); i++) {
    const cedar_diag *g = cedar_diags_get(diags, i);
    if (!g) continue;
    if (g->sev == CEDAR_SEV_WARNING) {
      push_str(warns, g->policy_id);
      continue;
    }
    push_str(errors, g->policy_id);
    push_str(msgs, g->msg);
  }
  json_object_set_new(out, "errors", errors);
  json_object_set_new(out, "messages", msgs);
  json_object_set_new(out, "warnings", warns);
done:
  cedar_policyset_unref(ps);
  cedar_schema_free(sc);
  cedar_diags_free(diags);
  return out;
fail:
  json_decref(out);
  cedar_policyset_unref(ps);
  cedar_schema_free(sc);
  cedar_diags_free(diags);
  return NULL;
}

static json_t *run_case(const json_t *c) {
  json_t *out = json_object();
  json_t *results = json_array();
  cedar_diags *diags = cedar_diags_new();
  cedar_policyset *ps = NULL;
  cedar_entities *es = NULL;
  const json_t *pol = json_object_get(c, "policies");
  const json_t *ent = json_object_get(c, "entities");
  const json_t *rqs = json_object_get(c, "requests");
  if (!out || !results) goto fail;
  if (!json_is_string(pol) || !json_is_string(ent) || !json_is_array(rqs)) {
    json_object_set_new(out, "bad_case", json_true());
    goto done;
  }
  int prc = cedar_policyset_parse(json_string_value(pol), json_string_length(pol), &ps, diags);
  json_object_set_new(out, "parse_ok", json_boolean(prc == 0 && ps));
  if (prc != 0 || !ps) {
    json_object_set_new(out, "parse_error", first_diag(diags));
    goto done;
  }
  cedar_diags_clear(diags);
  int erc =
      cedar_entities_from_json(json_string_value(ent), json_string_length(ent), NULL, &es, diags);
  json_object_set_new(out, "entities_ok", json_boolean(erc == 0 && es));
  if (erc != 0 || !es) {
    json_object_set_new(out, "entities_error", first_diag(diags));
    goto done;
  }
  size_t i;
  const json_t *rq;
  json_array_foreach(rqs, i, rq) {
    json_t *r = json_is_string(rq) ? decide(ps, es, json_string_value(rq), json_string_length(rq))
                                   : json_object();
    if (!r) goto fail;
    json_array_append_new(results, r);
  }
done:
  json_object_set_new(out, "results", results);
  cedar_entities_free(es);
  cedar_policyset_unref(ps);
  cedar_diags_free(diags);
  return out;
fail:
  json_decref(results);
  json_decref(out);
  cedar_entities_free(es);
  cedar_policyset_unref(ps);
  cedar_diags_free(diags);
  return NULL;
}

int main(int argc, char **argv) {
  int validate = argc > 1 && strcmp(argv[1], "--validate") == 0;
  char *line = NULL; /* getline's buffer: libc-owned, hence free() below */
  size_t cap = 0;
  ssize_t n;
  int status = 0;
  while ((n = getline(&line, &cap, stdin)) > 0) {
    if (n == 1 && line[0] == '\n') continue;
    json_error_t jerr;
    json_t *c = json_loadb(line, (size_t)n, 0, &jerr);
    json_t *out = c ? (validate ? validate_case(c) : run_case(c)) : NULL;
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    if (text) {
      fputs(text, stdout);
    } else {
      fputs("{\"bad_case\":true,\"results\":[]}", stdout);
      status = 1;
    }
    fputc('\n', stdout);
    /* One flush per case: if the engine crashes, the comparator knows
     * exactly which case did it. */
    fflush(stdout);
    free(text);
    json_decref(out);
    json_decref(c);
  }
  free(line);
  return status;
}

/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target: schema-directed entities and requests. The input is read
 * as an entities array and as a request against a fixed schema that uses
 * every kind of type (entity references, extension types, sets, open and
 * closed records, tags, enums, an action hierarchy). It must never crash,
 * leak or hang; rejecting the input is fine.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cedar/cedar_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char SCHEMA[] =
    "entity Group; entity Color enum [\"red\", \"blue\"];\n"
    "type Extra = { a: Long, b?: Set<String> };\n"
    "entity User in [Group] { name: String, ip?: ipaddr, boss?: User, when?: datetime,\n"
    "  dur?: duration, ds?: Set<decimal>, r?: Extra, e?: Color, f?: Bool } tags Set<Long>;\n"
    "action view appliesTo { principal: User, resource: [Group, User],\n"
    "  context: { n?: Long, ip?: ipaddr, who?: User } };\n"
    "action edit in [view] appliesTo { principal: User, resource: Group };\n"
    "action admin in [edit];\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cedar_schema *s;
  if (!s && cedar_schema_parse(SCHEMA, sizeof SCHEMA - 1, &s, NULL) != 0) return 0;
  cedar_diags *d = cedar_diags_new();
  cedar_entities *es = NULL;
  if (cedar_entities_from_json((const char *)data, size, s, &es, d) == 0) {
    cedar__uid a = {cedar__cstr("Action"), cedar__cstr("admin")};
    cedar__uid b = {cedar__cstr("Action"), cedar__cstr("view")};
    (void)cedar__entities_in(es, &a, &b);
  }
  cedar_entities_free(es);
  cedar_request *rq = NULL;
  if (cedar_request_from_json((const char *)data, size, s, &rq, d) == 0) (void)rq->context.u.rec.n;
  cedar_request_free(rq);
  cedar_diags_free(d);
  return 0;
}

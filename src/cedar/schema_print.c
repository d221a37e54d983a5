/* SPDX-License-Identifier: Apache-2.0
 *
 * Prints a schema given in Cedar's JSON format as .cedarschema text. It
 * works on the JSON structure, not the resolved model, so common type names
 * and the author's spelling of references survive translation.
 */
#include <string.h>

#include "cedar_schema.h"

static int is_ident(const char *s, size_t n) {
  static const char *const reserved[] = {"true", "false", "if",   "then", "else",
                                         "in",   "is",    "like", "has",  "__cedar"};
  if (!n || strlen(s) != n ||
      !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
    return 0;
  for (const char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '_'))
      return 0;
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (!strcmp(s, reserved[i])) return 0;
  return 1;
}

static int quoted(wd_buf *b, const json_t *s) {
  cedar__str v = {json_string_value(s), (uint32_t)json_string_length(s)};
  return cedar__str_print_quoted(b, v);
}

/* Keys may hold NUL bytes, hence the explicit length. */
static int name_or_quoted(wd_buf *b, const char *k, size_t kn) {
  if (is_ident(k, kn)) return wd_buf_adds(b, k);
  cedar__str v = {k, (uint32_t)kn};
  return cedar__str_print_quoted(b, v);
}

static int indent(wd_buf *b, int depth) {
  int rc = 0;
  for (int i = 0; rc == 0 && i < depth; i++)
    rc = wd_buf_adds(b, "  ");
  return rc;
}

static int annotations(wd_buf *b, const json_t *decl, int depth) {
  const json_t *an = json_object_get(decl, "annotations");
  const char *k;
  const json_t *v;
  int rc = 0;
  if (!json_is_object(an)) return 0;
  json_object_foreach((json_t *)(uintptr_t)an, k, v) {
    if ((rc = indent(b, depth)) || (rc = wd_buf_addf(b, "@%s", k))) return rc;
    if (json_is_string(v) && json_string_length(v)) {
      if ((rc = wd_buf_addc(b, '(')) || (rc = quoted(b, v)) || (rc = wd_buf_addc(b, ')')))
        return rc;
    }
    if ((rc = wd_buf_addc(b, '\n'))) return rc;
  }
  return 0;
}

static int type_text(wd_buf *b, const json_t *t, int depth);

static int record_text(wd_buf *b, const json_t *t, int depth) {
  const json_t *attrs = json_object_get(t, "attributes");
  int rc = wd_buf_addc(b, '{');
  if (rc) return rc;
  size_t n = json_object_size(attrs), i = 0;
  const char *k;
  const json_t *v;
  if (n && (rc = wd_buf_addc(b, '\n'))) return rc;
  size_t kn;
  json_object_keylen_foreach((json_t *)(uintptr_t)attrs, k, kn, v) {
    if ((rc = annotations(b, v, depth + 1)) || (rc = indent(b, depth + 1)) ||
        (rc = name_or_quoted(b, k, kn)))
      return rc;
    const json_t *req = json_object_get(v, "required");
    if (json_is_false(req) && (rc = wd_buf_addc(b, '?'))) return rc;
    if ((rc = wd_buf_adds(b, ": ")) || (rc = type_text(b, v, depth + 1))) return rc;
    if ((rc = wd_buf_adds(b, ++i < n ? ",\n" : "\n"))) return rc;
  }
  if (n && (rc = indent(b, depth))) return rc;
  return wd_buf_addc(b, '}');
}

static int type_text(wd_buf *b, const json_t *t, int depth) {
  const char *ty = json_string_value(json_object_get(t, "type"));
  const char *name = json_string_value(json_object_get(t, "name"));
  if (!ty) return wd_buf_adds(b, "__invalid");
  /* Builtins are spelled out in full: in text a bare `Long` could name a
   * common or entity type of the namespace instead. */
  if (!strcmp(ty, "Boolean")) return wd_buf_adds(b, "__cedar::Bool");
  if (!strcmp(ty, "Long") || !strcmp(ty, "String")) return wd_buf_addf(b, "__cedar::%s", ty);
  if (!strcmp(ty, "Extension") && name) return wd_buf_addf(b, "__cedar::%s", name);
  if (!strcmp(ty, "Record")) return record_text(b, t, depth);
  if (!strcmp(ty, "Set")) {
    int rc = wd_buf_adds(b, "Set<");
    if (!rc) rc = type_text(b, json_object_get(t, "element"), depth);
    return rc ? rc : wd_buf_addc(b, '>');
  }
  if (!strcmp(ty, "Entity") || !strcmp(ty, "EntityOrCommon") || !strcmp(ty, "Extension"))
    return wd_buf_adds(b, name ? name : "__invalid");
  return wd_buf_adds(b, ty); /* a common type name */
}

static int name_list(wd_buf *b, const json_t *arr) {
  int rc = wd_buf_addc(b, '[');
  for (size_t i = 0; rc == 0 && i < json_array_size(arr); i++) {
    if (i) rc = wd_buf_adds(b, ", ");
    if (!rc) rc = wd_buf_adds(b, json_string_value(json_array_get(arr, i)));
  }
  return rc ? rc : wd_buf_addc(b, ']');
}

static int entity_text(wd_buf *b, const char *k, const json_t *e, int depth) {
  int rc;
  if ((rc = annotations(b, e, depth)) || (rc = indent(b, depth)) ||
      (rc = wd_buf_addf(b, "entity ")) || (rc = name_or_quoted(b, k, strlen(k))))
    return rc;
  const json_t *en = json_object_get(e, "enum");
  if (en) {
    if ((rc = wd_buf_adds(b, " enum ["))) return rc;
    for (size_t i = 0; rc == 0 && i < json_array_size(en); i++) {
      if (i) rc = wd_buf_adds(b, ", ");
      if (!rc) rc = quoted(b, json_array_get(en, i));
    }
    return rc ? rc : wd_buf_adds(b, "];\n");
  }
  const json_t *mo = json_object_get(e, "memberOfTypes");
  if (json_array_size(mo) && ((rc = wd_buf_adds(b, " in ")) || (rc = name_list(b, mo)))) return rc;
  const json_t *shape = json_object_get(e, "shape");
  if (shape) {
    if ((rc = wd_buf_adds(b, " = ")) || (rc = type_text(b, shape, depth))) return rc;
  }
  const json_t *tags = json_object_get(e, "tags");
  if (tags && ((rc = wd_buf_adds(b, " tags ")) || (rc = type_text(b, tags, depth)))) return rc;
  return wd_buf_adds(b, ";\n");
}

static int action_ref(wd_buf *b, const json_t *m) {
  const char *ty = json_string_value(json_object_get(m, "type"));
  int rc = 0;
  if (ty && (rc = wd_buf_addf(b, "%s::", ty))) return rc;
  return quoted(b, json_object_get(m, "id"));
}

static int action_text(wd_buf *b, const char *k, size_t klen, const json_t *a, int depth) {
  int rc;
  cedar__str kn = {k, (uint32_t)klen};
  if ((rc = annotations(b, a, depth)) || (rc = indent(b, depth)) ||
      (rc = wd_buf_adds(b, "action ")) || (rc = cedar__str_print_quoted(b, kn)))
    return rc;
  const json_t *mo = json_object_get(a, "memberOf");
  if (json_array_size(mo)) {
    if ((rc = wd_buf_adds(b, " in ["))) return rc;
    for (size_t i = 0; rc == 0 && i < json_array_size(mo); i++) {
      if (i) rc = wd_buf_adds(b, ", ");
      if (!rc) rc = action_ref(b, json_array_get(mo, i));
    }
    if (rc || (rc = wd_buf_addc(b, ']'))) return rc;
  }
  const json_t *ap = json_object_get(a, "appliesTo");
  const json_t *p = json_object_get(ap, "principalTypes");
  const json_t *r = json_object_get(ap, "resourceTypes");
  const json_t *c = json_object_get(ap, "context");
  /* Empty lists mean the action applies to nothing, which the text format
   * says by leaving appliesTo out (it rejects `principal: []`). */
  if (json_is_object(ap) && (json_array_size(p) || json_array_size(r) || c)) {
    const json_t *vals[3] = {p, r, c};
    static const char *const keys[3] = {"principal: ", "resource: ", "context: "};
    const char *sep = "";
    if ((rc = wd_buf_adds(b, " appliesTo {"))) return rc;
    for (int i = 0; i < 3; i++) {
      if (!vals[i]) continue;
      if ((rc = wd_buf_adds(b, sep)) || (rc = wd_buf_addc(b, '\n')) ||
          (rc = indent(b, depth + 1)) || (rc = wd_buf_adds(b, keys[i])) ||
          (rc = i < 2 ? name_list(b, vals[i]) : type_text(b, vals[i], depth + 1)))
        return rc;
      sep = ",";
    }
    if ((rc = wd_buf_addc(b, '\n')) || (rc = indent(b, depth)) || (rc = wd_buf_addc(b, '}')))
      return rc;
  }
  return wd_buf_adds(b, ";\n");
}

int cedar__schema_print_text(wd_buf *b, const json_t *root) {
  const char *ns;
  const json_t *body;
  int rc = 0, first = 1;
  json_object_foreach((json_t *)(uintptr_t)root, ns, body) {
    int depth = ns[0] ? 1 : 0;
    if (!first && (rc = wd_buf_addc(b, '\n'))) return rc;
    first = 0;
    if (ns[0] && ((rc = annotations(b, body, 0)) || (rc = wd_buf_addf(b, "namespace %s {\n", ns))))
      return rc;
    const char *k;
    const json_t *v;
    json_object_foreach(json_object_get(body, "commonTypes"), k, v) {
      if ((rc = annotations(b, v, depth)) || (rc = indent(b, depth)) ||
          (rc = wd_buf_addf(b, "type %s = ", k)) || (rc = type_text(b, v, depth)) ||
          (rc = wd_buf_adds(b, ";\n")))
        return rc;
    }
    json_object_foreach(json_object_get(body, "entityTypes"), k, v) {
      if ((rc = entity_text(b, k, v, depth))) return rc;
    }
    size_t kl;
    json_object_keylen_foreach(json_object_get(body, "actions"), k, kl, v) {
      if ((rc = action_text(b, k, kl, v, depth))) return rc;
    }
    if (ns[0] && (rc = wd_buf_adds(b, "}\n"))) return rc;
  }
  return 0;
}

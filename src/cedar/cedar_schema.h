/* SPDX-License-Identifier: Apache-2.0
 *
 * The schema model shared by the schema readers (schema_text.c for the
 * .cedarschema format, schema_json.c for JSON), the writers, the validator
 * and schema-directed entity parsing. Every name in the model is fully
 * qualified and every common type is already inlined, so consumers never
 * resolve names themselves. Everything lives in the schema's arena.
 */
#ifndef CEDAR_SCHEMA_H
#define CEDAR_SCHEMA_H

#include "cedar_int.h"

typedef enum {
  CEDAR__T_BOOL,
  CEDAR__T_LONG,
  CEDAR__T_STRING,
  CEDAR__T_ENTITY, /* name: fully qualified entity type */
  CEDAR__T_SET,    /* elem */
  CEDAR__T_RECORD, /* attrs */
  CEDAR__T_EXT,    /* name: "decimal", "ipaddr", "datetime" or "duration" */
} cedar__tkind;

typedef struct cedar__type cedar__type;

typedef struct cedar__tattr {
  cedar__str name;
  const cedar__type *type;
  int required;
} cedar__tattr;

struct cedar__type {
  cedar__tkind kind;
  cedar__str name;           /* ENTITY, EXT */
  const cedar__type *elem;   /* SET */
  const cedar__tattr *attrs; /* RECORD: INVARIANT sorted by name, unique */
  uint32_t nattrs;
  int open; /* RECORD: additional attributes allowed */
};

typedef struct cedar__sentity {
  cedar__str name;           /* fully qualified */
  const cedar__str *parents; /* memberOfTypes, fully qualified */
  uint32_t nparents;
  const cedar__type *shape;   /* RECORD, never NULL */
  const cedar__type *tags;    /* NULL when the type has no tags */
  const cedar__str *enum_ids; /* for enum entity types */
  uint32_t nenum;
  int is_enum;
  const cedar__annot *annots;
  uint32_t nannots;
} cedar__sentity;

typedef struct cedar__saction {
  const cedar__uid *uid;            /* Ns::Action::"name" */
  const cedar__uid *const *parents; /* memberOf, fully qualified */
  uint32_t nparents;
  int has_applies;              /* appliesTo given */
  const cedar__str *principals; /* principalTypes */
  uint32_t nprincipals;
  const cedar__str *resources; /* resourceTypes */
  uint32_t nresources;
  const cedar__type *context; /* RECORD, never NULL */
  const cedar__annot *annots;
  uint32_t nannots;
} cedar__saction;

/* A common type kept for the writers, so translation keeps the author's
 * names; consumers use the inlined types. */
typedef struct cedar__scommon {
  cedar__str name; /* fully qualified */
  const cedar__type *type;
} cedar__scommon;

struct cedar_schema {
  wd_arena *arena;
  cedar__sentity *entities; /* declaration order */
  uint32_t nentities;
  cedar__saction *actions; /* declaration order */
  uint32_t nactions;
  cedar__scommon *commons;
  uint32_t ncommons;
  wd_map *entity_by_name; /* name -> cedar__sentity* */
  wd_map *action_by_key;  /* "type\0id" -> cedar__saction* */
};

/* Resolves a schema in the JSON format's structure (both readers end
 * here). Borrows root. On success *out is owned. */
int cedar__schema_build(const json_t *root, cedar_schema **out, cedar_diags *diags);
/* Where the nodes of a JSON structure came from in .cedarschema text, so
 * resolution errors can point into it. spans maps a json_t pointer (its
 * bytes are the key) to a cedar__span in some arena. */
typedef struct cedar__span {
  uint32_t off, len;
  const json_t *node; /* the key's storage: the map borrows keys */
} cedar__span;
typedef struct cedar__schema_loc {
  const char *src;
  size_t len;
  const wd_map *spans;
} cedar__schema_loc;
/* cedar__schema_build with an optional locator (loc may be NULL). */
int cedar__schema_build_loc(const json_t *root, const cedar__schema_loc *loc, cedar_schema **out,
                            cedar_diags *diags);
/* Parses .cedarschema text into the JSON format's structure (schema_text.c).
 * On success *root is a new reference; spans (when non-NULL) receives the
 * source span of every type, declaration and name node, allocated in a. */
int cedar__schema_text_parse(const char *src, size_t len, wd_arena *a, wd_map *spans, json_t **root,
                             cedar_diags *diags);
/* Appends root (a schema in the JSON format's structure) as .cedarschema
 * text. Borrows root. */
int cedar__schema_print_text(wd_buf *b, const json_t *root);
const cedar__sentity *cedar__schema_entity(const cedar_schema *s, cedar__str name);
const cedar__saction *cedar__schema_action(const cedar_schema *s, const cedar__uid *uid);

#endif

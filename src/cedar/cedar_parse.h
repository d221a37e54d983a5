/* SPDX-License-Identifier: Apache-2.0
 *
 * Parser state shared by parse.c (policies, scopes, annotations, error
 * recovery) and parse_expr.c (expressions). Private to those files.
 */
#ifndef CEDAR_PARSE_H
#define CEDAR_PARSE_H

#include "cedar_lex.h"

typedef struct cedar__parser {
  cedar__lexer lx;
  wd_arena *a;
  cedar_diags *diags;
  cedar__tok tok;    /* the current token */
  uint32_t prev_end; /* end offset of the token before tok */
  uint32_t depth;    /* expression nesting, capped by WD_LIMIT_EXPR_DEPTH */
  int nomem;         /* an allocation failed: stop, report -WD_E_NOMEM */
  int toobig;        /* a size limit was hit */
} cedar__parser;

void cedar__p_init(cedar__parser *p, wd_arena *a, const char *src, size_t len, cedar_diags *diags);
void cedar__p_advance(cedar__parser *p);
/* Reports an error at a span and returns -WD_E_PARSE (or -WD_E_NOMEM once
 * an allocation failed, so callers unwind with the right code). */
int cedar__p_err(cedar__parser *p, uint32_t off, uint32_t len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Reports "expected <what> <where>, found <tok>" at the current token;
 * stays silent when the lexer already reported that token. */
int cedar__p_expected(cedar__parser *p, const char *what, const char *where);
/* Consumes a token of kind k or reports what was expected. */
int cedar__p_expect(cedar__parser *p, cedar__tk k, const char *what, const char *where);
/* Copies a STR token's unescaped body into the arena. */
int cedar__p_string(cedar__parser *p, cedar__tok t, cedar__str *out);
/* Reports the invalid escape at offset bad of a STR token's body. */
int cedar__p_bad_escape(cedar__parser *p, cedar__tok t, uint32_t bad, const char *what);
/* Parses Name::"id" starting at the current identifier. */
int cedar__p_uid(cedar__parser *p, const cedar__uid **out);
/* Parses a type name (A::B::C) for `is`. */
int cedar__p_typename(cedar__parser *p, cedar__str *out);
/* Parses one expression (Cedar's Expr production). */
int cedar__p_expr(cedar__parser *p, const cedar__expr **out);
/* Grows an arena array to hold need elements (doubling). */
int cedar__p_grow(cedar__parser *p, void **arr, uint32_t *cap, size_t elsize, uint32_t need);

#endif

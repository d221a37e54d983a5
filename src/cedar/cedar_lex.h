/* SPDX-License-Identifier: Apache-2.0
 *
 * The Cedar policy lexer, private to lex.c and parse*.c. It turns source
 * bytes into tokens on demand, one at a time, and tracks bracket nesting
 * so the parser can recover at the end of a broken policy. Keywords are
 * plain identifiers here: whether a word is reserved depends on where it
 * appears, which only the parser knows.
 */
#ifndef CEDAR_LEX_H
#define CEDAR_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "cedar_int.h"

typedef enum {
  TK_EOF,
  TK_ERROR, /* already reported by the lexer */
  TK_IDENT,
  TK_INT,
  TK_STR,    /* span includes the quotes; body not yet unescaped */
  TK_SLOT_P, /* ?principal */
  TK_SLOT_R, /* ?resource */
  TK_AT,
  TK_LPAREN,
  TK_RPAREN,
  TK_LBRACK,
  TK_RBRACK,
  TK_LBRACE,
  TK_RBRACE,
  TK_COMMA,
  TK_SEMI,
  TK_DOT,
  TK_COLON,
  TK_COLON2,
  TK_EQ,
  TK_NE,
  TK_LT,
  TK_LE,
  TK_GT,
  TK_GE,
  TK_AND,
  TK_OR,
  TK_PLUS,
  TK_MINUS,
  TK_STAR,
  TK_BANG,
} cedar__tk;

typedef struct cedar__tok {
  cedar__tk kind;
  uint32_t off, len;
} cedar__tok;

typedef struct cedar__lexer {
  const char *src;
  uint32_t len;
  uint32_t pos;  /* next byte to scan */
  uint32_t nest; /* open ( [ { not yet closed, floored at 0 */
  int quiet;     /* while recovering: do not report lexical errors */
  cedar_diags *diags;
  int nerr; /* lexical errors reported */
} cedar__lexer;

void cedar__lex_init(cedar__lexer *lx, const char *src, size_t len, cedar_diags *diags);
/* Scans the next token. Lexical errors are reported here (unless quiet)
 * and come back as TK_ERROR, after which scanning resumes past the bad
 * bytes. */
cedar__tok cedar__lex_next(cedar__lexer *lx);
/* 1 if the token is the identifier w (NUL-terminated). */
int cedar__tok_is(const cedar__lexer *lx, cedar__tok t, const char *w);
/* Short printable name of a token for "found ..." messages, written into
 * buf (n bytes, always NUL-terminated). */
const char *cedar__tok_describe(const cedar__lexer *lx, cedar__tok t, char *buf, size_t n);
/* Offset of the first byte that is not valid UTF-8, or len if none. */
size_t cedar__utf8_check(const char *s, size_t len);

#endif

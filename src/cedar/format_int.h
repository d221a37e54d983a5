/* SPDX-License-Identifier: Apache-2.0
 *
 * Private helpers shared by the formatter (format*.c) and the EST codec
 * (est*.c): quoting, identifier checks, operator symbols and the builtin
 * name table. These do not depend on value.c so that printing stays
 * self-contained; nothing here is used outside those files.
 */
#ifndef CEDAR_FORMAT_INT_H
#define CEDAR_FORMAT_INT_H

#include "cedar_int.h"

/* Appends s with Cedar string escapes but without quotes. In a pattern
 * literal a '*' must be escaped too, or it would read back as a wildcard. */
int cedar__fmt_escape(wd_buf *b, cedar__str s, int in_pattern);
/* Appends "s" (quoted, escaped). */
int cedar__fmt_quoted(wd_buf *b, cedar__str s);
/* Appends Type::"id". */
int cedar__fmt_uid(wd_buf *b, const cedar__uid *u);
/* 1 if s can be written bare after `.`, `has` or as a record key: an
 * identifier that is not one of Cedar's reserved words. */
int cedar__fmt_is_ident(cedar__str s);
/* 1 if s is a plain identifier (reserved words included). */
int cedar__fmt_is_name(cedar__str s);
/* Name, method flag and arity of a builtin, from CEDAR__FN_MAP. */
const char *cedar__fmt_fn_name(cedar__fn f);
int cedar__fmt_fn_is_method(cedar__fn f);
unsigned cedar__fmt_fn_arity(cedar__fn f);
/* Looks a builtin up by exact name; -1 when unknown. */
int cedar__fmt_fn_find(const char *name, size_t n);
/* The symbol of a binary operator as Cedar text and the EST both spell it
 * ("==", "in", "&&"); NULL for any other kind. */
const char *cedar__fmt_binop(cedar__xkind k);
/* The binary operator spelled s: 1 and *out set, or 0. */
int cedar__fmt_binop_find(const char *s, cedar__xkind *out);

#endif

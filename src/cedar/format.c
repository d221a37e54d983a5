/* SPDX-License-Identifier: Apache-2.0
 *
 * The canonical printer: turns a policy or an expression AST back into
 * Cedar text. The output reads back to an equal AST (parentheses are
 * added exactly where precedence or associativity needs them) and printing
 * it again gives the same bytes, because the layout depends on the AST
 * alone. It is close to, but not byte-identical with, `cedar format`.
 *
 * It is not a pretty-printer for arbitrary widths: only the scope and the
 * top-level chain of a condition are broken across lines when a line would
 * pass LINE_WIDTH columns. Comments are handled by format_source.c.
 */
#include <inttypes.h>
#include <string.h>

#include "../util/wd_alloc.h"
#include "format_int.h"

#define LINE_WIDTH   80
#define SPINE_INLINE 32

/* Binding strength, loosest first; a child printed where a stronger level is
 * required gets parentheses. The grammar levels of the Cedar spec. */
enum {
  P_IF = 0,
  P_OR = 1,
  P_AND = 2,
  P_REL = 3,
  P_ADD = 4,
  P_MUL = 5,
  P_UNARY = 6,
  P_MEMBER = 7,
  P_PRIMARY = 8,
};

typedef struct fmt {
  wd_buf *b;
  uint32_t depth;
} fmt;

static int emit(fmt *f, const cedar__expr *e, int minprec);

/* ---- helpers shared with est.c ------------------------------------------- */

static const struct {
  const char *name;
  uint8_t method, arity;
} fn_info[CEDAR__F__COUNT] = {
#define XX(id, name, method, arity) {name, method, arity},
    CEDAR__FN_MAP(XX)
#undef XX
};

const char *cedar__fmt_fn_name(cedar__fn fn) {
  return (unsigned)fn < CEDAR__F__COUNT ? fn_info[fn].name : "?";
}

int cedar__fmt_fn_is_method(cedar__fn fn) {
  return (unsigned)fn < CEDAR__F__COUNT ? fn_info[fn].method : 0;
}

unsigned cedar__fmt_fn_arity(cedar__fn fn) {
  return (unsigned)fn < CEDAR__F__COUNT ? fn_info[fn].arity : 0;
}

int cedar__fmt_fn_find(const char *name, size_t n) {
  for (int i = 0; i < (int)CEDAR__F__COUNT; i++)
    if (strlen(fn_info[i].name) == n && memcmp(fn_info[i].name, name, n) == 0) return i;
  return -1;
}

int cedar__fmt_is_name(cedar__str s) {
  if (s.n == 0) return 0;
  for (uint32_t i = 0; i < s.n; i++) {
    unsigned char c = (unsigned char)s.p[i];
    int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return 0;
  }
  return 1;
}

int cedar__fmt_is_ident(cedar__str s) {
  static const char *const reserved[] = {"true", "false", "if",   "then", "else",
                                         "in",   "is",    "like", "has",  "__cedar"};
  if (!cedar__fmt_is_name(s)) return 0;
  for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
    if (strlen(reserved[i]) == s.n && memcmp(reserved[i], s.p, s.n) == 0) return 0;
  return 1;
}

int cedar__fmt_escape(wd_buf *b, cedar__str s, int in_pattern) {
  int rc = 0;
  for (uint32_t i = 0; i < s.n && rc == 0; i++) {
    unsigned char c = (unsigned char)s.p[i];
    switch (c) {
    case '"': rc = wd_buf_adds(b, "\\\""); break;
    case '\\': rc = wd_buf_adds(b, "\\\\"); break;
    case '\n': rc = wd_buf_adds(b, "\\n"); break;
    case '\r': rc = wd_buf_adds(b, "\\r"); break;
    case '\t': rc = wd_buf_adds(b, "\\t"); break;
    case '\0': rc = wd_buf_adds(b, "\\0"); break;
    case '*': rc = in_pattern ? wd_buf_adds(b, "\\*") : wd_buf_addc(b, '*'); break;
    default:
      /* Other control bytes would be invisible (or break the line), so
       * they get a \u{..} escape; UTF-8 is kept as written. */
      if (c < 0x20 || c == 0x7f)
        rc = wd_buf_addf(b, "\\u{%x}", (unsigned)c);
      else
        rc = wd_buf_addc(b, (char)c);
      break;
    }
  }
  return rc;
}

int cedar__fmt_quoted(wd_buf *b, cedar__str s) {
  int rc = wd_buf_addc(b, '"');
  if (rc == 0) rc = cedar__fmt_escape(b, s, 0);
  if (rc == 0) rc = wd_buf_addc(b, '"');
  return rc;
}

int cedar__fmt_uid(wd_buf *b, const cedar__uid *u) {
  int rc = wd_buf_add(b, u->type.p, u->type.n);
  if (rc == 0) rc = wd_buf_adds(b, "::");
  if (rc == 0) rc = cedar__fmt_quoted(b, u->id);
  return rc;
}

/* ---- expressions ---------------------------------------------------------- */

static int is_method_call(const cedar__expr *e) {
  return e->kind == CEDAR__X_CALL && cedar__fmt_fn_is_method(e->u.call.fn) && e->u.call.n >= 1;
}

static int prec_of(const cedar__expr *e) {
  switch (e->kind) {
  case CEDAR__X_IF: return P_IF;
  case CEDAR__X_OR: return P_OR;
  case CEDAR__X_AND: return P_AND;
  case CEDAR__X_EQ:
  case CEDAR__X_NE:
  case CEDAR__X_LT:
  case CEDAR__X_LE:
  case CEDAR__X_GT:
  case CEDAR__X_GE:
  case CEDAR__X_IN:
  case CEDAR__X_HAS:
  case CEDAR__X_LIKE:
  case CEDAR__X_IS: return P_REL;
  case CEDAR__X_ADD:
  case CEDAR__X_SUB: return P_ADD;
  case CEDAR__X_MUL: return P_MUL;
  case CEDAR__X_NOT:
  case CEDAR__X_NEG: return P_UNARY;
  case CEDAR__X_GETATTR: return P_MEMBER;
  case CEDAR__X_CALL: return is_method_call(e) ? P_MEMBER : P_PRIMARY;
  case CEDAR__X_LIT:
    /* A negative literal prints with a leading '-', like a unary. */
    return (e->u.lit.kind == CEDAR__V_LONG && e->u.lit.u.i < 0) ? P_UNARY : P_PRIMARY;
  case CEDAR__X_VAR:
  case CEDAR__X_SET:
  case CEDAR__X_RECORD: return P_PRIMARY;
  }
  return P_PRIMARY;
}

const char *cedar__fmt_binop(cedar__xkind k) {
  switch (k) {
  case CEDAR__X_OR: return "||";
  case CEDAR__X_AND: return "&&";
  case CEDAR__X_EQ: return "==";
  case CEDAR__X_NE: return "!=";
  case CEDAR__X_LT: return "<";
  case CEDAR__X_LE: return "<=";
  case CEDAR__X_GT: return ">";
  case CEDAR__X_GE: return ">=";
  case CEDAR__X_IN: return "in";
  case CEDAR__X_ADD: return "+";
  case CEDAR__X_SUB: return "-";
  case CEDAR__X_MUL: return "*";
  case CEDAR__X_LIT:
  case CEDAR__X_VAR:
  case CEDAR__X_IF:
  case CEDAR__X_NOT:
  case CEDAR__X_NEG:
  case CEDAR__X_HAS:
  case CEDAR__X_GETATTR:
  case CEDAR__X_LIKE:
  case CEDAR__X_IS:
  case CEDAR__X_SET:
  case CEDAR__X_RECORD:
  case CEDAR__X_CALL: break;
  }
  return NULL;
}

int cedar__fmt_binop_find(const char *s, cedar__xkind *out) {
  for (int k = CEDAR__X_LIT; k <= CEDAR__X_CALL; k++) {
    const char *op = cedar__fmt_binop((cedar__xkind)k);
    if (op && strcmp(op, s) == 0) {
      *out = (cedar__xkind)k;
      return 1;
    }
  }
  return 0;
}

/* Appends " op" and then tail (" " inline, a line break when the chain is
 * broken over lines). */
static int add_binop(wd_buf *b, cedar__xkind k, const char *tail) {
  const char *op = cedar__fmt_binop(k);
  int rc = wd_buf_addc(b, ' ');
  if (rc == 0) rc = wd_buf_adds(b, op ? op : "?");
  if (rc == 0) rc = wd_buf_adds(b, tail);
  return rc;
}

static int is_assoc_chain(const cedar__expr *e) {
  return e->kind == CEDAR__X_OR || e->kind == CEDAR__X_AND || e->kind == CEDAR__X_ADD ||
         e->kind == CEDAR__X_SUB || e->kind == CEDAR__X_MUL;
}

/* The left child that a chain continues through: the left operand of a
 * left-associative operator, or the receiver of `.attr` / `.method()`. */
static const cedar__expr *spine_next(const cedar__expr *e, int cls) {
  if (cls == P_MEMBER) {
    if (e->kind == CEDAR__X_GETATTR) return e->u.attr.e;
    if (is_method_call(e)) return e->u.call.args[0];
    return NULL;
  }
  if (is_assoc_chain(e) && prec_of(e) == cls) return e->u.op.a;
  return NULL;
}

static int in_spine(const cedar__expr *e, int cls) {
  if (cls == P_MEMBER) return e->kind == CEDAR__X_GETATTR || is_method_call(e);
  return is_assoc_chain(e) && prec_of(e) == cls;
}

/* Collects the chain starting at e into *out (outermost first). Long
 * chains such as a && b && ... are left-deep trees whose depth the parser
 * does not bound, so they are walked with a loop, never recursion. */
static int collect_spine(const cedar__expr *e, int cls, const cedar__expr **inl,
                         const cedar__expr ***out, size_t *n) {
  size_t k = 0;
  for (const cedar__expr *x = e; x && in_spine(x, cls); x = spine_next(x, cls))
    k++;
  const cedar__expr **v = inl;
  if (k > SPINE_INLINE) {
    v = wd_malloc(k * sizeof *v);
    if (!v) return -WD_E_NOMEM;
  }
  size_t i = 0;
  for (const cedar__expr *x = e; x && in_spine(x, cls); x = spine_next(x, cls))
    v[i++] = x;
  *out = v;
  *n = k;
  return 0;
}

static int emit_list(fmt *f, const cedar__expr *const *items, uint32_t n, uint32_t from) {
  int rc = 0;
  for (uint32_t i = from; i < n && rc == 0; i++) {
    if (i > from) rc = wd_buf_adds(f->b, ", ");
    if (rc == 0) rc = emit(f, items[i], P_IF);
  }
  return rc;
}

static int emit_member_suffix(fmt *f, const cedar__expr *x) {
  int rc;
  if (x->kind == CEDAR__X_GETATTR) {
    if (cedar__fmt_is_ident(x->u.attr.attr)) {
      rc = wd_buf_addc(f->b, '.');
      if (rc == 0) rc = wd_buf_add(f->b, x->u.attr.attr.p, x->u.attr.attr.n);
    } else {
      rc = wd_buf_addc(f->b, '[');
      if (rc == 0) rc = cedar__fmt_quoted(f->b, x->u.attr.attr);
      if (rc == 0) rc = wd_buf_addc(f->b, ']');
    }
    return rc;
  }
  rc = wd_buf_addf(f->b, ".%s(", cedar__fmt_fn_name(x->u.call.fn));
  if (rc == 0) rc = emit_list(f, x->u.call.args, x->u.call.n, 1);
  if (rc == 0) rc = wd_buf_addc(f->b, ')');
  return rc;
}

/* Prints a chain of class cls; when brk is set (only for the top of a
 * long condition), each operand goes on its own indented line. */
static int emit_chain(fmt *f, const cedar__expr *e, int cls, int brk) {
  const cedar__expr *inl[SPINE_INLINE];
  const cedar__expr **v = NULL;
  size_t n = 0;
  int rc = collect_spine(e, cls, inl, &v, &n);
  if (rc != 0) return rc;
  rc = emit(f, spine_next(v[n - 1], cls), cls == P_MEMBER ? P_MEMBER : cls);
  for (size_t i = n; i-- > 0 && rc == 0;) {
    const cedar__expr *x = v[i];
    if (cls == P_MEMBER) {
      rc = emit_member_suffix(f, x);
      continue;
    }
    rc = add_binop(f->b, x->kind, brk ? "\n  " : " ");
    if (rc == 0) rc = emit(f, x->u.op.b, cls + 1);
  }
  if (v != inl) wd_free(v);
  return rc;
}

static int emit_lit(fmt *f, const cedar__val *v) {
  switch (v->kind) {
  case CEDAR__V_BOOL: return wd_buf_adds(f->b, v->u.b ? "true" : "false");
  case CEDAR__V_LONG: return wd_buf_addf(f->b, "%" PRId64, v->u.i);
  case CEDAR__V_STRING: return cedar__fmt_quoted(f->b, v->u.s);
  case CEDAR__V_ENTITY: return cedar__fmt_uid(f->b, v->u.uid);
  case CEDAR__V_SET:
  case CEDAR__V_RECORD:
  case CEDAR__V_DECIMAL:
  case CEDAR__V_IPADDR:
  case CEDAR__V_DATETIME:
  case CEDAR__V_DURATION: return cedar__val_print(f->b, v);
  }
  return -WD_E_INTERNAL;
}

static int emit_attr_name(fmt *f, cedar__str s) {
  if (cedar__fmt_is_ident(s)) return wd_buf_add(f->b, s.p, s.n);
  return cedar__fmt_quoted(f->b, s);
}

static int emit_pattern(fmt *f, const cedar__patelem *pat, uint32_t n) {
  int rc = wd_buf_addc(f->b, '"');
  for (uint32_t i = 0; i < n && rc == 0; i++)
    rc = pat[i].wild ? wd_buf_addc(f->b, '*') : cedar__fmt_escape(f->b, pat[i].lit, 1);
  if (rc == 0) rc = wd_buf_addc(f->b, '"');
  return rc;
}

static int emit_raw(fmt *f, const cedar__expr *e) {
  wd_buf *b = f->b;
  int rc = 0;
  switch (e->kind) {
  case CEDAR__X_LIT: return emit_lit(f, &e->u.lit);
  case CEDAR__X_VAR: {
    static const char *const names[] = {"principal", "action", "resource", "context"};
    return wd_buf_adds(b, (unsigned)e->u.var < 4 ? names[e->u.var] : "?");
  }
  case CEDAR__X_IF:
    rc = wd_buf_adds(b, "if ");
    if (rc == 0) rc = emit(f, e->u.op.a, P_IF);
    if (rc == 0) rc = wd_buf_adds(b, " then ");
    if (rc == 0) rc = emit(f, e->u.op.b, P_IF);
    if (rc == 0) rc = wd_buf_adds(b, " else ");
    if (rc == 0) rc = emit(f, e->u.op.c, P_IF);
    return rc;
  case CEDAR__X_OR:
  case CEDAR__X_AND:
  case CEDAR__X_ADD:
  case CEDAR__X_SUB:
  case CEDAR__X_MUL: return emit_chain(f, e, prec_of(e), 0);
  case CEDAR__X_NOT:
  case CEDAR__X_NEG: {
    const cedar__expr *a = e->u.op.a;
    rc = wd_buf_addc(b, e->kind == CEDAR__X_NOT ? '!' : '-');
    /* -(3) must keep its parentheses: -3 would read back as a literal. */
    if (rc == 0 && e->kind == CEDAR__X_NEG && a->kind == CEDAR__X_LIT &&
        a->u.lit.kind == CEDAR__V_LONG) {
      rc = wd_buf_addc(b, '(');
      if (rc == 0) rc = emit_raw(f, a);
      if (rc == 0) rc = wd_buf_addc(b, ')');
      return rc;
    }
    if (rc == 0) rc = emit(f, a, P_MEMBER);
    return rc;
  }
  case CEDAR__X_EQ:
  case CEDAR__X_NE:
  case CEDAR__X_LT:
  case CEDAR__X_LE:
  case CEDAR__X_GT:
  case CEDAR__X_GE:
  case CEDAR__X_IN:
    /* Relations do not chain: both sides must bind tighter. */
    rc = emit(f, e->u.op.a, P_ADD);
    if (rc == 0) rc = add_binop(b, e->kind, " ");
    if (rc == 0) rc = emit(f, e->u.op.b, P_ADD);
    return rc;
  case CEDAR__X_HAS:
    rc = emit(f, e->u.attr.e, P_ADD);
    if (rc == 0) rc = wd_buf_adds(b, " has ");
    if (rc == 0) rc = emit_attr_name(f, e->u.attr.attr);
    return rc;
  case CEDAR__X_GETATTR: return emit_chain(f, e, P_MEMBER, 0);
  case CEDAR__X_LIKE:
    rc = emit(f, e->u.like.e, P_ADD);
    if (rc == 0) rc = wd_buf_adds(b, " like ");
    if (rc == 0) rc = emit_pattern(f, e->u.like.pat, e->u.like.n);
    return rc;
  case CEDAR__X_IS:
    rc = emit(f, e->u.is.e, P_ADD);
    if (rc == 0) rc = wd_buf_adds(b, " is ");
    if (rc == 0) rc = wd_buf_add(b, e->u.is.type.p, e->u.is.type.n);
    if (rc == 0 && e->u.is.in) {
      rc = wd_buf_adds(b, " in ");
      if (rc == 0) rc = emit(f, e->u.is.in, P_ADD);
    }
    return rc;
  case CEDAR__X_SET:
    rc = wd_buf_addc(b, '[');
    if (rc == 0) rc = emit_list(f, e->u.list.items, e->u.list.n, 0);
    if (rc == 0) rc = wd_buf_addc(b, ']');
    return rc;
  case CEDAR__X_RECORD:
    rc = wd_buf_addc(b, '{');
    for (uint32_t i = 0; i < e->u.rec.n && rc == 0; i++) {
      if (i > 0) rc = wd_buf_adds(b, ", ");
      if (rc == 0) rc = emit_attr_name(f, e->u.rec.keys[i]);
      if (rc == 0) rc = wd_buf_adds(b, ": ");
      if (rc == 0) rc = emit(f, e->u.rec.vals[i], P_IF);
    }
    if (rc == 0) rc = wd_buf_addc(b, '}');
    return rc;
  case CEDAR__X_CALL:
    if (is_method_call(e)) return emit_chain(f, e, P_MEMBER, 0);
    rc = wd_buf_addf(b, "%s(", cedar__fmt_fn_name(e->u.call.fn));
    if (rc == 0) rc = emit_list(f, e->u.call.args, e->u.call.n, 0);
    if (rc == 0) rc = wd_buf_addc(b, ')');
    return rc;
  }
  return -WD_E_INTERNAL;
}

static int emit(fmt *f, const cedar__expr *e, int minprec) {
  if (!e) return -WD_E_INVAL;
  if (++f->depth > WD_LIMIT_EVAL_DEPTH) return -WD_E_TOOBIG;
  int rc;
  if (prec_of(e) < minprec) {
    rc = wd_buf_addc(f->b, '(');
    if (rc == 0) rc = emit_raw(f, e);
    if (rc == 0) rc = wd_buf_addc(f->b, ')');
  } else {
    rc = emit_raw(f, e);
  }
  f->depth--;
  return rc;
}

int cedar__format_expr(wd_buf *b, const cedar__expr *e) {
  fmt f = {b, 0};
  return emit(&f, e, P_IF);
}

/* ---- policies ------------------------------------------------------------- */

static int emit_scope(wd_buf *b, const char *var, const cedar__scope *s, const cedar__policy *p) {
  int rc = wd_buf_adds(b, var);
  const char *slotname = s->slot == CEDAR__SLOT_RESOURCE ? "?resource" : "?principal";
  const cedar__uid *target = s->uid;
  /* A linked policy prints with its slot values filled in. */
  if (s->slot != CEDAR__SLOT_NONE && (unsigned)s->slot < 2 && p->slot_vals[s->slot])
    target = p->slot_vals[s->slot];
  else if (s->slot != CEDAR__SLOT_NONE)
    target = NULL;
  switch (s->kind) {
  case CEDAR__SC_ANY: return rc;
  case CEDAR__SC_EQ:
  case CEDAR__SC_IN:
    if (rc == 0) rc = wd_buf_adds(b, s->kind == CEDAR__SC_EQ ? " == " : " in ");
    break;
  case CEDAR__SC_IS:
  case CEDAR__SC_IS_IN:
    if (rc == 0) rc = wd_buf_adds(b, " is ");
    if (rc == 0) rc = wd_buf_add(b, s->type.p, s->type.n);
    if (s->kind == CEDAR__SC_IS) return rc;
    if (rc == 0) rc = wd_buf_adds(b, " in ");
    break;
  case CEDAR__SC_IN_SET:
    if (rc == 0) rc = wd_buf_adds(b, " in [");
    for (uint32_t i = 0; i < s->nuids && rc == 0; i++) {
      if (i > 0) rc = wd_buf_adds(b, ", ");
      if (rc == 0) rc = cedar__fmt_uid(b, s->uids[i]);
    }
    if (rc == 0) rc = wd_buf_addc(b, ']');
    return rc;
  }
  if (rc != 0) return rc;
  return target ? cedar__fmt_uid(b, target) : wd_buf_adds(b, slotname);
}

static int emit_cond(wd_buf *b, const cedar__cond *c, int last) {
  const char *kw = c->is_when ? "when" : "unless";
  wd_buf one;
  wd_buf_init(&one, WD_LIMIT_BUF_DEFAULT);
  fmt f = {&one, 0};
  int rc = emit(&f, c->e, P_IF);
  if (rc != 0) goto out;
  size_t width = strlen(kw) + 4 + wd_buf_len(&one) + 2 + (last ? 1 : 0);
  if (width <= LINE_WIDTH) {
    rc = wd_buf_addf(b, "\n%s { %s }", kw, wd_buf_str(&one));
    goto out;
  }
  rc = wd_buf_addf(b, "\n%s {\n  ", kw);
  if (rc != 0) goto out;
  fmt g = {b, 0};
  const cedar__expr *e = c->e;
  if (e->kind == CEDAR__X_OR || e->kind == CEDAR__X_AND)
    rc = emit_chain(&g, e, prec_of(e), 1);
  else
    rc = emit(&g, e, P_IF);
  if (rc == 0) rc = wd_buf_adds(b, "\n}");
out:
  wd_buf_free(&one);
  return rc;
}

int cedar__format_policy(wd_buf *b, const cedar__policy *p) {
  int rc = 0;
  for (uint32_t i = 0; i < p->nannots && rc == 0; i++) {
    const cedar__annot *a = &p->annots[i];
    rc = wd_buf_addc(b, '@');
    if (rc == 0) rc = wd_buf_add(b, a->key.p, a->key.n);
    if (rc == 0 && a->has_val) {
      rc = wd_buf_addc(b, '(');
      if (rc == 0) rc = cedar__fmt_quoted(b, a->val);
      if (rc == 0) rc = wd_buf_addc(b, ')');
    }
    if (rc == 0) rc = wd_buf_addc(b, '\n');
  }
  if (rc != 0) return rc;

  wd_buf sc[3];
  const char *const vars[3] = {"principal", "action", "resource"};
  const cedar__scope *scopes[3] = {&p->principal, &p->action, &p->resource};
  size_t total = 0;
  for (int i = 0; i < 3; i++)
    wd_buf_init(&sc[i], WD_LIMIT_BUF_DEFAULT);
  for (int i = 0; i < 3 && rc == 0; i++) {
    rc = emit_scope(&sc[i], vars[i], scopes[i], p);
    total += wd_buf_len(&sc[i]);
  }
  if (rc != 0) goto out;
  const char *eff = p->effect == CEDAR__FORBID ? "forbid" : "permit";
  int oneline = strlen(eff) + 2 + total + 4 + 1 + (p->nconds ? 0 : 1) <= LINE_WIDTH;
  if (oneline)
    rc = wd_buf_addf(b, "%s (%s, %s, %s)", eff, wd_buf_str(&sc[0]), wd_buf_str(&sc[1]),
                     wd_buf_str(&sc[2]));
  else
    rc = wd_buf_addf(b, "%s (\n  %s,\n  %s,\n  %s\n)", eff, wd_buf_str(&sc[0]), wd_buf_str(&sc[1]),
                     wd_buf_str(&sc[2]));
  for (uint32_t i = 0; i < p->nconds && rc == 0; i++)
    rc = emit_cond(b, &p->conds[i], i + 1 == p->nconds);
  if (rc == 0) rc = wd_buf_addc(b, ';');
out:
  for (int i = 0; i < 3; i++)
    wd_buf_free(&sc[i]);
  return rc;
}

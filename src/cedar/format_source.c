/* SPDX-License-Identifier: Apache-2.0
 *
 * Formatting whole files: a policy set, or Cedar source text with its
 * comments. The AST carries no comments, so cedar_format_source finds
 * them in the text and places them by byte offset against the policy
 * spans:
 *   - comments between two policies go before the second one, except a
 *     comment on the same line as the end of the previous policy, which
 *     stays at the end of that policy's last line;
 *   - comments inside a policy move to just before it (after its leading
 *     comments), in order;
 *   - comments after the last policy stay at the end of the file.
 * Each of these placements is a fixed point, which keeps the output
 * idempotent. Policies are separated by one blank line.
 */
#include <string.h>

#include "../util/wd_alloc.h"
#include "format_int.h"

typedef struct comment {
  uint32_t off, len; /* from the "//" to the end of the line, trailing blanks trimmed */
  uint32_t line;     /* 1-based line of the "//" */
} comment;

typedef struct clist {
  comment *v;
  size_t n, cap;
} clist;

static int clist_push(clist *l, comment c) {
  if (l->n == l->cap) {
    size_t ncap = l->cap ? l->cap * 2 : 16;
    comment *nv = wd_realloc(l->v, ncap * sizeof *nv);
    if (!nv) return -WD_E_NOMEM;
    l->v = nv;
    l->cap = ncap;
  }
  l->v[l->n++] = c;
  return 0;
}

/* Finds every `//` comment outside string literals. Cedar has only
 * double-quoted strings with backslash escapes, so this small state
 * machine is enough; the text has already parsed when this runs. */
static int scan_comments(const char *src, size_t len, clist *out) {
  uint32_t line = 1;
  for (size_t i = 0; i < len; i++) {
    char c = src[i];
    if (c == '\n') {
      line++;
    } else if (c == '"') {
      for (i++; i < len && src[i] != '"'; i++) {
        if (src[i] == '\\' && i + 1 < len) i++;
        if (src[i] == '\n') line++;
      }
    } else if (c == '/' && i + 1 < len && src[i + 1] == '/') {
      size_t e = i;
      while (e < len && src[e] != '\n')
        e++;
      size_t t = e;
      while (t > i && (src[t - 1] == ' ' || src[t - 1] == '\t' || src[t - 1] == '\r'))
        t--;
      int rc = clist_push(out, (comment){(uint32_t)i, (uint32_t)(t - i), line});
      if (rc != 0) return rc;
      i = e - 1;
    }
  }
  return 0;
}

static uint32_t line_of(const char *src, uint32_t off, uint32_t *cache_off, uint32_t *cache_line) {
  /* Offsets are asked for in increasing order, so count incrementally. */
  for (uint32_t i = *cache_off; i < off; i++)
    if (src[i] == '\n') (*cache_line)++;
  *cache_off = off;
  return *cache_line;
}

static int put_comment(wd_buf *b, const char *src, const comment *c) {
  int rc = wd_buf_add(b, src + c->off, c->len);
  if (rc == 0) rc = wd_buf_addc(b, '\n');
  return rc;
}

static int format_with_comments(wd_buf *b, const char *src, size_t len, cedar__policy **ps,
                                uint32_t n) {
  clist cs = {0};
  int rc = scan_comments(src, len, &cs);
  size_t ci = 0;
  uint32_t coff = 0, cline = 1;
  for (uint32_t k = 0; k < n && rc == 0; k++) {
    const cedar__policy *p = ps[k];
    uint32_t end = p->off + p->len;
    uint32_t next = k + 1 < n ? ps[k + 1]->off : UINT32_MAX;
    if (k > 0) rc = wd_buf_addc(b, '\n');
    for (; ci < cs.n && cs.v[ci].off < end && rc == 0; ci++)
      rc = put_comment(b, src, &cs.v[ci]);
    if (rc == 0) rc = cedar__format_policy(b, p);
    if (rc != 0) break;
    /* A comment on the policy's last line is its trailing comment. */
    uint32_t endline = line_of(src, end > 0 ? end - 1 : 0, &coff, &cline);
    if (ci < cs.n && cs.v[ci].line == endline && cs.v[ci].off < next) {
      rc = wd_buf_addc(b, ' ');
      if (rc == 0) rc = wd_buf_add(b, src + cs.v[ci].off, cs.v[ci].len);
      ci++;
    }
    if (rc == 0) rc = wd_buf_addc(b, '\n');
  }
  for (; ci < cs.n && rc == 0; ci++)
    rc = put_comment(b, src, &cs.v[ci]);
  wd_free(cs.v);
  return rc;
}

int cedar_format_source(const char *src, size_t len, char **out, cedar_diags *diags) {
  if (!out || (!src && len)) return -WD_E_INVAL;
  *out = NULL;
  if (len > WD_LIMIT_POLICY_TEXT_BYTES)
    return cedar__diag(diags, -WD_E_TOOBIG, "policy text exceeds %u bytes",
                       WD_LIMIT_POLICY_TEXT_BYTES);
  if (!src) src = "";
  wd_arena *a = wd_arena_new(WD_LIMIT_POLICYSET_BYTES);
  if (!a) return -WD_E_NOMEM;
  cedar__policy **ps = NULL;
  uint32_t n = 0;
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_BUF_DEFAULT);
  int rc = cedar__parse_policies(a, src, len, 0, &ps, &n, diags);
  if (rc != 0) {
    rc = -WD_E_PARSE;
    goto out;
  }
  /* The output is a C string, so a NUL byte (only possible inside a
   * comment, since the parser accepted the text) could not survive it. */
  const char *nul = memchr(src, '\0', len);
  if (nul) {
    rc = cedar__diag_at(diags, src, len, -WD_E_INVAL, (uint32_t)(nul - src), 1,
                        "a NUL byte in a comment cannot be formatted");
    goto out;
  }
  rc = format_with_comments(&b, src, len, ps, n);
  if (rc != 0) goto out;
  *out = wd_buf_take(&b);
  if (!*out) rc = -WD_E_NOMEM;
out:
  wd_buf_free(&b);
  wd_arena_free(a);
  return rc;
}

int cedar_policyset_format(const cedar_policyset *ps, char **out) {
  if (!ps || !out) return -WD_E_INVAL;
  *out = NULL;
  wd_buf b;
  wd_buf_init(&b, WD_LIMIT_BUF_DEFAULT);
  int rc = 0;
  uint32_t i = 0, j = 0, k = 0;
  /* Merge templates and static policies back into order of addition;
   * linked policies are not text of their own. */
  while (rc == 0 && (i < ps->npolicies || j < ps->ntemplates)) {
    const cedar__policy *p;
    if (i < ps->npolicies && ps->policies[i]->template_id.n > 0) {
      i++;
      continue;
    }
    if (j >= ps->ntemplates || (i < ps->npolicies && ps->policies[i]->pos < ps->templates[j]->pos))
      p = ps->policies[i++];
    else
      p = ps->templates[j++];
    if (k++ > 0) rc = wd_buf_addc(&b, '\n');
    if (rc == 0) rc = cedar__format_policy(&b, p);
    if (rc == 0) rc = wd_buf_addc(&b, '\n');
  }
  if (rc == 0) {
    *out = wd_buf_take(&b);
    if (!*out) rc = -WD_E_NOMEM;
  }
  wd_buf_free(&b);
  return rc;
}

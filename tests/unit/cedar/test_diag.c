/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for diagnostics: line/column in characters, rendering with a
 * caret under the span, and the cap on how many are kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"
#include "warden/cedar.h"
#include "util/wd_alloc.h"

static void locate_counts_characters(void **state) {
  (void)state;
  static const struct {
    const char *src;
    uint32_t off, line, col;
  } rows[] = {
      {"abc", 0, 1, 1},    {"abc", 2, 1, 3},       {"ab\ncd", 3, 2, 1},
      {"ab\ncd", 4, 2, 2}, {"\xc3\xa9x", 2, 1, 2}, /* é is one character */
      {"abc", 99, 1, 4},                           /* past the end clamps */
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    uint32_t l, c;
    cedar__locate(rows[i].src, strlen(rows[i].src), rows[i].off, &l, &c);
    if (l != rows[i].line || c != rows[i].col) {
      print_error("row %zu: got %u:%u want %u:%u\n", i, l, c, rows[i].line, rows[i].col);
      fails++;
    }
  }
  assert_int_equal(fails, 0);
}

static void render_has_caret(void **state) {
  (void)state;
  const char *src = "permit(\n  principal,\n  acton,\n  resource\n);";
  cedar_diags *d = cedar_diags_new();
  uint32_t off = (uint32_t)(strstr(src, "acton") - src);
  int rc = cedar__diag_at(d, src, strlen(src), -WD_E_PARSE, off, 5, "expected `action`, found `%s`",
                          "acton");
  assert_int_equal(rc, -WD_E_PARSE);
  assert_int_equal(cedar_diags_count(d), 1);
  const cedar_diag *g = cedar_diags_get(d, 0);
  assert_int_equal(g->line, 3);
  assert_int_equal(g->col, 3);
  char *out = cedar_diags_render(d, "p.cedar", src, strlen(src));
  assert_non_null(out);
  assert_non_null(strstr(out, "p.cedar:3:3: error: expected `action`, found `acton`\n"));
  assert_non_null(strstr(out, "    acton,\n    ^^^^^\n"));
  cedar_free(out);
  cedar_diags_free(d);
}

static void keeps_at_most_the_limit(void **state) {
  (void)state;
  cedar_diags *d = cedar_diags_new();
  for (unsigned i = 0; i < WD_LIMIT_PARSE_ERRORS + 5; i++)
    (void)cedar__diag(d, -WD_E_PARSE, "e%u", i);
  assert_int_equal(cedar_diags_count(d), WD_LIMIT_PARSE_ERRORS);
  char *out = cedar_diags_render(d, "f", NULL, 0);
  assert_non_null(strstr(out, "5 more errors not shown"));
  cedar_free(out);
  cedar_diags_free(d);
  cedar_diags_free(NULL);
}

/* Findings past the limit in a text are counted, not located (locating
 * scans the text, and doing it for each made many findings quadratic);
 * the kept ones still carry their line. */
static void past_the_limit_only_counts(void **state) {
  (void)state;
  enum { LINES = WD_LIMIT_PARSE_ERRORS * 3 };
  static char src[LINES * 3];
  for (unsigned i = 0; i < LINES; i++)
    memcpy(src + 3 * i, "x;\n", 3);
  cedar_diags *d = cedar_diags_new();
  for (unsigned i = 0; i < LINES; i++)
    (void)cedar__diag_at(d, src, sizeof src, -WD_E_PARSE, 3 * i, 1, "bad %u", i);
  assert_int_equal(cedar_diags_count(d), WD_LIMIT_PARSE_ERRORS);
  assert_int_equal(cedar_diags_get(d, 41)->line, 42);
  assert_true(cedar__diags_full(d));
  assert_true(cedar__diags_full(NULL));
  char *out = cedar_diags_render(d, "f", src, sizeof src);
  char want[64];
  (void)snprintf(want, sizeof want, "%u more errors not shown", LINES - WD_LIMIT_PARSE_ERRORS);
  assert_non_null(strstr(out, want));
  cedar_free(out);
  cedar_diags_free(d);
}

/* A policy file's control characters never reach the terminal: the
 * message names them by code and the source line shows '?' in their
 * place, so a NUL does not cut the message short either. */
static void control_characters_shown_safely(void **state) {
  (void)state;
  static const char src[] = "permit(principal, action, resource)\n"
                            "when { \x1b]0;owned\x07 \x00 };";
  size_t len = sizeof src - 1;
  cedar_diags *d = cedar_diags_new();
  cedar_policyset *ps = NULL;
  assert_int_not_equal(cedar_policyset_parse(src, len, &ps, d), 0);
  char *out = cedar_diags_render(d, "p.cedar", src, len);
  assert_non_null(out);
  assert_non_null(strstr(out, "p.cedar:2:8: error: unexpected control character 0x1b"));
  assert_non_null(strstr(out, "  when { ?]0;owned? ? };\n         ^\n"));
  for (const char *p = out; *p; p++)
    assert_true((unsigned char)*p >= 0x20 || *p == '\n');
  cedar_free(out);
  cedar_policyset_unref(ps);
  cedar_diags_free(d);

  /* A C1 control (U+009B, CSI on many terminals), in a key and loose. */
  static const char c1[] = "permit(principal, action, resource)\n"
                           "when { {\"\xC2\x9B"
                           "2J\":1, \"\xC2\x9B"
                           "2J\":2} == {} };";
  d = cedar_diags_new();
  ps = NULL;
  assert_int_not_equal(cedar_policyset_parse(c1, sizeof c1 - 1, &ps, d), 0);
  out = cedar_diags_render(d, "p.cedar", c1, sizeof c1 - 1);
  assert_non_null(out);
  assert_non_null(strstr(out, "duplicate key `?2J`"));
  assert_null(strstr(out, "\xC2\x9B"));
  cedar_free(out);
  cedar_diags_free(d);
  static const char loose[] = "permit(principal, action, resource) when { \xC2\x9B };";
  d = cedar_diags_new();
  assert_int_not_equal(cedar_policyset_parse(loose, sizeof loose - 1, &ps, d), 0);
  assert_non_null(strstr(cedar_diags_get(d, 0)->msg, "unexpected control character U+009B"));
  cedar_diags_free(d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(locate_counts_characters),
      cmocka_unit_test(render_has_caret),
      cmocka_unit_test(keeps_at_most_the_limit),
      cmocka_unit_test(past_the_limit_only_counts),
      cmocka_unit_test(control_characters_shown_safely),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

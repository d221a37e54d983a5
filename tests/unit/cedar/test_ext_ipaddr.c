/* SPDX-License-Identifier: Apache-2.0
 *
 * Unit tests for the ipaddr extension: accepted and refused texts and the
 * canonical print (rows checked against cedar-wasm 4.13), and the
 * methods, whose prefix rules (isLoopback needs /8 or longer, ranges keep
 * host bits) are the reference's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cedar/cedar_int.h"
#include "cedar/ext_int.h"
#include "test_util.h"

static cedar__str S(const char *s) { return (cedar__str){s, (uint32_t)strlen(s)}; }

static int parse_print(cedar__str in, wd_buf *b, char *err) {
  cedar__ip ip;
  int rc = cedar__ip_parse(in, &ip, err);
  return rc ? rc : cedar__ip_print(b, &ip);
}

static void parse_table(void **state) {
  (void)state;
  static const tu_print_row rows[] = {
      {"127.0.0.1", "127.0.0.1/32", NULL},
      {"0.0.0.0/0", "0.0.0.0/0", NULL},
      {"10.1.2.3/8", "10.1.2.3/8", NULL},
      {"255.255.255.255", "255.255.255.255/32", NULL},
      {"::", "::/128", NULL},
      {"::1", "::1/128", NULL},
      {"0::1", "::1/128", NULL},
      {"1::", "1::/128", NULL},
      {"ABCD::EF", "abcd::ef/128", NULL},
      {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8/128", NULL},
      {"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0/128", NULL},
      {"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8/128", NULL},
      {"1:0:0:2:0:0:0:3/64", "1:0:0:2::3/64", NULL},
      {"0:0:1:0:0:1:0:0", "::1:0:0:1:0:0/128", NULL},
      {"0001:0db8::", "1:db8::/128", NULL},
      {"::ffff:7f00:1", "::ffff:127.0.0.1/128", NULL},
      {"::/0", "::/0", NULL},
      {"ff02::1/8", "ff02::1/8", NULL},
      {"01.2.3.4", NULL, "invalid IP address: 01.2.3.4"},
      {"1.2.3.04", NULL, "invalid IP address"},
      {"256.0.0.0", NULL, "invalid IP address"},
      {"1.2.3", NULL, "invalid IP address"},
      {"1.2.3.4.5", NULL, "invalid IP address"},
      {" 1.2.3.4", NULL, "invalid IP address"},
      {"::ffff:1.2.3.4", NULL, "We do not accept IPv4 embedded in IPv6"},
      {"1:2:3:4:5:6:7:8::", NULL, "invalid IP address"},
      {"1::2:3:4:5:6:7:8", NULL, "invalid IP address"},
      {"::1:2:3:4:5:6:7:8", NULL, "invalid IP address"},
      {"1:2:3:4:5:6:7:8:9", NULL, "invalid IP address"},
      {":1:2:3:4:5:6:7", NULL, "invalid IP address"},
      {"1:2:3:4:5:6:7:", NULL, "invalid IP address"},
      {"1::2::3", NULL, "invalid IP address"},
      {"00001::", NULL, "invalid IP address"},
      {"::%eth0", NULL, "invalid IP address"},
      {"[::1]", NULL, "invalid IP address"},
      {"1.2.3.4/33", NULL, "error parsing prefix: 33 is larger than the limit 32"},
      {"::/129", NULL, "129 is larger than the limit 128"},
      {"1.2.3.4/032", NULL, "string length 3 is too large"},
      {"::/0128", NULL, "string length 4 is too large"},
      {"1.2.3.4/08", NULL, "leading zero(s)"},
      {"1.2.3.4/", NULL, "cannot parse integer from empty string"},
      {"1.2.3.4/ 8", NULL, "encountered non-digit"},
      {"1.2.3.4/+8", NULL, "encountered non-digit"},
      {"1.2.3.4/8/8", NULL, "string length 3 is too large"},
      {"1.2.3.4/8/", NULL, "prefix `8/`: encountered non-digit"},
      {"1.2.3/8", NULL, "error parsing IP address from the string `1.2.3`"},
      {"1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16:17:18:19", NULL,
       "string `1:2:3:4:5:6:7:8:9:10:11:12:13:14:15:16:17:18:19`: string length is too large"},
  };
  int fails = tu_print_table(rows, sizeof rows / sizeof rows[0], parse_print);
  assert_int_equal(fails, 0);
}

static cedar__val ipv(const char *s) {
  cedar__val v = {.kind = CEDAR__V_IPADDR};
  char err[CEDAR_DIAG_MSG];
  assert_int_equal(cedar__ip_parse(S(s), &v.u.ip, err), 0);
  return v;
}

static int call1(cedar__fn_impl f, const char *s) {
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  cedar__val a = ipv(s), out;
  assert_int_equal(f(&cx, &a, &out), 0);
  assert_int_equal(out.kind, CEDAR__V_BOOL);
  return out.u.b;
}

static void unary_methods(void **state) {
  (void)state;
  static const struct {
    const char *ip;
    int v4, loop, multi;
  } rows[] = {
      {"127.0.0.1", 1, 1, 0},     {"127.0.0.1/8", 1, 1, 0}, {"127.0.0.1/7", 1, 0, 0},
      {"128.0.0.1", 1, 0, 0},     {"::1", 0, 1, 0},         {"::1/127", 0, 0, 0},
      {"::2", 0, 0, 0},           {"224.0.0.1", 1, 0, 1},   {"239.1.1.1/4", 1, 0, 1},
      {"224.0.0.1/3", 1, 0, 0},   {"240.0.0.1", 1, 0, 0},   {"ff00::", 0, 0, 1},
      {"ff00::/8", 0, 0, 1},      {"ff00::/7", 0, 0, 0},    {"fe00::", 0, 0, 0},
      {"::ffff:7f00:1", 0, 0, 0},
  };
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    const char *s = rows[i].ip;
    if (call1(cedar__ext_IS_IPV4, s) != rows[i].v4 || call1(cedar__ext_IS_IPV6, s) == rows[i].v4 ||
        call1(cedar__ext_IS_LOOPBACK, s) != rows[i].loop ||
        call1(cedar__ext_IS_MULTICAST, s) != rows[i].multi) {
      print_error("row %zu (%s)\n", i, s);
      fails++;
    }
  }
  assert_int_equal(fails, 0);
}

static void in_range(void **state) {
  (void)state;
  static const struct {
    const char *a, *b;
    int in;
  } rows[] = {
      {"1.2.3.4", "1.2.3.4/8", 1},
      {"1.2.3.4/8", "1.2.3.4", 0},
      {"1.2.3.4", "1.2.3.4", 1},
      {"10.0.0.0/8", "10.1.0.0/8", 1},
      {"10.0.0.0/16", "10.0.0.0/8", 1},
      {"10.0.0.0/8", "10.0.0.0/16", 0},
      {"11.0.0.0", "10.0.0.0/8", 0},
      {"1.2.3.4", "0.0.0.0/0", 1},
      {"1.2.3.4", "::/0", 0},
      {"::1", "0.0.0.0/0", 0},
      {"::1", "::/0", 1},
      {"2001:db8::1", "2001:db8::/32", 1},
      {"2001:db9::1", "2001:db8::/32", 0},
      {"2001:db8::/31", "2001:db8::/32", 0},
      {"1.2.3.4/31", "1.2.3.5/31", 1},
      {"1.2.3.4/31", "1.2.3.6/31", 0},
  };
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  int fails = 0;
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    cedar__val args[2] = {ipv(rows[i].a), ipv(rows[i].b)}, out;
    if (cedar__ext_IS_IN_RANGE(&cx, args, &out) || out.u.b != rows[i].in) {
      print_error("row %zu: %s in %s\n", i, rows[i].a, rows[i].b);
      fails++;
    }
  }
  assert_int_equal(fails, 0);
}

static void errors(void **state) {
  (void)state;
  cedar__evalctx cx;
  memset(&cx, 0, sizeof cx);
  cedar__val out, args[2] = {ipv("1.2.3.4"), {.kind = CEDAR__V_DECIMAL, .u.i = 1}};
  assert_int_equal(cedar__ext_IS_IN_RANGE(&cx, args, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "type error: expected ipaddr, got decimal");
  cedar__val s = {.kind = CEDAR__V_STRING, .u.s = S("1.2.3.4")};
  assert_int_equal(cedar__ext_IS_IPV4(&cx, &s, &out), -WD_E_EVAL);
  assert_string_equal(cx.err, "type error: expected ipaddr, got string");
  s.u.s = S("01.2.3.4");
  assert_int_equal(cedar__ext_IP(&cx, &s, &out), -WD_E_EVAL);
  assert_string_equal(cx.err,
                      "error while evaluating `ipaddr` extension function: invalid IP address: "
                      "01.2.3.4");
  s.u.s = S("10.0.0.1/24");
  assert_int_equal(cedar__ext_IP(&cx, &s, &out), 0);
  assert_int_equal(out.kind, CEDAR__V_IPADDR);
  assert_int_equal(out.u.ip.prefix, 24);
  assert_int_equal(out.u.ip.addr[3], 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parse_table),
      cmocka_unit_test(unary_methods),
      cmocka_unit_test(in_range),
      cmocka_unit_test(errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

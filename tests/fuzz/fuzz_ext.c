/* SPDX-License-Identifier: Apache-2.0
 *
 * Fuzz target for the extension literal parsers. The first byte picks
 * decimal, ip, datetime or duration; the rest is the text. Any input must
 * end in a value or a clean error, and a value's canonical print must
 * parse back to the same value (except the two prints the reference
 * itself cannot read back: IPv4-mapped IPv6, and datetimes outside the
 * years 0000-9999).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cedar/cedar_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1 || size > 256) return 0;
  cedar__str s = {(const char *)data + 1, (uint32_t)(size - 1)};
  char err[CEDAR_DIAG_MSG];
  wd_buf b;
  wd_buf_init(&b, 256);
  int64_t v = 0, back = 0;
  cedar__ip ip, ip2;
  switch (data[0] & 3) {
  case 0:
    if (cedar__decimal_parse(s, &v, err) == 0 && cedar__decimal_print(&b, v) == 0 &&
        (cedar__decimal_parse(cedar__cstr(wd_buf_str(&b)), &back, err) || back != v))
      abort();
    break;
  case 1:
    if (cedar__ip_parse(s, &ip, err) == 0 && cedar__ip_print(&b, &ip) == 0 &&
        !(ip.v6 && strchr(wd_buf_str(&b), '.')) &&
        (cedar__ip_parse(cedar__cstr(wd_buf_str(&b)), &ip2, err) ||
         memcmp(&ip, &ip2, sizeof ip) != 0))
      abort();
    break;
  case 2:
    if (cedar__datetime_parse(s, &v, err) == 0 && cedar__datetime_print(&b, v) == 0 &&
        wd_buf_str(&b)[0] != '-' && wd_buf_str(&b)[0] != '+' &&
        (cedar__datetime_parse(cedar__cstr(wd_buf_str(&b)), &back, err) || back != v))
      abort();
    break;
  default:
    if (cedar__duration_parse(s, &v, err) == 0 &&
        (cedar__duration_print(&b, v) ||
         cedar__duration_parse(cedar__cstr(wd_buf_str(&b)), &back, err) || back != v))
      abort();
    break;
  }
  wd_buf_free(&b);
  return 0;
}

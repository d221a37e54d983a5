/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: placeholder so the tree links; replaced by the real implementation.
 */
#include "cedar_int.h"

int cedar__decimal_parse(cedar__str s, int64_t *out, char *err) { (void)s; (void)out; (void)err; return -WD_E_INTERNAL; }
int cedar__decimal_print(wd_buf *b, int64_t v) { (void)b; (void)v; return -WD_E_INTERNAL; }

/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: placeholder so the tree links; replaced by the real implementation.
 */
#include "cedar_int.h"

int cedar__ip_parse(cedar__str s, cedar__ip *out, char *err) { (void)s; (void)out; (void)err; return -WD_E_INTERNAL; }
int cedar__ip_print(wd_buf *b, const cedar__ip *ip) { (void)b; (void)ip; return -WD_E_INTERNAL; }

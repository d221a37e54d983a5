/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: placeholder so the tree links; replaced by the real implementation.
 */
#include "cedar_int.h"

int cedar__datetime_parse(cedar__str s, int64_t *out_ms, char *err) { (void)s; (void)out_ms; (void)err; return -WD_E_INTERNAL; }
int cedar__duration_parse(cedar__str s, int64_t *out_ms, char *err) { (void)s; (void)out_ms; (void)err; return -WD_E_INTERNAL; }
int cedar__datetime_print(wd_buf *b, int64_t ms) { (void)b; (void)ms; return -WD_E_INTERNAL; }
int cedar__duration_print(wd_buf *b, int64_t ms) { (void)b; (void)ms; return -WD_E_INTERNAL; }

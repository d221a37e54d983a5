/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: placeholder so the tree links; replaced by the real implementation.
 */
#include "cedar_int.h"

int cedar__str_cmp(cedar__str a, cedar__str b) { (void)a; (void)b; return -WD_E_INTERNAL; }
int cedar__str_eq(cedar__str a, cedar__str b) { (void)a; (void)b; return -WD_E_INTERNAL; }
cedar__str cedar__cstr(const char *s) { (void)s; cedar__str r_ = {0}; return r_; }
int cedar__uid_eq(const cedar__uid *a, const cedar__uid *b) { (void)a; (void)b; return -WD_E_INTERNAL; }
int cedar__uid_cmp(const cedar__uid *a, const cedar__uid *b) { (void)a; (void)b; return -WD_E_INTERNAL; }
int cedar__val_cmp(const cedar__val *a, const cedar__val *b) { (void)a; (void)b; return -WD_E_INTERNAL; }
int cedar__val_eq(const cedar__val *a, const cedar__val *b) { (void)a; (void)b; return -WD_E_INTERNAL; }
int cedar__set_make(wd_arena *a, const cedar__val *vals, uint32_t n, cedar__val *out) { (void)a; (void)vals; (void)n; (void)out; return -WD_E_INTERNAL; }
int cedar__rec_make(wd_arena *a, const cedar__str *keys, const cedar__val *vals, uint32_t n, cedar__val *out, uint32_t *dup_index) { (void)a; (void)keys; (void)vals; (void)n; (void)out; (void)dup_index; return -WD_E_INTERNAL; }
const cedar__val * cedar__rec_get(const cedar__val *rec, cedar__str key) { (void)rec; (void)key; return NULL; }
int cedar__set_has(const cedar__val *set, const cedar__val *v) { (void)set; (void)v; return -WD_E_INTERNAL; }
const cedar__uid * cedar__uid_new(wd_arena *a, cedar__str type, cedar__str id) { (void)a; (void)type; (void)id; return NULL; }
int cedar__val_print(wd_buf *b, const cedar__val *v) { (void)b; (void)v; return -WD_E_INTERNAL; }
int cedar__uid_print(wd_buf *b, const cedar__uid *uid) { (void)b; (void)uid; return -WD_E_INTERNAL; }
int cedar__str_print_quoted(wd_buf *b, cedar__str s) { (void)b; (void)s; return -WD_E_INTERNAL; }
json_t * cedar__val_to_json(const cedar__val *v) { (void)v; return NULL; }
const char * cedar__vkind_name(cedar__vkind k) { (void)k; return NULL; }

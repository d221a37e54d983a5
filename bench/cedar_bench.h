/* SPDX-License-Identifier: Apache-2.0
 *
 * What the benchmark's two C files share: the clock, the file reader and
 * the validation workload. Private to bench/; not part of the engine.
 */
#ifndef WD_CEDAR_BENCH_H
#define WD_CEDAR_BENCH_H

#include <stddef.h>

double bench_now_s(void);
/* Reads a whole file; returns owned NUL-terminated text (free()) or NULL. */
char *bench_slurp(const char *path, size_t *len);
/* Times cedar_validate on generated policy sets against the schema at
 * schema_path and prints one JSON line per size. Returns 0 or 1. */
int bench_validate(const char *schema_path, int quick);

#endif

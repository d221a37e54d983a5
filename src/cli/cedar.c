/* SPDX-License-Identifier: Apache-2.0
 *
 * STUB: `warden cedar` subcommands; replaced by the real implementation.
 */
#include <stdio.h>

#include "cli.h"

int wd_cli_cedar(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fputs("warden cedar: not built yet\n", stderr);
  return 1;
}

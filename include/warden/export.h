/* SPDX-License-Identifier: Apache-2.0
 *
 * Symbol visibility. The libraries are built with -fvisibility=hidden and
 * only declarations marked WD_EXTERN are exported; scripts/check-symbols.sh
 * fails the build if an exported symbol lacks a project prefix.
 */
#ifndef WARDEN_EXPORT_H
#define WARDEN_EXPORT_H

#if defined(__GNUC__)
#define WD_EXTERN __attribute__((visibility("default")))
#define WD_WUR    __attribute__((warn_unused_result))
#else
#define WD_EXTERN
#define WD_WUR
#endif

#endif

/* nebula-utils-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-utils.h"

G_BEGIN_DECLS

/* The implementations behind nebula_memory_copy() and nebula_memory_fill(),
 * reachable one by one so that tests check each and nebula-bench measures
 * each against glibc. */
typedef enum
{
  NEBULA_SIMD_PORTABLE,
  NEBULA_SIMD_SSE2,
  NEBULA_SIMD_AVX2,
  NEBULA_SIMD_N_LEVELS
} NebulaSimdLevel;

typedef void (*NebulaCopyFunc) (gpointer dest, gconstpointer src, gsize n);
typedef void (*NebulaFillFunc) (gpointer dest, guint8 value, gsize n);

/* Whether this CPU can run @level. */
gboolean        nebula_simd_level_supported (NebulaSimdLevel level);
const char     *nebula_simd_level_name      (NebulaSimdLevel level);
/* The level the dispatcher chose. */
NebulaSimdLevel nebula_simd_level_best      (void);
/* The raw vector loops, without routing sizes to glibc. */
NebulaCopyFunc  nebula_simd_get_copy        (NebulaSimdLevel level);
NebulaFillFunc  nebula_simd_get_fill        (NebulaSimdLevel level);

/* Requests of at least this many bytes go to glibc, which uses
 * non-temporal stores and "rep movsb" there (see docs/performance.md). */
#define NEBULA_SIMD_GLIBC_THRESHOLD ((gsize) 1 << 62)

G_END_DECLS

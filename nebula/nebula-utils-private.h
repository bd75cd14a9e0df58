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

/* Where the vector loops beat the C library, measured with
 * `nebula-bench --simd` (HACKING.md, "Memory copy and fill"). glibc's
 * memcpy (AVX2/EVEX with "rep movsb", non-temporal stores for huge blocks)
 * wins below 64 KiB and from 1 MiB; in between the plain AVX2 loop is
 * 5-10% faster. glibc's memset wins or ties everywhere, so fills always go
 * to it. With another C library the vector loops take every size. */
#ifdef __GLIBC__
# define NEBULA_SIMD_COPY_MIN  ((gsize) 64 * 1024)
# define NEBULA_SIMD_COPY_MAX  ((gsize) 1024 * 1024)
# define NEBULA_SIMD_FILL_WITH_LIBC 1
#else
# define NEBULA_SIMD_COPY_MIN  ((gsize) 0)
# define NEBULA_SIMD_COPY_MAX  G_MAXSIZE
# define NEBULA_SIMD_FILL_WITH_LIBC 0
#endif

G_END_DECLS

/* nebula-system-allocator-private.h: the System allocator's instance, for
 * its direct path (nebula-system-allocator-direct.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdlib.h>

#include "nebula-allocator-core-private.h"
#include "nebula-allocator-private.h"
#include "nebula-system-allocator.h"
#include "nebula-system-table-private.h"

G_BEGIN_DECLS

/* The direct paths call malloc() and free() through the GOT, not a PLT
 * stub: one jump fewer per call (GCC on x86; a compiler without the
 * attribute calls them as usual). Interposition is unchanged: the GOT
 * entry is the one the PLT stub would jump through. */
#if defined(__has_attribute)
# if __has_attribute (noplt)
extern void *malloc (size_t size) __attribute__ ((noplt));
extern void free (void *ptr) __attribute__ ((noplt));
# endif
#endif

struct _NebulaSystemAllocator
{
  GObject                parent_instance;
  NebulaAllocatorCore    core;

  NebulaStatsCounters    stats;
  guint64                stats_key;     /* of the thread-safe stats' per-thread cache */
  NebulaAllocatorConfig  config;
  gboolean               check_frees;

  NebulaSystemTable     *live;          /* with check-frees */
};

/* The dispatch finds every built-in's core right after its GObject; the
 * system allocator has no inline fast fields after it. */
G_STATIC_ASSERT (G_STRUCT_OFFSET (NebulaSystemAllocator, core) == sizeof (GObject));

/* With check-frees, reports a foreign or freed pointer or a size that
 * does not match, given what the table said. FALSE. */
gboolean nebula_system_allocator_report_bad_free (NebulaSystemAllocator    *self,
                                                  NebulaSystemTableResult   result,
                                                  gpointer                  ptr,
                                                  gsize                     size,
                                                  GError                  **error);

static inline gboolean
nebula_system_allocator_check_result (NebulaSystemAllocator    *self,
                                      NebulaSystemTableResult   result,
                                      gpointer                  ptr,
                                      gsize                     size,
                                      GError                  **error)
{
  if (G_LIKELY (result == NEBULA_SYSTEM_TABLE_TAKEN))
    return TRUE;
  return nebula_system_allocator_report_bad_free (self, result, ptr, size, error);
}

/* The direct path for a mode (nebula-system-allocator-direct.c). */
const NebulaCoreDirect *nebula_system_allocator_direct (gboolean checked,
                                                        gboolean thread_safe,
                                                        gboolean stats);

G_END_DECLS

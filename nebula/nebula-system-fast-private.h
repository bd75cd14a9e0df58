/* nebula-system-fast-private.h: the System allocator's path in the public
 * wrappers, header only.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bump, pool and stack allocators keep their fast fields in the
 * installed nebula-allocator-fast.h because C callers inline their paths;
 * the System allocator has no inline entry point of its own, so its fields
 * stay private. nebula_allocator_allocate() and _deallocate() run this
 * path for a System allocator (nebula-allocator-core-private.h): malloc or
 * free, the live-block table with check-frees, and the counters, with
 * nothing else between the caller and malloc.
 */

#pragma once

#include <stdlib.h>

#include "nebula-stats-private.h"
#include "nebula-system-table-private.h"

G_BEGIN_DECLS

/*< private >
 * NebulaSystemFast:
 *
 * Right after the #NebulaAllocatorCore of a #NebulaSystemAllocator.
 * @max_fast_size is 0 until initialization has succeeded and whenever a
 * request needs the exported path (a budget to charge, a fill pattern),
 * else the largest size that path serves; written once with a release
 * store, read with an acquire load, since a thread-safe allocator may meet
 * its first calls from several threads at once. @live is the table of live
 * blocks with check-frees, else %NULL. @counters are the statistics.
 */
typedef struct
{
  gsize                max_fast_size;
  NebulaSystemTable   *live;
  NebulaStatsCounters *counters;
} NebulaSystemFast;

/* malloc's own alignment, which the fast path relies on. */
#define NEBULA_SYSTEM_FAST_ALIGNMENT (2 * sizeof (gpointer))

static inline gboolean
_nebula_system_fast_layout_ok (const NebulaSystemFast *fast,
                               gsize                   size,
                               gsize                   alignment)
{
  gsize max = __atomic_load_n (&fast->max_fast_size, __ATOMIC_ACQUIRE);

  /* size - 1 wraps for 0 and alignment - 1 for 0; an alignment that is
   * not a power of two shares a bit with the number below it. */
  return size - 1 < max && alignment - 1 < NEBULA_SYSTEM_FAST_ALIGNMENT &&
         (alignment & (alignment - 1)) == 0;
}

/* FALSE sends the request to the exported path, which serves what this
 * one does not and reports errors (it allocates again if malloc failed
 * here: a refusal is rare and has to be explained). */
static inline gboolean
_nebula_system_fast_alloc (NebulaSystemFast *fast,
                           gsize             size,
                           gsize             alignment,
                           gpointer         *out)
{
  gpointer ptr;

  if (G_UNLIKELY (!_nebula_system_fast_layout_ok (fast, size, alignment)))
    return FALSE;

  ptr = malloc (size);
  if (G_UNLIKELY (ptr == NULL))
    return FALSE;
  if (fast->live != NULL && G_UNLIKELY (!nebula_system_table_insert (fast->live, ptr, size)))
    {
      free (ptr);
      return FALSE;
    }

  nebula_stats_counters_record_allocation (fast->counters, size);
  *out = ptr;
  return TRUE;
}

/* A block that is not live with @size goes to the exported path, which
 * looks again and says what is wrong. */
static inline gboolean
_nebula_system_fast_dealloc (NebulaSystemFast *fast,
                             gpointer          ptr,
                             gsize             size,
                             gsize             alignment)
{
  if (G_UNLIKELY (!_nebula_system_fast_layout_ok (fast, size, alignment) || ptr == NULL))
    return FALSE;
  if (fast->live != NULL &&
      nebula_system_table_take (fast->live, ptr, size, NULL) != NEBULA_SYSTEM_TABLE_TAKEN)
    return FALSE;

  free (ptr);
  nebula_stats_counters_record_deallocation (fast->counters, size);
  return TRUE;
}

G_END_DECLS

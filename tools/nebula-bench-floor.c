/* nebula-bench-floor.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built as its own shared library so that calls into it cost what calls
 * into libnebula cost (a PLT jump), and can never be inlined.
 */

#include "config.h"

#include <stdlib.h>

#include "nebula-bench-floor.h"

G_NO_INLINE gpointer
nebula_bench_floor_alloc (NebulaBenchFloor *floor,
                          gsize             size,
                          gsize             alignment)
{
  return nebula_bench_floor_alloc_inline (floor, size, alignment);
}

G_NO_INLINE gboolean
nebula_bench_floor_free (NebulaBenchFloor *floor,
                         gpointer          ptr,
                         gsize             size,
                         gsize             alignment)
{
  return nebula_bench_floor_free_inline (floor, ptr, size);
}

G_NO_INLINE void
nebula_bench_floor_reset (NebulaBenchFloor *floor)
{
  nebula_bench_floor_reset_inline (floor);
}

G_NO_INLINE gpointer
nebula_bench_free_list_alloc (NebulaBenchFreeList *list,
                              gsize                size,
                              gsize                alignment)
{
  return nebula_bench_free_list_alloc_inline (list);
}

G_NO_INLINE gboolean
nebula_bench_free_list_free (NebulaBenchFreeList *list,
                             gpointer             ptr,
                             gsize                size,
                             gsize                alignment)
{
  return nebula_bench_free_list_free_inline (list, ptr);
}

G_NO_INLINE void
nebula_bench_free_list_reset (NebulaBenchFreeList *list)
{
  nebula_bench_free_list_reset_inline (list);
}

/* The System allocator's floor: malloc and free behind one exported call
 * each, what any malloc behind NebulaAllocator pays at least. */
G_NO_INLINE gpointer
nebula_bench_floor_malloc (gsize size,
                           gsize alignment)
{
  return malloc (size);
}

G_NO_INLINE void
nebula_bench_floor_malloc_free (gpointer ptr,
                                gsize    size,
                                gsize    alignment)
{
  free (ptr);
}

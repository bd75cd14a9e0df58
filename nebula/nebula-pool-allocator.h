/* nebula-pool-allocator.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(NEBULA_INSIDE) && !defined(NEBULA_COMPILATION)
# error "Only <nebula.h> can be included directly."
#endif

#include <glib-object.h>

#include "nebula-allocator.h"
#include "nebula-allocator-fast.h"

G_BEGIN_DECLS

#define NEBULA_TYPE_POOL_ALLOCATOR (nebula_pool_allocator_get_type ())

NEBULA_AVAILABLE_IN_0_1
G_DECLARE_FINAL_TYPE (NebulaPoolAllocator, nebula_pool_allocator, NEBULA, POOL_ALLOCATOR, GObject)

NEBULA_AVAILABLE_IN_0_1
NebulaPoolAllocator *nebula_pool_allocator_new         (gsize                 block_size,
                                                        gsize                 block_count,
                                                        GError              **error);
NEBULA_AVAILABLE_IN_0_1
guint                nebula_pool_allocator_get_n_slabs (NebulaPoolAllocator  *self);

#ifndef __GI_SCANNER__

/**
 * nebula_pool_allocator_alloc: (skip)
 * @self: a #NebulaPoolAllocator
 * @size: the number of bytes, at most the block size
 * @alignment: the alignment, a power of two
 * @error: return location for a #GError
 *
 * nebula_allocator_allocate() for a #NebulaPoolAllocator, inlined into the
 * caller: taking a block from the free list (checked against the
 * allocation bits when the pool checks frees) or from the unused part of
 * the current slab costs a few instructions and no call. Anything else (an
 * empty pool, growth, an invalid layout, a size of 0, a thread-safe or
 * filling pool) goes through nebula_allocator_allocate(), with identical
 * results and statistics.
 *
 * Returns: (transfer none) (nullable): the block, or %NULL with @error set
 */
static inline gpointer
nebula_pool_allocator_alloc (NebulaPoolAllocator  *self,
                             gsize                 size,
                             gsize                 alignment,
                             GError              **error)
{
  gpointer block;

  if (G_LIKELY (_nebula_pool_fast_alloc (_NEBULA_POOL_FAST (self), size, alignment, &block)))
    return block;

  return nebula_allocator_allocate ((NebulaAllocator *) self, size, alignment, error);
}

/**
 * nebula_pool_allocator_free: (skip)
 * @self: a #NebulaPoolAllocator
 * @ptr: a block from @self
 * @size: the size @ptr was allocated with
 * @alignment: the alignment @ptr was allocated with
 * @error: return location for a #GError
 *
 * nebula_allocator_deallocate() for a #NebulaPoolAllocator, inlined: an
 * allocated block of the current slab goes back on the free list without
 * a call; every other case (including every bad pointer, which the
 * exported path reports) takes the exported path.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 */
static inline gboolean
nebula_pool_allocator_free (NebulaPoolAllocator  *self,
                            gpointer              ptr,
                            gsize                 size,
                            gsize                 alignment,
                            GError              **error)
{
  if (G_LIKELY (_nebula_pool_fast_dealloc (_NEBULA_POOL_FAST (self), ptr, size, alignment)))
    return TRUE;

  return nebula_allocator_deallocate ((NebulaAllocator *) self, ptr, size, alignment, error);
}

#endif /* __GI_SCANNER__ */

G_END_DECLS

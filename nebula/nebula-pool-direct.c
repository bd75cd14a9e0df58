/* nebula-pool-direct.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-pool-allocator-private.h"

/* The direct path of a single-threaded pool (nebula-allocator-core-private.h):
 * what the wrappers, and a NebulaMultiPoolAllocator's classes, run when
 * the inline path declined. The inline path serves the current slab;
 * this one serves every block of the free list, so a block of an older
 * slab takes no full dispatch either. An
 * empty free list, and anything the checks refuse, declines: the full
 * path takes the fresh tail, grows, or says what is wrong. */

static inline gboolean
layout_ok (NebulaPoolAllocator *self,
           gsize                size,
           gsize                alignment)
{
  return nebula_allocator_core_direct_layout_ok (size, alignment, self->block_size,
                                                 self->block_alignment);
}

static gpointer
single_direct_alloc (gpointer allocator,
                     gsize    size,
                     gsize    alignment)
{
  NebulaPoolAllocator *self = allocator;
  guint8 *block = self->fast.free_head;

  if (G_UNLIKELY (!layout_ok (self, size, alignment) || block == NULL))
    return NULL;
  if (self->check_frees && !mark_listed_block (self, block))
    return NULL;

  self->fast.free_head = read_link (block);
  self->fast.n_in_use++;
  tools_hand_out (self, block);
  fill_block (self, block, size);
  nebula_stats_counters_record_allocation (&self->stats, size);
  return block;
}

static NebulaDirectResult
single_direct_dealloc (gpointer   allocator,
                       gpointer   ptr,
                       gsize      size,
                       gsize      alignment,
                       GError   **error)
{
  NebulaPoolAllocator *self = allocator;

  if (G_UNLIKELY (!layout_ok (self, size, alignment) || ptr == NULL))
    return NEBULA_DIRECT_DECLINED;
  /* Nothing changed: the full path finds out again, and explains. */
  if (self->check_frees && !mark_block_free (self, ptr))
    return NEBULA_DIRECT_DECLINED;

  if (G_UNLIKELY (self->config.free_fill >= 0))
    memset (ptr, self->config.free_fill, self->block_size);
  tools_take_back (self, ptr);
  write_link (ptr, self->fast.free_head);
  self->fast.free_head = ptr;
  self->fast.n_in_use--;
  nebula_stats_counters_record_deallocation (&self->stats, size);
  return NEBULA_DIRECT_DONE;
}

static const NebulaCoreDirect single_direct = {
  single_direct_alloc,
  single_direct_dealloc,
};

const NebulaCoreDirect *
nebula_pool_single_direct (void)
{
  return &single_direct;
}

/* nebula-pool-concurrent-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-pool-allocator-private.h"

G_BEGIN_DECLS

/* The steps of a thread-safe pool that every request takes, inline so
 * that the direct paths (nebula-pool-magazine.c) and the exported ones
 * (nebula-pool-concurrent.c) run them without a call: a block off or onto
 * the shared free list, the check of a freed pointer and the marks of
 * check-frees. nebula-pool-concurrent.c explains the free list. */

/* The header holding block @index, retired ones included: a walk that
 * started before a trim may meet their indices. */
static inline Slab *
slab_of_index (NebulaPoolAllocator *self,
               gsize                index)
{
  guint i = __atomic_load_n (&self->n_headers, __ATOMIC_ACQUIRE);

  while (--i > 0 && self->slabs[i]->first > index)
    ;
  return self->slabs[i];
}

static inline void
push_concurrent (NebulaPoolAllocator *self,
                 Slab                *slab,
                 gsize                local)
{
  guint64 top = slab->first + local + 1;
  guint64 head = __atomic_load_n (&self->shared.head, __ATOMIC_RELAXED);
  guint64 new_head;

  do
    {
      __atomic_store_n (&slab->links[local], (guint32) head, __ATOMIC_RELAXED);
      new_head = ((head >> 32) + 1) << 32 | top;
    }
  while (!__atomic_compare_exchange_n (&self->shared.head, &head, new_head, TRUE,
                                       __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

/* Check-frees in a thread-safe pool. A block's state byte is
 * POOL_BLOCK_OUT while it is handed out, else 0; its listed flag is 1
 * while it is on the shared free list. A hand-out from a magazine marks
 * the state with a load and a store (the magazine's owner is the only
 * thread that can hand the block out); a free marks it with one
 * compare-and-swap from OUT to 0, so of two frees of a block, ordered or
 * racing, exactly one succeeds and the other is DOUBLE_FREE. (A load and
 * a store there, tried in issue 14's third pass, let a free that loaded
 * OUT store 0 after the block had been freed and handed out again: one
 * block handed to two callers.) The hand-out's check of the state and
 * the push's compare-and-swap of the listed flag stay as defences: a
 * block found handed out, or already listed, is a copy that is dropped
 * (and counted in use again), so the shared list never holds a block
 * twice. */

/* A copy of a free block that a racing double free left (see above):
 * dropped, and counted in use again. */
void nebula_pool_drop_copy (NebulaPoolAllocator *self,
                            PoolEntry           *entry);

/* Pushes @entry's block onto the shared list, unless it is a copy. */
static inline void
nebula_pool_give_shared (NebulaPoolAllocator *self,
                         PoolEntry           *entry)
{
  Slab *slab = entry->slab;
  gsize local = entry_index (self, slab, entry->block);
  guint8 not_listed = 0;

  if (self->check_frees &&
      G_UNLIKELY (!__atomic_compare_exchange_n (&slab->listed[local], &not_listed, 1, FALSE,
                                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)))
    {
      nebula_pool_drop_copy (self, entry);
      return;
    }

  push_concurrent (self, slab, local);
}

/* A block just taken off the shared list (its taker alone has it). */
static inline void
nebula_pool_unlist (NebulaPoolAllocator *self,
                    Slab                *slab,
                    gsize                local)
{
  if (self->check_frees)
    __atomic_store_n (&slab->listed[local], 0, __ATOMIC_RELEASE);
}

/* The top block off the shared free list, or FALSE if it is empty: one
 * compare-and-swap, whose tag makes a link read from a block another
 * thread took meanwhile harmless (the swap fails). */
static inline gboolean
pop_one_concurrent (NebulaPoolAllocator *self,
                    PoolEntry           *entry)
{
  guint64 head = __atomic_load_n (&self->shared.head, __ATOMIC_ACQUIRE);

  for (;;)
    {
      guint32 top = (guint32) head;
      Slab *slab;
      gsize local;
      guint32 next;

      if (top == 0)
        return FALSE;

      slab = slab_of_index (self, top - 1);
      local = top - 1 - slab->first;
      next = __atomic_load_n (&slab->links[local], __ATOMIC_RELAXED);
      if (__atomic_compare_exchange_n (&self->shared.head, &head, ((head >> 32) + 1) << 32 | next,
                                       TRUE, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
        {
          nebula_pool_unlist (self, slab, local);
          entry->slab = slab;
          entry->block = slab_data (slab) + local * self->block_size;
          return TRUE;
        }
    }
}

/* One free block off the shared list, else the fresh tail, without
 * growing: FALSE when neither has one (a failed attempt on the fresh tail
 * only pushes its count past the end, which every reader clamps). */
static inline gboolean
nebula_pool_take_one_shared (NebulaPoolAllocator *self,
                             PoolEntry           *entry)
{
  return pop_one_concurrent (self, entry) || nebula_pool_take_fresh_one (self, entry);
}

/* Check-frees: marks the free block @entry holds handed out (its taker
 * alone has it), FALSE if it is a copy a racing double free left (its
 * state is not 0: the other copy is out). */
static inline gboolean
nebula_pool_claim (NebulaPoolAllocator *self,
                   PoolEntry           *entry)
{
  guint8 *state = block_state (self, entry->slab, entry_index (self, entry->slab, entry->block));

  if (G_UNLIKELY (__atomic_load_n (state, __ATOMIC_ACQUIRE) != 0))
    return FALSE;
  __atomic_store_n (state, POOL_BLOCK_OUT, __ATOMIC_RELAXED);
  return TRUE;
}

/* Marks a free block handed out, and prepares it for the caller; NULL if
 * the block is a copy, which is dropped. */
static inline gpointer
nebula_pool_hand_out (NebulaPoolAllocator *self,
                      PoolEntry           *entry,
                      gsize                size)
{
  if (self->check_frees && G_UNLIKELY (!nebula_pool_claim (self, entry)))
    {
      nebula_pool_drop_copy (self, entry);
      return NULL;
    }

  tools_hand_out (self, entry->block);
  fill_block (self, entry->block, size);
  return entry->block;
}

/* Check-frees: marks block @local of @slab free, FALSE if it was not
 * handed out. One compare-and-swap: of two frees of the block, ordered or
 * not, exactly one finds it handed out. */
static inline gboolean
nebula_pool_mark_state_free (NebulaPoolAllocator *self,
                             Slab                *slab,
                             gsize                local)
{
  guint8 out = POOL_BLOCK_OUT;

  return __atomic_compare_exchange_n (block_state (self, slab, local), &out, 0, FALSE,
                                      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* The slab of @ptr, a block start of the pool, or NULL: find_block_start()
 * on the slabs published (acquire, in a thread-safe pool). */
static inline Slab *
nebula_pool_find_block (NebulaPoolAllocator *self,
                        gconstpointer        ptr,
                        gsize               *local)
{
  return find_block_start (self, __atomic_load_n (&self->n_slabs, __ATOMIC_ACQUIRE), ptr, local);
}

/* Checks that @ptr is a block of the pool that is handed out, and marks it
 * free. The common case inline (a block start in a slab); anything else
 * asks nebula_pool_locate_block(), which says what is wrong. With
 * check-frees the mark is a compare-and-swap of the block's state byte
 * (above): of two frees, exactly one succeeds. */
static inline Slab *
nebula_pool_mark_freed (NebulaPoolAllocator  *self,
                        gpointer              ptr,
                        gsize                 size,
                        GError              **error)
{
  gsize local = 0;
  Slab *slab = nebula_pool_find_block (self, ptr, &local);

  if (G_UNLIKELY (slab == NULL) &&
      !nebula_pool_locate_block (self, ptr, size, &slab, &local, error))
    return NULL;

  if (self->check_frees && G_UNLIKELY (!nebula_pool_mark_state_free (self, slab, local)))
    {
      nebula_pool_report_double_free (self, ptr, size, error);
      return NULL;
    }

  if (G_UNLIKELY (self->config.free_fill >= 0))
    memset (ptr, self->config.free_fill, self->block_size);
  tools_take_back (self, ptr);
  return slab;
}

G_END_DECLS

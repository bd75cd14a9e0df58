/* nebula-pool-concurrent.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"


#include "nebula-pool-concurrent-private.h"

/* Thread-safe free list.
 *
 * A Treiber stack whose head packs the top block's index with a 32-bit tag
 * into one 64-bit word, so that a plain 64-bit CAS updates both. The tag
 * changes with every successful push or pop: a thread that read the head
 * as (tag t, block A) with A's successor B cannot install B after other
 * threads popped A and pushed it back, because the head then carries
 * another tag (the ABA problem). A wrong match would need exactly 2^32
 * updates between one thread's load and its CAS.
 *
 * The links live in a per-slab array of 32-bit indices rather than in the
 * blocks: a popping thread may read the link of a block that another thread
 * has just taken and is writing into. That read is discarded (the CAS
 * fails), but on user memory it would still be a data race in the C memory
 * model and a report under ThreadSanitizer; on the side array both sides
 * are atomic. A trim frees a slab's blocks but keeps its header and links
 * (nebula-pool-trim.c), so a stale index always leads to readable links;
 * the walk never reads a block. */

/* Nothing free and the current tail used up: move to the next slab's tail
 * or grow. Growth is rare, so it takes a lock. */
static gboolean
refill_concurrent (NebulaPoolAllocator  *self,
                   gsize                 size,
                   GError              **error)
{
  gboolean ok = TRUE;
  guint i;

  /* Growth charges the budget, whose handlers may call back into the pool:
   * its signals wait until the lock is released. */
  nebula_memory_budget_hold_signals ();
  lock_growth (self);

  i = self->fresh_slab;
  while (i < self->n_slabs &&
         __atomic_load_n (&self->slabs[i]->fresh, __ATOMIC_RELAXED) >= self->slabs[i]->n_blocks)
    i++;

  if (i < self->n_slabs)
    __atomic_store_n (&self->fresh_slab, i, __ATOMIC_RELEASE);
  else if ((guint32) __atomic_load_n (&self->shared.head, __ATOMIC_ACQUIRE) != 0)
    ;   /* another thread freed a block meanwhile */
  else if (nebula_pool_grow (self, size, error))
    __atomic_store_n (&self->fresh_slab, self->n_slabs - 1, __ATOMIC_RELEASE);
  else
    ok = FALSE;

  unlock_growth (self);
  nebula_memory_budget_emit_held_signals ();
  return ok;
}

/* Up to @max blocks off the shared free list with one compare-and-swap:
 * the walk reads links that other threads may change meanwhile, but then
 * the head's tag changed too and the swap fails. */
static guint
pop_batch_concurrent (NebulaPoolAllocator *self,
                      PoolEntry           *entries,
                      guint                max)
{
  guint64 head = __atomic_load_n (&self->shared.head, __ATOMIC_ACQUIRE);

  for (;;)
    {
      guint32 top = (guint32) head;
      guint n = 0;

      while (top != 0 && n < max)
        {
          Slab *slab = slab_of_index (self, top - 1);
          gsize local = top - 1 - slab->first;

          entries[n].slab = slab;
          entries[n].block = slab_data (slab) + local * self->block_size;
          n++;
          top = __atomic_load_n (&slab->links[local], __ATOMIC_RELAXED);
        }

      if (n == 0)
        return 0;
      if (__atomic_compare_exchange_n (&self->shared.head, &head, ((head >> 32) + 1) << 32 | top,
                                       TRUE, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
        {
          for (guint k = 0; k < n; k++)
            nebula_pool_unlist (self, entries[k].slab,
                                entry_index (self, entries[k].slab, entries[k].block));
          return n;
        }
    }
}

/* Up to @max never-used blocks of the current fresh slab, with one atomic
 * addition. */
static guint
take_fresh_batch_concurrent (NebulaPoolAllocator *self,
                             PoolEntry           *entries,
                             guint                max)
{
  guint i = __atomic_load_n (&self->fresh_slab, __ATOMIC_ACQUIRE);
  Slab *slab;
  gsize first;
  guint n;

  if (i >= __atomic_load_n (&self->n_slabs, __ATOMIC_ACQUIRE))
    return 0;

  slab = self->slabs[i];
  /* Bounds the overshoot: once full, nobody adds again. */
  if (__atomic_load_n (&slab->fresh, __ATOMIC_RELAXED) >= slab->n_blocks)
    return 0;

  /* Acquire: a slab a trim retired and growth revived meanwhile opens its
   * tail after its new blocks are published (nebula_pool_grow()). */
  first = __atomic_fetch_add (&slab->fresh, max, __ATOMIC_ACQUIRE);
  if (first >= slab->n_blocks)
    return 0;

  n = (guint) MIN ((gsize) max, slab->n_blocks - first);
  for (guint k = 0; k < n; k++)
    {
      entries[k].slab = slab;
      entries[k].block = slab_data (slab) + (first + k) * self->block_size;
    }
  return n;
}

/* Up to @max free blocks (at least one unless @error is set): off the
 * shared free list, else the fresh tail, growing the pool if need be. */
guint
nebula_pool_take_shared (NebulaPoolAllocator  *self,
                         gsize                 size,
                         PoolEntry            *entries,
                         guint                 max,
                         GError              **error)
{
  guint n;

  while ((n = pop_batch_concurrent (self, entries, max)) == 0 &&
         (n = take_fresh_batch_concurrent (self, entries, max)) == 0)
    {
      if (!refill_concurrent (self, size, error))
        return 0;
    }

  return n;
}

gpointer
nebula_pool_allocate_concurrent (NebulaPoolAllocator  *self,
                                 gsize                 size,
                                 GError              **error)
{
  PoolEntry entry;
  gpointer block;

  /* Blocks off the shared list and the fresh tail are never copies, but a
   * dropped one would only mean taking the next. */
  do
    {
      if (nebula_pool_take_shared (self, size, &entry, 1, error) == 0)
        return NULL;
    }
  while ((block = nebula_pool_hand_out (self, &entry, size)) == NULL);

  __atomic_fetch_add (&self->shared.n_in_use, 1, __ATOMIC_RELAXED);
  return block;
}

void
nebula_pool_drop_copy (NebulaPoolAllocator *self,
                       PoolEntry           *entry)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));

  __atomic_fetch_add (&self->shared.n_in_use, 1, __ATOMIC_RELAXED);
  g_warning ("%s: block %p was freed twice at the same time by two threads (a double free "
             "that check-frees could not report to either call); the second copy is dropped",
             what, entry->block);
}

gboolean
nebula_pool_deallocate_concurrent (NebulaPoolAllocator  *self,
                                   gpointer              ptr,
                                   gsize                 size,
                                   GError              **error)
{
  PoolEntry entry = { ptr, nebula_pool_mark_freed (self, ptr, size, error) };

  if (entry.slab == NULL)
    return FALSE;

  /* Before the push, so that the count never exceeds the blocks out. */
  __atomic_fetch_sub (&self->shared.n_in_use, 1, __ATOMIC_RELAXED);
  nebula_pool_give_shared (self, &entry);
  return TRUE;
}

/* One block of the fresh tail, for the inline steps
 * (nebula-pool-concurrent-private.h). */
gboolean
nebula_pool_take_fresh_one (NebulaPoolAllocator *self,
                            PoolEntry           *entry)
{
  return take_fresh_batch_concurrent (self, entry, 1) != 0;
}

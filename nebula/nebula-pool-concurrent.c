/* nebula-pool-concurrent.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"


#include "nebula-pool-allocator-private.h"

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

static void
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
        return n;
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

void
nebula_pool_give_shared (NebulaPoolAllocator *self,
                         PoolEntry           *entry)
{
  Slab *slab = entry->slab;

  push_concurrent (self, slab, entry_index (self, slab, entry->block));
}

/* Marks a free block handed out, and prepares it for the caller. */
gpointer
nebula_pool_hand_out (NebulaPoolAllocator *self,
                      PoolEntry           *entry,
                      gsize                size)
{
  if (self->check_frees)
    {
      gsize local = entry_index (self, entry->slab, entry->block);

      __atomic_store_n (&entry->slab->states[local], 1, __ATOMIC_RELEASE);
    }

  tools_hand_out (self, entry->block);
  fill_block (self, entry->block, size);
  return entry->block;
}

/* Checks that @ptr is a block of the pool that is handed out, and marks it
 * free. With check-frees the mark is an atomic exchange on the block's
 * state byte: of two frees of one block, from any threads and at any
 * time, exactly one finds it handed out; the other is DOUBLE_FREE. It is
 * the one read-modify-write of a free (an allocation marks with a plain
 * store). */
Slab *
nebula_pool_mark_freed (NebulaPoolAllocator  *self,
                        gpointer              ptr,
                        gsize                 size,
                        GError              **error)
{
  Slab *slab;
  gsize local;

  if (!nebula_pool_locate_block (self, ptr, size, &slab, &local, error))
    return NULL;

  if (self->check_frees &&
      __atomic_exchange_n (&slab->states[local], 0, __ATOMIC_ACQ_REL) == 0)
    {
      nebula_pool_set_bad_pointer (self, NEBULA_ALLOCATOR_ERROR_DOUBLE_FREE, ptr, size,
                                   "is not allocated: it was already freed (double free)",
                                   error);
      return NULL;
    }

  if (self->config.free_fill >= 0)
    memset (ptr, self->config.free_fill, self->block_size);
  tools_take_back (self, ptr);
  return slab;
}

gpointer
nebula_pool_allocate_concurrent (NebulaPoolAllocator  *self,
                                 gsize                 size,
                                 GError              **error)
{
  PoolEntry entry;

  if (nebula_pool_take_shared (self, size, &entry, 1, error) == 0)
    return NULL;

  __atomic_fetch_add (&self->shared.n_in_use, 1, __ATOMIC_RELAXED);
  return nebula_pool_hand_out (self, &entry, size);
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

/* nebula-pool-trim.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-allocator-trim-private.h"
#include "nebula-pool-allocator-private.h"

/* What a pool gives back when trimmed: the slabs it grew by, newest first,
 * while they hold no block in use. Blocks are numbered across slabs and a
 * slab is as large as all earlier ones, so only a tail of slabs can go
 * (growth then starts again from where the pool stands); the first slab,
 * block-count blocks, is what the configuration asks for and always stays.
 *
 * A thread-safe pool is trimmed while other threads allocate and free
 * (trim_concurrent()). Its free list is lock-free and its readers look at
 * slab headers without a lock, so a slab's retirement frees only its
 * blocks, which no reader touches: the header (bounds, free-list links,
 * check-frees states) stays until finalize, and growth revives it. The
 * trim holds the grow lock, so no slab comes or goes meanwhile, and makes
 * the decision on a snapshot that other threads cannot change:
 *
 * 1. The cached blocks that can be reached go back to the shared list
 *    (nebula_pool_magazines_flush()); blocks still in other threads'
 *    magazines count as in use.
 * 2. The fresh tail of every slab but the first is closed with an atomic
 *    exchange, which returns how far it was handed out: an allocation that
 *    added to it before took blocks that count as in use, one after gets
 *    nothing.
 * 3. The whole shared list is taken with one compare-and-swap (the head's
 *    tag changes, so a thread that was walking it fails its swap). Every
 *    free block not cached is now in the trim's hands: a slab is empty when
 *    its listed blocks are as many as its tail handed out. Blocks freed
 *    meanwhile go to the new, empty list; they were in use at the snapshot,
 *    so their slab stays.
 * 4. The newest empty slabs are retired; the other listed blocks go back
 *    on the shared list with one swap, and the kept slabs' tails reopen
 *    where they stood. */

static gboolean
in_trimmed_slabs (NebulaPoolAllocator *self,
                  guint                keep,
                  gconstpointer        block)
{
  for (guint i = keep; i < self->n_slabs; i++)
    if ((const guint8 *) block >= self->slabs[i]->data &&
        (const guint8 *) block < self->slabs[i]->end)
      return TRUE;

  return FALSE;
}

/* Counts the listed blocks of each slab into @listed, checking every link
 * (the list lives in the free blocks, which a caller may have written to):
 * FALSE if one does not lead to a free block of the pool or the list does
 * not end, and then nothing is trimmed. */
static gboolean
count_free_list (NebulaPoolAllocator *self,
                 gsize               *listed)
{
  gsize steps = self->n_blocks;
  guint8 *block = self->fast.free_head;

  for (; block != NULL && steps > 0; steps--)
    {
      Slab *slab = NULL;
      gboolean at_start;
      gsize index;
      guint i;

      for (i = 0; i < self->n_slabs; i++)
        if (block >= self->slabs[i]->data && block < self->slabs[i]->end)
          {
            slab = self->slabs[i];
            break;
          }
      if (slab == NULL)
        return FALSE;

      index = block_index (self, slab, block, &at_start);
      if (!at_start || index >= slab->fresh ||
          (self->check_frees && *block_state (self, slab, index) == POOL_BLOCK_OUT))
        return FALSE;

      listed[i]++;
      block = read_link (block);
    }

  return block == NULL;
}

/* Unlinks the blocks of the slabs from @keep on; the list was checked. */
static void
filter_free_list (NebulaPoolAllocator *self,
                  guint                keep)
{
  guint8 *head = NULL, *tail = NULL, *block, *next;

  for (block = self->fast.free_head; block != NULL; block = next)
    {
      next = read_link (block);
      if (in_trimmed_slabs (self, keep, block))
        continue;
      if (tail == NULL)
        head = block;
      else
        write_link (tail, block);
      tail = block;
    }

  if (tail != NULL)
    write_link (tail, NULL);
  self->fast.free_head = head;
}

/* The position of the slab holding block @index among the first @n_slabs. */
static guint
slab_position_of_index (NebulaPoolAllocator *self,
                        guint                n_slabs,
                        gsize                index)
{
  guint i = n_slabs - 1;

  while (i > 0 && self->slabs[i]->first > index)
    i--;
  return i;
}

/* Step 3: takes the shared list and counts its blocks per slab into
 * @listed. Returns the old top, index + 1. */
static guint32
take_shared_list (NebulaPoolAllocator *self,
                  guint                n_slabs,
                  gsize               *listed)
{
  guint64 head = __atomic_load_n (&self->shared.head, __ATOMIC_ACQUIRE);
  gsize steps = self->n_blocks;
  guint32 top;

  while (!__atomic_compare_exchange_n (&self->shared.head, &head, ((head >> 32) + 1) << 32,
                                       TRUE, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
    ;

  top = (guint32) head;
  for (guint32 t = top; t != 0 && steps > 0; steps--)
    {
      guint i = slab_position_of_index (self, n_slabs, t - 1);
      Slab *slab = self->slabs[i];

      listed[i]++;
      t = __atomic_load_n (&slab->links[t - 1 - slab->first], __ATOMIC_RELAXED);
    }

  return top;
}

/* Step 4: puts the listed blocks of the first @keep slabs back on the
 * shared list, in their order, above what was freed meanwhile. */
static void
give_back_shared_list (NebulaPoolAllocator *self,
                       guint                n_slabs,
                       guint                keep,
                       guint32              top)
{
  guint32 new_top = 0, *tail = NULL;
  gsize steps = self->n_blocks;
  guint64 head;

  for (guint32 t = top, next; t != 0 && steps > 0; t = next, steps--)
    {
      guint i = slab_position_of_index (self, n_slabs, t - 1);
      guint32 *link = &self->slabs[i]->links[t - 1 - self->slabs[i]->first];

      next = __atomic_load_n (link, __ATOMIC_RELAXED);
      if (i >= keep)
        continue;
      if (tail == NULL)
        new_top = t;
      else
        __atomic_store_n (tail, t, __ATOMIC_RELAXED);
      tail = link;
    }

  if (tail == NULL)
    return;

  head = __atomic_load_n (&self->shared.head, __ATOMIC_RELAXED);
  do
    __atomic_store_n (tail, (guint32) head, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n (&self->shared.head, &head,
                                       ((head >> 32) + 1) << 32 | new_top,
                                       TRUE, __ATOMIC_RELEASE, __ATOMIC_RELAXED));
}

static guint64
trim_concurrent (NebulaPoolAllocator *self)
{
  gsize fresh[MAX_SLABS], listed[MAX_SLABS] = { 0 };
  guint64 given = 0;
  guint n_slabs, keep;
  guint32 top;

  nebula_pool_magazines_flush (self);

  /* Uncharging may signal the budget, whose handlers may call back in. */
  nebula_memory_budget_hold_signals ();
  lock_growth (self);

  n_slabs = self->n_slabs;
  if (n_slabs <= 1)
    goto out;

  for (guint i = 1; i < n_slabs; i++)
    {
      Slab *slab = self->slabs[i];
      gsize handed_out = __atomic_exchange_n (&slab->fresh, slab->n_blocks, __ATOMIC_ACQ_REL);

      fresh[i] = MIN (handed_out, slab->n_blocks);
    }

  top = take_shared_list (self, n_slabs, listed);

  keep = n_slabs;
  while (keep > 1 && listed[keep - 1] == fresh[keep - 1] &&
         (!self->check_frees || nebula_pool_count_allocated_blocks (self, self->slabs[keep - 1]) == 0))
    keep--;

  give_back_shared_list (self, n_slabs, keep, top);
  for (guint i = 1; i < keep; i++)
    __atomic_store_n (&self->slabs[i]->fresh, fresh[i], __ATOMIC_RELEASE);

  if (keep == n_slabs)
    goto out;

  for (guint i = keep; i < n_slabs; i++)
    given += (guint64) self->slabs[i]->n_blocks * self->block_size;
  __atomic_store_n (&self->n_blocks, self->slabs[keep - 1]->first + self->slabs[keep - 1]->n_blocks,
                    __ATOMIC_RELEASE);
  __atomic_store_n (&self->n_slabs, keep, __ATOMIC_RELEASE);
  if (self->fresh_slab >= keep)
    __atomic_store_n (&self->fresh_slab, keep - 1, __ATOMIC_RELEASE);
  for (guint i = keep; i < n_slabs; i++)
    nebula_pool_slab_retire (self, self->slabs[i]);

out:
  unlock_growth (self);
  nebula_memory_budget_emit_held_signals ();
  return given;
}

guint64
nebula_pool_trim (NebulaAllocator  *allocator,
                  NebulaTrimMode    mode,
                  GError          **error)
{
  NebulaPoolAllocator *self = (NebulaPoolAllocator *) allocator;
  g_autofree gsize *listed = NULL;
  guint64 given = 0;
  guint keep;

  if (!nebula_allocator_config_ensure (&self->config, self, nebula_pool_init_once, error))
    return 0;
  if (self->config.thread_safe)
    return trim_concurrent (self);
  if (self->n_slabs <= 1)
    return 0;

  listed = g_new0 (gsize, self->n_slabs);
  if (!count_free_list (self, listed))
    return 0;

  /* The newest slabs whose handed-out blocks are all back on the list. */
  keep = self->n_slabs;
  while (keep > 1)
    {
      Slab *slab = self->slabs[keep - 1];
      gsize used = self->check_frees ? nebula_pool_count_allocated_blocks (self, slab)
                                     : slab->fresh - MIN (listed[keep - 1], slab->fresh);

      if (used != 0)
        break;
      keep--;
    }
  if (keep == self->n_slabs)
    return 0;

  filter_free_list (self, keep);

  if (self->fresh_slab >= keep)
    self->fresh_slab = keep - 1;
  nebula_pool_set_current_slab (self, self->slabs[self->fresh_slab]);

  while (self->n_slabs > keep)
    {
      Slab *slab = self->slabs[--self->n_slabs];

      self->slabs[self->n_slabs] = NULL;
      self->n_headers = self->n_slabs;
      self->n_blocks -= slab->n_blocks;
      given += (guint64) slab->n_blocks * self->block_size;
      nebula_pool_slab_free (self, slab);
    }

  return given;
}

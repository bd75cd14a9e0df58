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
 * A thread-safe pool gives nothing back: its free list is lock-free and
 * its readers walk the slabs without a lock, relying on slabs living as
 * long as the pool. */

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
          (self->check_frees && bit_is_set (slab->allocated, index, FALSE)))
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
  if (self->config.thread_safe || self->n_slabs <= 1)
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
      self->n_blocks -= slab->n_blocks;
      given += (guint64) slab->n_blocks * self->block_size;
      nebula_pool_slab_free (self, slab);
    }

  return given;
}

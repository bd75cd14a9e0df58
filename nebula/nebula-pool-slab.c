/* nebula-pool-slab.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>

#include "nebula-pool-allocator-private.h"
#include "nebula-sysprof-private.h"

/* The slabs of a pool: taking them from the system (or a child arena's
 * parent) and growing by them, giving them all back, the check-frees states
 * that say which blocks are out, and the repair of a damaged free list
 * from those states. */

/* What the inline paths see while the pool holds no slab (a child arena
 * its parent released): no fresh block, and with check-frees no block out
 * (the index check fails first, so that every free takes the exported
 * path, which calls the pointer foreign). Never written. */
static gsize no_fresh_blocks;
static guint8 no_block_state;

/* A thread-safe pool's threads use blocks side by side: its blocks start
 * on a cache line, so that a block of 64 bytes (or any multiple) shares
 * no line with its neighbours, and so do its check-frees states (a line
 * of states covers 64 blocks, the batch a magazine of 128 takes: see
 * nebula-pool-magazine.c). */
#define POOL_CACHE_LINE 64

static inline gsize
slab_alignment (NebulaPoolAllocator *self)
{
  gsize alignment = MAX (self->block_alignment, sizeof (gpointer));

  return self->config.thread_safe ? MAX (alignment, POOL_CACHE_LINE) : alignment;
}

/* The system refused the memory for @n_blocks blocks, which the budget was
 * charged for: the charge is undone. */
static void
refused (NebulaPoolAllocator  *self,
         gsize                 n_blocks,
         GError              **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  gsize bytes = n_blocks * self->block_size;
  NebulaErrorInfo info = { .requested = bytes, .what = what };

  nebula_budget_account_uncharge (&self->config.account, bytes);
  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY, &info,
                    "%s: the system refused a slab of %" G_GSIZE_FORMAT " blocks (%"
                    G_GSIZE_FORMAT " bytes)",
                    what, n_blocks, bytes);
}

/* Every slab comes from here and goes in nebula_pool_slab_free(): the
 * budget, if any, is charged for the blocks (not the bookkeeping) before
 * they are taken from the system, or for a child arena from its parent
 * (whose refusal is the error). A refusal changes nothing. */
Slab *
nebula_pool_slab_new (NebulaPoolAllocator  *self,
                      gsize                 first,
                      gsize                 n_blocks,
                      GError              **error)
{
  gboolean thread_safe = self->config.thread_safe;
  gsize n_links = thread_safe ? n_blocks : 0;
  /* Thread-safe, the listed flags follow the states (spaced by
   * state_shift). */
  gsize n_states = self->check_frees
    ? (thread_safe ? (n_blocks << self->state_shift) + n_blocks : n_blocks) : 0;
  gsize bytes = n_blocks * self->block_size;   /* checked at init */
  gpointer data = NULL;
  GError *local_error = NULL;
  Slab *slab;

  if (!nebula_budget_account_charge (&self->config.account, bytes, error))
    return NULL;

  /* Thread-safe: room to start the states on a cache line. */
  slab = g_try_malloc0 (sizeof (Slab) + n_links * sizeof (guint32) + n_states +
                        (thread_safe ? POOL_CACHE_LINE - 1 : 0));
  if (slab != NULL)
    {
      if (self->child_link != NULL)
        data = nebula_child_link_alloc (self->child_link, bytes, slab_alignment (self),
                                        &local_error);
      else if (posix_memalign (&data, slab_alignment (self), bytes) != 0)
        data = NULL;
      if (data == NULL)
        g_clear_pointer (&slab, g_free);
    }

  if (slab == NULL && local_error != NULL)
    {
      nebula_budget_account_uncharge (&self->config.account, bytes);
      g_propagate_error (error, local_error);
      return NULL;
    }
  if (slab == NULL)
    {
      refused (self, n_blocks, error);
      return NULL;
    }

  slab->data = data;
  slab->end = slab->data + bytes;
  slab->first = first;
  slab->n_blocks = n_blocks;
  slab->links = n_links > 0 ? (guint32 *) (gpointer) (slab + 1) : NULL;
  slab->states = n_states > 0 ? (guint8 *) ((guint32 *) (gpointer) (slab + 1) + n_links) : NULL;
  if (slab->states != NULL && thread_safe)
    slab->states += (POOL_CACHE_LINE - (guintptr) slab->states % POOL_CACHE_LINE) % POOL_CACHE_LINE;
  slab->listed = n_states > 0 && thread_safe ? slab->states + (n_blocks << self->state_shift)
                                             : NULL;

  /* No block is handed out yet: the whole slab is off limits for the
   * memory tools. Valgrind's pool is anchored at the bookkeeping, not the
   * data: a child arena's slab is a block of its parent, which may start
   * where the parent's own pool is anchored. */
  NEBULA_MEMPOOL_CREATE (slab, slab->data, bytes);

  return slab;
}

/* Gives a slab's blocks back to the system and uncharges them, keeping the
 * header: a thread-safe pool's trim, with the grow lock held, once no
 * block of @slab is handed out, listed or cached and its fresh tail is
 * closed. Threads that read the header before the trim may still read it
 * (nebula-pool-concurrent.c), never the blocks. */
void
nebula_pool_slab_retire (NebulaPoolAllocator *self,
                         Slab                *slab)
{
  guint8 *data = slab_data (slab);

  nebula_budget_account_uncharge (&self->config.account, slab->n_blocks * self->block_size);
  NEBULA_MEMPOOL_DESTROY (slab, data, slab->n_blocks * self->block_size);
  __atomic_store_n (&slab->data, NULL, __ATOMIC_RELAXED);
  __atomic_store_n (&slab->end, NULL, __ATOMIC_RELAXED);
  free (data);
}

/* Gives a retired header (nebula_pool_slab_retire()) blocks again: growth,
 * with the grow lock held. Its fresh tail stays closed until the pool has
 * published it again (nebula_pool_grow()). */
static gboolean
slab_revive (NebulaPoolAllocator  *self,
             Slab                 *slab,
             GError              **error)
{
  gsize bytes = slab->n_blocks * self->block_size;
  gpointer data = NULL;

  if (!nebula_budget_account_charge (&self->config.account, bytes, error))
    return FALSE;

  if (posix_memalign (&data, slab_alignment (self), bytes) != 0)
    {
      refused (self, slab->n_blocks, error);
      return FALSE;
    }

  /* Its blocks were on the shared list when it was retired: they start
   * again as never handed out, not listed. Atomic, as the report reads the
   * states. */
  for (gsize i = 0; slab->listed != NULL && i < slab->n_blocks; i++)
    {
      __atomic_store_n (block_state (self, slab, i), 0, __ATOMIC_RELAXED);
      __atomic_store_n (&slab->listed[i], 0, __ATOMIC_RELAXED);
    }

  NEBULA_MEMPOOL_CREATE (slab, data, bytes);
  __atomic_store_n (&slab->end, (guint8 *) data + bytes, __ATOMIC_RELAXED);
  __atomic_store_n (&slab->data, (guint8 *) data, __ATOMIC_RELAXED);
  return TRUE;
}

void
nebula_pool_slab_free (NebulaPoolAllocator *self,
                       Slab                *slab)
{
  guint8 *data = slab_data (slab);

  /* A retired header's blocks are gone already (thread-safe pools only,
   * which are never a child). */
  if (data != NULL)
    {
      nebula_budget_account_uncharge (&self->config.account, slab->n_blocks * self->block_size);
      NEBULA_MEMPOOL_DESTROY (slab, data, slab->n_blocks * self->block_size);
      if (self->child_link != NULL)
        nebula_child_link_dealloc (self->child_link, data, slab->n_blocks * self->block_size,
                                   slab_alignment (self));
      else
        free (data);
    }
  g_free (slab);
}

/* Gives every slab back, the first one included, with the headers a
 * thread-safe pool's trims retired: at finalization, and for a child
 * arena that its parent releases (after a reset, so that no block is
 * out). The next allocation grows the pool by a first slab of block-count
 * blocks again. A thread-safe pool, whose readers rely on its slab
 * headers living as long as it does, meets only the first (it is never a
 * child). */
void
nebula_pool_release_slabs (NebulaPoolAllocator *self)
{
  while (self->n_headers > 0)
    {
      Slab *slab = self->slabs[--self->n_headers];

      self->slabs[self->n_headers] = NULL;
      nebula_pool_slab_free (self, slab);
    }

  self->n_slabs = 0;
  self->n_blocks = 0;
  self->fresh_slab = 0;
  self->fast.free_head = NULL;
  self->fast.base = NULL;
  self->fast.states = self->check_frees ? &no_block_state : NULL;
  self->fast.fresh = &no_fresh_blocks;
  self->fast.fresh_limit = 0;
}

/* Points the inline paths at @slab, whose never-used tail is handed out
 * next. Single-threaded mode only. */
void
nebula_pool_set_current_slab (NebulaPoolAllocator *self,
                              Slab                *slab)
{
  self->fast.base = slab->data;
  self->fast.states = slab->states;
  self->fast.fresh = &slab->fresh;
  self->fast.fresh_limit = slab->n_blocks;
}

static void
set_exhausted (NebulaPoolAllocator  *self,
               gsize                 size,
               GError              **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  gsize n_blocks = load_n_blocks (self);
  gsize n_free = n_blocks - MIN (load_n_in_use (self), n_blocks);
  NebulaErrorInfo info = {
    .requested = size,
    .available = n_free * self->block_size,
    .capacity = self->max_blocks * self->block_size,
    .what = what,
    .suggestion = "Free blocks or reset the pool, or raise block-count or max-block-count "
                  "to give it more blocks.",
  };

  if (self->max_blocks > self->block_count)
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                      "%s is exhausted: requested %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
                      " of %" G_GSIZE_FORMAT " blocks free, grown to max-block-count",
                      what, size, n_free, n_blocks);
  else
    nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_EXHAUSTED, &info,
                      "%s is exhausted: requested %" G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT
                      " of %" G_GSIZE_FORMAT " blocks free",
                      what, size, n_free, n_blocks);
}

/* Adds a slab as large as all the others together, or what is left up to
 * max-block-count. Single-threaded, or with the grow lock held. */
gboolean
nebula_pool_grow (NebulaPoolAllocator  *self,
                  gsize                 size,
                  GError              **error)
{
  gsize room = self->max_blocks - self->n_blocks;
  gsize n_blocks = self->n_slabs == 0 ? self->block_count : MIN (self->n_blocks, room);
  gboolean revived = FALSE;
  Slab *slab;

  if (room == 0)
    {
      set_exhausted (self, size, error);
      return FALSE;
    }

  g_assert (self->n_slabs < MAX_SLABS);

  /* Slab sizes follow from the position alone, so a retired header fits.
   * A pool without a slab (a child arena its parent released, never
   * thread-safe) starts again with its first one. */
  if (self->config.thread_safe && self->n_slabs < self->n_headers)
    {
      slab = self->slabs[self->n_slabs];
      g_assert (slab->first == self->n_blocks && slab->n_blocks == n_blocks);
      if (!slab_revive (self, slab, error))
        return FALSE;
      revived = TRUE;
    }
  else
    {
      slab = nebula_pool_slab_new (self, self->n_blocks, n_blocks, error);
      if (slab == NULL)
        return FALSE;
      self->slabs[self->n_slabs] = slab;
      __atomic_store_n (&self->n_headers, self->n_slabs + 1, __ATOMIC_RELEASE);
    }

  if (self->config.thread_safe)
    {
      __atomic_store_n (&self->n_blocks, self->n_blocks + slab->n_blocks, __ATOMIC_RELEASE);
      __atomic_store_n (&self->n_slabs, self->n_slabs + 1, __ATOMIC_RELEASE);
      /* Opens a revived slab's tail once the pool shows it: a thread that
       * kept the header from before the trim may take blocks from it now,
       * and its acquiring addition sees the slab published. */
      if (revived)
        __atomic_store_n (&slab->fresh, 0, __ATOMIC_RELEASE);
    }
  else
    {
      self->n_blocks += slab->n_blocks;
      self->n_slabs++;
    }

  nebula_sysprof_allocator_event (self, "growth", slab->n_blocks * self->block_size);
  return TRUE;
}

/* The free list was damaged (a freed block written to): rebuild it from the
 * state bytes, which live outside the blocks. */
static void
rebuild_free_list (NebulaPoolAllocator *self)
{
  self->fast.free_head = NULL;

  for (guint i = self->n_slabs; i-- > 0;)
    {
      Slab *slab = self->slabs[i];

      for (gsize j = slab->fresh; j-- > 0;)
        {
          if (slab->states[j] != POOL_BLOCK_OUT)
            {
              guint8 *block = slab->data + j * self->block_size;

              slab->states[j] = POOL_BLOCK_LISTED;
              write_link (block, self->fast.free_head);
              self->fast.free_head = block;
            }
        }
    }
}

void
nebula_pool_set_corrupted (NebulaPoolAllocator  *self,
                           gconstpointer         block,
                           gsize                 size,
                           GError              **error)
{
  g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
  NebulaErrorInfo info = { .requested = size, .what = what };

  rebuild_free_list (self);
  nebula_set_error (error, NEBULA_ALLOCATOR_ERROR, NEBULA_ALLOCATOR_ERROR_CORRUPTION, &info,
                    "%s: the free list led to %p, which is not a free block (was a block "
                    "written to after it was freed?); the free list was rebuilt, %"
                    G_GSIZE_FORMAT " blocks in use",
                    what, block, self->fast.n_in_use);
}

/* The position of the slab holding @block among the first @n_slabs, or
 * @n_slabs if none holds it. */
static guint
slab_position (NebulaPoolAllocator *self,
               guint                n_slabs,
               gconstpointer        block)
{
  for (guint i = 0; i < n_slabs; i++)
    if ((const guint8 *) block >= slab_data (self->slabs[i]) &&
        (const guint8 *) block < slab_end (self->slabs[i]))
      return i;

  return n_slabs;
}

/* Without check-frees only the free list knows where the free blocks are:
 * counts the listed blocks of each slab into @listed. The list may be
 * damaged (single-threaded, it lives in the blocks) or changing (thread-safe),
 * so no link is trusted: the walk stops at one that does not lead to a
 * handed-out block of the first @n_slabs slabs, and after as many steps as
 * there are blocks. */
void
nebula_pool_count_listed_blocks (NebulaPoolAllocator *self,
                                 guint                n_slabs,
                                 gsize               *listed)
{
  gsize steps = load_n_blocks (self);

  if (self->config.thread_safe)
    {
      guint32 top = (guint32) __atomic_load_n (&self->shared.head, __ATOMIC_ACQUIRE);

      for (; top != 0 && steps > 0; steps--)
        {
          gsize index = top - 1;
          guint i = n_slabs;
          Slab *slab;

          while (i > 0 && self->slabs[i - 1]->first > index)
            i--;
          if (i == 0 || index - self->slabs[i - 1]->first >= fresh_count (self, self->slabs[i - 1]))
            break;

          slab = self->slabs[i - 1];
          listed[i - 1]++;
          top = __atomic_load_n (&slab->links[index - slab->first], __ATOMIC_RELAXED);
        }
      return;
    }

  for (guint8 *block = self->fast.free_head; block != NULL && steps > 0; steps--)
    {
      guint i = slab_position (self, n_slabs, block);
      gboolean at_start;
      gsize index;

      if (i == n_slabs)
        break;
      index = block_index (self, self->slabs[i], block, &at_start);
      if (!at_start || index >= self->slabs[i]->fresh)
        break;

      listed[i]++;
      block = read_link (block);
    }
}

/* Blocks of @slab in use, from its state bytes. */
gsize
nebula_pool_count_allocated_blocks (NebulaPoolAllocator *self,
                                    Slab                *slab)
{
  gsize count = 0;

  for (gsize i = 0; i < slab->n_blocks; i++)
    count += __atomic_load_n (block_state (self, slab, i), __ATOMIC_RELAXED) == POOL_BLOCK_OUT;
  return count;
}

/* The report's Pool part: the slabs, oldest first, with their blocks in
 * use; and how much of the blocks in use their callers left unused. */
void
nebula_pool_report (NebulaAllocator *allocator,
                    GVariantDict    *report)
{
  NebulaPoolAllocator *self = (NebulaPoolAllocator *) allocator;
  NebulaStatsCounters *counters = nebula_allocator_get_counters (allocator);
  g_autofree gsize *listed = NULL;
  GVariantBuilder slabs;
  guint64 total_blocks = 0, total_used = 0;
  guint n_slabs;

  if (!nebula_allocator_config_ensure (&self->config, self, nebula_pool_init_once, NULL))
    return;

  /* Slab headers are never freed before finalize: the first n_slabs stay
   * readable while other threads grow or trim the pool (a concurrent trim
   * may make this report count a slab it is giving back). A child arena,
   * whose parent may take its slabs, is never thread-safe. */
  n_slabs = n_slabs_of (self);
  if (!self->check_frees)
    {
      listed = g_new0 (gsize, n_slabs);
      nebula_pool_count_listed_blocks (self, n_slabs, listed);
    }

  g_variant_builder_init (&slabs, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < n_slabs; i++)
    {
      Slab *slab = self->slabs[i];
      gsize fresh = fresh_count (self, slab);
      gsize used = self->check_frees ? nebula_pool_count_allocated_blocks (self, slab)
                                     : fresh - MIN (listed[i], fresh);
      GVariantDict dict;

      /* Without check-frees, blocks are free when listed, in the depot or
       * in the calling thread's magazine; those cached in other threads'
       * magazines count as used here. */
      if (!self->check_frees && self->magazine_size != 0)
        used -= MIN (used, nebula_pool_magazines_cached_blocks (self, slab));

      used = MIN (used, slab->n_blocks);
      g_variant_dict_init (&dict, NULL);
      g_variant_dict_insert (&dict, "size", "t", (guint64) slab->n_blocks * self->block_size);
      g_variant_dict_insert (&dict, "used", "t", (guint64) used * self->block_size);
      g_variant_dict_insert (&dict, "blocks", "t", (guint64) slab->n_blocks);
      g_variant_dict_insert (&dict, "blocks-used", "t", (guint64) used);
      g_variant_dict_insert (&dict, "blocks-free", "t", (guint64) (slab->n_blocks - used));
      g_variant_dict_insert (&dict, "blocks-untouched", "t", (guint64) (slab->n_blocks - fresh));
      g_variant_builder_add_value (&slabs, g_variant_dict_end (&dict));

      total_blocks += slab->n_blocks;
      total_used += used;
    }

  g_variant_dict_insert (report, "reserved", "t", total_blocks * self->block_size);
  g_variant_dict_insert (report, "blocks", "t", total_blocks);
  g_variant_dict_insert (report, "blocks-used", "t", total_used);
  g_variant_dict_insert_value (report, "slabs", g_variant_builder_end (&slabs));

  /* Any free block serves any request, so a pool wastes memory only inside
   * the blocks it hands out; the statistics know how much was asked for. */
  if (counters->enabled)
    {
      g_autoptr(NebulaAllocatorStats) stats = nebula_allocator_get_stats (allocator);
      guint64 held = total_used * self->block_size;

      g_variant_dict_insert (report, "fragmentation", "d",
                             held > stats->bytes_in_use
                               ? (double) (held - stats->bytes_in_use) / (double) held
                               : 0.0);
    }
}

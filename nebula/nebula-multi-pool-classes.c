/* nebula-multi-pool-classes.c
 *
 * The size classes of a NebulaMultiPoolAllocator: which class serves a
 * request, the lazy creation of each class's NebulaPoolAllocator, and what
 * walks all of them (reset, trim, report, span checks, byte counts). Every
 * pool is used through the NebulaAllocator API, but for whether it keeps
 * per-thread magazines (the direct path then calls their steps).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-allocator-report-private.h"
#include "nebula-allocator-script-private.h"
#include "nebula-allocator-report.h"
#include "nebula-multi-pool-allocator-private.h"
#include "nebula-pool-allocator-private.h"
#include "nebula-sanitizer-private.h"

/* A thread-safe pool numbers its blocks in 32 bits; a class may grow to
 * that many blocks, or to what fits in memory. */
#define CLASS_MAX_BLOCKS ((guint64) G_MAXUINT32 - 1)
/* The first slab of a class: about 16 KiB, 4 to 1024 blocks. Later slabs
 * double the class (the pool's growth rule). */
#define CLASS_FIRST_SLAB_BYTES 16384

/* Checked against nebula_multi_pool_class_of_size_computed() for every
 * size by test-multi-pool-allocator.c. */
const guint8 nebula_multi_pool_class_table[NEBULA_MULTI_POOL_TABLE_LIMIT /
                                           NEBULA_MULTI_POOL_SMALL_STEP] = {
  0, 1, 2, 3, 4, 5, 6, 7,                              /* 16 to 128 */
  8, 8, 9, 9, 10, 10, 11, 11,                          /* 160 to 256 */
  12, 12, 12, 12, 13, 13, 13, 13,                      /* 320 to 512 */
  14, 14, 14, 14, 15, 15, 15, 15,
  16, 16, 16, 16, 16, 16, 16, 16,                      /* 640 to 1024 */
  17, 17, 17, 17, 17, 17, 17, 17,
  18, 18, 18, 18, 18, 18, 18, 18,
  19, 19, 19, 19, 19, 19, 19, 19,
};

gsize
nebula_multi_pool_class_size (guint index)
{
  guint k, p;

  if (index < 8)
    return (gsize) (index + 1) * NEBULA_MULTI_POOL_SMALL_STEP;

  k = index - 8;
  p = 7 + k / 4;
  return ((gsize) 1 << p) + ((gsize) (k % 4 + 1) << (p - 2));
}

/* The largest power of two dividing the class size, at most a page: what
 * the class's pool aligns its blocks to. */
gsize
nebula_multi_pool_class_alignment (guint index)
{
  gsize size = nebula_multi_pool_class_size (index);

  return MIN (size & -size, (gsize) NEBULA_MULTI_POOL_MAX_ALIGNMENT);
}

guint
nebula_multi_pool_n_classes_for (guint64 max_block_size)
{
  return (guint) nebula_multi_pool_class_of_size ((gsize) max_block_size) + 1;
}

int
nebula_multi_pool_class_for (NebulaMultiPoolAllocator *self,
                             gsize                     size,
                             gsize                     alignment)
{
  int index;

  if (G_UNLIKELY (size > self->largest_request))
    return -1;
  if (G_LIKELY (alignment <= NEBULA_MULTI_POOL_SMALL_STEP))
    return nebula_multi_pool_class_of_size (size);

  /* A larger alignment: the first class at least that large whose blocks
   * are aligned to it (a power of two always is a class). */
  if (alignment > NEBULA_MULTI_POOL_MAX_ALIGNMENT)
    return -1;
  index = nebula_multi_pool_class_of_size (MAX (size, alignment));
  while ((guint) index < self->n_classes && nebula_multi_pool_class_alignment (index) < alignment)
    index++;
  return (guint) index < self->n_classes ? index : -1;
}

/* The pool of class @index, made now if this is its first request. A pool
 * that could not be made (no memory for its first slab, a budget that
 * refused it) is not kept: the next request tries again. The pool is made
 * outside the lock, since its initialization may emit a budget's signals
 * whose handler may allocate from this allocator; of two threads that
 * make the same class at once, the first to publish wins and the other
 * drops its pool. */
/* Publishes @pool, the newly made class @index, in step_pools[] for the
 * 16-byte steps of sizes it serves (none above step_limit). */
static void
publish_steps (NebulaMultiPoolAllocator *self,
               guint                     index,
               NebulaAllocator          *pool)
{
  for (gsize step = 0; step * NEBULA_MULTI_POOL_SMALL_STEP < self->step_limit; step++)
    if ((guint) nebula_multi_pool_class_table[step] == index)
      __atomic_store_n (&self->step_pools[step], pool, __ATOMIC_RELEASE);
}

NebulaAllocator *
nebula_multi_pool_make_class (NebulaMultiPoolAllocator  *self,
                              guint                      index,
                              GError                   **error)
{
  NebulaAllocatorConfig *config = &self->config;
  NebulaAllocator *pool, *published;
  gsize block_size = nebula_multi_pool_class_size (index);
  guint64 block_count = CLAMP (CLASS_FIRST_SLAB_BYTES / block_size, 4, 1024);
  guint64 max_blocks = MIN (CLASS_MAX_BLOCKS, NEBULA_MAX_ALLOCATION_SIZE / 2 / block_size);
  g_autofree char *name = NULL;

  name = g_strdup_printf ("%s: %" G_GSIZE_FORMAT "-byte class",
                          config->name != NULL ? config->name : "multi-pool", block_size);
  pool = g_initable_new (NEBULA_TYPE_POOL_ALLOCATOR, NULL, error,
                         "name", name,
                         "preset", config->preset,
                         "thread-safe", config->thread_safe,
                         /* The multi-pool's own counters are the record (the
                          * report's per-class figures come from the slabs):
                          * counting twice would cost every call. */
                         "track-stats", FALSE,
                         "alloc-fill", config->alloc_fill,
                         "free-fill", config->free_fill,
                         "budget", config->account.budget,
                         "check-frees", self->check_frees,
                         "block-size", (guint64) block_size,
                         "block-alignment", (guint64) nebula_multi_pool_class_alignment (index),
                         "block-count", block_count,
                         "max-block-count", MAX (max_blocks, block_count),
                         NULL);
  if (pool == NULL)
    return NULL;

  nebula_mutex_lock (&self->classes_lock);
  published = self->pools[index];
  if (published == NULL)
    {
      self->directs[index] = nebula_allocator_core_direct (pool);
      self->cached[index] = nebula_pool_magazines_enabled ((NebulaPoolAllocator *) pool);
      self->lean[index] = nebula_pool_magazines_lean ((NebulaPoolAllocator *) pool) &&
                          ((NebulaPoolAllocator *) pool)->check_frees == self->check_frees;
      __atomic_store_n (&self->pools[index], pool, __ATOMIC_RELEASE);
      if (!config->thread_safe || self->lean[index])
        publish_steps (self, index, pool);
      published = g_steal_pointer (&pool);
    }
  nebula_mutex_unlock (&self->classes_lock);

  g_clear_object (&pool);
  return published;
}

void
nebula_multi_pool_reset_classes (NebulaMultiPoolAllocator *self)
{
  for (guint i = 0; i < self->n_classes; i++)
    {
      NebulaAllocator *pool = nebula_multi_pool_peek_class (self, i);

      if (pool != NULL)
        nebula_allocator_reset (pool);
    }
}

void
nebula_multi_pool_free_classes (NebulaMultiPoolAllocator *self)
{
  memset (self->step_pools, 0, sizeof self->step_pools);
  for (guint i = 0; i < G_N_ELEMENTS (self->pools); i++)
    g_clear_object (&self->pools[i]);
}

/* The trim vfunc: every class gives back its empty slabs. */
guint64
nebula_multi_pool_trim_classes (NebulaAllocator  *allocator,
                                GError          **error)
{
  NebulaMultiPoolAllocator *self = (NebulaMultiPoolAllocator *) allocator;
  guint64 given = 0;

  if (!nebula_multi_pool_ensure (self, error))
    return 0;

  for (guint i = 0; i < self->n_classes; i++)
    {
      NebulaAllocator *pool = nebula_multi_pool_peek_class (self, i);
      GError *local_error = NULL;

      if (pool == NULL)
        continue;
      given += nebula_allocator_trim (pool, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return 0;
        }
    }

  return given;
}

static guint64
lookup_uint64 (GVariantDict *dict,
               const char   *key)
{
  guint64 value = 0;

  g_variant_dict_lookup (dict, key, "t", &value);
  return value;
}

/* What a class's report says about its slabs. */
static void
class_figures (NebulaAllocator *pool,
               guint64         *reserved,
               guint64         *blocks,
               guint64         *blocks_used)
{
  g_autoptr(GVariant) report = nebula_allocator_get_report (pool);
  GVariantDict dict;

  g_variant_dict_init (&dict, report);
  *reserved = lookup_uint64 (&dict, "reserved");
  *blocks = lookup_uint64 (&dict, "blocks");
  *blocks_used = lookup_uint64 (&dict, "blocks-used");
  g_variant_dict_clear (&dict);
}

/* bytes-used: the classes' blocks in use, each counted with its class
 * size. bytes-available: the free blocks of the slabs the classes hold,
 * what can be handed out without reserving memory (a pool's own figure
 * adds the growth its max-block-count allows, which here is all of
 * memory, so it would say nothing). */
guint64
nebula_multi_pool_bytes (NebulaMultiPoolAllocator *self,
                         gboolean                  available)
{
  guint64 sum = 0;

  for (guint i = 0; i < self->n_classes; i++)
    {
      NebulaAllocator *pool = nebula_multi_pool_peek_class (self, i);
      guint64 used, reserved, blocks, blocks_used;

      if (pool == NULL)
        continue;
      used = nebula_allocator_get_bytes_used (pool);
      if (!available)
        {
          sum += used;
          continue;
        }
      class_figures (pool, &reserved, &blocks, &blocks_used);
      sum += reserved - MIN (used, reserved);
    }

  return sum;
}

gboolean
nebula_multi_pool_owns (NebulaAllocator *allocator,
                        gconstpointer    ptr)
{
  NebulaMultiPoolAllocator *self = (NebulaMultiPoolAllocator *) allocator;

  for (guint i = 0; i < self->n_classes; i++)
    {
      NebulaAllocator *pool = nebula_multi_pool_peek_class (self, i);

      if (pool != NULL && nebula_allocator_owns (pool, ptr))
        return TRUE;
    }

  return FALSE;
}

/* The report's part: the totals of the classes made so far and, for each,
 * its block size and what its pool reports. */
void
nebula_multi_pool_report (NebulaAllocator *allocator,
                          GVariantDict    *report)
{
  NebulaMultiPoolAllocator *self = (NebulaMultiPoolAllocator *) allocator;
  GVariantBuilder classes;
  guint64 reserved = 0, blocks = 0, blocks_used = 0;

  if (!nebula_multi_pool_ensure (self, NULL))
    return;

  g_variant_builder_init (&classes, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < self->n_classes; i++)
    {
      NebulaAllocator *pool = nebula_multi_pool_peek_class (self, i);
      GVariantDict dict;
      guint64 class_reserved, class_blocks, class_used;

      if (pool == NULL)
        continue;

      class_figures (pool, &class_reserved, &class_blocks, &class_used);

      g_variant_dict_init (&dict, NULL);
      g_variant_dict_insert (&dict, "block-size", "t", (guint64) nebula_multi_pool_class_size (i));
      g_variant_dict_insert (&dict, "reserved", "t", class_reserved);
      g_variant_dict_insert (&dict, "blocks", "t", class_blocks);
      g_variant_dict_insert (&dict, "blocks-used", "t", class_used);
      g_variant_builder_add_value (&classes, g_variant_dict_end (&dict));

      reserved += class_reserved;
      blocks += class_blocks;
      blocks_used += class_used;
    }

  g_variant_dict_insert (report, "reserved", "t", reserved);
  g_variant_dict_insert (report, "blocks", "t", blocks);
  g_variant_dict_insert (report, "blocks-used", "t", blocks_used);
  g_variant_dict_insert_value (report, "classes", g_variant_builder_end (&classes));
}

/* The span check for scripts (nebula-allocator-script-private.h): the
 * class pools' own, asked in turn; the first that knows the span answers
 * (with check-frees a free or resize is DEFERred to the pool's own checks,
 * without it the script ledger of the multi-pool decides). */
NebulaSpanResult
nebula_multi_pool_span (NebulaAllocator *allocator,
                        guintptr         start,
                        gsize            size,
                        NebulaSpanKind   kind,
                        gsize           *block_size)
{
  NebulaMultiPoolAllocator *self = (NebulaMultiPoolAllocator *) allocator;
  NebulaAllocatorSpanFunc pool_span = nebula_allocator_get_span_func (NEBULA_TYPE_POOL_ALLOCATOR);

  if (!nebula_multi_pool_ensure (self, NULL))
    return NEBULA_SPAN_NOT_READY;

  for (guint i = 0; i < self->n_classes; i++)
    {
      NebulaAllocator *pool = nebula_multi_pool_peek_class (self, i);
      NebulaSpanResult result;

      if (pool == NULL)
        continue;
      result = pool_span (pool, start, size, kind, block_size);
      if (result != NEBULA_SPAN_FOREIGN)
        return result;
    }

  return NEBULA_SPAN_FOREIGN;
}

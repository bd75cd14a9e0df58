/* nebula-pool-config.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"


#include "nebula-pool-allocator-private.h"

/* The configuration of a pool: the preset, the validation of the
 * properties, the layout of the blocks and the first slab. */

static inline const char *
pool_label (void)
{
  return "Pool allocator";
}

static inline gboolean
is_power_of_two (guint64 value)
{
  return value != 0 && (value & (value - 1)) == 0;
}

/* The inverse of @odd modulo 2^64 (Newton's iteration: each step doubles
 * the bits that are right, and @odd is its own inverse to 3 bits). */
static gsize
odd_inverse (gsize odd)
{
  gsize inverse = odd;

  for (guint i = 0; i < 5; i++)
    inverse *= 2 - odd * inverse;
  return inverse;
}

void
nebula_pool_init_once (gpointer data)
{
  NebulaPoolAllocator *self = data;
  NebulaAllocatorConfig *config = &self->config;
  guint64 total, stride;
  Slab *slab;

  nebula_allocator_config_validate (config, pool_label ());

  switch (config->preset)
    {
    case NEBULA_PRESET_PERFORMANCE:
      if (!nebula_allocator_config_is_explicit (config, PROP_CHECK_FREES))
        self->check_frees = FALSE;
      break;
    case NEBULA_PRESET_PRODUCTION:
      /* Dropped again below if the pool would not fit in memory: a preset
       * must not turn a valid configuration into an invalid one. */
      self->max_block_count = nebula_allocator_config_production_limit (config,
                                                                        PROP_MAX_BLOCK_COUNT,
                                                                        self->block_count,
                                                                        self->max_block_count);
      if (config->thread_safe &&
          !nebula_allocator_config_is_explicit (config, PROP_MAX_BLOCK_COUNT))
        self->max_block_count = MIN (self->max_block_count,
                                     MAX (MAX_CONCURRENT_BLOCKS, self->block_count));
      break;
    case NEBULA_PRESET_DEFAULT:
    case NEBULA_PRESET_DEBUG:
    default:
      break;
    }

  if (self->block_size_property < sizeof (gpointer))
    nebula_allocator_config_set_invalid (config, pool_label (), "block-size",
                                         "must be at least %u bytes (a free block holds a "
                                         "pointer), not %" G_GUINT64_FORMAT,
                                         (guint) sizeof (gpointer), self->block_size_property);
  else if (self->block_size_property > NEBULA_MAX_ALLOCATION_SIZE)
    nebula_allocator_config_set_invalid (config, pool_label (), "block-size",
                                         "must be at most %" G_GSIZE_FORMAT " bytes, not %"
                                         G_GUINT64_FORMAT,
                                         NEBULA_MAX_ALLOCATION_SIZE, self->block_size_property);

  if (!is_power_of_two (self->block_alignment_property))
    nebula_allocator_config_set_invalid (config, pool_label (), "block-alignment",
                                         "must be a power of two, not %" G_GUINT64_FORMAT,
                                         self->block_alignment_property);
  else if (self->block_alignment_property > NEBULA_MAX_ALLOCATION_SIZE)
    nebula_allocator_config_set_invalid (config, pool_label (), "block-alignment",
                                         "must be at most %" G_GSIZE_FORMAT ", not %"
                                         G_GUINT64_FORMAT,
                                         NEBULA_MAX_ALLOCATION_SIZE, self->block_alignment_property);

  if (self->block_count == 0)
    nebula_allocator_config_set_invalid (config, pool_label (), "block-count",
                                         "must be greater than 0");
  else if (config->thread_safe && self->block_count > MAX_CONCURRENT_BLOCKS)
    nebula_allocator_config_set_invalid (config, pool_label (), "block-count",
                                         "must be at most %" G_GUINT64_FORMAT " in a "
                                         "thread-safe pool, not %" G_GUINT64_FORMAT,
                                         MAX_CONCURRENT_BLOCKS, self->block_count);

  if (self->max_block_count != 0 && self->max_block_count < self->block_count)
    nebula_allocator_config_set_invalid (config, pool_label (), "max-block-count",
                                         "must be 0 (no growth) or at least 'block-count' (%"
                                         G_GUINT64_FORMAT "), not %" G_GUINT64_FORMAT,
                                         self->block_count, self->max_block_count);
  else if (config->thread_safe && self->max_block_count > MAX_CONCURRENT_BLOCKS)
    nebula_allocator_config_set_invalid (config, pool_label (), "max-block-count",
                                         "must be at most %" G_GUINT64_FORMAT " in a "
                                         "thread-safe pool, not %" G_GUINT64_FORMAT,
                                         MAX_CONCURRENT_BLOCKS, self->max_block_count);

  /* A child gives its slabs back whenever its parent resets: a
   * thread-safe pool's lock-free readers rely on its slab headers living
   * as long as it does (a trim keeps them, nebula-pool-trim.c). */
  if (self->child_link != NULL && config->thread_safe)
    nebula_allocator_config_set_invalid (config, pool_label (), "parent",
                                         "cannot be combined with 'thread-safe': a child pool "
                                         "gives its slabs back when its parent resets, which a "
                                         "thread-safe pool cannot do while other threads use "
                                         "it; make the child single-threaded, or use a "
                                         "thread-safe pool without a parent");

  if (config->init.error != NULL)
    return;

  /* Sizes that cannot be represented are SIZE_OVERFLOW rather than
   * INVALID_CONFIG: each value is valid on its own, their product is not. */
  stride = ((self->block_size_property + self->block_alignment_property - 1) /
            self->block_alignment_property) * self->block_alignment_property;
  if (!nebula_allocator_config_is_explicit (config, PROP_MAX_BLOCK_COUNT) &&
      stride <= NEBULA_MAX_ALLOCATION_SIZE &&
      self->max_block_count > NEBULA_MAX_ALLOCATION_SIZE / stride)
    self->max_block_count = 0;
  total = MAX (self->block_count, self->max_block_count);
  if (stride > NEBULA_MAX_ALLOCATION_SIZE || total > NEBULA_MAX_ALLOCATION_SIZE / stride)
    {
      g_autofree char *what = nebula_allocator_describe (NEBULA_ALLOCATOR (self));
      NebulaErrorInfo info = {
        .requested = stride,
        .capacity = total,
        .what = what,
        .suggestion = "Lower 'block-size', 'block-count' or 'max-block-count' so that the "
                      "pool fits in memory.",
      };

      nebula_set_error (&config->init.error, NEBULA_ALLOCATOR_ERROR,
                        NEBULA_ALLOCATOR_ERROR_SIZE_OVERFLOW, &info,
                        "%s: 'block-size' x '%s' overflows: %" G_GUINT64_FORMAT " blocks of %"
                        G_GUINT64_FORMAT " bytes (block-size %" G_GUINT64_FORMAT
                        " rounded up to block-alignment %" G_GUINT64_FORMAT ") exceed %"
                        G_GSIZE_FORMAT " bytes",
                        what, self->max_block_count > self->block_count ? "max-block-count"
                                                                        : "block-count",
                        total, stride, self->block_size_property,
                        self->block_alignment_property, NEBULA_MAX_ALLOCATION_SIZE);
      return;
    }

  self->block_size = stride;
  self->block_size_property = stride;
  self->block_alignment = self->block_alignment_property;
  self->block_shift = is_power_of_two (stride) ? (guint) g_bit_nth_lsf (stride, -1) : 0;
  self->block_odd_shift = (guint) g_bit_nth_lsf (stride, -1);
  self->block_odd_inverse = odd_inverse (stride >> self->block_odd_shift);
  self->block_odd_limit = G_MAXSIZE / (stride >> self->block_odd_shift);
  self->max_blocks = total;
  if (self->max_block_count == 0)
    self->max_block_count = self->block_count;

  nebula_stats_counters_init (&self->stats, config->track_stats, config->thread_safe);
  nebula_pool_magazines_init (self);

  slab = nebula_pool_slab_new (self, 0, self->block_count, &config->init.error);
  if (slab == NULL)
    return;

  self->slabs[0] = slab;
  self->n_slabs = 1;
  self->n_headers = 1;
  self->n_blocks = slab->n_blocks;
  /* The fast fields are written only in single-threaded mode: a
   * thread-safe pool that a binding never initialized may meet its first
   * calls from several threads at once, whose paths read max_fast_size
   * (always 0 there). */
  self->tools_watching = nebula_memory_tools_watching ();
  if (!config->thread_safe)
    {
      nebula_pool_set_current_slab (self, slab);
      self->fast.alignment_mask = ~(self->block_alignment - 1);
      self->fast.block_shift = self->block_odd_shift;
      self->fast.block_inverse = self->block_odd_inverse;
      self->fast.stats = config->track_stats ? &self->stats.plain : NULL;
      /* Any mode that needs the slow path (fills, and memory tools
       * watching, whose poisoning lives in the slow path) leaves the limits
       * 0, which closes the inline paths with the test they make anyway.
       * Check-frees takes them whatever the stride: the inline check of a
       * free finds the block index with a rotation and a multiplication
       * (_nebula_pool_fast_index()), as block_start_index() does. */
      if (config->alloc_fill < 0 && config->free_fill < 0 && !self->tools_watching)
        {
          self->fast.max_fast_size = self->block_size;
          /* The two configurations whose inline paths test no pointer. */
          if (self->check_frees && config->track_stats)
            self->fast.checked_max = self->block_size;
          else if (!self->check_frees && !config->track_stats)
            self->fast.plain_max = self->block_size;
        }
    }
  __atomic_store_n (&self->ready, TRUE, __ATOMIC_RELEASE);
  nebula_pool_magazines_publish (self);
}


/* nebula-bump-config.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-bump-allocator-private.h"

/* The bump allocator's initialization: validates the configuration,
 * applies the preset and takes the first chunk; run once, by
 * nebula_allocator_config_ensure(). */

void
nebula_bump_allocator_init_once (gpointer data)
{
  NebulaBumpAllocator *self = data;
  NebulaAllocatorConfig *config = &self->config;
  Chunk *chunk;

  nebula_allocator_config_validate (config, bump_label ());

  switch (config->preset)
    {
    case NEBULA_PRESET_PRODUCTION:
      self->max_capacity = nebula_allocator_config_production_limit (config, PROP_MAX_CAPACITY,
                                                                     self->capacity,
                                                                     self->max_capacity);
      break;
    case NEBULA_PRESET_PERFORMANCE:
      if (!nebula_allocator_config_is_explicit (config, PROP_RESET_POLICY))
        self->reset_policy = NEBULA_RESET_POLICY_KEEP_ALL;
      break;
    case NEBULA_PRESET_DEFAULT:
    case NEBULA_PRESET_DEBUG:
    default:
      break;
    }

  nebula_allocator_config_check_capacity (config, bump_label (), self->capacity,
                                          self->max_capacity);

  if (!(self->growth_factor >= 1.0 && self->growth_factor <= 16.0))
    nebula_allocator_config_set_invalid (config, bump_label (), "growth-factor",
                                         "must be between 1.0 and 16.0, not %g",
                                         self->growth_factor);

  if (self->min_alloc_size == 0 || (self->min_alloc_size & (self->min_alloc_size - 1)) != 0 ||
      self->min_alloc_size > 4096)
    nebula_allocator_config_set_invalid (config, bump_label (), "min-alloc-size",
                                         "must be a power of two from 1 to 4096, not %"
                                         G_GUINT64_FORMAT, self->min_alloc_size);
  else if (self->capacity != 0 && self->min_alloc_size > self->capacity)
    nebula_allocator_config_set_invalid (config, bump_label (), "min-alloc-size",
                                         "(%" G_GUINT64_FORMAT ") must not exceed the capacity (%"
                                         G_GUINT64_FORMAT ")",
                                         self->min_alloc_size, self->capacity);

  if (self->large_threshold == 0)
    self->large_threshold = MAX (self->capacity / 2, 1);

  if (config->init.error != NULL)
    return;

  if (self->max_capacity == 0)
    self->max_capacity = self->capacity;

  /* In thread-safe mode the inline paths of other threads may read the
   * fast fields while this runs (they find max_fast_size 0 and step
   * aside): they keep the zeros of construction. */
  if (!config->thread_safe)
    self->fast.min_alloc_mask = self->min_alloc_size - 1;
  self->tools_watching = nebula_memory_tools_watching ();
  nebula_stats_counters_init (&self->stats, config->track_stats, config->thread_safe);

  chunk = nebula_bump_chunk_new (self, self->capacity, &config->init.error);
  if (chunk == NULL && config->init.error == NULL)
    {
      NebulaErrorInfo info = { .requested = self->capacity, .what = config->name };

      nebula_set_error (&config->init.error, NEBULA_ALLOCATOR_ERROR,
                        NEBULA_ALLOCATOR_ERROR_OUT_OF_MEMORY, &info,
                        "%s: the system refused the first chunk of %" G_GUINT64_FORMAT " bytes",
                        bump_label (), self->capacity);
      return;
    }
  if (chunk == NULL)
    return;

  self->reserved = chunk->size;
  self->current = chunk;
  nebula_bump_set_fast_cursor (self, chunk, 0);

  /* Modes that need the slow path close the fast one with a single field,
   * so neither the inline path nor the vfunc tests flags per request. Under
   * AddressSanitizer or Valgrind the slow path reports what it hands out
   * and takes back; the inline path would hide those blocks from the
   * tools. */
  if (config->thread_safe)
    ;
  else if (config->alloc_fill >= 0 || config->free_fill >= 0 || self->tools_watching)
    self->fast.max_fast_size = 0;
  else if (self->max_capacity > self->capacity)
    self->fast.max_fast_size = MIN (self->large_threshold, NEBULA_MAX_FAST_SIZE);
  else
    self->fast.max_fast_size = NEBULA_MAX_FAST_SIZE;

  /* The inline path counts into the same plain counters as the public
   * wrappers; it never runs in thread-safe mode, where they are atomic. */
  if (!config->thread_safe)
    {
      self->fast.stats = config->track_stats ? &self->stats.plain : NULL;
      self->fast.counted_max = config->track_stats ? self->fast.max_fast_size : 0;
    }
  else
    nebula_bump_thread_publish (self);
}

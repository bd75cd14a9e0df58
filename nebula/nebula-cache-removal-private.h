/* nebula-cache-removal-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-cache-shard-private.h"

G_BEGIN_DECLS

/* The entries that left the cache: announced, then freed, outside the
 * cache's lock. */

/* Frees a key and a value the cache does not hold (any may be NULL).
 * Inline: a hit frees the caller's key copy with it. */
static inline void
nebula_cache_removal_free_data (NebulaComputeCache *self,
                                gpointer            key,
                                gpointer            value)
{
  if (self->key_destroy != NULL && key != NULL)
    self->key_destroy (key);
  if (self->value_destroy != NULL && value != NULL)
    self->value_destroy (value);
}

/* Keeps what left the cache until the lock is released. */
static inline void
nebula_cache_graveyard_add (Graveyard          *graveyard,
                            const Entry        *entry,
                            NebulaRemovalCause  cause)
{
  Removal removal = { .value = entry->value, .cause = cause, .key_type = entry->key_type };

  /* A GVariant key of a fixed-size type lives in the entry as its bits
   * (key_type is 0 in caches of other keys). */
  if (entry->key == NULL && entry->key_type != 0)
    removal.key_bits = entry->int_key;
  else
    removal.key = entry->key;

  if (graveyard->n < G_N_ELEMENTS (graveyard->first))
    graveyard->first[graveyard->n] = removal;
  else
    {
      if (graveyard->more == NULL)
        graveyard->more = g_array_new (FALSE, FALSE, sizeof (Removal));
      g_array_append_val (graveyard->more, removal);
    }
  graveyard->n++;
}

void nebula_cache_removal_flush_slow (NebulaComputeCache      *self,
                                      Graveyard               *graveyard);

/* Emits NebulaComputeCache::entry-removed for each removal in @graveyard
 * (variant caches only) and frees its key and value. */
static inline void
nebula_cache_removal_flush (NebulaComputeCache *self,
                            Graveyard          *graveyard)
{
  if (graveyard->n == 0)
    return;
  /* Integer or pointer keys without destroy functions: nothing to do. */
  if (self->keys != NEBULA_CACHE_KEYS_VARIANT && self->key_destroy == NULL &&
      self->value_destroy == NULL && graveyard->more == NULL)
    {
      graveyard->n = 0;
      return;
    }
  nebula_cache_removal_flush_slow (self, graveyard);
}

/* Registers NebulaComputeCache::entry-removed, from class_init. */
void nebula_cache_removal_class_init (NebulaComputeCacheClass *klass);

G_END_DECLS

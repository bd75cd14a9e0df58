/* nebula-cache-removal-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-compute-cache-private.h"

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

/* Emits NebulaComputeCache::entry-removed for each entry in @graveyard
 * (object caches only) and frees it. */
void nebula_cache_removal_flush      (NebulaComputeCache      *self,
                                      GQueue                  *graveyard);

/* Registers NebulaComputeCache::entry-removed, from class_init. */
void nebula_cache_removal_class_init (NebulaComputeCacheClass *klass);

G_END_DECLS

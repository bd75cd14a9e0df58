/* nebula-cache-pressure.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-async-compute-cache-private.h"
#include "nebula-compute-cache-private.h"
#include "nebula-cache-entry-private.h"
#include "nebula-cache-expiry-private.h"
#include "nebula-cache-policy-private.h"
#include "nebula-cache-removal-private.h"
#include "nebula-enums.h"
#include "nebula-memory-pressure.h"
#include "nebula-sanitizer-private.h"
#include "nebula-sysprof-private.h"

/* What the compute caches drop when memory runs short: expired entries at
 * every level, and at CRITICAL, entries chosen by the eviction policy until
 * the cache is down to its low-water mark. */

/* A quarter of the bound, or of what the cache holds when it has none. */
#define LOW_WATER_DIVISOR 4

/* Whether @shard holds more than its share of the low-water mark. */
static gboolean
above_low_water (NebulaCacheShard *shard,
                 guint             entries_low,
                 guint64           weight_low)
{
  if (shard->n_entries > entries_low)
    return TRUE;
  return shard->max_weight > 0 && shard->weight > weight_low;
}

/**
 * nebula_compute_cache_handle_memory_pressure:
 * @self: a #NebulaComputeCache
 * @level: how short memory is
 *
 * What @self does when the desktop warns that memory runs short, as
 * nebula_memory_pressure_watch() arranges: at
 * %G_MEMORY_MONITOR_WARNING_LEVEL_LOW and
 * %G_MEMORY_MONITOR_WARNING_LEVEL_MEDIUM it drops the entries whose
 * time-to-live or time-to-idle passed; at
 * %G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL it also evicts, in the order of
 * its #NebulaEvictionPolicy, down to its low-water mark: a quarter of
 * #NebulaComputeCache:max-entries (and of #NebulaComputeCache:max-weight
 * when it has one), or a quarter of the entries it holds when it has no
 * bound. Removed entries are reported by #NebulaComputeCache::entry-removed
 * with %NEBULA_REMOVAL_CAUSE_EXPIRED or %NEBULA_REMOVAL_CAUSE_SIZE. A
 * level below LOW does nothing.
 *
 * Call it yourself to react to a source of pressure of your own, or from
 * a test. It takes the cache's lock and is safe from any thread.
 *
 * Returns: the number of entries removed
 */
guint
nebula_compute_cache_handle_memory_pressure (NebulaComputeCache         *self,
                                             GMemoryMonitorWarningLevel  level)
{
  guint removed = 0;
  gint64 time;

  g_return_val_if_fail (NEBULA_IS_COMPUTE_CACHE (self), 0);

  if (level < G_MEMORY_MONITOR_WARNING_LEVEL_LOW)
    return 0;

  /* The clock takes a lock itself. */
  time = nebula_compute_cache_now (self);

  /* Shard by shard, each down to its share of the low-water mark (the
   * bounds are split evenly across the shards). */
  for (guint i = 0; i < self->n_shards; i++)
    {
      NebulaCacheShard *shard = &self->shards[i];
      Graveyard graveyard = GRAVEYARD_INIT;
      guint before;

      nebula_compute_cache_lock (self, shard);
      before = shard->n_entries;

      if (shard->time_to_live > 0 || shard->time_to_idle > 0)
        nebula_cache_expire (shard, time, &graveyard);

      if (level >= G_MEMORY_MONITOR_WARNING_LEVEL_CRITICAL)
        {
          guint entries_low = shard->max_entries > 0 ? shard->max_entries / LOW_WATER_DIVISOR
                                                     : before / LOW_WATER_DIVISOR;
          guint64 weight_low = shard->max_weight / LOW_WATER_DIVISOR;

          while (above_low_water (shard, entries_low, weight_low))
            {
              Entry *entry = nebula_cache_policy_evict (shard);

              if (entry == NULL)
                break;
              nebula_cache_entry_bury (shard, entry, NEBULA_REMOVAL_CAUSE_SIZE, &graveyard);
            }
        }

      removed += before - shard->n_entries;
      nebula_compute_cache_unlock (self, shard);
      nebula_cache_removal_flush (self, &graveyard);
    }

  nebula_sysprof_mark ("cache-pressure", "%s: level %d, %u entries removed",
                       G_OBJECT_TYPE_NAME (self), (int) level, removed);
  return removed;
}

/**
 * nebula_async_compute_cache_handle_memory_pressure:
 * @self: a #NebulaAsyncComputeCache
 * @level: how short memory is
 *
 * What @self does when memory runs short: the same as
 * nebula_compute_cache_handle_memory_pressure() on the values it stores.
 * Computations in flight are not touched.
 *
 * Returns: the number of entries removed
 */
guint
nebula_async_compute_cache_handle_memory_pressure (NebulaAsyncComputeCache    *self,
                                                   GMemoryMonitorWarningLevel  level)
{
  g_autoptr(NebulaComputeCache) store = NULL;

  g_return_val_if_fail (NEBULA_IS_ASYNC_COMPUTE_CACHE (self), 0);

  nebula_mutex_lock (&self->mutex);
  if (self->store != NULL)
    store = g_object_ref (self->store);
  nebula_mutex_unlock (&self->mutex);

  if (store == NULL)
    return 0;
  return nebula_compute_cache_handle_memory_pressure (store, level);
}

/* nebula-async-compute-cache-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-async-compute-cache.h"
#include "nebula-compute-waiter-private.h"

G_BEGIN_DECLS

/* The instance, shared by the files of the asynchronous cache:
 * nebula-compute-flight.c, -permit.c, -waiter.c, -task.c,
 * nebula-circuit-breaker.c and nebula-async-compute-cache.c. */
struct _NebulaAsyncComputeCache
{
  GObject              parent_instance;

  GMutex               mutex;
  NebulaComputeCache  *store;
  GHashTable          *flights;        /* key -> newest attached Flight */
  GQueue               all_flights;
  GQueue               pending;        /* flights waiting for a permit */
  guint                running;        /* flights holding a permit */
  GHashTable          *breakers;       /* key -> Breaker */
  GQueue               breaker_order;  /* least recently failed first */
  NebulaCacheStats     stats;
  gboolean             disposed;
  CacheHandle         *handle;

  NebulaEvictionPolicy policy;
  guint                max_entries;
  guint64              max_weight;
  guint64              time_to_live;
  guint64              time_to_idle;
  guint64              refresh_after;
  gboolean             deduplicate;
  gboolean             keep_abandoned;
  guint                max_concurrent;
  guint                max_queued;
  gboolean             circuit_breaker;
  guint                failure_threshold;
  guint64              open_duration;
};

/* Emits ::load-failed for a failed refresh of @key. */
void  nebula_async_compute_cache_emit_load_failed (NebulaAsyncComputeCache *self,
                                                   GVariant                *key,
                                                   const GError            *error);

G_END_DECLS

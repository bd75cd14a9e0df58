/* nebula-async-cache-instance-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-async-compute-cache.h"

G_BEGIN_DECLS

/* The asynchronous cache's instance, shared by its files (the flights,
 * waiters, permits and breakers, and nebula-async-compute-cache.c).
 * Header only: the lowest layer of the asynchronous cache. */
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
  struct _CacheHandle *handle;

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

G_END_DECLS

/* nebula-compute-cache-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-cache-shard-private.h"

G_BEGIN_DECLS

/* What nebula-compute-cache.c offers the keyed API and the asynchronous
 * cache. */

/* Sets what the keys are, on the cache and its shards (still empty). */
void      nebula_compute_cache_set_keys   (NebulaComputeCache  *self,
                                           NebulaCacheKeys      keys,
                                           GHashFunc            hash_func,
                                           GEqualFunc           equal_func,
                                           GDestroyNotify       key_destroy,
                                           GDestroyNotify       value_destroy);

/* The cache's clock, in microseconds. */
gint64    nebula_compute_cache_now        (NebulaComputeCache  *self);

/* Stamps entries with the clock even without an expiry: the asynchronous
 * cache reads their written times for refresh-after. */
void      nebula_compute_cache_track_time (NebulaComputeCache  *self);

/* A lookup that counts no request: the store behind the asynchronous cache
 * keeps its own request counters. Touches the entry for the policy and
 * returns a new reference, with the time the entry was written. */
GObject  *nebula_compute_cache_peek       (NebulaComputeCache  *self,
                                           GVariant            *key,
                                           gint64              *written_at);

G_END_DECLS

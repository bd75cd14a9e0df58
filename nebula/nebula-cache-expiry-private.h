/* nebula-cache-expiry-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-cache-table-private.h"
#include "nebula-cache-shard-private.h"

G_BEGIN_DECLS

/* Time-to-live and time-to-idle. Called with the cache's lock held; the
 * removed entries go to @graveyard. */

/* Drops the entries whose time passed. */
void    nebula_cache_expire    (NebulaCacheShard   *shard,
                                gint64              time,
                                Graveyard          *graveyard);

Entry  *nebula_cache_find_live_expiring (NebulaCacheShard   *shard,
                                         gconstpointer       key,
                                         guint               hash,
                                         gint64              time,
                                         Graveyard          *graveyard);

/* Finds the live entry of @key; an expired one is removed on the way. A
 * cache without expiry only looks its table up. @keys is shard->keys, or
 * the constant of a caller that knows it. */
static inline Entry *
nebula_cache_find_live_keys (NebulaCacheShard *shard,
                             NebulaCacheKeys   keys,
                             gconstpointer     key,
                             guint             hash,
                             gint64            time,
                             Graveyard        *graveyard)
{
  if (shard->time_to_live == 0 && shard->time_to_idle == 0)
    return nebula_cache_table_lookup_keys (shard, keys, key, hash);
  return nebula_cache_find_live_expiring (shard, key, hash, time, graveyard);
}

static inline Entry *
nebula_cache_find_live (NebulaCacheShard *shard,
                        gconstpointer     key,
                        guint             hash,
                        gint64            time,
                        Graveyard        *graveyard)
{
  return nebula_cache_find_live_keys (shard, shard->keys, key, hash, time, graveyard);
}

G_END_DECLS

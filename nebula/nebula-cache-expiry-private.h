/* nebula-cache-expiry-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-compute-cache-private.h"

G_BEGIN_DECLS

/* Time-to-live and time-to-idle. Called with the cache's lock held; the
 * removed entries go to @graveyard. */

/* Drops the entries whose time passed. */
void    nebula_cache_expire    (NebulaCacheShard   *shard,
                                gint64              time,
                                Graveyard          *graveyard);

/* Finds the live entry of @key; an expired one is removed on the way. */
Entry  *nebula_cache_find_live (NebulaCacheShard   *shard,
                                gconstpointer       key,
                                guint               hash,
                                gint64              time,
                                Graveyard          *graveyard);

G_END_DECLS

/* nebula-cache-expiry.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-cache-entry-private.h"
#include "nebula-cache-expiry-private.h"
#include "nebula-cache-table-private.h"

static inline gboolean
is_expired (NebulaCacheShard   *shard,
            Entry              *entry,
            gint64              time)
{
  return (shard->time_to_live > 0 && time - entry->written_at >= (gint64) shard->time_to_live) ||
         (shard->time_to_idle > 0 && time - entry->accessed_at >= (gint64) shard->time_to_idle);
}

/* Drops the entries whose time passed. Both time queues are sorted by
 * their deadline, so only their heads are ever looked at. */
void
nebula_cache_expire (NebulaCacheShard   *shard,
                     gint64              time,
                     Graveyard          *graveyard)
{
  Link *link;

  if (shard->time_to_live > 0)
    while ((link = nebula_cache_queue_head (&shard->write_queue)) != NULL &&
           is_expired (shard, ENTRY_OF (link, write_link), time))
      nebula_cache_entry_remove (shard, ENTRY_OF (link, write_link), NEBULA_REMOVAL_CAUSE_EXPIRED,
                                 graveyard);

  if (shard->time_to_idle > 0)
    while ((link = nebula_cache_queue_head (&shard->access_queue)) != NULL &&
           is_expired (shard, ENTRY_OF (link, access_link), time))
      nebula_cache_entry_remove (shard, ENTRY_OF (link, access_link), NEBULA_REMOVAL_CAUSE_EXPIRED,
                                 graveyard);
}

/* Finds the live entry of @key; an expired one is removed on the way. */
Entry *
nebula_cache_find_live_expiring (NebulaCacheShard   *shard,
                                 gconstpointer       key,
                                 guint               hash,
                                 gint64              time,
                                 Graveyard          *graveyard)
{
  Entry *entry;

  nebula_cache_expire (shard, time, graveyard);
  entry = nebula_cache_table_lookup (shard, key, hash);
  if (entry != NULL && is_expired (shard, entry, time))
    {
      nebula_cache_entry_remove (shard, entry, NEBULA_REMOVAL_CAUSE_EXPIRED, graveyard);
      entry = NULL;
    }
  return entry;
}


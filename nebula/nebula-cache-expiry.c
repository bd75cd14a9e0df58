/* nebula-cache-expiry.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-cache-entry-private.h"
#include "nebula-cache-expiry-private.h"

static inline gboolean
is_expired (NebulaComputeCache *self,
            Entry              *entry,
            gint64              time)
{
  return (self->time_to_live > 0 && time - entry->written_at >= (gint64) self->time_to_live) ||
         (self->time_to_idle > 0 && time - entry->accessed_at >= (gint64) self->time_to_idle);
}

/* Drops the entries whose time passed. Both time queues are sorted by
 * their deadline, so only their heads are ever looked at. */
void
nebula_cache_expire (NebulaComputeCache *self,
                     gint64              time,
                     GQueue             *graveyard)
{
  Link *link;

  if (self->time_to_live > 0)
    while ((link = nebula_cache_queue_head (&self->write_queue)) != NULL &&
           is_expired (self, ENTRY_OF (link, write_link), time))
      nebula_cache_entry_remove (self, ENTRY_OF (link, write_link), NEBULA_REMOVAL_CAUSE_EXPIRED,
                                 graveyard);

  if (self->time_to_idle > 0)
    while ((link = nebula_cache_queue_head (&self->access_queue)) != NULL &&
           is_expired (self, ENTRY_OF (link, access_link), time))
      nebula_cache_entry_remove (self, ENTRY_OF (link, access_link), NEBULA_REMOVAL_CAUSE_EXPIRED,
                                 graveyard);
}

/* Finds the live entry of @key; an expired one is removed on the way. */
Entry *
nebula_cache_find_live (NebulaComputeCache *self,
                        gconstpointer       key,
                        gint64              time,
                        GQueue             *graveyard)
{
  Entry *entry;

  nebula_cache_expire (self, time, graveyard);
  entry = g_hash_table_lookup (self->map, key);
  if (entry != NULL && is_expired (self, entry, time))
    {
      nebula_cache_entry_remove (self, entry, NEBULA_REMOVAL_CAUSE_EXPIRED, graveyard);
      entry = NULL;
    }
  return entry;
}


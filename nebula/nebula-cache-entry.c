/* nebula-cache-entry.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nebula-cache-entry-private.h"
#include "nebula-cache-policy-private.h"
#include "nebula-enums.h"
#include "nebula-error-private.h"

/* Takes @entry out of every structure except the policy's and queues it in
 * @graveyard, where it waits for the lock to be released. */
void
nebula_cache_entry_bury (NebulaComputeCache *self,
                         Entry              *entry,
                         NebulaRemovalCause  cause,
                         GQueue             *graveyard)
{
  g_hash_table_remove (self->map, entry->key);
  if (self->time_to_live > 0)
    nebula_cache_queue_unlink (&self->write_queue, &entry->write_link, 0);
  if (self->time_to_idle > 0)
    nebula_cache_queue_unlink (&self->access_queue, &entry->access_link, 0);
  self->weight -= entry->weight;

  switch (cause)
    {
    case NEBULA_REMOVAL_CAUSE_EXPLICIT:
      self->stats.invalidations++;
      break;
    case NEBULA_REMOVAL_CAUSE_REPLACED:
      self->stats.replacements++;
      break;
    case NEBULA_REMOVAL_CAUSE_SIZE:
      self->stats.evictions++;
      break;
    case NEBULA_REMOVAL_CAUSE_EXPIRED:
    default:
      self->stats.expirations++;
      break;
    }

  entry->cause = cause;
  g_queue_push_tail (graveyard, entry);
}

void
nebula_cache_entry_remove (NebulaComputeCache *self,
                           Entry              *entry,
                           NebulaRemovalCause  cause,
                           GQueue             *graveyard)
{
  nebula_cache_policy_remove (self, entry);
  nebula_cache_entry_bury (self, entry, cause, graveyard);
}

void
nebula_cache_entry_touch (NebulaComputeCache *self,
                          Entry              *entry,
                          gint64              time)
{
  entry->accessed_at = time;
  if (self->time_to_idle > 0)
    nebula_cache_queue_move_to_tail (&self->access_queue, &entry->access_link);
  nebula_cache_policy_touch (self, entry);
}

/* Written so that no sum can wrap: weights may come close to 2^64. */
static inline gboolean
over_bound (NebulaComputeCache *self,
            guint               extra_entries,
            guint64             extra_weight)
{
  return (self->max_entries > 0 &&
          g_hash_table_size (self->map) + extra_entries > self->max_entries) ||
         (self->max_weight > 0 &&
          (self->weight > self->max_weight || extra_weight > self->max_weight - self->weight));
}


/* Stores @key -> @value (taking both) after making room. @known_absent
 * spares a lookup when the caller just found no entry. Returns FALSE with
 * OVERFLOW when the value alone exceeds the bound; the caller still owns
 * @key and @value then. */
gboolean
nebula_cache_entry_store (NebulaComputeCache  *self,
                          gpointer             key,
                          gpointer             value,
                          guint64              weight,
                          gint64               time,
                          gboolean             known_absent,
                          GQueue              *graveyard,
                          GError             **error)
{
  Entry *entry;
  Entry *previous;

  if (self->max_weight > 0 && weight > self->max_weight)
    {
      NebulaErrorInfo info = { .requested = weight, .capacity = self->max_weight };

      nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_OVERFLOW, &info,
                        "Value weighs %" G_GUINT64_FORMAT ", more than max-weight %"
                        G_GUINT64_FORMAT " of the whole cache",
                        weight, self->max_weight);
      return FALSE;
    }

  previous = known_absent ? NULL : g_hash_table_lookup (self->map, key);

  /* Without a bound nothing makes room, and the total (hence every
   * queue's) must stay exact: refuse what would carry it past 2^64 - 1. */
  if (self->max_weight == 0 &&
      weight > G_MAXUINT64 - (self->weight - (previous != NULL ? previous->weight : 0)))
    {
      NebulaErrorInfo info = { .requested = weight, .capacity = G_MAXUINT64 };

      nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_OVERFLOW, &info,
                        "Value weighs %" G_GUINT64_FORMAT "; with the %" G_GUINT64_FORMAT
                        " stored the total weight would pass %" G_GUINT64_FORMAT,
                        weight, self->weight, G_MAXUINT64);
      return FALSE;
    }

  if (previous != NULL)
    nebula_cache_entry_remove (self, previous, NEBULA_REMOVAL_CAUSE_REPLACED, graveyard);

  while (over_bound (self, 1, weight))
    {
      Entry *victim = nebula_cache_policy_evict (self);

      if (victim == NULL)
        break;
      nebula_cache_entry_bury (self, victim, NEBULA_REMOVAL_CAUSE_SIZE, graveyard);
    }

  entry = g_slice_new0 (Entry);
  entry->key = key;
  entry->value = value;
  entry->weight = weight;
  entry->written_at = entry->accessed_at = time;
  entry->hash = self->hash_func (key);
  g_hash_table_insert (self->map, key, entry);
  self->weight += weight;
  if (self->time_to_live > 0)
    nebula_cache_queue_push_tail (&self->write_queue, &entry->write_link, 0);
  if (self->time_to_idle > 0)
    nebula_cache_queue_push_tail (&self->access_queue, &entry->access_link, 0);
  nebula_cache_policy_add (self, entry);
  self->stats.insertions++;
  return TRUE;
}

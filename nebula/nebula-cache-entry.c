/* nebula-cache-entry.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "nebula-cache-entry-private.h"
#include "nebula-cache-policy-private.h"
#include "nebula-cache-removal-private.h"
#include "nebula-cache-table-private.h"
#include "nebula-enums.h"
#include "nebula-error-private.h"

/* Entries of a shard are recycled through a free list, up to this many:
 * a full cache evicts one entry for each it stores. A shard with lock-free
 * hits keeps every entry it had (a reader may still be reading one that
 * left, and its hit buffer may still name it) until the cache is freed. */
#define MAX_FREE_ENTRIES 256

#define SLAB_ENTRIES 32

/* A new entry: for a shard with lock-free hits, 64-byte aligned in a slab
 * freed with the shard (nebula_cache_entry_free_slabs()). */
static Entry *
entry_alloc (NebulaCacheShard *shard)
{
  Entry *entry;

  if (shard->stripes == NULL)
    return g_new0 (Entry, 1);
  if (shard->slab_left == 0)
    {
      shard->slab_next = g_aligned_alloc0 (SLAB_ENTRIES, NEBULA_CACHE_ENTRY_STRIDE, 64);
      shard->slabs = g_slist_prepend (shard->slabs, shard->slab_next);
      shard->slab_left = SLAB_ENTRIES;
    }
  entry = (Entry *) (gpointer) shard->slab_next;
  shard->slab_next += NEBULA_CACHE_ENTRY_STRIDE;
  shard->slab_left--;
  return entry;
}

void
nebula_cache_entry_free (NebulaCacheShard *shard,
                         Entry            *entry)
{
  if (shard->stripes == NULL)
    g_free (entry);
}

void
nebula_cache_entry_free_slabs (NebulaCacheShard *shard)
{
  g_slist_free_full (g_steal_pointer (&shard->slabs), g_aligned_free);
  shard->slab_next = NULL;
  shard->slab_left = 0;
}

static Entry *
entry_new (NebulaCacheShard *shard)
{
  Entry *entry = shard->free_entries;

  if (entry == NULL)
    return entry_alloc (shard);
  shard->free_entries = entry->chain;
  shard->n_free--;
  /* What a lock-free reader reads is written atomically, the rest plainly;
   * the odd version tells a reader still there that the entry is being
   * rewritten (made even again by nebula_cache_entry_store()). */
  if (shard->stripes != NULL)
    __atomic_store_n (&entry->version, entry->version + 1, __ATOMIC_RELAXED);
  else
    entry->accessed_at = 0;
  NEBULA_CACHE_PUBLISH (entry->chain, NULL);
  NEBULA_CACHE_PUBLISH (entry->hash, 0);
  NEBULA_CACHE_PUBLISH (entry->int_key, 0);
  NEBULA_CACHE_PUBLISH (entry->value, NULL);
  entry->key_type = 0;
  entry->key = NULL;
  entry->weight = 0;
  entry->written_at = 0;
  /* A lock-free hit may still mark this entry: atomic. */
  __atomic_store_n (&entry->referenced, 0, __ATOMIC_RELAXED);
  /* LRU as CLOCK uses nothing in the second line: leave it alone, so that a
   * miss writes one line of its entry. */
  if (shard->ring == NULL)
    memset (&entry->policy_link, 0, sizeof *entry - G_STRUCT_OFFSET (Entry, policy_link));
  return entry;
}

static void
entry_recycle (NebulaCacheShard *shard,
               Entry            *entry)
{
  if (shard->n_free >= MAX_FREE_ENTRIES && shard->stripes == NULL)
    {
      nebula_cache_entry_free (shard, entry);
      return;
    }
  NEBULA_CACHE_PUBLISH (entry->chain, shard->free_entries);
  shard->free_entries = entry;
  shard->n_free++;
}

/* Takes @entry out of every structure except the policy's, queues its key
 * and value in @graveyard, where they wait for the lock to be released,
 * and recycles the entry. */
void
nebula_cache_entry_bury (NebulaCacheShard   *shard,
                         Entry              *entry,
                         NebulaRemovalCause  cause,
                         Graveyard          *graveyard)
{
  NebulaCacheCounts *counts;

  /* Not live before it leaves its chain: a lock-free reader that reads the
   * chain it no longer has then reads this too, and gives up. */
  NEBULA_CACHE_PUBLISH (entry->live, 0);
  nebula_cache_table_remove (&shard->table, entry);
  shard->n_entries--;
  if (shard->time_to_live > 0)
    nebula_cache_queue_unlink (&shard->write_queue, &entry->write_link, 0);
  if (shard->time_to_idle > 0)
    nebula_cache_queue_unlink (&shard->access_queue, &entry->access_link, 0);
  shard->weight -= entry->weight;

  counts = nebula_cache_counts_for (shard, graveyard);
  switch (cause)
    {
    case NEBULA_REMOVAL_CAUSE_EXPLICIT:
      counts->invalidations++;
      break;
    case NEBULA_REMOVAL_CAUSE_REPLACED:
      counts->replacements++;
      break;
    case NEBULA_REMOVAL_CAUSE_SIZE:
      counts->evictions++;
      break;
    case NEBULA_REMOVAL_CAUSE_EXPIRED:
    default:
      counts->expirations++;
      break;
    }

  nebula_cache_graveyard_add (graveyard, entry, cause);
  entry_recycle (shard, entry);
}

void
nebula_cache_entry_remove (NebulaCacheShard   *shard,
                           Entry              *entry,
                           NebulaRemovalCause  cause,
                           Graveyard          *graveyard)
{
  nebula_cache_policy_remove (shard, entry);
  nebula_cache_entry_bury (shard, entry, cause, graveyard);
}

void
nebula_cache_entry_touch (NebulaCacheShard   *shard,
                          Entry              *entry,
                          gint64              time)
{
  /* accessed_at is read with time-to-idle only: without it a hit writes
   * nothing in the lines a lookup reads. */
  if (shard->time_to_idle > 0)
    {
      entry->accessed_at = time;
      nebula_cache_queue_move_to_tail (&shard->access_queue, &entry->access_link);
    }
  nebula_cache_policy_touch (shard, entry);
}

/* Written so that no sum can wrap: weights may come close to 2^64. */
static inline gboolean
over_bound (NebulaCacheShard   *shard,
            guint               extra_entries,
            guint64             extra_weight)
{
  return (shard->max_entries > 0 &&
          shard->n_entries + extra_entries > shard->max_entries) ||
         (shard->max_weight > 0 &&
          (shard->weight > shard->max_weight || extra_weight > shard->max_weight - shard->weight));
}


/* Stores @key -> @value (taking both) after making room. @probe is the key
 * as the API takes it (for integer keys, a pointer to the gint64, and @key
 * is NULL), @hash its hash. @known_absent spares a lookup when the caller
 * just found no entry. Returns FALSE with OVERFLOW when the value alone
 * exceeds the bound; the caller still owns @key and @value then. */
gboolean
nebula_cache_entry_store (NebulaCacheShard    *shard,
                          gconstpointer        probe,
                          guint                hash,
                          gpointer             key,
                          gpointer             value,
                          guint64              weight,
                          gint64               time,
                          gboolean             known_absent,
                          Graveyard           *graveyard,
                          GError             **error)
{
  Entry *entry;
  Entry *previous;

  if (shard->max_weight > 0 && weight > shard->max_weight)
    {
      NebulaErrorInfo info = { .requested = weight, .capacity = shard->max_weight };

      if (shard->n_shards == 1)
        nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_OVERFLOW, &info,
                          "Value weighs %" G_GUINT64_FORMAT ", more than max-weight %"
                          G_GUINT64_FORMAT " of the whole cache",
                          weight, shard->max_weight);
      else
        nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_OVERFLOW, &info,
                          "Value weighs %" G_GUINT64_FORMAT ", more than the %" G_GUINT64_FORMAT
                          " its shard holds (max-weight %" G_GUINT64_FORMAT " split across %u shards)",
                          weight, shard->max_weight, shard->total_max_weight, shard->n_shards);
      return FALSE;
    }

  previous = known_absent ? NULL : nebula_cache_table_lookup (shard, probe, hash);

  /* Without a bound nothing makes room, and the total (hence every
   * queue's) must stay exact: refuse what would carry it past 2^64 - 1. */
  if (shard->max_weight == 0 &&
      weight > G_MAXUINT64 - (shard->weight - (previous != NULL ? previous->weight : 0)))
    {
      NebulaErrorInfo info = { .requested = weight, .capacity = G_MAXUINT64 };

      nebula_set_error (error, NEBULA_CACHE_ERROR, NEBULA_CACHE_ERROR_OVERFLOW, &info,
                        "Value weighs %" G_GUINT64_FORMAT "; with the %" G_GUINT64_FORMAT
                        " stored the total weight would pass %" G_GUINT64_FORMAT,
                        weight, shard->weight, G_MAXUINT64);
      return FALSE;
    }

  if (previous != NULL)
    nebula_cache_entry_remove (shard, previous, NEBULA_REMOVAL_CAUSE_REPLACED, graveyard);

  while (over_bound (shard, 1, weight))
    {
      Entry *victim = nebula_cache_policy_evict (shard);

      if (victim == NULL)
        break;
      nebula_cache_entry_bury (shard, victim, NEBULA_REMOVAL_CAUSE_SIZE, graveyard);
    }

  entry = entry_new (shard);
  entry->key = key;
  nebula_cache_table_set_key (shard, entry, probe);
  NEBULA_CACHE_PUBLISH (entry->value, value);
  entry->weight = weight;
  entry->written_at = time;
  if (shard->stripes == NULL)
    entry->accessed_at = time;
  NEBULA_CACHE_PUBLISH (entry->hash, hash);
  NEBULA_CACHE_PUBLISH (entry->live, 1);
  /* Even again before a reader can reach it from the table. */
  if (shard->stripes != NULL && (entry->version & 1) != 0)
    NEBULA_CACHE_PUBLISH (entry->version, entry->version + 1);
  nebula_cache_table_insert (&shard->table, entry, shard->n_entries);
  shard->n_entries++;
  shard->weight += weight;
  if (shard->time_to_live > 0)
    nebula_cache_queue_push_tail (&shard->write_queue, &entry->write_link, 0);
  if (shard->time_to_idle > 0)
    nebula_cache_queue_push_tail (&shard->access_queue, &entry->access_link, 0);
  nebula_cache_policy_add (shard, entry);
  nebula_cache_counts_for (shard, graveyard)->insertions++;
  return TRUE;
}

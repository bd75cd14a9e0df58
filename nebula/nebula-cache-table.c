/* nebula-cache-table.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The hash table of a compute cache's shard: chained through the entries
 * themselves, so that storing an entry allocates nothing else and a lookup
 * reads the hash stored in the entry before comparing keys.
 */

#include "config.h"

#include "nebula-cache-table-private.h"

#define MIN_BITS 4

void
nebula_cache_table_init (Table *table)
{
  table->bits = MIN_BITS;
  table->resizes = 0;
  table->buckets = g_new0 (Entry *, 1u << MIN_BITS);
}

void
nebula_cache_table_clear (Table *table)
{
  g_clear_pointer (&table->buckets, g_free);
  g_slist_free_full (g_steal_pointer (&table->retired), g_free);
}

/* Doubles the buckets once there are as many entries as buckets: chains
 * stay about one entry long. */
static void
grow (Table *table)
{
  guint old_n = 1u << table->bits;
  guint new_bits = table->bits + 1;
  Entry **old = table->buckets;
  Entry **buckets = g_new0 (Entry *, 1u << new_bits);

  /* Relinks every entry into the new buckets before they are published:
   * a lock-free reader still in the old chains may stray into another
   * chain, which its bounded walk and the odd count of resizes catch. */
  __atomic_store_n (&table->resizes, table->resizes + 1, __ATOMIC_RELAXED);
  for (guint i = 0; i < old_n; i++)
    {
      Entry *entry = old[i];

      while (entry != NULL)
        {
          Entry *next = entry->chain;
          guint index = nebula_cache_bucket_of (entry->hash, new_bits);

          NEBULA_CACHE_PUBLISH (entry->chain, buckets[index]);
          buckets[index] = entry;
          entry = next;
        }
    }
  /* Buckets first, then bits: a reader that reads the new bits reads the
   * new buckets; one that reads the old bits indexes either array within
   * its bounds. The old array stays readable as long as the table. */
  NEBULA_CACHE_PUBLISH (table->buckets, buckets);
  NEBULA_CACHE_PUBLISH (table->bits, new_bits);
  NEBULA_CACHE_PUBLISH (table->resizes, table->resizes + 1);
  if (table->keep_retired)
    table->retired = g_slist_prepend (table->retired, old);
  else
    g_free (old);
}

/* @n_entries: how many the table holds before @entry. */
void
nebula_cache_table_insert (Table *table,
                           Entry *entry,
                           guint  n_entries)
{
  guint index;

  if (n_entries >= (1u << table->bits) && table->bits < 31)
    grow (table);
  index = nebula_cache_table_index (table, entry->hash);
  NEBULA_CACHE_PUBLISH (entry->chain, table->buckets[index]);
  NEBULA_CACHE_PUBLISH (table->buckets[index], entry);
}

void
nebula_cache_table_remove (Table *table,
                           Entry *entry)
{
  Entry **slot = &table->buckets[nebula_cache_table_index (table, entry->hash)];

  while (*slot != entry)
    slot = &(*slot)->chain;
  NEBULA_CACHE_PUBLISH (*slot, entry->chain);
  NEBULA_CACHE_PUBLISH (entry->chain, NULL);
}

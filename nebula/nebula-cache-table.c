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
  table->size = 0;
  table->buckets = g_new0 (Entry *, 1u << MIN_BITS);
}

void
nebula_cache_table_clear (Table *table)
{
  g_clear_pointer (&table->buckets, g_free);
  table->size = 0;
}

/* Doubles the buckets once there are as many entries as buckets: chains
 * stay about one entry long. */
static void
grow (Table *table)
{
  guint old_n = 1u << table->bits;
  Entry **old = table->buckets;

  table->bits++;
  table->buckets = g_new0 (Entry *, 1u << table->bits);
  for (guint i = 0; i < old_n; i++)
    {
      Entry *entry = old[i];

      while (entry != NULL)
        {
          Entry *next = entry->chain;
          guint index = nebula_cache_table_index (table, entry->hash);

          entry->chain = table->buckets[index];
          table->buckets[index] = entry;
          entry = next;
        }
    }
  g_free (old);
}

void
nebula_cache_table_insert (Table *table,
                           Entry *entry)
{
  guint index;

  if (table->size >= (1u << table->bits) && table->bits < 31)
    grow (table);
  index = nebula_cache_table_index (table, entry->hash);
  entry->chain = table->buckets[index];
  table->buckets[index] = entry;
  table->size++;
}

void
nebula_cache_table_remove (Table *table,
                           Entry *entry)
{
  Entry **slot = &table->buckets[nebula_cache_table_index (table, entry->hash)];

  while (*slot != entry)
    slot = &(*slot)->chain;
  *slot = entry->chain;
  entry->chain = NULL;
  table->size--;
}

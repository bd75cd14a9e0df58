/* nebula-cache-table-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <string.h>

#include "nebula-cache-key-private.h"
#include "nebula-cache-shard-private.h"

G_BEGIN_DECLS

/* The table of a shard. Called with the shard's lock held. The caller
 * hashes the key once (nebula_compute_cache_hash()) and passes the hash to
 * the lookup and to the entry it stores. */

void      nebula_cache_table_init   (Table             *table);
void      nebula_cache_table_clear  (Table             *table);
void      nebula_cache_table_insert (Table             *table,
                                     Entry             *entry,
                                     guint              n_entries);
void      nebula_cache_table_remove (Table             *table,
                                     Entry             *entry);

static inline guint
nebula_cache_table_index (const Table *table,
                          guint        hash)
{
  return nebula_cache_bucket_of (hash, table->bits);
}

/* @key is what the kind's API takes: a NebulaCacheVariantProbe, the
 * caller's pointer, a string, or a pointer to a gint64. @keys is
 * shard->keys, or the constant of a caller that knows it (the switch then
 * folds away). */
static inline gboolean
nebula_cache_table_matches (const NebulaCacheShard *shard,
                            NebulaCacheKeys         keys,
                            const Entry            *entry,
                            gconstpointer           key)
{
  switch (keys)
    {
    case NEBULA_CACHE_KEYS_INT:
      return entry->int_key == *(const gint64 *) key;
    case NEBULA_CACHE_KEYS_STRING:
      return strcmp (entry->key, key) == 0;
    case NEBULA_CACHE_KEYS_VARIANT:
      {
        const NebulaCacheVariantProbe *probe = key;

        if (entry->key_type != probe->type)
          return FALSE;
        if (probe->type == '(')
          return nebula_cache_key_equal (entry->key, probe->variant);
        if (nebula_cache_is_string_type (probe->type))
          return strcmp ((const char *) (gintptr) entry->int_key, probe->string) == 0;
        return entry->int_key == (gint64) probe->bits;
      }
    case NEBULA_CACHE_KEYS_POINTER:
    default:
      return shard->equal_func != NULL ? shard->equal_func (entry->key, key) : entry->key == key;
    }
}

/* Keeps in @entry what matching needs of its key, from @key as above. For
 * GVariant keys the string pointer is the one inside the variant the entry
 * holds (the same variant as the probe's). */
static inline void
nebula_cache_table_set_key (const NebulaCacheShard *shard,
                            Entry                  *entry,
                            gconstpointer           key)
{
  if (shard->keys == NEBULA_CACHE_KEYS_INT)
    NEBULA_CACHE_PUBLISH (entry->int_key, *(const gint64 *) key);
  else if (shard->keys == NEBULA_CACHE_KEYS_VARIANT)
    {
      const NebulaCacheVariantProbe *probe = key;

      entry->key_type = probe->type;
      entry->int_key = probe->string != NULL ? (gint64) (gintptr) probe->string : (gint64) probe->bits;
    }
}

static inline Entry *
nebula_cache_table_lookup_keys (const NebulaCacheShard *shard,
                                NebulaCacheKeys         keys,
                                gconstpointer           key,
                                guint                   hash)
{
  Entry *entry = shard->table.buckets[nebula_cache_table_index (&shard->table, hash)];

  for (; entry != NULL; entry = entry->chain)
    if (entry->hash == hash && nebula_cache_table_matches (shard, keys, entry, key))
      return entry;
  return NULL;
}

static inline Entry *
nebula_cache_table_lookup (const NebulaCacheShard *shard,
                           gconstpointer           key,
                           guint                   hash)
{
  return nebula_cache_table_lookup_keys (shard, shard->keys, key, hash);
}

G_END_DECLS

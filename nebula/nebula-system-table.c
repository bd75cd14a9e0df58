/* nebula-system-table.c: the live blocks of a checked NebulaSystemAllocator
 * (nebula-system-table-private.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What it replaces, a GHashTable behind one GMutex, cost several times a
 * malloc/free pair (HACKING.md, "The System allocator"). Here a call hashes
 * the address once, takes the lock of one of 16 shards with one atomic
 * exchange (none in a plain table) and probes a flat array of pairs.
 * Deletion shifts the following entries back (no tombstones), so probes
 * stay short however blocks come and go. The uncontended insert and take
 * are inline in the header; this file has what they leave out of line.
 */

#include "config.h"

#include <string.h>

#include "nebula-system-table-private.h"

#define MIN_CAPACITY    64
#define SPINS_BEFORE_YIELD 64

/* What a thread that found the lock taken does: spin on a plain load,
 * pausing, and yield now and then. Out of line, so that the callers'
 * uncontended path is one atomic exchange without a stack frame. */
G_NO_INLINE void
nebula_system_table_lock_contended (NebulaSystemShard *shard)
{
  guint spins = 0;

  do
    while (__atomic_load_n (&shard->s.lock, __ATOMIC_RELAXED) != 0)
      {
        /* The holder runs a few dozen instructions; if it was preempted,
         * let it run. */
        if (++spins % SPINS_BEFORE_YIELD == 0)
          g_thread_yield ();
#if defined(__x86_64__) || defined(__i386__)
        else
          __builtin_ia32_pause ();
#endif
      }
  while (__atomic_exchange_n (&shard->s.lock, 1, __ATOMIC_ACQUIRE) != 0);
}

static inline void
shard_lock (NebulaSystemTable *table,
            NebulaSystemShard *shard)
{
  if (G_UNLIKELY (!nebula_system_table_try_lock (table->thread_safe, shard)))
    nebula_system_table_lock_contended (shard);
}

NebulaSystemTable *
nebula_system_table_new (gboolean thread_safe)
{
  NebulaSystemTable *table = g_new0 (NebulaSystemTable, 1);

  table->thread_safe = thread_safe;
  return table;
}

void
nebula_system_table_free (NebulaSystemTable *table)
{
  if (table == NULL)
    return;

  for (guint i = 0; i < NEBULA_SYSTEM_TABLE_N_SHARDS; i++)
    g_free (table->shards[i].s.entries);
  g_free (table);
}

/* Doubles the shard (or makes its first array); FALSE when out of memory.
 * Out of line: rare, and its call would give every insert a frame. */
static G_NO_INLINE gboolean
grow (NebulaSystemShard *shard)
{
  gsize old_capacity = shard->s.entries != NULL ? shard->s.mask + 1 : 0;
  gsize capacity = MAX (old_capacity * 2, MIN_CAPACITY);
  NebulaSystemEntry *old = shard->s.entries;
  NebulaSystemEntry *entries = g_try_new0 (NebulaSystemEntry, capacity);

  if (entries == NULL)
    return FALSE;

  shard->s.entries = entries;
  shard->s.mask = capacity - 1;
  shard->s.limit = capacity / 2;
  for (gsize i = 0; i < old_capacity; i++)
    if (old[i].ptr != NULL)
      {
        guint64 hash = nebula_system_table_hash (old[i].ptr);

        entries[nebula_system_table_find_slot (shard, old[i].ptr, hash)] = old[i];
      }
  g_free (old);
  return TRUE;
}

/* An insert that found the lock taken or the shard full: out of line, so
 * that the common insert (inline in the header) runs without a call. */
G_NO_INLINE gboolean
nebula_system_table_insert_slow (NebulaSystemTable *table,
                                 gpointer           ptr,
                                 gsize              size)
{
  guint64 hash = nebula_system_table_hash (ptr);
  NebulaSystemShard *shard = nebula_system_table_shard (table, hash);
  gboolean ok = TRUE;

  shard_lock (table, shard);
  if (nebula_system_table_needs_growth (shard))
    ok = grow (shard);
  if (ok)
    nebula_system_table_put_locked (shard, ptr, size, hash);
  nebula_system_table_unlock (table->thread_safe, shard);
  return ok;
}

/* A take that found the lock taken. */
G_NO_INLINE NebulaSystemTableResult
nebula_system_table_take_contended (NebulaSystemTable *table,
                                    gpointer           ptr,
                                    gsize              size,
                                    gsize             *found_size)
{
  guint64 hash = nebula_system_table_hash (ptr);
  NebulaSystemShard *shard = nebula_system_table_shard (table, hash);
  NebulaSystemTableResult result;

  shard_lock (table, shard);
  result = nebula_system_table_take_locked (shard, ptr, size, hash, found_size);
  nebula_system_table_unlock (table->thread_safe, shard);
  return result;
}

gboolean
nebula_system_table_lookup (NebulaSystemTable *table,
                            gconstpointer      ptr,
                            gsize             *size)
{
  guint64 hash = nebula_system_table_hash (ptr);
  NebulaSystemShard *shard = nebula_system_table_shard (table, hash);
  gboolean found = FALSE;

  if (ptr == NULL)
    return FALSE;

  shard_lock (table, shard);
  if (shard->s.entries != NULL)
    {
      gsize i = nebula_system_table_find_slot (shard, ptr, hash);

      if (shard->s.entries[i].ptr != NULL)
        {
          found = TRUE;
          if (size != NULL)
            *size = shard->s.entries[i].size;
        }
    }
  nebula_system_table_unlock (table->thread_safe, shard);
  return found;
}

/* nebula_system_table_remove_at()'s move, when the slot after @i is
 * taken: entry j may move back to i unless its home lies in (i, j]
 * cyclically. */
void
nebula_system_table_shift_back (NebulaSystemShard *shard,
                                gsize              i)
{
  NebulaSystemEntry *entries = shard->s.entries;
  gsize mask = shard->s.mask;
  gsize j = i;

  for (;;)
    {
      gsize home;

      j = (j + 1) & mask;
      if (entries[j].ptr == NULL)
        break;
      home = nebula_system_table_home (shard, nebula_system_table_hash (entries[j].ptr));
      if (((j - home) & mask) >= ((j - i) & mask))
        {
          entries[i] = entries[j];
          i = j;
        }
    }
  entries[i].ptr = NULL;
}

gboolean
nebula_system_table_move (NebulaSystemTable *table,
                          gpointer           old_ptr,
                          gpointer           new_ptr,
                          gsize              new_size)
{
  guint64 old_hash = nebula_system_table_hash (old_ptr);
  NebulaSystemShard *shard = nebula_system_table_shard (table, old_hash);

  shard_lock (table, shard);
  if (shard->s.entries != NULL)
    {
      gsize i = nebula_system_table_find_slot (shard, old_ptr, old_hash);

      if (shard->s.entries[i].ptr != NULL)
        nebula_system_table_remove_at (shard, i);
    }
  nebula_system_table_unlock (table->thread_safe, shard);

  return nebula_system_table_insert (table, new_ptr, new_size);
}

void
nebula_system_table_foreach (NebulaSystemTable     *table,
                             NebulaSystemTableFunc  func,
                             gpointer               user_data,
                             gboolean               clear)
{
  for (guint s = 0; s < NEBULA_SYSTEM_TABLE_N_SHARDS; s++)
    {
      NebulaSystemShard *shard = &table->shards[s];

      shard_lock (table, shard);
      if (shard->s.entries != NULL)
        {
          for (gsize i = 0; i <= shard->s.mask; i++)
            if (shard->s.entries[i].ptr != NULL)
              func (shard->s.entries[i].ptr, shard->s.entries[i].size, user_data);
          if (clear)
            {
              memset (shard->s.entries, 0, (shard->s.mask + 1) * sizeof (NebulaSystemEntry));
              shard->s.n_entries = 0;
            }
        }
      nebula_system_table_unlock (table->thread_safe, shard);
    }
}

void
nebula_system_table_totals (NebulaSystemTable *table,
                            guint64           *n_blocks,
                            guint64           *n_bytes)
{
  guint64 blocks = 0, bytes = 0;

  for (guint s = 0; s < NEBULA_SYSTEM_TABLE_N_SHARDS; s++)
    {
      NebulaSystemShard *shard = &table->shards[s];

      shard_lock (table, shard);
      blocks += shard->s.n_entries;
      for (gsize i = 0; shard->s.entries != NULL && i <= shard->s.mask; i++)
        if (shard->s.entries[i].ptr != NULL)
          bytes += shard->s.entries[i].size;
      nebula_system_table_unlock (table->thread_safe, shard);
    }

  if (n_blocks != NULL)
    *n_blocks = blocks;
  if (n_bytes != NULL)
    *n_bytes = bytes;
}

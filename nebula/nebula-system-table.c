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
 * stay short however blocks come and go.
 */

#include "config.h"

#include <string.h>

#include "nebula-system-table-private.h"

#define N_SHARDS        16
#define SHARD_BITS      4
#define MIN_CAPACITY    64
#define SPINS_BEFORE_YIELD 64

typedef struct
{
  gpointer ptr;          /* NULL: empty */
  gsize    size;
} Entry;

typedef union
{
  struct
  {
    gint     lock;
    gsize    mask;       /* capacity - 1, or 0 before the first insert */
    gsize    n_entries;
    guint64  n_bytes;
    Entry   *entries;
  } s;
  guint8 padding[64];    /* one cache line each: threads on different
                            shards never share one */
} Shard;

struct _NebulaSystemTable
{
  Shard    shards[N_SHARDS];
  gboolean thread_safe;
};

static inline guint64
hash_address (gconstpointer ptr)
{
  /* malloc's blocks are 16-byte aligned: the low bits carry nothing. */
  return ((guint64) (guintptr) ptr >> 4) * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
}

static inline Shard *
shard_of (NebulaSystemTable *table,
          guint64            hash)
{
  return &table->shards[hash >> (64 - SHARD_BITS)];
}

static inline gsize
home_of (const Shard *shard,
         guint64      hash)
{
  /* Bits 28 and up: a multiplicative hash mixes its low bits poorly, and
   * bits 16 and up left clusters that every removal shifted back (issue
   * 18: 49 instructions per removal on a churn of 64 blocks, 20 now). */
  return (gsize) (hash >> (32 - SHARD_BITS)) & shard->s.mask;
}

/* What a thread that found the lock taken does: spin on a plain load,
 * pausing, and yield now and then. Out of line, so that the callers'
 * uncontended path is one atomic exchange without a stack frame. */
static G_NO_INLINE void
shard_lock_contended (Shard *shard)
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

/* TRUE when the shard is now locked (or the table needs no lock); FALSE
 * when another thread holds it: then shard_lock_contended() waits. */
static inline gboolean
shard_try_lock (NebulaSystemTable *table,
                Shard             *shard)
{
  return !table->thread_safe ||
         G_LIKELY (__atomic_exchange_n (&shard->s.lock, 1, __ATOMIC_ACQUIRE) == 0);
}

static inline void
shard_lock (NebulaSystemTable *table,
            Shard             *shard)
{
  if (G_UNLIKELY (!shard_try_lock (table, shard)))
    shard_lock_contended (shard);
}

static inline void
shard_unlock (NebulaSystemTable *table,
              Shard             *shard)
{
  if (table->thread_safe)
    __atomic_store_n (&shard->s.lock, 0, __ATOMIC_RELEASE);
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

  for (guint i = 0; i < N_SHARDS; i++)
    g_free (table->shards[i].s.entries);
  g_free (table);
}

/* The slot of @ptr, or of the empty slot that ends its probe. */
static inline gsize
find_slot (const Shard   *shard,
           gconstpointer  ptr,
           guint64        hash)
{
  const Entry *entries = shard->s.entries;
  gsize mask = shard->s.mask;
  gsize i = home_of (shard, hash);

  while (entries[i].ptr != NULL && entries[i].ptr != ptr)
    i = (i + 1) & mask;
  return i;
}

/* Doubles the shard (or makes its first array); FALSE when out of memory.
 * Out of line: rare, and its call would give every insert a frame. */
static G_NO_INLINE gboolean
grow (Shard *shard)
{
  gsize old_capacity = shard->s.entries != NULL ? shard->s.mask + 1 : 0;
  gsize capacity = MAX (old_capacity * 2, MIN_CAPACITY);
  Entry *old = shard->s.entries;
  Entry *entries = g_try_new0 (Entry, capacity);

  if (entries == NULL)
    return FALSE;

  shard->s.entries = entries;
  shard->s.mask = capacity - 1;
  for (gsize i = 0; i < old_capacity; i++)
    if (old[i].ptr != NULL)
      entries[find_slot (shard, old[i].ptr, hash_address (old[i].ptr))] = old[i];
  g_free (old);
  return TRUE;
}

/* Whether the shard must grow before one more entry: at most half full,
 * so that a miss ends after a probe or two. */
static inline gboolean
needs_growth (const Shard *shard)
{
  return shard->s.entries == NULL || (shard->s.n_entries + 1) * 2 > shard->s.mask + 1;
}

/* Records @ptr in a shard with room for it. */
static inline void
put_locked (Shard    *shard,
            gpointer  ptr,
            gsize     size,
            guint64   hash)
{
  Entry *entry = &shard->s.entries[find_slot (shard, ptr, hash)];

  /* The counters first: the entry's stores could alias them. */
  if (entry->ptr == NULL)
    {
      shard->s.n_entries++;
      shard->s.n_bytes += size;
    }
  else
    {
      shard->s.n_bytes += size - entry->size;
    }
  entry->ptr = ptr;
  entry->size = size;
}

/* Empties slot @i and moves back the entries after it that probed past
 * it, so that every entry stays reachable from its home slot. */
static inline void
remove_at (Shard *shard,
           gsize  i)
{
  Entry *entries = shard->s.entries;
  gsize mask = shard->s.mask;
  gsize j = i;

  shard->s.n_entries--;
  shard->s.n_bytes -= entries[i].size;

  for (;;)
    {
      gsize home;

      j = (j + 1) & mask;
      if (entries[j].ptr == NULL)
        break;
      home = home_of (shard, hash_address (entries[j].ptr));
      /* Entry j may move to i unless its home lies in (i, j] cyclically. */
      if (((j - home) & mask) >= ((j - i) & mask))
        {
          entries[i] = entries[j];
          i = j;
        }
    }
  entries[i].ptr = NULL;
  entries[i].size = 0;
}

/* An insert that found the lock taken (@locked FALSE) or the shard full:
 * out of line, so that the common insert runs without a stack frame. */
static G_NO_INLINE gboolean
insert_slow (NebulaSystemTable *table,
             Shard             *shard,
             gpointer           ptr,
             gsize              size,
             guint64            hash,
             gboolean           locked)
{
  gboolean ok = TRUE;

  if (!locked)
    shard_lock_contended (shard);
  if (needs_growth (shard))
    ok = grow (shard);
  if (ok)
    put_locked (shard, ptr, size, hash);
  shard_unlock (table, shard);
  return ok;
}

gboolean
nebula_system_table_insert (NebulaSystemTable *table,
                            gpointer           ptr,
                            gsize              size)
{
  guint64 hash = hash_address (ptr);
  Shard *shard = shard_of (table, hash);

  if (G_UNLIKELY (!shard_try_lock (table, shard)))
    return insert_slow (table, shard, ptr, size, hash, FALSE);
  if (G_UNLIKELY (needs_growth (shard)))
    return insert_slow (table, shard, ptr, size, hash, TRUE);

  put_locked (shard, ptr, size, hash);
  shard_unlock (table, shard);
  return TRUE;
}

static inline NebulaSystemTableResult
take_locked (Shard    *shard,
             gpointer  ptr,
             gsize     size,
             guint64   hash,
             gsize    *found_size)
{
  const Entry *entry;
  gsize i;

  if (G_UNLIKELY (shard->s.entries == NULL))
    return NEBULA_SYSTEM_TABLE_ABSENT;

  i = find_slot (shard, ptr, hash);
  entry = &shard->s.entries[i];
  if (G_UNLIKELY (entry->ptr == NULL))
    return NEBULA_SYSTEM_TABLE_ABSENT;
  if (G_UNLIKELY (entry->size != size))
    {
      if (found_size != NULL)
        *found_size = entry->size;
      return NEBULA_SYSTEM_TABLE_WRONG_SIZE;
    }

  remove_at (shard, i);
  return NEBULA_SYSTEM_TABLE_TAKEN;
}

/* A take that found the lock taken. */
static G_NO_INLINE NebulaSystemTableResult
take_contended (NebulaSystemTable *table,
                Shard             *shard,
                gpointer           ptr,
                gsize              size,
                guint64            hash,
                gsize             *found_size)
{
  NebulaSystemTableResult result;

  shard_lock_contended (shard);
  result = take_locked (shard, ptr, size, hash, found_size);
  shard_unlock (table, shard);
  return result;
}

NebulaSystemTableResult
nebula_system_table_take (NebulaSystemTable *table,
                          gpointer           ptr,
                          gsize              size,
                          gsize             *found_size)
{
  guint64 hash = hash_address (ptr);
  Shard *shard = shard_of (table, hash);
  NebulaSystemTableResult result;

  if (G_UNLIKELY (!shard_try_lock (table, shard)))
    return take_contended (table, shard, ptr, size, hash, found_size);

  result = take_locked (shard, ptr, size, hash, found_size);
  shard_unlock (table, shard);
  return result;
}

gboolean
nebula_system_table_lookup (NebulaSystemTable *table,
                            gconstpointer      ptr,
                            gsize             *size)
{
  guint64 hash = hash_address (ptr);
  Shard *shard = shard_of (table, hash);
  gboolean found = FALSE;

  if (ptr == NULL)
    return FALSE;

  shard_lock (table, shard);
  if (shard->s.entries != NULL)
    {
      gsize i = find_slot (shard, ptr, hash);

      if (shard->s.entries[i].ptr != NULL)
        {
          found = TRUE;
          if (size != NULL)
            *size = shard->s.entries[i].size;
        }
    }
  shard_unlock (table, shard);
  return found;
}

gboolean
nebula_system_table_move (NebulaSystemTable *table,
                          gpointer           old_ptr,
                          gpointer           new_ptr,
                          gsize              new_size)
{
  guint64 old_hash = hash_address (old_ptr);
  Shard *shard = shard_of (table, old_hash);

  shard_lock (table, shard);
  if (shard->s.entries != NULL)
    {
      gsize i = find_slot (shard, old_ptr, old_hash);

      if (shard->s.entries[i].ptr != NULL)
        remove_at (shard, i);
    }
  shard_unlock (table, shard);

  return nebula_system_table_insert (table, new_ptr, new_size);
}

void
nebula_system_table_foreach (NebulaSystemTable     *table,
                             NebulaSystemTableFunc  func,
                             gpointer               user_data,
                             gboolean               clear)
{
  for (guint s = 0; s < N_SHARDS; s++)
    {
      Shard *shard = &table->shards[s];

      shard_lock (table, shard);
      if (shard->s.entries != NULL)
        {
          for (gsize i = 0; i <= shard->s.mask; i++)
            if (shard->s.entries[i].ptr != NULL)
              func (shard->s.entries[i].ptr, shard->s.entries[i].size, user_data);
          if (clear)
            {
              memset (shard->s.entries, 0, (shard->s.mask + 1) * sizeof (Entry));
              shard->s.n_entries = 0;
              shard->s.n_bytes = 0;
            }
        }
      shard_unlock (table, shard);
    }
}

void
nebula_system_table_totals (NebulaSystemTable *table,
                            guint64           *n_blocks,
                            guint64           *n_bytes)
{
  guint64 blocks = 0, bytes = 0;

  for (guint s = 0; s < N_SHARDS; s++)
    {
      Shard *shard = &table->shards[s];

      shard_lock (table, shard);
      blocks += shard->s.n_entries;
      bytes += shard->s.n_bytes;
      shard_unlock (table, shard);
    }

  if (n_blocks != NULL)
    *n_blocks = blocks;
  if (n_bytes != NULL)
    *n_bytes = bytes;
}

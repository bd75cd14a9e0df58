/* nebula-system-table-private.h: the live blocks of a checked
 * NebulaSystemAllocator.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A set of (address, size) pairs: what malloc handed out through the
 * allocator and has not taken back. Open addressing with linear probing,
 * split into shards by a hash of the address so that threads rarely meet
 * on a lock; a thread-safe table takes one shard's spin lock per call (one
 * atomic exchange), a plain one none. Addresses are never %NULL. */
typedef struct _NebulaSystemTable NebulaSystemTable;

typedef enum
{
  NEBULA_SYSTEM_TABLE_TAKEN,       /* it was live with that size: now gone */
  NEBULA_SYSTEM_TABLE_ABSENT,      /* not a live block (foreign or freed) */
  NEBULA_SYSTEM_TABLE_WRONG_SIZE,  /* live, with another size: kept */
  NEBULA_SYSTEM_TABLE_BUSY,        /* only nebula_system_table_try_take():
                                    * the lock was taken, nothing done */
} NebulaSystemTableResult;

typedef void (*NebulaSystemTableFunc) (gpointer ptr,
                                       gsize    size,
                                       gpointer user_data);

NebulaSystemTable       *nebula_system_table_new        (gboolean               thread_safe);
void                     nebula_system_table_free       (NebulaSystemTable     *table);

gboolean                 nebula_system_table_lookup     (NebulaSystemTable     *table,
                                                         gconstpointer          ptr,
                                                         gsize                 *size);
/* Replaces @old_ptr (live) by @new_ptr with @new_size; FALSE when out of
 * memory, in which case @old_ptr is gone from the table. */
gboolean                 nebula_system_table_move       (NebulaSystemTable     *table,
                                                         gpointer               old_ptr,
                                                         gpointer               new_ptr,
                                                         gsize                  new_size);

/* Calls @func on every pair, one shard locked at a time; with @clear the
 * table is empty afterwards (what a reset does, @func freeing). @func must
 * not call back into the table. */
void                     nebula_system_table_foreach    (NebulaSystemTable     *table,
                                                         NebulaSystemTableFunc  func,
                                                         gpointer               user_data,
                                                         gboolean               clear);

/* Totals, each shard read under its lock: blocks and bytes. The bytes
 * are summed over the entries (a shard keeps no byte count: one counter
 * fewer to update per call, issue 18), so a read walks the table. */
void                     nebula_system_table_totals     (NebulaSystemTable     *table,
                                                         guint64               *n_blocks,
                                                         guint64               *n_bytes);

/* The table's layout and its hot paths, inline so that the System
 * allocator's direct path runs an uncontended insert or take without a
 * call (issue 18). nebula-system-table.c has everything else: the
 * contended lock, growth, lookups, walks. Nothing here is API. */
#define NEBULA_SYSTEM_TABLE_N_SHARDS   16
#define NEBULA_SYSTEM_TABLE_SHARD_BITS 4

typedef struct
{
  gpointer ptr;                   /* NULL: empty */
  gsize    size;
} NebulaSystemEntry;

typedef union
{
  struct
  {
    gint               lock;
    gsize              mask;      /* capacity - 1, or 0 before the first insert */
    gsize              n_entries;
    gsize              limit;     /* grow at this many entries: half the
                                     capacity, 0 before the first insert */
    NebulaSystemEntry *entries;
  } s;
  guint8 padding[64];             /* one cache line each: threads on
                                     different shards never share one */
} NebulaSystemShard;

struct _NebulaSystemTable
{
  NebulaSystemShard shards[NEBULA_SYSTEM_TABLE_N_SHARDS];
  gboolean          thread_safe;
};

/* Out of line (nebula-system-table.c): waiting for a taken lock; an insert
 * or a take that the uncontended paths below left (the lock taken, or the
 * shard full): the whole request, waiting for the lock. */
void                     nebula_system_table_lock_contended (NebulaSystemShard *shard);
gboolean                 nebula_system_table_insert_slow    (NebulaSystemTable *table,
                                                             gpointer           ptr,
                                                             gsize              size);
NebulaSystemTableResult  nebula_system_table_take_contended (NebulaSystemTable *table,
                                                             gpointer           ptr,
                                                             gsize              size,
                                                             gsize             *found_size);

static inline guint64
nebula_system_table_hash (gconstpointer ptr)
{
  /* malloc's blocks are 16-byte aligned: the low bits carry nothing. */
  return ((guint64) (guintptr) ptr >> 4) * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
}

static inline NebulaSystemShard *
nebula_system_table_shard (NebulaSystemTable *table,
                           guint64            hash)
{
  return &table->shards[hash >> (64 - NEBULA_SYSTEM_TABLE_SHARD_BITS)];
}

static inline gsize
nebula_system_table_home (const NebulaSystemShard *shard,
                          guint64                  hash)
{
  /* Bits 28 and up: a multiplicative hash mixes its low bits poorly, and
   * bits 16 and up left clusters that every removal shifted back (issue
   * 18: 49 instructions per removal on a churn of 64 blocks, 20 now). */
  return (gsize) (hash >> (32 - NEBULA_SYSTEM_TABLE_SHARD_BITS)) & shard->s.mask;
}

/* TRUE when the shard is now locked (or the table needs no lock); FALSE
 * when another thread holds it: nebula_system_table_lock_contended()
 * then waits. */
static inline gboolean
nebula_system_table_try_lock (gboolean           thread_safe,
                              NebulaSystemShard *shard)
{
  return !thread_safe ||
         G_LIKELY (__atomic_exchange_n (&shard->s.lock, 1, __ATOMIC_ACQUIRE) == 0);
}

/* @thread_safe as read before the lock: the stores in between may alias
 * the table's flag, which would otherwise be read again. */
static inline void
nebula_system_table_unlock (gboolean           thread_safe,
                            NebulaSystemShard *shard)
{
  if (thread_safe)
    __atomic_store_n (&shard->s.lock, 0, __ATOMIC_RELEASE);
}

/* The slot of @ptr, or of the empty slot that ends its probe. */
static inline gsize
nebula_system_table_find_slot (const NebulaSystemShard *shard,
                               gconstpointer            ptr,
                               guint64                  hash)
{
  const NebulaSystemEntry *entries = shard->s.entries;
  gsize mask = shard->s.mask;
  gsize i = nebula_system_table_home (shard, hash);

  /* @ptr first: a free most often finds its block in its home slot. */
  while (entries[i].ptr != ptr && entries[i].ptr != NULL)
    i = (i + 1) & mask;
  return i;
}

/* Whether the shard must grow before one more entry: at most half full,
 * so that a miss ends after a probe or two. */
static inline gboolean
nebula_system_table_needs_growth (const NebulaSystemShard *shard)
{
  return shard->s.n_entries >= shard->s.limit;
}

/* Records @ptr in a locked shard with room for it. */
static inline void
nebula_system_table_put_locked (NebulaSystemShard *shard,
                                gpointer           ptr,
                                gsize              size,
                                guint64            hash)
{
  NebulaSystemEntry *entry = &shard->s.entries[nebula_system_table_find_slot (shard, ptr, hash)];

  /* The count first: the entry's stores could alias it. */
  if (entry->ptr == NULL)
    shard->s.n_entries++;
  entry->ptr = ptr;
  entry->size = size;
}

void                     nebula_system_table_shift_back     (NebulaSystemShard *shard,
                                                             gsize              i);

/* Empties slot @i and moves back the entries after it that probed past
 * it, so that every entry stays reachable from its home slot (no
 * tombstones: probes stay short however blocks come and go). An empty
 * slot's size is never read. At most half full, the next slot is most
 * often empty: the move is out of line (nebula_system_table_shift_back()),
 * its loop's registers off the free's path. */
static inline void
nebula_system_table_remove_at (NebulaSystemShard *shard,
                               gsize              i)
{
  shard->s.n_entries--;
  if (G_LIKELY (shard->s.entries[(i + 1) & shard->s.mask].ptr == NULL))
    shard->s.entries[i].ptr = NULL;
  else
    nebula_system_table_shift_back (shard, i);
}

static inline NebulaSystemTableResult
nebula_system_table_take_locked (NebulaSystemShard *shard,
                                 gpointer           ptr,
                                 gsize              size,
                                 guint64            hash,
                                 gsize             *found_size)
{
  const NebulaSystemEntry *entry;
  gsize i;

  if (G_UNLIKELY (shard->s.entries == NULL))
    return NEBULA_SYSTEM_TABLE_ABSENT;

  i = nebula_system_table_find_slot (shard, ptr, hash);
  entry = &shard->s.entries[i];
  if (G_UNLIKELY (entry->ptr == NULL))
    return NEBULA_SYSTEM_TABLE_ABSENT;
  if (G_UNLIKELY (entry->size != size))
    {
      if (found_size != NULL)
        *found_size = entry->size;
      return NEBULA_SYSTEM_TABLE_WRONG_SIZE;
    }

  nebula_system_table_remove_at (shard, i);
  return NEBULA_SYSTEM_TABLE_TAKEN;
}

/* The uncontended insert: FALSE, with nothing done, when the shard's lock
 * is taken or the shard must grow (nebula_system_table_insert_slow() then
 * does it all). @thread_safe must be the table's: the System allocator's
 * direct path passes it as a constant, one path per mode. */
static inline gboolean
nebula_system_table_try_insert (NebulaSystemTable *table,
                                gpointer           ptr,
                                gsize              size,
                                gboolean           thread_safe)
{
  guint64 hash = nebula_system_table_hash (ptr);
  NebulaSystemShard *shard = nebula_system_table_shard (table, hash);

  if (G_UNLIKELY (!nebula_system_table_try_lock (thread_safe, shard)))
    return FALSE;
  if (G_UNLIKELY (nebula_system_table_needs_growth (shard)))
    {
      nebula_system_table_unlock (thread_safe, shard);
      return FALSE;
    }

  nebula_system_table_put_locked (shard, ptr, size, hash);
  nebula_system_table_unlock (thread_safe, shard);
  return TRUE;
}

/* The uncontended take: removes @ptr if it is live with @size; BUSY, with
 * nothing done, when the shard's lock is taken
 * (nebula_system_table_take_contended() then waits for it). *@found_size
 * (may be %NULL) gets the size @ptr was recorded with when the result is
 * WRONG_SIZE. @thread_safe: the table's, as for an insert. */
static inline NebulaSystemTableResult
nebula_system_table_try_take (NebulaSystemTable *table,
                              gpointer           ptr,
                              gsize              size,
                              gboolean           thread_safe,
                              gsize             *found_size)
{
  guint64 hash = nebula_system_table_hash (ptr);
  NebulaSystemShard *shard = nebula_system_table_shard (table, hash);
  NebulaSystemTableResult result;

  if (G_UNLIKELY (!nebula_system_table_try_lock (thread_safe, shard)))
    return NEBULA_SYSTEM_TABLE_BUSY;

  result = nebula_system_table_take_locked (shard, ptr, size, hash, found_size);
  nebula_system_table_unlock (thread_safe, shard);
  return result;
}

/* FALSE only when the table could not grow (out of memory). */
static inline gboolean
nebula_system_table_insert (NebulaSystemTable *table,
                            gpointer           ptr,
                            gsize              size)
{
  if (G_LIKELY (nebula_system_table_try_insert (table, ptr, size, table->thread_safe)))
    return TRUE;
  return nebula_system_table_insert_slow (table, ptr, size);
}

/* As nebula_system_table_try_take(), waiting for a taken lock: never BUSY. */
static inline NebulaSystemTableResult
nebula_system_table_take (NebulaSystemTable *table,
                          gpointer           ptr,
                          gsize              size,
                          gsize             *found_size)
{
  NebulaSystemTableResult result = nebula_system_table_try_take (table, ptr, size,
                                                                 table->thread_safe, found_size);

  if (G_LIKELY (result != NEBULA_SYSTEM_TABLE_BUSY))
    return result;
  return nebula_system_table_take_contended (table, ptr, size, found_size);
}

G_END_DECLS

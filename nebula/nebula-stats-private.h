/* nebula-stats-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "nebula-allocator.h"
#include "nebula-allocator-fast.h"
#include "nebula-allocator-stats.h"

G_BEGIN_DECLS

typedef struct _NebulaStatsShardTable NebulaStatsShardTable;

/* The counters every allocator embeds. The public wrappers of
 * NebulaAllocator (and the inline fast paths) record into them, so an
 * implementation never counts for itself.
 *
 * Single-threaded allocators use `plain` with ordinary arithmetic.
 * Thread-safe allocators record into per-thread shards (nebula-stats.c
 * explains the design); `plain` then holds what is not per thread: failed
 * allocations (atomic), resets, and the values folded in by resets and
 * nebula_stats_counters_zero(): in that mode plain.in_use_base is the base
 * the shards add to. Read through
 * nebula_stats_counters_read(), write through the record functions.
 *
 * The storage must be zero-filled before the first
 * nebula_stats_counters_init() (GObject instances are). Built-in
 * allocators need not call nebula_stats_counters_clear():
 * nebula_allocator_config_ensure() ties the shards to the object, which
 * frees them when it is finalized. Calling it in finalize is harmless.
 *
 * In plain mode bytes in use are not stored: plain.freed_less_base holds
 * the bytes freed minus plain.in_use_base, and the balance is
 * total_bytes_allocated - freed_less_base, read as signed; bytes in use is
 * the balance, or 0 while a free of more than was in use keeps it below 0
 * (nebula_stats_counters_plain_in_use(); NebulaStatsPlain in
 * nebula-stats-fast.h explains why).
 * peak_bytes_in_use may lag: the peak is MAX (peak, in_use). It is settled
 * whenever bytes_in_use is about to fall and on every read, so an
 * allocation path only adds and never compares.
 *
 * A block of size 0 counts as one byte, the byte that keeps its address
 * unique: that is what an allocator holds for it, and what a release that
 * walks the blocks (a stack's release_to_marker) counts. The inline fast
 * paths never see size 0 (they send it to the exported path). */
typedef struct
{
  NebulaStatsPlain       plain;
  NebulaStatsShardTable *table;         /* thread-safe mode, created on first use */
  guint64                peak_upper;    /* thread-safe mode: folded upper bound of the peak */
  guint64                zeroings;      /* nebula_stats_counters_zero() calls: a stack
                                         * frame compares it (nebula-stack-marker.c) */
  guint                  enabled : 1;
  guint                  thread_safe : 1;
} NebulaStatsCounters;

void nebula_stats_counters_init  (NebulaStatsCounters  *counters,
                                  gboolean              enabled,
                                  gboolean              thread_safe);
void nebula_stats_counters_clear (NebulaStatsCounters  *counters);
void nebula_stats_counters_read  (NebulaStatsCounters  *counters,
                                  NebulaAllocatorStats *out);
void nebula_stats_counters_zero  (NebulaStatsCounters  *counters);

/* For thread-safe counters: the highest bytes_in_use the peak could have
 * been (nebula_stats_counters_read() gives the highest it certainly was).
 * Equals the peak for single-threaded counters. */
guint64 nebula_stats_counters_peak_upper_bound (NebulaStatsCounters *counters);

/* The per-thread path of thread-safe counters (nebula-stats.c). The fast
 * part is inline: the calling thread's slot, then its shard in this
 * allocator's table, then a few plain additions. @bytes_in and
 * @bytes_out are what the request added to and removed from
 * bytes_in_use.
 *
 * Only the shard's owner writes it, with release stores (plain moves on
 * common hardware) and no read-modify-write. There is no balance field
 * and no sequence lock: the shard's balance is bytes_allocated -
 * bytes_freed, so bytes_in_use is consistent with the totals of any read
 * by construction, and a reader takes a real (allocated, freed) pair by
 * reading bytes_freed again after bytes_allocated (nebula-stats.c,
 * shard_snapshot()). high and low lag as the plain peak does: a free
 * settles high before it takes its bytes off and low after, and a read
 * takes the current balance into both. */
typedef struct
{
  guint64 allocations;
  guint64 deallocations;
  guint64 reallocations;
  guint64 bytes_allocated;  /* since the last reset: a reset folds them */
  guint64 bytes_freed;      /* into the allocator's plain counters */
  gint64  high;             /* highest balance settled since the last reset */
  gint64  low;              /* lowest balance settled since the last reset */
} NebulaStatsShard;

#define NEBULA_STATS_SHARD_STRIDE    128
#define NEBULA_STATS_SHARDS_PER_PAGE 16
#define NEBULA_STATS_N_PAGES         64

typedef union
{
  NebulaStatsShard shard;
  guint8           padding[NEBULA_STATS_SHARD_STRIDE];
} NebulaStatsShardSlot;

struct _NebulaStatsShardTable
{
  NebulaStatsShardSlot *pages[NEBULA_STATS_N_PAGES];
  GMutex                overflow_lock;
  NebulaStatsShard      overflow;
};

/* Slot + 1 of the calling thread, 0 before its first record. */
extern __thread guint nebula_stats_thread_slot __attribute__ ((tls_model ("initial-exec")));

NebulaStatsShard *nebula_stats_counters_find_shard_slow (NebulaStatsCounters *counters);
void              nebula_stats_counters_record_overflow (NebulaStatsCounters *counters,
                                                         guint64              allocations,
                                                         guint64              deallocations,
                                                         guint64              reallocations,
                                                         gsize                bytes_in,
                                                         gsize                bytes_out);

/* The calling thread's shard of @counters (thread-safe, enabled), or
 * %NULL for a thread beyond the last slot (its requests go to the
 * overflow shard). Valid while the allocator lives and the thread holds
 * the slot it had (nebula_stats_thread_slot unchanged): a caller that
 * keeps it (the thread-safe bump's record of a thread) compares the slot
 * before each use. */
static inline NebulaStatsShard *
nebula_stats_counters_shard (NebulaStatsCounters *counters)
{
  NebulaStatsShardTable *table = __atomic_load_n (&counters->table, __ATOMIC_ACQUIRE);
  guint slot = nebula_stats_thread_slot - 1;
  NebulaStatsShardSlot *page;

  /* No table yet, no slot yet (slot wraps to G_MAXUINT) or an overflow
   * thread: all beyond the last page. */
  if (G_LIKELY (table != NULL && slot < NEBULA_STATS_SHARDS_PER_PAGE * NEBULA_STATS_N_PAGES &&
                (page = __atomic_load_n (&table->pages[slot / NEBULA_STATS_SHARDS_PER_PAGE],
                                         __ATOMIC_ACQUIRE)) != NULL))
    return &page[slot % NEBULA_STATS_SHARDS_PER_PAGE].shard;

  return nebula_stats_counters_find_shard_slow (counters);
}

/* Adds a request to the calling thread's own @shard. Release stores: a
 * reader that sees a value also sees every store before it, which is
 * what lets it take a real (allocated, freed) pair. Always inlined:
 * every call site passes constants, which fold away most of the body. */
G_ALWAYS_INLINE static inline void
nebula_stats_shard_add (NebulaStatsShard *shard,
                        guint64           allocations,
                        guint64           deallocations,
                        guint64           reallocations,
                        gsize             bytes_in,
                        gsize             bytes_out)
{
#define NEBULA_STATS_LOAD(field) __atomic_load_n (&shard->field, __ATOMIC_RELAXED)
#define NEBULA_STATS_SET(field, value) __atomic_store_n (&shard->field, (value), __ATOMIC_RELEASE)

  if (allocations != 0)
    NEBULA_STATS_SET (allocations, NEBULA_STATS_LOAD (allocations) + allocations);
  if (reallocations != 0)
    NEBULA_STATS_SET (reallocations, NEBULA_STATS_LOAD (reallocations) + reallocations);
  if (bytes_in != 0)
    NEBULA_STATS_SET (bytes_allocated, NEBULA_STATS_LOAD (bytes_allocated) + bytes_in);
  if (bytes_out != 0)
    {
      guint64 freed = NEBULA_STATS_LOAD (bytes_freed);
      gint64 balance = (gint64) (NEBULA_STATS_LOAD (bytes_allocated) - freed);

      /* The balance only rose since the last free: settle its high. */
      if (G_UNLIKELY (balance > NEBULA_STATS_LOAD (high)))
        NEBULA_STATS_SET (high, balance);
      NEBULA_STATS_SET (bytes_freed, freed + bytes_out);
      balance -= (gint64) bytes_out;
      /* low is never above 0 (a restart sets 0, and only lower values
       * are stored): a balance of 0 or more needs no load of it. */
      if (G_UNLIKELY (balance < 0) && balance < NEBULA_STATS_LOAD (low))
        NEBULA_STATS_SET (low, balance);
    }
  if (deallocations != 0)
    NEBULA_STATS_SET (deallocations, NEBULA_STATS_LOAD (deallocations) + deallocations);

#undef NEBULA_STATS_SET
#undef NEBULA_STATS_LOAD
}

/* One allocation of @allocated bytes, or (@allocated 0) one free of @freed
 * bytes: what the shard caches below record. */
G_ALWAYS_INLINE static inline void
nebula_stats_shard_add_one (NebulaStatsShard *shard,
                            gsize             allocated,
                            gsize             freed)
{
  if (allocated != 0)
    nebula_stats_shard_add (shard, 1, 0, 0, allocated, 0);
  else
    nebula_stats_shard_add (shard, 0, 1, 0, 0, freed);
}

G_ALWAYS_INLINE static inline void
nebula_stats_counters_record_shared (NebulaStatsCounters *counters,
                                     guint64              allocations,
                                     guint64              deallocations,
                                     guint64              reallocations,
                                     gsize                bytes_in,
                                     gsize                bytes_out)
{
  NebulaStatsShard *shard = nebula_stats_counters_shard (counters);

  if (G_UNLIKELY (shard == NULL))
    {
      nebula_stats_counters_record_overflow (counters, allocations, deallocations,
                                             reallocations, bytes_in, bytes_out);
      return;
    }

  nebula_stats_shard_add (shard, allocations, deallocations, reallocations, bytes_in, bytes_out);
}

/* A thread's statistics shard of one allocator, kept by a record only
 * that thread uses (a thread-safe bump's record of a thread, a
 * thread-safe pool's magazine): the lookup of nebula_stats_counters_shard()
 * once, then one comparison per request. @slot is the statistics slot
 * (nebula_stats_thread_slot) the shard was found under: a thread that gave
 * its slot back, at exit, gets 0 or another slot, and the comparison
 * sends it to the lookup; G_MAXUINT (what
 * nebula_stats_shard_cache_init() sets, and the value for a thread
 * beyond the last slot): none kept. The shard of a slot is the same
 * while the counters live, so the cache never needs clearing. */
typedef struct
{
  NebulaStatsShard *shard;
  guint             slot;
} NebulaStatsShardCache;

static inline void
nebula_stats_shard_cache_init (NebulaStatsShardCache *cache)
{
  cache->shard = NULL;
  cache->slot = G_MAXUINT;
}

/* Makes @cache keep the calling thread's shard of @counters (enabled):
 * FALSE, and none kept, for counters that are not thread-safe or a
 * thread beyond the last slot. */
gboolean nebula_stats_shard_cache_fill (NebulaStatsCounters   *counters,
                                        NebulaStatsShardCache *cache);

/* @notify runs in a thread that gives its statistics slot back (at its
 * exit), after it did: from then on nebula_stats_thread_slot differs
 * from the slot of every cache the thread filled. For a caller that
 * records into caches it filled without comparing the slot each time (a
 * thread-safe pool's lean path, a thread-safe bump's inline step): it
 * forgets them. A few listeners for the process (four), each added once;
 * adding one again does nothing. */
void nebula_stats_add_slot_release_notify (void (*notify) (void));

void nebula_stats_shard_cache_record_slow (NebulaStatsCounters   *counters,
                                           NebulaStatsShardCache *cache,
                                           gsize                  allocated,
                                           gsize                  freed);

/* One allocation of @allocated bytes (not 0) or, with @allocated 0, one
 * free of @freed bytes (not 0) into enabled counters by the thread that
 * owns @cache, counted as nebula_stats_counters_record_allocation() and
 * _deallocation() would, unless the shard @cache keeps is not the thread's: then FALSE, nothing
 * counted, and the caller calls nebula_stats_shard_cache_record_slow()
 * (where it likes: a path that keeps no frame, as a tail call). */
G_ALWAYS_INLINE static inline gboolean
nebula_stats_shard_cache_try_record_enabled (NebulaStatsShardCache *cache,
                                             gsize                  allocated,
                                             gsize                  freed)
{
  if (G_UNLIKELY (cache->slot != nebula_stats_thread_slot))
    return FALSE;

  nebula_stats_shard_add_one (cache->shard, allocated, freed);
  return TRUE;
}

/* The same for counters that may be disabled (then TRUE, nothing
 * counted). nebula_stats_shard_cache_try_record_enabled() is the same
 * for a caller that knows they are enabled (a path chosen by it). */
G_ALWAYS_INLINE static inline gboolean
nebula_stats_shard_cache_try_record (NebulaStatsCounters   *counters,
                                     NebulaStatsShardCache *cache,
                                     gsize                  allocated,
                                     gsize                  freed)
{
  if (!counters->enabled)
    return TRUE;

  return nebula_stats_shard_cache_try_record_enabled (cache, allocated, freed);
}

/* The same, the slow path included. */
G_ALWAYS_INLINE static inline void
nebula_stats_shard_cache_record (NebulaStatsCounters   *counters,
                                 NebulaStatsShardCache *cache,
                                 gsize                  allocated,
                                 gsize                  freed)
{
  if (G_UNLIKELY (!nebula_stats_shard_cache_try_record (counters, cache, allocated, freed)))
    nebula_stats_shard_cache_record_slow (counters, cache, allocated, freed);
}

/* The calling thread's shard of the thread-safe counters it last recorded
 * into through nebula_stats_thread_cache_record(): for an allocator that
 * keeps no record of a thread to hold a NebulaStatsShardCache in (the
 * System allocator, issue 18, and the multi-pool), one comparison per
 * request instead of the lookup of nebula_stats_counters_shard(). One
 * entry per kind of allocator and thread (NebulaStatsThreadCacheKind), so
 * that a thread alternating between a System allocator and a multi-pool
 * keeps both; a thread that alternates between two allocators of one kind
 * looks up its shard each time (correct, only slower). @key: what
 * nebula_stats_cache_key_new() gave the counters, 0 for none. Keys are
 * never reused, so the shard of counters cleared since is never touched
 * again; the slot's release at thread exit (nebula-stats.c) empties the
 * cache, so a shard found under a slot given back is not used either. */
typedef struct
{
  guint64           key;
  NebulaStatsShard *shard;
} NebulaStatsThreadCache;

/* Which entry of nebula_stats_thread_cache a kind of allocator uses. */
typedef enum
{
  NEBULA_STATS_THREAD_CACHE_SYSTEM,
  NEBULA_STATS_THREAD_CACHE_MULTI_POOL,
  NEBULA_STATS_THREAD_CACHE_N_KINDS
} NebulaStatsThreadCacheKind;

extern __thread NebulaStatsThreadCache nebula_stats_thread_cache[NEBULA_STATS_THREAD_CACHE_N_KINDS]
  __attribute__ ((tls_model ("initial-exec")));

/* A key no other counters ever had, never 0: a caller takes one after
 * each nebula_stats_counters_init() of its counters (the shard table
 * goes with nebula_stats_counters_clear(), which init calls). */
guint64 nebula_stats_cache_key_new (void);

void nebula_stats_thread_cache_record_slow (NebulaStatsCounters        *counters,
                                            NebulaStatsThreadCacheKind  kind,
                                            guint64                     key,
                                            gsize                       allocated,
                                            gsize                       freed);

/* One allocation of @allocated bytes (not 0) or, with @allocated 0, one
 * free of @freed bytes (not 0) into thread-safe, enabled @counters whose
 * key is @key, counted as nebula_stats_counters_record_allocation() and
 * _deallocation() would, if the thread's cache holds their shard; FALSE,
 * with nothing counted, if not (a caller that keeps no value across the
 * call then ends in nebula_stats_thread_cache_record()). */
G_ALWAYS_INLINE static inline gboolean
nebula_stats_thread_cache_try_record (NebulaStatsThreadCacheKind kind,
                                      guint64                    key,
                                      gsize                      allocated,
                                      gsize                      freed)
{
  NebulaStatsThreadCache *cache = &nebula_stats_thread_cache[kind];

  if (G_UNLIKELY (cache->key != key))
    return FALSE;

  nebula_stats_shard_add_one (cache->shard, allocated, freed);
  return TRUE;
}

/* The same, finding the shard when the cache holds another. */
G_ALWAYS_INLINE static inline void
nebula_stats_thread_cache_record (NebulaStatsCounters        *counters,
                                  NebulaStatsThreadCacheKind  kind,
                                  guint64                     key,
                                  gsize                       allocated,
                                  gsize                       freed)
{
  if (G_UNLIKELY (!nebula_stats_thread_cache_try_record (kind, key, allocated, freed)))
    nebula_stats_thread_cache_record_slow (counters, kind, key, allocated, freed);
}

/* Plain mode: bytes_in_use is derived from the balance (see
 * _nebula_fast_stats_balance()), and nebula_stats_counters_plain_free()
 * settles the peak before taking bytes off it (_nebula_fast_stats_take()). */
static inline guint64
nebula_stats_counters_plain_in_use (NebulaStatsCounters *counters)
{
  return (guint64) MAX (_nebula_fast_stats_balance (&counters->plain), 0);
}

static inline void
nebula_stats_counters_plain_free (NebulaStatsCounters *counters,
                                  guint64              n_bytes)
{
  _nebula_fast_stats_take (&counters->plain, n_bytes);
}

static inline void
nebula_stats_counters_record_allocation (NebulaStatsCounters *counters,
                                         gsize                size)
{
  if (!counters->enabled)
    return;

  if (G_UNLIKELY (counters->thread_safe))
    {
      nebula_stats_counters_record_shared (counters, 1, 0, 0, MAX (size, 1), 0);
      return;
    }

  counters->plain.allocations++;
  counters->plain.total_bytes_allocated += MAX (size, 1);
}

static inline void
nebula_stats_counters_record_deallocation (NebulaStatsCounters *counters,
                                           gsize                size)
{
  if (!counters->enabled)
    return;

  if (G_UNLIKELY (counters->thread_safe))
    {
      nebula_stats_counters_record_shared (counters, 0, 1, 0, 0, MAX (size, 1));
      return;
    }

  counters->plain.deallocations++;
  nebula_stats_counters_plain_free (counters, MAX (size, 1));
}

static inline void
nebula_stats_counters_record_reallocation (NebulaStatsCounters *counters,
                                           gsize                old_size,
                                           gsize                new_size)
{
  if (!counters->enabled)
    return;

  old_size = MAX (old_size, 1);
  new_size = MAX (new_size, 1);
  if (G_UNLIKELY (counters->thread_safe))
    {
      nebula_stats_counters_record_shared (counters, 0, 0, 1,
                                           new_size > old_size ? new_size - old_size : 0,
                                           old_size > new_size ? old_size - new_size : 0);
      return;
    }

  counters->plain.reallocations++;
  if (new_size > old_size)
    counters->plain.total_bytes_allocated += new_size - old_size;
  else
    nebula_stats_counters_plain_free (counters, old_size - new_size);
}

/* Many blocks given back at once (a stack released to a marker, a pool
 * trimmed): @n_blocks deallocations of @n_bytes in all. Implementations
 * call this instead of touching the fields, which mean different things
 * in the two modes. */
static inline void
nebula_stats_counters_record_release (NebulaStatsCounters *counters,
                                      guint64              n_blocks,
                                      guint64              n_bytes)
{
  if (!counters->enabled || (n_blocks == 0 && n_bytes == 0))
    return;

  if (G_UNLIKELY (counters->thread_safe))
    {
      nebula_stats_counters_record_shared (counters, 0, n_blocks, 0, 0, n_bytes);
      return;
    }

  counters->plain.deallocations += n_blocks;
  nebula_stats_counters_plain_free (counters, n_bytes);
}

static inline void
nebula_stats_counters_record_failure (NebulaStatsCounters *counters)
{
  if (!counters->enabled)
    return;

  /* Failures are rare: one shared atomic is cheaper than a shard lookup. */
  if (G_UNLIKELY (counters->thread_safe))
    __atomic_fetch_add (&counters->plain.failed_allocations, 1, __ATOMIC_RELAXED);
  else
    counters->plain.failed_allocations++;
}

/* A reset frees everything that is in use. Resets (and
 * nebula_stats_counters_zero()) never run concurrently with other
 * operations on the same allocator. */
void nebula_stats_counters_record_reset (NebulaStatsCounters *counters);

G_END_DECLS

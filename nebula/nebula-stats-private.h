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
 * allocator's table. @bytes_in and @bytes_out are what the request added
 * to and removed from bytes_in_use. */
typedef struct
{
  guint64 sequence;       /* odd while the owner writes */
  guint64 allocations;
  guint64 deallocations;
  guint64 reallocations;
  guint64 bytes_allocated;
  guint64 bytes_freed;
  gint64  balance;        /* bytes_in_use contributed by this shard */
  gint64  high;           /* highest balance since the last reset */
  gint64  low;            /* lowest balance since the last reset */
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

/* Only the shard's owner writes it; a sequence lock lets readers take a
 * consistent copy. Relaxed atomics are plain moves on common hardware. */
/* Always inlined: every call site passes constants, which fold away two
 * thirds of the body; a call would cost as much as the body. */
G_ALWAYS_INLINE static inline void
nebula_stats_counters_record_shared (NebulaStatsCounters *counters,
                                     guint64              allocations,
                                     guint64              deallocations,
                                     guint64              reallocations,
                                     gsize                bytes_in,
                                     gsize                bytes_out)
{
  NebulaStatsShardTable *table = __atomic_load_n (&counters->table, __ATOMIC_ACQUIRE);
  guint slot = nebula_stats_thread_slot - 1;
  NebulaStatsShardSlot *page;
  NebulaStatsShard *shard;
  guint64 sequence;
  gint64 balance;

  /* No table yet, no slot yet (slot wraps to G_MAXUINT) or an overflow
   * thread: all beyond the last page. */
  if (G_LIKELY (table != NULL && slot < NEBULA_STATS_SHARDS_PER_PAGE * NEBULA_STATS_N_PAGES &&
                (page = __atomic_load_n (&table->pages[slot / NEBULA_STATS_SHARDS_PER_PAGE],
                                         __ATOMIC_ACQUIRE)) != NULL))
    shard = &page[slot % NEBULA_STATS_SHARDS_PER_PAGE].shard;
  else
    shard = nebula_stats_counters_find_shard_slow (counters);

  if (G_UNLIKELY (shard == NULL))
    {
      nebula_stats_counters_record_overflow (counters, allocations, deallocations,
                                             reallocations, bytes_in, bytes_out);
      return;
    }

  /* Release stores keep every data store after the odd sequence number
   * (without a fence, which ThreadSanitizer cannot follow); on x86 they are
   * plain moves. */
#define NEBULA_STATS_ADD(field, delta) \
  __atomic_store_n (&shard->field, __atomic_load_n (&shard->field, __ATOMIC_RELAXED) + (delta), \
                    __ATOMIC_RELEASE)

  sequence = __atomic_load_n (&shard->sequence, __ATOMIC_RELAXED);
  __atomic_store_n (&shard->sequence, sequence + 1, __ATOMIC_RELAXED);

  /* The deltas are constants at every call site: two of these vanish. */
  if (allocations != 0)
    NEBULA_STATS_ADD (allocations, allocations);
  if (deallocations != 0)
    NEBULA_STATS_ADD (deallocations, deallocations);
  if (reallocations != 0)
    NEBULA_STATS_ADD (reallocations, reallocations);
  balance = __atomic_load_n (&shard->balance, __ATOMIC_RELAXED);
  if (bytes_in != 0)
    {
      NEBULA_STATS_ADD (bytes_allocated, bytes_in);
      balance += (gint64) bytes_in;
      if (balance > __atomic_load_n (&shard->high, __ATOMIC_RELAXED))
        __atomic_store_n (&shard->high, balance, __ATOMIC_RELEASE);
    }
  if (bytes_out != 0)
    {
      NEBULA_STATS_ADD (bytes_freed, bytes_out);
      balance -= (gint64) bytes_out;
      if (balance < __atomic_load_n (&shard->low, __ATOMIC_RELAXED))
        __atomic_store_n (&shard->low, balance, __ATOMIC_RELEASE);
    }
  __atomic_store_n (&shard->balance, balance, __ATOMIC_RELEASE);

#undef NEBULA_STATS_ADD

  __atomic_store_n (&shard->sequence, sequence + 2, __ATOMIC_RELEASE);
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
